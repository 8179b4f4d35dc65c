#!/usr/bin/env python3
"""[access] against the real daemon, raw clients: address rules, max_per_ip,
AUTH tokens and auth_timeout, unix_allow, PROXY headers from trusted
proxies, reload closing clients no longer allowed (reason denied), and a
refusal flood that stays a few log lines while every refusal is counted.
A refused client never receives a byte.
Run alone: python3 tests/integration/test_access_rules.py
"""

import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pctest  # noqa: E402
from pctest import (Daemon, Producer, StatsConn, not_under_valgrind, parse_table,  # noqa: E402
                    recv_for, recv_lines, slow, wait_eof)


def conf(access=None, **clients):
    c = {"listen": "tcp:127.0.0.1:{port}", "idle_timeout": "30s"}
    c.update(clients)
    return {"source": {"input": "stdin"}, "clients": c,
            "stats": {"socket": "{dir}/stats.sock"}, "access": access or {}}


def client(port, src="127.0.0.1", timeout=5.0):
    """A TCP client bound to SRC (any 127/8 address works on loopback)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((src, 0))
    s.settimeout(timeout)
    s.connect(("127.0.0.1", port))
    return s


def info(d):
    st = StatsConn(d.path("stats.sock"))
    try:
        return st.info()
    finally:
        st.close()


def stats_cmd(d, line):
    st = StatsConn(d.path("stats.sock"))
    try:
        return st.cmd(line)
    finally:
        st.close()


def refused_gets_nothing(test, s, within=3.0):
    """The daemon closes S without sending a byte."""
    data, eof = recv_for(s, slow(within))
    test.assertEqual(data, b"", "a refused client received bytes")
    test.assertTrue(eof, "a refused client was not closed")
    s.close()


class Streaming:
    """A daemon with a producer writing one record every 20 ms."""

    def start_producer(self, d):
        self.prod = Producer(d.stdin.fileno(), batch=1, interval=0.02, close=False)
        self.prod.start()
        self.addCleanup(self.prod.finish)


class Addresses(Streaming, unittest.TestCase):

    def test_denied_address_gets_zero_bytes(self):
        with Daemon(conf({"deny": "127.0.0.2"}, backlog="4KiB")) as d:
            self.start_producer(d)
            good = client(d.port)
            self.assertTrue(recv_lines(good, 3).count(b"\n") >= 3)
            refused_gets_nothing(self, client(d.port, "127.0.0.2"))
            i = info(d)
            self.assertEqual(i["access_refused_address_total"], 1)
            self.assertEqual(i["clients_rejected_total"], 0)
            self.assertEqual(i["clients_accepted_total"], 1)
            self.assertEqual(i["clients_connected"], 1)
            d.wait_log(r"access: refused 127\.0\.0\.2:\d+ reason=address")
            self.assertEqual(d.count_log(r"client \d+ open 127\.0\.0\.2"), 0)
            good.close()

    def test_allow_list_lets_only_its_networks_in(self):
        with Daemon(conf({"allow": ["127.0.0.4/31", "::1"]})) as d:
            self.start_producer(d)
            ok = client(d.port, "127.0.0.5")
            self.assertTrue(recv_lines(ok, 2).count(b"\n") >= 2)
            refused_gets_nothing(self, client(d.port, "127.0.0.6"))
            refused_gets_nothing(self, client(d.port, "127.0.0.1"))
            self.assertEqual(info(d)["access_refused_address_total"], 2)
            ok.close()

    @unittest.skipUnless(pctest.ipv6_available() and shutil.which("systemd-socket-activate"),
                         "no IPv6 or no systemd-socket-activate")
    def test_mapped_ipv4_peer_of_a_dual_stack_socket_meets_ipv4_rules(self):
        # a passed [::]:PORT socket without IPV6_V6ONLY sees IPv4 peers as ::ffff:a.b.c.d
        prefix = ["systemd-socket-activate", "-l", "{port}", "--fdname=clients"]
        c = conf({"deny": "127.0.0.2"}, listen="systemd:clients")
        with Daemon(c, prefix=prefix, wait_ready=False) as d:
            deadline = time.monotonic() + slow(10)
            while True:
                try:
                    ok = client(d.port, "127.0.0.3")
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            d.wait_ready()
            self.start_producer(d)
            self.assertTrue(recv_lines(ok, 1).endswith(b"\n"))
            d.wait_log(r"client \d+ open \[::ffff:127\.0\.0\.3\]:\d+")
            refused_gets_nothing(self, client(d.port, "127.0.0.2"))
            self.assertEqual(info(d)["access_refused_address_total"], 1)
            ok.close()

    def test_max_per_ip_refuses_the_11th_only_from_that_address(self):
        with Daemon(conf({"max_per_ip": 10})) as d:
            self.start_producer(d)
            ten = [client(d.port, "127.0.0.3") for _ in range(10)]
            d.wait_opens(10)
            for s in ten:
                self.assertTrue(recv_lines(s, 1).endswith(b"\n"))
            refused_gets_nothing(self, client(d.port, "127.0.0.3"))
            other = client(d.port, "127.0.0.4")
            self.assertTrue(recv_lines(other, 1).endswith(b"\n"), "another address was refused")
            # a closed connection gives its slot back
            ten.pop().close()
            deadline = time.monotonic() + slow(5)
            while info(d)["clients_connected"] != 10 and time.monotonic() < deadline:
                time.sleep(0.05)
            again = client(d.port, "127.0.0.3")
            self.assertTrue(recv_lines(again, 1).endswith(b"\n"), "the freed slot was not reused")
            i = info(d)
            self.assertEqual(i["access_refused_per_ip_total"], 1)
            self.assertEqual(i["clients_rejected_total"], 0)
            for s in ten + [other, again]:
                s.close()


def write_tokens(d, text, mode=0o600):
    p = d.path("tokens")
    with open(p, "w") as f:
        f.write(text)
    os.chmod(p, mode)
    return p


class TokenDaemon(Daemon):
    """A daemon whose tokens file is written before it starts."""

    def __init__(self, tokens, access=None, auth_timeout="700ms", **clients):
        a = {"tokens_file": "{dir}/tokens", "auth_timeout": auth_timeout}
        a.update(access or {})
        super().__init__(conf(a, **clients))
        self.tokens = tokens

    def start(self):
        write_tokens(self, self.tokens)
        super().start()


class Tokens(Streaming, unittest.TestCase):

    def test_right_token_is_served_and_backlog_taken_at_auth(self):
        with TokenDaemon("# readers\nalpha-1\nbeta-2\n", backlog="256") as d:
            self.start_producer(d)
            s = client(d.port)
            # before AUTH nothing flows, though records do and backlog is set
            data, eof = recv_for(s, 0.5)
            self.assertEqual((data, eof), (b"", False))
            t_auth = self.prod.written()
            s.sendall(b"AUTH beta-2\r\n")
            got = recv_lines(s, 5)
            self.assertGreaterEqual(got.count(b"\n"), 5)
            first = int(got.split(b"\n")[0])
            # backlog: records from just before the AUTH line, not from the connect
            self.assertGreaterEqual(first, t_auth - 256 // 9 - 2)
            self.assertTrue(re.match(rb"^(\d{8}\n)+", got))
            d.wait_log(r"client \d+ authenticated")
            self.assertEqual(info(d)["access_refused_token_total"], 0)
            s.close()

    def test_wrong_missing_and_malformed_tokens_get_nothing(self):
        with TokenDaemon("alpha-1\n") as d:
            self.start_producer(d)
            for line in (b"AUTH alpha-2\n", b"AUTH alpha-1x\n", b"AUTH \n",
                         b"hello\n", b"auth alpha-1\n", b"AUTH " + b"a" * 600):
                s = client(d.port)
                s.sendall(line)
                refused_gets_nothing(self, s)
            i = info(d)
            self.assertEqual(i["access_refused_token_total"], 6)
            self.assertEqual(i["clients_closed_denied_total"], 6)
            self.assertNotIn("alpha-1", d.log_text())
            self.assertNotIn("alpha-2", d.log_text())

    def test_a_client_not_let_in_gets_no_close_notice(self):
        with TokenDaemon("alpha-1\n", auth_timeout="10s", notices="on") as d:
            self.start_producer(d)
            s = client(d.port)
            cid = d.client_id(s)
            self.assertEqual(stats_cmd(d, "kill client %d" % cid), "ok\n")
            refused_gets_nothing(self, s)
            self.assertEqual(d.closed_reason(cid), "kill")
            # once let in, the same close does say why
            t = client(d.port)
            tid = d.client_id(t)
            t.sendall(b"AUTH alpha-1\n")
            self.assertTrue(recv_lines(t, 1).endswith(b"\n"))
            self.assertEqual(stats_cmd(d, "kill client %d" % tid), "ok\n")
            data, eof = recv_for(t, slow(3))
            self.assertTrue(eof)
            self.assertIn(b"closing (kill)", data)
            t.close()

    def test_never_authenticating_client_closed_at_auth_timeout(self):
        with TokenDaemon("alpha-1\n") as d:
            self.start_producer(d)
            t0 = time.monotonic()
            s = client(d.port)
            cid = d.client_id(s)
            head, rows = parse_table(stats_cmd(d, "show clients"))
            self.assertEqual(rows[0][head.index("state")], "auth")
            timers = parse_table(stats_cmd(d, "show timers"))[1]
            self.assertEqual([r[1] for r in timers if r[0] == "client"], ["1"])
            data, eof = recv_for(s, slow(5))
            self.assertEqual(data, b"")
            self.assertTrue(eof)
            self.assertGreater(time.monotonic() - t0, 0.65)   # not before 700 ms
            self.assertEqual(d.closed_reason(cid), "auth_timeout")
            i = info(d)
            self.assertEqual(i["access_refused_auth_timeout_total"], 1)
            self.assertEqual(i["clients_closed_auth_timeout_total"], 1)
            self.assertIn("auth_timeout", stats_cmd(d, "show closed"))
            s.close()


@unittest.skipUnless(os.geteuid() == 0, "needs root to run a client as nobody")
class UnixPeers(Streaming, unittest.TestCase):

    def test_nobody_refused_when_only_root_is_allowed(self):
        c = conf({"unix_allow": "uid:0"}, listen="unix:{dir}/clients.sock", unix_mode="0666")
        with Daemon(c) as d:
            os.chmod(d.dir, 0o755)
            self.start_producer(d)
            root = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            root.settimeout(5)
            root.connect(d.path("clients.sock"))
            self.assertTrue(recv_lines(root, 2).count(b"\n") >= 2)
            script = ("import socket,sys,time\n"
                      "s=socket.socket(socket.AF_UNIX,socket.SOCK_STREAM)\n"
                      "s.settimeout(5)\n"
                      "s.connect(sys.argv[1])\n"
                      "b=b''\n"
                      "t=time.monotonic()+5\n"
                      "while time.monotonic()<t:\n"
                      "    x=s.recv(65536)\n"
                      "    if not x: break\n"
                      "    b+=x\n"
                      "print(len(b), 'eof' if not x else 'open')\n")
            cmd = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
            if not shutil.which("setpriv"):
                cmd = ["runuser", "-u", "nobody", "--"]
            py = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
            p = subprocess.run(cmd + [py, "-c", script, d.path("clients.sock")],
                               capture_output=True, text=True, timeout=20, cwd="/")
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(p.stdout.split(), ["0", "eof"])
            i = info(d)
            self.assertEqual(i["access_refused_uid_total"], 1)
            self.assertEqual(i["clients_connected"], 1)
            d.wait_log(r"access: refused unix reason=uid")
            root.close()


def proxy_v2(src, sport, tlv=b""):
    """A PROXY v2 header for a TCP4 client SRC:SPORT, with optional TLVs."""
    body = socket.inet_aton(src) + socket.inet_aton("127.0.0.1") + struct.pack("!HH", sport, 7070)
    body += tlv
    return (b"\r\n\r\n\x00\r\nQUIT\n" + bytes([0x21, 0x11]) + struct.pack("!H", len(body)) + body)


class Proxies(Streaming, unittest.TestCase):

    def test_proxied_address_is_the_one_rules_and_stats_use(self):
        a = {"trusted_proxies": "127.0.0.1", "deny": "192.0.2.66", "max_per_ip": 1}
        with Daemon(conf(a)) as d:
            self.start_producer(d)
            v1 = client(d.port)
            v1.sendall(b"PROXY TCP4 192.0.2.7 127.0.0.1 40000 7070\r\n")
            self.assertTrue(recv_lines(v1, 2).count(b"\n") >= 2)
            d.wait_log(r"client \d+ is 192\.0\.2\.7:40000 \(PROXY v1\)")
            head, rows = parse_table(stats_cmd(d, "show clients"))
            self.assertEqual([r[head.index("addr")] for r in rows], ["192.0.2.7:40000"])
            # max_per_ip counts the proxied address, not the proxy's
            second = client(d.port)
            second.sendall(b"PROXY TCP4 192.0.2.7 127.0.0.1 40001 7070\r\n")
            refused_gets_nothing(self, second)
            # v2 with TLVs to skip, from another client address
            v2 = client(d.port)
            v2.sendall(proxy_v2("192.0.2.8", 5000, tlv=b"\x04\x00\x05hello"))
            self.assertTrue(recv_lines(v2, 2).count(b"\n") >= 2)
            denied = client(d.port)
            denied.sendall(proxy_v2("192.0.2.66", 5001))
            refused_gets_nothing(self, denied)
            junk = client(d.port)
            junk.sendall(b"GET / HTTP/1.1\r\n\r\n")
            refused_gets_nothing(self, junk)
            # not from a trusted proxy: a header is just bytes, the peer is itself
            direct = client(d.port, "127.0.0.9")
            direct.sendall(b"PROXY TCP4 192.0.2.66 127.0.0.1 1 2\r\n")
            self.assertTrue(recv_lines(direct, 1).endswith(b"\n"))
            i = info(d)
            self.assertEqual(i["access_refused_per_ip_total"], 1)
            self.assertEqual(i["access_refused_address_total"], 2)
            for s in (v1, v2, direct):
                s.close()

    def test_header_then_auth_line_in_one_segment(self):
        a = {"trusted_proxies": "127.0.0.0/8"}
        with TokenDaemon("alpha-1\n", a) as d:
            self.start_producer(d)
            s = client(d.port)
            s.sendall(proxy_v2("198.51.100.3", 6000, tlv=b"\x01\x00\x02h2") + b"AUTH alpha-1\n")
            self.assertTrue(recv_lines(s, 2).count(b"\n") >= 2)
            d.wait_log(r"client \d+ authenticated")
            silent = client(d.port)
            cid = d.client_id(silent)
            refused_gets_nothing(self, silent)        # no header within auth_timeout
            self.assertEqual(d.closed_reason(cid), "auth_timeout")
            s.close()


class Reload(Streaming, unittest.TestCase):

    def rewrite(self, d, c):
        text = pctest._render(c, d.subst)
        with open(d.conf_path + ".tmp", "w") as f:
            f.write(text)
        os.replace(d.conf_path + ".tmp", d.conf_path)

    def test_reload_that_denies_a_connected_address_closes_it(self):
        with Daemon(conf()) as d:
            self.start_producer(d)
            gone = client(d.port, "127.0.0.2")
            stays = client(d.port, "127.0.0.1")
            gid = d.client_id(gone)
            for s in (gone, stays):
                self.assertTrue(recv_lines(s, 1).endswith(b"\n"))
            self.rewrite(d, conf({"deny": "127.0.0.2/32"}))
            self.assertEqual(stats_cmd(d, "reload"), "ok\n")
            self.assertIsNotNone(wait_eof(gone, slow(5)), "denied client still open")
            self.assertEqual(d.closed_reason(gid), "denied")
            data, eof = recv_for(stays, 0.3)
            self.assertFalse(eof)
            self.assertIn(" denied\n", stats_cmd(d, "show closed"))
            i = info(d)
            self.assertEqual(i["clients_closed_denied_total"], 1)
            self.assertEqual(i["clients_connected"], 1)
            refused_gets_nothing(self, client(d.port, "127.0.0.2"))
            stays.close()

    def test_reload_that_drops_a_token_closes_its_clients(self):
        with TokenDaemon("alpha-1\nbeta-2\n") as d:
            self.start_producer(d)
            a, b = client(d.port), client(d.port)
            aid = d.client_id(a)
            a.sendall(b"AUTH alpha-1\n")
            b.sendall(b"AUTH beta-2\n")
            for s in (a, b):
                self.assertTrue(recv_lines(s, 1).endswith(b"\n"))
            write_tokens(d, "beta-2\n")
            self.assertEqual(stats_cmd(d, "reload"), "ok\n")
            self.assertIsNotNone(wait_eof(a, slow(5)))
            self.assertEqual(d.closed_reason(aid), "denied")
            data, eof = recv_for(b, 0.3)
            self.assertFalse(eof)
            # a tokens file others can read fails the reload; nothing changes
            write_tokens(d, "beta-2\n", 0o644)
            self.assertIn("others can read or write it", stats_cmd(d, "reload"))
            data, eof = recv_for(b, 0.3)
            self.assertFalse(eof)
            b.close()


class Flood(unittest.TestCase):

    @not_under_valgrind("10,000 connections paced over 10 s")
    def test_refusal_flood_is_counted_and_logged_a_few_lines(self):
        with Daemon(conf({"deny": "127.0.0.2"})) as d:
            n, t0 = 10000, time.monotonic()
            for sec in range(10):
                for _ in range(n // 10):
                    s = socket.socket()
                    s.bind(("127.0.0.2", 0))
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    try:
                        s.connect(("127.0.0.1", d.port))
                    finally:
                        s.close()
                    if time.monotonic() - t0 > slow(60):
                        self.fail("the flood took too long")
                left = t0 + sec + 1 - time.monotonic()
                if left > 0:
                    time.sleep(left)
            elapsed = time.monotonic() - t0
            deadline = time.monotonic() + slow(10)
            while info(d)["access_refused_address_total"] < n and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(1.1)                  # the last second's line is due
            i = info(d)                      # (and this wakes the loop for it)
            self.assertEqual(i["access_refused_address_total"], n)
            self.assertEqual(i["clients_rejected_total"], 0)
            self.assertEqual(i["clients_accepted_total"], 0)
            time.sleep(0.2)
            lines = [ln for ln in d.log_lines() if "access: refused" in ln]
            logged = sum(int(m.group(1)) if m else 1 for m in
                         (re.search(r"refused (\d+) connections", ln) for ln in lines))
            self.assertLessEqual(len(lines), int(elapsed) + 3, "\n".join(lines))
            self.assertEqual(logged, n, "\n".join(lines))
            self.assertTrue(all("address=" in ln or "reason=address" in ln for ln in lines))


if __name__ == "__main__":
    unittest.main()
