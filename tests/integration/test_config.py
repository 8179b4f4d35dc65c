"""Configuration checking (-t), -o overrides, -V, -h, usage errors (issue item 12)."""

import os
import re
import shutil
import tempfile
import unittest

from pctest import run_daemon

# (name, file text, expected error line, words of which one must appear in
#  that line's message).  Lines are numbered from 1.
ERROR_CASES = [
    ("unknown section", "[daemon]\nlog_level = info\n[bogus]\nx = 1\n", 3, ["bogus"]),
    ("empty unknown section", "[daemon]\nlog_level = info\n\n[empty]\n", 4, ["empty"]),
    ("empty unknown section mid-file", "[nothing]\n[daemon]\nlog_level = info\n", 1, ["nothing"]),
    ("unknown key", "[clients]\nbuffer = 4MiB\nidel_timeout = 2s\n", 3, ["idel_timeout"]),
    ("key outside any section", "# comment\nlog_level = info\n[daemon]\n", 2, ["log_level"]),
    ("duration fraction", "[clients]\nidle_timeout = 1.5s\n", 2, ["idle_timeout"]),
    ("duration bad unit", "[clients]\nidle_timeout = 5x\n", 2, ["idle_timeout"]),
    ("duration negative", "[clients]\nsend_timeout = -1s\n", 2, ["send_timeout"]),
    ("duration compound", "[clients]\nsend_timeout = 1m30s\n", 2, ["send_timeout"]),
    ("duration empty", "[daemon]\nshutdown_timeout =\n", 2, ["shutdown_timeout"]),
    ("duration unit only", "[source]\nrestart_delay = ms\n", 2, ["restart_delay"]),
    ("size bad unit", "[clients]\nbuffer = 4MB\n", 2, ["buffer"]),
    ("size fraction", "[clients]\nbuffer = 1.5M\n", 2, ["buffer"]),
    ("size negative", "[clients]\nbacklog = -1\n", 2, ["backlog"]),
    ("size garbage", "[source]\nmax_line = lots\n", 2, ["max_line"]),
    ("octal bad digit", "[clients]\nunix_mode = 0998\n", 2, ["unix_mode"]),
    ("octal no leading zero", "[source]\nfifo_mode = 660\n", 2, ["fifo_mode"]),
    ("octal too long", "[stats]\nmode = 07777\n", 2, ["mode"]),
    ("enum framing", "[source]\nframing = lines\n", 2, ["framing"]),
    ("enum overflow", "[clients]\noverflow = block\n", 2, ["overflow"]),
    ("enum log_level", "[daemon]\nlog_level = verbose\n", 2, ["log_level"]),
    ("enum on_eof", "[source]\ninput = fifo:/tmp/x.fifo\non_eof = stop\n", 3, ["on_eof"]),
    ("enum on_idle", "[source]\non_idle = die\n", 2, ["on_idle"]),
    ("bad input", "[source]\ninput = file:/etc/passwd\n", 2, ["input"]),
    ("bad listen", "[clients]\nlisten = udp:127.0.0.1:7070\n", 2, ["listen"]),
    ("listen bad port", "[clients]\nlisten = tcp:127.0.0.1:70000\n", 2, ["listen"]),
    ("max_clients 0", "[clients]\nmax_clients = 0\n", 2, ["max_clients"]),
    ("max_clients too big", "[clients]\nmax_clients = 1000001\n", 2, ["max_clients"]),
    ("idle_timeout below 10ms", "[clients]\nidle_timeout = 5ms\n", 2, ["idle_timeout"]),
    ("idle_timeout above 30d", "[clients]\nidle_timeout = 31d\n", 2, ["idle_timeout"]),
    ("buffer too small", "[clients]\nbuffer = 32KiB\n", 2, ["buffer"]),
    ("buffer too big", "[clients]\nbuffer = 2GiB\n", 2, ["buffer"]),
    ("max_line too small", "[source]\nmax_line = 8\n", 2, ["max_line"]),
    ("restart_delay zero", "[source]\ninput = exec:true\nrestart_delay = 0\n", 3, ["restart_delay"]),
    ("restart_delay too long", "[source]\ninput = exec:true\nrestart_delay = 2h\n", 3, ["restart_delay"]),
    ("source idle_timeout below 10ms", "[source]\nidle_timeout = 1ms\n", 2, ["idle_timeout"]),
    ("heartbeat too long", "[clients]\nheartbeat = 2d\n", 2, ["heartbeat"]),
    ("heartbeat_line over 1KiB", "[clients]\nheartbeat_line = %s\n" % ("h" * 1025), 2, ["heartbeat_line"]),
    ("shutdown_timeout too long", "[daemon]\nshutdown_timeout = 2h\n", 2, ["shutdown_timeout"]),
    ("stats idle_timeout below 100ms", "[stats]\nidle_timeout = 50ms\n", 2, ["idle_timeout"]),
    ("stats max_connections 0", "[stats]\nmax_connections = 0\n", 2, ["max_connections"]),
    ("stats max_connections too big", "[stats]\nmax_connections = 10001\n", 2, ["max_connections"]),
    ("max_clients not a number", "[clients]\nmax_clients = ten\n", 2, ["max_clients"]),
    # Combinations: reported at the key that completes the bad combination.
    ("max_line > buffer/4 (buffer last)",
     "[source]\nmax_line = 1MiB\n[clients]\nbuffer = 2MiB\n", 4, ["buffer", "max_line"]),
    ("max_line > buffer/4 (max_line last)",
     "[clients]\nbuffer = 2MiB\n[source]\nmax_line = 1MiB\n", 4, ["buffer", "max_line"]),
    ("max_line > default buffer/4", "[source]\nmax_line = 2MiB\n", 2, ["max_line", "buffer"]),
    ("backlog > buffer/2", "[clients]\nbuffer = 1MiB\nbacklog = 600KiB\n", 3, ["backlog", "buffer"]),
    ("backlog > buffer/2 (buffer last)",
     "[clients]\nbacklog = 600KiB\n\nbuffer = 1MiB\n", 4, ["backlog", "buffer"]),
    ("heartbeat with raw framing",
     "[source]\nframing = raw\n[clients]\nheartbeat = 1s\n", 4, ["heartbeat", "framing"]),
    ("raw framing with heartbeat",
     "[clients]\nheartbeat = 1s\n[source]\nframing = raw\n", 4, ["heartbeat", "framing"]),
    ("on_eof reopen with stdin", "[source]\ninput = stdin\non_eof = reopen\n", 3, ["on_eof", "input"]),
    ("on_eof reopen, default stdin", "[source]\n\non_eof = reopen\n", 3, ["on_eof", "input"]),
    ("on_eof reopen with exec", "[source]\non_eof = reopen\ninput = exec:true\n", 3, ["on_eof", "input"]),
    ("on_eof restart with fifo", "[source]\ninput = fifo:/tmp/x.fifo\non_eof = restart\n", 3, ["on_eof", "input"]),
    ("on_idle restart without exec",
     "[source]\ninput = fifo:/tmp/x.fifo\non_idle = restart\n", 3, ["on_idle", "input"]),
    ("on_idle restart with stdin", "[source]\non_idle = restart\n", 2, ["on_idle", "input"]),
]

VALID = """\
# a full, valid configuration
; both comment styles
[source]
input = exec:date ; sleep 1
framing = line
max_line = 64KiB
idle_timeout = 300
on_idle = restart
on_eof = restart
restart_delay = 250ms
fifo_mode = 0620

[clients]
  listen = tcp:127.0.0.1:7070
  listen = tcp:[::1]:7071
  listen = unix:/tmp/pipecast-test.sock
unix_mode = 0666
max_clients = 1000000
idle_timeout = 5m
send_timeout = 0
buffer = 1G
overflow = skip
backlog = 512M
heartbeat = 1d
heartbeat_line = # not a comment ; really

[stats]
socket = /tmp/pipecast-test-stats.sock
mode = 0660
idle_timeout = 100ms
max_connections = 10000

[daemon]
log_level = debug
shutdown_timeout = 1h
"""

PREFIX = "pipecastd: "


class ConfigCheck(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="pctest-conf-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def write(self, text, name="pipecast.conf"):
        p = os.path.join(self.dir, name)
        with open(p, "w") as f:
            f.write(text)
        return p

    def check_error(self, text, line, words):
        path = self.write(text)
        rc, out, err = run_daemon(["-t", "-c", path])
        self.assertEqual(rc, 1, "exit status; stderr: %r" % err)
        want = "%s%s:%d: " % (PREFIX, path, line)
        hits = [ln for ln in err.splitlines() if ln.startswith(want)]
        self.assertTrue(hits, "no stderr line starting with %r in %r" % (want, err))
        self.assertTrue(any(any(w in h[len(want):] for w in words) for h in hits),
                        "none of %r named in %r" % (words, hits))
        self.assertNotIn("configuration OK", out)
        return err

    def test_error_cases(self):
        for name, text, line, words in ERROR_CASES:
            with self.subTest(name):
                self.check_error(text, line, words)

    def test_every_error_line_is_prefixed(self):
        path = self.write("[clients]\nidel = 1\n[bogus]\n")
        rc, out, err = run_daemon(["-t", "-c", path])
        self.assertEqual(rc, 1)
        lines = err.splitlines()
        self.assertTrue(lines)
        for ln in lines:
            self.assertTrue(ln.startswith(PREFIX + path + ":"), ln)
        self.assertTrue(any(ln.startswith("%s%s:2: " % (PREFIX, path)) for ln in lines), err)
        self.assertTrue(any(ln.startswith("%s%s:3: " % (PREFIX, path)) for ln in lines), err)

    def test_long_line_then_later_error_line_number(self):
        text = ("[daemon]\n"
                "log_level = info\n"
                "; " + "x" * 5000 + "\n"
                "[clients]\n"
                "idel_timeout = 2s\n")
        path = self.write(text)
        rc, out, err = run_daemon(["-t", "-c", path])
        self.assertEqual(rc, 1)
        self.assertTrue(any(ln.startswith("%s%s:3: " % (PREFIX, path)) for ln in err.splitlines()),
                        "long line 3 not reported: %r" % err[:500])
        hits = [ln for ln in err.splitlines() if ln.startswith("%s%s:5: " % (PREFIX, path))]
        self.assertTrue(hits, "error on line 5 not reported at line 5: %r" % err[:1000])
        self.assertIn("idel_timeout", hits[0])
        # No line number beyond the file's five.
        for n in re.findall(re.escape(path) + r":(\d+):", err):
            self.assertLessEqual(int(n), 5, err[:1000])

    def test_long_value_line(self):
        text = "[source]\ninput = exec:" + "y" * 4200 + "\n[clients]\nmax_clients = 0\n"
        path = self.write(text)
        rc, out, err = run_daemon(["-t", "-c", path])
        self.assertEqual(rc, 1)
        starts = [ln.split(": ", 2)[1] if ln.count(": ") >= 2 else ln for ln in err.splitlines()]
        self.assertIn("%s:2" % path, starts, err[:600])
        self.assertIn("%s:4" % path, starts, err[:600])

    def test_valid_file(self):
        path = self.write(VALID)
        rc, out, err = run_daemon(["-t", "-c", path])
        self.assertEqual((rc, err), (0, ""))
        self.assertEqual(out.splitlines()[0], "pipecastd: configuration OK")
        self.assertEqual(out.splitlines()[1:], ["listen tcp:127.0.0.1:7070",
                                                "listen tcp:[::1]:7071",
                                                "listen unix:/tmp/pipecast-test.sock"])

    def test_no_file_defaults_ok(self):
        rc, out, err = run_daemon(["-t"])
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, "pipecastd: configuration OK\nlisten tcp:127.0.0.1:7070\n")

    def test_effective_listen_addresses_and_liveness_warning(self):
        rc, out, err = run_daemon(["-t", "-o", "clients.listen=unix:/tmp/a.sock",
                                   "-o", "clients.listen=tcp:127.0.0.1:9",
                                   "-o", "clients.idle_timeout=30s"])
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, "pipecastd: configuration OK\nlisten unix:/tmp/a.sock\n"
                              "listen tcp:127.0.0.1:9\n")
        self.assertEqual(err, "pipecastd: warning: [clients] tcp_keepalive (1m) is not "
                              "shorter than idle_timeout (30s): a TCP reader of a quiet "
                              "stream may be closed\n")
        rc, out, err = run_daemon(["-t", "-o", "clients.tcp_keepalive=10s",
                                   "-o", "clients.idle_timeout=30s"])
        self.assertEqual((rc, err), (0, ""))

    def test_split_override_value_gets_a_quoting_hint(self):
        rc, out, err = run_daemon(["-t", "-o", "source.input=exec:vmstat", "1"])
        self.assertEqual(rc, 1)
        self.assertIn("pipecastd: hint: a value with spaces must be quoted: "
                      "-o 'source.input=exec:vmstat 1'", err)

    def test_long_help(self):
        rc, out, err = run_daemon(["--help"])
        self.assertEqual((rc, err), (0, ""))
        self.assertTrue(out.startswith("usage: pipecastd"), out)

    def test_missing_file(self):
        rc, out, err = run_daemon(["-t", "-c", os.path.join(self.dir, "nope.conf")])
        self.assertEqual(rc, 1)
        self.assertTrue(err.startswith(PREFIX), err)

    def test_override_errors(self):
        cases = [
            ("clients.idel_timeout=2s", ["idel_timeout"]),
            ("clients.buffer=4MB", ["buffer"]),
            ("clients.max_clients=0", ["max_clients"]),
            ("bogus.key=1", ["bogus"]),
            ("source.framing=lines", ["framing"]),
            ("source.on_eof=reopen", ["on_eof", "input"]),
        ]
        for arg, words in cases:
            with self.subTest(arg):
                rc, out, err = run_daemon(["-t", "-o", arg])
                self.assertEqual(rc, 1, err)
                want = "%s-o %s: " % (PREFIX, arg)
                hits = [ln for ln in err.splitlines() if ln.startswith(want)]
                self.assertTrue(hits, "no line starting with %r in %r" % (want, err))
                # The place "-o SECTION.KEY=VALUE" already names the key.

    def test_override_malformed(self):
        for arg in ("nodot=1", "clients.buffer", "=1"):
            with self.subTest(arg):
                rc, out, err = run_daemon(["-t", "-o", arg])
                self.assertEqual(rc, 1, err)
                self.assertTrue(err.startswith(PREFIX), err)

    def test_override_fixes_file_and_combines(self):
        path = self.write("[clients]\nbuffer = 1MiB\n")
        rc, out, err = run_daemon(["-t", "-c", path, "-o", "clients.backlog=100KiB"])
        self.assertEqual(rc, 0, err)
        rc, out, err = run_daemon(["-t", "-c", path, "-o", "clients.backlog=600KiB"])
        self.assertEqual(rc, 1, err)
        self.assertIn("%s-o clients.backlog=600KiB: " % PREFIX, err)

    def test_version(self):
        rc, out, err = run_daemon(["-V"])
        self.assertEqual(rc, 0)
        self.assertRegex(out.strip(), r"^pipecastd \S+$")

    def test_help(self):
        rc, out, err = run_daemon(["-h"])
        self.assertEqual(rc, 0)
        self.assertIn("-c", out)
        self.assertIn("-t", out)

    def test_unknown_option(self):
        rc, out, err = run_daemon(["-Z"])
        self.assertEqual(rc, 1)
        self.assertTrue(err.strip(), "no message for an unknown option")

    def test_extra_argument(self):
        rc, out, err = run_daemon(["-t", "extra"])
        self.assertEqual(rc, 1)


if __name__ == "__main__":
    unittest.main()
