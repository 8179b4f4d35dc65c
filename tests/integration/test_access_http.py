#!/usr/bin/env python3
"""[access] against the real daemon, HTTP side: address rules and
max_per_ip at accept (403), a trusted proxy's PROXY header before the
request head, tokens for /events, / and /info.json in the
three forms (Authorization: Bearer, ?token=, the cookie pipecast_token with
an Origin of this host or cors_origin; 401 with WWW-Authenticate: Bearer
otherwise), metrics_allow on /metrics and /healthz, a reload that drops a
stream's token, and tokens never written to the log. A refused request
never receives stream data.
Run alone: python3 tests/integration/test_access_http.py
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pctest import Daemon, StatsConn, recv_for, slow, wait_eof  # noqa: E402
from test_access_rules import client as connect  # noqa: E402
from test_http import SSE, feed, info, parse_answer  # noqa: E402

TOKENS = "# readers\nalpha-1\nbeta-2\n"


def conf(access=None, http=None, **daemon):
    c = {"source": {"input": "stdin"},
         "clients": {"backlog": "1KiB"},
         "http": dict({"listen": "tcp:127.0.0.1:{port2}"}, **(http or {})),
         "access": access or {}}
    if daemon:
        c["daemon"] = daemon
    return c


def request(port, path, headers="", src="127.0.0.1", host="localhost"):
    """GET PATH from SRC: (status, headers, body) of the whole answer."""
    s = connect(port, src)
    s.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\n%s\r\n" % (path, host, headers)).encode())
    data, _ = recv_for(s, slow(5))
    s.close()
    return parse_answer(data)


def stream(port, path, headers="", src="127.0.0.1"):
    """An /events client from SRC (test_http's SSE, bound first)."""
    sse = SSE.__new__(SSE)
    sse.sock = connect(port, src)
    sse.sock.sendall(("GET %s HTTP/1.1\r\nHost: localhost\r\n%s\r\n"
                      % (path, headers)).encode())
    sse.raw, sse.eof = b"", False
    return sse


class TokenDaemon(Daemon):
    """A daemon whose tokens file (mode 0600) is written before it starts."""

    def __init__(self, access=None, http=None, **daemon):
        a = {"tokens_file": "{dir}/tokens"}
        a.update(access or {})
        super().__init__(conf(a, http, **daemon))

    def write_tokens(self, text):
        p = self.path("tokens")
        with open(p, "w") as f:
            f.write(text)
        os.chmod(p, 0o600)

    def start(self):
        self.write_tokens(TOKENS)
        super().start()


class Addresses(unittest.TestCase):

    def test_denied_address_gets_403_and_no_stream_data(self):
        with Daemon(conf({"deny": "127.0.0.2"})) as d:
            feed(d, 1, 20)
            good = stream(d.port2, "/events")
            self.assertTrue(good.wait_events(20, slow(5)), good.raw[:300])
            for path in ("/events", "/info.json", "/", "/ws"):
                st, hdrs, body = request(d.port2, path, src="127.0.0.2")
                self.assertEqual(st, 403, path)
                self.assertNotIn(b"data:", body)
                self.assertNotIn(b"rec-", body)
            i = info(d)
            want = {"access_refused_address_total": 4, "clients_rejected_total": 0,
                    "clients_connected": 1, "http_requests_4xx_total": 4}
            self.assertEqual({k: i[k] for k in want}, want)
            d.wait_log(r"access: refused 127\.0\.0\.2:\d+ reason=address")
            good.close()

    def test_max_per_ip_counts_http_connections(self):
        with Daemon(conf({"max_per_ip": 2})) as d:
            feed(d, 1, 5)
            two = [stream(d.port2, "/events", src="127.0.0.3") for _ in range(2)]
            for s in two:
                self.assertTrue(s.wait_events(5, slow(5)), s.raw[:300])
            st, _, body = request(d.port2, "/events", src="127.0.0.3")
            self.assertEqual(st, 403)
            self.assertNotIn(b"rec-", body)
            other = stream(d.port2, "/events", src="127.0.0.4")
            self.assertTrue(other.wait_events(5, slow(5)), "another address was refused")
            self.assertEqual(info(d)["access_refused_per_ip_total"], 1)
            for s in two + [other]:
                s.close()


    def test_proxy_header_then_request_head_rules_apply_to_the_named_client(self):
        with Daemon(conf({"trusted_proxies": "127.0.0.1", "deny": "192.0.2.7"}),
                    ) as d:
            feed(d, 1, 3)
            for src, want in (("192.0.2.7", 403), ("192.0.2.8", 200)):
                s = connect(d.port2)
                s.sendall(("PROXY TCP4 %s 127.0.0.1 4000 80\r\n"
                           "GET /info.json HTTP/1.1\r\nHost: x\r\n\r\n" % src).encode())
                data, _ = recv_for(s, slow(5))
                s.close()
                self.assertEqual(parse_answer(data)[0], want, src)
            self.assertEqual(info(d)["access_refused_address_total"], 1)
            d.wait_log(r"access: refused 192\.0\.2\.7:4000 reason=address")
            # The default metrics_allow is loopback only: a client the proxy
            # names from another network may not read /metrics or /healthz.
            for path in ("/metrics", "/healthz"):
                s = connect(d.port2)
                s.sendall(("PROXY TCP4 192.0.2.8 127.0.0.1 4001 80\r\n"
                           "GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path).encode())
                data, _ = recv_for(s, slow(5))
                s.close()
                self.assertEqual(parse_answer(data)[0], 403, path)


class Tokens(unittest.TestCase):

    def assert_refused(self, d, path, headers="", **kw):
        st, hdrs, body = request(d.port2, path, headers, **kw)
        self.assertEqual(st, 401, (path, headers))
        self.assertEqual(hdrs.get("www-authenticate"), "Bearer")
        self.assertNotIn(b"rec-", body)

    def assert_streams(self, d, path, headers=""):
        s = stream(d.port2, path, headers)
        ok = s.wait_events(3, slow(5))
        s.close()
        self.assertTrue(ok, (path, headers, s.raw[:300]))

    def test_missing_and_wrong_tokens_get_401(self):
        with TokenDaemon() as d:
            feed(d, 1, 3)
            self.assert_refused(d, "/events")
            self.assert_refused(d, "/events", "Authorization: Bearer alpha-2\r\n")
            self.assert_refused(d, "/events?token=alpha-1x")
            self.assert_refused(d, "/events", "Authorization: Basic YWxwaGEtMQ==\r\n")
            self.assert_refused(d, "/info.json")
            self.assert_refused(d, "/")
            self.assert_refused(d, "/ws", "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                                "Sec-WebSocket-Version: 13\r\n"
                                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n")
            self.assertEqual(info(d)["access_refused_token_total"], 7)
            self.assertEqual(info(d)["clients_connected"], 0)

    def test_right_token_in_each_form_is_served(self):
        with TokenDaemon() as d:
            feed(d, 1, 3)
            self.assert_streams(d, "/events", "Authorization: Bearer beta-2\r\n")
            self.assert_streams(d, "/events?token=alpha-1")
            st, _, body = request(d.port2, "/info.json?token=alpha-1")
            self.assertEqual(st, 200)
            self.assertIn(b'"source_records_total":3', body)
            self.assertEqual(info(d)["access_refused_token_total"], 0)

    def test_cookie_only_with_an_origin_of_this_host_or_cors_origin(self):
        with TokenDaemon(http={"cors_origin": "https://app.example"}) as d:
            feed(d, 1, 3)
            host = "localhost:%d" % d.port2
            cookie = "Cookie: theme=dark; pipecast_token=alpha-1\r\n"
            st, _, _ = request(d.port2, "/info.json",
                               cookie + "Origin: http://%s\r\n" % host, host=host)
            self.assertEqual(st, 200)
            st, _, _ = request(d.port2, "/info.json",
                               cookie + "Origin: https://app.example\r\n", host=host)
            self.assertEqual(st, 200)
            self.assert_refused(d, "/info.json", cookie, host=host)
            self.assert_refused(d, "/info.json", cookie + "Origin: http://evil.example\r\n",
                                host=host)
            self.assertEqual(info(d)["access_refused_token_total"], 2)

    def test_tokens_are_never_logged(self):
        with TokenDaemon(log_level="debug") as d:
            feed(d, 1, 3)
            self.assert_streams(d, "/events?token=alpha-1&x=1")
            self.assert_refused(d, "/events?token=zz-secret-9")
            self.assert_refused(d, "/events", "Authorization: Bearer yy-secret-8\r\n")
            d.wait_log(r"http \S+ GET /events 401")
            text = d.log_text()
            for t in ("alpha-1", "zz-secret-9", "yy-secret-8", "token="):
                self.assertNotIn(t, text)

    def test_reload_that_drops_a_streams_token_closes_it(self):
        with TokenDaemon() as d:
            feed(d, 1, 3)
            a = stream(d.port2, "/events?token=alpha-1")
            b = stream(d.port2, "/events", "Authorization: Bearer beta-2\r\n")
            for s in (a, b):
                self.assertTrue(s.wait_events(3, slow(5)))
            d.write_tokens("beta-2\n")
            with StatsConn(d.path("stats.sock")) as st:
                self.assertEqual(st.cmd("reload"), "ok\n")
            self.assertIsNotNone(wait_eof(a.sock, slow(5)), "a stream without its token stayed")
            self.assertIn(" denied\n", StatsConn(d.path("stats.sock")).cmd("show closed"))
            feed(d, 4, 4)
            self.assertTrue(b.wait_events(4, slow(5)), "the stream that keeps its token stopped")
            self.assertEqual(info(d)["clients_closed_denied_total"], 1)
            a.close()
            b.close()


class Metrics(unittest.TestCase):

    def test_metrics_allow_refuses_other_addresses(self):
        with Daemon(conf({"metrics_allow": "127.0.0.1/32"})) as d:
            for path in ("/metrics", "/healthz"):
                st, _, body = request(d.port2, path, src="127.0.0.2")
                self.assertEqual(st, 403, path)
                self.assertNotIn(b"pipecast_", body)
                st, _, _ = request(d.port2, path, src="127.0.0.1")
                self.assertEqual(st, 200, path)
            # metrics_allow is not a stream rule: 127.0.0.2 still streams
            st, _, _ = request(d.port2, "/info.json", src="127.0.0.2")
            self.assertEqual(st, 200)
            self.assertEqual(info(d)["access_refused_address_total"], 2)

    def test_default_lets_loopback_read_metrics_without_a_token(self):
        with TokenDaemon() as d:
            st, _, body = request(d.port2, "/metrics", src="127.0.0.9")
            self.assertEqual(st, 200)
            self.assertIn(b"pipecast_access_refused_total{reason=", body)


if __name__ == "__main__":
    unittest.main()
