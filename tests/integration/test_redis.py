"""[source] input = redis:HOST:PORT/KEY: edges reading a real Redis stream
(Debian's redis-server on a free loopback port; pipecast.conf(5), "Upstream
sources"; pipecastd(8), "A Redis stream as the backbone"). Every edge gives
an entry the same id, so a client fails over between edges exactly; Redis
stopped, restarted (empty, or with its data), a stream deleted and
re-created each give what the man page says; a fake Redis sending garbage,
a 10 MiB bulk string or an endless reply never crashes an edge nor grows
its memory; one timer for the upstream; nothing allocated per record.
Skipped only when redis-server is not installed."""

import re
import signal
import subprocess
import threading
import time
import unittest

from pctest import (Daemon, Reader, StatsConn, check_backoff, ctl_binary, fake_upstream,
                    parse_table, records, rss_bytes, slow, tcp_client)
from pcredis import RedisServer

TOTAL = 100000
KEY = "pc:stream"
EVENT_RE = re.compile(rb"(?:event: (\w+)\n)?(?:id: ([0-9a-f]{16})-(\d+)\n)?((?:data: [^\n]*\n)+)\n")
GAP = b'event: gap\ndata: {"missed":null}\n\n'


def edge_conf(url, backlog="8MiB", **source):
    """An edge of the stream url: raw clients on {port}, SSE on {port2}."""
    return {"source": dict({"input": url, "restart_delay": "100ms"}, **source),
            "clients": {"buffer": "16MiB", "backlog": backlog},
            "http": {"listen": "tcp:127.0.0.1:{port2}", "keepalive": "0"}}


def info(d):
    with StatsConn(d.path("stats.sock")) as st:
        return st.info()


def timers(d):
    _, rows = parse_table(StatsConn(d.path("stats.sock")).cmd("show timers"))
    return rows


def sse_client(port, last_id=None):
    s = tcp_client(port)
    extra = "Last-Event-ID: %s\r\n" % last_id if last_id else ""
    s.sendall(("GET /events HTTP/1.1\r\nHost: localhost\r\n%s\r\n" % extra).encode())
    return s


def sse_parse(body):
    """The events of an SSE body (after its head and retry line), as
    (type, epoch, seq, data) with data lines joined by \\r."""
    out = []
    for m in EVENT_RE.finditer(body):
        data = b"\r".join(line[6:] for line in m.group(4).splitlines())
        out.append((m.group(1), m.group(2), int(m.group(3)) if m.group(3) else None, data))
    return out


def seq_of(entry_id):
    ms, seq = entry_id.split("-")
    return int(ms) * 1000000 + int(seq)


def publish(r, data, key=KEY):
    """pipecastctl publish: the lines of data XADDed, pipelined."""
    subprocess.run([ctl_binary(), "publish", "%s/%s" % (r.url, key)], input=data,
                   check=True, capture_output=True, timeout=slow(60))


def wait_for(pred, timeout, what):
    deadline = time.monotonic() + slow(timeout)
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.02)


def publish_seen(r, rd, start, stop, first):
    """Publishes records(start, stop) and waits until the raw client of
    the Reader rd, which began with record first, has them all."""
    publish(r, records(start, stop))
    wait_for(lambda: rd.length("raw") >= 9 * (stop - first), 20, "%d records" % stop)


def streaming(d, n=1, timeout=15):
    d.wait_count(r"upstream .*: streaming", n, slow(timeout))


class TwoEdges(unittest.TestCase):

    def test_failover_between_edges_gets_every_record_exactly_once(self):
        with RedisServer() as r:
            publish(r, records(0, 1))
            with Daemon(edge_conf("%s/%s" % (r.url, KEY))) as e1, \
                 Daemon(edge_conf("%s/%s" % (r.url, KEY))) as e2:
                streaming(e1)
                streaming(e2)
                rd = Reader().start()
                for i, e in enumerate((e1, e2)):
                    rd.add(tcp_client(e.port), "raw%d" % i)
                    e.wait_opens(1)
                half = sse_client(e1.port2)
                e1.wait_opens(2)
                i0 = [info(e) for e in (e1, e2)]
                pub = threading.Thread(target=publish, args=(r, records(1, TOTAL)))
                t0 = time.monotonic()
                pub.start()
                # The client reads half the records from edge 1, then goes.
                body = b""
                while body.count(b"\n\n") < TOTAL // 2 + 1:
                    half.settimeout(slow(20))
                    chunk = half.recv(1 << 16)
                    self.assertTrue(chunk, "edge 1 closed the stream")
                    body += chunk
                half.close()
                first = sse_parse(body.partition(b"\r\n\r\n")[2])[:TOTAL // 2]
                pub.join(slow(60))
                want = records(0, TOTAL)
                ok = rd.wait(lambda x: x.length("raw0") >= len(want) and
                             x.length("raw1") >= len(want), slow(60))
                elapsed = time.monotonic() - t0
                self.assertTrue(ok, (rd.length("raw0"), rd.length("raw1")))
                # Nothing allocated per record (clients and stats count apart).
                for e, a in zip((e1, e2), i0):
                    self.assertEqual(info(e)["allocations_other_total"],
                                     a["allocations_other_total"])
                # ... and resumes on edge 2 with its last id.
                epoch, seq = first[-1][1].decode(), first[-1][2]
                rest = sse_client(e2.port2, "%s-%d" % (epoch, seq))
                got = b""
                deadline = time.monotonic() + slow(30)
                while got.count(b"\n\n") < TOTAL // 2 + 1 and time.monotonic() < deadline:
                    rest.settimeout(max(0.1, deadline - time.monotonic()))
                    chunk = rest.recv(1 << 16)
                    if not chunk:
                        break
                    got += chunk
                rest.close()
                second = sse_parse(got.partition(b"\r\n\r\n")[2])
                ids = [seq_of(eid) for eid, _ in r.entries(KEY)]
                events = first + second
                self.assertEqual(len(events), TOTAL)
                self.assertEqual([ev[0] for ev in events], [None] * TOTAL)
                self.assertEqual({ev[1] for ev in events}, {epoch.encode()})
                self.assertEqual([ev[2] for ev in events], ids)
                self.assertEqual(b"".join(ev[3] + b"\n" for ev in events), want)
                self.assertEqual(rd.get("raw0"), want)
                self.assertEqual(rd.get("raw1"), want)
                rd.stop()
                for e in (e1, e2):
                    b = info(e)
                    self.assertEqual(b["stream_epoch"], epoch)
                    self.assertEqual(b["stream_last_seq"], ids[-1])
                    self.assertEqual(b["source_records_total"], TOTAL)
                    self.assertEqual(b["source_restarts_total"], 0)
                for e in (e1, e2):
                    rows = timers(e)
                    t = {row[0]: row for row in rows}
                    self.assertEqual(rows[-1][0], "upstream")
                    self.assertEqual((int(t["upstream"][1]), int(t["upstream"][2])), (1, 1))
                    self.assertEqual(int(t["source_idle"][2]), 0)
                self.assertEqual(int({row[0]: row for row in timers(e1)}["client"][1]), 1)
                print("\n  %d records through Redis to two edges in %.2f s" % (TOTAL, elapsed),
                      end=" ")

    def test_new_edge_starts_from_its_backlog_of_the_newest_entries(self):
        # 900 bytes: 100 records in the first XREVRANGE; 81,000 bytes:
        # 9,000 records, the scan's third reply.
        with RedisServer() as r:
            publish(r, records(0, 10000))
            for backlog, first in (("900", 9900), ("81000", 1000)):
                with Daemon(edge_conf("%s/%s" % (r.url, KEY), backlog=backlog)) as e:
                    streaming(e)
                    s = tcp_client(e.port)
                    e.wait_opens(1)
                    publish(r, records(10000, 10001))
                    got = b""
                    deadline = time.monotonic() + slow(10)
                    while not got.endswith(b"00010000\n") and time.monotonic() < deadline:
                        s.settimeout(max(0.1, deadline - time.monotonic()))
                        got += s.recv(1 << 16)
                    s.close()
                    self.assertEqual(got, records(first, 10001))
                r.cmd("XDEL", KEY, r.entries(KEY)[-1][0])


class RedisFailures(unittest.TestCase):

    def watch(self, e):
        rd = Reader().start()
        rd.add(tcp_client(e.port), "raw")
        rd.add(sse_client(e.port2), "sse")
        e.wait_opens(2)
        return rd

    def test_restart_with_its_data_loses_nothing_that_redis_kept(self):
        with RedisServer(persist=True) as r:
            publish(r, records(0, 2000))
            with Daemon(edge_conf("%s/%s" % (r.url, KEY), backlog="0")) as e:
                streaming(e)
                rd = self.watch(e)
                publish_seen(r, rd, 2000, 4000, 2000)
                epoch = info(e)["stream_epoch"]
                r.stop()
                e.wait_log(r"upstream .*: closed by the upstream; reconnecting in", slow(10))
                self.assertEqual(info(e)["source_state"], "restarting")
                time.sleep(2)
                r.start()
                streaming(e, 2, 30)
                publish_seen(r, rd, 4000, 6000, 2000)
                time.sleep(0.3)
                rd.stop()
                self.assertEqual(rd.get("raw"), records(2000, 6000))
                events = sse_parse(rd.get("sse"))
                self.assertEqual(b"".join(ev[3] + b"\n" for ev in events), records(2000, 6000))
                self.assertEqual({ev[1] for ev in events}, {epoch.encode()})
                i = info(e)
                self.assertEqual((i["stream_epoch"], i["source_state"]), (epoch, "open"))
                self.assertGreaterEqual(i["source_restarts_total"], 1)

    def test_restart_empty_is_a_new_stream_with_a_new_epoch(self):
        with RedisServer() as r:
            publish(r, records(0, 1000))
            url = "%s/%s" % (r.url, KEY)
            with Daemon(edge_conf(url, backlog="0")) as e1, \
                 Daemon(edge_conf(url, backlog="0")) as e2:
                streaming(e1)
                streaming(e2)
                rd = self.watch(e1)
                publish_seen(r, rd, 1000, 2000, 1000)
                old = info(e1)["stream_epoch"]
                r.stop()
                time.sleep(2)
                r.start()
                for e in (e1, e2):
                    e.wait_log(r"upstream .*: stream %s does not exist; reconnecting" % KEY,
                               slow(20))
                    self.assertEqual(info(e)["source_state"], "restarting")
                publish(r, records(2000, 3000))
                for e in (e1, e2):
                    e.wait_log(r"upstream .*: a new stream, epoch [0-9a-f]{16} \(was %s\)"
                               % old, slow(30))
                wait_for(lambda: rd.length("raw") >= 9 * 2000, 20, "3000 records")
                time.sleep(0.3)
                rd.stop()
                new = info(e1)["stream_epoch"]
                self.assertNotEqual(new, old)
                self.assertEqual(info(e2)["stream_epoch"], new)
                self.assertEqual(rd.get("raw"), records(1000, 3000))
                body = rd.get("sse")
                self.assertEqual(body.count(b"event: gap"), 1)
                before, _, after = body.partition(GAP)
                self.assertEqual({ev[1] for ev in sse_parse(before)}, {old.encode()})
                self.assertEqual({ev[1] for ev in sse_parse(after)}, {new.encode()})
                self.assertEqual(b"".join(ev[3] + b"\n" for ev in sse_parse(after)),
                                 records(2000, 3000))
                self.assertGreaterEqual(info(e1)["source_restarts_total"], 2)

    def test_key_deleted_and_recreated_gives_one_new_epoch_on_both_edges(self):
        with RedisServer() as r:
            publish(r, records(0, 10))
            url = "%s/%s" % (r.url, KEY)
            with Daemon(edge_conf(url)) as e1, Daemon(edge_conf(url)) as e2:
                streaming(e1)
                streaming(e2)
                old = info(e1)["stream_epoch"]
                self.assertEqual(info(e2)["stream_epoch"], old)
                rd = self.watch(e2)
                r.cmd("DEL", KEY)
                publish(r, records(10, 20))
                for e in (e1, e2):
                    e.wait_log(r"upstream .*: (stream %s was deleted or re-created|stream %s "
                               r"does not exist); reconnecting" % (KEY, KEY), slow(20))
                    e.wait_log(r"upstream .*: a new stream", slow(20))
                wait_for(lambda: rd.length("raw") >= 9 * 20, 20, "20 records")
                time.sleep(0.3)
                rd.stop()
                new = info(e1)["stream_epoch"]
                self.assertNotEqual(new, old)
                self.assertEqual(info(e2)["stream_epoch"], new)
                groups = [g[1].decode() for g in r.cmd("XINFO", "GROUPS", KEY)]
                self.assertEqual(groups, ["pipecast-epoch-" + new])
                self.assertEqual(rd.get("raw"), records(0, 20))
                body = rd.get("sse")
                self.assertEqual(body.count(GAP), 1)
                self.assertEqual(b"".join(ev[3] + b"\n" for ev in sse_parse(body)
                                          if ev[0] is None), records(0, 20))

    def test_entries_trimmed_before_they_were_read_give_a_gap_notice(self):
        with RedisServer() as r:
            publish(r, records(0, 1))
            with Daemon(edge_conf("%s/%s" % (r.url, KEY), backlog="0")) as e:
                streaming(e)
                rd = self.watch(e)
                e.send_signal(signal.SIGSTOP)
                try:
                    publish(r, records(1, 3000))
                    r.cmd("XTRIM", KEY, "MAXLEN", "10")
                finally:
                    e.send_signal(signal.SIGCONT)
                e.wait_log(r"upstream .*: entries after \d+-\d+ were trimmed before they were "
                           r"read: a gap", slow(10))
                wait_for(lambda: rd.get("raw").endswith(records(2999, 3000)), 20, "the last")
                time.sleep(0.3)
                rd.stop()
                raw = rd.get("raw")
                self.assertTrue(raw.endswith(records(2990, 3000)))
                self.assertLess(len(raw), 9 * 2000)
                sse = rd.get("sse")
                self.assertEqual(sse.count(GAP), 1)
                self.assertEqual(b"".join(ev[3] + b"\n" for ev in sse_parse(sse.partition(GAP)[2])),
                                 records(2990, 3000))
                self.assertEqual(b"".join(ev[3] + b"\n" for ev in sse_parse(sse) if ev[0] is None),
                                 raw)

    def test_frozen_redis_is_left_at_idle_timeout_and_read_on_after(self):
        with RedisServer() as r:
            publish(r, records(0, 1))
            conf = edge_conf("%s/%s" % (r.url, KEY), backlog="0", idle_timeout="1s")
            with Daemon(conf) as e:
                streaming(e)
                rd = self.watch(e)
                publish_seen(r, rd, 1, 100, 1)
                r.pause(True)
                try:
                    e.wait_log(r"upstream .*: silent for [\d.]+ s", slow(10))
                    e.wait_log(r"upstream .*: silent; reconnecting in", slow(10))
                    self.assertEqual(info(e)["source_state"], "restarting")
                finally:
                    r.pause(False)
                publish_seen(r, rd, 100, 200, 1)
                streaming(e, 2, 30)
                rd.stop()
                self.assertEqual(rd.get("raw"), records(1, 200))
                rows = {row[0]: row for row in timers(e)}
                self.assertEqual((int(rows["upstream"][1]), int(rows["upstream"][2])), (1, 1))

    def test_the_documented_permissions_suffice_and_a_refusal_is_logged(self):
        rule = "+eval +multi +exec +xread +xrevrange +exists +xinfo +xgroup ~%s" % KEY
        with RedisServer() as r:
            publish(r, records(0, 10))
            admin = r.client()
            admin.cmd("ACL", "SETUSER", "admin", "on", ">pw", "~*", "+@all")
            admin.cmd("ACL", "SETUSER", "default", "reset", "on", "nopass", *rule.split())
            admin.cmd("AUTH", "admin", "pw")
            with Daemon(edge_conf("%s/%s" % (r.url, KEY))) as e:
                streaming(e)
                rd = self.watch(e)
                for i in range(10, 20):
                    admin.cmd("XADD", KEY, "*", "data", "%08d" % i)
                wait_for(lambda: rd.length("raw") >= 9 * 20, 20, "20 records")
                rd.stop()
                self.assertEqual(rd.get("raw"), records(0, 20))
                admin.cmd("ACL", "SETUSER", "default", "-eval")
                e.wait_log(r"upstream .*: Redis answered: NOPERM .*; reconnecting in", slow(10))
                self.assertEqual(info(e)["source_state"], "restarting")
            admin.close()

    def test_entries_that_are_no_records_and_data_with_newlines(self):
        with RedisServer() as r:
            r.cmd("XADD", KEY, "1-1", "data", "a\nb")
            with Daemon(edge_conf("%s/%s" % (r.url, KEY))) as e:
                streaming(e)
                rd = self.watch(e)
                r.cmd("XADD", KEY, "1-1000000", "data", "unmapped")
                r.cmd("XADD", KEY, "2-0", "other", "no data field")
                r.cmd("XADD", KEY, "3-0", "data", "x" * (10 << 20))   # over max_line
                r.cmd("XADD", KEY, "4-5", "data", "c", "data", "second data ignored")
                wait_for(lambda: rd.length("raw") >= len(b"a\rb\nc\n"), 20, "records")
                time.sleep(0.3)
                rd.stop()
                self.assertEqual(rd.get("raw"), b"a\rb\nc\n")
                ep = info(e)["stream_epoch"].encode()
                self.assertEqual(sse_parse(rd.get("sse")),
                                 [(None, ep, 1000001, b"a\rb"), (None, ep, 4000005, b"c")])
                self.assertIn(b"id: %s-1000001\ndata: a\ndata: b\n\n" % ep, rd.get("sse"))
                log = e.log_text()
                self.assertRegex(log, r"entry 1-1000000 has an id that maps to no SEQ")
                self.assertRegex(log, r"entry 2-0 has no field data")
                self.assertRegex(log, r"entry 3-0 larger than max_line \(65536\) dropped")


class BadRedis(unittest.TestCase):

    def edge(self, send, delay="100ms"):
        return fake_upstream(self, send, lambda port: edge_conf(
            "redis:127.0.0.1:%d/k" % port, restart_delay=delay))

    def test_garbage_is_refused_and_retried_with_backoff(self):
        def send(conn, stop):
            conn.sendall(b"\x00\xffnot resp at all\r\n" * 10)
        fake, conf = self.edge(send)
        with Daemon(conf) as d:
            check_backoff(self, d, r"upstream .*: not the epoch script's reply "
                          r"\(protocol error\); reconnecting in", slow(15))

    def test_ten_mib_bulk_string_is_refused_at_its_length(self):
        def send(conn, stop):
            conn.sendall(b"$%d\r\n" % (10 << 20))
            for _ in range(160):
                if stop.is_set():
                    return
                conn.sendall(b"z" * (1 << 16))
        fake, conf = self.edge(send, delay="1s")
        with Daemon(conf) as d:
            rss0 = rss_bytes(d.pid)
            d.wait_log(r"upstream .*: not the epoch script's reply \(protocol error\); "
                       r"reconnecting in", slow(15))
            self.assertLess(rss_bytes(d.pid) - rss0, 8 << 20)
            self.assertTrue(d.alive())

    def test_endless_reply_is_cut_at_its_bounds(self):
        def send(conn, stop):
            head = (b"*5\r\n$31\r\npipecast-epoch-00000000000000aa\r\n$%d\r\n%s\r\n"
                    b"$3\r\n0-0\r\n:-1\r\n:0\r\n")
            # The handshake's answer, a wake-up (nil), a transaction that
            # reads 1,000 entries...
            conn.sendall(head % (3, b"1-0") + b"*-1\r\n")
            conn.sendall(b"+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n" + head % (6, b"1001-0") +
                         b"*1\r\n*2\r\n$1\r\nk\r\n*1000\r\n")
            entry = b"*2\r\n$%d\r\n%d-0\r\n*2\r\n$4\r\ndata\r\n$1\r\nx\r\n"
            for i in range(2, 1002):
                conn.sendall(entry % (len(str(i)) + 2, i))
            # ... then a simple string that never ends.
            conn.sendall(b"+" + b"y" * (1 << 20))
            for _ in range(100):
                if stop.is_set():
                    return
                conn.sendall(b"y" * (1 << 16))
        fake, conf = self.edge(send, delay="1s")
        conf["clients"]["backlog"] = "0"
        with Daemon(conf) as d:
            rss0 = rss_bytes(d.pid)
            # (the wake-up that follows a batch short of 4096 entries)
            d.wait_log(r"upstream .*: a reply over the size limits \(max_line\); "
                       r"reconnecting in", slow(15))
            i = info(d)
            self.assertEqual(i["stream_epoch"], "00000000000000aa")
            self.assertEqual(i["source_records_total"], 1000)
            self.assertEqual(i["stream_last_seq"], 1001 * 1000000)
            self.assertLess(rss_bytes(d.pid) - rss0, 8 << 20)

    def test_history_is_refused_at_start(self):
        d = Daemon({"source": {"input": "redis:127.0.0.1:1/k?history=100"}}, wait_ready=False)
        d.start()
        self.assertEqual(d.wait_exit(10), 1)
        self.assertIn("?history= is not supported", d.log_text())
        d.cleanup(check=False)


if __name__ == "__main__":
    unittest.main()
