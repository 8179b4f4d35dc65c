"""GET / (the live page's headers) and GET /ws (WebSocket, RFC 6455).

Protocol edges go over a plain socket with a small hand-written client
(masked or not, any opcode, any size): a ping answered between whole
frames, keepalive pings, the close handshake, an unmasked frame, a bad
opcode and a 1 MiB frame closed with 1002, 1002 and 1009. Conformance of
ordinary use goes through python3-websockets (Debian's, under
/usr/bin/python3) and through Chromium's WebSocket: text messages (newline
removed, invalid UTF-8 as U+FFFD), ?envelope=json with ids, an exact
resume, a resume past the ring with the gap count, ping/pong and the close
handshake; show clients says ws and each WebSocket client has one timer.
"""

import asyncio
import base64
import json
import os
import struct
import time
import unittest

import browser
from pctest import Daemon, StatsConn, parse_table, slow
from test_http import SSE, get, http_conf

KEY = base64.b64encode(b"0123456789abcdef").decode()


class RawWs(SSE):
    """A WebSocket client over a plain socket, for the protocol's edges."""

    def __init__(self, port, path="/ws", rcvbuf=None):
        super().__init__(port, path, rcvbuf=rcvbuf, headers="Upgrade: websocket\r\nConnection: Upgrade\r\n"
                         "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n" % KEY)
        super().read_until(lambda s: b"\r\n\r\n" in s.raw)
        self.status = self.head[0]

    def read_until(self, pred, timeout=5.0):
        return super().read_until(lambda s: pred(), slow(timeout))

    def send(self, opcode, payload=b"", mask=True, fin=True):
        b0 = (0x80 if fin else 0) | opcode
        n = len(payload)
        if n < 126:
            hdr = struct.pack("!BB", b0, (0x80 if mask else 0) | n)
        elif n < 65536:
            hdr = struct.pack("!BBH", b0, (0x80 if mask else 0) | 126, n)
        else:
            hdr = struct.pack("!BBQ", b0, (0x80 if mask else 0) | 127, n)
        if mask:
            key = os.urandom(4)
            payload = bytes(c ^ key[i % 4] for i, c in enumerate(payload))
            hdr += key
        try:
            self.sock.sendall(hdr + payload)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def frames(self):
        """[(opcode, payload)] of the whole frames received so far."""
        out, b = [], self.body
        while len(b) >= 2:
            op, n, at = b[0] & 0x0F, b[1] & 0x7F, 2
            if b[1] & 0x80:
                raise AssertionError("a server frame is masked")
            if not b[0] & 0x80:
                raise AssertionError("a server frame is fragmented")
            if n == 126:
                if len(b) < 4:
                    break
                n, at = struct.unpack("!H", b[2:4])[0], 4
            elif n == 127:
                if len(b) < 10:
                    break
                n, at = struct.unpack("!Q", b[2:10])[0], 10
            if len(b) < at + n:
                break
            out.append((op, b[at:at + n]))
            b = b[at + n:]
        return out

    def wait_frames(self, pred, timeout=5.0):
        return self.read_until(lambda: pred(self.frames()), timeout)

    def close_code(self):
        for op, p in self.frames():
            if op == 8:
                return struct.unpack("!H", p[:2])[0] if len(p) >= 2 else 1005
        return None



def ws_conf(extra_http=None, **sections):
    return http_conf(dict({"keepalive": "0"}, **(extra_http or {})), **sections)


def stats(d, cmd="show info"):
    with StatsConn(d.path("stats.sock")) as st:
        if cmd == "show info":
            return st.info()
        return st.cmd(cmd)


def feed_lines(d, lines):
    d.write_stdin(b"".join(ln + b"\n" for ln in lines))


class Page(unittest.TestCase):

    def test_page_headers_head_and_off(self):
        with Daemon(ws_conf()) as d:
            status, hdrs, body = get(d.port2, "/")
            self.assertEqual(status, 200)
            self.assertEqual(hdrs["content-type"], "text/html; charset=utf-8")
            self.assertIn("script-src 'sha256-", hdrs["content-security-policy"])
            self.assertIn("default-src 'none'", hdrs["content-security-policy"])
            self.assertEqual(hdrs["x-content-type-options"], "nosniff")
            self.assertEqual(hdrs["referrer-policy"], "no-referrer")
            self.assertEqual(int(hdrs["content-length"]), len(body))
            self.assertTrue(body.startswith(b"<!doctype html>"), body[:40])
            status, hdrs2, body2 = get(d.port2, "/", method="HEAD")
            self.assertEqual((status, body2), (200, b""))
            self.assertEqual(hdrs2["content-length"], hdrs["content-length"])
        with Daemon(ws_conf({"page": "off"})) as d:
            self.assertEqual(get(d.port2, "/")[0], 404)


class Protocol(unittest.TestCase):

    def test_text_frames_ping_between_whole_frames_and_close(self):
        with Daemon(ws_conf()) as d:
            c = RawWs(d.port2)
            self.assertEqual(c.status, 101)
            d.wait_opens(1)
            big = [b"%05d " % i + b"x" * 3000 for i in range(300)]
            feed_lines(d, big[:150])
            c.send(0x9, b"are you there")          # a ping while frames stream
            feed_lines(d, big[150:])
            c.send(0x1, b"ignored data")           # data frames are ignored
            self.assertTrue(c.wait_frames(lambda f: len([x for x in f if x[0] == 1]) >= 300
                                          and any(x[0] == 0xA for x in f), 10),
                            len(c.frames()))
            frames = c.frames()
            self.assertEqual([p for op, p in frames if op == 1], big)
            self.assertIn((0xA, b"are you there"), frames)
            rows = parse_table(stats(d, "show clients"))[1]
            self.assertEqual([r[-1] for r in rows], ["ws"])
            info = stats(d)
            self.assertEqual(info["timers_client_live"], info["clients_connected"])
            c.send(0x8, struct.pack("!H", 1000) + b"bye")
            self.assertTrue(c.read_until(lambda: c.close_code() is not None))
            self.assertEqual(c.close_code(), 1000)
            self.assertTrue(c.read_until(lambda: c.eof), "no close after the handshake")
            self.assertIsNotNone(d.wait_log(r"closed .*reason=peer", timeout=slow(5)))

    def test_protocol_errors_closed_with_their_codes(self):
        cases = [("unmasked", lambda c: c.send(0x1, b"hello", mask=False), 1002),
                 ("bad opcode", lambda c: c.send(0x3, b"?"), 1002),
                 ("1 MiB frame", lambda c: c.send(0x2, b"\0" * (1 << 20)), 1009)]
        with Daemon(ws_conf()) as d:
            for name, act, code in cases:
                c = RawWs(d.port2)
                self.assertEqual(c.status, 101, name)
                act(c)
                self.assertTrue(c.read_until(lambda: c.close_code() is not None, 10), name)
                self.assertEqual(c.close_code(), code, name)
                self.assertTrue(c.read_until(lambda: c.eof, 10), name)
                c.close()

    def test_skipped_client_finishes_its_frame_then_a_gap(self):
        conf = ws_conf(clients={"buffer": "64KiB", "overflow": "skip", "send_timeout": "0"})
        with Daemon(conf) as d:
            c = RawWs(d.port2, "/ws?envelope=json", rcvbuf=4096)
            d.wait_opens(1)
            line = b"x" * 90
            d.write_stdin(b"".join(b"%d %s\n" % (i, line) for i in range(1, 30001)))
            # Read nothing until the daemon has taken it all: a reader as fast
            # as a slow (sanitized) daemon would never fall behind.
            deadline = time.monotonic() + slow(30)
            while (stats(d)["source_records_total"] < 30000
                   and time.monotonic() < deadline):
                time.sleep(0.05)
            want = b'"data":"30000 %s"}' % line
            self.assertTrue(c.read_until(lambda: c.body.endswith(want), 60))
            last, gaps = 0, 0
            for op, p in c.frames():
                self.assertEqual(op, 1)
                m = json.loads(p)
                if "gap" in m:
                    gaps, missed = gaps + 1, m["gap"]
                    continue
                seq = int(m["id"].split("-")[1])
                self.assertEqual(m["data"], "%d %s" % (seq, line.decode()))
                if last and seq != last + 1:
                    self.assertEqual(seq, last + missed + 1, "gap count")
                last = seq
            self.assertEqual(last, 30000)
            self.assertGreaterEqual(gaps, 1)
            self.assertGreater(stats(d)["clients_skipped_bytes_total"], 0)

    def test_keepalive_is_a_ping(self):
        with Daemon(ws_conf({"keepalive": "1s"})) as d:
            c = RawWs(d.port2)
            t0 = time.monotonic()
            self.assertTrue(c.wait_frames(lambda f: any(x[0] == 0x9 for x in f), 5))
            self.assertGreater(time.monotonic() - t0, 0.5)
            c.send(0xA, b"")
            feed_lines(d, [b"after the ping"])
            self.assertTrue(c.wait_frames(lambda f: (1, b"after the ping") in f))

    def test_bad_requests(self):
        with Daemon(ws_conf()) as d:
            self.assertEqual(get(d.port2, "/ws")[0], 400)
            hs = ("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                  % KEY)
            status, hdrs, _ = get(d.port2, "/ws", headers=hs + "Sec-WebSocket-Version: 8\r\n")
            self.assertEqual((status, hdrs.get("sec-websocket-version")), (426, "13"))
            v13 = hs + "Sec-WebSocket-Version: 13\r\n"
            self.assertEqual(get(d.port2, "/ws?envelope=xml", headers=v13)[0], 400)
            self.assertEqual(get(d.port2, "/ws?last_event_id=nope", headers=v13)[0], 400)
        conf = ws_conf(source={"framing": "raw"})
        with Daemon(conf) as d:
            v13 = ("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                   "Sec-WebSocket-Version: 13\r\n" % KEY)
            self.assertEqual(get(d.port2, "/ws?envelope=json", headers=v13)[0], 400)
            c = RawWs(d.port2)
            self.assertEqual(c.status, 101)
            d.wait_opens(1)
            d.write_stdin(b"\x00\xffraw bytes")
            self.assertTrue(c.wait_frames(lambda f: f and f[0][0] == 2))
            self.assertEqual(b"".join(p for op, p in c.frames() if op == 2), b"\x00\xffraw bytes")


async def _recv_all(ws, n, timeout):
    out = []
    for _ in range(n):
        out.append(await asyncio.wait_for(ws.recv(), timeout))
    return out


class WithWebsockets(unittest.TestCase):
    """python3-websockets against the daemon."""

    @browser.in_debian_python(timeout=slow(120))
    def test_text_envelope_resume_ping_and_close(self):
        import websockets
        recs = [b"plain %d" % i for i in range(1, 11)]
        recs[3] = b"bad \xff utf-8 \x1b[31mred\x1b[0m"
        with Daemon(ws_conf()) as d:
            url = "ws://127.0.0.1:%d/ws" % d.port2

            async def first():
                async with websockets.connect(url) as text, \
                        websockets.connect(url + "?envelope=json") as env:
                    d.wait_opens(2)
                    feed_lines(d, recs)
                    got = await _recv_all(text, 10, slow(5))
                    envs = [json.loads(m) for m in await _recv_all(env, 10, slow(5))]
                    pong = await text.ping(b"x")
                    await asyncio.wait_for(pong, slow(5))
                    return got, envs
            got, envs = asyncio.run(first())
            self.assertEqual(got, [r.decode("utf-8", "replace") for r in recs])
            self.assertEqual([e["data"] for e in envs], got)
            epoch = envs[0]["id"].split("-")[0]
            self.assertEqual([e["id"] for e in envs],
                             ["%s-%d" % (epoch, i) for i in range(1, 11)])
            feed_lines(d, [b"later %d" % i for i in range(11, 16)])

            async def resume(after, n):
                async with websockets.connect(url + "?envelope=json&last_event_id=" + after) as w:
                    msgs = [json.loads(m) for m in await _recv_all(w, n, slow(5))]
                    await w.close()
                    return msgs, w.close_code
            msgs, code = asyncio.run(resume(envs[6]["id"], 8))
            self.assertEqual([m["id"] for m in msgs], ["%s-%d" % (epoch, i) for i in range(8, 16)])
            self.assertEqual(code, 1000)
            msgs, _ = asyncio.run(resume("0000000000000001-3", 16))
            self.assertEqual(msgs[0], {"gap": None})
            self.assertEqual([m["id"] for m in msgs[1:]],
                             ["%s-%d" % (epoch, i) for i in range(1, 16)])
            info = stats(d)
            self.assertEqual(info["resumes_total"], 2)
            self.assertEqual(info["resume_gaps_total"], 1)

            async def too_big():
                async with websockets.connect(url, max_size=None) as w:
                    await w.send(b"\0" * (1 << 20))
                    try:
                        await asyncio.wait_for(w.recv(), slow(5))
                    except websockets.ConnectionClosed:
                        pass
                    return w.close_code
            self.assertEqual(asyncio.run(too_big()), 1009)

    @browser.in_debian_python(timeout=slow(120))
    def test_resume_past_the_ring_counts_the_gap(self):
        import websockets
        conf = ws_conf(clients={"buffer": "64KiB"}, source={"max_line": "1024"})
        with Daemon(conf) as d:
            url = "ws://127.0.0.1:%d/ws?envelope=json" % d.port2

            async def first():
                async with websockets.connect(url) as w:
                    d.wait_opens(1)
                    feed_lines(d, [b"r1"])
                    return json.loads(await asyncio.wait_for(w.recv(), slow(5)))
            one = asyncio.run(first())
            d.write_stdin(b"".join(b"%06d " % i + b"y" * 100 + b"\n" for i in range(2, 6002)))
            deadline = time.monotonic() + slow(20)
            while stats(d)["source_records_total"] < 6001:
                self.assertLess(time.monotonic(), deadline)
                time.sleep(0.05)

            async def resume():
                async with websockets.connect(url + "&last_event_id=" + one["id"]) as w:
                    return [json.loads(m) for m in await _recv_all(w, 2, slow(5))]
            gap, rec = asyncio.run(resume())
            seq = int(rec["id"].split("-")[1])
            self.assertEqual(gap, {"gap": seq - 2})
            self.assertGreater(seq, 100)
            self.assertEqual(rec["data"], "%06d " % seq + "y" * 100)


class InChromium(unittest.TestCase):
    """Chromium's own WebSocket, from the page's origin."""

    @browser.in_debian_python(timeout=slow(180))
    def test_browser_websocket_messages_close_and_too_big(self):
        with Daemon(ws_conf()) as d, browser.Chromium() as b:
            b.navigate("http://127.0.0.1:%d/" % d.port2)
            b.evaluate("""window.wsgot = []; window.wsclose = [];
                for (const q of ['', '?envelope=json']) {
                  const w = new WebSocket('ws://' + location.host + '/ws' + q);
                  w.onmessage = (e) => wsgot.push([q, e.data]);
                  w.onclose = (e) => wsclose.push([q, e.code]);
                  window['ws' + (q ? 'env' : 'text')] = w;
                } true""")
            b.wait_for("wstext.readyState === 1 && wsenv.readyState === 1", timeout=slow(10))
            feed_lines(d, [b"one", b"t\xc3\xa9l\xc3\xa9", b"\x1b[1mbold"])
            b.wait_for("wsgot.length >= 6", timeout=slow(10))
            got = b.evaluate("wsgot")
            self.assertEqual([m for q, m in got if q == ""], ["one", "t\u00e9l\u00e9", "\x1b[1mbold"])
            envs = [json.loads(m) for q, m in got if q]
            self.assertEqual([e["data"] for e in envs], ["one", "t\u00e9l\u00e9", "\x1b[1mbold"])
            self.assertTrue(all(e["id"].endswith("-%d" % (i + 1)) for i, e in enumerate(envs)))
            b.evaluate("wstext.close(1000, 'done'); wsenv.send(new Uint8Array(1 << 20)); true")
            b.wait_for("wsclose.length >= 2", timeout=slow(10))
            self.assertEqual(sorted(b.evaluate("wsclose")), [["", 1000], ["?envelope=json", 1009]])
            self.assertEqual(b.errors, [])

    @browser.in_debian_python(timeout=slow(180))
    def test_page_over_websocket_resumes_after_kill(self):
        with Daemon(ws_conf()) as d, browser.Chromium() as b:
            b.navigate("http://127.0.0.1:%d/?transport=ws" % d.port2)
            b.wait_for("pipecast.state() === 'connected'", timeout=slow(10))
            feed_lines(d, [b"\x1b[32mgreen %d\x1b[0m" % i for i in range(1, 6)])
            b.wait_for("pipecast.lines() >= 5", timeout=slow(10))
            with StatsConn(d.path("stats.sock")) as st:
                rows = parse_table(st.cmd("show clients"))[1]
                self.assertEqual([r[-1] for r in rows], ["ws"])
                st.cmd("kill client %s" % rows[0][0])
            self.assertIsNotNone(d.wait_log(r"closed .*reason=kill", timeout=slow(5)))
            feed_lines(d, [b"\x1b[32mgreen %d\x1b[0m" % i for i in range(6, 11)])
            b.wait_for("pipecast.lines() >= 10", timeout=slow(20))
            d.wait_opens(2)
            time.sleep(0.5)
            rows = b.evaluate("[...document.querySelectorAll('#log > div')]"
                              ".filter((e) => e.dataset.id).map((e) => [e.dataset.id, e.textContent,"
                              " e.querySelector('span') ? e.querySelector('span').className : ''])")
            self.assertEqual([int(r[0].split("-")[1]) for r in rows], list(range(1, 11)))
            self.assertEqual([r[1] for r in rows], ["green %d" % i for i in range(1, 11)])
            self.assertTrue(all(r[2] for r in rows), rows)
            self.assertEqual(b.errors, [])


if __name__ == "__main__":
    unittest.main()
