#!/usr/bin/env python3
"""The stats socket against the real daemon: the seed experiment (flat timers,
allocations and RSS under 2,000,000 records), show metrics through promtool,
every command and error reply, the connection rules, and who may do what.
Run alone: python3 tests/integration/test_stats.py
"""

import json
import os
import re
import selectors
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import unittest
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pctest import (Daemon, StatsConn, ctl_binary, hard_close, open_fifo_writer,  # noqa: E402
                    parse_kv, recv_for,
                    parse_table, records, rss_bytes, tcp_client, unix_client,
                    wait_eof, write_all)

TIMER_KINDS = ["client", "stats", "source_idle", "source_restart", "heartbeat",
               "accept_pause", "shutdown", "watchdog", "status", "http",
               "upstream"]
TIMERS_HEADER = ["kind", "live", "allocations_total", "rearms_total",
                 "expirations_total", "next_due_s"]
CLIENTS_HEADER = ["id", "addr", "age_s", "idle_s", "lag_bytes", "sent_bytes",
                  "skipped_bytes", "state", "proto"]
CLOSED_HEADER = ["id", "addr", "age_s", "sent_bytes", "reason"]
INFO_NAMES = """version pid uptime_seconds
source_state source_records_total source_bytes_total source_idle_seconds
source_restarts_total source_long_lines_total heartbeats_total
clients_connected clients_accepted_total clients_rejected_total
clients_closed_idle_total clients_closed_send_timeout_total
clients_dropped_overflow_total clients_closed_peer_total clients_closed_error_total
clients_closed_kill_total clients_closed_shutdown_total clients_skipped_bytes_total
bytes_sent_total ring_size_bytes ring_used_bytes
timers_live timers_client_live timer_allocations_total timer_rearms_total
timer_expirations_total
allocations_live allocations_total memory_rss_bytes loop_iterations_total
allocations_clients_total allocations_stats_total allocations_other_total
source_fifo_refused_total log_lines_dropped_total
clients_closed_denied_total clients_closed_auth_timeout_total
access_refused_address_total access_refused_per_ip_total access_refused_token_total
access_refused_uid_total access_refused_auth_timeout_total
stream_epoch stream_first_seq stream_last_seq
http_requests_2xx_total http_requests_3xx_total http_requests_4xx_total
http_requests_5xx_total resumes_total resume_gaps_total""".split()


def check_reply_shape(tc, raw):
    """pipecastd(8): every reply ends with one empty line and has no other."""
    tc.assertTrue(raw.endswith("\n\n"), "reply does not end with an empty line: %r" % raw[-80:])
    body = raw[:-1]
    tc.assertFalse(body.startswith("\n"), "reply starts with an empty line: %r" % raw[:80])
    tc.assertNotIn("\n\n", body, "reply body contains an empty line")



class Sink:
    """Drains many sockets in one thread, counting bytes and a crc32 of each
    stream (the seed test moves 360 MB; keeping it all would not be sane)."""

    def __init__(self):
        self.sel = selectors.DefaultSelector()
        self.n = {}
        self.crc = {}
        self.eof = {}
        self.lock = threading.Lock()
        self._stop = threading.Event()
        self._th = threading.Thread(target=self._run, daemon=True)

    def add(self, sock, name):
        sock.setblocking(False)
        self.n[name] = 0
        self.crc[name] = 0
        self.eof[name] = False
        self.sel.register(sock, selectors.EVENT_READ, name)

    def start(self):
        self._th.start()

    def _run(self):
        while not self._stop.is_set():
            for key, _ in self.sel.select(0.05):
                name = key.data
                try:
                    chunk = key.fileobj.recv(1 << 20)
                except BlockingIOError:
                    continue
                except OSError:
                    chunk = b""
                with self.lock:
                    if chunk:
                        self.n[name] += len(chunk)
                        self.crc[name] = zlib.crc32(chunk, self.crc[name])
                    else:
                        self.eof[name] = True
                if not chunk:
                    self.sel.unregister(key.fileobj)

    def wait_all(self, nbytes, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if all(v >= nbytes or self.eof[k] for k, v in self.n.items()):
                    return True
            time.sleep(0.02)
        return False

    def stop(self):
        self._stop.set()
        self._th.join(5)
        self.sel.close()


class SeedExperiment(unittest.TestCase):
    """The seed's failure, as a test: records must not cost timers or memory."""

    N = 2000000

    def test_two_million_records_leave_timers_allocations_and_rss_flat(self):
        conf = {"source": {"input": "fifo:{dir}/in.fifo"},
                "clients": {"buffer": "64MiB", "idle_timeout": "30s",
                            "send_timeout": "30s"}}
        data = records(1, self.N + 1)
        warm = records(0, 1)
        with Daemon(conf) as d:
            socks = [tcp_client(d.port) for _ in range(20)]
            d.wait_opens(20)
            sink = Sink()
            for i, s in enumerate(socks):
                sink.add(s, i)
            sink.start()
            fd = open_fifo_writer(d.path("in.fifo"))
            try:
                # One warm-up record: the writer's arrival is behind us.
                write_all(fd, warm)
                self.assertTrue(sink.wait_all(len(warm), 10), "warm-up record not delivered")
                st = StatsConn(d.path("stats.sock"), timeout=20)
                head, rows = parse_table(st.cmd("show timers"))
                i0 = st.info()
                i1 = st.info()
                rss1 = rss_bytes(d.pid)
                per_query = i1["allocations_total"] - i0["allocations_total"]
                per_query_live = i1["allocations_live"] - i0["allocations_live"]
                self.assertEqual(i1["timer_allocations_total"], i0["timer_allocations_total"],
                                 "a show info allocated a timer")
                self.assertEqual(i1["clients_connected"], 20)
                self.assertEqual(i1["timers_client_live"], 20)

                t0 = time.monotonic()
                th = threading.Thread(target=write_all, args=(fd, data, 1 << 20), daemon=True)
                th.start()
                th.join(120)
                self.assertFalse(th.is_alive(), "daemon did not read the FIFO")
                total = len(warm) + len(data)
                self.assertTrue(sink.wait_all(total, 120), "clients did not get every byte")
                elapsed = time.monotonic() - t0

                i2 = st.info()
                rss2 = rss_bytes(d.pid)
                head2, rows2 = parse_table(st.cmd("show timers"))
            finally:
                os.close(fd)
            sink.stop()

            self.assertEqual(i2["source_records_total"] - i1["source_records_total"], self.N)
            self.assertEqual(i2["source_bytes_total"] - i1["source_bytes_total"], len(data))
            self.assertEqual(i2["clients_connected"], 20)
            self.assertEqual(i2["timers_client_live"], 20)
            self.assertEqual(i2["clients_connected"], i2["timers_client_live"])
            # Live timers: 20 client timers and this stats connection's own;
            # nothing else is armed with this configuration.
            self.assertEqual(i2["timers_live"], i2["timers_client_live"] + 1)
            self.assertEqual(head2, TIMERS_HEADER)
            live = {r[0]: int(r[1]) for r in rows2}
            self.assertEqual(sum(live.values()), i2["timers_live"])
            self.assertEqual(live["client"], 20)
            self.assertEqual(live["stats"], 1)
            self.assertEqual(i2["timer_allocations_total"], i1["timer_allocations_total"],
                             "records allocated timers")
            self.assertEqual(i2["allocations_total"] - i1["allocations_total"], per_query,
                             "records allocated memory (per show info: %d)" % per_query)
            self.assertEqual(i2["allocations_live"] - i1["allocations_live"], per_query_live)
            self.assertLess(rss2 - rss1, 2 << 20, "RSS grew by %d bytes" % (rss2 - rss1))
            want = zlib.crc32(warm + data)
            for i in range(20):
                self.assertEqual(sink.n[i], total, "client %d" % i)
                self.assertEqual(sink.crc[i], want, "client %d got other bytes" % i)
            sys.stderr.write("[seed: %d records in %.1fs; allocations_total %d/%d/%d, "
                             "rss +%d KiB] " % (self.N, elapsed, i0["allocations_total"],
                                                i1["allocations_total"], i2["allocations_total"],
                                                (rss2 - rss1) >> 10))
            st.close()
            for s in socks:
                s.close()


class Metrics(unittest.TestCase):
    def test_promtool_accepts_show_metrics(self):
        with Daemon({"source": {"input": "stdin"},
                     "clients": {"idle_timeout": "30s"}}) as d:
            c = tcp_client(d.port)
            d.wait_opens(1)
            d.write_stdin(records(0, 10))
            self.assertEqual(len(c.recv(90, socket.MSG_WAITALL)), 90)
            with StatsConn(d.path("stats.sock")) as st:
                st.send("show metrics\n")
                raw = st.reply_raw()
                info = st.info()
            check_reply_shape(self, raw)
            text = raw[:-1]
            p = subprocess.run(["promtool", "check", "metrics"], input=text.encode(),
                               capture_output=True, timeout=30)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertRegex(text, r'(?m)^pipecast_build_info\{version="%s"\} 1$'
                             % re.escape(info["version"]))
            self.assertRegex(text, r'(?m)^pipecast_source_state\{state="open"\} 1$')
            self.assertRegex(text, r'(?m)^pipecast_timers_live\{kind="client"\} 1$')
            self.assertRegex(text, r'(?m)^pipecast_source_records_total 10$')
            # Every numeric name of show info is there; every family has HELP and TYPE.
            for name, v in info.items():
                if isinstance(v, int) or re.match(r"^\d+\.\d+$", str(v)):
                    m = re.match(r"^access_refused_(\w+)_total$", name)
                    if name in ("timers_live", "timer_allocations_total",
                                "timer_rearms_total", "timer_expirations_total"):
                        pat = r'(?m)^pipecast_%s(\{kind="\w+"\})? ' % name
                    elif m:     # one family, a sample per reason
                        pat = r'(?m)^pipecast_access_refused_total\{reason="%s"\} ' % m.group(1)
                    elif re.match(r"^http_requests_\dxx_total$", name):
                        pat = r'(?m)^pipecast_http_requests_total\{class="%s"\} ' % name[14:17]
                    else:
                        pat = r"(?m)^pipecast_%s " % name
                    self.assertRegex(text, pat, "metric for %s missing" % name)
            fams = set(re.findall(r"(?m)^(pipecast_\w+)[ {]", text))
            for f in fams:
                self.assertRegex(text, r"(?m)^# HELP %s " % f)
                self.assertRegex(text, r"(?m)^# TYPE %s (counter|gauge)$" % f)
                if f.endswith("_total"):
                    self.assertRegex(text, r"(?m)^# TYPE %s counter$" % f)
            c.close()


class Commands(unittest.TestCase):
    def setUp(self):
        conf = {"source": {"input": "stdin"},
                "clients": {"listen": ["tcp:127.0.0.1:{port}", "unix:{dir}/c.sock"],
                            "idle_timeout": "30s"}}
        self.d = Daemon(conf).__enter__()
        self.addCleanup(self.d.__exit__, None, None, None)
        self.sp = self.d.path("stats.sock")

    def conn(self):
        s = StatsConn(self.sp)
        self.addCleanup(s.close)
        return s

    def raw(self, st, line):
        st.send(line + "\n")
        r = st.reply_raw()
        check_reply_shape(self, r)
        return r[:-1]

    def test_show_info_text_and_json(self):
        st = self.conn()
        body = self.raw(st, "show info")
        kv = parse_kv(body)
        self.assertEqual(list(kv)[:len(INFO_NAMES)], INFO_NAMES)
        self.assertEqual(kv["pid"], str(self.d.pid))
        self.assertEqual(kv["source_state"], "open")
        self.assertEqual(int(kv["timers_live"]), 1)          # this connection
        body = self.raw(st, "show info json")
        self.assertEqual(body.count("\n"), 1, "JSON reply is not one line")
        j = json.loads(body)
        self.assertIsInstance(j, dict)
        self.assertEqual(list(j)[:len(INFO_NAMES)], INFO_NAMES)
        self.assertEqual(j["pid"], self.d.pid)
        self.assertEqual(j["clients_connected"], 0)
        self.assertEqual(j["source_state"], "open")

    def test_show_clients_rows(self):
        c = tcp_client(self.d.port)
        cid = self.d.client_id(c)
        u = unix_client(self.d.path("c.sock"))
        self.d.wait_opens(2)
        self.addCleanup(c.close)
        self.addCleanup(u.close)
        self.d.write_stdin(records(0, 4))
        self.assertEqual(len(c.recv(36, socket.MSG_WAITALL)), 36)
        self.assertEqual(len(u.recv(36, socket.MSG_WAITALL)), 36)
        st = self.conn()
        head, rows = parse_table(self.raw(st, "show clients"))
        self.assertEqual(head, CLIENTS_HEADER)
        self.assertEqual(len(rows), 2, rows)
        byid = {int(r[0]): r for r in rows}
        host, port = c.getsockname()
        tr = byid[cid]
        self.assertEqual(tr[1], "%s:%d" % (host, port))
        ur = [r for r in rows if int(r[0]) != cid][0]
        self.assertEqual(ur[1], "unix")
        for r in rows:
            self.assertEqual(len(r), 9, r)
            self.assertEqual(r[8], "raw")
            self.assertRegex(r[2], r"^\d+\.\d{3}$")
            self.assertRegex(r[3], r"^\d+\.\d{3}$")
            self.assertEqual(r[4], "0")
            self.assertEqual(r[5], "36")
            self.assertEqual(r[6], "0")
            self.assertEqual(r[7], "live")
        body = self.raw(st, "show clients json")
        self.assertEqual(body.count("\n"), 1)
        j = json.loads(body)
        self.assertIsInstance(j, list)
        self.assertEqual(sorted(x["id"] for x in j), sorted(byid))
        jt = [x for x in j if x["id"] == cid][0]
        self.assertEqual(jt["addr"], "%s:%d" % (host, port))
        self.assertEqual(jt["sent_bytes"], 36)
        self.assertEqual(jt["state"], "live")
        self.assertEqual(set(jt), set(CLIENTS_HEADER))

    def test_show_timers_all_kinds_in_order(self):
        c = tcp_client(self.d.port)
        self.d.wait_opens(1)
        self.addCleanup(c.close)
        st = self.conn()
        head, rows = parse_table(self.raw(st, "show timers"))
        self.assertEqual(head, TIMERS_HEADER)
        self.assertEqual([r[0] for r in rows], TIMER_KINDS)
        rows = {r[0]: r for r in rows}
        self.assertEqual(rows["client"][1], "1")
        self.assertEqual(rows["stats"][1], "1")
        due = float(rows["client"][5])
        self.assertTrue(25 < due <= 30, due)
        self.assertRegex(rows["client"][5], r"^\d+\.\d{3}$")
        self.assertEqual(rows["source_restart"][5], "-")
        body = self.raw(st, "show timers json")
        self.assertEqual(body.count("\n"), 1)
        j = json.loads(body)
        self.assertIsInstance(j, dict)
        self.assertEqual(list(j), TIMER_KINDS)
        self.assertEqual(j["client"]["live"], 1)
        self.assertIsNone(j["source_restart"]["next_due_s"])

    def test_help_quit_unknown_and_pipelining(self):
        st = self.conn()
        body = self.raw(st, "help")
        for cmd in ("show info", "show clients", "show timers", "show closed",
                    "show metrics", "kill client", "reload", "help", "quit"):
            self.assertIn(cmd, body)
        for bad in ("bogus", "show", "show bogus", "show info extra", "kill client abc",
                    "kill client", "reload now", "SHOW INFO"):
            with self.subTest(bad=bad):
                body = self.raw(st, bad)
                self.assertRegex(body, r"^error: \S.*\n$")
        # still usable; three commands in one write are answered in order
        st.send("show timers\nhelp\nshow info json\n")
        r1, r2, r3 = st.reply_raw(), st.reply_raw(), st.reply_raw()
        for r in (r1, r2, r3):
            check_reply_shape(self, r)
        self.assertTrue(r1.startswith("kind live "), r1[:40])
        self.assertTrue(r2.startswith("show info"), r2[:40])
        self.assertIsInstance(json.loads(r3), dict)
        self.assertEqual(self.raw(st, "quit"), "ok\n")
        self.assertIsNotNone(st.wait_eof(2), "connection not closed after quit")
        self.assertEqual(st.buf, b"")

    def test_kill_client(self):
        c = tcp_client(self.d.port)
        cid = self.d.client_id(c)
        self.addCleanup(c.close)
        st = self.conn()
        self.assertEqual(self.raw(st, "kill client 999"), "error: no such client\n")
        self.assertEqual(self.raw(st, "kill client %d" % cid), "ok\n")
        self.assertIsNotNone(wait_eof(c, 2), "killed client not closed")
        self.assertEqual(self.d.closed_reason(cid), "kill")
        self.assertEqual(self.raw(st, "kill client %d" % cid), "error: no such client\n")
        head, rows = parse_table(self.raw(st, "show closed"))
        self.assertEqual(head, CLOSED_HEADER)
        self.assertEqual([(int(r[0]), r[4]) for r in rows], [(cid, "kill")])
        self.assertEqual(rows[0][1], "%s:%d" % c.getsockname())
        j = json.loads(self.raw(st, "show closed json"))
        self.assertIsInstance(j, list)
        self.assertEqual([(x["id"], x["reason"]) for x in j], [(cid, "kill")])
        self.assertEqual(set(j[0]), set(CLOSED_HEADER))
        self.assertEqual(st.info()["clients_closed_kill_total"], 1)

    def test_reload_ok(self):
        st = self.conn()
        self.assertEqual(self.raw(st, "reload"), "ok\n")
        self.assertEqual(self.raw(st, "show info").count("\n") >= len(INFO_NAMES), True)

    def test_half_close_answers_last_line_then_closes(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.addCleanup(s.close)
        s.connect(self.sp)
        s.sendall(b"help\nshow info")          # last line without '\n'
        s.shutdown(socket.SHUT_WR)
        data, eof = recv_for(s, 5)
        self.assertTrue(eof, "daemon did not close after the half-close")
        text = data.decode()
        self.assertTrue(text.endswith("\n\n"))
        parts = text[:-2].split("\n\n")
        self.assertEqual(len(parts), 2, text[:200])
        self.assertTrue(parts[0].startswith("show info"))
        self.assertEqual(list(parse_kv(parts[1] + "\n"))[:3], INFO_NAMES[:3])
        # the socat style: one line with '\n', then EOF
        s2 = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.addCleanup(s2.close)
        s2.connect(self.sp)
        s2.sendall(b"show timers\n")
        s2.shutdown(socket.SHUT_WR)
        data, eof = recv_for(s2, 5)
        self.assertTrue(eof)
        self.assertTrue(data.startswith(b"kind live ") and data.endswith(b"\n\n"))
        self.assertEqual(data.count(b"\n\n"), 1)

    def test_line_too_long_closes(self):
        st = self.conn()
        # 1024 characters is still a line (blanks around a command are allowed)
        body = self.raw(st, "help" + " " * 1020)
        self.assertTrue(body.startswith("show info"), body[:60])
        st.send("help\n" + "x" * 1100 + "\nhelp\n")
        r1 = st.reply_raw()
        self.assertTrue(r1.startswith("show info"))
        self.assertEqual(st.reply_raw(), "error: line too long\n\n")
        self.assertIsNotNone(st.wait_eof(2), "not closed after a too-long line")
        self.assertEqual(st.buf, b"", "answered after the too-long line")
        # no newline at all: still refused once past 1 KiB
        s2 = self.conn()
        s2.send("y" * 3000)
        self.assertEqual(s2.reply_raw(), "error: line too long\n\n")
        self.assertIsNotNone(s2.wait_eof(2))
        self.assertTrue(self.d.alive())
        self.assertEqual(self.raw(self.conn(), "quit"), "ok\n")


class Pipelining(unittest.TestCase):
    def test_thousands_of_replies_then_half_close(self):
        """The daemon stops reading while much output is unsent, and still
        answers every command in order, then closes after the half-close."""
        with Daemon({"source": {"input": "stdin"}}) as d:
            n = 3000
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(d.path("stats.sock"))
            lines = "".join("show metrics\n" if i % 2 else "show info\n" for i in range(n))
            err = []

            def writer():
                try:
                    s.sendall(lines.encode())
                    s.shutdown(socket.SHUT_WR)
                except OSError as e:
                    err.append(e)
            th = threading.Thread(target=writer, daemon=True)
            th.start()
            time.sleep(0.3)                       # let the daemon's output pile up
            data, eof = recv_for(s, 60)
            th.join(5)
            s.close()
            self.assertEqual(err, [])
            self.assertTrue(eof)
            replies = data.decode().split("\n\n")
            self.assertEqual(replies[-1], "")
            replies = replies[:-1]
            self.assertEqual(len(replies), n)
            for i, r in enumerate(replies):
                want = "# HELP " if i % 2 else "version: "
                self.assertTrue(r.startswith(want), (i, r[:40]))


class PendingClient(unittest.TestCase):
    def test_pending_state_lag_and_send_timer(self):
        conf = {"source": {"input": "stdin"},
                "clients": {"buffer": "64MiB", "idle_timeout": "0", "send_timeout": "30s"}}
        with Daemon(conf) as d, StatsConn(d.path("stats.sock")) as st:
            i0 = st.info()
            stuck = tcp_client(d.port, rcvbuf=4096)
            sid = d.client_id(stuck)
            self.assertEqual(st.info()["timers_client_live"], 0)   # nothing pending yet
            th = d.feed_stdin(records(0, 3000000), close=False)
            th.join(30)
            self.assertFalse(th.is_alive())
            deadline = time.monotonic() + 10
            while st.info()["source_bytes_total"] < 27000000:
                self.assertLess(time.monotonic(), deadline, "source not read")
                time.sleep(0.05)
            time.sleep(0.2)
            i = st.info()
            head, rows = parse_table(st.cmd("show clients"))
            self.assertEqual(len(rows), 1)
            r = rows[0]
            self.assertEqual(int(r[0]), sid)
            self.assertEqual(r[7], "pending")
            lag, sent = int(r[4]), int(r[5])
            self.assertGreater(lag, 1 << 20)
            self.assertEqual(lag + sent, 27000000)
            self.assertEqual(i["ring_used_bytes"], i["source_bytes_total"] - i["bytes_sent_total"])
            self.assertEqual(i["timers_client_live"], 1, "send_timeout timer not armed while pending")
            self.assertEqual(st.cmd("kill client %d" % sid), "ok\n")
            self.assertIsNotNone(wait_eof(stuck, 3))
            i2 = st.info()
            self.assertEqual((i2["clients_connected"], i2["timers_client_live"],
                              i2["ring_used_bytes"], i2["timers_live"]), (0, 0, 0, 1))
            self.assertEqual(i2["timer_allocations_total"], i0["timer_allocations_total"] + 1)
            head, rows = parse_table(st.cmd("show closed"))
            self.assertEqual([(int(x[0]), x[4]) for x in rows], [(sid, "kill")])
            self.assertGreaterEqual(int(rows[0][3]), sent)
            self.assertLess(int(rows[0][3]), 27000000)
            stuck.close()


class ClosedLog(unittest.TestCase):
    def test_reasons(self):
        conf = {"source": {"input": "stdin"},
                "clients": {"max_clients": "2", "idle_timeout": "1s"}}
        with Daemon(conf) as d, StatsConn(d.path("stats.sock")) as st:
            a = tcp_client(d.port)
            ida = d.client_id(a)
            self.assertEqual(st.cmd("kill client %d" % ida), "ok\n")
            self.assertEqual(d.closed_reason(ida), "kill")
            b = tcp_client(d.port)
            idb = d.client_id(b)
            hard_close(b)       # a plain close is a half-close until a write
            self.assertEqual(d.closed_reason(idb), "peer")
            c1 = tcp_client(d.port)
            idc1 = d.client_id(c1)
            c2 = tcp_client(d.port)
            idc2 = d.client_id(c2)
            c3 = tcp_client(d.port)
            self.assertIsNotNone(wait_eof(c3, 2), "client beyond max_clients not closed")
            m = d.wait_log(r"\bclient (\d+) closed \S+ reason=rejected")
            idr = int(m.group(1))
            self.assertIsNotNone(wait_eof(c1, 4))
            self.assertIsNotNone(wait_eof(c2, 4))
            self.assertEqual(d.closed_reason(idc1), "idle")
            self.assertEqual(d.closed_reason(idc2), "idle")
            head, rows = parse_table(st.cmd("show closed"))
            self.assertEqual(head, CLOSED_HEADER)
            got = [(int(r[0]), r[4]) for r in rows]
            self.assertEqual(got[:3], [(ida, "kill"), (idb, "peer"), (idr, "rejected")])
            self.assertEqual(sorted(got[3:]), [(idc1, "idle"), (idc2, "idle")])
            info = st.info()
            self.assertEqual(info["clients_rejected_total"], 1)
            self.assertEqual(info["clients_accepted_total"], 4)
            self.assertEqual(info["clients_closed_idle_total"], 2)
            self.assertEqual(info["clients_closed_peer_total"], 1)
            for s in (a, b, c1, c2, c3):
                s.close()

    def test_only_the_last_100_kept_oldest_first(self):
        with Daemon({"source": {"input": "stdin"}}) as d, \
                StatsConn(d.path("stats.sock")) as st:
            ids = []
            for _ in range(105):
                c = tcp_client(d.port)
                cid = d.client_id(c)
                hard_close(c)
                d.wait_log(r"\bclient %d closed " % cid)
                ids.append(cid)
            head, rows = parse_table(st.cmd("show closed"))
            self.assertEqual(len(rows), 100)
            self.assertEqual([int(r[0]) for r in rows], ids[5:])
            self.assertEqual({r[4] for r in rows}, {"peer"})
            j = json.loads(st.cmd("show closed json"))
            self.assertEqual([x["id"] for x in j], ids[5:])


class ConnectionRules(unittest.TestCase):
    def test_idle_close(self):
        with Daemon({"source": {"input": "stdin"},
                     "stats": {"idle_timeout": "200ms"}}) as d:
            t0 = time.monotonic()
            st = StatsConn(d.path("stats.sock"))
            t = st.wait_eof(5)
            self.assertIsNotNone(t, "silent stats connection not closed")
            self.assertGreaterEqual(t - t0, 0.2)
            self.assertLess(t - t0, 1.5)
            st.close()
            # activity keeps it open: a command every 100 ms for 0.6 s
            st = StatsConn(d.path("stats.sock"))
            for _ in range(6):
                time.sleep(0.1)
                self.assertTrue(st.cmd("help").startswith("show info"))
            t0 = time.monotonic()
            t = st.wait_eof(5)
            self.assertIsNotNone(t)
            self.assertLess(t - t0, 1.5)
            st.close()
            self.assertGreaterEqual(st_info(d)["timer_expirations_total"], 2)

    def test_max_connections(self):
        with Daemon({"source": {"input": "stdin"},
                     "stats": {"max_connections": "2"}}) as d:
            s1 = StatsConn(d.path("stats.sock"))
            s2 = StatsConn(d.path("stats.sock"))
            # s2 answered means s2 was accepted; only then count timers
            self.assertTrue(s2.cmd("help").startswith("show info"))
            self.assertEqual(s1.info()["timers_live"], 2)
            s3 = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s3.connect(d.path("stats.sock"))
            t0 = time.monotonic()
            try:
                s3.sendall(b"help\n")
            except OSError:
                pass
            data, eof = recv_for(s3, 2)
            self.assertTrue(eof, "third stats connection not closed")
            self.assertLess(time.monotonic() - t0, 1.0)
            self.assertEqual(data, b"")
            s3.close()
            self.assertTrue(s1.cmd("help").startswith("show info"))
            s2.close()
            # a slot is free again once the daemon saw s2 go
            deadline = time.monotonic() + 3
            while True:
                if s1.info()["timers_live"] == 1:
                    break
                self.assertLess(time.monotonic(), deadline, "closed stats connection still counted")
                time.sleep(0.02)
            with StatsConn(d.path("stats.sock")) as s4:
                self.assertTrue(s4.cmd("help").startswith("show info"))
            s1.close()


def st_info(d):
    with StatsConn(d.path("stats.sock")) as st:
        return st.info()


class SocketRules(unittest.TestCase):
    def test_mode_and_removal(self):
        with Daemon({"source": {"input": "stdin"}, "stats": {"mode": "0640"}}) as d:
            st = os.lstat(d.path("stats.sock"))
            self.assertTrue(stat.S_ISSOCK(st.st_mode))
            self.assertEqual(stat.S_IMODE(st.st_mode), 0o640)
            self.assertEqual(d.stop(signal.SIGTERM, 8), 0)
            self.assertFalse(os.path.lexists(d.path("stats.sock")))

    @unittest.skipUnless(os.geteuid() == 0, "needs root to run a client as nobody")
    def test_other_uid_reads_but_no_admin(self):
        conf = {"source": {"input": "stdin"}, "stats": {"mode": "0666"}}
        with Daemon(conf) as d:
            os.chmod(d.dir, 0o755)
            c = tcp_client(d.port)
            cid = d.client_id(c)
            script = (
                "import socket,sys\n"
                "s=socket.socket(socket.AF_UNIX,socket.SOCK_STREAM)\n"
                "s.settimeout(5)\n"
                "s.connect(sys.argv[1])\n"
                "s.sendall(b'show info\\nreload\\nkill client %d\\nshow timers\\n"
                "show config\\n')\n"
                "s.shutdown(socket.SHUT_WR)\n"
                "b=b''\n"
                "while True:\n"
                "    x=s.recv(65536)\n"
                "    if not x: break\n"
                "    b+=x\n"
                "sys.stdout.write(b.decode())\n" % cid)
            if shutil.which("setpriv"):
                cmd = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
            else:
                cmd = ["runuser", "-u", "nobody", "--"]
            # Debian's interpreter: one under a private home may not run as nobody
            py = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
            p = subprocess.run(cmd + [py, "-c", script, d.path("stats.sock")],
                               capture_output=True, text=True, timeout=20, cwd="/")
            self.assertEqual(p.returncode, 0, p.stderr)
            parts = p.stdout.split("\n\n")
            self.assertEqual(len(parts), 6, p.stdout[:300])   # 5 replies + ""
            self.assertTrue(parts[0].startswith("version: "), parts[0][:80])
            self.assertEqual(parts[1], "error: permission denied")
            self.assertEqual(parts[2], "error: permission denied")
            self.assertTrue(parts[3].startswith("kind live "))
            self.assertEqual(parts[4], "error: permission denied")   # shows commands
            # nothing happened: the client is still there, no reload ran
            data, eof = recv_for(c, 0.3)
            self.assertFalse(eof, "client killed by a non-admin")
            self.assertEqual(st_info(d)["clients_connected"], 1)
            self.assertEqual(d.count_log(r"\breloaded\b"), 0)
            c.close()


class ShowConfig(unittest.TestCase):
    """show config: every key, where it was set (default, FILE:LINE, -o),
    its value last."""

    def test_text_and_json(self):
        conf = ("[source]\ninput = exec:sleep 60 ; echo a b\n[clients]\n"
                "listen = tcp:127.0.0.1:{port}\nbuffer = 8MiB\n"
                "[stats]\nsocket = {dir}/stats.sock\n")
        with Daemon(conf, args=["-o", "clients.max_clients=7"]) as d, \
                StatsConn(d.path("stats.sock")) as st:
            body = st.cmd("show config")
            lines = body.splitlines()
            rows = {ln.split(" ", 2)[0]: ln.split(" ", 2)[1:] for ln in lines}
            self.assertEqual(len(lines), len(rows))
            self.assertEqual(rows["source.input"],
                             ["%s:2" % d.conf_path, "exec:sleep 60 ; echo a b"])
            self.assertEqual(rows["clients.listen"],
                             ["%s:4" % d.conf_path, "tcp:127.0.0.1:%d" % d.port])
            self.assertEqual(rows["clients.buffer"], ["%s:5" % d.conf_path, "8MiB"])
            self.assertEqual(rows["clients.max_clients"], ["-o", "7"])
            self.assertEqual(rows["clients.idle_timeout"], ["default", "5m"])
            self.assertEqual(rows["clients.tcp_keepalive"], ["default", "1m"])
            self.assertEqual(rows["daemon.shutdown_timeout"], ["default", "5s"])
            self.assertEqual(rows["clients.notice_prefix"], ["default", "# pipecast: "])
            self.assertEqual(rows["stats.socket"], ["%s:7" % d.conf_path, d.path("stats.sock")])
            # Every key of pipecast.conf(5), each once.
            self.assertIn("stats.max_connections", rows)
            self.assertGreaterEqual(len(rows), 28)
            j = json.loads(st.cmd("show config json"))
            self.assertEqual([x["key"] for x in j], [ln.split(" ")[0] for ln in lines])
            byk = {x["key"]: x for x in j}
            self.assertEqual(byk["source.input"]["value"], "exec:sleep 60 ; echo a b")
            self.assertEqual(byk["clients.max_clients"]["source"], "-o")
            # pipecastctl config prints the same.
            p = subprocess.run([ctl_binary(), "-s", d.path("stats.sock"), "config"],
                               capture_output=True, text=True, timeout=10)
            self.assertEqual((p.returncode, p.stdout), (0, body))

    def test_default_stats_socket_is_shown_where_it_is(self):
        d = Daemon("[source]\ninput = stdin\n[clients]\nlisten = tcp:127.0.0.1:{port}\n")
        d.env = {k: v for k, v in os.environ.items()
                 if k not in ("RUNTIME_DIRECTORY", "NOTIFY_SOCKET", "LISTEN_FDS",
                              "LISTEN_PID", "LISTEN_FDNAMES", "PIPECAST_SOCKET")}
        d.env["XDG_RUNTIME_DIR"] = d.path("xdg")
        path = d.path("xdg/pipecast/stats.sock")
        with d, StatsConn(path) as st:
            rows = {ln.split(" ", 2)[0]: ln.split(" ", 2)[1:]
                    for ln in st.cmd("show config").splitlines()}
            self.assertEqual(rows["stats.socket"], ["default", path])


if __name__ == "__main__":
    unittest.main()
