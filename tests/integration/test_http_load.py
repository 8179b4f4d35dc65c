#!/usr/bin/env python3
"""HTTP load: 1,000 SSE clients, 1,000 WebSocket clients and 1,000 raw
clients of one daemon receive every record in order, checked byte by byte
by a C program
(tests/load/ssecheck.c, built as build/tests/ssecheck), with timers and
allocations flat while the records stream.

`make test` sends 10,000 records (plain build only: the sanitizers make the
daemon several times slower); `make stress` 100,000. Parameters
(environment): PCTEST_HTTP_CLIENTS (of each kind, default 1000),
PCTEST_HTTP_RECORDS (default 10000).
"""

import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pctest import (REPO, Daemon, StatsConn, binary, not_under_valgrind,  # noqa: E402
                    open_fifo_writer, records, slow, write_all)

CLIENTS = int(os.environ.get("PCTEST_HTTP_CLIENTS") or 1000)
RECORDS = int(os.environ.get("PCTEST_HTTP_RECORDS") or 10000)
CHECKER = os.path.join(REPO, "build", "tests", "ssecheck")


class ManySseAndRawClients(unittest.TestCase):

    @not_under_valgrind("2,000 clients")
    @unittest.skipIf(os.sep + "san" + os.sep in binary(), "plain build only")
    def test_every_client_of_each_kind_gets_every_record(self):
        """Raw, SSE and WebSocket (text messages) at once."""
        self.assertTrue(os.access(CHECKER, os.X_OK), "%s not built" % CHECKER)
        data = records(0, RECORDS)
        # The rings hold the whole stream: a loss would be the daemon's.
        ring_mib = max(16, (RECORDS * 40 >> 20) + 2)
        conf = {"source": {"input": "fifo:{dir}/in.fifo"},
                "clients": {"buffer": "%dMiB" % ring_mib, "idle_timeout": "30m",
                            "send_timeout": "30m", "max_clients": str(3 * CLIENTS + 10)},
                "http": {"listen": "tcp:127.0.0.1:{port2}", "keepalive": "0"},
                "stats": {"idle_timeout": "1d"},
                "daemon": {"log_level": "notice"}}
        with Daemon(conf, rlimit_nofile=4 * CLIENTS + 100) as d, \
                StatsConn(d.path("stats.sock"), timeout=slow(30)) as st:
            epoch = st.info()["stream_epoch"]
            chk = subprocess.Popen(
                [CHECKER, "-p", str(d.port), "-P", str(d.port2), "-n", str(CLIENTS),
                 "-N", str(CLIENTS), "-W", str(CLIENTS), "-r", str(RECORDS), "-e", epoch,
                 "-t", str(slow(120 + RECORDS / 1000))],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            try:
                self.assertEqual(chk.stdout.readline(), "ready\n")
                deadline = time.monotonic() + slow(60)
                while st.info()["clients_connected"] < 3 * CLIENTS:
                    self.assertLess(time.monotonic(), deadline, "clients not all accepted")
                    time.sleep(0.05)
                before = st.info()
                t0 = time.monotonic()
                fd = open_fifo_writer(d.path("in.fifo"))
                try:
                    write_all(fd, data, chunk=1 << 16)
                finally:
                    os.close(fd)
                deadline = time.monotonic() + slow(120)
                while st.info()["source_records_total"] < RECORDS:
                    self.assertLess(time.monotonic(), deadline, "records not all read")
                    time.sleep(0.05)
                out = chk.stdout.readline()   # the checker has its own time limit
                took = time.monotonic() - t0
                during = st.info()
                chk.stdin.close()
                chk.wait(timeout=slow(30))
            finally:
                if chk.poll() is None:
                    chk.kill()
                    chk.wait()
        sys.stderr.write("[%d SSE + %d WebSocket + %d raw clients x %d records in %.1fs: %s; "
                         "timers_live %d -> %d, allocations_live %d -> %d] "
                         % (CLIENTS, CLIENTS, CLIENTS, RECORDS, took, out.strip(),
                            before["timers_live"], during["timers_live"],
                            before["allocations_live"], during["allocations_live"]))
        self.assertEqual(chk.returncode, 0, out)
        self.assertRegex(out.strip(), r"^ok=%d bad=0 eof=0 short=0 seconds=" % (3 * CLIENTS))
        self.assertEqual(before["timers_client_live"], 3 * CLIENTS)
        self.assertEqual(before["clients_connected"], 3 * CLIENTS)
        self.assertEqual(during["timers_live"], before["timers_live"])
        self.assertEqual(during["timer_allocations_total"], before["timer_allocations_total"])
        self.assertEqual(during["allocations_live"], before["allocations_live"])
        self.assertEqual(during["allocations_total"], before["allocations_total"])
        self.assertEqual(during["clients_dropped_overflow_total"], 0)
        self.assertEqual(during["clients_connected"], 3 * CLIENTS)


if __name__ == "__main__":
    unittest.main()
