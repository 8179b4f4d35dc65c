"""Client liveness (pipecast.conf(5), "Client liveness"): idle_timeout counts
no sign of life (no byte from the client and, on TCP, no acknowledgement),
tcp_keepalive probes keep a live reader of a quiet stream, a dead peer is
reaped, and a client that half-closes keeps receiving."""

import ctypes
import os
import shutil
import socket
import subprocess
import threading
import time
import unittest

from pctest import (Daemon, StatsConn, not_under_valgrind, records, recv_exact,
                    recv_for, slow, tcp_client, unix_client)

CLONE_NEWNET = 0x40000000
LIBC = ctypes.CDLL(None, use_errno=True)
# Short timeouts so that the tests take seconds: probes after 1 s of quiet,
# a client without a sign of life for 3 s is closed.
QUIET = {"source": {"input": "stdin"},
         "clients": {"idle_timeout": "3s", "tcp_keepalive": "1s"}}


def in_netns(pid, fn, timeout=10.0):
    """Runs FN in a thread that entered the network namespace of PID; the
    sockets it makes belong there. Returns FN's result."""
    out = {}

    def run():
        fd = os.open("/proc/%d/ns/net" % pid, os.O_RDONLY)
        try:
            if LIBC.setns(fd, CLONE_NEWNET) != 0:
                out["err"] = OSError(ctypes.get_errno(), "setns")
                return
        finally:
            os.close(fd)
        try:
            out["val"] = fn()
        except BaseException as e:     # handed to the test's thread
            out["err"] = e

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(timeout)
    if "err" in out:
        raise out["err"]
    if "val" not in out:
        raise AssertionError("netns helper did not finish")
    return out["val"]


def netns_ok():
    """unshare -n, ip and nft work here (root, the tools installed)."""
    if os.geteuid() != 0 or not all(shutil.which(t) for t in ("unshare", "ip", "nft")):
        return False
    r = subprocess.run(["unshare", "-n", "sh", "-c", "ip link set lo up && nft list ruleset"],
                       capture_output=True, timeout=10)
    return r.returncode == 0


class QuietStream(unittest.TestCase):

    def test_live_readers_kept_past_idle_timeout(self):
        conf = dict(QUIET, clients=dict(QUIET["clients"],
                                        listen=["tcp:127.0.0.1:{port}", "unix:{dir}/c.sock"]))
        with Daemon(conf) as d, StatsConn(d.path("stats.sock")) as st:
            t = tcp_client(d.port)
            u = unix_client(d.path("c.sock"))
            d.wait_opens(2)
            d.write_stdin(records(0, 1))
            self.assertEqual(recv_exact(t, 9), records(0, 1))
            self.assertEqual(recv_exact(u, 9), records(0, 1))
            # Nothing flows and the readers send nothing for 3 x idle_timeout.
            data, eof = recv_for(t, 9.0)
            self.assertEqual((data, eof), (b"", False))
            self.assertEqual(st.info()["clients_connected"], 2)
            self.assertEqual(d.count_log(r"reason=idle"), 0)
            # show clients counts idle_s from the last acknowledgement of a
            # keepalive probe: under 3 s although nothing moved for 9 s.
            rows = [r.split(" ") for r in st.cmd("show clients").splitlines()[1:]]
            tcp_idle = [float(r[3]) for r in rows if r[1] != "unix"]
            self.assertEqual(len(tcp_idle), 1)
            self.assertLess(tcp_idle[0], 3.0)
            d.write_stdin(records(1, 2))
            self.assertEqual(recv_exact(t, 9), records(1, 2))
            self.assertEqual(recv_exact(u, 9), records(1, 2))

    def test_keepalive_off_closes_quiet_reader(self):
        conf = {"source": {"input": "stdin"},
                "clients": {"idle_timeout": "1s", "tcp_keepalive": "0"}}
        with Daemon(conf) as d:
            self.assertTrue(d.wait_log(r"tcp_keepalive is off"))
            t = tcp_client(d.port)
            cid = d.client_id(t)
            self.assertEqual(d.closed_reason(cid, timeout=slow(6)), "idle")


class HalfClose(unittest.TestCase):

    def test_half_closed_client_keeps_receiving(self):
        conf = {"source": {"input": "stdin"}}
        with Daemon(conf) as d, StatsConn(d.path("stats.sock")) as st:
            t = tcp_client(d.port)
            cid = d.client_id(t)
            t.shutdown(socket.SHUT_WR)          # what `nc < /dev/null` does
            time.sleep(0.3)
            d.write_stdin(records(0, 50))
            self.assertEqual(recv_exact(t, 450), records(0, 50))
            self.assertEqual(st.info()["clients_connected"], 1)
            self.assertEqual(d.count_log(r"client %d closed" % cid), 0)
            t.close()
            # The full close is seen at the next writes (the peer's reset).
            for i in range(50, 60):
                d.write_stdin(records(i, i + 1))
                time.sleep(0.05)
            self.assertEqual(d.closed_reason(cid), "peer")

    def test_unix_half_close_and_close(self):
        conf = {"source": {"input": "stdin"},
                "clients": {"listen": "unix:{dir}/c.sock"}}
        with Daemon(conf) as d:
            u = unix_client(d.path("c.sock"))
            cid = int(d.wait_log(r"\bclient (\d+) open unix").group(1))
            u.shutdown(socket.SHUT_WR)
            d.write_stdin(records(0, 10))
            self.assertEqual(recv_exact(u, 90), records(0, 10))
            u.close()                           # seen by the next write
            d.write_stdin(records(10, 11))
            self.assertEqual(d.closed_reason(cid), "peer")
            # A Unix client that closes without a half-close first is seen
            # at once: both directions are shut at its end of input.
            u2 = unix_client(d.path("c.sock"))
            d.wait_opens(2)
            u2.close()
            self.assertEqual(d.closed_reason(cid + 1), "peer")

    def test_connect_fin_churn_does_not_use_up_max_clients(self):
        conf = {"source": {"input": "stdin"}, "clients": {"max_clients": "3"}}
        with Daemon(conf) as d, StatsConn(d.path("stats.sock")) as st:
            stop = threading.Event()

            def produce():
                i = 0
                while not stop.is_set() and i < 2000:
                    d.write_stdin(records(i, i + 1))
                    i += 1
                    time.sleep(0.02)

            p = threading.Thread(target=produce, daemon=True)
            p.start()
            try:
                for _ in range(15):                 # five times max_clients
                    c = tcp_client(d.port)
                    c.shutdown(socket.SHUT_WR)
                    c.close()
                    time.sleep(0.1)
                deadline = time.monotonic() + slow(10)
                while st.info()["clients_connected"] > 0 and time.monotonic() < deadline:
                    time.sleep(0.1)
                self.assertEqual(st.info()["clients_connected"], 0)
                late = tcp_client(d.port)
                self.assertTrue(recv_exact(late, 9, 5).endswith(b"\n"))
                info = st.info()
                self.assertEqual(info["clients_rejected_total"], 0)
                self.assertEqual(info["clients_accepted_total"], 16)
                late.close()
            finally:
                stop.set()
                p.join(5)


@unittest.skipUnless(netns_ok(), "needs root, unshare, ip and nft")
@not_under_valgrind("timing")
class DeadPeer(unittest.TestCase):
    """A peer that vanishes (its packets dropped by nft in a network
    namespace of the test's own) is closed once idle_timeout passes without
    an acknowledgement, although keepalive probes are sent."""

    PREFIX = ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$0" "$@"']

    def test_dead_peer_reaped(self):
        with Daemon(QUIET, prefix=self.PREFIX) as d, StatsConn(d.path("stats.sock")) as st:
            live = in_netns(d.pid, lambda: tcp_client(d.port))
            dead = in_netns(d.pid, lambda: tcp_client(d.port))
            d.wait_opens(2)
            lid, did = d.client_id(live), d.client_id(dead)
            d.write_stdin(records(0, 1))
            self.assertEqual(recv_exact(dead, 9), records(0, 1))
            self.assertEqual(recv_exact(live, 9), records(0, 1))
            port = dead.getsockname()[1]
            rules = ("add table inet pctest; "
                     "add chain inet pctest in { type filter hook input priority 0; }; "
                     "add rule inet pctest in tcp sport %d drop" % port)
            r = subprocess.run(["nsenter", "-t", str(d.pid), "-n", "nft", rules],
                               capture_output=True, timeout=10)
            self.assertEqual(r.returncode, 0, r.stderr)
            t0 = time.monotonic()
            self.assertEqual(d.closed_reason(did, timeout=slow(15)), "idle")
            self.assertLess(time.monotonic() - t0, slow(10))
            # The live one, as quiet, is still served.
            self.assertEqual(st.info()["clients_connected"], 1)
            self.assertEqual(d.count_log(r"client %d closed" % lid), 0)
            d.write_stdin(records(1, 2))
            self.assertEqual(recv_exact(live, 9), records(1, 2))
            self.assertEqual(st.info()["timers_client_live"], 1)
            live.close()
            dead.close()


if __name__ == "__main__":
    unittest.main()
