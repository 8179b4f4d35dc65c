#!/usr/bin/env python3
"""Reload (SIGHUP and the `reload` stats command) against the real daemon:
what applies at once (to existing connections too), what needs a restart,
and that a failed reload changes nothing.
Run alone: python3 tests/integration/test_reload.py
"""

import os
import re
import signal
import socket
import stat as st_mod
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pctest  # noqa: E402
from pctest import (Daemon, Producer, StatsConn, ctl_binary, parse_seq, parse_table,  # noqa: E402
                    recv_for, records, tcp_client, wait_eof)


def base(**clients):
    c = {"listen": "tcp:127.0.0.1:{port}", "idle_timeout": "5s"}
    c.update(clients)
    return {"source": {"input": "stdin"}, "clients": c,
            "stats": {"socket": "{dir}/stats.sock"},
            "daemon": {"log_level": "info"}}


def rewrite(d, conf):
    """Replace the daemon's configuration file (dict or text)."""
    text = pctest._render(conf, d.subst)
    tmp = d.conf_path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, d.conf_path)
    d.conf_text = text


def sighup(d, ok=True, timeout=5.0):
    """Send SIGHUP and wait for the outcome in the log."""
    start = len(d.log_lines())
    d.send_signal(signal.SIGHUP)
    if ok:
        d.wait_log(r"\breloaded\b", timeout, start=start)
    else:
        d.wait_log(r"\breload failed\b", timeout, start=start)
    return start


def refused(port):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=2)
    except ConnectionRefusedError:
        return True
    s.close()
    return False


def flowing(test, sock, prod, seconds=0.5):
    """Assert SOCK keeps receiving whole records while PROD writes."""
    data, eof = recv_for(sock, seconds)
    test.assertFalse(eof, "client closed")
    test.assertGreater(len(data), 0, "client stopped receiving")
    return data


class IdleTimeoutReload(unittest.TestCase):
    def shorten(self, via_command):
        with Daemon(base()) as d, StatsConn(d.path("stats.sock")) as st:
            c = tcp_client(d.port)
            cid = d.client_id(c)
            st.info()
            before = st.info()
            rewrite(d, base(idle_timeout="300ms"))
            t0 = time.monotonic()
            if via_command:
                self.assertEqual(st.cmd("reload"), "ok\n")
            else:
                sighup(d)
            t = wait_eof(c, 3)
            self.assertIsNotNone(t, "client not closed after idle_timeout went to 300ms")
            self.assertLess(t - t0, 1.0)
            self.assertEqual(d.closed_reason(cid), "idle")
            after = st.info()
            self.assertEqual(after["timer_allocations_total"], before["timer_allocations_total"],
                             "the reload allocated timers")
            head, rows = parse_table(st.cmd("show closed"))
            self.assertEqual([(int(r[0]), r[4]) for r in rows], [(cid, "idle")])
            self.assertEqual(after["clients_closed_idle_total"], 1)
            self.assertEqual(after["timers_client_live"], 0)
            # a new client gets the new value too
            c2 = tcp_client(d.port)
            t0 = time.monotonic()
            t = wait_eof(c2, 3)
            self.assertIsNotNone(t)
            self.assertLess(t - t0, 1.0)
            c.close()
            c2.close()

    def test_sighup(self):
        self.shorten(via_command=False)

    def test_reload_command(self):
        self.shorten(via_command=True)


class BrokenFile(unittest.TestCase):
    def test_syntax_error_changes_nothing(self):
        with Daemon(base()) as d, StatsConn(d.path("stats.sock")) as st:
            c = tcp_client(d.port)
            cid = d.client_id(c)
            prod = Producer(d.stdin.fileno(), batch=50, interval=0.02, close=False)
            prod.start()
            try:
                flowing(self, c, prod, 0.3)
                good = open(d.conf_path).read()
                broken = good.replace("idle_timeout = 5s", "idle_timeout = 300ms") + \
                    "[clients\nthis is no ini line\n"
                with open(d.conf_path, "w") as f:
                    f.write(broken)
                nlines = broken.count("\n")
                r = st.cmd("reload")
                self.assertRegex(r, r"^error: .*%s:\d+" % d.conf_path.replace(".", r"\."))
                line = int(r.split(d.conf_path + ":")[1].split(":")[0])
                self.assertIn(line, (nlines - 1, nlines), r)
                self.assertEqual(r.count("\n"), 1)
                # the 300ms above did not apply: the client keeps receiving
                # (records are activity anyway, so also check the client's timer)
                flowing(self, c, prod, 0.8)
                head, rows = parse_table(st.cmd("show timers"))
                due = float(dict((x[0], x[5]) for x in rows)["client"])
                self.assertGreater(due, 1.0, "idle_timeout from the broken file applied")
                start = sighup(d, ok=False)
                d.wait_log(r"\berror\b", 2, start=start)
                # The cause is logged once, not again with "reload failed".
                time.sleep(0.3)
                cause = r"%s:%d:" % (re.escape(d.conf_path), line)
                self.assertEqual(len([ln for ln in d.log_lines()[start:]
                                      if re.search(cause, ln)]), 1, d.log_text())
                flowing(self, c, prod, 0.8)
                self.assertTrue(d.alive())
            finally:
                prod.finish()
            # stop the records: the old 5 s idle_timeout still holds
            data, eof = recv_for(c, 1.2)
            self.assertFalse(eof, "closed as if idle_timeout were 300ms")
            self.assertEqual(st.info()["clients_connected"], 1)
            self.assertEqual(d.count_log(r"\bclient %d closed\b" % cid), 0)
            c.close()


class Listeners(unittest.TestCase):
    def test_add_and_remove_listener(self):
        with Daemon(base()) as d, StatsConn(d.path("stats.sock")) as st:
            p1, p2 = d.port, d.port2
            self.assertTrue(refused(p2))
            c1 = tcp_client(p1)
            d.client_id(c1)
            # add a listener
            rewrite(d, base(listen=["tcp:127.0.0.1:{port}", "tcp:127.0.0.1:{port2}"]))
            self.assertEqual(st.cmd("reload"), "ok\n")
            c2 = tcp_client(p2)
            d.client_id(c2)
            self.assertEqual(st.info()["clients_connected"], 2)
            # remove the first: its client stays and keeps receiving
            rewrite(d, base(listen="tcp:127.0.0.1:{port2}"))
            sighup(d)
            self.assertTrue(refused(p1), "removed listener still accepts")
            c3 = tcp_client(p2)
            d.client_id(c3)
            d.write_stdin(records(0, 100))
            for c in (c1, c2, c3):
                got = c.recv(900, socket.MSG_WAITALL)
                self.assertEqual(parse_seq(got), list(range(100)))
            self.assertEqual(st.info()["clients_connected"], 3)
            for c in (c1, c2, c3):
                c.close()

    def test_unbindable_listener_changes_nothing(self):
        with Daemon(base()) as d, StatsConn(d.path("stats.sock")) as st:
            blocker = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            blocker.bind(("127.0.0.1", d.port2))
            blocker.listen(1)
            try:
                c = tcp_client(d.port)
                d.client_id(c)
                before = st.info()
                rewrite(d, base(listen=["tcp:127.0.0.1:{port}", "tcp:127.0.0.1:{port2}"],
                                idle_timeout="300ms", max_clients="1"))
                r = st.cmd("reload")
                self.assertRegex(r, r"^error: ")
                sighup(d, ok=False)
                data, eof = recv_for(c, 1.2)
                self.assertFalse(eof, "idle_timeout of the failed reload applied")
                # max_clients=1 did not apply either
                c2 = tcp_client(d.port)
                d.client_id(c2)
                self.assertEqual(st.info()["clients_connected"], 2)
                after = st.info()
                self.assertEqual(after["timer_allocations_total"],
                                 before["timer_allocations_total"] + 1)  # c2's timer
                c.close()
                c2.close()
            finally:
                blocker.close()


class OtherKeys(unittest.TestCase):
    def test_restart_only_key_kept(self):
        with Daemon(base(buffer="4MiB")) as d, StatsConn(d.path("stats.sock")) as st:
            self.assertEqual(st.info()["ring_size_bytes"], 4 << 20)
            rewrite(d, base(buffer="8MiB", idle_timeout="300ms"))
            start = len(d.log_lines())
            self.assertEqual(st.cmd("reload"),
                             "ok\nwarning: buffer needs a restart; kept 4MiB\n")
            d.wait_log(r"\[clients\] buffer\b.*restart", 2, start=start)
            # pipecastctl prints the note and still succeeds.
            p = subprocess.run([ctl_binary(), "-s", d.path("stats.sock"), "reload"],
                               capture_output=True, text=True, timeout=10)
            self.assertEqual((p.returncode, p.stdout),
                             (0, "ok\nwarning: buffer needs a restart; kept 4MiB\n"))
            self.assertEqual(st.info()["ring_size_bytes"], 4 << 20)
            # the rest of the file did apply
            c = tcp_client(d.port)
            t0 = time.monotonic()
            t = wait_eof(c, 3)
            self.assertIsNotNone(t)
            self.assertLess(t - t0, 1.0)
            c.close()

    def test_stats_keys_apply_to_existing_connections(self):
        conf = base()
        conf["stats"]["mode"] = "0660"
        with Daemon(conf) as d:
            sp = d.path("stats.sock")
            self.assertEqual(st_mod.S_IMODE(os.lstat(sp).st_mode), 0o660)
            quiet = StatsConn(sp)
            quiet.cmd("help")
            conf["stats"]["mode"] = "0600"
            conf["stats"]["idle_timeout"] = "200ms"
            rewrite(d, conf)
            t0 = time.monotonic()
            sighup(d)
            self.assertEqual(st_mod.S_IMODE(os.lstat(sp).st_mode), 0o600)
            t = quiet.wait_eof(3)
            self.assertIsNotNone(t, "existing stats connection kept the old idle_timeout")
            self.assertLess(t - t0, 1.0)
            quiet.close()

    def test_max_clients_lowered(self):
        with Daemon(base(max_clients="10")) as d, StatsConn(d.path("stats.sock")) as st:
            c1 = tcp_client(d.port)
            d.client_id(c1)
            c2 = tcp_client(d.port)
            d.client_id(c2)
            rewrite(d, base(max_clients="2"))
            self.assertEqual(st.cmd("reload"), "ok\n")
            c3 = tcp_client(d.port)
            self.assertIsNotNone(wait_eof(c3, 2), "connection beyond max_clients not closed")
            d.wait_log(r"\bclient \d+ closed \S+ reason=rejected")
            info = st.info()
            self.assertEqual(info["clients_rejected_total"], 1)
            self.assertEqual(info["clients_connected"], 2)
            # both clients beyond the new limit? none: lowering rejects the next only
            data, eof = recv_for(c1, 0.2)
            self.assertFalse(eof)
            for c in (c1, c2, c3):
                c.close()

    def test_log_level_debug(self):
        conf = base()
        conf["stats"]["max_connections"] = "1"
        with Daemon(conf) as d, StatsConn(d.path("stats.sock")) as st:
            def extra_conn():
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(d.path("stats.sock"))
                self.assertIsNotNone(wait_eof(s, 2))
                s.close()
                st.cmd("help")   # the loop has surely handled the accept
            extra_conn()
            self.assertEqual(d.count_log(r"\bdebug: "), 0)
            conf["daemon"]["log_level"] = "debug"
            rewrite(d, conf)
            sighup(d)
            extra_conn()
            d.wait_log(r"\bdebug: ", 2)


class MoreKeys(unittest.TestCase):
    def test_overrides_survive_reload(self):
        with Daemon(base(), args=["-o", "clients.idle_timeout=300ms"]) as d, \
                StatsConn(d.path("stats.sock")) as st:
            self.assertEqual(st.cmd("reload"), "ok\n")
            sighup(d)
            c = tcp_client(d.port)
            t0 = time.monotonic()
            t = wait_eof(c, 3)
            self.assertIsNotNone(t, "-o clients.idle_timeout lost by the reload")
            self.assertLess(t - t0, 1.0)
            c.close()

    def test_heartbeat_and_source_idle_on_without_new_timers(self):
        with Daemon(base()) as d, StatsConn(d.path("stats.sock")) as st:
            c = tcp_client(d.port)
            d.client_id(c)
            st.info()
            before = st.info()
            self.assertEqual(before["timers_live"], 2)      # client + this connection
            conf = base()
            conf["clients"]["heartbeat"] = "100ms"
            conf["source"]["idle_timeout"] = "5s"
            rewrite(d, conf)
            self.assertEqual(st.cmd("reload"), "ok\n")
            data, eof = recv_for(c, 0.65)
            self.assertFalse(eof)
            self.assertGreaterEqual(data.count(b"\n"), 3, data)
            self.assertEqual(data, b"\n" * len(data))
            after = st.info()
            self.assertEqual(after["timer_allocations_total"], before["timer_allocations_total"])
            self.assertGreaterEqual(after["heartbeats_total"], 3)
            head, rows = parse_table(st.cmd("show timers"))
            live = {r[0]: int(r[1]) for r in rows}
            self.assertEqual(live["heartbeat"], 1)
            self.assertEqual(live["source_idle"], 1)
            self.assertEqual(sum(live.values()), after["timers_live"])
            self.assertEqual(after["timers_live"], 4)
            c.close()

    def test_client_and_stats_timers_follow_idle_timeouts(self):
        with Daemon(base()) as d, StatsConn(d.path("stats.sock")) as st:
            cs = [tcp_client(d.port) for _ in range(3)]
            d.wait_opens(3)
            st.info()
            i0 = st.info()
            self.assertEqual((i0["timers_client_live"], i0["timers_live"]), (3, 4))
            rewrite(d, base(idle_timeout="0"))
            self.assertEqual(st.cmd("reload"), "ok\n")
            i1 = st.info()
            # only send_timeout left: armed only while output is pending
            self.assertEqual((i1["timers_client_live"], i1["timers_live"]), (0, 1))
            rewrite(d, base(idle_timeout="7s"))
            self.assertEqual(st.cmd("reload"), "ok\n")
            i2 = st.info()
            self.assertEqual((i2["timers_client_live"], i2["timers_live"]), (3, 4))
            due = float(parse_table(st.cmd("show timers"))[1][0][5])
            self.assertTrue(5.0 < due <= 7.0, due)
            conf = base(idle_timeout="7s")
            conf["stats"]["idle_timeout"] = "0"
            rewrite(d, conf)
            self.assertEqual(st.cmd("reload"), "ok\n")
            i3 = st.info()
            self.assertEqual((i3["timers_client_live"], i3["timers_live"]), (3, 3))
            for i in (i1, i2, i3):
                self.assertEqual(i["timer_allocations_total"], i0["timer_allocations_total"])
            for c in cs:
                c.close()

    def test_stats_socket_needs_restart(self):
        with Daemon(base()) as d, StatsConn(d.path("stats.sock")) as st:
            conf = base()
            conf["stats"]["socket"] = "{dir}/other.sock"
            rewrite(d, conf)
            start = len(d.log_lines())
            self.assertEqual(st.cmd("reload"), "ok\nwarning: socket needs a restart; "
                             "kept %s\n" % d.path("stats.sock"))
            d.wait_log(r"\[stats\] socket\b.*restart", 2, start=start)
            self.assertFalse(os.path.lexists(d.path("other.sock")))
            with StatsConn(d.path("stats.sock")) as st2:
                self.assertTrue(st2.cmd("help").startswith("show info"))

    def test_unix_listener_mode_removed_and_added(self):
        conf = base(listen=["tcp:127.0.0.1:{port}", "unix:{dir}/c.sock"], unix_mode="0666")
        with Daemon(conf) as d, StatsConn(d.path("stats.sock")) as st:
            path = d.path("c.sock")
            u = pctest.unix_client(path)
            d.wait_opens(1)
            self.assertEqual(st_mod.S_IMODE(os.lstat(path).st_mode), 0o666)
            rewrite(d, base(listen=["tcp:127.0.0.1:{port}", "unix:{dir}/c.sock"],
                            unix_mode="0600"))
            self.assertEqual(st.cmd("reload"), "ok\n")
            self.assertEqual(st_mod.S_IMODE(os.lstat(path).st_mode), 0o600)
            rewrite(d, base())
            self.assertEqual(st.cmd("reload"), "ok\n")
            self.assertFalse(os.path.lexists(path), "removed unix listener's file left behind")
            d.write_stdin(records(0, 3))
            self.assertEqual(parse_seq(u.recv(27, socket.MSG_WAITALL)), [0, 1, 2])
            rewrite(d, conf)
            self.assertEqual(st.cmd("reload"), "ok\n")
            u2 = pctest.unix_client(path)
            d.wait_opens(2)
            self.assertEqual(st.info()["clients_connected"], 2)
            u.close()
            u2.close()


if __name__ == "__main__":
    unittest.main()
