#!/usr/bin/env python3
"""Access: the stats socket and the FIFO get exactly the configured modes
whatever the umask; nothing a client or a stats peer sends makes the daemon
write anywhere but the paths it started with. (Admin commands from another
uid: test_stats.SocketRules.)
Run alone: python3 tests/integration/test_access.py
"""

import os
import signal
import socket
import stat
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pctest  # noqa: E402
from pctest import (Daemon, StatsConn, open_fifo_writer, recv_exact,  # noqa: E402
                    recv_for, records, slow, tcp_client, write_all)


class Umask:
    """Runs the daemon under a given umask (it inherits the test's)."""

    def __init__(self, mask):
        self.mask = mask

    def __enter__(self):
        self.old = os.umask(self.mask)

    def __exit__(self, *a):
        os.umask(self.old)
        return False


def mode_of(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def tree(top):
    """Every path under TOP (relative), with its type and mode."""
    out = {}
    for dirpath, dirs, files in os.walk(top):
        for n in dirs + files:
            p = os.path.join(dirpath, n)
            st = os.lstat(p)
            out[os.path.relpath(p, top)] = (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode))
    return out


class Modes(unittest.TestCase):

    def test_stats_socket_mode_exact_under_any_umask(self):
        for mode in (0o600, 0o644, 0o660, 0o666):
            for mask in (0o000, 0o077, 0o022):
                with self.subTest(mode=oct(mode), umask=oct(mask)):
                    conf = {"source": {"input": "stdin"}, "stats": {"mode": "0%o" % mode}}
                    with Umask(mask), Daemon(conf) as d:
                        sp = d.path("stats.sock")
                        self.assertTrue(stat.S_ISSOCK(os.lstat(sp).st_mode))
                        self.assertEqual(mode_of(sp), mode)

    def test_fifo_mode_exact_under_any_umask(self):
        for mode in (0o620, 0o600, 0o640, 0o666):
            for mask in (0o000, 0o077, 0o022):
                with self.subTest(mode=oct(mode), umask=oct(mask)):
                    conf = {"source": {"input": "fifo:{dir}/in.fifo", "fifo_mode": "0%o" % mode}}
                    with Umask(mask), Daemon(conf) as d:
                        fp = d.path("in.fifo")
                        self.assertTrue(stat.S_ISFIFO(os.lstat(fp).st_mode))
                        self.assertEqual(mode_of(fp), mode)
                        # It is the daemon's FIFO: it reads from it.
                        c = tcp_client(d.port)
                        d.wait_opens(1)
                        fd = open_fifo_writer(fp)
                        write_all(fd, records(0, 3))
                        os.close(fd)
                        self.assertEqual(recv_exact(c, 27, slow(5)), records(0, 3))
                        c.close()


class NoWritesOutside(unittest.TestCase):
    """What peers send is never a path the daemon writes to."""

    def test_client_bytes_are_discarded(self):
        conf = {"source": {"input": "stdin"}}
        with Daemon(conf) as d, StatsConn(d.path("stats.sock")) as st:
            before = tree(d.dir)
            c = tcp_client(d.port)
            d.wait_opens(1)
            junk = (b"show info\nreload\nkill client 1\nquit\n../../etc/passwd\n"
                    b"/tmp/pwned\0" + bytes(range(256)) * 64 + b"\n") * 16
            c.sendall(junk)
            time.sleep(0.2)
            d.write_stdin(records(0, 5))
            self.assertEqual(recv_exact(c, 45, slow(5)), records(0, 5),
                             "the client got something other than the stream")
            extra, eof = recv_for(c, 0.2)
            self.assertEqual((extra, eof), (b"", False))
            self.assertEqual(tree(d.dir), before, "files changed after client bytes")
            self.assertFalse(os.path.lexists("/tmp/pwned"))
            info = st.info()
            self.assertEqual(info["clients_connected"], 1)
            self.assertEqual(d.count_log(r"\breload"), 0)
            c.close()

    def test_stats_commands_take_no_paths(self):
        conf = {"source": {"input": "stdin"}}
        with Daemon(conf) as d, StatsConn(d.path("stats.sock")) as st:
            before = tree(d.dir)
            out = d.path("out")
            for line in ("show info %s" % out, "show metrics > %s" % out,
                         "show clients json %s" % out, "reload %s" % out,
                         "reload -c %s" % out, "kill client %s" % out,
                         "kill client 1 %s" % out, "help %s" % out, "quit %s" % out):
                with self.subTest(line=line):
                    self.assertTrue(st.cmd(line).startswith("error: "), line)
            self.assertEqual(tree(d.dir), before, "files changed after stats commands")
            self.assertEqual(d.count_log(r"\breload"), 0)

    def test_reload_keeps_socket_and_fifo_paths(self):
        conf = {"source": {"input": "fifo:{dir}/in.fifo"}}
        with Daemon(conf) as d, StatsConn(d.path("stats.sock")) as st:
            c = tcp_client(d.port)
            d.wait_opens(1)
            moved = {"source": {"input": "fifo:{dir}/new/in.fifo", "fifo_mode": "0666"},
                     "stats": {"socket": "{dir}/new/stats.sock", "mode": "0600"},
                     "clients": {"listen": "tcp:127.0.0.1:{port}"},
                     "daemon": {"log_level": "info"}}
            with open(d.conf_path, "w") as f:
                f.write(pctest._render(moved, d.subst))
            start = len(d.log_lines())
            self.assertEqual(st.cmd("reload"), "ok\n"
                             "warning: input needs a restart; kept fifo:%s\n"
                             "warning: fifo_mode needs a restart; kept 0620\n"
                             "warning: socket needs a restart; kept %s\n"
                             % (d.path("in.fifo"), d.path("stats.sock")))
            d.wait_log(r"\[source\] input\b.*restart", slow(2), start=start)
            d.wait_log(r"\[stats\] socket\b.*restart", slow(2), start=start)
            d.wait_log(r"\[source\] fifo_mode\b.*restart", slow(2), start=start)
            d.send_signal(signal.SIGHUP)
            d.wait_log(r"\breloaded\b", slow(2), start=len(d.log_lines()) - 1)
            self.assertFalse(os.path.lexists(d.path("new")), "reload created the new paths")
            # The old paths still serve; stats mode (applied at once) changed.
            self.assertEqual(mode_of(d.path("stats.sock")), 0o600)
            self.assertEqual(mode_of(d.path("in.fifo")), 0o620)
            fd = open_fifo_writer(d.path("in.fifo"))
            write_all(fd, records(0, 4))
            os.close(fd)
            self.assertEqual(recv_exact(c, 36, slow(5)), records(0, 4))
            with StatsConn(d.path("stats.sock")) as st2:
                self.assertEqual(st2.info()["source_records_total"], 4)
            st.close()
            c.close()
            self.assertEqual(d.stop(signal.SIGTERM, slow(8)), 0)
            self.assertFalse(os.path.lexists(d.path("new")))
            self.assertFalse(os.path.lexists(d.path("stats.sock")))
            self.assertFalse(os.path.lexists(d.path("in.fifo")))


if __name__ == "__main__":
    unittest.main()
