"""Several streams: two instances of the template units side by side, as
systemd would run them (pipecast@NAME.socket passed by
systemd-socket-activate, the template's ExecStart with %i replaced,
RUNTIME_DIRECTORY set), with the instance examples of conf/ as their
configuration. A private mount namespace with a tmpfs over /run holds
/run/pipecast, so nothing of the host's /run is touched. `pipecastctl -n
NAME` reaches each, and `pipecastctl list` shows both with their rates."""

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from pctest import REPO, binary, ctl_binary, free_port, parse_kv, recv_lines

HAVE_TOOLS = all(shutil.which(t) for t in ("unshare", "nsenter", "systemd-socket-activate"))


def unit_values(path, section):
    """key -> value of one section of a unit file (the last one wins)."""
    out, cur = {}, None
    for ln in open(path).read().splitlines():
        if ln.startswith("["):
            cur = ln.strip("[]")
        elif cur == section and "=" in ln and not ln.startswith("#"):
            k, _, v = ln.partition("=")
            out[k] = v
    return out


def wait_connect(port, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=5)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


class LogWriter(threading.Thread):
    """Appends a numbered line to a log file every `interval` seconds."""

    def __init__(self, path, interval):
        super().__init__(daemon=True)
        self.path, self.interval, self.n = path, interval, 0
        self.stop = threading.Event()

    def run(self):
        while not self.stop.wait(self.interval):
            self.n += 1
            with open(self.path, "a") as f:
                f.write("GET /%d\n" % self.n)


@unittest.skipUnless(HAVE_TOOLS and os.geteuid() == 0,
                     "needs root, unshare, nsenter and systemd-socket-activate")
class TwoInstances(unittest.TestCase):
    def setUp(self):
        self.host_run = os.listdir("/run/pipecast") if os.path.isdir("/run/pipecast") else None
        self.root = tempfile.mkdtemp(prefix="pctest-inst-")
        self.addCleanup(shutil.rmtree, self.root)
        r = subprocess.run(["make", "-s", "-C", REPO, "install", "PREFIX=%s/usr" % self.root,
                            "CONFDIR=%s/etc/pipecast" % self.root],
                           capture_output=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        units = os.path.join(self.root, "usr/lib/systemd/system")
        self.service = unit_values(os.path.join(units, "pipecast@.service"), "Service")
        self.socket = unit_values(os.path.join(units, "pipecast@.socket"), "Socket")
        self.ports = {"weblog": free_port(), "sensors": free_port()}
        self.log = os.path.join(self.root, "access.log")
        open(self.log, "w").close()
        self.write_conf("weblog", {"/var/log/nginx/access.log": self.log})
        self.write_conf("sensors", {})

    def write_conf(self, name, replace):
        """The example of conf/, with its own port and test paths."""
        text = open(os.path.join(REPO, "conf", name + ".conf")).read()
        text = re.sub(r"(?m)^listen = tcp:127\.0\.0\.1:\d+$",
                      "listen = tcp:127.0.0.1:%d" % self.ports[name], text)
        for a, b in replace.items():
            self.assertIn(a, text)
            text = text.replace(a, b)
        with open(os.path.join(self.root, "etc/pipecast", name + ".conf"), "w") as f:
            f.write(text)

    def instance_command(self, name):
        """One instance as its units describe it, as a shell command line."""
        execstart = self.service["ExecStart"].replace("%i", name).split()
        execstart[0] = binary()          # the daemon under test (plain or ASan)
        rundir = "/run/" + self.service["RuntimeDirectory"].replace("%i", name)
        sock = self.socket["ListenStream"].replace("%i", name)
        self.assertEqual(os.path.dirname(sock), rundir)
        return ("mkdir -p %s && systemd-socket-activate -l %s --fdname=%s -E RUNTIME_DIRECTORY=%s %s"
                % (rundir, sock, self.socket["FileDescriptorName"], rundir, " ".join(execstart)))

    def inside(self, *argv, timeout=30):
        """Runs a command in the namespace of the instances."""
        return subprocess.run(["nsenter", "-t", str(self.ns.pid), "-m"] + list(argv),
                              capture_output=True, text=True, timeout=timeout)

    def ctl(self, *args, timeout=30):
        r = self.inside(ctl_binary(), *args, timeout=timeout)
        self.assertEqual(r.returncode, 0, "pipecastctl %s: %s" % (" ".join(args), r.stderr))
        return r.stdout

    def start_namespace(self):
        # Nothing may start before the tmpfs covers /run.
        script = ("mount -t tmpfs -o mode=0755 tmpfs /run || exit 1\n"
                  "(%s) &\n(%s) &\nwait\n" % (self.instance_command("weblog"),
                                              self.instance_command("sensors")))
        self.ns = subprocess.Popen(["unshare", "--mount", "--propagation", "private",
                                    "sh", "-c", script], stderr=subprocess.PIPE,
                                   start_new_session=True)
        self.addCleanup(self.stop_namespace)
        deadline = time.monotonic() + 10
        while self.inside("test", "-S", "/run/pipecast/sensors/stats.sock").returncode != 0 \
                or self.inside("test", "-S", "/run/pipecast/weblog/stats.sock").returncode != 0:
            self.assertLess(time.monotonic(), deadline, "the stats sockets were not bound")
            if self.ns.poll() is not None:
                self.fail("the namespace ended: %s" % self.ns.stderr.read())
            time.sleep(0.1)

    def stop_namespace(self):
        os.killpg(self.ns.pid, signal.SIGTERM)
        try:
            self.ns.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(self.ns.pid, signal.SIGKILL)
            self.ns.wait(5)
        self.ns.stderr.close()
        now = os.listdir("/run/pipecast") if os.path.isdir("/run/pipecast") else None
        self.assertEqual(now, self.host_run, "the host's /run/pipecast changed")

    def test_ctl_reaches_each_and_list_shows_both(self):
        self.start_namespace()
        # The first stats connection starts each instance (socket activation).
        infos = {n: parse_kv(self.ctl("-n", n, "info")) for n in ("weblog", "sensors")}
        self.assertNotEqual(infos["weblog"]["pid"], infos["sensors"]["pid"])
        clients = {n: wait_connect(p) for n, p in self.ports.items()}
        # weblog follows its log; lines appended before tail opened it are
        # not followed (-n 0), so the writer keeps appending.
        writer = LogWriter(self.log, 0.1)
        writer.start()
        self.addCleanup(writer.stop.set)
        self.assertRegex(recv_lines(clients["weblog"], 1, timeout=15), rb"^GET /\d+\n$")
        # sensors reads its FIFO in its own runtime directory.
        w = self.inside("sh", "-c", "for i in $(seq 50); do [ -p /run/pipecast/sensors/input.fifo ] "
                        "&& break; sleep 0.2; done; echo reading-1 > /run/pipecast/sensors/input.fifo")
        self.assertEqual(w.returncode, 0, w.stderr)
        self.assertEqual(recv_lines(clients["sensors"], 1, timeout=10), b"reading-1\n")
        for name in ("weblog", "sensors"):
            info = parse_kv(self.ctl("-n", name, "info"))
            self.assertEqual(info["pid"], infos[name]["pid"])
            self.assertEqual(info["clients_connected"], "1")
        self.assertEqual(parse_kv(self.ctl("-n", "sensors", "info"))["source_records_total"], "1")
        # list: a header, then one line per instance in name order.
        lines = self.ctl("list").splitlines()
        self.assertEqual(lines[0].split(), ["NAME", "CLIENTS", "RECORDS/S", "SOURCE"], lines)
        rows = {ln.split()[0]: ln.split() for ln in lines[1:]}
        self.assertEqual(sorted(rows), ["sensors", "weblog"], lines)
        self.assertEqual([ln.split()[0] for ln in lines[1:]], ["sensors", "weblog"])
        self.assertEqual(rows["sensors"][1:], ["1", "0.0", "waiting"], lines)
        self.assertEqual(rows["weblog"][1], "1")
        self.assertEqual(rows["weblog"][3], "open")
        # About 10 lines/s are appended; the load may slow the writer down.
        self.assertGreater(float(rows["weblog"][2]), 1.0, lines)
        self.assertLess(float(rows["weblog"][2]), 30.0, lines)
        for c in clients.values():
            c.close()

    def test_list_skips_an_instance_that_does_not_answer(self):
        self.start_namespace()
        self.ctl("-n", "weblog", "info")
        # A directory of a stopped instance: its socket is gone.
        self.inside("mkdir", "/run/pipecast/stopped")
        # sensors' socket exists but nothing has started it; list starts it
        # (socket activation) and shows it, the stopped one is left out.
        lines = self.ctl("list").splitlines()
        self.assertEqual([ln.split()[0] for ln in lines[1:]], ["sensors", "weblog"], lines)

    def test_no_instance_answers(self):
        self.start_namespace()
        self.inside("rm", "-rf", "/run/pipecast/weblog", "/run/pipecast/sensors")
        r = self.inside(ctl_binary(), "list")
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertEqual(r.stderr, "pipecastctl: no instance answers under /run/pipecast\n")
        self.assertEqual(r.stdout, "")
        r = self.inside(ctl_binary(), "-n", "weblog", "info")
        self.assertEqual(r.returncode, 1)
        self.assertIn("/run/pipecast/weblog/stats.sock (No such file or directory)", r.stderr)


class Usage(unittest.TestCase):
    """-n NAME and list, checked before any socket is touched."""

    def test_usage_errors(self):
        for args in (["-n", "../x", "info"], ["-n", "a", "-s", "/x", "info"],
                     ["-n", "a", "list"], ["-s", "/x", "list"], ["list", "extra"]):
            with self.subTest(args=args):
                r = subprocess.run([ctl_binary()] + args, capture_output=True, text=True,
                                   timeout=10)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertTrue(r.stderr.startswith("pipecastctl: "), r.stderr)

    def test_n_before_the_command_is_an_instance(self):
        """-n NAME before the command, -n COUNT after watch."""
        r = subprocess.run([ctl_binary(), "-n", "nosuch", "-t", "1", "watch", "-n", "1"],
                           capture_output=True, text=True, timeout=10)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("/run/pipecast/nosuch/stats.sock (", r.stderr)


if __name__ == "__main__":
    unittest.main()
