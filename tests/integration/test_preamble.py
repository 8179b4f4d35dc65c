"""[clients] preamble: the first records of each run of the source are sent
to every new client before its backlog; its memory is allocated at
start-up, never per record or client."""

import unittest

from pctest import Daemon, StatsConn, recv_exact, recv_lines, records, tcp_client

# Two header lines, then a numbered line every 50 ms (vmstat's shape).
CMD = ("exec:printf 'procs memory\\nr b swpd\\n'; i=0; "
       "while [ $i -lt 400 ]; do echo $i; i=$((i+1)); sleep 0.05; done")


class Preamble(unittest.TestCase):

    def test_late_joiner_gets_the_header_first(self):
        conf = {"source": {"input": CMD}, "clients": {"preamble": "2"}}
        with Daemon(conf) as d, StatsConn(d.path("stats.sock")) as st:
            st.wait_info("source_records_total", 2 + 5)   # the header, then 0..4
            c = tcp_client(d.port)
            data = recv_lines(c, 4, 5)
            lines = data.split(b"\n")
            self.assertEqual(lines[:2], [b"procs memory", b"r b swpd"], data)
            first = int(lines[2])
            self.assertGreater(first, 3)            # live, not from the start
            self.assertEqual(int(lines[3]), first + 1)
            # Joining costs no allocation beyond the client's own; records
            # flowing cost none at all.
            a0 = st.info()["allocations_total"]
            c2 = tcp_client(d.port)
            self.assertEqual(recv_lines(c2, 3, 5).split(b"\n")[:2],
                             [b"procs memory", b"r b swpd"])
            info = st.info()
            a1 = info["allocations_total"]
            self.assertLessEqual(a1 - a0, 3, "allocations for one client")
            st.wait_info("source_records_total", info["source_records_total"] + 5)
            self.assertEqual(st.info()["allocations_total"], a1)
            c.close()
            c2.close()

    def test_backlog_does_not_repeat_the_preamble(self):
        conf = {"source": {"input": "stdin"},
                "clients": {"preamble": "1", "backlog": "64KiB"}}
        with Daemon(conf) as d:
            d.write_stdin(b"id,name\n" + records(0, 3))
            d.wait_info("source_records_total", 4)
            c = tcp_client(d.port)       # the backlog holds the header too
            self.assertEqual(recv_exact(c, 8 + 27), b"id,name\n" + records(0, 3))
            d.write_stdin(records(3, 4))
            self.assertEqual(recv_exact(c, 9), records(3, 4))
            c.close()

    def test_each_run_of_a_command_has_its_own(self):
        conf = {"source": {"input": "exec:n=$(cat {dir}/n 2>/dev/null || echo 0); "
                                    "n=$((n+1)); echo $n > {dir}/n; echo run $n; echo x; "
                                    "sleep 0.3",
                           "restart_delay": "100ms"},
                "clients": {"preamble": "1"}}
        with Daemon(conf) as d:
            d.wait_count(r"\bcommand \d+ exited", 2, 10)
            c = tcp_client(d.port)
            head = recv_lines(c, 1, 5)
            self.assertRegex(head, rb"^run \d+\n")
            self.assertGreater(int(head.split()[1]), 1, head)   # not the first run's
            c.close()

    def test_off_by_default_and_line_framing_only(self):
        with Daemon({"source": {"input": "stdin"}}) as d:
            d.write_stdin(b"header\n")
            d.wait_info("source_records_total", 1)
            c = tcp_client(d.port)
            d.client_id(c)
            d.write_stdin(records(0, 1))
            self.assertEqual(recv_exact(c, 9), records(0, 1))
            c.close()


if __name__ == "__main__":
    unittest.main()
