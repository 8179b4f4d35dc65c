"""pctest: harness for pipecastd integration tests (Python 3 stdlib only).

Every test starts the real binary and talks to it over real sockets:

    with Daemon({"source": {"input": "fifo:{dir}/in.fifo"}}) as d:
        c = tcp_client(d.port)
        d.wait_opens(1)
        with fifo_writer(d.path("in.fifo")) as w: ...

- The binary is $PIPECASTD, else build/pipecastd under the repository root.
- A config is text or a dict {section: {key: value or [values]}}. In both, the
  placeholders {dir} (the test's fresh temp dir), {port} and {port2} (free TCP
  ports on 127.0.0.1) are substituted with str.replace. A dict gets defaults:
  [daemon] log_level = info, [clients] listen = tcp:127.0.0.1:{port},
  [stats] socket = {dir}/stats.sock. Text configs should set these themselves.
- The daemon runs in its own session; on exit the harness SIGKILLs it and
  every process of that session (producer commands), then removes the dir.
- Standard input of the daemon is a pipe the test holds (d.stdin) unless
  stdin= is given, so a stdin source is silent until the test writes.
- Every wait is bounded; nothing here can hang a test.
- PCTEST_VALGRIND=1 (make valgrind): $PIPECASTD runs the daemon under
  valgrind memcheck. The harness then stops each daemon with SIGTERM (so that
  the leak check runs) and fails the test when it exited 99 or its log holds
  a valgrind report; tests marked @not_under_valgrind are skipped.
  PCTEST_SLOW (default 10 under valgrind, else 1) scales the harness's own
  timeouts (slow(x) for a test's).
"""

import errno
import os
import re
import resource
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

VALGRIND = os.environ.get("PCTEST_VALGRIND") == "1"
SLOW = float(os.environ.get("PCTEST_SLOW") or (10 if VALGRIND else 1))
VALGRIND_ERROR_STATUS = 99      # tests/valgrind/pipecastd: --error-exitcode
VALGRIND_LINE = re.compile(r"^==\d+== ")
READY_TIMEOUT = 10.0 * SLOW
CLK_TCK = os.sysconf("SC_CLK_TCK")


def slow(seconds):
    """A test's timeout scaled by PCTEST_SLOW (valgrind runs ~10-50x slower)."""
    return seconds * SLOW


def not_under_valgrind(reason):
    """Skips a test too heavy or too timing-sensitive for valgrind."""
    return unittest.skipIf(VALGRIND, "under valgrind: " + reason)


def binary():
    """Path of the daemon under test."""
    p = os.environ.get("PIPECASTD") or os.path.join(REPO, "build", "pipecastd")
    return os.path.abspath(p)


def free_port(family=socket.AF_INET, host="127.0.0.1"):
    """A TCP port that was free a moment ago on HOST."""
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def ipv6_available():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def records(start, stop):
    """The canonical record stream: b'%08d\\n' for each i in [start, stop)."""
    return b"".join(b"%08d\n" % i for i in range(start, stop))


REC_RE = re.compile(rb"^\d{8}$")


def parse_seq(data):
    """Split received bytes into lines and return the sequence numbers.

    Raises AssertionError if data does not end with a newline or any line is
    not a complete record."""
    if data and not data.endswith(b"\n"):
        raise AssertionError("data ends with a partial line: %r" % data[-40:])
    out = []
    for ln in data.split(b"\n")[:-1] if data else []:
        if not REC_RE.match(ln):
            raise AssertionError("not a whole record: %r" % ln[:80])
        out.append(int(ln))
    return out


def cpu_seconds(pid):
    """utime + stime of a process, in seconds, from /proc/PID/stat."""
    with open("/proc/%d/stat" % pid) as f:
        st = f.read()
    fields = st[st.rindex(")") + 2:].split()
    # fields[0] is field 3 (state); utime is field 14, stime field 15.
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def session_pids(sid):
    """Pids of every process whose session id is SID."""
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                st = f.read()
        except OSError:
            continue
        fields = st[st.rindex(")") + 2:].split()
        if int(fields[3]) == sid:  # field 6: session
            pids.append(int(name))
    return pids


def nofile_limiter(n):
    """A preexec_fn lowering RLIMIT_NOFILE soft and hard to N."""
    def fn():
        resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))
    return fn


class DaemonError(AssertionError):
    pass


def _render(conf, subst):
    if isinstance(conf, dict):
        conf = {s: dict(kv) for s, kv in conf.items()}
        conf.setdefault("daemon", {}).setdefault("log_level", "info")
        conf.setdefault("clients", {}).setdefault("listen", "tcp:127.0.0.1:{port}")
        conf.setdefault("stats", {}).setdefault("socket", "{dir}/stats.sock")
        out = []
        for sec, kv in conf.items():
            out.append("[%s]" % sec)
            for k, v in kv.items():
                for one in (v if isinstance(v, (list, tuple)) else [v]):
                    out.append("%s = %s" % (k, one) if one != "" else "%s =" % k)
            out.append("")
        conf = "\n".join(out)
    for k, v in subst.items():
        conf = conf.replace("{%s}" % k, str(v))
    return conf


class Daemon:
    """One pipecastd process with a private temp dir (a context manager)."""

    def __init__(self, conf, args=(), env=None, rlimit_nofile=None,
                 stdin=subprocess.PIPE, wait_ready=True, use_conf=True, prefix=()):
        self.dir = tempfile.mkdtemp(prefix="pctest-")
        self.subst = {"dir": self.dir, "port": free_port(), "port2": free_port()}
        self.conf_text = _render(conf, self.subst) if conf is not None else None
        self.conf_path = os.path.join(self.dir, "pipecast.conf")
        self.args = [a.replace("{dir}", self.dir) for a in args]
        self.env = env
        self.rlimit_nofile = rlimit_nofile
        self.stdin_arg = stdin
        self.wait_ready_flag = wait_ready
        self.use_conf = use_conf and conf is not None
        self.prefix = [_render(a, self.subst) for a in prefix]
        self.proc = None
        self.stdin = None
        self._lines = []
        self._cv = threading.Condition()
        self._eof = False
        self._reader = None
        self.returncode = None

    # -- configuration facts -------------------------------------------------
    @property
    def port(self):
        return self.subst["port"]

    @property
    def port2(self):
        return self.subst["port2"]

    def path(self, name):
        return os.path.join(self.dir, name)

    @property
    def ports(self):
        return [int(m.group(1)) for m in
                re.finditer(r"^\s*listen\s*=\s*tcp:.*:(\d+)\s*$", self.conf_text or "", re.M)]

    @property
    def unix_paths(self):
        return [m.group(1) for m in
                re.finditer(r"^\s*listen\s*=\s*unix:(.*?)\s*$", self.conf_text or "", re.M)]

    # -- life cycle ----------------------------------------------------------
    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.cleanup(check=False)
            raise
        return self

    def __exit__(self, et, ev, tb):
        if et is not None and not isinstance(ev, KeyboardInterrupt):
            self.dump_log(sys.stderr)
        self.cleanup(check=et is None)
        return False

    def start(self):
        if self.conf_text is not None:
            with open(self.conf_path, "w") as f:
                f.write(self.conf_text)
        cmd = self.prefix + [binary()]
        if self.use_conf:
            cmd += ["-c", self.conf_path]
        cmd += list(self.args)
        env = dict(os.environ if self.env is None else self.env)
        if self.env is None:   # an explicit env is the test's to set
            for k in ("NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES",
                      "WATCHDOG_USEC", "WATCHDOG_PID", "JOURNAL_STREAM",
                      "PIPECAST_SOCKET"):
                env.pop(k, None)
        pre = nofile_limiter(self.rlimit_nofile) if self.rlimit_nofile else None
        self.t_start = time.monotonic()
        self.proc = subprocess.Popen(
            cmd, stdin=self.stdin_arg, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env=env, cwd=self.dir,
            start_new_session=True, preexec_fn=pre)
        self.pid = self.proc.pid
        if self.stdin_arg == subprocess.PIPE:
            self.stdin = self.proc.stdin
        self._logf = open(os.path.join(self.dir, "daemon.log"), "wb")
        self._reader = threading.Thread(target=self._read_stderr, daemon=True)
        self._reader.start()
        self._out = []
        self._outreader = threading.Thread(target=self._read_stdout, daemon=True)
        self._outreader.start()
        if self.wait_ready_flag:
            self.wait_ready()

    def _read_stderr(self):
        f = self.proc.stderr
        buf = b""
        while True:
            chunk = os.read(f.fileno(), 65536)
            if not chunk:
                break
            self._logf.write(chunk)
            buf += chunk
            *done, buf = buf.split(b"\n")
            if done:
                with self._cv:
                    self._lines.extend(x.decode("utf-8", "replace") for x in done)
                    self._cv.notify_all()
        with self._cv:
            if buf:
                self._lines.append(buf.decode("utf-8", "replace"))
            self._eof = True
            self._cv.notify_all()

    def _read_stdout(self):
        while True:
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            if not chunk:
                break
            self._out.append(chunk)

    def wait_ready(self, timeout=READY_TIMEOUT):
        try:
            self.wait_log(r"\bready\b", timeout)
        except DaemonError:
            rc = self.proc.poll()
            raise DaemonError("daemon not ready within %.0fs (exit status %r); log:\n%s"
                              % (timeout, rc, "\n".join(self.log_lines())))

    def valgrind_errors(self):
        """Valgrind's report in the log, and its error exit status."""
        lines = [ln for ln in self.log_lines() if VALGRIND_LINE.match(ln)]
        if self.returncode == VALGRIND_ERROR_STATUS:
            lines.append("exit status %d (valgrind --error-exitcode)" % self.returncode)
        return lines

    def cleanup(self, check=True):
        """Ends the daemon (under valgrind: SIGTERM first, so that the leak
        check runs; CHECK then raises on a valgrind report)."""
        if self.proc is not None and VALGRIND and self.alive():
            self.proc.send_signal(signal.SIGTERM)
            self.wait_exit(60)
        if self.proc is not None:
            self.kill_all()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
            if self.returncode is None:
                self.returncode = self.proc.returncode
            for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
                try:
                    if f:
                        f.close()
                except OSError:
                    pass
            if self._reader:
                self._reader.join(2)
            try:
                self._logf.close()
            except Exception:
                pass
        shutil.rmtree(self.dir, ignore_errors=True)
        if self.proc is not None and VALGRIND and check:
            errs = self.valgrind_errors()
            if errs:
                raise DaemonError("valgrind found errors in pipecastd:\n" + "\n".join(errs[-80:]))

    def kill_all(self):
        """SIGKILL the daemon and every process of its session."""
        sid = self.proc.pid
        for _ in range(3):
            pids = session_pids(sid)
            if self.proc.poll() is None and sid not in pids:
                pids.append(sid)
            if not pids:
                break
            for p in pids:
                try:
                    os.kill(p, signal.SIGKILL)
                except OSError:
                    pass
            if self.proc.poll() is None:
                try:
                    self.proc.wait(2)
                except subprocess.TimeoutExpired:
                    pass
            time.sleep(0.01)

    def alive(self):
        return self.proc.poll() is None

    def send_signal(self, sig):
        self.proc.send_signal(sig)

    def wait_exit(self, timeout):
        """Exit status, or None when still running after TIMEOUT seconds."""
        try:
            self.returncode = self.proc.wait(timeout)
            self._reader.join(2)
            return self.returncode
        except subprocess.TimeoutExpired:
            return None

    def stop(self, sig=signal.SIGTERM, timeout=10.0):
        """Send SIG, wait up to TIMEOUT for exit, return the exit status.

        Raises DaemonError (after killing) when it does not exit in time."""
        if self.alive():
            self.proc.send_signal(sig)
        rc = self.wait_exit(timeout)
        if rc is None:
            self.kill_all()
            raise DaemonError("daemon did not exit within %.1fs after signal %d" % (timeout, sig))
        return rc

    def stdout_text(self):
        self._outreader.join(2)
        return b"".join(self._out).decode("utf-8", "replace")

    # -- stdin helpers ---------------------------------------------------------
    def feed_stdin(self, data, close=True, chunk=1 << 16):
        """Write DATA to the daemon's stdin from a thread; returns the thread.

        The thread records .t_closed (monotonic) when it closed the pipe."""
        def run():
            try:
                mv = memoryview(data)
                for i in range(0, len(mv), chunk):
                    self.stdin.write(mv[i:i + chunk])
                    self.stdin.flush()
                if close:
                    self.stdin.close()
                    th.t_closed = time.monotonic()
            except (BrokenPipeError, ValueError, OSError) as e:
                th.error = e
        th = threading.Thread(target=run, daemon=True)
        th.t_closed = None
        th.error = None
        th.start()
        return th

    def write_stdin(self, data):
        self.stdin.write(data)
        self.stdin.flush()

    # -- log ---------------------------------------------------------------------
    def log_lines(self):
        with self._cv:
            return list(self._lines)

    def log_text(self):
        return "\n".join(self.log_lines())

    def dump_log(self, out, last=60):
        lines = self.log_lines()
        out.write("---- pipecastd log (last %d of %d lines) ----\n" % (min(last, len(lines)), len(lines)))
        for ln in lines[-last:]:
            out.write("  " + ln + "\n")
        out.write("---- end of log ----\n")

    def wait_log(self, regex, timeout=5.0, start=0):
        """Wait for a log line (index >= START) matching REGEX; return the match."""
        rx = re.compile(regex)
        deadline = time.monotonic() + timeout
        with self._cv:
            i = start
            while True:
                while i < len(self._lines):
                    m = rx.search(self._lines[i])
                    if m:
                        return m
                    i += 1
                left = deadline - time.monotonic()
                if left <= 0 or self._eof:
                    raise DaemonError("no log line matching %r within %.1fs" % (regex, timeout))
                self._cv.wait(min(left, 0.1))

    def count_log(self, regex):
        rx = re.compile(regex)
        return sum(1 for ln in self.log_lines() if rx.search(ln))

    def wait_count(self, regex, n, timeout=5.0):
        """Wait until at least N log lines match REGEX; return the count."""
        deadline = time.monotonic() + timeout
        while True:
            c = self.count_log(regex)
            if c >= n:
                return c
            if time.monotonic() > deadline:
                raise DaemonError("only %d of %d log lines matching %r within %.1fs"
                                  % (c, n, regex, timeout))
            with self._cv:
                if self._eof:
                    raise DaemonError("daemon exited; %d of %d lines matching %r"
                                      % (c, n, regex))
                self._cv.wait(0.05)

    def wait_opens(self, n, timeout=5.0):
        return self.wait_count(r"\bclient \d+ open\b", n, timeout)

    def wait_info(self, name, n, timeout=5.0):
        """StatsConn.wait_info on a connection of its own."""
        with StatsConn(self.path("stats.sock")) as st:
            return st.wait_info(name, n, timeout)

    def client_id(self, sock, timeout=5.0):
        """The daemon's client ID for a TCP client socket (matched by address)."""
        host, port = sock.getsockname()[:2]
        addr = ("[%s]:%d" % (host, port)) if ":" in host else ("%s:%d" % (host, port))
        m = self.wait_log(r"\bclient (\d+) open %s(\s|$)" % re.escape(addr), timeout)
        return int(m.group(1))

    def closed_reason(self, cid, timeout=5.0):
        """Wait for client CID's close line and return its reason."""
        m = self.wait_log(r"\bclient %d closed \S+ reason=(\w+)" % cid, timeout)
        return m.group(1)

    def close_reasons(self):
        return re.findall(r"\bclient \d+ closed \S+ reason=(\w+)", self.log_text())


def run_daemon(args, timeout=10.0, stdin=subprocess.DEVNULL, cwd=None):
    """Run pipecastd with ARGS to completion: (status, stdout, stderr)."""
    p = subprocess.run([binary()] + list(args), stdin=stdin, capture_output=True,
                       timeout=timeout * SLOW, cwd=cwd, start_new_session=True)
    if VALGRIND and p.returncode == VALGRIND_ERROR_STATUS:
        raise DaemonError("valgrind found errors in pipecastd %s:\n%s"
                          % (" ".join(args), p.stderr.decode("utf-8", "replace")))
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


# -- clients -----------------------------------------------------------------

def tcp_client(port, host="127.0.0.1", rcvbuf=None, timeout=5.0):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(timeout)
    s.connect((host, port))
    return s


def unix_client(path, rcvbuf=None, timeout=5.0):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(timeout)
    s.connect(path)
    return s


def recv_until(sock, done=None, timeout=5.0, limit=None):
    """The one receive loop: reads until DONE(bytes so far) is true, EOF (or
    a reset), or TIMEOUT; never more than LIMIT bytes. Returns
    (bytes, eof_seen). It always reads once, however short TIMEOUT is (a
    loaded machine may use it up before the first look)."""
    deadline = time.monotonic() + timeout
    buf = bytearray()
    tried = False
    while not (done and done(buf)):
        left = deadline - time.monotonic()
        if left <= 0 and tried:
            return bytes(buf), False
        tried = True
        sock.settimeout(max(left, 0.001))
        try:
            chunk = sock.recv(65536 if limit is None else min(1 << 20, limit - len(buf)))
        except socket.timeout:
            return bytes(buf), False
        except ConnectionResetError:
            return bytes(buf), True
        if not chunk:
            return bytes(buf), True
        buf += chunk
    return bytes(buf), False


def recv_exact(sock, n, timeout=5.0):
    """Read until N bytes, EOF or TIMEOUT; returns what was read."""
    return recv_until(sock, lambda b: len(b) >= n, timeout, limit=n)[0]


def recv_lines(sock, n, timeout=5.0):
    """Read until N newlines were seen, EOF or TIMEOUT; returns bytes read."""
    return recv_until(sock, lambda b: b.count(b"\n") >= n, timeout)[0]


def recv_for(sock, seconds):
    """Read for SECONDS (or until EOF): (data, eof_seen)."""
    return recv_until(sock, None, seconds)


def wait_eof(sock, timeout):
    """Discard data until EOF (or a reset); return the monotonic time of EOF or None."""
    deadline = time.monotonic() + timeout
    while True:
        _, eof = recv_until(sock, lambda b: len(b) >= 1 << 20, deadline - time.monotonic())
        if eof:
            return time.monotonic()
        if time.monotonic() >= deadline:
            return None


def hard_close(sock):
    """Close with SO_LINGER 0 so that the peer gets a reset."""
    import struct
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


class Reader:
    """Drains many sockets in one thread with selectors, keeping all bytes.

    r = Reader(); r.add(sock, "name"); r.start(); ... r.wait_len(n); r.stop()
    """

    def __init__(self, slow=0.0, chunk=1 << 18):
        self.sel = selectors.DefaultSelector()
        self.data = {}
        self.eof = {}
        self.lock = threading.Lock()
        self.slow = slow
        self.chunk = chunk
        self._stop = threading.Event()
        self._th = threading.Thread(target=self._run, daemon=True)
        self.error = None

    def add(self, sock, name=None):
        name = sock if name is None else name
        sock.setblocking(False)
        with self.lock:
            self.data[name] = bytearray()
            self.eof[name] = None
        self.sel.register(sock, selectors.EVENT_READ, name)
        return name

    def start(self):
        self._th.start()
        return self

    def _run(self):
        try:
            while not self._stop.is_set():
                for key, _ in self.sel.select(0.05):
                    name = key.data
                    try:
                        chunk = key.fileobj.recv(self.chunk)
                    except BlockingIOError:
                        continue
                    except OSError:
                        chunk = b""
                    with self.lock:
                        if chunk:
                            self.data[name] += chunk
                        else:
                            self.eof[name] = time.monotonic()
                    if not chunk:
                        self.sel.unregister(key.fileobj)
                if self.slow:
                    time.sleep(self.slow)
        except Exception as e:  # pragma: no cover - reported by wait helpers
            self.error = e

    def length(self, name):
        with self.lock:
            return len(self.data[name])

    def get(self, name):
        with self.lock:
            return bytes(self.data[name])

    def wait(self, pred, timeout):
        """Wait until PRED(self) is true; return its final truth value."""
        deadline = time.monotonic() + timeout
        while True:
            if pred(self):
                return True
            if self.error or time.monotonic() > deadline:
                return False
            time.sleep(0.02)

    def wait_len(self, n, timeout, names=None):
        names = list(self.data) if names is None else names
        return self.wait(lambda r: all(r.length(x) >= n or r.eof[x] for x in names), timeout)

    def stop(self):
        self._stop.set()
        if self._th.is_alive():
            self._th.join(5)
        for key in list(self.sel.get_map().values()):
            try:
                self.sel.unregister(key.fileobj)
            except Exception:
                pass
        self.sel.close()


# -- FIFO writers ----------------------------------------------------------------

class FakeServer(threading.Thread):
    """A TCP server on a free loopback port that plays a misbehaving
    upstream (an SSE server, Redis): each connection, in a thread of its
    own, gets SEND(conn, stop_event) after its first request was read.
    Counts connections; stop() ends it."""

    def __init__(self, send):
        super().__init__(daemon=True)
        self.srv = socket.socket()
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(16)
        self.srv.settimeout(0.2)
        self.port = self.srv.getsockname()[1]
        self.send = send
        self.conns = 0
        self.stop_ev = threading.Event()

    def run(self):
        while not self.stop_ev.is_set():
            try:
                conn, _ = self.srv.accept()
            except socket.timeout:
                continue
            self.conns += 1
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn):
        try:
            conn.recv(65536)
            self.send(conn, self.stop_ev)
        except OSError:
            pass
        finally:
            conn.close()

    def stop(self):
        self.stop_ev.set()
        self.join(5)
        self.srv.close()

    @classmethod
    def serving(cls, test, send):
        """A started server that the test case stops when it ends."""
        fake = cls(send)
        fake.start()
        test.addCleanup(fake.stop)
        return fake


def fake_upstream(test, send, conf_of):
    """A FakeServer serving SEND (stopped when TEST ends), and CONF_OF(its
    port): a daemon reading it, with a 4 MiB buffer and a 1 MiB backlog."""
    fake = FakeServer.serving(test, send)
    conf = conf_of(fake.port)
    conf["clients"]["buffer"] = "4MiB"
    conf["clients"]["backlog"] = "1MiB"
    return fake, conf


def backoff_delays(d):
    """The delays of a daemon's upstream reconnects, from its log."""
    return [float(x) for x in re.findall(r"reconnecting in ([\d.]+) s", d.log_text())]


def check_backoff(test, d, regex, timeout):
    """A daemon whose upstream keeps failing (restart_delay 100ms): three
    reconnects logged (REGEX), waited 0.1, 0.2 and 0.4 s, the source
    restarting, the daemon alive."""
    d.wait_count(regex, 3, timeout)
    with StatsConn(d.path("stats.sock")) as st:
        test.assertEqual(st.info()["source_state"], "restarting")
    test.assertEqual(backoff_delays(d)[:3], [0.1, 0.2, 0.4])
    test.assertTrue(d.alive())


def open_fifo_writer(path, timeout=5.0):
    """Open a FIFO for writing once the daemon has it open for reading
    (bounded: O_NONBLOCK open retried until TIMEOUT); returns a blocking fd."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
            os.set_blocking(fd, True)
            return fd
        except OSError as e:
            if e.errno not in (errno.ENXIO, errno.ENOENT) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def write_all(fd, data, chunk=1 << 16):
    mv = memoryview(data)
    for i in range(0, len(mv), chunk):
        part = mv[i:i + chunk]
        while part:
            n = os.write(fd, part)
            part = part[n:]


class Producer(threading.Thread):
    """Writes records b'%08d\\n' steadily to an fd (FIFO or pipe) until stopped.

    BATCH records every INTERVAL seconds. .count is the number of records
    written; .max_block the longest single write() in seconds."""

    def __init__(self, fd, batch=1000, interval=0.005, close=True):
        super().__init__(daemon=True)
        self.fd = fd
        self.batch = batch
        self.interval = interval
        self.close_fd = close
        self.count = 0
        self.max_block = 0.0
        self.error = None
        self._stop_ev = threading.Event()
        self.lock = threading.Lock()

    def run(self):
        try:
            while not self._stop_ev.is_set():
                data = records(self.count, self.count + self.batch)
                t0 = time.monotonic()
                write_all(self.fd, data)
                self.max_block = max(self.max_block, time.monotonic() - t0)
                with self.lock:
                    self.count += self.batch
                self._stop_ev.wait(self.interval)
        except OSError as e:
            self.error = e
        finally:
            if self.close_fd:
                try:
                    os.close(self.fd)
                except OSError:
                    pass

    def written(self):
        with self.lock:
            return self.count

    def finish(self, timeout=10.0):
        """Stop, join, and return the number of records written."""
        self._stop_ev.set()
        self.join(timeout)
        if self.is_alive():
            raise AssertionError("producer blocked for %.0fs (daemon not reading its source?)" % timeout)
        return self.count


# -- stats socket ------------------------------------------------------------------

def ctl_binary():
    """The pipecastctl under test: $PIPECASTCTL, else the one next to
    $PIPECASTD, else build/pipecastctl."""
    if os.environ.get("PIPECASTCTL"):
        return os.path.abspath(os.environ["PIPECASTCTL"])
    d = os.environ.get("PIPECASTD")
    if d:
        sib = os.path.join(os.path.dirname(os.path.abspath(d)), "pipecastctl")
        if os.access(sib, os.X_OK):
            return sib
    return os.path.join(REPO, "build", "pipecastctl")


def rss_bytes(pid):
    """VmRSS of a process in bytes, from /proc/PID/status."""
    with open("/proc/%d/status" % pid) as f:
        for ln in f:
            if ln.startswith("VmRSS:"):
                return int(ln.split()[1]) * 1024
    raise AssertionError("no VmRSS for pid %d" % pid)


def parse_kv(text):
    """A `name: value` reply body as an ordered dict of strings."""
    out = {}
    for ln in text.split("\n"):
        if not ln:
            continue
        k, sep, v = ln.partition(": ")
        if not sep:
            raise AssertionError("not a 'name: value' line: %r" % ln)
        out[k] = v
    return out


def parse_table(text):
    """A table reply body: (header words, list of row word lists)."""
    lines = [ln for ln in text.split("\n") if ln]
    if not lines:
        raise AssertionError("empty table reply")
    return lines[0].split(" "), [ln.split(" ") for ln in lines[1:]]


class StatsConn:
    """One connection to the stats socket: send lines, read replies.

    A reply is everything up to and including the first "\\n\\n"; reply()
    returns it with the final empty line stripped (body ends with "\\n")."""

    def __init__(self, path, timeout=5.0):
        self.path = path
        self.timeout = timeout
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""
        self.eof = False

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def reply_raw(self, timeout=None):
        """The next reply including its terminating "\\n\\n"; raises on
        timeout or EOF before a whole reply."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            i = self.buf.find(b"\n\n")
            # A reply starts at a line start; "\n\n" inside it would be an empty line.
            if i >= 0:
                r, self.buf = self.buf[:i + 2], self.buf[i + 2:]
                return r.decode("utf-8", "replace")
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no whole stats reply within timeout; got %r" % self.buf[-200:])
            if self.eof:
                raise AssertionError("stats connection closed before a whole reply; got %r"
                                     % self.buf[-200:])
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                self.eof = True
            self.buf += chunk

    def reply(self, timeout=None):
        return self.reply_raw(timeout)[:-1]

    def cmd(self, line, timeout=None):
        """Send one command line, return its reply body."""
        self.send(line + "\n")
        return self.reply(timeout)

    def info(self):
        return {k: (int(v) if re.match(r"^-?\d+$", v) else v)
                for k, v in parse_kv(self.cmd("show info")).items()}

    def timers(self):
        head, rows = parse_table(self.cmd("show timers"))
        return head, rows

    def wait_info(self, name, n, timeout=5.0):
        """Poll `show info` until the counter NAME is at least N (the daemon
        has done that much, whatever the load); returns the info."""
        deadline = time.monotonic() + slow(timeout)
        while True:
            info = self.info()
            if info[name] >= n:
                return info
            if time.monotonic() > deadline:
                raise DaemonError("%s is %d, not %d, after %.1fs"
                                  % (name, info[name], n, slow(timeout)))
            time.sleep(0.02)

    def wait_eof(self, timeout):
        """Monotonic time at which the daemon closed, or None."""
        if self.eof:
            return time.monotonic()
        t = wait_eof(self.sock, timeout)
        if t is not None:
            self.eof = True
        return t

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()
        return False


def stats_query(path, line, timeout=5.0):
    """Open a stats connection, run one command, close; return the reply body."""
    with StatsConn(path, timeout) as s:
        return s.cmd(line)
