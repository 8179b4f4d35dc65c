#!/usr/bin/env python3
"""One edge fed by Redis against the same edge fed by a FIFO (make
bench-redis; pipecastd(8), "A Redis stream as the backbone").

- records/s: N records of 64 bytes reach one raw client of the edge as
  fast as the edge reads them. Redis: the records are added (pipecastctl
  publish) while the edge is stopped (SIGSTOP), then the clock runs from
  SIGCONT until the client has all N. FIFO: the same edge with input =
  fifo:PATH, the clock from the first write of the N records (one 64 KiB
  write after the other) until the client has them all.
- latency: RATE records/s for SECONDS, in batches every 10 ms, written
  to the FIFO, or XADDed to Redis (pipelined, one write per batch); one
  raw client timestamps each record's arrival; latency = arrival - the
  time its batch was written. The Redis hop's added latency is the
  difference of the two.

Usage: bench/redis_edge.py [N] [SECONDS] [RATE]   (defaults 500000, 10, 10000)
Needs redis-server (tests/deps.sh); starts its own on a free loopback port.
"""

import os
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests", "integration"))

from pctest import Daemon, ctl_binary, open_fifo_writer, tcp_client  # noqa: E402
from pcredis import RedisServer  # noqa: E402
from relay_latency import Stamper, pct  # noqa: E402

KEY = "bench:edge"


def conf(source):
    return {"source": {"input": source, "restart_delay": "100ms"},
            "clients": {"buffer": "64MiB", "backlog": "0"}}


def record(i):
    return b"%063d\n" % i


class Counter(threading.Thread):
    """Reads a raw client until it has `total` records; `done` is when."""

    def __init__(self, port, total):
        super().__init__(daemon=True)
        self.sock = tcp_client(port, timeout=120)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.total, self.n, self.done = total, 0, None

    def run(self):
        while self.n < self.total:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                return
            self.n += chunk.count(b"\n")
        self.done = time.monotonic()


def wait_streaming(d):
    d.wait_log(r"upstream .*: streaming", 20)


def rate_redis(r, n):
    subprocess.run([ctl_binary(), "publish", "%s/%s" % (r.url, KEY)], input=record(0),
                   check=True, capture_output=True)
    with Daemon(conf("%s/%s" % (r.url, KEY))) as d:
        wait_streaming(d)
        c = Counter(d.port, n)
        c.start()
        d.wait_opens(1)
        d.send_signal(signal.SIGSTOP)
        try:
            data = b"".join(record(i) for i in range(1, n + 1))
            subprocess.run([ctl_binary(), "publish", "%s/%s" % (r.url, KEY)], input=data,
                           check=True, capture_output=True, timeout=300)
        finally:
            t0 = time.monotonic()
            d.send_signal(signal.SIGCONT)
        c.join(300)
        return n / (c.done - t0) if c.done else 0.0


def rate_fifo(n):
    with Daemon(conf("fifo:{dir}/in.fifo")) as d:
        c = Counter(d.port, n)
        c.start()
        d.wait_opens(1)
        data = b"".join(record(i) for i in range(n))
        fd = open_fifo_writer(d.path("in.fifo"))
        t0 = time.monotonic()
        for off in range(0, len(data), 1 << 16):
            os.write(fd, data[off:off + (1 << 16)])
        c.join(300)
        os.close(fd)
        return n / (c.done - t0) if c.done else 0.0


def paced(total, rate, send):
    """Calls send(first, stop) every 10 ms; returns the send time per record."""
    batch = max(1, rate // 100)
    sent = [0.0] * total
    t0 = time.monotonic()
    for i in range(0, total, batch):
        delay = t0 + i / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        stop = min(total, i + batch)
        now = time.monotonic()
        send(i, stop)
        for k in range(i, stop):
            sent[k] = now
    return sent


def latency(d, total, rate, send):
    st = Stamper(d.port, total)
    st.start()
    d.wait_opens(1)
    sent = paced(total, rate, send)
    st.join(60)
    return [(st.arrival[i] - sent[i]) * 1e3 for i in range(total) if st.arrival[i]]


def latency_redis(r, total, rate):
    c = r.client()
    drain = threading.Thread(target=lambda: [c._reply() for _ in range(total)], daemon=True)

    def send(i, stop):
        c.sock.sendall(b"".join(b"*5\r\n$4\r\nXADD\r\n$%d\r\n%s\r\n$1\r\n*\r\n$4\r\ndata\r\n"
                                b"$%d\r\n%d\r\n" % (len(KEY), KEY.encode(), len(b"%d" % k), k)
                                for k in range(i, stop)))
    r.cmd("DEL", KEY)
    c.cmd("XADD", KEY, "*", "data", "start")
    with Daemon(conf("%s/%s" % (r.url, KEY))) as d:
        wait_streaming(d)
        drain.start()
        out = latency(d, total, rate, send)
    c.close()
    return out


def latency_fifo(total, rate):
    with Daemon(conf("fifo:{dir}/in.fifo")) as d:
        fd = open_fifo_writer(d.path("in.fifo"))
        out = latency(d, total, rate,
                      lambda i, stop: os.write(fd, b"".join(b"%d\n" % k for k in range(i, stop))))
        os.close(fd)
        return out


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500000
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 10
    rate = int(sys.argv[3]) if len(sys.argv) > 3 else 10000
    total = int(seconds * rate)
    with RedisServer() as r:
        rr = rate_redis(r, n)
        rf = rate_fifo(n)
        print("one edge, %d records of 64 bytes to one raw client, loopback:" % n)
        print("  fed by Redis  %10.0f records/s" % rr)
        print("  fed by a FIFO %10.0f records/s" % rf)
        lr = latency_redis(r, total, rate)
        lf = latency_fifo(total, rate)
    print("latency, producer to client, at %d records/s, %d records:" % (rate, total))
    for name, v in (("Redis (XADD)", lr), ("FIFO", lf)):
        print("  %-13s p50 %.3f ms  p99 %.3f ms  max %.3f ms  (%d records)"
              % (name, pct(v, 0.5), pct(v, 0.99), max(v), len(v)))
    print("  the Redis hop adds p50 %.3f ms, p99 %.3f ms"
          % (pct(lr, 0.5) - pct(lf, 0.5), pct(lr, 0.99) - pct(lf, 0.99)))


if __name__ == "__main__":
    main()
