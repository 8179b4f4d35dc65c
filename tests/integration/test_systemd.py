"""systemd integration: the notify protocol (path and abstract sockets),
socket activation with systemd-socket-activate, the units (verify, security)
and make install."""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from pctest import (REPO, Daemon, binary, ctl_binary, recv_lines, run_daemon, tcp_client,
                    unix_client)

HAVE_ACTIVATE = shutil.which("systemd-socket-activate") is not None
HAVE_ANALYZE = shutil.which("systemd-analyze") is not None


class NotifyListener:
    """A datagram socket standing in for systemd's NOTIFY_SOCKET."""

    def __init__(self, name):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind("\0" + name[1:] if name.startswith("@") else name)
        self.sock.settimeout(0.1)
        self.msgs = []          # (monotonic time, text)
        self.stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop:
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            self.msgs.append((time.monotonic(), data.decode()))

    def close(self):
        self.stop = True
        self.thread.join(2)
        self.sock.close()

    def texts(self):
        return [m for _, m in self.msgs]

    def wait_for(self, text, timeout=5.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(m.startswith(text) for m in self.texts()):
                return
            time.sleep(0.02)
        raise AssertionError("no %r in %r" % (text, self.texts()))


def notify_env(sock, **extra):
    env = dict(os.environ, NOTIFY_SOCKET=sock)
    for k in ("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "WATCHDOG_PID"):
        env.pop(k, None)
    env.update(extra)
    return env


class Notify(unittest.TestCase):
    def sequence(self, sockname):
        n = NotifyListener(sockname)
        try:
            with Daemon({}, env=notify_env(sockname, WATCHDOG_USEC="400000")) as d:
                n.wait_for("READY=1")
                time.sleep(1.2)
                d.send_signal(signal.SIGHUP)
                n.wait_for("RELOADING=1")
                time.sleep(0.3)
                self.assertEqual(d.stop(signal.SIGTERM), 0)
            n.wait_for("STOPPING=1")
        finally:
            n.close()
        return n.msgs

    def check_sequence(self, msgs):
        texts = [m for _, m in msgs]
        self.assertEqual(texts[0], "READY=1", texts[:5])
        self.assertTrue(any(t.startswith("STATUS=") and "clients" in t and "records/s" in t
                            for t in texts), texts)
        rel = next(i for i, t in enumerate(texts) if t.startswith("RELOADING=1"))
        self.assertRegex(texts[rel], r"^RELOADING=1\nMONOTONIC_USEC=\d+$")
        self.assertIn("READY=1", texts[rel + 1:], "READY=1 after the reload")
        stop = texts.index("STOPPING=1")
        self.assertGreater(stop, rel)
        self.assertNotIn("READY=1", texts[stop:])
        # WATCHDOG=1 about every 200 ms (half of WATCHDOG_USEC=400000).
        wd = [t for t, m in msgs if m == "WATCHDOG=1"]
        self.assertGreaterEqual(len(wd), 6, texts)
        gaps = sorted(b - a for a, b in zip(wd, wd[1:]))
        median = gaps[len(gaps) // 2]
        self.assertGreater(median, 0.12)
        self.assertLess(median, 0.35)

    def test_path_socket(self):
        d = tempfile.mkdtemp(prefix="pctest-notify-")
        try:
            self.check_sequence(self.sequence(os.path.join(d, "notify.sock")))
        finally:
            shutil.rmtree(d)

    def test_abstract_socket(self):
        self.check_sequence(self.sequence("@pipecast-test-%d" % os.getpid()))

    def test_watchdog_for_another_pid_is_not_ours(self):
        name = "@pipecast-test-wd-%d" % os.getpid()
        n = NotifyListener(name)
        try:
            env = notify_env(name, WATCHDOG_USEC="200000", WATCHDOG_PID="1")
            with Daemon({}, env=env) as d:
                n.wait_for("READY=1")
                time.sleep(0.6)
                self.assertNotIn("WATCHDOG=1", n.texts())
                self.assertEqual(d.stop(), 0)
        finally:
            n.close()

    def test_missing_notify_socket_is_not_fatal(self):
        env = notify_env("/nonexistent/notify.sock", WATCHDOG_USEC="100000")
        with Daemon({}, env=env) as d:
            time.sleep(0.4)
            self.assertTrue(d.alive())
            c = tcp_client(d.port)
            d.wait_opens(1)
            c.close()
            self.assertEqual(d.stop(), 0)

    def test_producer_does_not_inherit_protocol_variables(self):
        name = "@pipecast-test-env-%d" % os.getpid()
        n = NotifyListener(name)
        try:
            conf = {"source": {"input": "exec:sleep 0.3; env | grep -c -E "
                               "'^(NOTIFY_SOCKET|WATCHDOG_|LISTEN_)' || true; sleep 5"}}
            with Daemon(conf, env=notify_env(name, WATCHDOG_USEC="1000000")) as d:
                c = tcp_client(d.port)
                self.assertEqual(recv_lines(c, 1, timeout=5), b"0\n")
                c.close()
        finally:
            n.close()


class JournalLog(unittest.TestCase):
    """Under the journal (JOURNAL_STREAM names standard error) lines carry a
    <N> priority prefix instead of a timestamp."""

    def run_with_stderr_file(self, journal):
        d = tempfile.mkdtemp(prefix="pctest-journal-")
        try:
            path = os.path.join(d, "err.log")
            with open(path, "wb") as err:
                st = os.fstat(err.fileno())
                env = dict(os.environ)
                env["JOURNAL_STREAM"] = ("%d:%d" % (st.st_dev, st.st_ino) if journal
                                         else "%d:%d" % (st.st_dev, st.st_ino + 1))
                p = subprocess.run([binary(), "-o", "daemon.log_level=debug",
                                    "-o", "clients.listen=tcp:127.0.0.1:%d" % tcp_free_port(),
                                    "-o", "stats.socket=%s/s.sock" % d],
                                   stdin=subprocess.DEVNULL, stderr=err, env=env, timeout=10)
            self.assertEqual(p.returncode, 0)
            return open(path).read().splitlines()
        finally:
            shutil.rmtree(d)

    def test_priority_prefixes_when_stderr_is_the_journal(self):
        lines = self.run_with_stderr_file(True)
        self.assertTrue(lines)
        for ln in lines:
            self.assertRegex(ln, r"^<[3-7]>\S")
        self.assertTrue(any(ln.startswith("<5>ready") for ln in lines), lines)
        self.assertTrue(any(ln.startswith("<6>stats socket") for ln in lines), lines)

    def test_timestamps_when_stderr_is_something_else(self):
        for ln in self.run_with_stderr_file(False):
            self.assertRegex(ln, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3} "
                                 r"(error|warning|notice|info|debug): ")


@unittest.skipUnless(HAVE_ACTIVATE, "systemd-socket-activate not installed")
class SocketActivation(unittest.TestCase):
    CONF = ("[source]\ninput = exec:while :; do echo tick; sleep 0.05; done\n"
            "[clients]\nlisten = systemd:clients\n"
            "[stats]\nsocket = systemd:stats\n"
            "[daemon]\nlog_level = info\n")

    def activated(self, conf, names="clients:stats", extra=()):
        prefix = ["systemd-socket-activate", "-l", "127.0.0.1:{port}",
                  "-l", "{dir}/stats.sock"] + list(extra) + ["--fdname=" + names]
        return Daemon(conf, prefix=prefix, wait_ready=False)

    def test_client_and_stats_from_passed_sockets(self):
        with self.activated(self.CONF) as d:
            c = wait_connect(d.port)          # the first connection starts it
            d.wait_log(r"\bready\b", 10)
            self.assertEqual(recv_lines(c, 2, timeout=5)[:10], b"tick\ntick\n")
            out = subprocess.run([ctl_binary(),
                                  "-s", d.path("stats.sock"), "info"],
                                 capture_output=True, timeout=10)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertIn(b"clients_connected: 1\n", out.stdout)
            self.assertEqual(d.stop(), 0)
            # The socket file belongs to the socket unit: never removed.
            self.assertTrue(os.path.exists(d.path("stats.sock")))

    def test_passed_sockets_are_not_inherited_by_the_producer(self):
        conf = self.CONF.replace("while :; do echo tick; sleep 0.05; done",
                                 "sleep 0.3; ls /proc/self/fd | tr '\\n' ' '; echo; sleep 5")
        with self.activated(conf) as d:
            c = wait_connect(d.port)
            line = recv_lines(c, 1, timeout=5).decode().split()
            # ls itself holds 0, 1, 2 and the directory it reads.
            self.assertEqual(sorted(line, key=int), ["0", "1", "2", "3"])
            c.close()

    def test_missing_name_fails_start_up(self):
        conf = self.CONF.replace("systemd:stats", "systemd:nosuch")
        with self.activated(conf) as d:
            c = wait_connect(d.port)
            self.assertEqual(d.wait_exit(10), 2)
            self.assertRegex(d.log_text(), r"no socket-activated descriptor named 'nosuch'")
            c.close()

    def test_unclaimed_descriptor_is_logged(self):
        with self.activated(self.CONF, names="clients:stats:spare",
                            extra=["-l", "{dir}/spare.sock"]) as d:
            c = wait_connect(d.port)
            d.wait_log(r"descriptor \d+ named 'spare' is not used", 10)
            c.close()


def make(*args, timeout=120):
    return subprocess.run(["make", "-s", "-C", REPO] + list(args),
                          capture_output=True, timeout=timeout)


@unittest.skipUnless(HAVE_ANALYZE, "systemd-analyze not installed")
class Units(unittest.TestCase):
    def test_verify_installed_units(self):
        root = tempfile.mkdtemp(prefix="pctest-units-")
        try:
            r = make("install", "PREFIX=%s/usr" % root, "CONFDIR=%s/etc/pipecast" % root)
            self.assertEqual(r.returncode, 0, r.stderr)
            unitdir = os.path.join(root, "usr/lib/systemd/system")
            units = sorted(os.path.join(unitdir, u) for u in os.listdir(unitdir))
            self.assertEqual([os.path.basename(u) for u in units],
                             ["pipecast-stats.socket", "pipecast.service", "pipecast.socket",
                              "pipecast@.service", "pipecast@.socket"])
            # An instance, as systemd would instantiate the templates.
            for kind in ("service", "socket"):
                inst = os.path.join(unitdir, "pipecast@web." + kind)
                os.symlink("pipecast@." + kind, inst)
                units.append(inst)
            v = subprocess.run(["systemd-analyze", "verify", "--man=no"] + units,
                               capture_output=True, timeout=60)
            self.assertEqual(v.returncode, 0, v.stderr)
            self.assertEqual(v.stdout + v.stderr, b"")
        finally:
            shutil.rmtree(root)

    def test_security_exposure_at_most_2(self):
        for name in ("pipecast.service", "pipecast@.service"):
            with self.subTest(unit=name):
                unit = os.path.join(REPO, "systemd", name)
                r = subprocess.run(["systemd-analyze", "security", "--offline=yes",
                                    "--threshold=20", unit], capture_output=True, timeout=60)
                self.assertEqual(r.returncode, 0, r.stdout[-2000:])
                m = [ln for ln in r.stdout.decode().splitlines()
                     if "Overall exposure level" in ln]
                self.assertEqual(len(m), 1, r.stdout[-2000:])
                level = float(m[0].split(":")[1].split()[0])
                self.assertLessEqual(level, 2.0)

    def test_template_runtime_directory_alone(self):
        """One RuntimeDirectory= only: $RUNTIME_DIRECTORY is then the
        instance's own directory, where the daemon looks first."""
        text = open(os.path.join(REPO, "systemd", "pipecast@.service")).read()
        lines = [ln for ln in text.splitlines() if ln.startswith("RuntimeDirectory=")]
        self.assertEqual(lines, ["RuntimeDirectory=pipecast/%i"])
        self.assertIn("\nExecStart=/usr/local/sbin/pipecastd -c /etc/pipecast/%i.conf\n", text)
        sock = open(os.path.join(REPO, "systemd", "pipecast@.socket")).read()
        self.assertIn("\nListenStream=/run/pipecast/%i/stats.sock\n", sock)
        self.assertIn("\nFileDescriptorName=stats\n", sock)
        for conf in ("weblog.conf", "sensors.conf"):
            self.assertIn("\nsocket = systemd:stats\n",
                          open(os.path.join(REPO, "conf", conf)).read())

    def test_units_run_as_the_sysusers_user(self):
        users = open(os.path.join(REPO, "systemd", "pipecast.sysusers")).read()
        self.assertRegex(users, r"(?m)^u pipecast ")
        for name in ("pipecast.service", "pipecast@.service"):
            text = open(os.path.join(REPO, "systemd", name)).read()
            self.assertIn("\nUser=pipecast\n", text)
            self.assertNotIn("DynamicUser=", text.replace("not DynamicUser=", ""))

    def test_units_name_what_the_example_configuration_claims(self):
        conf = open(os.path.join(REPO, "conf", "pipecast.conf")).read()
        for unit, name in (("pipecast.socket", "clients"), ("pipecast-stats.socket", "stats")):
            text = open(os.path.join(REPO, "systemd", unit)).read()
            self.assertIn("FileDescriptorName=%s\n" % name, text)
            self.assertIn("systemd:%s" % name, conf)


def unit_settings(path):
    """KEY=VALUE lines of a unit file (later ones win)."""
    out = {}
    with open(path) as f:
        for ln in f:
            ln = ln.strip()
            if "=" in ln and not ln.startswith(("#", ";", "[")):
                k, v = ln.split("=", 1)
                out[k] = v
    return out


def doc_exec_commands():
    """The exec: commands the documentation shows: man pages, README and
    the demo configuration."""
    import re
    cmds = set()
    for rel in ("man/pipecast.conf.5", "man/pipecastd.8", "README.md", "conf/demo.conf"):
        with open(os.path.join(REPO, rel)) as f:
            for ln in f:
                m = re.search(r"input\s*=\s*exec:([^'\n]+)", ln)
                if m and not ln.startswith("."):       # not an mdoc macro line
                    cmds.add(m.group(1).strip())
    return sorted(cmds)


@unittest.skipUnless(os.geteuid() == 0 and shutil.which("unshare") and shutil.which("setpriv"),
                     "needs root, unshare and setpriv")
class SandboxExamples(unittest.TestCase):
    """Every exec: example of the docs runs under the shipped unit's
    sandbox, as far as it can be rebuilt here: a private /proc mounted as
    ProtectProc= and ProcSubset= say, a read-only root (ProtectSystem=strict),
    an unprivileged user without new privileges (User= or DynamicUser=,
    NoNewPrivileges=); nobody stands in for that user."""

    def sandboxed(self, cmd, seconds=2.5):
        unit = unit_settings(os.path.join(REPO, "systemd", "pipecast.service"))
        opts = []
        if unit.get("ProtectProc") in ("invisible", "noaccess"):
            opts.append("hidepid=" + unit["ProtectProc"])
        if unit.get("ProcSubset") == "pid":
            opts.append("subset=pid")
        self.assertEqual(unit.get("ProtectSystem"), "strict")
        # An unprivileged user either way: DynamicUser= or a system user.
        self.assertTrue(unit.get("DynamicUser") == "yes" or
                        unit.get("User") not in (None, "", "root"), unit)
        script = ("mount -t proc %s proc /proc && mount -o remount,bind,ro / && "
                  "exec setpriv --reuid=nobody --regid=nogroup --clear-groups "
                  "--no-new-privs timeout %s /bin/sh -c \"$0\""
                  % ("-o " + ",".join(opts) if opts else "", seconds))
        return subprocess.run(["unshare", "-m", "-p", "-f", "--propagation", "private",
                               "sh", "-c", script, cmd],
                              capture_output=True, text=True, timeout=30, cwd="/")

    def test_every_exec_example_runs(self):
        cmds = doc_exec_commands()
        self.assertIn("vmstat 1", cmds)
        for cmd in cmds:
            with self.subTest(cmd=cmd):
                r = self.sandboxed(cmd)
                # Done, or still running when the time was up (124), with output.
                self.assertIn(r.returncode, (0, 124), r.stderr)
                self.assertTrue(r.stdout.strip(), r.stderr)


class Install(unittest.TestCase):
    def test_install_uninstall_and_keep_configuration(self):
        dest = tempfile.mkdtemp(prefix="pctest-dest-")
        try:
            r = make("install", "DESTDIR=" + dest)
            self.assertEqual(r.returncode, 0, r.stderr)
            want = ["etc/pipecast/pipecast.conf", "usr/local/bin/pipecastctl",
                    "usr/local/sbin/pipecastd",
                    "usr/local/lib/systemd/system/pipecast-stats.socket",
                    "usr/local/lib/systemd/system/pipecast.service",
                    "usr/local/lib/systemd/system/pipecast.socket",
                    "usr/local/lib/systemd/system/pipecast@.service",
                    "usr/local/lib/systemd/system/pipecast@.socket",
                    "usr/local/lib/sysusers.d/pipecast.conf",
                    "usr/local/share/doc/pipecast/examples/weblog.conf",
                    "usr/local/share/doc/pipecast/examples/sensors.conf"]
            for p in want:
                self.assertTrue(os.path.isfile(os.path.join(dest, p)), p)
            mans = sorted(os.listdir(os.path.join(REPO, "man"))) if \
                os.path.isdir(os.path.join(REPO, "man")) else []
            for m in mans:
                self.assertTrue(os.path.isfile(os.path.join(
                    dest, "usr/local/share/man/man" + m[-1], m)), m)
            conf = os.path.join(dest, "etc/pipecast/pipecast.conf")
            with open(conf, "a") as f:
                f.write("# local change\n")
            r = make("install", "DESTDIR=" + dest)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertTrue(open(conf).read().endswith("# local change\n"))
            # The installed daemon accepts the installed configuration.
            bin_ = os.path.join(dest, "usr/local/sbin/pipecastd")
            p = subprocess.run([bin_, "-t", "-c", conf], capture_output=True, timeout=10)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertTrue(p.stdout.startswith(b"pipecastd: configuration OK\n"), p.stdout)
            r = make("uninstall", "DESTDIR=" + dest)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertFalse(os.path.exists(bin_))
            left = sorted(os.path.relpath(os.path.join(d, f), dest)
                          for d, _, files in os.walk(dest) for f in files)
            self.assertEqual(left, ["etc/pipecast/pipecast.conf"])
        finally:
            shutil.rmtree(dest)

    @unittest.skipUnless(HAVE_ACTIVATE and os.geteuid() == 0 and shutil.which("unshare"),
                         "needs root, unshare and systemd-socket-activate")
    def test_installed_daemon_serves_with_the_installed_configuration(self):
        """The example configuration as installed, its FIFO in /run/pipecast,
        the sockets passed as the units pass them. /run is a private tmpfs in
        a mount namespace, so nothing of the host is touched."""
        dest = tempfile.mkdtemp(prefix="pctest-dest-")
        try:
            self.assertEqual(make("install", "DESTDIR=" + dest).returncode, 0)
            bin_ = os.path.join(dest, "usr/local/sbin/pipecastd")
            conf = os.path.join(dest, "etc/pipecast/pipecast.conf")
            port = tcp_free_port()
            script = ("mount -t tmpfs none /run && mkdir -p /run/pipecast && "
                      "exec systemd-socket-activate -l 127.0.0.1:%d "
                      "-l /run/pipecast/stats.sock --fdname=clients:stats %s -c %s"
                      % (port, bin_, conf))
            p = subprocess.Popen(["unshare", "--mount", "--propagation", "private",
                                  "sh", "-c", script], stderr=subprocess.PIPE,
                                 start_new_session=True)
            try:
                c = wait_connect(port)
                # Write a record into the FIFO inside the namespace.
                w = subprocess.run(["nsenter", "-t", str(p.pid), "-m", "sh", "-c",
                                    "for i in 1 2 3 4 5 6 7 8 9 10; do "
                                    "[ -p /run/pipecast/input.fifo ] && break; sleep 0.2; done; "
                                    "echo hello > /run/pipecast/input.fifo"],
                                   capture_output=True, timeout=15)
                self.assertEqual(w.returncode, 0, w.stderr)
                self.assertEqual(recv_lines(c, 1, timeout=5), b"hello\n")
                c.close()
            finally:
                os.killpg(p.pid, signal.SIGTERM)
                try:
                    rc = p.wait(10)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
                    rc = p.wait(5)
            self.assertEqual(rc, 0, p.stderr.read())
        finally:
            shutil.rmtree(dest)


def tcp_free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_connect(port, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            return tcp_client(port)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


if __name__ == "__main__":
    unittest.main()
