"""[source] idle_timeout with each on_idle action: log once per silent
spell, exit, or restart the command."""

import time
import unittest

from pctest import Daemon, StatsConn, recv_lines, tcp_client, wait_eof

SILENT = r"\bsource silent for\b"


class SourceIdle(unittest.TestCase):
    def test_log_once_per_silent_spell(self):
        conf = {"source": {"input": "stdin", "idle_timeout": "200ms", "on_idle": "log"}}
        with Daemon(conf) as d:
            t0 = time.monotonic()
            d.wait_log(SILENT, timeout=5)
            self.assertGreaterEqual(time.monotonic() - t0, 0.15)
            time.sleep(0.8)                      # still silent: no second line
            self.assertEqual(d.count_log(SILENT), 1)
            c = tcp_client(d.port)
            d.wait_opens(1)
            d.write_stdin(b"hello\n")            # the spell ends
            self.assertEqual(recv_lines(c, 1, timeout=5), b"hello\n")
            d.wait_count(SILENT, 2, timeout=5)   # a new spell, logged again
            self.assertTrue(d.alive())
            st = StatsConn(d.path("stats.sock"))
            info = st.info()
            self.assertGreaterEqual(float(info["source_idle_seconds"]), 0.2)
            st.close()
            c.close()
            self.assertEqual(d.stop(), 0)

    def test_exit_when_silent(self):
        conf = {"source": {"input": "stdin", "idle_timeout": "300ms", "on_idle": "exit"}}
        t0 = time.monotonic()       # the silence starts after this, at ready
        with Daemon(conf) as d:
            c = tcp_client(d.port)
            d.wait_opens(1)
            self.assertEqual(d.wait_exit(5), 0)
            self.assertGreaterEqual(time.monotonic() - t0, 0.3)
            self.assertIsNotNone(wait_eof(c, 2))
            self.assertRegex(d.log_text(), SILENT)
            c.close()

    def test_restart_the_command_when_silent(self):
        conf = {"source": {"input": "exec:echo started; exec sleep 60",
                           "idle_timeout": "300ms", "on_idle": "restart",
                           "restart_delay": "50ms"}}
        with Daemon(conf) as d:
            c = tcp_client(d.port)
            d.wait_opens(1)
            data = recv_lines(c, 2, timeout=5)   # started, silence, restart, started
            self.assertEqual(data, b"started\nstarted\n")
            d.wait_log(r"restarting the command", timeout=5)
            st = StatsConn(d.path("stats.sock"))
            self.assertGreaterEqual(int(st.info()["source_restarts_total"]), 1)
            st.close()
            c.close()
            self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    unittest.main()
