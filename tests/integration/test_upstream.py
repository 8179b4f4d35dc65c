"""[source] input = sse:http://HOST:PORT/PATH: relay chains of real daemons
over loopback (pipecast.conf(5), "Upstream sources"; pipecastd(8), "Scaling
out"): ids pass through, killed and restarted links resume by id, gap
notices only where records were really lost, bad upstreams never crash the
relay nor grow its memory, and one timer for the upstream."""

import re
import socket
import threading
import time
import unittest

from pctest import (Daemon, Reader, StatsConn, check_backoff, fake_upstream, free_port,
                    parse_table, records, rss_bytes, tcp_client)

TOTAL = 100000
BUF = "16MiB"
BACKLOG = "8MiB"


def root_conf(backlog=BACKLOG):
    """A producer node: stdin, raw on {port}, HTTP on {port2}."""
    return {"source": {"input": "stdin"},
            "clients": {"buffer": BUF, "backlog": backlog},
            "http": {"listen": "tcp:127.0.0.1:{port2}", "keepalive": "0"}}


def relay_conf(up_port, port=None, port2=None, delay="100ms", backlog=BACKLOG, **source):
    """A relay of the node whose HTTP port is up_port."""
    conf = {"source": dict({"input": "sse:http://127.0.0.1:%d/events" % up_port,
                            "restart_delay": delay}, **source),
            "clients": {"buffer": BUF, "backlog": backlog,
                        "listen": "tcp:127.0.0.1:%s" % (port or "{port}")},
            "http": {"listen": "tcp:127.0.0.1:%s" % (port2 or "{port2}"), "keepalive": "0"}}
    return conf


def info(d):
    with StatsConn(d.path("stats.sock")) as st:
        return st.info()


def sse_client(port, last_id=None):
    s = tcp_client(port)
    extra = "Last-Event-ID: %s\r\n" % last_id if last_id else ""
    s.sendall(("GET /events HTTP/1.1\r\nHost: localhost\r\n%s\r\n" % extra).encode())
    return s


def sse_body(raw):
    return raw.partition(b"\r\n\r\n")[2]


def sse_events(epoch, first, stop):
    """The SSE form of records(first, stop) numbered from first + 1."""
    return b"".join(b"id: %s-%d\ndata: %08d\n\n" % (epoch.encode(), i + 1, i)
                    for i in range(first, stop))


def sse_client_ids(d):
    """Ids of the daemon's SSE clients (on a root: its relays)."""
    _, rows = parse_table(StatsConn(d.path("stats.sock")).cmd("show clients"))
    return [int(r[0]) for r in rows if r[-1] == "sse"]


def kill_client(d, cid):
    reply = StatsConn(d.path("stats.sock")).cmd("kill client %d" % cid)
    if not reply.startswith("ok"):
        raise AssertionError("kill client %d: %r" % (cid, reply))


class Feeder(threading.Thread):
    """Writes records(0, total) to a daemon's stdin, BATCH every INTERVAL s."""

    def __init__(self, d, total=TOTAL, batch=1000, interval=0.03):
        super().__init__(daemon=True)
        self.d, self.total, self.batch, self.interval = d, total, batch, interval
        self.sent = 0

    def run(self):
        while self.sent < self.total:
            n = min(self.batch, self.total - self.sent)
            self.d.write_stdin(records(self.sent, self.sent + n))
            self.sent += n
            time.sleep(self.interval)


def read_relay(c):
    """A Reader on a relay's raw ({port}) and SSE ({port2}) client, once its
    upstream streams."""
    c.wait_log(r"upstream .*: streaming", 10)
    r = Reader().start()
    r.add(tcp_client(c.port), "raw")
    r.add(sse_client(c.port2), "sse")
    c.wait_opens(2)
    return r


def wait_for(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.02)


class RelayChain(unittest.TestCase):

    def test_chain_of_three_killed_links_lose_nothing_repeat_nothing(self):
        with Daemon(root_conf()) as a, \
             Daemon(relay_conf(a.port2)) as b, \
             Daemon(relay_conf(b.port2)) as c:
            b.wait_log(r"upstream .*: streaming", 10)
            r = read_relay(c)
            epoch = info(a)["stream_epoch"]
            ic0 = info(c)
            feeder = Feeder(a)
            feeder.start()
            for k, at in enumerate((25000, 50000, 75000)):
                wait_for(lambda: info(a)["source_records_total"] >= at, 30, "%d records" % at)
                ids = sse_client_ids(a)
                self.assertEqual(len(ids), 1, ids)
                kill_client(a, ids[0])
                b.wait_count(r"upstream .*: streaming, resuming after %s-\d+" % epoch, k + 1, 15)
            feeder.join(60)
            want_raw = records(0, TOTAL)
            want_sse = b"retry: 2000\n\n" + sse_events(epoch, 0, TOTAL)
            ok = r.wait(lambda rr: rr.length("raw") >= len(want_raw) and
                        len(sse_body(rr.get("sse"))) >= len(want_sse), 60)
            raw, sse = r.get("raw"), sse_body(r.get("sse"))
            r.stop()
            self.assertTrue(ok, "raw %d/%d sse %d/%d bytes" % (len(raw), len(want_raw),
                                                               len(sse), len(want_sse)))
            self.assertEqual(raw, want_raw)
            self.assertNotIn(b"event: gap", sse)
            self.assertEqual(sse, want_sse)
            ib, ic = info(b), info(c)
            self.assertEqual(ib["source_restarts_total"], 3)
            self.assertEqual(ic["source_restarts_total"], 0)
            # Nothing allocated per record on the last relay (its stats
            # connections count apart, in allocations_stats_total).
            for k in ("allocations_clients_total", "allocations_other_total"):
                self.assertEqual(ic[k], ic0[k], k)
            for i in (ib, ic):
                self.assertEqual(i["stream_epoch"], epoch)
                self.assertEqual(i["stream_last_seq"], TOTAL)
                self.assertEqual(i["source_records_total"], TOTAL)
            # One timer for the upstream, one per client, however many
            # reconnects: B has C as its one client.
            _, rows = parse_table(StatsConn(b.path("stats.sock")).cmd("show timers"))
            t = {row[0]: row for row in rows}
            self.assertEqual(rows[-1][0], "upstream")
            self.assertEqual((int(t["upstream"][1]), int(t["upstream"][2])), (1, 1))
            self.assertEqual(int(t["client"][1]), 1)
            self.assertEqual(int(t["source_idle"][2]), 0)

    def restart_middle(self, root_backlog):
        """A -> B -> C with 2,000 records through; B stops, 1,000 more come
        into A, B starts again on the same ports: what C's SSE client gets."""
        bport, bport2 = free_port(), free_port()
        with Daemon(root_conf(backlog=root_backlog)) as a, \
             Daemon(relay_conf(a.port2, bport, bport2)) as b, \
             Daemon(relay_conf(bport2, delay="2s")) as c:
            b.wait_log(r"upstream .*: streaming", 10)   # A's backlog may be 0
            r = read_relay(c)
            epoch = info(a)["stream_epoch"]
            a.write_stdin(records(0, 2000))
            wait_for(lambda: info(c)["stream_last_seq"] == 2000, 20, "C at 2000")
            b.stop()
            a.write_stdin(records(2000, 3000))
            wait_for(lambda: info(a)["stream_last_seq"] == 3000, 20, "A at 3000")
            with Daemon(relay_conf(a.port2, bport, bport2)) as b2:
                b2.wait_log(r"upstream .*: streaming", 10)
                c.wait_log(r"upstream .*: streaming, resuming after %s-2000" % epoch, 20)
                a.write_stdin(records(3000, 4000))
                wait_for(lambda: info(c)["stream_last_seq"] == 4000, 20, "C at 4000")
                time.sleep(0.3)
                sse, raw = sse_body(r.get("sse")), r.get("raw")
                r.stop()
                return epoch, sse, raw

    def test_restarted_relay_whose_new_ring_covers_the_gap_gives_no_notice(self):
        epoch, sse, raw = self.restart_middle(BACKLOG)
        self.assertEqual(sse, b"retry: 2000\n\n" + sse_events(epoch, 0, 4000))
        self.assertEqual(raw, records(0, 4000))

    def test_restarted_relay_without_the_records_gives_a_gap_notice(self):
        epoch, sse, raw = self.restart_middle("0")
        gap = b'event: gap\ndata: {"missed":null}\n\n'
        self.assertEqual(sse.count(b"event: gap"), 1, sse[-400:])
        self.assertEqual(sse, b"retry: 2000\n\n" + sse_events(epoch, 0, 2000) + gap +
                         sse_events(epoch, 3000, 4000))
        self.assertEqual(raw, records(0, 2000) + records(3000, 4000))


HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n"


class BadUpstream(unittest.TestCase):

    def relay(self, send, delay="100ms"):
        return fake_upstream(self, send, lambda port: relay_conf(port, delay=delay))

    def test_garbage_is_refused_and_retried_with_backoff(self):
        def send(conn, stop):
            conn.sendall(b"\x00\xffnot http at all\r\n\r\n" * 10)
        up, conf = self.relay(send)
        with Daemon(conf) as d:
            check_backoff(self, d, r"upstream .*reconnecting in", 15)

    def test_endless_header_is_cut_at_its_bound(self):
        def send(conn, stop):
            conn.sendall(b"HTTP/1.1 200 OK\r\n")
            for _ in range(2000):
                if stop.is_set():
                    return
                conn.sendall(b"X-Pad: " + b"y" * 1000 + b"\r\n")
        up, conf = self.relay(send, delay="1s")
        with Daemon(conf) as d:
            rss0 = rss_bytes(d.pid)
            m = d.wait_log(r"upstream .*: (.*); reconnecting in", 15)
            self.assertRegex(m.group(1), r"(?i)head")
            self.assertEqual(info(d)["source_state"], "restarting")
            self.assertLess(rss_bytes(d.pid) - rss0, 8 << 20)

    def test_ten_mib_line_is_dropped_whole_next_event_delivered(self):
        def send(conn, stop):
            conn.sendall(HEAD + b"id: 00000000000000aa-1\ndata: before\n\n")
            chunk = b"z" * (1 << 16)
            conn.sendall(b"data: ")
            for _ in range(160):
                conn.sendall(chunk)
            conn.sendall(b"\nid: 00000000000000aa-3\n\nid: 00000000000000aa-4\ndata: after\n\n")
            stop.wait(30)
        up, conf = self.relay(send)
        with Daemon(conf) as d:
            s = tcp_client(d.port)
            d.wait_opens(1)
            rss0 = rss_bytes(d.pid)
            d.wait_log(r"an event longer than max_line .* dropped", 20)
            got = b""
            deadline = time.monotonic() + 20
            while not got.endswith(b"after\n") and time.monotonic() < deadline:
                s.settimeout(max(0.1, deadline - time.monotonic()))
                try:
                    got += s.recv(4096)
                except socket.timeout:
                    break
            self.assertEqual(got, b"before\nafter\n")
            i = info(d)
            self.assertEqual((i["stream_epoch"], i["stream_last_seq"]), ("00000000000000aa", 4))
            self.assertEqual(i["source_records_total"], 2)
            self.assertLess(rss_bytes(d.pid) - rss0, 8 << 20)
            self.assertEqual(up.conns, 1)

    def test_silent_upstream_is_reconnected_by_the_one_timer(self):
        def send(conn, stop):
            conn.sendall(HEAD + b": hello\n\n")
            stop.wait(30)
        up, conf = self.relay(send)
        conf["source"]["idle_timeout"] = "300ms"
        with Daemon(conf) as d:
            d.wait_count(r"upstream .*: silent for [\d.]+ s", 2, 15)
            d.wait_count(r"upstream .*: streaming", 2, 15)
            self.assertGreaterEqual(up.conns, 2)
            self.assertGreaterEqual(info(d)["source_restarts_total"], 1)
            _, rows = parse_table(StatsConn(d.path("stats.sock")).cmd("show timers"))
            t = {row[0]: row for row in rows}
            self.assertEqual((int(t["upstream"][1]), int(t["upstream"][2])), (1, 1))
            self.assertEqual(int(t["source_idle"][2]), 0)

    def test_foreign_ids_get_the_nodes_own_epoch_gap_notices_pass_on(self):
        def send(conn, stop):
            conn.sendall(HEAD + b"id: 1796032081:0\ndata: a\n\n"
                         b"data: b\n\n"
                         b"event: gap\ndata: {\"missed\": 7}\n\n"
                         b"id: 00000000000000bb-9\ndata: c\ndata: d\n\n")
            stop.wait(30)
        up, conf = self.relay(send)
        with Daemon(conf) as d:
            r = Reader().start()
            r.add(sse_client(d.port2), "sse")
            d.wait_opens(1)
            self.assertTrue(r.wait(lambda rr: b"data: d" in rr.get("sse"), 10), r.get("sse"))
            body = sse_body(r.get("sse"))
            r.stop()
            own = re.match(rb"retry: 2000\n\nid: ([0-9a-f]{16})-1\n", body)
            self.assertIsNotNone(own, body)
            own = own.group(1)
            self.assertNotEqual(own, b"00000000000000bb")
            self.assertEqual(body, b"retry: 2000\n\n" +
                             b"id: %s-1\ndata: a\n\nid: %s-2\ndata: b\n\n" % (own, own) +
                             b'event: gap\ndata: {"missed":7}\n\n'
                             b"id: 00000000000000bb-9\ndata: c\ndata: d\n\n")
            self.assertEqual(info(d)["stream_epoch"], "00000000000000bb")


class UpstreamConfig(unittest.TestCase):

    def test_https_is_a_configuration_error_pointing_to_tls(self):
        d = Daemon({"source": {"input": "sse:https://127.0.0.1:1/events"}}, wait_ready=False)
        d.start()
        self.assertEqual(d.wait_exit(10), 1)
        self.assertIn("pipecastd(8), TLS", d.log_text())
        d.cleanup(check=False)

    def test_upstream_down_at_start_is_restarting_then_open(self):
        with Daemon(root_conf()) as a:
            port2 = a.port2
        with Daemon(relay_conf(port2, delay="200ms")) as b:
            b.wait_count(r"upstream .*reconnecting in", 2, 10)
            self.assertEqual(info(b)["source_state"], "restarting")
            conf = root_conf()
            conf["http"]["listen"] = "tcp:127.0.0.1:%d" % port2
            with Daemon(conf) as a2:
                b.wait_log(r"upstream .*: streaming", 20)
                self.assertEqual(info(b)["source_state"], "open")
                a2.write_stdin(b"x\n")
                wait_for(lambda: info(b)["stream_last_seq"] == 1, 10, "one record")
                self.assertGreaterEqual(info(b)["source_restarts_total"], 1)


if __name__ == "__main__":
    unittest.main()
