"""Streaming: fan-out, FIFO writers, exec producers, framing, backlog,
heartbeat, IPv6."""

import os
import re
import time
import unittest

from pctest import (Daemon, Producer, Reader, open_fifo_writer, parse_seq,
                    records, recv_exact, recv_for, recv_lines, tcp_client,
                    unix_client, write_all, ipv6_available, free_port, hard_close)
import socket


class FanOut(unittest.TestCase):
    """Issue item 1: 50 clients, 200,000 records through a FIFO."""

    N_CLIENTS = 50
    N_RECORDS = 200_000

    def fan_out(self, unix):
        listen = "unix:{dir}/c.sock" if unix else "tcp:127.0.0.1:{port}"
        conf = {"source": {"input": "fifo:{dir}/in.fifo"},
                "clients": {"listen": listen, "buffer": "64MiB"}}
        expected = records(0, self.N_RECORDS)
        with Daemon(conf) as d:
            r = Reader().start()
            socks = []
            try:
                for i in range(self.N_CLIENTS):
                    s = unix_client(d.path("c.sock")) if unix else tcp_client(d.port)
                    socks.append(s)
                    r.add(s, i)
                d.wait_opens(self.N_CLIENTS, timeout=10)
                if unix:
                    addrs = re.findall(r"\bclient \d+ open (\S+)", d.log_text())
                    self.assertEqual(set(addrs), {"unix"}, "unix clients are logged as 'unix'")
                fd = open_fifo_writer(d.path("in.fifo"))
                write_all(fd, expected)
                os.close(fd)
                ok = r.wait_len(len(expected), timeout=60)
                for i in range(self.N_CLIENTS):
                    got = r.get(i)
                    if got != expected:
                        n = min(len(got), len(expected))
                        first = next((k for k in range(n) if got[k] != expected[k]), n)
                        self.fail("client %d: got %d bytes of %d, first difference at byte %d "
                                  "(eof=%r, wait ok=%r): %r"
                                  % (i, len(got), len(expected), first, r.eof[i], ok,
                                     got[max(0, first - 20):first + 20]))
                # The writer closed: a FIFO source reopens, the daemon keeps running
                # and a second writer's records reach everyone.
                time.sleep(0.3)
                self.assertTrue(d.alive(), "daemon exited after the FIFO writer closed")
                more = records(self.N_RECORDS, self.N_RECORDS + 10)
                fd = open_fifo_writer(d.path("in.fifo"))
                write_all(fd, more)
                os.close(fd)
                self.assertTrue(r.wait_len(len(expected) + len(more), timeout=10))
                for i in range(self.N_CLIENTS):
                    self.assertEqual(r.get(i), expected + more, "client %d after reopen" % i)
                self.assertTrue(d.alive())
                self.assertEqual(d.count_log(r"\bclient \d+ closed"), 0, "a client was closed")
            finally:
                r.stop()
                for s in socks:
                    s.close()

    def test_fanout_tcp_50_clients_200k_records(self):
        self.fan_out(unix=False)

    def test_fanout_unix_50_clients_200k_records(self):
        self.fan_out(unix=True)


class FifoWriters(unittest.TestCase):
    """Issue item 7: successive writers on the FIFO."""

    def test_two_successive_writers_and_unterminated_last_line(self):
        conf = {"source": {"input": "fifo:{dir}/in.fifo"}}
        with Daemon(conf) as d:
            c = tcp_client(d.port)
            d.wait_opens(1)
            part1 = records(0, 100) + b"partial"
            fd = open_fifo_writer(d.path("in.fifo"))
            write_all(fd, part1)
            os.close(fd)
            want1 = part1 + b"\n"
            got = recv_exact(c, len(want1), timeout=5)
            self.assertEqual(got, want1, "writer 1's unterminated last line is completed at its close")
            part2 = records(100, 200)
            fd = open_fifo_writer(d.path("in.fifo"))
            write_all(fd, part2)
            os.close(fd)
            got2 = recv_exact(c, len(part2), timeout=5)
            self.assertEqual(got2, part2)
            extra, eof = recv_for(c, 0.3)
            self.assertEqual(extra, b"")
            self.assertFalse(eof)
            self.assertTrue(d.alive())
            c.close()


    def test_on_eof_exit_delivers_then_exits_and_removes_the_fifo(self):
        conf = {"source": {"input": "fifo:{dir}/in.fifo", "on_eof": "exit"}}
        with Daemon(conf) as d:
            c = tcp_client(d.port)
            d.wait_opens(1)
            fd = open_fifo_writer(d.path("in.fifo"))
            write_all(fd, records(0, 1000) + b"last")
            os.close(fd)
            want = records(0, 1000) + b"last\n"
            self.assertEqual(recv_exact(c, len(want), timeout=5), want)
            self.assertEqual(d.wait_exit(10), 0)
            self.assertFalse(os.path.lexists(d.path("in.fifo")), "the FIFO it made stays")
            c.close()


class ExecSource(unittest.TestCase):
    """Issue item 8: exec: producers."""

    def test_exec_restarted_after_exit(self):
        conf = {"source": {"input": "exec:echo tick", "restart_delay": "100ms"}}
        with Daemon(conf) as d:
            c = tcp_client(d.port)
            d.wait_opens(1)
            data = recv_lines(c, 3, timeout=3.0)
            lines = data.split(b"\n")
            self.assertGreaterEqual(data.count(b"\n"), 3,
                                    "expected >= 3 ticks within 3 s, got %r" % data)
            for ln in lines[:-1]:
                self.assertEqual(ln, b"tick")
            c.close()

    def test_exec_inherits_no_daemon_descriptor(self):
        """Listeners, clients, the stats socket: all close-on-exec."""
        conf = {"source": {"input": "exec:sleep 0.5; ls /proc/self/fd | tr '\\n' ' '; "
                           "echo; sleep 5"},
                "clients": {"listen": ["tcp:127.0.0.1:{port}", "unix:{dir}/c.sock"]}}
        with Daemon(conf) as d:
            c = tcp_client(d.port)
            u = unix_client(d.path("c.sock"))
            d.wait_opens(2)
            line = recv_lines(c, 1, timeout=5).decode().split()
            # ls itself holds 0, 1, 2 and the directory it reads.
            self.assertEqual(sorted(line, key=int), ["0", "1", "2", "3"])
            c.close()
            u.close()

    def test_exec_stderr_is_logged(self):
        conf = {"source": {"input": "exec:echo oops >&2; echo x", "restart_delay": "100ms"}}
        with Daemon(conf) as d:
            d.wait_log(r"oops", timeout=5)
            c = tcp_client(d.port)
            d.wait_opens(1)
            data = recv_lines(c, 1, timeout=5)
            self.assertTrue(data.startswith(b"x\n"), "the ';' is part of the command: %r" % data)
            c.close()


class Framing(unittest.TestCase):
    """Issue item 15."""

    def test_long_line_cut_at_max_line(self):
        conf = {"source": {"input": "stdin", "max_line": "16"}}
        with Daemon(conf) as d:
            c = tcp_client(d.port)
            d.wait_opens(1)
            content = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abc"  # 39 bytes + \n = 40
            self.assertEqual(len(content) + 1, 40)
            d.write_stdin(content + b"\n" + b"short\n")
            got = recv_lines(c, 4, timeout=5)
            pieces = got.split(b"\n")[:-1]
            self.assertEqual(pieces[-1], b"short", got)
            long_pieces = pieces[:-1]
            self.assertGreaterEqual(len(long_pieces), 3, got)
            for p in long_pieces:
                self.assertLessEqual(len(p) + 1, 16, "piece %r longer than max_line" % p)
            self.assertEqual(b"".join(long_pieces), content)
            extra, _ = recv_for(c, 0.2)
            self.assertEqual(extra, b"")
            c.close()

    def test_raw_framing_passes_binary_unchanged(self):
        conf = {"source": {"input": "stdin", "framing": "raw"},
                "clients": {"buffer": "64MiB"}}
        blob = bytes(range(256)) * 64 + b"\0" * 5000 + os.urandom(2 << 20) + b"no newline\0"
        with Daemon(conf) as d:
            c = tcp_client(d.port)
            d.wait_opens(1)
            th = d.feed_stdin(blob, close=True)
            got = recv_exact(c, len(blob), timeout=20)
            self.assertEqual(len(got), len(blob))
            self.assertTrue(got == blob, "raw bytes changed in transit")
            th.join(5)
            c.close()
            self.assertEqual(d.wait_exit(10), 0, "stdin EOF with on_eof = exit")


class Backlog(unittest.TestCase):
    """Issue item 5."""

    @staticmethod
    def recs(a, b):
        # records of varying lengths
        return [b"%08d %s\n" % (i, b"x" * (i % 37)) for i in range(a, b)]

    def test_backlog_newest_whole_records(self):
        N = 1000
        conf = {"source": {"input": "stdin", "max_line": "1KiB"},
                "clients": {"backlog": str(N), "buffer": "64KiB"}}
        old = self.recs(0, 500)
        with Daemon(conf) as d:
            witness = tcp_client(d.port)
            d.wait_opens(1)
            d.write_stdin(b"".join(old))
            self.assertEqual(recv_exact(witness, len(b"".join(old)), 5), b"".join(old))
            late = tcp_client(d.port)
            d.wait_opens(2)
            backlog, _ = recv_for(late, 0.5)
            live = self.recs(500, 600)
            d.write_stdin(b"".join(live))
            rest = recv_exact(late, len(b"".join(live)), 5)
            # Expected: the longest tail of whole records that fits in N bytes.
            tail, size = [], 0
            for rec in reversed(old):
                if size + len(rec) > N:
                    break
                tail.insert(0, rec)
                size += len(rec)
            self.assertLessEqual(len(backlog), N)
            self.assertTrue(backlog == b"" or backlog.split(b"\n")[0] + b"\n" in old,
                            "first backlog line is not a whole record: %r" % backlog[:60])
            self.assertTrue(b"".join(old).endswith(backlog), "backlog is not the tail of the stream")
            self.assertEqual(backlog, b"".join(tail), "backlog is not the newest whole records fitting in N")
            self.assertEqual(rest, b"".join(live))
            witness.close()
            late.close()

    def test_no_backlog_by_default(self):
        conf = {"source": {"input": "stdin"}}
        old = self.recs(0, 200)
        with Daemon(conf) as d:
            witness = tcp_client(d.port)
            d.wait_opens(1)
            d.write_stdin(b"".join(old))
            self.assertEqual(recv_exact(witness, len(b"".join(old)), 5), b"".join(old))
            late = tcp_client(d.port)
            d.wait_opens(2)
            got, eof = recv_for(late, 0.4)
            self.assertEqual(got, b"", "late client received old records without backlog")
            live = self.recs(200, 210)
            d.write_stdin(b"".join(live))
            self.assertEqual(recv_exact(late, len(b"".join(live)), 5), b"".join(live))
            witness.close()
            late.close()

    def test_clients_joining_mid_stream_start_on_whole_records(self):
        for backlog in ("0", "10000"):
            with self.subTest(backlog=backlog):
                conf = {"source": {"input": "fifo:{dir}/in.fifo"},
                        "clients": {"backlog": backlog, "buffer": "4MiB"}}
                with Daemon(conf) as d:
                    fd = open_fifo_writer(d.path("in.fifo"))
                    p = Producer(fd, batch=37, interval=0.001)
                    p.start()
                    socks = []
                    try:
                        for _ in range(8):
                            time.sleep(0.05)
                            socks.append(tcp_client(d.port))
                        time.sleep(0.3)
                    finally:
                        p.finish()
                    for i, s in enumerate(socks):
                        data, _ = recv_for(s, 0.5)
                        self.assertTrue(data, "client %d got nothing" % i)
                        seq = parse_seq(data)  # whole records only
                        self.assertEqual(seq, list(range(seq[0], seq[0] + len(seq))),
                                         "client %d: gap or disorder" % i)
                        self.assertEqual(seq[-1], p.count - 1)
                        s.close()


class Heartbeat(unittest.TestCase):
    """Issue item 6."""

    def test_heartbeat_line(self):
        conf = {"source": {"input": "stdin"},
                "clients": {"heartbeat": "100ms", "heartbeat_line": "hb"}}
        with Daemon(conf) as d:
            c = tcp_client(d.port)
            d.wait_opens(1)
            data, eof = recv_for(c, 1.5)
            self.assertFalse(eof)
            lines = data.split(b"\n")
            self.assertEqual(lines[-1], b"", "partial heartbeat line: %r" % data)
            self.assertGreaterEqual(len(lines) - 1, 5, "few heartbeats in 1.5 s: %r" % data)
            self.assertLessEqual(len(lines) - 1, 20, "too many heartbeats in 1.5 s: %r" % data)
            self.assertEqual(set(lines[:-1]), {b"hb"})
            c.close()

    def test_empty_heartbeat_line_is_bare_newline(self):
        conf = {"source": {"input": "stdin"},
                "clients": {"heartbeat": "100ms", "heartbeat_line": ""}}
        with Daemon(conf) as d:
            c = tcp_client(d.port)
            d.wait_opens(1)
            data, eof = recv_for(c, 1.5)
            self.assertFalse(eof)
            self.assertGreaterEqual(len(data), 5, data)
            self.assertEqual(data, b"\n" * len(data))
            c.close()

    def test_heartbeat_keeps_reading_client_from_idle(self):
        conf = {"source": {"input": "stdin"},
                "clients": {"heartbeat": "100ms", "idle_timeout": "300ms"}}
        with Daemon(conf) as d:
            c = tcp_client(d.port)
            d.wait_opens(1)
            data, eof = recv_for(c, 1.5)
            self.assertFalse(eof, "reading client closed by idle_timeout despite heartbeats")
            self.assertGreaterEqual(len(data), 5)
            self.assertNotRegex(d.log_text(), r"reason=idle")
            c.close()

    def test_heartbeat_not_sent_while_records_flow(self):
        conf = {"source": {"input": "fifo:{dir}/in.fifo"},
                "clients": {"heartbeat": "500ms", "heartbeat_line": "hb"}}
        with Daemon(conf) as d:
            c = tcp_client(d.port)
            d.wait_opens(1)
            fd = open_fifo_writer(d.path("in.fifo"))
            p = Producer(fd, batch=10, interval=0.02)
            p.start()
            try:
                data, _ = recv_for(c, 1.0)
            finally:
                p.finish()
            self.assertNotIn(b"hb\n", data)
            parse_seq(data[:data.rindex(b"\n") + 1])
            c.close()


@unittest.skipUnless(ipv6_available(), "::1 not available")
class IPv6(unittest.TestCase):
    """Issue item 16."""

    def test_ipv6_listener(self):
        port6 = free_port(socket.AF_INET6, "::1")
        conf = {"source": {"input": "stdin"},
                "clients": {"listen": ["tcp:127.0.0.1:{port}", "tcp:[::1]:%d" % port6]}}
        with Daemon(conf) as d:
            c6 = tcp_client(port6, host="::1")
            c4 = tcp_client(d.port)
            d.wait_opens(2)
            cid = d.client_id(c6)
            self.assertGreater(cid, 0)
            d.write_stdin(records(0, 100))
            self.assertEqual(recv_exact(c6, 900, 5), records(0, 100))
            self.assertEqual(recv_exact(c4, 900, 5), records(0, 100))
            hard_close(c6)      # a plain close is a half-close until a write
            self.assertEqual(d.closed_reason(cid), "peer")
            c4.close()


if __name__ == "__main__":
    unittest.main()
