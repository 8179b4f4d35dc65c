#!/usr/bin/env python3
"""pipecastctl against the REAL daemon: every command with -s and with
$PIPECAST_SOCKET, --json, exit statuses, and watch while records flow.
The binary is $PIPECASTCTL, else the pipecastctl next to $PIPECASTD, else
build/pipecastctl. Run alone: python3 tests/integration/test_ctl.py
"""

import json
import os
import re
import select
import socket
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pctest import (Daemon, Producer, Reader, StatsConn, ctl_binary, parse_kv,  # noqa: E402
                    parse_table, records, tcp_client, wait_eof)

TIMEOUT = 20
TIMER_KINDS = ["client", "stats", "source_idle", "source_restart", "heartbeat",
               "accept_pause", "shutdown", "watchdog", "status", "http",
               "upstream"]


class Ctl(unittest.TestCase):
    def setUp(self):
        self.exe = ctl_binary()
        self.assertTrue(os.access(self.exe, os.X_OK), "%s not built" % self.exe)
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("PIPECAST_SOCKET", "XDG_RUNTIME_DIR")}

    def ctl(self, *args, sock=None, env_sock=None, timeout=TIMEOUT):
        env = dict(self.env)
        if env_sock:
            env["PIPECAST_SOCKET"] = env_sock
        argv = [self.exe] + (["-s", sock] if sock else []) + list(args)
        return subprocess.run(argv, env=env, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=timeout)

    def ok(self, *args, **kw):
        r = self.ctl(*args, **kw)
        self.assertEqual(r.returncode, 0, "pipecastctl %s: %s" % (" ".join(args), r.stderr))
        self.assertEqual(r.stderr, "")
        self.assertTrue(r.stdout.endswith("\n"))
        self.assertFalse(r.stdout.endswith("\n\n"), "final empty line printed")
        return r.stdout


class Commands(Ctl):
    def test_every_command_with_option_and_env(self):
        conf = {"source": {"input": "stdin"}, "clients": {"idle_timeout": "30s"}}
        with Daemon(conf) as d:
            sp = d.path("stats.sock")
            c = tcp_client(d.port)
            cid = d.client_id(c)
            d.write_stdin(records(0, 5))
            self.assertEqual(len(c.recv(45, socket.MSG_WAITALL)), 45)
            for how in ("option", "env"):
                with self.subTest(how=how):
                    kw = {"sock": sp} if how == "option" else {"env_sock": sp}
                    info = parse_kv(self.ok("info", **kw))
                    self.assertEqual(list(info)[:3], ["version", "pid", "uptime_seconds"])
                    self.assertEqual(info["pid"], str(d.pid))
                    self.assertEqual(info["source_records_total"], "5")
                    self.assertEqual(info["clients_connected"], "1")
                    head, rows = parse_table(self.ok("clients", **kw))
                    self.assertEqual(head, ["id", "addr", "age_s", "idle_s", "lag_bytes",
                                            "sent_bytes", "skipped_bytes", "state", "proto"])
                    self.assertEqual([(int(r[0]), r[1], r[5]) for r in rows],
                                     [(cid, "%s:%d" % c.getsockname(), "45")])
                    head, rows = parse_table(self.ok("timers", **kw))
                    self.assertEqual(head[0], "kind")
                    self.assertEqual([r[0] for r in rows], TIMER_KINDS)
                    self.assertEqual(rows[0][1], "1")
                    head, rows = parse_table(self.ok("closed", **kw))
                    self.assertEqual(head, ["id", "addr", "age_s", "sent_bytes", "reason"])
                    m = self.ok("metrics", **kw)
                    self.assertRegex(m, r'(?m)^pipecast_build_info\{version="[^"]+"\} 1$')
                    self.assertRegex(m, r"(?m)^pipecast_source_records_total 5$")
                    p = subprocess.run(["promtool", "check", "metrics"], input=m.encode(),
                                       capture_output=True, timeout=30)
                    self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
                    self.assertEqual(self.ok("reload", **kw), "ok\n")
                    for what, typ in (("info", dict), ("timers", dict),
                                      ("clients", list), ("closed", list)):
                        out = self.ok("--json", what, **kw)
                        self.assertEqual(out.count("\n"), 1)
                        self.assertIsInstance(json.loads(out), typ, what)
                    j = json.loads(self.ok("--json", "clients", **kw))
                    self.assertEqual([x["id"] for x in j], [cid])
                    self.assertEqual(json.loads(self.ok("--json", "info", **kw))["pid"], d.pid)
            # kill, then the client is gone and listed as killed
            self.assertEqual(self.ok("kill", str(cid), sock=sp), "ok\n")
            self.assertIsNotNone(wait_eof(c, 2))
            self.assertEqual(d.closed_reason(cid), "kill")
            head, rows = parse_table(self.ok("closed", env_sock=sp))
            self.assertEqual([(int(r[0]), r[4]) for r in rows], [(cid, "kill")])
            j = json.loads(self.ok("--json", "closed", sock=sp))
            self.assertEqual([(x["id"], x["reason"]) for x in j], [(cid, "kill")])
            r = self.ctl("kill", "999", sock=sp)
            self.assertEqual(r.returncode, 1)
            self.assertEqual(r.stdout, "")
            self.assertIn("error: no such client", r.stderr)
            r = self.ctl("kill", str(cid), env_sock=sp)
            self.assertEqual(r.returncode, 1)
            self.assertIn("no such client", r.stderr)
            # -s beats the environment
            self.ok("info", sock=sp, env_sock=d.path("nothing.sock"))
            c.close()

    def test_reload_error_exits_1(self):
        with Daemon({"source": {"input": "stdin"}}) as d:
            with open(d.conf_path, "a") as f:
                f.write("[bogus_section]\n")
            r = self.ctl("reload", sock=d.path("stats.sock"))
            self.assertEqual(r.returncode, 1)
            self.assertIn(d.conf_path + ":", r.stderr)
            self.assertTrue(d.alive())


class Unreachable(Ctl):
    def test_no_daemon_exits_1_naming_the_path(self):
        with Daemon({"source": {"input": "stdin"}}) as d:
            stale = d.path("stale.sock")
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind(stale)
            s.close()                      # the file stays, nobody listens
            missing = d.path("missing.sock")
            for path in (stale, missing):
                for how in ("option", "env"):
                    with self.subTest(path=os.path.basename(path), how=how):
                        kw = {"sock": path} if how == "option" else {"env_sock": path}
                        r = self.ctl("info", **kw)
                        self.assertEqual(r.returncode, 1)
                        self.assertEqual(r.stdout, "")
                        self.assertIn(path, r.stderr)
                        self.assertTrue(r.stderr.startswith("pipecastctl: "))

    def test_usage_errors_exit_2(self):
        with Daemon({"source": {"input": "stdin"}}) as d:
            sp = d.path("stats.sock")
            for args in (["bogus"], ["kill"], ["kill", "abc"], ["info", "extra"],
                         ["--json", "metrics"], ["--json", "reload"], []):
                with self.subTest(args=args):
                    r = self.ctl(*args, sock=sp)
                    self.assertEqual(r.returncode, 2, r.stderr)
                    self.assertEqual(r.stdout, "")
                    self.assertTrue(r.stderr.startswith("pipecastctl: "), r.stderr)
            # and the daemon saw nothing it had to refuse
            with StatsConn(sp) as st:
                self.assertEqual(st.info()["clients_closed_kill_total"], 0)


class Watch(Ctl):
    def test_three_frames_with_rates(self):
        with Daemon({"source": {"input": "stdin"}}) as d:
            c = tcp_client(d.port)
            d.client_id(c)
            rd = Reader()
            rd.add(c, "c")
            rd.start()
            prod = Producer(d.stdin.fileno(), batch=200, interval=0.01, close=False)
            prod.start()
            try:
                r = self.ctl("watch", "-i", "0.2", "-n", "3", sock=d.path("stats.sock"))
            finally:
                prod.finish()
                rd.stop()
            self.assertEqual(r.returncode, 0, r.stderr)
            frames = r.stdout.rstrip("\n").split("\n\n")
            self.assertEqual(len(frames), 3, r.stdout)
            self.assertIn("pid %d" % d.pid, frames[0])
            self.assertRegex(frames[0], r"records  -/s")
            for f in frames[1:]:
                m = re.search(r"records  ([0-9.]+)(k?)/s  source ([0-9.]+ (B|KiB|MiB))/s", f)
                self.assertTrue(m, f)
                rate = float(m.group(1)) * (1000 if m.group(2) else 1)
                self.assertGreater(rate, 0, f)
                self.assertRegex(f, r"clients  1 connected")
                self.assertNotRegex(f, r" -/s")
            c.close()


class AllocationsByOwner(Ctl):
    """The headline property, checked with pipecastctl alone: each call
    makes its own stats connection (counted for the stats), while streaming
    records to connected clients allocates nothing."""

    def test_streaming_allocates_nothing_seen_by_separate_calls(self):
        with Daemon({"source": {"input": "stdin"}}) as d:
            cs = [tcp_client(d.port) for _ in range(5)]
            d.wait_opens(5)
            rd = Reader()
            for i, c in enumerate(cs):
                rd.add(c, "c%d" % i)
            rd.start()
            prod = Producer(d.stdin.fileno(), batch=500, interval=0.01, close=False)
            prod.start()
            try:
                seen = []
                for _ in range(4):
                    r = self.ctl("info", sock=d.path("stats.sock"))
                    self.assertEqual(r.returncode, 0, r.stderr)
                    seen.append({k: int(v) for k, v in parse_kv(r.stdout).items()
                                 if v.isdigit()})
                    time.sleep(0.3)
            finally:
                prod.finish()
                rd.stop()
            self.assertGreater(seen[-1]["source_records_total"],
                               seen[0]["source_records_total"])
            for i in seen:
                self.assertEqual(i["allocations_total"], i["allocations_clients_total"] +
                                 i["allocations_stats_total"] + i["allocations_other_total"])
            self.assertEqual({i["allocations_clients_total"] for i in seen},
                             {seen[0]["allocations_clients_total"]})
            self.assertEqual({i["allocations_other_total"] for i in seen},
                             {seen[0]["allocations_other_total"]})
            self.assertGreater(seen[-1]["allocations_stats_total"],
                               seen[0]["allocations_stats_total"])
            for c in cs:
                c.close()


def in_pty(argv, env, key=None, key_after=b"", timeout=10.0):
    """Runs ARGV on a pseudo-terminal; sends KEY once the output holds
    KEY_AFTER. Returns (exit status or None on timeout, output)."""
    master, slave = os.openpty()
    p = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                         start_new_session=True)
    os.close(slave)
    out, sent = b"", False
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            r, _, _ = select.select([master], [], [], 0.1)
            if r:
                try:
                    chunk = os.read(master, 65536)
                except OSError:          # EIO: the program closed the terminal
                    chunk = b""
                if not chunk and p.poll() is not None:
                    break
                out += chunk
            if key and not sent and key_after in out:
                os.write(master, key)
                sent = True
            if p.poll() is not None and not r:
                break
        return p.poll(), out.decode("utf-8", "replace")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(5)
        os.close(master)


class Terminal(Ctl):
    def test_clients_aligned_on_a_terminal_only(self):
        conf = {"source": {"input": "stdin"},
                "clients": {"listen": ["tcp:127.0.0.1:{port}", "unix:{dir}/c.sock"]}}
        with Daemon(conf) as d:
            c = tcp_client(d.port)
            u = socket.socket(socket.AF_UNIX)
            u.connect(d.path("c.sock"))
            d.wait_opens(2)
            rc, out = in_pty([self.exe, "-s", d.path("stats.sock"), "clients"], self.env)
            self.assertEqual(rc, 0, out)
            lines = [ln for ln in out.replace("\r", "").split("\n") if ln]
            self.assertEqual(len(lines), 3, out)
            col = lines[0].index("age_s")
            self.assertGreater(col, len("id addr "))       # padded
            for ln in lines[1:]:
                self.assertEqual(ln[col - 1], " ", ln)
                self.assertNotEqual(ln[col], " ", ln)
            piped = self.ctl("clients", sock=d.path("stats.sock"))
            self.assertRegex(piped.stdout, r"^id addr age_s idle_s ")
            c.close()
            u.close()

    def test_watch_quits_on_q_and_says_so(self):
        with Daemon({"source": {"input": "stdin"}}) as d:
            t0 = time.monotonic()
            rc, out = in_pty([self.exe, "-s", d.path("stats.sock"), "watch", "-i", "0.2"],
                             self.env, key=b"q", key_after=b"q or Ctrl-C quits")
            self.assertIn("q or Ctrl-C quits", out)
            self.assertEqual(rc, 0, out)
            self.assertLess(time.monotonic() - t0, 8)


if __name__ == "__main__":
    unittest.main()
