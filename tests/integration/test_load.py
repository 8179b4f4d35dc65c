#!/usr/bin/env python3
"""Load: many clients at once, all reading as fast as they can, receive every
record in order (a CRC-32 per client, nothing stored), and the daemon's RSS
and live timers are the same before and after the stream.

`make test` runs 500 clients and 200,000 records; `make stress` runs 5,000
clients and 1,000,000 records. Parameters (environment):
PCTEST_STRESS_CLIENTS, PCTEST_STRESS_RECORDS, PCTEST_STRESS_PROCS (reader
processes, default 2), PCTEST_STRESS_RSS_SLACK (bytes, default 1 MiB).
Run alone: python3 tests/integration/test_load.py
"""

import os
import sys
import time
import unittest
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pcload import Workers  # noqa: E402
from pctest import (Daemon, StatsConn, not_under_valgrind, open_fifo_writer,  # noqa: E402
                    records, rss_bytes, slow, write_all)

CLIENTS = int(os.environ.get("PCTEST_STRESS_CLIENTS") or 500)
RECORDS = int(os.environ.get("PCTEST_STRESS_RECORDS") or 200_000)
PROCS = int(os.environ.get("PCTEST_STRESS_PROCS") or 2)
RSS_SLACK = int(os.environ.get("PCTEST_STRESS_RSS_SLACK") or (1 << 20))


class ManyClients(unittest.TestCase):

    @not_under_valgrind("hundreds of clients and hundreds of MB to deliver")
    def test_every_client_gets_every_record_memory_flat(self):
        data = records(0, RECORDS)
        crc = zlib.crc32(data)
        # The ring holds the whole stream, so no reader, however slow, can
        # be dropped: a loss would be the daemon's.
        ring_mib = max(64, (len(data) >> 20) * 2 + 1)
        conf = {"source": {"input": "fifo:{dir}/in.fifo"},
                "clients": {"buffer": "%dMiB" % ring_mib, "idle_timeout": "30m",
                            "send_timeout": "30m", "max_clients": str(CLIENTS + 10)},
                "stats": {"idle_timeout": "1d"},
                "daemon": {"log_level": "notice"}}
        # Kernel socket buffers hold some of it; Python reads ~1 GB/s a core.
        budget = 30 + len(data) * CLIENTS / 2e8
        with Daemon(conf) as d, StatsConn(d.path("stats.sock"), timeout=slow(30)) as st:
            with Workers(("tcp", d.port), CLIENTS, PROCS, len(data), crc,
                         deadline_s=slow(budget + 60)) as w:
                self.assertEqual(w.wait_connected(slow(60)), CLIENTS)
                deadline = time.monotonic() + slow(30)
                while st.info()["clients_connected"] < CLIENTS:
                    self.assertLess(time.monotonic(), deadline, "clients not all accepted")
                    time.sleep(0.05)
                st.cmd("show info")
                before, rss0 = st.info(), rss_bytes(d.pid)
                t0 = time.monotonic()
                fd = open_fifo_writer(d.path("in.fifo"))
                try:
                    write_all(fd, data, chunk=1 << 20)
                finally:
                    os.close(fd)
                res = w.results(slow(budget))
                took = time.monotonic() - t0
                after, rss1 = st.info(), rss_bytes(d.pid)
        msg = ("%d clients x %d records (%.1f MB each) in %.1fs: %.2f M records/s, "
               "%.0f MB/s delivered; VmRSS %d -> %d KiB (%+d KiB), timers_live %d -> %d, "
               "allocations_live %d -> %d"
               % (CLIENTS, RECORDS, len(data) / 1e6, took, CLIENTS * RECORDS / took / 1e6,
                  CLIENTS * len(data) / took / 1e6, rss0 >> 10, rss1 >> 10,
                  (rss1 - rss0) >> 10, before["timers_live"], after["timers_live"],
                  before["allocations_live"], after["allocations_live"]))
        sys.stderr.write("[%s] " % msg)
        self.assertEqual(res["ok"], CLIENTS, "clients with every record in order: %r" % res)
        self.assertEqual(res["eof"], 0, "clients closed: %r" % res)
        self.assertEqual(after["clients_connected"], CLIENTS)
        self.assertEqual(after["timers_live"], before["timers_live"], msg)
        self.assertEqual(after["timers_client_live"], CLIENTS)
        self.assertEqual(after["timer_allocations_total"], before["timer_allocations_total"], msg)
        self.assertEqual(after["allocations_live"], before["allocations_live"], msg)
        self.assertLessEqual(abs(rss1 - rss0), RSS_SLACK, msg)
        self.assertEqual(after["source_records_total"], RECORDS)
        self.assertEqual(after["bytes_sent_total"] - before["bytes_sent_total"],
                         CLIENTS * len(data))


if __name__ == "__main__":
    unittest.main()
