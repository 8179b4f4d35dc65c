"""pcload: load-generating client processes for the fault and load tests.

One process may hold at most 20,000 descriptors here, and one Python thread
reads at most a core's worth, so many clients are split over worker
processes. A worker connects its share of clients, says so, and reads them
all (at once, or only after the test says "read"), keeping no data: per
client a byte count and a CRC-32 of the stream, compared with the expected
length and CRC-32 (so "every record, in order" holds or it does not).

    w = Workers(("tcp", port), clients=500, procs=2, length=n, crc=c)
    w.wait_connected(10)           # every client connected
    ...                            # (pending mode: w.go() starts reading)
    res = w.results(60)            # one dict per worker, see worker_main

Every wait is bounded and every worker is stopped (killed if need be) by
close(); a worker also exits by itself at its own deadline.
"""

import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def _connect(target, rcvbuf, timeout):
    kind, where = target
    fam = socket.AF_UNIX if kind == "unix" else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(timeout)
    s.connect(where if kind == "unix" else ("127.0.0.1", where))
    s.setblocking(False)
    return s


def _read_all(socks, length, deadline, chunk=1 << 18):
    """Reads every socket until LENGTH bytes or EOF (or DEADLINE): per
    client [bytes, crc32, eof]."""
    sel = selectors.DefaultSelector()
    st = [[0, 0, False] for _ in socks]
    buf = bytearray(chunk)
    mv = memoryview(buf)
    for i, s in enumerate(socks):
        sel.register(s, selectors.EVENT_READ, i)
    open_n = len(socks)
    while open_n and time.monotonic() < deadline:
        for key, _ in sel.select(0.2):
            i = key.data
            try:
                n = key.fileobj.recv_into(buf)
            except BlockingIOError:
                continue
            except OSError:
                n = 0
            c = st[i]
            if n:
                c[0] += n
                c[1] = zlib.crc32(mv[:n], c[1])
            if n == 0:
                c[2] = True
            if n == 0 or (length is not None and c[0] >= length):
                sel.unregister(key.fileobj)
                open_n -= 1
    sel.close()
    return st


def worker_main(spec):
    """One worker: SPEC is a dict with target, clients, rcvbuf, mode
    ("stream": read at once until `length` bytes each; "pending": read only
    after a "read" line on stdin, until EOF), length, crc, deadline_s.
    Prints "connected N" once connected, then one JSON line:
    {"clients", "ok", "short", "wrong", "eof", "bytes_min", "bytes_max"};
    the clients stay connected until a line or EOF on stdin."""
    deadline = time.monotonic() + spec["deadline_s"]
    socks = []
    try:
        for _ in range(spec["clients"]):
            socks.append(_connect(tuple(spec["target"]), spec.get("rcvbuf"), 10.0))
    except OSError as e:
        print(json.dumps({"error": "connect %d: %s" % (len(socks), e)}), flush=True)
        return 1
    print("connected %d" % len(socks), flush=True)
    if spec["mode"] == "pending":
        line = sys.stdin.readline()
        if line.strip() != "read":
            return 1
        length = None
    else:
        length = spec["length"]
    st = _read_all(socks, length, deadline)
    want_len, want_crc = spec["length"], spec["crc"]
    res = {"clients": len(st),
           "ok": sum(1 for b, c, _ in st if b == want_len and c == want_crc),
           "short": sum(1 for b, _, _ in st if b < want_len),
           "wrong": sum(1 for b, c, _ in st if b >= want_len and (b != want_len or c != want_crc)),
           "eof": sum(1 for _, _, e in st if e),
           "bytes_min": min((b for b, _, _ in st), default=0),
           "bytes_max": max((b for b, _, _ in st), default=0)}
    print(json.dumps(res), flush=True)
    sys.stdin.readline()        # the clients stay connected until told (or EOF)
    for s in socks:
        s.close()
    return 0


class Workers:
    """PROCS worker processes sharing CLIENTS clients (see worker_main)."""

    def __init__(self, target, clients, procs, length, crc, mode="stream",
                 rcvbuf=None, deadline_s=120.0):
        self.procs = []
        share = [clients // procs + (1 if i < clients % procs else 0) for i in range(procs)]
        for n in share:
            spec = {"target": list(target), "clients": n, "rcvbuf": rcvbuf, "mode": mode,
                    "length": length, "crc": crc, "deadline_s": deadline_s}
            self.procs.append(subprocess.Popen(
                [sys.executable, os.path.join(HERE, "pcload.py"), json.dumps(spec)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                start_new_session=True))
        self.connected = 0

    def _line(self, p, deadline):
        """One line of a worker's stdout, or None at the deadline."""
        sel = selectors.DefaultSelector()
        sel.register(p.stdout, selectors.EVENT_READ)
        try:
            while time.monotonic() < deadline:
                if sel.select(0.1):
                    return p.stdout.readline()
            return None
        finally:
            sel.close()

    def wait_connected(self, timeout):
        """Total clients connected; raises when a worker fails or is late."""
        deadline = time.monotonic() + timeout
        for p in self.procs:
            ln = self._line(p, deadline)
            if not ln or not ln.startswith("connected "):
                raise AssertionError("load worker did not connect: %r" % (ln,))
            self.connected += int(ln.split()[1])
        return self.connected

    def go(self):
        """Pending mode: every worker starts reading now."""
        for p in self.procs:
            p.stdin.write("read\n")
            p.stdin.flush()

    def results(self, timeout):
        """Summed results of every worker (raises when one is missing)."""
        deadline = time.monotonic() + timeout
        tot = {}
        for p in self.procs:
            ln = self._line(p, deadline)
            if not ln:
                raise AssertionError("load worker gave no result within %.0fs" % timeout)
            r = json.loads(ln)
            if "error" in r:
                raise AssertionError("load worker: %s" % r["error"])
            for k, v in r.items():
                if k == "bytes_min":
                    tot[k] = min(tot.get(k, v), v)
                elif k == "bytes_max":
                    tot[k] = max(tot.get(k, v), v)
                else:
                    tot[k] = tot.get(k, 0) + v
        return tot

    def pids(self):
        return [p.pid for p in self.procs]

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except OSError:
                    pass
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                pass
            for f in (p.stdin, p.stdout):
                try:
                    f.close()
                except OSError:
                    pass

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()
        return False


if __name__ == "__main__":
    sys.exit(worker_main(json.loads(sys.argv[1])))
