#!/usr/bin/env python3
"""pipecastctl against a fake stats server (no daemon needed).

The fake speaks the stats socket protocol of pipecastd(8): command lines in, replies that
end with an empty line out. It checks what pipecastctl sends, how it prints
replies and errors, its exit statuses, socket discovery and `watch`.
Self-contained (stdlib only). The binary is $PIPECASTCTL, else the
pipecastctl next to $PIPECASTD, else build/pipecastctl.
Run alone: python3 tests/integration/test_ctl_fake.py
"""

import os
import re
import select
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TIMEOUT = 20  # seconds; bounds every run of the binary
DELAY = 0.25  # seconds the fake waits before answering, where a test asks


def ctl_binary():
    """The pipecastctl under test."""
    if os.environ.get("PIPECASTCTL"):
        return os.environ["PIPECASTCTL"]
    d = os.environ.get("PIPECASTD")
    if d:
        sib = os.path.join(os.path.dirname(d), "pipecastctl")
        if os.access(sib, os.X_OK):
            return sib
    return os.path.join(ROOT, "build", "pipecastctl")


def info_reply(k):
    """A `show info` body whose counters grow with the request number k."""
    names = [
        ("version", "0.1.0"), ("pid", "4242"), ("uptime_seconds", str(3723 + k)),
        ("source_state", "open"), ("source_records_total", str(100 * k)),
        ("source_bytes_total", str(6400 * k)), ("clients_connected", "3"),
        ("clients_accepted_total", str(k)), ("clients_closed_idle_total", "0"),
        ("clients_closed_send_timeout_total", "0"),
        ("clients_dropped_overflow_total", "0"), ("clients_closed_peer_total", str(k)),
        ("clients_closed_error_total", "0"), ("clients_closed_kill_total", "0"),
        ("clients_closed_shutdown_total", "0"), ("bytes_sent_total", str(19200 * k)),
        ("ring_size_bytes", str(4 << 20)), ("ring_used_bytes", "1536"),
        ("timers_live", "5"), ("timers_client_live", "3"),
        ("allocations_live", "120"), ("memory_rss_bytes", str(5 << 20)),
    ]
    return "".join("%s: %s\n" % nv for nv in names) + "\n"


def read_until(pipe, text, timeout):
    """Reads PIPE until TEXT was seen, EOF or TIMEOUT; returns what was read."""
    buf = b""
    deadline = time.monotonic() + timeout
    while text not in buf and time.monotonic() < deadline:
        ready, _, _ = select.select([pipe], [], [], max(0, deadline - time.monotonic()))
        chunk = os.read(pipe.fileno(), 4096) if ready else b""
        if ready and not chunk:
            break
        buf += chunk
    return buf


class FakeDaemon:
    """A stats server on a Unix socket, in a thread.

    replies: {command line: reply text} overriding the defaults;
    close_after: close each connection after that many replies;
    stuck: read commands but never answer;
    delay: seconds to wait before each answer (a floor under the time
    between a request and its reply);
    accept_max: stop listening (and remove the socket file) once that many
    connections were accepted.
    """

    def __init__(self, path, replies=None, close_after=None, stuck=False, delay=0,
                 accept_max=None):
        self.path = path
        self.replies = replies or {}
        self.close_after = close_after
        self.stuck = stuck
        self.delay = delay
        self.accept_max = accept_max
        self.commands = []
        self.connections = 0
        self.infos = 0
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(16)
        self.sock.settimeout(0.05)
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def stop(self):
        """Stops accepting, closes the socket and removes its file."""
        self.stopping.set()
        self.thread.join(5)
        self.sock.close()
        if os.path.exists(self.path):
            os.unlink(self.path)

    def _accept(self):
        while not self.stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.connections += 1
                last = self.accept_max and self.connections >= self.accept_max
            if last:
                self.sock.close()
                os.unlink(self.path)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()
            if last:
                return

    def _answer(self, line):
        with self.lock:
            self.commands.append(line)
            if line in self.replies:
                return self.replies[line]
            if line == "show info":
                self.infos += 1
                return info_reply(self.infos)
        if line.endswith(" json"):
            return '{"command":"%s"}\n\n' % line
        if line.startswith("show "):
            return "header %s\nrow 1\n\n" % line[5:]
        if line == "kill client 7" or line == "reload":
            return "ok\n\n"
        if line.startswith("kill client "):
            return "error: no such client\n\n"
        return "error: unknown command\n\n"

    def _serve(self, conn):
        conn.settimeout(10)
        buf = b""
        answered = 0
        try:
            while True:
                data = conn.recv(4096)
                if not data:
                    if buf:
                        conn.sendall(self._answer(buf.decode()).encode())
                    break
                buf += data
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    reply = self._answer(line.decode())
                    if self.stuck:
                        self.stopping.wait(10)
                        return
                    time.sleep(self.delay)
                    conn.sendall(reply.encode())
                    answered += 1
                    if self.close_after and answered >= self.close_after:
                        return
        except OSError:
            pass
        finally:
            conn.close()


class CtlTest(unittest.TestCase):
    """Common set-up: a private directory, an environment without stray
    socket variables, and a helper that runs the binary."""

    def setUp(self):
        self.exe = ctl_binary()
        self.assertTrue(os.access(self.exe, os.X_OK), "%s not built" % self.exe)
        self.tmp = tempfile.TemporaryDirectory(prefix="pcctl-")
        self.dir = self.tmp.name
        self.sock = os.path.join(self.dir, "stats.sock")
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("PIPECAST_SOCKET", "XDG_RUNTIME_DIR")}
        self.servers = []

    def tearDown(self):
        for s in self.servers:
            s.stop()
        self.tmp.cleanup()

    def serve(self, path=None, **kw):
        s = FakeDaemon(path or self.sock, **kw)
        self.servers.append(s)
        return s

    def run_ctl(self, *args, env=None, timeout=TIMEOUT):
        return subprocess.run([self.exe] + list(args), env=env or self.env,
                              stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=timeout)


class OneShot(CtlTest):
    def test_info_prints_reply_without_final_empty_line(self):
        srv = self.serve()
        r = self.run_ctl("-s", self.sock, "info")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, info_reply(1)[:-1])
        self.assertEqual(r.stderr, "")
        self.assertEqual(srv.commands, ["show info"])

    def test_command_table(self):
        srv = self.serve()
        cases = [
            (["info"], "show info"), (["clients"], "show clients"),
            (["timers"], "show timers"), (["closed"], "show closed"),
            (["metrics"], "show metrics"), (["reload"], "reload"),
            (["kill", "7"], "kill client 7"),
            (["--json", "info"], "show info json"),
            (["--json", "clients"], "show clients json"),
            (["timers", "--json"], "show timers json"),
            (["--json", "closed"], "show closed json"),
        ]
        for args, sent in cases:
            with self.subTest(args=args):
                srv.commands.clear()
                r = self.run_ctl("-s", self.sock, *args)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual(srv.commands, [sent])
                self.assertFalse(r.stdout.endswith("\n\n"))

    def test_json_reply_is_one_line(self):
        self.serve()
        r = self.run_ctl("-s", self.sock, "--json", "clients")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, '{"command":"show clients json"}\n')

    def test_daemon_error_goes_to_stderr_exit_1(self):
        self.serve()
        r = self.run_ctl("-s", self.sock, "kill", "8")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stdout, "")
        self.assertEqual(r.stderr, "pipecastctl: error: no such client\n")

    def test_reply_cut_by_eof_is_printed(self):
        self.serve(replies={"show timers": "kind live\nclient 3"})
        r = self.run_ctl("-s", self.sock, "timers")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "kind live\nclient 3\n")

    def test_close_without_reply_is_an_error(self):
        self.serve(close_after=0, replies={"show info": ""})
        r = self.run_ctl("-s", self.sock, "info")
        self.assertEqual(r.returncode, 1)
        self.assertIn("without a reply", r.stderr)

    def test_stuck_daemon_times_out(self):
        self.serve(stuck=True)
        t0 = time.monotonic()
        r = self.run_ctl("-s", self.sock, "-t", "0.3", "info")
        self.assertLess(time.monotonic() - t0, 5)
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, r"^pipecastctl: no answer from .* within 0\.3 s\n$")


class Discovery(CtlTest):
    def default_paths_free(self):
        tmp_sock = "/tmp/pipecast-%d/stats.sock" % os.getuid()
        if os.path.exists("/run/pipecast/stats.sock") or os.path.exists(tmp_sock):
            self.skipTest("a default stats socket exists on this machine")
        return tmp_sock

    def test_explicit_path_only(self):
        missing = os.path.join(self.dir, "none.sock")
        r = self.run_ctl("-s", missing, "info")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr, "pipecastctl: no daemon answers; tried: %s "
                         "(No such file or directory)\n" % missing)

    def test_env_socket_only(self):
        srv = self.serve()
        env = dict(self.env, PIPECAST_SOCKET=self.sock)
        r = self.run_ctl("info", env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(srv.commands, ["show info"])
        env["PIPECAST_SOCKET"] = os.path.join(self.dir, "none.sock")
        r = self.run_ctl("info", env=env)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr.count("("), 1, r.stderr)

    def test_option_beats_env(self):
        self.serve()
        env = dict(self.env, PIPECAST_SOCKET=os.path.join(self.dir, "none.sock"))
        r = self.run_ctl("-s", self.sock, "info", env=env)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_xdg_runtime_dir(self):
        self.default_paths_free()
        srv = self.serve(os.path.join(self.dir, "pipecast", "stats.sock"))
        r = self.run_ctl("info", env=dict(self.env, XDG_RUNTIME_DIR=self.dir))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(srv.commands, ["show info"])

    def test_every_path_tried_is_listed(self):
        tmp_sock = self.default_paths_free()
        xdg_sock = os.path.join(self.dir, "pipecast", "stats.sock")
        os.makedirs(os.path.dirname(xdg_sock))
        stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        stale.bind(xdg_sock)   # a socket file nobody listens on
        stale.close()
        r = self.run_ctl("info", env=dict(self.env, XDG_RUNTIME_DIR=self.dir))
        self.assertEqual(r.returncode, 1)
        want = ("pipecastctl: no daemon answers; tried: "
                "/run/pipecast/stats.sock (No such file or directory), "
                "%s (Connection refused), %s (No such file or directory)\n"
                % (xdg_sock, tmp_sock))
        self.assertEqual(r.stderr, want)


class Usage(CtlTest):
    def test_usage_errors_exit_2(self):
        cases = [[], ["bogus"], ["-x", "info"], ["--bogus", "info"], ["info", "-s"],
                 ["kill"], ["kill", "abc"], ["kill", "-1"], ["kill", "1", "2"],
                 ["info", "extra"], ["--json", "metrics"], ["--json", "kill", "1"],
                 ["--json", "reload"], ["--json", "watch"], ["watch", "-i", "0.05"],
                 ["watch", "-i", "3601"], ["watch", "-i", "abc"], ["watch", "-i", "1e3"],
                 ["watch", "-i", "0.1234"], ["watch", "-n", "0"], ["info", "-i", "1"],
                 ["-t", "0", "info"]]
        for args in cases:
            with self.subTest(args=args):
                r = self.run_ctl("-s", self.sock, *args)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertTrue(r.stderr.startswith("pipecastctl: "), r.stderr)
                self.assertEqual(r.stdout, "")

    def test_help_and_version(self):
        for opt in ("-h", "--help"):
            r = self.run_ctl(opt)
            self.assertEqual(r.returncode, 0)
            self.assertTrue(r.stdout.startswith("usage: pipecastctl"))
            for cmd in ("info", "clients", "timers", "closed", "metrics", "watch",
                        "kill ID", "reload", "-n COUNT", "-i SECONDS", "--json"):
                self.assertIn(cmd, r.stdout)
        r = self.run_ctl("-V")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^pipecastctl \d+\.\d+\.\d+\n$")


class Watch(CtlTest):
    def frames(self, out):
        return out.rstrip("\n").split("\n\n")

    def test_frames_and_rates_on_one_connection(self):
        srv = self.serve(delay=DELAY)
        t0 = time.monotonic()
        r = self.run_ctl("-s", self.sock, "watch", "-i", "0.1", "-n", "3")
        took = time.monotonic() - t0
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("\033", r.stdout)
        frames = self.frames(r.stdout)
        self.assertEqual(len(frames), 3, r.stdout)
        self.assertEqual(srv.connections, 1)
        self.assertEqual(srv.commands, ["show info"] * 3)
        first = frames[0]
        self.assertIn("up 1h02m04s", first)
        self.assertIn("source open", first)
        self.assertIn("3 connected", first)
        self.assertIn("records  -/s", first)
        self.assertIn("5 live  3 client", first)
        self.assertIn("rss 5.0 MiB", first)
        self.assertIn("1.5 KiB used of 4.0 MiB", first)
        # 100 records per sample, over the time between the two samples'
        # clock readings: the second request went out after the first
        # reading and its reply came DELAY later, so that time is at least
        # DELAY; both readings fall within the run. Hence 100/took <= rate
        # <= 100/DELAY whatever the load (5% for the shown digits and the
        # clock's milliseconds); the interval asked for (0.1 s) would give
        # 1000/s, a counter's total instead of its delta 300/s and more.
        m = re.search(r"records  ([0-9.]+)(k?)/s  source ([0-9.]+ [KM]iB)/s", frames[2])
        self.assertTrue(m, frames[2])
        rate = float(m.group(1)) * (1000 if m.group(2) else 1)
        self.assertGreaterEqual(rate, 0.95 * 100 / took, frames[2])
        self.assertLessEqual(rate, 1.05 * 100 / DELAY, frames[2])

    def test_reconnects_when_the_daemon_closes(self):
        srv = self.serve(close_after=1)
        r = self.run_ctl("-s", self.sock, "watch", "-i", "0.1", "-n", "3")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(self.frames(r.stdout)), 3)
        self.assertEqual(srv.connections, 3)

    def test_daemon_going_away_exits_1(self):
        # One connection, one reply, then the socket is gone: the second
        # sample finds no daemon, however late it comes.
        self.serve(close_after=1, accept_max=1)
        r = self.run_ctl("-s", self.sock, "watch", "-i", "0.3")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("daemon went away", r.stderr)
        self.assertEqual(len(self.frames(r.stdout)), 1)

    def test_daemon_error_exits_1(self):
        self.serve(replies={"show info": "error: permission denied\n\n"})
        r = self.run_ctl("-s", self.sock, "watch", "-n", "2")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr, "pipecastctl: error: permission denied\n")

    def test_signals_exit_0(self):
        for sig in (signal.SIGINT, signal.SIGTERM):
            with self.subTest(sig=sig):
                srv = self.serve(os.path.join(self.dir, "s%d.sock" % sig))
                p = subprocess.Popen([self.exe, "-s", srv.path, "watch", "-i", "5"],
                                     env=self.env, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
                try:
                    # The signal once the first frame is out (the reply
                    # sent is not enough: it may still be on its way).
                    first = read_until(p.stdout, b"pipecast 0.1.0", 10)
                    p.send_signal(sig)
                    out, err = p.communicate(timeout=TIMEOUT)
                finally:
                    p.kill()
                self.assertEqual(p.returncode, 0, err)
                self.assertIn(b"pipecast 0.1.0", first + out)


if __name__ == "__main__":
    unittest.main()
