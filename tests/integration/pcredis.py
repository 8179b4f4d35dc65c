"""pcredis: a real redis-server for integration tests, and a small RESP2
client to inspect it (Python 3 stdlib only).

    with RedisServer() as r:          # raises unittest.SkipTest only when
        r.cmd("XLEN", "key")          # redis-server is not installed

- The server is Debian's redis-server, started on a free loopback port with
  its own temp dir, no persistence (--save '' --appendonly no; with
  persist=True an append-only file written at every command, so that what
  Redis acknowledged survives even SIGKILL), in the foreground; stop() ends
  it, start() brings it back on the same port.
- Every wait is bounded; nothing here can hang a test.
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from pctest import free_port

REDIS_SERVER = shutil.which("redis-server") or (
    "/usr/bin/redis-server" if os.access("/usr/bin/redis-server", os.X_OK) else None)


class RedisError(Exception):
    """An error reply (-ERR ..., -WRONGTYPE ...)."""


class RespClient:
    """One blocking connection speaking RESP2."""

    def __init__(self, port, host="127.0.0.1", timeout=10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""
        self.pos = 0      # replies are parsed from here, without copying

    def close(self):
        self.sock.close()

    def _fill(self):
        data = self.sock.recv(1 << 20)
        if not data:
            raise ConnectionError("redis closed the connection")
        self.buf = self.buf[self.pos:] + data
        self.pos = 0

    def _line(self):
        while True:
            end = self.buf.find(b"\r\n", self.pos)
            if end >= 0:
                line, self.pos = self.buf[self.pos:end], end + 2
                return line
            self._fill()

    def _reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            return RedisError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) - self.pos < n + 2:
                self._fill()
            data = self.buf[self.pos:self.pos + n]
            self.pos += n + 2
            return data
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._reply() for _ in range(n)]
        raise ConnectionError("not RESP: %r" % line[:40])

    def cmd(self, *args):
        """Sends one command; returns its reply, raises RedisError for an error."""
        parts = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            parts.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.sock.sendall(b"".join(parts))
        r = self._reply()
        if isinstance(r, RedisError):
            raise r
        return r

    def entries(self, key, batch=10000):
        """Every entry of a stream, oldest first, as (id, {field: value})."""
        out, start = [], "-"
        while True:
            got = self.cmd("XRANGE", key, start, "+", "COUNT", batch)
            for eid, fields in got:
                out.append((eid.decode(), dict(zip(fields[::2], fields[1::2]))))
            if len(got) < batch:
                return out
            start = "(" + out[-1][0]


class RedisServer:
    """A redis-server of the test's own (see the top of this file)."""

    def __init__(self, persist=False):
        self.persist = persist
        if not REDIS_SERVER:
            raise unittest.SkipTest("redis-server is not installed (tests/deps.sh installs it)")
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="pcredis-")
        self.proc = None
        self.url = "redis:127.0.0.1:%d" % self.port

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, et, ev, tb):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def start(self, timeout=10.0):
        """Starts the server and waits until it answers PING."""
        argv = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--dir", self.dir,
                "--appendonly", "yes" if self.persist else "no", "--appendfsync", "always",
                "--daemonize", "no", "--logfile", os.path.join(self.dir, "redis.log")]
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("redis-server exited with %s: %s"
                                     % (self.proc.returncode, self.log()[-2000:]))
            try:
                c = RespClient(self.port, timeout=1.0)
                try:
                    if c.cmd("PING") == "PONG":
                        return
                finally:
                    c.close()
            except (OSError, RedisError):
                time.sleep(0.05)
        raise AssertionError("redis-server did not answer within %.0f s" % timeout)

    def stop(self, sig=signal.SIGKILL, timeout=10.0):
        """Ends the server (SIGKILL by default: Redis going down hard)."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout)
        self.proc = None

    def pause(self, paused):
        """Freezes (SIGSTOP) or thaws (SIGCONT) the server."""
        self.proc.send_signal(signal.SIGSTOP if paused else signal.SIGCONT)

    def client(self):
        return RespClient(self.port)

    def cmd(self, *args):
        c = self.client()
        try:
            return c.cmd(*args)
        finally:
            c.close()

    def entries(self, key):
        c = self.client()
        try:
            return c.entries(key)
        finally:
            c.close()

    def log(self):
        try:
            with open(os.path.join(self.dir, "redis.log"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""
