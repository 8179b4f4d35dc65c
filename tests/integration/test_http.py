"""[http]: Server-Sent Events with ids and exact resume, /metrics,
/info.json, /healthz, the error statuses, keepalives, and slow request heads."""

import re
import socket
import subprocess
import time
import unittest

from pctest import (Daemon, StatsConn, not_under_valgrind, parse_table, recv_for,
                    slow, tcp_client, wait_eof)

EVENT_RE = re.compile(rb"id: ([0-9a-f]{16})-(\d+)\ndata: ([^\n]*)\n\n")


def http_conf(extra_http=None, **sections):
    """A config with a raw listener on {port} and an HTTP one on {port2}."""
    conf = {"source": {"input": "stdin"},
            "http": dict({"listen": "tcp:127.0.0.1:{port2}"}, **(extra_http or {}))}
    for sec, kv in sections.items():
        conf.setdefault(sec, {}).update(kv)
    return conf


def request(port, head, timeout=5.0):
    """Sends a raw request head, reads the whole answer (the daemon closes):
    (status, headers dict with lower-case names, body bytes)."""
    s = tcp_client(port, timeout=timeout)
    s.sendall(head.encode() if isinstance(head, str) else head)
    data, _ = recv_for(s, timeout)
    s.close()
    return parse_answer(data)


def parse_answer(data):
    """Splits an HTTP answer into (status, headers, body)."""
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    m = re.match(r"HTTP/1\.1 (\d{3}) ", lines[0]) if lines and lines[0] else None
    if not m:
        raise AssertionError("no HTTP answer: %r" % data[:200])
    hdrs = {}
    for ln in lines[1:]:
        k, _, v = ln.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    return int(m.group(1)), hdrs, body


def get(port, path, method="GET", headers=""):
    return request(port, "%s %s HTTP/1.1\r\nHost: localhost\r\n%s\r\n" % (method, path, headers))


class SSE:
    """One /events client over a plain socket; keeps every byte of the body."""

    def __init__(self, port, path="/events", headers="", rcvbuf=None):
        self.sock = tcp_client(port, rcvbuf=rcvbuf)
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: localhost\r\n%s\r\n"
                           % (path, headers)).encode())
        self.raw = b""
        self.eof = False

    def read_until(self, pred, timeout=5.0):
        deadline = time.monotonic() + timeout
        while not pred(self) and not self.eof:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(1 << 16)
            except socket.timeout:
                break
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                self.eof = True
            self.raw += chunk
        return pred(self)

    @property
    def head(self):
        return parse_answer(self.raw)

    @property
    def body(self):
        return self.raw.partition(b"\r\n\r\n")[2]

    def events(self):
        """[(epoch, seq, data)] of the whole events received."""
        return [(m.group(1).decode(), int(m.group(2)), m.group(3))
                for m in EVENT_RE.finditer(self.body)]

    def wait_events(self, n, timeout=5.0):
        return self.read_until(lambda s: len(s.events()) >= n, timeout)

    def close(self):
        self.sock.close()


def feed(d, first, last):
    """Writes records 'rec-N' for N in first..last to the daemon's stdin."""
    d.write_stdin(b"".join(b"rec-%d\n" % i for i in range(first, last + 1)))


def info(d):
    with StatsConn(d.path("stats.sock")) as st:
        return st.info()


def wait_records(d, n, timeout=10.0):
    """Waits (bounded) until the daemon has read n records."""
    deadline = time.monotonic() + slow(timeout)
    while info(d)["source_records_total"] < n:
        if time.monotonic() > deadline:
            raise AssertionError("the daemon did not read %d records" % n)
        time.sleep(0.02)


class Events(unittest.TestCase):

    def test_hundred_records_hundred_events_with_consecutive_ids(self):
        with Daemon(http_conf()) as d:
            c = SSE(d.port2)
            d.wait_opens(1)
            feed(d, 1, 100)
            self.assertTrue(c.wait_events(100), c.raw[-300:])
            status, hdrs, _ = c.head
            self.assertEqual(status, 200)
            self.assertEqual(hdrs["content-type"], "text/event-stream")
            self.assertEqual(hdrs["cache-control"], "no-store")
            self.assertEqual(hdrs["connection"], "close")
            self.assertNotIn("transfer-encoding", hdrs)
            self.assertNotIn("content-length", hdrs)
            self.assertTrue(c.body.startswith(b"retry: 2000\n"), c.body[:40])
            self.assertNotIn(b"\r", c.body)
            ev = c.events()
            epoch = info(d)["stream_epoch"]
            self.assertEqual([e[0] for e in ev], [epoch] * 100)
            self.assertEqual([e[1] for e in ev], list(range(1, 101)))
            self.assertEqual([e[2] for e in ev], [b"rec-%d" % i for i in range(1, 101)])
            i = info(d)
            self.assertEqual((i["stream_first_seq"], i["stream_last_seq"]), (1, 100))
            head, rows = parse_table(StatsConn(d.path("stats.sock")).cmd("show clients"))
            self.assertEqual(head[-1], "proto")
            self.assertEqual([r[-1] for r in rows], ["sse"])
            c.close()

    def test_carriage_returns_split_data_lines_heartbeats_are_comments(self):
        conf = http_conf(clients={"heartbeat": "100ms", "heartbeat_line": "tick"})
        with Daemon(conf) as d:
            c = SSE(d.port2)
            d.wait_opens(1)
            d.write_stdin(b"a\rb\r\n")
            self.assertTrue(c.read_until(lambda s: b": tick\n" in s.body and b"data: b" in s.body))
            self.assertRegex(c.body, rb"id: [0-9a-f]{16}-1\ndata: a\ndata: b\ndata: \n\n")
            self.assertNotRegex(c.body, rb"id: [^\n]*\n: tick")
            c.close()

    def test_resume_by_header_and_by_query_exactly_the_missed_records(self):
        with Daemon(http_conf()) as d:
            feed(d, 1, 50)
            d.wait_log(r"ready")
            deadline = time.monotonic() + 5
            while info(d)["stream_last_seq"] < 50 and time.monotonic() < deadline:
                time.sleep(0.05)
            epoch = info(d)["stream_epoch"]
            by_header = SSE(d.port2, headers="Last-Event-ID: %s-20\r\n" % epoch)
            by_query = SSE(d.port2, path="/events?x=1&last_event_id=%s-35" % epoch)
            d.wait_opens(2)
            self.assertTrue(by_header.wait_events(30))
            self.assertTrue(by_query.wait_events(15))
            feed(d, 51, 60)
            self.assertTrue(by_header.wait_events(40))
            self.assertTrue(by_query.wait_events(25))
            time.sleep(0.2)
            by_header.read_until(lambda s: False, 0.2)
            by_query.read_until(lambda s: False, 0.2)
            self.assertEqual([e[1] for e in by_header.events()], list(range(21, 61)))
            self.assertEqual([e[1] for e in by_query.events()], list(range(36, 61)))
            self.assertNotIn(b"event: gap", by_header.body + by_query.body)
            newer = SSE(d.port2, headers="Last-Event-ID: %s-999\r\n" % epoch)
            d.wait_opens(3)
            feed(d, 61, 61)
            self.assertTrue(newer.wait_events(1))
            self.assertEqual([e[1] for e in newer.events()], [61])
            i = info(d)
            self.assertEqual((i["resumes_total"], i["resume_gaps_total"]), (3, 0))

    def test_resume_past_the_ring_gap_with_the_count(self):
        conf = http_conf(clients={"buffer": "64KiB"})
        with Daemon(conf) as d:
            feed(d, 1, 20000)
            deadline = time.monotonic() + 10
            while info(d)["stream_last_seq"] < 20000 and time.monotonic() < deadline:
                time.sleep(0.05)
            i = info(d)
            first, epoch = i["stream_first_seq"], i["stream_epoch"]
            self.assertGreater(first, 10)
            c = SSE(d.port2, headers="Last-Event-ID: %s-5\r\n" % epoch)
            self.assertTrue(c.wait_events(20000 - first + 1, timeout=10))
            body = c.body
            gap = body.index(b"event: gap\n")
            self.assertEqual(body[gap:gap + 40].split(b"\n\n")[0],
                             b"event: gap\ndata: {\"missed\":%d}" % (first - 6))
            self.assertLess(gap, body.index(b"id: "))
            self.assertEqual([e[1] for e in c.events()], list(range(first, 20001)))
            i = info(d)
            self.assertEqual((i["resumes_total"], i["resume_gaps_total"]), (1, 1))

    def test_foreign_epoch_gap_null_then_everything_held(self):
        with Daemon(http_conf()) as d:
            feed(d, 1, 10)
            deadline = time.monotonic() + 5
            while info(d)["stream_last_seq"] < 10 and time.monotonic() < deadline:
                time.sleep(0.05)
            epoch = info(d)["stream_epoch"]
            other = "%016x" % (int(epoch, 16) ^ 1)
            c = SSE(d.port2, headers="Last-Event-ID: %s-4\r\n" % other)
            self.assertTrue(c.wait_events(10))
            self.assertTrue(c.body.startswith(b"retry: 2000\n\nevent: gap\ndata: {\"missed\":null}\n\n"),
                            c.body[:80])
            self.assertEqual([e[1] for e in c.events()], list(range(1, 11)))

    def test_malformed_ids_get_400(self):
        with Daemon(http_conf()) as d:
            for hdr, path in (("Last-Event-ID: 12-3\r\n", "/events"),
                              ("Last-Event-ID: 00000000000000AB-3\r\n", "/events"),
                              ("", "/events?last_event_id=0000000000000000-x"),
                              ("", "/events?last_event_id=%zz")):
                status, _, body = get(d.port2, path, headers=hdr)
                self.assertEqual(status, 400, (hdr, path, body))

    def test_backlog_counts_source_bytes(self):
        conf = http_conf(clients={"backlog": "30"})
        with Daemon(conf) as d:
            feed(d, 1, 10)   # "rec-N\n": 6 bytes each, 7 for 10
            deadline = time.monotonic() + 5
            while info(d)["stream_last_seq"] < 10 and time.monotonic() < deadline:
                time.sleep(0.05)
            c = SSE(d.port2)
            self.assertTrue(c.wait_events(4))
            c.read_until(lambda s: False, 0.3)
            self.assertEqual([e[1] for e in c.events()], [7, 8, 9, 10])

    def test_keepalive_comments_keep_a_quiet_stream_open(self):
        conf = http_conf({"keepalive": "1s"}, clients={"idle_timeout": "2500ms"})
        with Daemon(conf) as d:
            c = SSE(d.port2)
            raw = tcp_client(d.port)
            d.wait_opens(2)
            t0 = time.monotonic()
            c.read_until(lambda s: False, slow(5.5))
            self.assertFalse(c.eof, "stream closed after %.1fs" % (time.monotonic() - t0))
            self.assertGreaterEqual(c.body.count(b"\n:\n") + c.body.startswith(b":\n"), 3,
                                    c.body)
            self.assertIsNotNone(wait_eof(raw, 1.0), "quiet raw client not closed by idle")
            c.close()

    def test_skipped_client_gets_a_gap_notice_never_a_torn_event(self):
        conf = http_conf(clients={"buffer": "64KiB", "overflow": "skip",
                                  "send_timeout": "0"})
        with Daemon(conf) as d:
            c = SSE(d.port2, rcvbuf=4096)
            d.wait_opens(1)
            line = b"x" * 90
            d.write_stdin(b"".join(b"%d %s\n" % (i, line) for i in range(1, 30001)))
            deadline = time.monotonic() + 20
            while info(d)["stream_last_seq"] < 30000 and time.monotonic() < deadline:
                time.sleep(0.05)
            self.assertTrue(c.read_until(lambda s: b"id: " in s.body and
                                         s.body.rstrip(b"\n").endswith(b"30000 " + line),
                                         timeout=slow(60)))
            body = c.body.partition(b"retry: 2000\n\n")[2]
            blocks = body.split(b"\n\n")
            self.assertEqual(blocks[-1], b"")
            last, gaps = 0, 0
            for b in blocks[:-1]:
                if b.startswith(b"event: gap\n"):
                    m = re.match(rb"event: gap\ndata: \{\"missed\":(\d+)\}$", b)
                    self.assertIsNotNone(m, b)
                    missed = int(m.group(1))
                    gaps += 1
                    continue
                m = re.match(rb"id: [0-9a-f]{16}-(\d+)\ndata: (\d+) x{90}$", b)
                self.assertIsNotNone(m, b[:120])
                seq = int(m.group(1))
                self.assertEqual(int(m.group(2)), seq)
                if last and seq != last + 1:
                    self.assertEqual(seq, last + missed + 1, "gap count")
                last = seq
            self.assertGreaterEqual(gaps, 1)
            self.assertGreater(info(d)["clients_skipped_bytes_total"], 0)


class Answers(unittest.TestCase):

    def test_each_status(self):
        conf = http_conf({"request_timeout": "500ms"}, clients={"max_clients": "1"})
        with Daemon(conf) as d:
            self.assertEqual(get(d.port2, "/nope")[0], 404)
            self.assertEqual(get(d.port2, "/")[0], 200)     # the live page
            self.assertEqual(get(d.port2, "/events/")[0], 404)
            status, hdrs, _ = get(d.port2, "/events", method="POST")
            self.assertEqual((status, hdrs.get("allow")), (405, "GET, HEAD"))
            self.assertEqual(get(d.port2, "/events", method="OPTIONS")[0], 405)
            self.assertEqual(get(d.port2, "/metrics", method="DELETE")[0], 405)
            self.assertEqual(get(d.port2, "/events", headers="Content-Length: 5\r\n")[0], 400)
            self.assertEqual(get(d.port2, "/events",
                                 headers="Transfer-Encoding: chunked\r\n")[0], 400)
            self.assertEqual(request(d.port2, "GET /events\r\n\r\n")[0], 400)
            status, _, _ = request(d.port2, "GET / HTTP/1.1\r\nX: %s\r\n\r\n" % ("a" * 9000))
            self.assertEqual(status, 431)
            s = tcp_client(d.port2)
            s.sendall(b"GET /events HTTP/1.1\r\nHost: x\r\n")
            t0 = time.monotonic()
            data, eof = recv_for(s, slow(3))
            self.assertTrue(eof)
            self.assertEqual(parse_answer(data)[0], 408)
            self.assertLess(time.monotonic() - t0, slow(2))
            one = SSE(d.port2)
            d.wait_opens(1)
            status, hdrs, _ = get(d.port2, "/events")
            self.assertEqual(status, 503)
            self.assertEqual(hdrs.get("retry-after"), "2")
            raw = tcp_client(d.port)  # a raw client beyond max_clients: rejected too
            self.assertIsNotNone(wait_eof(raw, 2.0))
            one.close()
            i = info(d)
            self.assertEqual(i["clients_rejected_total"], 2)
            self.assertEqual(i["http_requests_4xx_total"], 10)
            self.assertEqual(i["http_requests_5xx_total"], 1)
            self.assertEqual(i["http_requests_2xx_total"], 2)   # / and /events

    def test_metrics_info_healthz_and_head(self):
        with Daemon(http_conf()) as d:
            status, hdrs, body = get(d.port2, "/metrics")
            self.assertEqual((status, hdrs["content-type"]), (200, "text/plain; version=0.0.4"))
            self.assertEqual(int(hdrs["content-length"]), len(body))
            self.assertIn(b"\npipecast_stream_info{epoch=\"", body)
            self.assertFalse(body.endswith(b"\n\n"))
            status, hdrs, body = get(d.port2, "/metrics", method="HEAD")
            self.assertEqual((status, body), (200, b""))
            self.assertGreater(int(hdrs["content-length"]), 1000)
            status, hdrs, body = get(d.port2, "/info.json")
            self.assertEqual((status, hdrs["content-type"]), (200, "application/json"))
            self.assertNotIn("access-control-allow-origin", hdrs)
            import json
            j = json.loads(body)
            self.assertEqual(j["clients_connected"], 0)
            self.assertEqual(len(j["stream_epoch"]), 16)
            self.assertEqual(get(d.port2, "/healthz")[::2], (200, b"ok\n"))
            status, hdrs, body = get(d.port2, "/events", method="HEAD")
            self.assertEqual((status, hdrs["content-type"], body), (200, "text/event-stream", b""))
            self.assertEqual(info(d)["clients_accepted_total"], 0)

    @not_under_valgrind("promtool run")
    def test_promtool_accepts_metrics_over_http(self):
        with Daemon(http_conf()) as d:
            c = SSE(d.port2)
            d.wait_opens(1)
            out = subprocess.run(["curl", "-sf", "http://127.0.0.1:%d/metrics" % d.port2],
                                 capture_output=True, timeout=10)
            self.assertEqual(out.returncode, 0)
            p = subprocess.run(["promtool", "check", "metrics"], input=out.stdout,
                               capture_output=True, timeout=30)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertIn(b'pipecast_http_requests_total{class="2xx"} 1', out.stdout)
            c.close()

    def test_healthz_503_with_the_state(self):
        conf = {"source": {"input": "exec:exit 0", "restart_delay": "1h"},
                "http": {"listen": "tcp:127.0.0.1:{port2}"}}
        with Daemon(conf) as d:
            deadline = time.monotonic() + 5
            while info(d)["source_state"] != "restarting" and time.monotonic() < deadline:
                time.sleep(0.05)
            self.assertEqual(get(d.port2, "/healthz")[::2], (503, b"restarting\n"))

    def test_metrics_off_and_cors(self):
        conf = http_conf({"metrics": "off", "page": "off",
                          "cors_origin": "https://app.example"})
        with Daemon(conf) as d:
            self.assertEqual(get(d.port2, "/")[0], 404)
            self.assertEqual(get(d.port2, "/metrics")[0], 404)
            self.assertEqual(get(d.port2, "/healthz")[0], 404)
            status, hdrs, _ = get(d.port2, "/events", method="OPTIONS")
            self.assertEqual(status, 204)
            self.assertEqual(hdrs["access-control-allow-origin"], "https://app.example")
            self.assertIn("Last-Event-ID", hdrs["access-control-allow-headers"])
            status, hdrs, _ = get(d.port2, "/info.json")
            self.assertEqual(hdrs["access-control-allow-origin"], "https://app.example")
            c = SSE(d.port2)
            self.assertTrue(c.read_until(lambda s: b"retry:" in s.raw))
            self.assertEqual(c.head[1]["access-control-allow-origin"], "https://app.example")

    def test_raw_framing_events_404_and_no_raw_listener(self):
        conf = {"source": {"input": "stdin", "framing": "raw"},
                "clients": {"listen": "none"},
                "http": {"listen": "tcp:127.0.0.1:{port2}"}}
        with Daemon(conf) as d:
            status, _, body = get(d.port2, "/events")
            self.assertEqual(status, 404)
            self.assertIn(b"raw", body)
            with self.assertRaises(ConnectionRefusedError):
                tcp_client(d.port).close()


class Reload(unittest.TestCase):

    def test_http_listener_added_and_removed_by_reload(self):
        from test_reload import rewrite, sighup
        base = {"source": {"input": "stdin"}}
        with Daemon(base) as d:
            feed(d, 1, 3)
            wait_records(d, 3)     # read before the reload, or they reach the SSE ring
            with self.assertRaises(ConnectionRefusedError):
                tcp_client(d.port2).close()
            rewrite(d, http_conf())
            sighup(d)
            c = SSE(d.port2, headers="Last-Event-ID: %s-0\r\n" % info(d)["stream_epoch"])
            d.wait_opens(1)
            feed(d, 4, 6)
            self.assertTrue(c.wait_events(3))
            # the SSE memory began at the reload: 1..3 were before it
            self.assertTrue(c.body.startswith(b"retry: 2000\n\nevent: gap\ndata: {\"missed\":3}\n\n"),
                            c.body[:80])
            self.assertEqual([e[1] for e in c.events()], [4, 5, 6])
            rewrite(d, base)
            sighup(d)
            with self.assertRaises(ConnectionRefusedError):
                tcp_client(d.port2).close()
            feed(d, 7, 7)
            self.assertTrue(c.wait_events(4), "a stream of a removed listener stays")


class SlowHeads(unittest.TestCase):

    @not_under_valgrind("500 connections, timing")
    def test_slowloris_closed_at_request_timeout_while_serving(self):
        conf = http_conf({"request_timeout": "2s"})
        with Daemon(conf, rlimit_nofile=4096) as d:
            socks, opened = [], []
            for _ in range(500):
                opened.append(time.monotonic())
                s = tcp_client(d.port2)
                s.sendall(b"G")
                socks.append(s)
            t0 = time.monotonic()
            c = SSE(d.port2)
            d.wait_opens(1, timeout=slow(5))
            with StatsConn(d.path("stats.sock")) as st:
                head, rows = st.timers()
                live = {r[0]: int(r[1]) for r in rows}
                self.assertEqual(live["client"], 1)
                self.assertGreaterEqual(live["http"], 400)
            closed = [None] * len(socks)
            text = b"ET /events HTTP/1.1\r\nHost: x\r\n"
            i = 0
            while time.monotonic() - t0 < slow(6) and None in closed:
                for k, s in enumerate(socks):
                    if closed[k] is not None or i >= len(text):
                        continue
                    try:
                        s.sendall(text[i:i + 1])
                    except OSError:
                        pass
                i += 1
                feed(d, i, i)
                self.assertEqual(get(d.port2, "/healthz")[0], 200)
                end = time.monotonic() + 1.0
                for k, s in enumerate(socks):
                    if closed[k] is not None:
                        continue
                    s.setblocking(False)
                    try:
                        data = s.recv(4096)
                    except BlockingIOError:
                        continue
                    except ConnectionResetError:
                        data = b""
                    closed[k] = (time.monotonic(), data)
                time.sleep(max(0.0, end - time.monotonic()))
            self.assertNotIn(None, closed)
            for (when, data), t_open in zip(closed, opened):
                self.assertGreater(when - t_open, 1.5)
                self.assertTrue(data == b"" or data.startswith(b"HTTP/1.1 408 "), data[:40])
            self.assertTrue(c.wait_events(3, timeout=slow(15)))
            for s in socks:
                s.close()
            self.assertEqual(info(d)["timers_client_live"], 1)


if __name__ == "__main__":
    unittest.main()
