#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
"""first_day_test.py: the mistakes a new user makes on the first day, each run on the real binary,
asserting the exit code and what the one line on stderr says (issue "first contact"):
  a path that exists but is no socket (file, directory, FIFO, device, symlinks to them),
  permission denied on the socket or on a directory on the way (run as nobody),
  .host without /run/ssh-unix-local/socket,
  vsock-mux/ pointed at an sshd's own socket (it answers with an SSH banner).
The did-you-mean messages of the grammar are in tests/cli_binary_test.cc.

  first_day_test.py SSH_PROXY UNIX_INETD
Prints PASS/FAIL/SKIP per case and "N passed, N failed, N skipped".
"""

import os
import shutil
import sys
import tempfile

import check
import sshd_fixture

NOBODY = 65534


class FirstDay:
    """The checks, the proxy's command line (plain, or as nobody) and the listeners."""

    def __init__(self, proxy, inetd, tmp):
        self.checks = check.Checks()
        self.argv = [proxy]
        self.env = None
        self.inetd = inetd
        self.tmp = tmp
        self.daemons = sshd_fixture.Daemons()

    def expect(self, name, code, subs, *args):
        """Runs ssh-proxy ARGS (stdin /dev/null, 10 s at most); checks its exit code, that stdout
        is empty and stderr one "ssh-proxy: " line, and that it contains every string of subs."""
        r = check.run([*self.argv, *args], timeout=10, env=self.env)
        err = r.err.rstrip("\n")
        if r.rc != code:
            self.checks.fail(name, f"exit {r.rc}, expected {code}; stderr [{err}]")
            return
        if r.out or r.err.count("\n") != 1 or not err.startswith("ssh-proxy: "):
            self.checks.fail(name, "expected one ssh-proxy: line on stderr and nothing on stdout; "
                             f"got [{r.out.rstrip(chr(10))}] [{err}]")
            return
        for s in subs:
            if s not in err:
                self.checks.fail(name, f"stderr [{err}] does not say [{s}]")
                return
        self.checks.ok(f"{name}: {err}")

    def listen(self, sock, ready, *command):
        """unix_inetd on sock running command per connection; stops the test if it does not
        start."""
        self.daemons.start([self.inetd, f"--listen={sock}", f"--ready={ready}", "--lifetime=60",
                            "--", *command], ready, f"unix_inetd {sock}")

    def as_nobody(self):
        """From here on ssh-proxy runs as nobody (setpriv). A coverage build writes its profile
        at exit: nobody cannot write Bazel's profile directory, and the runtime's complaint would
        be a second line on stderr, so those runs' profiles go to a directory nobody can write."""
        profiles = f"{self.tmp}/profiles"
        os.mkdir(profiles)
        os.chmod(profiles, 0o1777)
        self.env = dict(os.environ)
        if self.env.get("LLVM_PROFILE_FILE"):
            self.env["LLVM_PROFILE_FILE"] = f"{profiles}/%p.profraw"
        self.argv = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                     *self.argv]

    def as_self(self):
        """From here on ssh-proxy runs as this test's user again."""
        self.argv, self.env = self.argv[-1:], None


def not_a_socket(t, d):
    """A path that exists but is not a socket: exit 69 with what it is."""
    open(f"{d}/file", "w", encoding="utf-8").close()
    os.mkdir(f"{d}/dir")
    os.mkfifo(f"{d}/fifo")
    for name, to in (("link-to-file", "file"), ("link-to-dir", "dir"), ("link-to-fifo", "fifo"),
                     ("dangling", "missing")):
        os.symlink(to, f"{d}/{name}")
    rel = d[1:]
    for kind in ("unix", "vsock-mux"):
        t.expect(f"{kind}/ to a regular file", 69, [f"{d}/file is a regular file, not a socket"],
                 f"{kind}/{rel}/file", "22")
        t.expect(f"{kind}/ to a directory", 69, [f"{d}/dir is a directory, not a socket"],
                 f"{kind}/{rel}/dir", "22")
    t.expect("unix/ to a FIFO", 69, [f"{d}/fifo is a FIFO (named pipe), not a socket"],
             f"unix/{rel}/fifo", "22")
    t.expect("unix/ to a character device", 69,
             ["/dev/null is a character device, not a socket"], "unix/dev/null", "22")
    for to, name, kind in (("file", "file", "a regular file"), ("dir", "directory", "a directory"),
                           ("fifo", "FIFO", "a FIFO (named pipe)")):
        t.expect(f"unix/ to a symlink to a {name}", 69,
                 [f"{d}/link-to-{to} is a symlink to {kind}, not a socket"],
                 f"unix/{rel}/link-to-{to}", "22")
    t.expect("unix/ to a dangling symlink", 69, [f"{d}/dangling is a symlink to a missing file"],
             f"unix/{rel}/dangling", "22")
    # Nothing there at all keeps the plain errno.
    t.expect("unix/ to nothing", 69,
             [f"cannot connect to unix/{rel}/none: No such file or directory (ENOENT)"],
             f"unix/{rel}/none", "22")
    # A path longer than sun_path (107 bytes) takes the O_PATH route: the same diagnosis.
    long = f"{d}/{'x' * 120}"
    open(long, "w", encoding="utf-8").close()
    t.expect("unix/ to a regular file over 107 bytes", 69,
             [f"{long} is a regular file, not a socket"], f"unix/{long[1:]}", "22")
    os.symlink("missing", f"{long}-dangling")
    t.expect("unix/ to a dangling symlink over 107 bytes", 69,
             [f"{long}-dangling is a symlink to a missing file"], f"unix/{long[1:]}-dangling", "22")
    t.expect("unix/ to nothing over 107 bytes", 69,
             [f"cannot connect to unix/{long[1:]}-none: open(O_PATH): No such file or directory "
              "(ENOENT)"], f"unix/{long[1:]}-none", "22")


def permission_denied(t, tmp):
    """Permission denied: which path, its owner and mode (as nobody; root is never denied)."""
    if os.getuid() != 0:
        t.checks.skip("permission denied", "needs root to run ssh-proxy as nobody")
        return
    if not shutil.which("setpriv"):
        t.checks.skip("permission denied", "setpriv (util-linux) is not installed")
        return
    p = f"{tmp}/perm"
    os.makedirs(f"{p}/locked/inner")
    os.makedirs(f"{p}/open")
    t.listen(f"{p}/locked/inner/s", f"{p}/locked.ready", "/bin/true")
    t.listen(f"{p}/open/s", f"{p}/open.ready", "/bin/true")
    for path in (p, f"{p}/open", f"{p}/locked/inner"):
        os.chmod(path, 0o755)
    os.chmod(f"{p}/locked", 0o700)
    os.chmod(f"{p}/open/s", 0o600)
    t.as_nobody()
    locked = f"no search permission on the directory {p}/locked (owner uid 0, gid 0, mode 0700)"
    t.expect("EACCES on a directory on the way", 71, [f"permission denied: {locked}"],
             f"unix/{p[1:]}/locked/inner/s", "22")
    t.expect("EACCES on the socket", 71,
             [f"permission denied: no write permission on the socket {p}/open/s (owner uid 0, "
              "gid 0, mode 0600)"], f"unix/{p[1:]}/open/s", "22")
    t.expect("EACCES through vsock-mux/", 71,
             [f"permission denied: no write permission on the socket {p}/open/s"],
             f"vsock-mux/{p[1:]}/open/s", "22")
    t.expect("EACCES over 107 bytes", 71, [f"permission denied: {locked}"],
             f"unix/{p[1:]}/locked/inner/{'y' * 120}", "22")
    t.as_self()


def local_host(t):
    """.host without its socket."""
    if os.path.exists("/run/ssh-unix-local/socket"):
        t.checks.skip(".host without its socket", "this machine has /run/ssh-unix-local/socket")
        return
    for h in (".host", "machine/.host"):
        t.expect(f"{h} without its socket", 69,
                 ["cannot connect to .host (unix/run/ssh-unix-local/socket): No such file or "
                  "directory (ENOENT)", "sshd-unix-local.socket", "systemd 256 and later"],
                 h, "22")


def mux_at_sshd(t, d):
    """vsock-mux/ pointed at an sshd."""
    banner = "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3"
    t.listen(f"{d}/sshd.sock", f"{d}/sshd.ready", "/bin/sh", "-c", f"echo '{banner}'; sleep 5")
    t.expect("vsock-mux/ to an sshd", 76,
             [f'it answered with an SSH banner ("{banner}")',
              "this looks like an sshd, not a multiplexer", f"write unix/{d[1:]}/sshd.sock"],
             f"vsock-mux/{d[1:]}/sshd.sock", "22")


def main():
    proxy, inetd = check.paths_from_argv("SSH_PROXY", "UNIX_INETD")
    # Below /tmp, not TEST_TMPDIR: socket paths must fit sun_path (107 bytes), and the messages
    # are checked for the short-path route; the O_PATH route of longer paths has a case of its
    # own.
    tmp = tempfile.mkdtemp(prefix="first-day.", dir="/tmp")
    os.chmod(tmp, 0o755)
    t = FirstDay(proxy, inetd, tmp)
    try:
        d = f"{tmp}/things"
        os.mkdir(d)
        not_a_socket(t, d)
        permission_denied(t, tmp)
        local_host(t)
        mux_at_sshd(t, d)
    except sshd_fixture.FixtureError as e:
        t.checks.fail("listener", str(e))
    finally:
        t.daemons.stop()
        shutil.rmtree(tmp)
    return t.checks.summary()


if __name__ == "__main__":
    sys.exit(main())
