#!/usr/bin/env python3
"""The TLS recipe of pipecastd(8) ("TLS"), tested as written: HAProxy
terminates TLS with a certificate made here by openssl (with a
subjectAltName, which curl needs), passes the event stream through unbuffered
and tells pipecastd each client's address with PROXY protocol v2
(trusted_proxies), and keeps /metrics and /healthz off the public side.
curl --cacert reads /events through it and resumes by id across the proxy.
Skipped when haproxy, openssl or curl is missing (tests/deps.sh installs
them). Run alone: python3 tests/integration/test_tls.py
"""

import os
import re
import select
import shutil
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pctest import Daemon, StatsConn, free_port, parse_table, recv_for, slow  # noqa: E402
from test_access_rules import client as connect  # noqa: E402
from test_http import feed, parse_answer, wait_records  # noqa: E402

# The recipe's configuration, as pipecastd(8) prints it, with this test's
# ports and files put in.
HAPROXY_CFG = """\
global
    maxconn 1024
defaults
    mode http
    timeout connect 5s
    timeout client 1h
    timeout server 1h
    timeout tunnel 1h
frontend public
    bind 127.0.0.1:{tls_port} ssl crt {pem}
    http-request deny deny_status 403 if {{ path_beg /metrics /healthz }}
    default_backend pipecast
backend pipecast
    server local 127.0.0.1:{http_port} send-proxy-v2
"""

ID_LINE = re.compile(rb"^id: ([0-9a-f]{16}-\d+)$", re.M)


def make_certificate(d):
    """A self-signed certificate for localhost; returns (cert, pem)."""
    cert, key, pem = (os.path.join(d, n) for n in ("cert.pem", "key.pem", "site.pem"))
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    with open(pem, "wb") as out:
        for p in (cert, key):
            with open(p, "rb") as f:
                out.write(f.read())
    return cert, pem


class Curl:
    """curl -N on an https URL, its output read as it comes."""

    def __init__(self, url, cacert, headers=(), src=None):
        args = ["curl", "-sN", "--cacert", cacert, url]
        for h in headers:
            args += ["-H", h]
        if src:
            args += ["--interface", src]
        self.p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.out = b""

    def read_until(self, pred, timeout):
        """Reads until pred(output) or timeout; returns the output."""
        deadline = time.monotonic() + slow(timeout)
        fd = self.p.stdout.fileno()
        while not pred(self.out) and time.monotonic() < deadline:
            r, _, _ = select.select([fd], [], [], 0.1)
            if r:
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                self.out += chunk
        return self.out

    def ids(self):
        return [m.decode() for m in ID_LINE.findall(self.out)]

    def data(self):
        return re.findall(rb"^data: (.*)$", self.out, re.M)

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        try:
            self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()


@unittest.skipUnless(all(shutil.which(t) for t in ("haproxy", "openssl", "curl")),
                     "needs haproxy, openssl and curl (tests/deps.sh installs them)")
class HaproxyRecipe(unittest.TestCase):

    def setUp(self):
        self.daemon = Daemon({"source": {"input": "stdin"},
                              "clients": {"backlog": "1KiB"},
                              "http": {"listen": "tcp:127.0.0.1:{port2}"},
                              "access": {"trusted_proxies": "127.0.0.1/32"}})
        d = self.daemon.__enter__()
        self.cert, pem = make_certificate(d.dir)
        self.tls_port = free_port()
        cfg = os.path.join(d.dir, "haproxy.cfg")
        with open(cfg, "w") as f:
            f.write(HAPROXY_CFG.format(tls_port=self.tls_port, pem=pem, http_port=d.port2))
        self.haproxy = subprocess.Popen(["haproxy", "-db", "-f", cfg],
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.curls = []
        self.wait_tls()

    def tearDown(self):
        for c in self.curls:
            c.stop()
        self.haproxy.terminate()
        try:
            self.haproxy.wait(10)
        except subprocess.TimeoutExpired:
            self.haproxy.kill()
        self.daemon.__exit__(None, None, None)

    def wait_tls(self):
        """Waits (bounded) until HAProxy accepts on the TLS port."""
        deadline = time.monotonic() + slow(10)
        while time.monotonic() < deadline:
            self.assertIsNone(self.haproxy.poll(), "haproxy exited")
            try:
                connect(self.tls_port, "127.0.0.1").close()
                return
            except OSError:
                time.sleep(0.05)
        self.fail("haproxy did not listen")

    def curl(self, path, headers=(), src=None):
        c = Curl("https://localhost:%d%s" % (self.tls_port, path), self.cert, headers, src)
        self.curls.append(c)
        return c

    def test_events_through_tls_resume_by_id_and_real_addresses(self):
        d = self.daemon
        c = self.curl("/events", src="127.0.0.2")
        d.wait_opens(1)
        feed(d, 1, 5)
        c.read_until(lambda o: o.count(b"\ndata: ") + o.startswith(b"data: ") >= 5, 10)
        self.assertEqual(c.data(), [b"rec-%d" % i for i in range(1, 6)])
        ids = c.ids()
        self.assertEqual(len(ids), 5)
        # PROXY v2: the daemon sees the client's own address, not HAProxy's.
        with StatsConn(d.path("stats.sock")) as st:
            hdr, table = parse_table(st.cmd("show clients"))
        rows = [dict(zip(hdr, r)) for r in table]
        self.assertEqual([r["addr"].rsplit(":", 1)[0] for r in rows], ["127.0.0.2"])
        self.assertEqual(rows[0]["proto"], "sse")
        c.stop()
        feed(d, 6, 8)
        wait_records(d, 8)
        again = self.curl("/events", headers=["Last-Event-ID: " + ids[-1]])
        again.read_until(lambda o: o.count(b"data: ") >= 3, 10)
        self.assertEqual(again.data(), [b"rec-6", b"rec-7", b"rec-8"])
        self.assertNotIn(b"event: gap", again.out)

    def test_metrics_and_healthz_stay_off_the_public_side(self):
        for path in ("/metrics", "/healthz"):
            r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                                "--cacert", self.cert,
                                "https://localhost:%d%s" % (self.tls_port, path)],
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(r.stdout, "403", path)
        # On the daemon's own listener, from loopback (metrics_allow), with
        # no PROXY header expected from 127.0.0.3 (not a trusted proxy).
        s = connect(self.daemon.port2, "127.0.0.3")
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        status, _, body = parse_answer(recv_for(s, slow(5))[0])
        s.close()
        self.assertEqual((status, body.strip()), (200, b"ok"))


if __name__ == "__main__":
    unittest.main()
