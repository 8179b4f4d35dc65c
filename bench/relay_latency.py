#!/usr/bin/env python3
"""Latency added by each sse: relay hop (make bench-relay).

A root pipecastd reads records from standard input at RATE records/s (a
batch every 10 ms); relay B reads the root's /events, relay C reads B's.
One raw client on each node timestamps every record as it arrives; the
added latency of a hop is, per record, its arrival at the relay's client
minus its arrival at the upstream's client. Prints p50/p99/max per hop.

Usage: bench/relay_latency.py [SECONDS] [RATE]   (defaults 10, 10000)
"""

import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests", "integration"))

from pctest import Daemon, tcp_client  # noqa: E402


def conf(source):
    return {"source": {"input": source, "restart_delay": "100ms"},
            "clients": {"buffer": "16MiB", "backlog": "0"},
            "http": {"listen": "tcp:127.0.0.1:{port2}", "keepalive": "0"}}


class Stamper(threading.Thread):
    """Reads a raw client; arrival[i] = monotonic time record i arrived."""

    def __init__(self, port, total):
        super().__init__(daemon=True)
        self.sock = tcp_client(port, timeout=30)
        self.arrival = [0.0] * total
        self.total = total

    def run(self):
        buf = b""
        n = 0
        while n < self.total:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                return
            now = time.monotonic()
            buf += chunk
            *lines, buf = buf.split(b"\n")
            for ln in lines:
                self.arrival[int(ln)] = now
                n += 1


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(len(v) * p))]


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 10
    rate = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
    batch = max(1, rate // 100)
    total = int(seconds * rate) // batch * batch
    with Daemon(conf("stdin")) as a, \
         Daemon(conf("sse:http://127.0.0.1:%d/events" % a.port2)) as b, \
         Daemon(conf("sse:http://127.0.0.1:%d/events" % b.port2)) as c:
        for d in (b, c):
            d.wait_log(r"upstream .*: streaming", 10)
        st = [Stamper(d.port, total) for d in (a, b, c)]
        for s in st:
            s.start()
        for d in (a, b, c):
            d.wait_opens(1)
        t0 = time.monotonic()
        for i in range(0, total, batch):
            due = t0 + i / rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            a.write_stdin(b"".join(b"%d\n" % k for k in range(i, i + batch)))
        for s in st:
            s.join(60)
        print("relay hop latency at %d records/s, %d records, loopback:" % (rate, total))
        for name, up, down in (("root -> B", st[0], st[1]), ("B -> C", st[1], st[2])):
            d = [(down.arrival[i] - up.arrival[i]) * 1e3 for i in range(total)
                 if up.arrival[i] and down.arrival[i]]
            print("  %-10s p50 %.3f ms  p99 %.3f ms  max %.3f ms  (%d records)"
                  % (name, pct(d, 0.5), pct(d, 0.99), max(d), len(d)))


if __name__ == "__main__":
    main()
