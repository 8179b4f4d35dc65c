"""Life cycle: on_eof = exit, start-up failures, signals."""

import os
import signal
import socket
import stat
import time
import unittest

from pctest import (Daemon, Reader, recv_exact, recv_for, records, tcp_client,
                    unix_client, wait_eof)

PAD = b"p" * 80


def big_stream(nbytes):
    """Lines b'%08d ppp...\\n' (90 bytes each) totalling about NBYTES."""
    return b"".join(b"%08d %s\n" % (i, PAD) for i in range(nbytes // 90))


class OnEofExit(unittest.TestCase):
    """Issue item 9."""

    def test_pending_data_delivered_before_exit(self):
        conf = {"source": {"input": "stdin"},
                "clients": {"buffer": "64MiB", "send_timeout": "0"},
                "daemon": {"log_level": "info", "shutdown_timeout": "10s"}}
        data = big_stream(20 << 20)
        with Daemon(conf) as d:
            c = tcp_client(d.port)
            d.wait_opens(1)
            th = d.feed_stdin(data, close=True)
            buf = bytearray()
            eof = False
            deadline = time.monotonic() + 30
            c.settimeout(1.0)
            while time.monotonic() < deadline:
                try:
                    chunk = c.recv(65536)
                except socket.timeout:
                    continue
                if not chunk:
                    eof = True
                    break
                buf += chunk
                time.sleep(0.002)  # a slow reader
            th.join(5)
            self.assertIsNone(th.error)
            self.assertEqual(len(buf), len(data), "slow client did not get every byte")
            self.assertTrue(bytes(buf) == data, "slow client: bytes differ")
            self.assertTrue(eof, "no EOF after the last byte")
            rc = d.wait_exit(12)
            self.assertEqual(rc, 0, "exit status after EOF with on_eof = exit")
            c.close()

    def test_stuck_client_does_not_hold_shutdown(self):
        conf = {"source": {"input": "stdin"},
                "clients": {"buffer": "64MiB", "send_timeout": "0"},
                "daemon": {"log_level": "info", "shutdown_timeout": "200ms"}}
        data = big_stream(20 << 20)
        with Daemon(conf) as d:
            stuck = tcp_client(d.port, rcvbuf=4096)
            d.wait_opens(1)
            th = d.feed_stdin(data, close=True)
            th.join(15)
            self.assertIsNotNone(th.t_closed, "stdin feed did not finish")
            rc = d.wait_exit(10)
            t_exit = time.monotonic()
            self.assertEqual(rc, 0)
            self.assertLess(t_exit - th.t_closed, 1.5,
                            "exit %.2fs after EOF with shutdown_timeout = 200ms"
                            % (t_exit - th.t_closed))
            stuck.close()

    def test_eof_exit_with_no_clients(self):
        with Daemon({"source": {"input": "stdin"}}) as d:
            d.feed_stdin(records(0, 1000), close=True)
            self.assertEqual(d.wait_exit(5), 0)


class StartupFailures(unittest.TestCase):
    """Issue item 13: exit status 2."""

    def assertExit2(self, d):
        rc = d.wait_exit(10)
        self.assertEqual(rc, 2, "exit status (log: %s)" % d.log_text()[-500:])
        self.assertTrue(d.log_lines(), "no error message on stderr")

    def test_tcp_port_in_use(self):
        d = Daemon({"source": {"input": "stdin"}}, wait_ready=False)
        busy = socket.socket()
        try:
            busy.bind(("127.0.0.1", d.port))
            busy.listen()
            with d:
                self.assertExit2(d)
        finally:
            busy.close()

    def test_unix_listener_served(self):
        d = Daemon({"source": {"input": "stdin"},
                    "clients": {"listen": "unix:{dir}/c.sock"}}, wait_ready=False)
        srv = socket.socket(socket.AF_UNIX)
        try:
            srv.bind(d.path("c.sock"))
            srv.listen()
            with d:
                self.assertExit2(d)
                # Never taken over: our server still answers on the path.
                c = unix_client(d.path("c.sock"))
                srv.settimeout(2)
                a, _ = srv.accept()
                a.close()
                c.close()
        finally:
            srv.close()

    def test_stats_socket_served(self):
        d = Daemon({"source": {"input": "stdin"}}, wait_ready=False)
        srv = socket.socket(socket.AF_UNIX)
        try:
            srv.bind(d.path("stats.sock"))
            srv.listen()
            with d:
                self.assertExit2(d)
                self.assertTrue(stat.S_ISSOCK(os.lstat(d.path("stats.sock")).st_mode))
                self.assertIn("give this one its own socket, e.g. -o stats.socket=%s"
                              % d.path("stats-2.sock"), d.log_text())
        finally:
            srv.close()

    def test_fifo_path_is_regular_file(self):
        d = Daemon({"source": {"input": "fifo:{dir}/in.fifo"}}, wait_ready=False)
        with open(d.path("in.fifo"), "w") as f:
            f.write("keep me\n")
        with d:
            self.assertExit2(d)
            with open(d.path("in.fifo")) as f:
                self.assertEqual(f.read(), "keep me\n")

    def stale(self, name):
        s = socket.socket(socket.AF_UNIX)
        s.bind(name)
        s.close()  # the file stays, nobody listens

    def test_stale_unix_listener_replaced(self):
        d = Daemon({"source": {"input": "stdin"},
                    "clients": {"listen": "unix:{dir}/c.sock"}}, wait_ready=False)
        self.stale(d.path("c.sock"))
        with d:
            d.wait_ready()
            c = unix_client(d.path("c.sock"))
            d.wait_opens(1)
            d.write_stdin(records(0, 10))
            self.assertEqual(recv_exact(c, 90, 5), records(0, 10))
            c.close()

    def test_stale_stats_socket_replaced(self):
        d = Daemon({"source": {"input": "stdin"}}, wait_ready=False)
        self.stale(d.path("stats.sock"))
        with d:
            d.wait_ready()
            st = socket.socket(socket.AF_UNIX)
            st.settimeout(2)
            try:
                st.connect(d.path("stats.sock"))  # the daemon answers there now
            finally:
                st.close()


class Signals(unittest.TestCase):
    """Issue item 14."""

    def graceful(self, sig):
        conf = {"source": {"input": "fifo:{dir}/in.fifo"},
                "clients": {"listen": ["tcp:127.0.0.1:{port}", "unix:{dir}/c.sock"]}}
        with Daemon(conf) as d:
            self.assertTrue(stat.S_ISSOCK(os.lstat(d.path("c.sock")).st_mode))
            self.assertTrue(stat.S_ISFIFO(os.lstat(d.path("in.fifo")).st_mode))
            c1 = tcp_client(d.port)
            c2 = unix_client(d.path("c.sock"))
            d.wait_opens(2)
            rc = d.stop(sig, timeout=8)
            self.assertEqual(rc, 0)
            for name in ("c.sock", "in.fifo"):
                self.assertFalse(os.path.lexists(d.path(name)), "%s not removed" % name)
            self.assertIsNotNone(wait_eof(c1, 2))
            self.assertIsNotNone(wait_eof(c2, 2))
            c1.close()
            c2.close()

    def test_stats_socket_created_and_removed(self):
        with Daemon({"source": {"input": "stdin"}}) as d:
            self.assertTrue(os.path.lexists(d.path("stats.sock")), "stats socket not created")
            self.assertTrue(stat.S_ISSOCK(os.lstat(d.path("stats.sock")).st_mode))
            self.assertEqual(d.stop(signal.SIGTERM, 8), 0)
            self.assertFalse(os.path.lexists(d.path("stats.sock")), "stats socket not removed")

    def test_sigterm(self):
        self.graceful(signal.SIGTERM)

    def test_sigint(self):
        self.graceful(signal.SIGINT)

    def test_preexisting_fifo_is_kept(self):
        d = Daemon({"source": {"input": "fifo:{dir}/in.fifo"}}, wait_ready=False)
        os.mkfifo(d.path("in.fifo"), 0o600)
        with d:
            d.wait_ready()
            self.assertEqual(d.stop(signal.SIGTERM, 8), 0)
            self.assertTrue(stat.S_ISFIFO(os.lstat(d.path("in.fifo")).st_mode),
                            "a FIFO the daemon did not create was removed")

    def test_second_signal_ends_stop_at_once(self):
        conf = {"source": {"input": "stdin"},
                "clients": {"buffer": "64MiB", "send_timeout": "0"},
                "daemon": {"log_level": "info", "shutdown_timeout": "30s"}}
        with Daemon(conf) as d:
            stuck = tcp_client(d.port, rcvbuf=4096)
            d.wait_opens(1)
            th = d.feed_stdin(big_stream(16 << 20), close=False)
            th.join(15)
            time.sleep(0.2)
            d.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            self.assertTrue(d.alive(), "graceful stop did not wait for pending output")
            t0 = time.monotonic()
            rc = d.stop(signal.SIGTERM, timeout=5)
            self.assertEqual(rc, 0)
            self.assertLess(time.monotonic() - t0, 2.0)
            stuck.close()


if __name__ == "__main__":
    unittest.main()
