#!/usr/bin/env python3
"""Hardening: what a hostile local user, a slow reader and a stuck log
reader could do to the daemon, one test class per problem (pipecastd(8),
SECURITY and FAILURE MODES). Each test failed against the code before its
fix. Run alone: python3 tests/integration/test_harden.py
"""

import os
import signal
import socket
import stat
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pctest  # noqa: E402
from pctest import (REPO, Daemon, StatsConn, run_daemon, slow,  # noqa: E402
                    tcp_client)
from test_reload import rewrite, sighup  # noqa: E402


def check_config(text):
    """pipecastd -t on TEXT: (status, stderr)."""
    d = Daemon(None)
    try:
        path = os.path.join(d.dir, "t.conf")
        with open(path, "w") as f:
            f.write(text)
        rc, _, err = run_daemon(["-t", "-c", path])
        return rc, err
    finally:
        d.cleanup(check=False)


class T01HeartbeatLongerThanMaxLine(unittest.TestCase):
    """#1: a heartbeat record longer than max_line overflowed the skip stash
    (ASan: heap-buffer-overflow in ring_copy); such a configuration is now
    refused, and the stash is bounded (tests/unit/test_cursor.c, fuzz_ring)."""

    def test_heartbeat_line_over_max_line_refused(self):
        rc, err = check_config("[source]\nmax_line = 16\n[clients]\nheartbeat = 10ms\n"
                               "heartbeat_line = %s\n" % ("h" * 40))
        self.assertEqual(rc, 1, err)
        self.assertIn("heartbeat_line: 40 bytes and a newline exceed max_line (16B)", err)
        rc, err = check_config("[source]\nmax_line = 16\n[clients]\nheartbeat = 10ms\n"
                               "heartbeat_line = %s\n" % ("h" * 15))
        self.assertEqual(rc, 0, err)

    def test_reload_to_a_long_heartbeat_refused(self):
        conf = {"source": {"input": "stdin", "max_line": "16"},
                "clients": {"overflow": "skip"}}
        with Daemon(conf) as d:
            conf["clients"].update({"heartbeat": "10ms", "heartbeat_line": "h" * 40})
            rewrite(d, conf)
            sighup(d, ok=False)
            self.assertTrue(d.alive())


class T07ReloadWithChangedInput(unittest.TestCase):
    """#7: on_eof's default followed the new input before the old one was
    put back: exec->stdin silently made on_eof exit, exec->fifo refused every
    reload."""

    CMD = "exec:while :; do echo tick; sleep 0.2; done"

    def test_exec_to_stdin_keeps_restarting(self):
        with Daemon({"source": {"input": self.CMD, "restart_delay": "100ms"}}) as d:
            m = d.wait_log(r"command (\d+) started", slow(5))
            rewrite(d, {"source": {"input": "stdin", "restart_delay": "100ms"}})
            sighup(d)
            start = len(d.log_lines())
            os.killpg(int(m.group(1)), signal.SIGTERM)
            d.wait_log(r"restarting the command", slow(5), start=start)
            d.wait_log(r"command \d+ started", slow(5), start=start)
            self.assertTrue(d.alive())

    def test_exec_to_fifo_reloads(self):
        with Daemon({"source": {"input": self.CMD}}) as d:
            d.wait_log(r"command \d+ started", slow(5))
            rewrite(d, {"source": {"input": "fifo:{dir}/in.fifo"}})
            sighup(d, ok=True)
            rewrite(d, {"source": {"input": "fifo:{dir}/in.fifo"},
                        "clients": {"max_clients": "7"}})
            sighup(d, ok=True)

    def test_fifo_to_exec_reloads(self):
        with Daemon({"source": {"input": "fifo:{dir}/in.fifo"}}) as d:
            rewrite(d, {"source": {"input": self.CMD}})
            sighup(d, ok=True)


class T09ListenerNamesNotLookedUp(unittest.TestCase):
    """#9: a listen host name was resolved inside the loop on reload; only
    numeric addresses and localhost are accepted now, with a clear error."""

    WHY = "host must be a numeric address or localhost (names are not looked up)"

    def test_name_refused_by_check(self):
        rc, err = check_config("[clients]\nlisten = tcp:pipecast-test.invalid:7070\n")
        self.assertEqual(rc, 1, err)
        self.assertIn(self.WHY, err)

    def test_name_refused_by_reload_at_once(self):
        with Daemon({"source": {"input": "stdin"}}) as d:
            rewrite(d, {"source": {"input": "stdin"},
                        "clients": {"listen": ["tcp:127.0.0.1:{port}",
                                               "tcp:pipecast-test.invalid:{port2}"]}})
            t0 = time.monotonic()
            sighup(d, ok=False)
            self.assertLess(time.monotonic() - t0, slow(2.0))
            self.assertTrue(any(self.WHY in ln for ln in d.log_lines()))

    def test_localhost_listens_without_lookup(self):
        conf = {"source": {"input": "stdin"}, "clients": {"listen": "tcp:localhost:{port}"}}
        with Daemon(conf) as d:
            c = tcp_client(d.port)
            d.wait_opens(1)
            c.close()


def process_gone(pid):
    """Whether PID has exited (a zombie counts as gone)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def wait_gone(pid, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process_gone(pid):
            return True
        time.sleep(0.05)
    return process_gone(pid)


# A command whose grandchild ignores SIGTERM and holds the pipe; the
# grandchild writes its pid into {dir}/gc.pid (one line per run).
TRAPPER = ("exec:sh -c 'echo $$ >> {dir}/gc.pid; trap \"\" TERM; echo hi; "
           "while :; do sleep 0.1; done' & wait")


def read_pids(d):
    try:
        with open(d.path("gc.pid")) as f:
            return [int(x) for x in f.read().split()]
    except FileNotFoundError:
        return []


def wait_pids(d, n, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(read_pids(d)) < n:
        time.sleep(0.05)
    return read_pids(d)


class T10KillTheWholeGroup(unittest.TestCase):
    """#10: the SIGKILL that follows SIGTERM by 2 s was cancelled once the
    command's leader was reaped, so a member ignoring SIGTERM outlived the
    daemon, or kept on_idle = restart from ever restarting."""

    def test_stop_kills_a_grandchild_that_traps_term(self):
        with Daemon({"source": {"input": TRAPPER}}) as d:
            pids = wait_pids(d, 1, slow(5))
            self.assertEqual(len(pids), 1)
            t0 = time.monotonic()
            d.send_signal(signal.SIGTERM)
            d.wait_exit(slow(10))
            self.assertTrue(wait_gone(pids[0], slow(1)),
                            "the grandchild outlived the daemon")
            self.assertGreater(time.monotonic() - t0, 1.5)
            d.wait_log(r"ignored SIGTERM; sending SIGKILL", 1)

    def test_idle_restart_with_a_grandchild_holding_the_pipe(self):
        conf = {"source": {"input": TRAPPER, "idle_timeout": "300ms",
                           "on_idle": "restart", "restart_delay": "100ms"}}
        with Daemon(conf) as d:
            pids = wait_pids(d, 2, slow(10))
            self.assertEqual(len(pids), 2, "the command was never restarted")
            self.assertTrue(wait_gone(pids[0], slow(1)))


class T12PlainMakeBuildsEverything(unittest.TestCase):
    """#12: a plain `make` built only build/pipecastd; `all` is the default
    goal now."""

    def test_default_goal_builds_pipecastctl(self):
        p = subprocess.run(["make", "-n", "-B", "--no-print-directory"], cwd=REPO,
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout, r"-o build/pipecastctl\b")
        self.assertRegex(p.stdout, r"-o build/pipecastd\b")


class TAlsoConfigErrors(unittest.TestCase):
    """Also: a duplicate key was silently last-wins; a huge bare number was
    an invalid duration rather than out of range."""

    def test_duplicate_key_refused(self):
        rc, err = check_config("[clients]\nmax_clients = 5\nmax_clients = 7\n")
        self.assertEqual(rc, 1, err)
        self.assertIn(":3: [clients] max_clients: given twice (first at line 2)", err)

    def test_huge_number_out_of_range(self):
        rc, err = check_config("[daemon]\nshutdown_timeout = 9999999999999999999\n")
        self.assertEqual(rc, 1, err)
        self.assertIn("shutdown_timeout: 9999999999999999999 out of range", err)


if __name__ == "__main__":
    unittest.main()
