#!/usr/bin/python3
"""browser: headless Chromium driven over the DevTools protocol, for tests of
the live page (Debian's chromium and python3-websockets, under /usr/bin/python3).

    with Chromium() as b:
        b.navigate("http://127.0.0.1:%d/" % port)
        b.wait_for("window.pipecast && pipecast.lines() >= 10", timeout=10)
        n = b.evaluate("document.querySelectorAll('#log > div').length")
        used = b.heap_used()            # bytes, after forced collections
        b.screenshot("build/page.png", width=390, height=800, dark=True)

- The browser gets a fresh --user-data-dir and --remote-debugging-port=0;
  the port it picked is read from DevToolsActivePort, so no port can clash.
- Every call is bounded in time; leaving the with-block (or close()) kills
  the browser's whole process group and removes its profile.
- Exceptions thrown by the page and console/CSP messages are collected in
  b.errors and b.messages.

Tests that drive the browser decorate their methods with
@in_debian_python(timeout): under an interpreter without python3-websockets
the method runs in a child under /usr/bin/python3 (`browser.py unittest ID`).

This file is also a program: `browser.py selftest [OUTDIR]` loads
web/index.html from a file:// URL under its own Content-Security-Policy (as a
<meta> copy of the header web/embed.py computes), feeds lines through the
page's own append function, checks the DOM it builds, and saves screenshots
in OUTDIR (default build/). Tests running under another interpreter use
run_under_debian_python() to reach it.
"""

import asyncio
import base64
import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEBIAN_PYTHON = "/usr/bin/python3"
CHROMIUM = os.environ.get("PCTEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


def run_under_debian_python(args, timeout):
    """Runs this file with args under Debian's python3 (which has the
    websockets module); returns (exit status, output)."""
    py = DEBIAN_PYTHON if os.path.exists(DEBIAN_PYTHON) else sys.executable
    try:
        p = subprocess.run([py, os.path.abspath(__file__)] + list(args), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=timeout, cwd=REPO)
    except subprocess.TimeoutExpired as e:
        return -1, (e.output or b"").decode(errors="replace") + "\n(timed out)"
    return p.returncode, p.stdout.decode(errors="replace")


def have_websockets():
    """Whether this interpreter can import python3-websockets."""
    try:
        import websockets  # noqa: F401
        return True
    except ImportError:
        return False


SKIP_MARK = "browser.py: skipped: "


def in_debian_python(timeout):
    """Decorates a unittest method that drives Chromium: under an interpreter
    without python3-websockets, the same test runs in a child under Debian's
    python3 (`browser.py unittest TEST_ID`), and its failure or skip is this
    test's."""
    def deco(fn):
        @functools.wraps(fn)
        def wrapper(self):
            if have_websockets():
                return fn(self)
            rc, out = run_under_debian_python(["unittest", self.id()], timeout)
            for ln in out.splitlines():
                if ln.startswith(SKIP_MARK):
                    self.skipTest(ln[len(SKIP_MARK):])
            if rc != 0:
                self.fail("under %s:\n%s" % (DEBIAN_PYTHON, out[-6000:]))
        return wrapper
    return deco


def run_test(test_id):
    """Runs one unittest by id (module.Class.method) from this directory."""
    sys.path.insert(0, HERE)
    suite = unittest.defaultTestLoader.loadTestsFromName(test_id)
    res = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    for _, reason in res.skipped:
        print(SKIP_MARK + reason)
    return 0 if res.wasSuccessful() and res.testsRun > 0 else 1


class BrowserError(AssertionError):
    pass


class Chromium:
    """One headless Chromium with one page, driven over the DevTools protocol."""

    def __init__(self, timeout=20.0, width=1100, height=700):
        self.timeout = timeout
        self.size = (width, height)
        self.proc = None
        self.profile = None
        self.ws = None
        self.loop = asyncio.new_event_loop()
        self.next_id = 0
        self.waiting = {}
        self.errors = []
        self.messages = []
        self.reader = None

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, et, ev, tb):
        self.close()

    # ---- start and stop ---------------------------------------------------
    def start(self):
        self.profile = tempfile.mkdtemp(prefix="pctest-chromium-")
        args = [
            CHROMIUM, "--headless=new", "--remote-debugging-port=0",
            "--remote-debugging-address=127.0.0.1", "--user-data-dir=" + self.profile,
            "--no-first-run", "--no-default-browser-check", "--disable-gpu",
            "--disable-extensions", "--disable-background-networking", "--disable-sync",
            "--disable-component-update", "--disable-default-apps", "--mute-audio",
            "--disable-dev-shm-usage", "--hide-scrollbars",
            "--js-flags=--expose-gc", "--enable-precise-memory-info",
            "--window-size=%d,%d" % self.size, "about:blank",
        ]
        if os.geteuid() == 0:
            args.insert(1, "--no-sandbox")
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        port = self._devtools_port()
        url = self._page_socket(port)
        self.loop.run_until_complete(self._connect(url))
        for domain in ("Page", "Runtime", "Log"):
            self.call(domain + ".enable")

    def _devtools_port(self):
        """The port Chromium wrote to DevToolsActivePort (bounded wait)."""
        path = os.path.join(self.profile, "DevToolsActivePort")
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BrowserError("chromium exited with status %s at start" % self.proc.returncode)
            try:
                with open(path) as f:
                    first = f.readline().strip()
                if first:
                    return int(first)
            except (OSError, ValueError):
                pass
            time.sleep(0.05)
        raise BrowserError("chromium did not open its DevTools port within %.0f s" % self.timeout)

    def _page_socket(self, port):
        """The DevTools WebSocket URL of the browser's page target."""
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/json/list" % port, timeout=5) as r:
                    targets = json.load(r)
                for t in targets:
                    if t.get("type") == "page":
                        return t["webSocketDebuggerUrl"]
            except OSError:
                pass
            time.sleep(0.1)
        raise BrowserError("no page target in chromium")

    async def _connect(self, url):
        import websockets  # python3-websockets, Debian's /usr/bin/python3
        self.ws = await asyncio.wait_for(
            websockets.connect(url, max_size=None, ping_interval=None), self.timeout)
        self.reader = self.loop.create_task(self._read())

    def close(self):
        """Closes the connection, kills the browser's process group, removes
        its profile."""
        if self.ws is not None:
            try:
                self.loop.run_until_complete(asyncio.wait_for(self.ws.close(), 2))
            except Exception:
                pass
            self.ws = None
        if self.reader is not None:
            self.reader.cancel()
            try:
                self.loop.run_until_complete(asyncio.wait_for(asyncio.gather(self.reader, return_exceptions=True), 2))
            except Exception:
                pass
            self.reader = None
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            self.proc = None
        if self.profile:
            shutil.rmtree(self.profile, ignore_errors=True)
            self.profile = None
        if not self.loop.is_closed():
            self.loop.close()

    # ---- the protocol -----------------------------------------------------
    async def _read(self):
        async for raw in self.ws:
            msg = json.loads(raw)
            fut = self.waiting.pop(msg.get("id"), None)
            if fut is not None:
                if not fut.done():
                    fut.set_result(msg)
                continue
            self._event(msg.get("method"), msg.get("params", {}))

    def _event(self, method, params):
        """Keeps what the page reports about itself."""
        if method == "Runtime.exceptionThrown":
            d = params.get("exceptionDetails", {})
            self.errors.append((d.get("exception") or {}).get("description") or d.get("text"))
        elif method == "Log.entryAdded":
            e = params.get("entry", {})
            self.messages.append("%s: %s" % (e.get("level"), e.get("text")))
        elif method == "Runtime.consoleAPICalled":
            args = [a.get("value", a.get("description")) for a in params.get("args", [])]
            self.messages.append("console.%s: %s" % (params.get("type"), " ".join(map(str, args))))

    async def _call(self, method, params, timeout):
        self.next_id += 1
        fut = self.loop.create_future()
        self.waiting[self.next_id] = fut
        await self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        msg = await asyncio.wait_for(fut, timeout)
        if "error" in msg:
            raise BrowserError("%s: %s" % (method, msg["error"].get("message")))
        return msg.get("result", {})

    def call(self, method, timeout=None, **params):
        """One DevTools command; returns its result (bounded wait)."""
        return self.loop.run_until_complete(self._call(method, params, timeout or self.timeout))

    def pump(self, seconds):
        """Lets events arrive for a while (time passes for the page anyway)."""
        self.loop.run_until_complete(asyncio.sleep(seconds))

    # ---- what tests use ---------------------------------------------------
    def navigate(self, url, timeout=None):
        """Loads url and waits until its document has loaded."""
        self.call("Page.navigate", url=url)
        self.wait_for("document.readyState === 'complete' && location.href !== 'about:blank'",
                      timeout or self.timeout)

    def evaluate(self, expr, await_promise=False, timeout=None):
        """The value of a JavaScript expression in the page (JSON-able)."""
        r = self.call("Runtime.evaluate", timeout=timeout, expression=expr, returnByValue=True,
                      awaitPromise=await_promise)
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            raise BrowserError("page: %s" % ((d.get("exception") or {}).get("description") or d.get("text")))
        return r.get("result", {}).get("value")

    def wait_for(self, expr, timeout=None, interval=0.05):
        """Waits until expr is truthy in the page."""
        deadline = time.monotonic() + (timeout or self.timeout)
        last = None
        while time.monotonic() < deadline:
            try:
                last = self.evaluate("!!(%s)" % expr, timeout=max(1.0, deadline - time.monotonic()))
                if last:
                    return True
            except BrowserError as e:
                last = e
            self.pump(interval)
        raise BrowserError("timed out waiting for %s (last: %r)" % (expr, last))

    def press(self, key, text=None):
        """Presses and releases one key, as a keyboard would."""
        codes = {"Tab": 9, "Enter": 13, "Escape": 27, "/": 191}
        down = dict(type="keyDown", key=key,
                    windowsVirtualKeyCode=codes.get(key, 0))
        if text is not None:
            down["text"] = text
        self.call("Input.dispatchKeyEvent", **down)
        self.call("Input.dispatchKeyEvent", type="keyUp", key=key, windowsVirtualKeyCode=codes.get(key, 0))

    def wheel(self, selector, dy):
        """Turns the mouse wheel by dy pixels (negative: up) over the centre
        of the element selector names, as a reader would."""
        x, y = self.evaluate("(() => { const r = document.querySelector(%s).getBoundingClientRect();"
                             " return [r.x + r.width / 2, r.y + r.height / 2]; })()" % json.dumps(selector))
        self.call("Input.dispatchMouseEvent", type="mouseWheel", x=x, y=y, deltaX=0, deltaY=dy)

    def heap_used(self):
        """The page's JS heap in use, in bytes, after a forced collection:
        HeapProfiler.collectGarbage, then, in one task of the page (so that
        no event handler can allocate in between), a second collection and
        the exact reading (--js-flags=--expose-gc, --enable-precise-memory-info).
        Read through a separate Runtime.getHeapUsage instead, a page taking
        1,000 lines/s showed up to 60 % more, all of it garbage."""
        self.call("HeapProfiler.collectGarbage", timeout=60)
        return self.evaluate("(() => { gc(); return performance.memory.usedJSHeapSize; })()", timeout=60)

    def dom_nodes(self):
        """Nodes, documents and listeners the renderer holds (Memory domain)."""
        return self.call("Memory.getDOMCounters")

    def emulate(self, width=None, height=None, mobile=False, dark=None):
        """Sets the viewport and the preferred colour scheme."""
        w, h = width or self.size[0], height or self.size[1]
        self.call("Emulation.setDeviceMetricsOverride", width=w, height=h,
                  deviceScaleFactor=1, mobile=mobile)
        feats = [] if dark is None else [{"name": "prefers-color-scheme", "value": "dark" if dark else "light"}]
        self.call("Emulation.setEmulatedMedia", features=feats)

    def screenshot(self, path, **emulation):
        """Saves a PNG of the viewport (after emulate(**emulation) if given)."""
        if emulation:
            self.emulate(**emulation)
            self.pump(0.3)
        data = self.call("Page.captureScreenshot", format="png", timeout=60)["data"]
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
        return path


# ---- selftest: the page on its own, from a file ---------------------------

SAMPLE = [
    "\x1b[2m2026-11-30T10:00:01Z\x1b[0m \x1b[32mINFO \x1b[0m listener tcp:127.0.0.1:7070 ready",
    "\x1b[2m2026-11-30T10:00:02Z\x1b[0m \x1b[33mWARN \x1b[0m client 7 lagging: \x1b[1m3.2 MiB\x1b[0m behind",
    "\x1b[2m2026-11-30T10:00:03Z\x1b[0m \x1b[1;31mERROR\x1b[0m upstream 10.0.0.5:80 refused the connection",
    "\x1b[2m2026-11-30T10:00:04Z\x1b[0m \x1b[36mDEBUG\x1b[0m ring head=\x1b[35m1048576\x1b[0m tail=\x1b[35m0\x1b[0m",
    "\x1b]0;window title\x07\x1b[38;5;208m256-colour orange\x1b[0m and \x1b[38;2;40;120;255mtrue colour\x1b[0m\x1b[K",
    "\x1b[7m inverse \x1b[0m \x1b[4munderlined\x1b[0m \x1b[3mitalic\x1b[0m \x1b[9mstruck\x1b[0m \x1b[41;97m white on red \x1b[0m",
    "\x1b[90mbright black\x1b[0m \x1b[91mbright red\x1b[0m \x1b[92mgreen\x1b[0m \x1b[93myellow\x1b[0m "
    "\x1b[94mblue\x1b[0m \x1b[95mmagenta\x1b[0m \x1b[96mcyan\x1b[0m \x1b[97mwhite\x1b[0m",
    "plain text with a tab\there, <b>no markup</b> & \u00e9\u00e8 \u2603 \ufffd",
]


def page_with_csp(outdir):
    """A copy of web/index.html carrying the policy web/embed.py computes, as
    a <meta> (frame-ancestors only works as a header and is left out)."""
    page = os.path.join(REPO, "web", "index.html")
    csp = subprocess.run([sys.executable, os.path.join(REPO, "web", "embed.py"), "--csp", page],
                         check=True, stdout=subprocess.PIPE, timeout=30).stdout.decode().strip()
    csp = "; ".join(p for p in csp.split("; ") if not p.startswith("frame-ancestors"))
    with open(page, encoding="utf-8") as f:
        html = f.read()
    meta = '<meta charset="utf-8">\n<meta http-equiv="Content-Security-Policy" content="%s">' % csp
    html = html.replace('<meta charset="utf-8">', meta, 1)
    path = os.path.join(outdir, "index.html")
    with open(path, "w", encoding="utf-8") as f:
        f.write(html)
    return path


class Check:
    """Counts checks; prints each; remembers failures."""

    def __init__(self):
        self.failed = []
        self.n = 0

    def __call__(self, ok, what, detail=""):
        self.n += 1
        print("%s %s%s" % ("ok  " if ok else "FAIL", what, (": %s" % detail) if detail and not ok else ""))
        if not ok:
            self.failed.append(what)


def selftest(outdir):
    check = Check()
    tmp = tempfile.mkdtemp(prefix="pctest-page-")
    try:
        page = page_with_csp(tmp)
        with Chromium() as b:
            b.emulate(width=1100, height=700, dark=False)
            b.navigate("file://%s?lines=200" % page)
            b.wait_for("typeof window.pipecast === 'object'", timeout=10)
            selftest_controls(b, check)
            selftest_ansi(b, check)
            selftest_filter(b, check)
            selftest_cap_gap_ids(b, check)
            selftest_screenshots(b, check, outdir)
            csp = [m for m in b.messages if "Content Security Policy" in m]
            check(not csp, "no Content-Security-Policy violations", "; ".join(csp))
            check(not b.errors, "no exceptions in the page", "; ".join(map(str, b.errors)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("selftest: %d checks, %d failed" % (check.n, len(check.failed)))
    return 1 if check.failed else 0


def selftest_controls(b, check):
    """Every control exists, is focusable and has a label."""
    labels = b.evaluate("""(() => {
      const out = {};
      for (const id of ['filter', 'regex', 'case', 'pause', 'clear']) {
        const el = document.getElementById(id);
        out[id] = el ? ((el.labels && el.labels.length ? el.labels[0].textContent : el.textContent) || '').trim() : null;
      }
      return out; })()""")
    for cid, label in labels.items():
        check(bool(label), "control #%s has a label" % cid, repr(label))
    order = []
    for _ in range(8):
        b.press("Tab")
        order.append(b.evaluate("document.activeElement.id"))
    check(all(x in order for x in ("filter", "regex", "case", "pause", "clear", "log")),
          "Tab reaches every control and the log", order)
    b.evaluate("document.activeElement.blur()")
    b.press("/", text="/")
    check(b.evaluate("document.activeElement.id") == "filter", "'/' moves the focus to the filter")
    check(b.evaluate("pipecast.state()") == "offline", "a page opened from a file says it is not connected")
    check(b.evaluate("document.getElementById('state').textContent").startswith("not connected"),
          "the connection state is visible")


def selftest_ansi(b, check):
    """Lines with SGR sequences become classed spans; no escape is shown."""
    b.evaluate("(%s).forEach((l, i) => pipecast.append(l, '00000000000000aa-' + (i + 1)))" % json.dumps(SAMPLE))
    b.wait_for("document.querySelectorAll('#log > div').length === %d" % len(SAMPLE))
    text = b.evaluate("document.getElementById('log').textContent")
    check("\x1b" not in text and "[0m" not in text and "window title" not in text,
          "escape sequences are never shown raw", repr(text[:200]))
    check("<b>no markup</b>" in text, "text is shown as text, never as markup")
    red = b.evaluate("""(() => { const s = [...document.querySelectorAll('#log span.f1.bo')]
      .find((e) => e.textContent === 'ERROR'); return s ? getComputedStyle(s).color + '|' + getComputedStyle(s).fontWeight : null; })()""")
    base = b.evaluate("getComputedStyle(document.getElementById('log')).color")
    check(red is not None and red.split("|")[0] != base and red.split("|")[1] == "700",
          "SGR 1;31 is a bold red span (the stylesheet applies under the policy)", "%r vs %r" % (red, base))
    orange = b.evaluate("""(() => { const s = [...document.querySelectorAll('#log span')]
      .find((e) => e.textContent === '256-colour orange'); return s ? getComputedStyle(s).color : null; })()""")
    check(orange == "rgb(255, 135, 0)", "SGR 38;5;208 gets its colour through the CSSOM", orange)
    classes = b.evaluate("[...document.querySelectorAll('#log span')].map((e) => e.className).join(' ')")
    for cls in ("f2", "f3", "f6", "f5", "it", "ul", "so", "b1", "f15", "fi", "bi"):
        check(cls in classes.split(), "class %s rendered" % cls, classes)
    styled = b.evaluate("document.querySelectorAll('#log [style]').length")
    check(styled == 0, "no inline style attributes", styled)


def selftest_filter(b, check):
    """Substring and regular-expression filters hide lines and mark matches."""
    b.evaluate("(() => { const f = document.getElementById('filter'); f.value = 'lagging';"
               " f.dispatchEvent(new Event('input')); })()")
    b.wait_for("[...document.querySelectorAll('#log > div')].filter((e) => !e.hidden).length === 1")
    mark = b.evaluate("[...document.querySelectorAll('#log mark')].map((m) => m.textContent)")
    check(mark == ["lagging"], "a substring match is highlighted", mark)
    b.evaluate("(() => { document.getElementById('regex').click(); const f = document.getElementById('filter');"
               " f.value = 'ERR(OR)?|colour orange'; f.dispatchEvent(new Event('input')); })()")
    b.wait_for("[...document.querySelectorAll('#log > div')].filter((e) => !e.hidden).length === 2")
    check(b.evaluate("document.getElementById('matches').textContent") == "2 matches", "the match count is shown")
    b.evaluate("(() => { const f = document.getElementById('filter'); f.value = '(';"
               " f.dispatchEvent(new Event('input')); })()")
    b.wait_for("document.getElementById('filter').getAttribute('aria-invalid') === 'true'")
    check(b.evaluate("[...document.querySelectorAll('#log > div')].every((e) => !e.hidden)"),
          "an invalid regular expression filters nothing and says so")
    b.evaluate("(() => { document.getElementById('regex').click(); const f = document.getElementById('filter');"
               " f.value = ''; f.dispatchEvent(new Event('input')); })()")
    b.wait_for("document.querySelectorAll('#log mark').length === 0 && "
               "[...document.querySelectorAll('#log > div')].every((e) => !e.hidden)")
    check(True, "clearing the filter shows every line again")


def selftest_cap_gap_ids(b, check):
    """The line cap, gap notices, repeated ids and pausing."""
    check(b.evaluate("pipecast.append('repeat', '00000000000000aa-3')") is False,
          "a record at or before the last id seen is dropped")
    b.evaluate("pipecast.gap(5)")
    b.wait_for("document.querySelector('#log > div.gap')")
    check("5 records were missed" in b.evaluate("document.querySelector('#log > div.gap').textContent"),
          "a gap notice shows the count in the log")
    check("gap: 5 missed" in b.evaluate("document.getElementById('state').textContent"),
          "the connection state shows the gap")
    b.evaluate("pipecast.setPaused(true); for (let i = 0; i < 50; i++) pipecast.append('held ' + i, '')")
    b.pump(0.3)
    check(b.evaluate("document.querySelectorAll('#log > div').length") == len(SAMPLE) + 1,
          "a paused page shows no new line")
    check("50 waiting" in b.evaluate("document.getElementById('pause').textContent"), "pause says how many wait")
    b.evaluate("pipecast.setPaused(false)")
    b.wait_for("document.querySelectorAll('#log > div').length === %d" % (len(SAMPLE) + 51))
    b.evaluate("for (let i = 0; i < 500; i++) pipecast.append('line ' + i, '00000000000000aa-' + (100 + i))")
    b.wait_for("document.getElementById('log').lastElementChild.textContent === 'line 499'")
    n = b.evaluate("[pipecast.lines(), document.querySelectorAll('#log > div').length, "
                   "document.getElementById('log').firstElementChild.textContent]")
    check(n == [200, 200, "line 300"], "?lines=200 keeps the newest 200 lines, oldest removed", n)
    bottom = b.evaluate("(() => { const l = document.getElementById('log');"
                        " return l.scrollHeight - l.scrollTop - l.clientHeight; })()")
    check(bottom < 24, "the view follows the newest line", bottom)
    b.wheel("#log", -100000)
    b.wait_for("document.getElementById('log').scrollTop === 0")
    b.pump(0.2)
    b.evaluate("for (let i = 0; i < 7; i++) pipecast.append('more ' + i, '')")
    b.wait_for("!document.getElementById('jump').hidden")
    check(b.evaluate("document.getElementById('jump').textContent") == "7 new lines, jump to newest",
          "scrolled up, the page counts new lines instead of scrolling")
    b.evaluate("document.getElementById('jump').click()")
    b.wait_for("document.getElementById('jump').hidden")
    check(True, "jump to newest returns to the bottom")


def selftest_screenshots(b, check, outdir):
    """Screenshots in light, dark and phone width, for a person to look at."""
    b.evaluate("document.getElementById('clear').click()")
    lines = SAMPLE * 3
    b.evaluate("(%s).forEach((l) => pipecast.append(l, ''))" % json.dumps(lines))
    b.evaluate("pipecast.gap(12)")
    b.evaluate("(%s).forEach((l) => pipecast.append(l, ''))" % json.dumps(SAMPLE[:4]))
    b.pump(0.3)
    shots = [("page-light.png", dict(width=1100, height=700, dark=False)),
             ("page-dark.png", dict(width=1100, height=700, dark=True)),
             ("page-phone.png", dict(width=390, height=780, mobile=True, dark=False)),
             ("page-phone-dark.png", dict(width=390, height=780, mobile=True, dark=True))]
    for i, (name, emu) in enumerate(shots):
        path = b.screenshot(os.path.join(outdir, name), **emu)
        check(os.path.getsize(path) > 10000, "screenshot %s" % path)
        b.evaluate("for (let i = 0; i < 3; i++) pipecast.append(%s, '')" % json.dumps(SAMPLE[i % 4]))
        b.pump(0.3)
        at = b.evaluate("(() => { const l = document.getElementById('log');"
                        " return [l.scrollHeight - l.scrollTop - l.clientHeight,"
                        " document.getElementById('jump').hidden]; })()")
        check(at[0] < 24 and at[1], "a resize keeps the view on the newest line (%s)" % name, at)
    over = b.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    check(over <= 0, "nothing overflows sideways at phone width", over)


def main(argv):
    if len(argv) == 2 and argv[0] == "unittest":
        return run_test(argv[1])
    if len(argv) >= 1 and argv[0] == "selftest":
        outdir = argv[1] if len(argv) > 1 else os.path.join(REPO, "build")
        return selftest(outdir)
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
