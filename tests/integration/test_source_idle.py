"""[source] idle_timeout with each on_idle action: log once per silent
spell, exit, or restart the command.

The lower bounds on a spell are taken from a moment known to come before
its start (before the daemon starts, or before the record that ends the
previous spell is written), so a loaded machine can only make them longer;
records go out only to a client the daemon has logged as open."""

import time
import unittest

from pctest import Daemon, StatsConn, recv_lines, tcp_client, wait_eof

SILENT = r"\bsource silent for\b"


class SourceIdle(unittest.TestCase):
    def test_log_once_per_silent_spell(self):
        conf = {"source": {"input": "stdin", "idle_timeout": "200ms", "on_idle": "log"}}
        t0 = time.monotonic()                    # before the source opens
        with Daemon(conf) as d:
            d.wait_log(SILENT, timeout=5)
            self.assertGreaterEqual(time.monotonic() - t0, 0.2)
            time.sleep(0.8)                      # still silent: no second line
            self.assertEqual(d.count_log(SILENT), 1)
            c = tcp_client(d.port)
            d.client_id(c)
            t1 = time.monotonic()
            d.write_stdin(b"hello\n")            # the spell ends
            self.assertEqual(recv_lines(c, 1, timeout=5), b"hello\n")
            d.wait_count(SILENT, 2, timeout=5)   # a new spell, logged again
            self.assertGreaterEqual(time.monotonic() - t1, 0.2)
            self.assertTrue(d.alive())
            st = StatsConn(d.path("stats.sock"))
            info = st.info()
            self.assertGreaterEqual(float(info["source_idle_seconds"]), 0.2)
            st.close()
            c.close()
            self.assertEqual(d.stop(), 0)

    def test_exit_when_silent(self):
        # A spell is timed from the record written at t0 (the silence since
        # the start is as long as the client takes to be accepted: the
        # timeout leaves that room).
        conf = {"source": {"input": "stdin", "idle_timeout": "1s", "on_idle": "exit"}}
        with Daemon(conf) as d:
            c = tcp_client(d.port)
            d.client_id(c)
            t0 = time.monotonic()
            d.write_stdin(b"last\n")
            self.assertEqual(recv_lines(c, 1, timeout=5), b"last\n")
            self.assertEqual(d.wait_exit(10), 0)
            self.assertGreaterEqual(time.monotonic() - t0, 0.995)
            self.assertIsNotNone(wait_eof(c, 5))
            self.assertRegex(d.log_text(), SILENT)
            c.close()

    def test_restart_the_command_when_silent(self):
        conf = {"source": {"input": "exec:echo started; exec sleep 60",
                           "idle_timeout": "300ms", "on_idle": "restart",
                           "restart_delay": "50ms"}}
        with Daemon(conf) as d:
            c = tcp_client(d.port)
            d.wait_opens(1)
            # started, silence, restart, started (the first run's line may
            # come before the client was accepted, a third after a stall)
            data = recv_lines(c, 2, timeout=10)
            self.assertEqual(data.split(b"\n")[:2], [b"started", b"started"], data)
            d.wait_log(r"restarting the command", timeout=5)
            st = StatsConn(d.path("stats.sock"))
            self.assertGreaterEqual(int(st.info()["source_restarts_total"]), 1)
            st.close()
            c.close()
            self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    unittest.main()
