"""[clients] notices: a line in the stream where a client was skipped
forward and before a close the daemon decides (kill, shutdown, overflow);
off by default."""

import re
import signal
import time
import unittest

from pctest import (Daemon, Producer, Reader, StatsConn, open_fifo_writer, parse_seq,
                    records, recv_exact, recv_for, tcp_client)

NOTICE = re.compile(rb"^# pipecast: skipped (\d+) bytes$")


class Notices(unittest.TestCase):

    def test_kill_and_shutdown_say_why(self):
        conf = {"source": {"input": "stdin"}, "clients": {"notices": "on"}}
        with Daemon(conf) as d, StatsConn(d.path("stats.sock")) as st:
            a = tcp_client(d.port)
            b = tcp_client(d.port)
            d.wait_opens(2)
            d.write_stdin(records(0, 2))
            self.assertEqual(recv_exact(a, 18), records(0, 2))
            self.assertEqual(recv_exact(b, 18), records(0, 2))
            self.assertEqual(st.cmd("kill client %d" % d.client_id(a)), "ok\n")
            data, eof = recv_for(a, 3)
            self.assertEqual((data, eof), (b"# pipecast: closing (kill)\n", True))
            d.send_signal(signal.SIGTERM)
            data, eof = recv_for(b, 5)
            self.assertEqual((data, eof), (b"# pipecast: closing (shutdown)\n", True))

    def test_prefix_and_off_by_default(self):
        conf = {"source": {"input": "stdin"},
                "clients": {"notices": "on", "notice_prefix": '"#> "'}}
        with Daemon(conf) as d, StatsConn(d.path("stats.sock")) as st:
            a = tcp_client(d.port)
            st.cmd("kill client %d" % d.client_id(a))
            self.assertEqual(recv_for(a, 3), (b"#> closing (kill)\n", True))
        with Daemon({"source": {"input": "stdin"}}) as d, \
                StatsConn(d.path("stats.sock")) as st:
            a = tcp_client(d.port)
            st.cmd("kill client %d" % d.client_id(a))
            self.assertEqual(recv_for(a, 3), (b"", True))

    def test_skip_notice_where_bytes_are_missing(self):
        conf = {"source": {"input": "fifo:{dir}/in.fifo", "max_line": "16KiB"},
                "clients": {"buffer": "64KiB", "overflow": "skip", "notices": "on",
                            "send_timeout": "0", "idle_timeout": "0"}}
        with Daemon(conf) as d, StatsConn(d.path("stats.sock")) as st:
            stuck = tcp_client(d.port, rcvbuf=4096)
            d.wait_opens(1)
            sid = d.client_id(stuck)
            r = Reader().start()
            try:
                p = Producer(open_fifo_writer(d.path("in.fifo")), batch=2000,
                             interval=0.005)
                p.start()
                try:
                    deadline = time.monotonic() + 20
                    while p.written() * 9 < (8 << 20) and time.monotonic() < deadline:
                        time.sleep(0.05)
                    r.add(stuck, "s")
                    time.sleep(0.5)
                finally:
                    n = p.finish()
                last = b"%08d\n" % (n - 1)
                r.wait(lambda rr: rr.get("s").endswith(last) or rr.eof["s"], 10)
                lines = r.get("s").split(b"\n")[:-1]
                notes = [int(NOTICE.match(x).group(1)) for x in lines if NOTICE.match(x)]
                self.assertGreaterEqual(len(notes), 1, "no skip notice")
                # Every other line is a whole record, in order, with a gap
                # exactly where a notice stands.
                seq = parse_seq(b"".join(x + b"\n" for x in lines if not NOTICE.match(x)))
                self.assertEqual(seq[-1], n - 1)
                prev, noted = None, False
                for x in lines:
                    if NOTICE.match(x):
                        noted = True
                        continue
                    v = int(x)
                    if prev is not None and noted:
                        self.assertGreater(v, prev + 1, "a notice without a gap")
                    elif prev is not None:
                        self.assertEqual(v, prev + 1, "a gap without a notice")
                    prev, noted = v, False
                row = [x for x in st.cmd("show clients").splitlines()[1:]
                       if x.split(" ")[0] == str(sid)]
                self.assertEqual(sum(notes), int(row[0].split(" ")[6]))
            finally:
                r.stop()
                stuck.close()


if __name__ == "__main__":
    unittest.main()
