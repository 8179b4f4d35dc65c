"""The live page served by the real daemon, in headless Chromium.

pipecastd reads its standard input and serves GET / and /events on an
[http] listener; Chromium (tests/integration/browser.py) loads the page.
Checks: backlog and live records appear in order with their ids, ANSI colour
rendered as styled elements, the filter hides other lines, a connection the
daemon closes (pipecastctl kill) is resumed with every record exactly once,
a ring overrun while the page is away shows a gap notice with the count,
and at 1,000 lines/s for 20 s the page stays at its line cap with a flat JS
heap while the daemon's timers and allocations stay flat; the page shows the clients
and records/s that info.json reports. A screenshot of
the page with coloured lines is saved as build/page-daemon.png.

A daemon built without [http] skips these tests (its -t says so).
"""

import json
import os
import re
import subprocess
import threading
import time
import unittest
import urllib.error
import urllib.request

import browser
import pctest

ID_RE = re.compile(r"^([0-9a-f]{16})-(\d+)$")


def http_supported():
    """Whether the daemon under test knows the [http] section."""
    rc, _, err = pctest.run_daemon(["-t", "-o", "http.listen=tcp:127.0.0.1:1"])
    return rc == 0, err.strip()


def coloured(i):
    """Record i: a red number, a bold word and plain text."""
    return b"\x1b[31mrec %05d\x1b[0m \x1b[1mbold\x1b[0m plain\n" % i


def seqs_of(b):
    """(sequence numbers of the record lines shown, their texts, gap texts)."""
    rows = b.evaluate("[...document.querySelectorAll('#log > div')]"
                      ".map((e) => [e.className, e.dataset.id || '', e.textContent])")
    seqs, texts, gaps = [], [], []
    for cls, rid, text in rows:
        if cls == "gap":
            gaps.append(text)
            continue
        m = ID_RE.match(rid)
        if not m:
            raise AssertionError("a record line without an EPOCH-SEQ id: %r %r" % (rid, text))
        seqs.append(int(m.group(2)))
        texts.append(text)
    return seqs, texts, gaps


class LivePage(unittest.TestCase):
    CONF = {"http": {"listen": "tcp:127.0.0.1:{port2}", "retry": "500ms"},
            "clients": {"backlog": "1MiB"}}

    def setUp(self):
        ok, why = http_supported()
        if not ok:
            self.skipTest("this pipecastd serves no HTTP yet: %s" % why)

    def page_url(self, d, query=""):
        return "http://127.0.0.1:%d/%s" % (d.port2, query)

    def sse_client_id(self, d):
        """The id of the one /events client in show clients (proto sse)."""
        head, rows = pctest.parse_table(pctest.stats_query(d.path("stats.sock"), "show clients"))
        proto = head.index("proto")
        ids = [r[0] for r in rows if r[proto] == "sse"]
        self.assertEqual(len(ids), 1, rows)
        return ids[0]

    def wait_records(self, d, n):
        """Waits until the daemon has read n records from its source."""
        deadline = time.monotonic() + pctest.slow(10)
        with pctest.StatsConn(d.path("stats.sock")) as st:
            while st.info()["source_records_total"] < n:
                if time.monotonic() > deadline:
                    raise AssertionError("the daemon did not read %d records" % n)
                time.sleep(0.02)

    def kill(self, d, cid):
        subprocess.run([pctest.ctl_binary(), "-s", d.path("stats.sock"), "kill", cid],
                       check=True, timeout=10, stdout=subprocess.DEVNULL)

    @browser.in_debian_python(timeout=pctest.slow(180))
    def test_backlog_then_live_in_order_with_colours_and_filter(self):
        with pctest.Daemon(self.CONF) as d, browser.Chromium() as b:
            d.write_stdin(b"".join(coloured(i) for i in range(30)))
            self.wait_records(d, 30)
            with urllib.request.urlopen(self.page_url(d), timeout=10) as r:
                csp = r.headers.get("Content-Security-Policy", "")
                self.assertIn("script-src 'sha256-", csp)
                self.assertIn("style-src 'sha256-", csp)
            b.navigate(self.page_url(d))
            b.wait_for("pipecast.lines() === 30", timeout=pctest.slow(15))
            d.write_stdin(b"".join(coloured(i) for i in range(30, 60)))
            b.wait_for("pipecast.lines() === 60", timeout=pctest.slow(15))
            seqs, texts, gaps = seqs_of(b)
            self.assertEqual(seqs, list(range(1, 61)))
            self.assertEqual(texts, ["rec %05d bold plain" % i for i in range(60)])
            self.assertEqual(gaps, [])
            self.assertEqual(b.evaluate("document.querySelectorAll('#log span.f1').length"), 60)
            self.assertEqual(b.evaluate("document.querySelectorAll('#log span.bo').length"), 60)
            self.assertNotEqual(
                b.evaluate("getComputedStyle(document.querySelector('#log span.f1')).color"),
                b.evaluate("getComputedStyle(document.getElementById('log')).color"))
            b.wait_for("document.getElementById('state').textContent === 'connected'")
            # info.json every 2 s: this page is the one client; a rate once two polls are in.
            b.wait_for("/^1 client · \\d+ records\\/s$/.test(document.getElementById('stats').textContent)",
                       timeout=pctest.slow(10))
            b.screenshot(os.path.join(pctest.REPO, "build", "page-daemon.png"),
                         width=1000, height=600, dark=False)
            b.evaluate("(() => { const f = document.getElementById('filter'); f.value = 'rec 0001';"
                       " f.dispatchEvent(new Event('input')); })()")
            b.wait_for("[...document.querySelectorAll('#log > div')].filter((e) => !e.hidden).length === 10",
                       timeout=pctest.slow(5))
            shown = b.evaluate("[...document.querySelectorAll('#log > div')].filter((e) => !e.hidden)"
                               ".map((e) => e.textContent)")
            self.assertEqual(shown, ["rec %05d bold plain" % i for i in range(10, 20)])
            self.assertFalse([m for m in b.messages if "Content Security Policy" in m], b.messages)
            self.assertEqual(b.errors, [])

    @browser.in_debian_python(timeout=pctest.slow(180))
    def test_reconnect_after_kill_shows_every_record_once(self):
        with pctest.Daemon(self.CONF) as d, browser.Chromium() as b:
            b.navigate(self.page_url(d))
            b.wait_for("pipecast.state() === 'connected'", timeout=pctest.slow(15))
            d.write_stdin(b"".join(coloured(i) for i in range(20)))
            b.wait_for("pipecast.lines() === 20", timeout=pctest.slow(15))
            for round_ in range(3):
                self.kill(d, self.sse_client_id(d))
                base = 20 + 20 * round_
                d.write_stdin(b"".join(coloured(i) for i in range(base, base + 20)))
                b.wait_for("pipecast.lines() === %d" % (base + 20), timeout=pctest.slow(15))
                b.wait_for("pipecast.state() === 'connected'", timeout=pctest.slow(15))
            seqs, texts, gaps = seqs_of(b)
            self.assertEqual(seqs, list(range(1, 81)))
            self.assertEqual(texts, ["rec %05d bold plain" % i for i in range(80)])
            self.assertEqual(gaps, [])
            with pctest.StatsConn(d.path("stats.sock")) as st:
                self.assertGreaterEqual(st.info()["resumes_total"], 3)

    @browser.in_debian_python(timeout=pctest.slow(180))
    def test_gap_notice_after_overrun_while_away(self):
        conf = {"http": {"listen": "tcp:127.0.0.1:{port2}", "retry": "3s"},
                "clients": {"buffer": "64KiB", "backlog": "0"}, "source": {"max_line": "1KiB"}}
        with pctest.Daemon(conf) as d, browser.Chromium() as b:
            b.navigate(self.page_url(d))
            b.wait_for("pipecast.state() === 'connected'", timeout=pctest.slow(15))
            d.write_stdin(b"".join(coloured(i) for i in range(5)))
            b.wait_for("pipecast.lines() === 5", timeout=pctest.slow(15))
            self.kill(d, self.sse_client_id(d))
            # 200 KB while the page waits its 3 s retry: the ring (64 KiB) overruns.
            d.write_stdin(b"".join(b"%s %s\n" % (b"x" * 90, b"%05d" % i) for i in range(5, 2005)))
            b.wait_for("document.querySelector('#log > div.gap') !== null", timeout=pctest.slow(20))
            b.wait_for("pipecast.state() === 'connected'", timeout=pctest.slow(15))
            seqs, _, gaps = seqs_of(b)
            self.assertEqual(seqs[:5], [1, 2, 3, 4, 5])
            self.assertEqual(len(gaps), 1, gaps)
            missed = seqs[5] - 5 - 1
            self.assertGreater(missed, 0)
            self.assertIn("%s record" % format(missed, ","), gaps[0])
            self.assertEqual(seqs[5:], list(range(seqs[5], seqs[5] + len(seqs) - 5)))
            self.assertIn("gap: %s missed" % format(missed, ","),
                          b.evaluate("document.getElementById('state').textContent"))

    @browser.in_debian_python(timeout=pctest.slow(300))
    @pctest.not_under_valgrind("1,000 lines/s for 20 s")
    def test_line_cap_and_flat_heap_at_1000_lines_per_second(self):
        with pctest.Daemon(self.CONF) as d, browser.Chromium() as b:
            b.navigate(self.page_url(d))
            b.wait_for("pipecast.state() === 'connected'", timeout=pctest.slow(15))
            stop = threading.Event()
            sent = [0]

            def produce():
                t0 = time.monotonic()
                while not stop.is_set():
                    due = int((time.monotonic() - t0) * 1000)
                    if due > sent[0]:
                        d.write_stdin(b"".join(coloured(i) for i in range(sent[0], due)))
                        sent[0] = due
                    stop.wait(0.01)
            th = threading.Thread(target=produce, daemon=True)
            t_start = time.monotonic()
            th.start()
            try:
                b.wait_for("pipecast.lines() === pipecast.cap", timeout=pctest.slow(30))
                stats = pctest.StatsConn(d.path("stats.sock"))
                before = stats.info()
                base = b.heap_used()
                samples = []
                while time.monotonic() - t_start < 22:
                    b.pump(3)
                    samples.append((b.heap_used(), b.evaluate("document.querySelectorAll('#log > div').length")))
                after = stats.info()
                stats.close()
            finally:
                stop.set()
                th.join(10)
            self.assertGreaterEqual(sent[0], 18000)
            for heap, divs in samples:
                self.assertEqual(divs, 5000, samples)
                self.assertLessEqual(heap, base * 1.2, "heap grew: base %d, samples %s" % (base, samples))
            # The page's info.json polls are connections (a timer and a few
            # allocations each, about ten of them here); 17,000 records add none.
            self.assertLess(after["timer_allocations_total"] - before["timer_allocations_total"], 40)
            self.assertLess(abs(after["allocations_live"] - before["allocations_live"]), 64)
            self.assertLess(after["allocations_total"] - before["allocations_total"], 2000)
            print("heap at the cap %d bytes, samples %s" % (base, json.dumps(samples)))

    @browser.in_debian_python(timeout=pctest.slow(180))
    def test_page_passes_its_token_to_the_stream_and_info(self):
        """[access] tokens_file on: the page's own ?token= reaches /events
        and /info.json; without it the stream and the page are refused."""
        conf = dict(self.CONF, access={"tokens_file": "{dir}/tokens"})
        d = pctest.Daemon(conf)
        with open(os.path.join(d.dir, "tokens"), "w") as f:
            f.write("page-token-1\n")
        os.chmod(os.path.join(d.dir, "tokens"), 0o600)
        with d, browser.Chromium() as b:
            d.write_stdin(b"".join(coloured(i) for i in range(5)))
            self.wait_records(d, 5)
            for q in ("", "?token=wrong"):
                with self.assertRaises(urllib.error.HTTPError) as e:
                    urllib.request.urlopen(self.page_url(d, q), timeout=10)
                self.assertEqual(e.exception.code, 401)
            b.navigate(self.page_url(d, "?token=page-token-1"))
            b.wait_for("pipecast.lines() === 5", timeout=pctest.slow(15))
            seqs, _, _ = seqs_of(b)
            self.assertEqual(seqs, [1, 2, 3, 4, 5])
            b.wait_for("/^1 client/.test(document.getElementById('stats').textContent)",
                       timeout=pctest.slow(10))
            with pctest.StatsConn(d.path("stats.sock")) as st:
                self.assertEqual(st.info()["access_refused_token_total"], 2)


if __name__ == "__main__":
    unittest.main()
