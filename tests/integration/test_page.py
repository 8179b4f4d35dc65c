"""The live page on its own, in headless Chromium (tests/integration/browser.py).

The page is loaded from a file under the Content-Security-Policy the build
computes for it; lines go in through the page's own append function (the one
its EventSource handler calls). The checks: controls labelled and reachable by
keyboard, ANSI SGR rendered as classes with the stylesheet applied under the
policy, escapes never shown, the filter, pause, the line cap, gap notices,
repeated ids dropped, auto-scroll and the "new lines" control, no policy
violation and no exception. Screenshots in light, dark and phone width are
saved as build/page-*.png for a reviewer.
"""

import os
import shutil
import unittest

import browser
import pctest


@pctest.not_under_valgrind("no daemon involved; the browser is slow enough")
class PageFromFile(unittest.TestCase):
    def test_page_selftest(self):
        if not os.path.exists(browser.CHROMIUM) and not shutil.which("chromium"):
            self.fail("chromium is missing (tests/deps.sh installs it)")
        rc, out = browser.run_under_debian_python(
            ["selftest", os.path.join(pctest.REPO, "build")], timeout=pctest.slow(240))
        self.assertIn("selftest:", out, out)
        self.assertEqual(rc, 0, out)
        self.assertIn(" 0 failed", out.strip().splitlines()[-1], out)


if __name__ == "__main__":
    unittest.main()
