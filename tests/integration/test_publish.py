#!/usr/bin/env python3
"""pipecastctl publish against a REAL redis-server (Debian's, started by
the test on a free loopback port): lines arrive as stream entries in order,
MAXLEN trims approximately, and every failure (refused, WRONGTYPE, Redis
killed or frozen mid-run, usage) ends with a clear message and the right
exit status. Skipped only when redis-server is not installed.
Run alone: python3 tests/integration/test_publish.py
"""

import os
import re
import socket
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pctest import ctl_binary, free_port, slow  # noqa: E402
from pcredis import RedisServer  # noqa: E402

TIMEOUT = slow(60)


def lines(n, fmt="line-%06d"):
    """n numbered lines, as bytes."""
    return b"".join((fmt % i).encode() + b"\n" for i in range(n))


class Publish(unittest.TestCase):
    def setUp(self):
        self.exe = ctl_binary()
        self.assertTrue(os.access(self.exe, os.X_OK), "%s not built" % self.exe)
        self.redis = RedisServer()
        self.redis.__enter__()

    def tearDown(self):
        self.redis.__exit__(None, None, None)

    def publish(self, data, *args, timeout=TIMEOUT):
        """Runs pipecastctl publish with data on standard input."""
        return subprocess.run([self.exe] + list(args), input=data,
                              capture_output=True, timeout=timeout)

    def start(self, *args):
        """Starts pipecastctl publish reading from a pipe the test holds."""
        return subprocess.Popen([self.exe] + list(args), stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def wait_xlen(self, key, n, timeout=slow(20)):
        """Waits until the stream holds at least n entries; returns its length."""
        deadline = time.monotonic() + timeout
        got = 0
        while time.monotonic() < deadline:
            got = self.redis.cmd("XLEN", key)
            if got >= n:
                return got
            time.sleep(0.02)
        self.fail("stream %s holds %d entries, not %d, after %.0f s" % (key, got, n, timeout))

    def test_100k_lines_arrive_in_order(self):
        n = 100000
        r = self.publish(lines(n), "publish", self.redis.url + "/feed")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, b"")
        self.assertEqual(r.stdout, b"")
        self.assertEqual(self.redis.cmd("XLEN", "feed"), n)
        entries = self.redis.entries("feed")
        self.assertEqual(len(entries), n)
        for i, (eid, fields) in enumerate(entries):
            if fields != {b"data": b"line-%06d" % i}:
                self.fail("entry %d (%s) is %r" % (i, eid, fields))
        ids = [tuple(map(int, eid.split("-"))) for eid, _ in entries]
        self.assertEqual(ids, sorted(set(ids)), "entry ids not strictly increasing")

    def test_bytes_kept_empty_lines_and_last_line(self):
        data = b"a\n\n  spaced \t\nwith\rcr\r\n\xff\xfe\x00bin\n" + b"L" * (1 << 20) + b"\nlast"
        r = self.publish(data, "publish", self.redis.url + "/k")
        self.assertEqual(r.returncode, 0, r.stderr)
        got = [f[b"data"] for _, f in self.redis.entries("k")]
        self.assertEqual(got, [b"a", b"", b"  spaced \t", b"with\rcr\r", b"\xff\xfe\x00bin",
                               b"L" * (1 << 20), b"last"])

    def test_nothing_to_publish(self):
        r = self.publish(b"", "publish", self.redis.url + "/k")
        self.assertEqual((r.returncode, r.stderr), (0, b""))
        self.assertEqual(self.redis.cmd("EXISTS", "k"), 0)

    def test_maxlen_trims_approximately(self):
        n, maxlen = 20000, 1000
        r = self.publish(lines(n), "publish", self.redis.url + "/trim", str(maxlen))
        self.assertEqual(r.returncode, 0, r.stderr)
        xlen = self.redis.cmd("XLEN", "trim")
        # "~" trims whole stream nodes (100 entries each by default): never
        # below MAXLEN, never far above it.
        self.assertGreaterEqual(xlen, maxlen)
        self.assertLessEqual(xlen, maxlen + 200)
        entries = self.redis.entries("trim")
        self.assertEqual([f[b"data"] for _, f in entries],
                         [b"line-%06d" % i for i in range(n - xlen, n)])
        info = self.redis.cmd("XINFO", "STREAM", "trim")
        added = dict(zip(info[::2], info[1::2]))[b"entries-added"]
        self.assertEqual(added, n)

    def test_lines_go_out_as_they_come(self):
        p = self.start("publish", self.redis.url + "/live")
        try:
            for i in range(1, 6):
                p.stdin.write(b"tick %d\n" % i)
                p.stdin.flush()
                self.assertEqual(self.wait_xlen("live", i, timeout=slow(5)), i)
            p.stdin.close()
            self.assertEqual(p.wait(TIMEOUT), 0, p.stderr.read())
        finally:
            p.kill()
            p.wait()

    def test_connection_refused(self):
        port = free_port()
        target = "redis:127.0.0.1:%d/k" % port
        r = self.publish(b"x\n", "publish", target)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr.decode(),
                         "pipecastctl: %s: connect to 127.0.0.1:%d: Connection refused\n"
                         % (target, port))

    def test_wrongtype(self):
        self.redis.cmd("SET", "str", "v")
        r = self.publish(lines(10), "publish", self.redis.url + "/str")
        self.assertEqual(r.returncode, 1)
        err = r.stderr.decode()
        self.assertIn("pipecastctl: %s/str: XADD: WRONGTYPE " % self.redis.url, err)
        self.assertIn("(0 lines taken)", err)
        self.assertEqual(err.count("\n"), 1)

    def test_redis_killed_mid_run(self):
        p = self.start("publish", self.redis.url + "/k")
        try:
            p.stdin.write(lines(1000))
            p.stdin.flush()
            self.wait_xlen("k", 1000)
            self.redis.stop()
            # the next lines find the connection gone
            try:
                for _ in range(50):
                    p.stdin.write(lines(100))
                    p.stdin.flush()
                    if p.poll() is not None:
                        break
                    time.sleep(0.05)
            except BrokenPipeError:
                pass
            self.assertEqual(p.wait(slow(15)), 1)
            err = p.stderr.read().decode()
            m = re.match(r"^pipecastctl: %s/k: (Redis closed the connection|"
                         r"(sending to|reading from) Redis: Connection reset by peer) "
                         r"\((\d+) lines taken\)\n$" % re.escape(self.redis.url), err)
            self.assertIsNotNone(m, err)
            # taken means acknowledged (pipecastctl(1)): Redis holds all 1000,
            # but the replies to some may have been lost with the connection
            self.assertLessEqual(int(m.group(3)), 1000)
        finally:
            p.kill()
            p.wait()

    def test_redis_frozen_times_out(self):
        self.redis.pause(True)
        try:
            t0 = time.monotonic()
            r = self.publish(lines(10), "-t", "1", "publish", self.redis.url + "/k")
            took = time.monotonic() - t0
        finally:
            self.redis.pause(False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("Redis has not answered for 1000 ms (0 lines taken)", r.stderr.decode())
        self.assertLess(took, slow(10))

    def test_usage_errors(self):
        url = self.redis.url
        cases = [
            (["publish"], "'publish' needs redis:HOST:PORT/KEY"),
            (["publish", "sse:http://127.0.0.1/x"], "publish writes to redis:HOST:PORT/KEY"),
            (["publish", url + "/k", "0"], "MAXLEN '0': expected a positive integer"),
            (["publish", url + "/k", "5x"], "MAXLEN '5x'"),
            (["publish", url + "/k", "10", "extra"], "too many arguments for 'publish'"),
            (["publish", url + "/k?history=5"], "?history is for reading"),
            (["publish", "redis:db.example/k"], "no name is looked up"),
            (["publish", url + "/"], "empty KEY"),
            (["--json", "publish", url + "/k"], "not for 'publish'"),
        ]
        for args, msg in cases:
            with self.subTest(args=args):
                r = self.publish(b"x\n", *args)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn(msg, r.stderr.decode())
                self.assertIn("Try 'pipecastctl -h'.", r.stderr.decode())
        self.assertEqual(self.redis.cmd("EXISTS", "k"), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
