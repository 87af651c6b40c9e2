#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
"""install_test.py: tools/install.sh into temporary roots, and real ssh through the installed
ssh_config fragment (ssh -F with an Include of it) to a throwaway sshd.

  install_test.py INSTALL_SH SSH_PROXY MUX_EMULATOR UNIX_INETD

Checks: a staged install (--destdir, and $DESTDIR) writes exactly the binary, the man page and the
fragment, with the final path in the fragment; --dry-run writes nothing; unsafe prefixes are
refused; a real install into a temporary prefix and sysconfdir is used by ssh for unix/...,
unix%... and vsock-mux/... to a socket path with upper-case letters (which %h would break, shown
by a control run) and with a glob character (which the quoted '%n' keeps from the shell, shown by
a control run); ssh without ProxyUseFdpass gets a relay; uninstall removes exactly what install
wrote and refuses files it did not write. Never opens AF_VSOCK. Prints "PASS name" / "FAIL name:
why" per check and "N passed, N failed, N skipped"; exits 1 if anything failed.
"""

import filecmp
import os
import random
import re
import shutil
import sys
import tempfile

import check
import sshd_fixture

FRAGMENT = "etc/ssh/ssh_config.d/20-ssh-proxy.conf"


def files_below(root):
    """The regular files below root, as sorted "./relative" paths (what `find . -type f | sort`
    lists)."""
    found = []
    for top, _, names in os.walk(root):
        found += ["./" + os.path.relpath(os.path.join(top, n), root) for n in names
                  if os.path.isfile(os.path.join(top, n))]
    return sorted(found)


def lines(path):
    """The lines of a text file, or none when it cannot be read."""
    try:
        with open(path, encoding="utf-8") as f:
            return f.read().splitlines()
    except OSError:
        return []


def mode(path):
    return format(os.stat(path).st_mode & 0o7777, "o")


class Install:
    """tools/install.sh and the checks."""

    def __init__(self, install_sh, binary, t):
        self.install_sh = install_sh
        self.bin = binary
        self.t = t
        self.repo = os.path.dirname(os.path.dirname(install_sh))
        self.checks = check.Checks()

    def run(self, *args, env=None):
        return check.run([self.install_sh, *args], timeout=60, env=env)

    def staged(self):
        """A staged install (--destdir, then $DESTDIR), --dry-run, unsafe prefixes."""
        c, s, b = self.checks, f"{self.t}/stage", self.bin
        r = self.run(f"--binary={b}", "--prefix=/usr", f"--destdir={s}")
        files = "".join(f + " " for f in files_below(s))
        want = (f"./{FRAGMENT} ./usr/libexec/ssh-proxy ./usr/share/man/man1/ssh-proxy.1 ")
        c.expect("staged_install_writes_three_files", r.rc == 0 and files == want,
                 lambda: f"files [{files}], want [{want}]; {r.detail()}")
        man = f"{s}/usr/share/man/man1/ssh-proxy.1"
        try:
            same = (filecmp.cmp(b, f"{s}/usr/libexec/ssh-proxy", shallow=False)
                    and filecmp.cmp(f"{self.repo}/doc/ssh-proxy.1", man, shallow=False)
                    and [mode(f"{s}/usr/libexec/ssh-proxy"), mode(man), mode(f"{s}/{FRAGMENT}")]
                    == ["755", "644", "644"])
        except OSError:
            same = False
        c.expect("staged_install_contents_and_modes", same,
                 "binary or man page differ, or modes are not 755/644")
        frag = lines(f"{s}/{FRAGMENT}")
        c.expect("staged_fragment_names_the_final_path",
                 "    ProxyCommand /usr/libexec/ssh-proxy '%n' %p" in frag
                 and not any(s in x or "@SSH_PROXY@" in x for x in frag)
                 and "# Installed by ssh-proxy's tools/install.sh." in frag, "\n".join(frag))
        r = check.run(["man", "-l", man], timeout=60, env={**os.environ, "MANWIDTH": "80"})
        out = r.out + r.err
        c.expect("installed_man_page_renders",
                 r.rc == 0 and check.in_order(out, "ssh-proxy", "ProxyUseFdpass"), out[:300])
        r = self.run("uninstall", "--prefix=/usr", f"--destdir={s}")
        left = len(files_below(s))
        c.expect("staged_uninstall_removes_them", r.rc == 0 and left == 0,
                 lambda: f"{left} files left; {r.detail()}")

        # DESTDIR from the environment, as packaging tools set it.
        s2 = f"{self.t}/stage2"
        r = self.run(f"--binary={b}", "--prefix=/usr",
                     env={**os.environ, "DESTDIR": s2})
        c.expect("destdir_from_environment",
                 r.rc == 0 and os.access(f"{s2}/usr/libexec/ssh-proxy", os.X_OK)
                 and os.path.isfile(f"{s2}/{FRAGMENT}"), r.detail)
        r = self.run(f"--binary={b}", "--prefix=/usr", f"--destdir={self.t}/dry", "--dry-run")
        c.expect("dry_run_writes_nothing",
                 r.rc == 0 and not os.path.exists(f"{self.t}/dry")
                 and "/usr/libexec/ssh-proxy" in r.out, r.detail)
        bad = False
        for prefix in (f"{self.t}/a b", "usr/local", f"{self.t}/x'y", f"{self.t}/x%y",
                       f"{self.t}/../etc", f"{self.t}//x"):
            r = self.run(f"--binary={b}", f"--prefix={prefix}", f"--destdir={self.t}/bad")
            if not (r.rc == 1 and r.err.startswith("install.sh: ")
                    and not os.path.exists(f"{self.t}/bad")):
                bad = True
                c.fail("refuses_unsafe_prefix", f"prefix [{prefix}]: {r.detail()}")
        if not bad:
            c.ok("refuses_unsafe_prefix")

    def used_by_ssh(self, fx, cfg, installed):
        """Real ssh through the installed fragment, and the two controls."""
        c, sock = self.checks, fx.sshd_sock
        r = check.run(["ssh", "-G", "-F", cfg, f"unix{sock}"], timeout=30)
        c.expect("ssh_G_uses_the_installed_fragment",
                 f"proxycommand {installed} '%n' %p" in r.out and "proxyusefdpass yes" in r.out,
                 lambda: "\n".join(x for x in r.out.splitlines() if x.startswith("proxy")))

        def check_ssh(name, host, *opts):
            token = f"tok-{random.randrange(32768)}{random.randrange(32768)}"
            r = check.run(["ssh", "-F", cfg, *opts, host, "echo", token], timeout=30)
            c.expect(name, r.rc == 0 and r.out.rstrip("\n") == token,
                     lambda: f"ssh {' '.join(opts)} {host}: {r.detail()}")

        if not re.search("[A-Z]", fx.dir):
            c.fail("mixed_case_path", f"fixture dir {fx.dir} has no upper-case letter")
        check_ssh("ssh_unix_mixed_case_path", f"unix{sock}")
        check_ssh("ssh_unix_percent", f"unix%{sock[1:]}")
        check_ssh("ssh_vsock_mux", f"vsock-mux{fx.vm_sock}")
        log = "\n".join(lines(fx.vm_log))
        c.expect("mux_saw_one_connect", log == "CONNECT 22\\n", f"mux log [{log}]")
        # Without fd passing the installed binary relays.
        check_ssh("ssh_without_fdpass_relays", f"unix{sock}", "-o", "ProxyUseFdpass=no")

        # Control: %h (what systemd's fragment uses) is lowercased by ssh and misses the socket.
        r = check.run(["ssh", "-F", cfg, "-o", f"ProxyCommand={installed} %h %p", f"unix{sock}",
                       "true"], timeout=30)
        c.expect("control_h_lowercases_the_path",
                 r.rc == 255 and f"unix{sock.lower()}" in r.err, r.detail)

        # A glob character in the host: the quoted '%n' reaches ssh-proxy as typed (no such
        # socket), while an unquoted %n would let the shell expand it against files in the current
        # directory: here a decoy tree below T/cwd makes "unix/.../sshd.soc?" expand to the real
        # socket's name.
        cwd = f"{self.t}/cwd"
        os.makedirs(f"{cwd}/unix{fx.dir}")
        open(f"{cwd}/unix{fx.dir}/sshd.sock", "w", encoding="utf-8").close()
        globbed = f"unix{fx.dir}/sshd.soc?"
        r = check.run(["ssh", "-F", cfg, globbed, "true"], timeout=30, cwd=cwd)
        out = r.out + r.err
        c.expect("quoted_n_keeps_glob_from_shell",
                 r.rc == 255 and check.in_order(out, "sshd.soc?", "ENOENT"),
                 f"rc={r.rc} output=[{out.rstrip()}]")
        token = f"glob-{random.randrange(32768)}"
        r = check.run(["ssh", "-F", cfg, "-o", f"ProxyCommand={installed} %n %p", globbed,
                       "echo", token], timeout=30, cwd=cwd)
        out = (r.out + r.err).rstrip("\n")
        c.expect("control_unquoted_n_is_globbed", r.rc == 0 and out == token,
                 f"rc={r.rc} output=[{out}]")

    def uninstall(self, root):
        """uninstall removes exactly what install wrote, and refuses a fragment it did not
        write."""
        c = self.checks
        args = ("uninstall", f"--prefix={root}/usr", f"--sysconfdir={root}/etc")
        r = self.run(*args)
        left = len(files_below(root))
        c.expect("uninstall_removes_exactly_the_files",
                 r.rc == 0 and left == 0 and os.path.isdir(f"{root}/etc/ssh/ssh_config.d"),
                 lambda: f"{left} files left; {r.detail()}")
        os.makedirs(f"{root}/etc/ssh/ssh_config.d", exist_ok=True)
        with open(f"{root}/{FRAGMENT}", "w", encoding="utf-8") as f:
            f.write("Host mine\n")
        r = self.run(*args)
        c.expect("uninstall_keeps_a_foreign_fragment",
                 r.rc != 0 and os.path.isfile(f"{root}/{FRAGMENT}")
                 and "not written by tools/install.sh" in r.err, r.detail)


def main():
    install_sh, binary, mux_emulator, unix_inetd = check.paths_from_argv(
        "INSTALL_SH", "SSH_PROXY", "MUX_EMULATOR", "UNIX_INETD")
    # A short base (socket paths must fit sun_path); the names below it have upper-case letters.
    t = tempfile.mkdtemp(prefix="ssh-proxy-install.", dir="/tmp")
    os.mkdir(f"{t}/VM-Dir")
    # The fixture's own ProxyCommand must never run: the fragment, included first, decides (ssh
    # keeps the first value it reads).
    fx = sshd_fixture.Fixture("/nonexistent/fixture-proxy-must-not-run", mux_emulator,
                              unix_inetd, lifetime=120, ssh_timeout=30, base=f"{t}/VM-Dir")
    try:
        return run_checks(Install(install_sh, binary, t), fx)
    finally:
        fx.stop()
        shutil.rmtree(t)


def run_checks(inst, fx):
    """Every check, in the order of the shell test this replaced; returns the exit status."""
    c = inst.checks
    inst.staged()
    root = f"{inst.t}/Root"
    r = inst.run(f"--binary={inst.bin}", f"--prefix={root}/usr", f"--sysconfdir={root}/etc")
    installed = f"{root}/usr/libexec/ssh-proxy"
    fragment = f"{root}/{FRAGMENT}"
    if not c.expect("install_into_temporary_root",
                    r.rc == 0 and os.access(installed, os.X_OK)
                    and f"    ProxyCommand {installed} '%n' %p" in lines(fragment), r.detail):
        c.summary()
        return 1
    try:
        fx.start("firecracker")
    except sshd_fixture.FixtureError as e:
        sshd_fixture.log(e)
        c.fail("fixture_start", "could not start sshd and the mux emulator")
        c.summary()
        return 1
    cfg = f"{inst.t}/ssh_config"
    with open(cfg, "w", encoding="utf-8") as f:
        f.write(f"Include {fragment}\n" + "\n".join(lines(fx.ssh_config)) + "\n")
    inst.used_by_ssh(fx, cfg, installed)
    fx.stop()
    inst.uninstall(root)
    return c.summary()


if __name__ == "__main__":
    sys.exit(main())
