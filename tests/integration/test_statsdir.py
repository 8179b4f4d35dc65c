"""Where the stats socket goes when [stats] socket is not set, and how its
directory is made (pipecast.conf(5) "[stats]")."""

import os
import pwd
import shutil
import stat
import subprocess
import tempfile
import unittest

from pctest import Daemon, binary, free_port, not_under_valgrind


def env_without(*names, **extra):
    env = dict(os.environ)
    for n in names:
        env.pop(n, None)
    env.update(extra)
    return env


CONF = "[clients]\nlisten = tcp:127.0.0.1:{port}\n[daemon]\nlog_level = info\n"


def nobody_binary(tmp):
    """A copy of the daemon that user nobody can run wherever the checkout is."""
    d = os.path.join(tmp, "bin")
    os.mkdir(d)
    os.chmod(tmp, 0o755)
    dst = os.path.join(d, "pipecastd")
    shutil.copy(binary(), dst)
    os.chmod(dst, 0o755)
    return dst


class StatsDirectory(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="pctest-statsdir-")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def test_runtime_directory_first(self):
        rt = os.path.join(self.tmp, "rt")
        env = env_without("XDG_RUNTIME_DIR", RUNTIME_DIRECTORY=rt + ":/elsewhere")
        with Daemon(CONF, env=env) as d:
            self.assertTrue(stat.S_ISSOCK(os.stat(os.path.join(rt, "stats.sock")).st_mode))
            self.assertEqual(stat.S_IMODE(os.stat(rt).st_mode), 0o755)
            self.assertEqual(d.stop(), 0)
        self.assertFalse(os.path.exists(os.path.join(rt, "stats.sock")))

    def test_xdg_runtime_dir_next(self):
        env = env_without("RUNTIME_DIRECTORY", XDG_RUNTIME_DIR=self.tmp)
        with Daemon(CONF, env=env) as d:
            sock = os.path.join(self.tmp, "pipecast", "stats.sock")
            self.assertTrue(stat.S_ISSOCK(os.stat(sock).st_mode))
            self.assertEqual(stat.S_IMODE(os.stat(os.path.dirname(sock)).st_mode), 0o755)
            self.assertEqual(d.stop(), 0)

    def test_configured_path_gets_missing_parents(self):
        sock = os.path.join(self.tmp, "a", "b", "stats.sock")
        conf = CONF + "[stats]\nsocket = %s\nmode = 0640\n" % sock
        with Daemon(conf) as d:
            st = os.stat(sock)
            self.assertTrue(stat.S_ISSOCK(st.st_mode))
            self.assertEqual(stat.S_IMODE(st.st_mode), 0o640)
            self.assertEqual(stat.S_IMODE(os.stat(os.path.dirname(sock)).st_mode), 0o755)
            self.assertEqual(d.stop(), 0)

    @unittest.skipUnless(os.geteuid() == 0 and shutil.which("setpriv"), "needs root")
    @not_under_valgrind("runs a copy of the daemon as nobody; the valgrind wrapper "
                        "finds the daemon relative to itself")
    def test_tmp_directory_of_another_user_is_refused(self):
        nobody = pwd.getpwnam("nobody")
        private = "/tmp/pipecast-%d" % nobody.pw_uid
        if os.path.lexists(private):
            self.skipTest("%s exists already" % private)
        os.mkdir(private, 0o700)          # owned by root, not by nobody
        try:
            env = env_without("RUNTIME_DIRECTORY", "XDG_RUNTIME_DIR")
            p = subprocess.run(["setpriv", "--reuid=%d" % nobody.pw_uid,
                                "--regid=%d" % nobody.pw_gid, "--clear-groups",
                                nobody_binary(self.tmp), "-o", "clients.listen=tcp:127.0.0.1:%d" % free_port()],
                               stdin=subprocess.DEVNULL, capture_output=True,
                               env=env, timeout=10)
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertIn(b"not a directory of this user", p.stderr)
        finally:
            os.rmdir(private)

    @unittest.skipUnless(os.geteuid() == 0 and shutil.which("setpriv"), "needs root")
    @not_under_valgrind("runs a copy of the daemon as nobody; the valgrind wrapper "
                        "finds the daemon relative to itself")
    def test_tmp_directory_is_made_private(self):
        nobody = pwd.getpwnam("nobody")
        private = "/tmp/pipecast-%d" % nobody.pw_uid
        if os.path.lexists(private):
            self.skipTest("%s exists already" % private)
        try:
            env = env_without("RUNTIME_DIRECTORY", "XDG_RUNTIME_DIR")
            p = subprocess.run(["setpriv", "--reuid=%d" % nobody.pw_uid,
                                "--regid=%d" % nobody.pw_gid, "--clear-groups",
                                nobody_binary(self.tmp), "-o", "clients.listen=tcp:127.0.0.1:%d" % free_port()],
                               stdin=subprocess.DEVNULL, capture_output=True,
                               env=env, timeout=10)
            self.assertEqual(p.returncode, 0, p.stderr)   # stdin at EOF: exits
            st = os.lstat(private)
            self.assertEqual(stat.S_IMODE(st.st_mode), 0o700)
            self.assertEqual(st.st_uid, nobody.pw_uid)
        finally:
            shutil.rmtree(private, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
