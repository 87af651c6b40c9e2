# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
"""sshd_fixture.py: a throwaway sshd reachable over AF_UNIX, directly and through an emulated
Firecracker vsock multiplexer, for the Python tests (tests/e2e, tests/install).

tests/e2e/sshd_fixture.sh is its shell twin, kept for what runs without Python (tests/deb's
in_chroot.sh inside a bare Debian chroot) and for tools/demo.sh.

Fixture.start(scenario) creates, in fixture.dir:
  host_ed25519{,.pub}, client_ed25519{,.pub}, authorized_keys, sshd_config, known_hosts,
  ssh_config, sshd.sock (unix_inetd running `sshd -i`), sshd.log (sshd -E),
  vm.sock + vm.log (mux_emulator, SCENARIO, backend 22 -> sshd.sock).
ssh_config: `Host *` runs `ProxyCommand SSH_PROXY %n %p` with `ProxyUseFdpass yes`; host keys are
checked strictly against known_hosts under the fixed HostKeyAlias HOST_KEY_ALIAS (the hosts are
spelled many ways). Two aliases with a fixed target exist for tools that cannot take a "/" in a
host name (scp treats "host/..." as a local path): vm-unix -> unix<sshd.sock>, vm-mux ->
vsock-mux<vm.sock>.

Daemons (the same for the tests' own listeners) starts a daemon that writes a --ready file and
waits for it; stop() ends them all (TERM, KILL after 3 s). Every wait here is bounded.
"""

import glob
import os
import pwd
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

import check

HOST_KEY_ALIAS = "ssh-proxy-e2e"
SSHD = "/usr/sbin/sshd"
# sockaddr_un holds 107 bytes: the fixture directory leaves room for its longest socket name.
_SOCKET_ROOM = 20

# sshd_config, as (keyword, value) pairs; {d} is the fixture directory, {user} the user.
_SSHD_OPTIONS = (
    ("HostKey", "{d}/host_ed25519"), ("AuthorizedKeysFile", "{d}/authorized_keys"),
    ("StrictModes", "no"), ("UsePAM", "no"), ("PidFile", "none"), ("AllowUsers", "{user}"),
    ("PubkeyAuthentication", "yes"), ("PasswordAuthentication", "no"),
    ("KbdInteractiveAuthentication", "no"), ("PermitRootLogin", "prohibit-password"),
    ("AuthenticationMethods", "publickey"), ("MaxAuthTries", "3"), ("LoginGraceTime", "30"),
    ("PrintMotd", "no"), ("PrintLastLog", "no"), ("UseDNS", "no"), ("X11Forwarding", "no"),
    ("AllowAgentForwarding", "no"), ("AllowTcpForwarding", "no"), ("PermitTunnel", "no"),
    ("Subsystem", "sftp internal-sftp"), ("LogLevel", "VERBOSE"),
)

# The `Host *` block of ssh_config after its ProxyCommand and ProxyUseFdpass.
_SSH_OPTIONS = (
    ("CheckHostIP", "no"), ("HostKeyAlias", HOST_KEY_ALIAS),
    ("UserKnownHostsFile", "{d}/known_hosts"), ("GlobalKnownHostsFile", "/dev/null"),
    ("StrictHostKeyChecking", "yes"), ("UpdateHostKeys", "no"),
    ("IdentityFile", "{d}/client_ed25519"), ("IdentitiesOnly", "yes"), ("IdentityAgent", "none"),
    ("PasswordAuthentication", "no"), ("KbdInteractiveAuthentication", "no"),
    ("BatchMode", "yes"), ("User", "{user}"), ("LogLevel", "ERROR"), ("ConnectTimeout", "10"),
    ("ServerAliveInterval", "10"), ("ServerAliveCountMax", "3"), ("ControlMaster", "no"),
    ("ControlPath", "none"), ("ForwardAgent", "no"), ("ForwardX11", "no"),
    ("ClearAllForwardings", "yes"), ("SendEnv", "-*"),
)


class FixtureError(Exception):
    """The fixture could not start: the message says what is missing or what failed."""


def log(message):
    """One "fixture: ..." line on stderr."""
    print(f"fixture: {message}", file=sys.stderr, flush=True)


def quote_proxy_arg(word):
    """word quoted for the shell ssh runs a ProxyCommand with, '%' doubled so that ssh's %
    expansion leaves it alone."""
    return shlex.quote(word).replace("%", "%%")



class Daemons:
    """Background daemons that announce themselves with a --ready file."""

    def __init__(self):
        self.procs = []

    def start(self, argv, ready, name, seconds=5):
        """Starts argv and waits (seconds at most) for the file `ready`. Raises FixtureError when
        the daemon exits first or is not ready in time; it is stopped with the others."""
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL)  # pylint: disable=R1732
        self.procs.append(proc)
        if check.wait_for(lambda: os.path.exists(ready) or proc.poll() is not None, seconds):
            if os.path.exists(ready):
                return proc
            raise FixtureError(f"{name} exited before it was ready")
        raise FixtureError(f"{name} was not ready after {seconds} s")

    def stop(self, grace_s=3):
        """TERM to each daemon, up to grace_s for all to end, then KILL; all are reaped. Safe to
        call more than once."""
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + grace_s
        for proc in self.procs:
            try:
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs = []


class Fixture:
    """One sshd behind unix_inetd and its multiplexers. Attributes after start(): dir, sshd_sock,
    vm_sock, vm_log, sshd_log, ssh_config, user."""

    def __init__(self, ssh_proxy, mux_emulator, unix_inetd, lifetime=300, ssh_timeout=60,
                 base=None):
        self.ssh_proxy = str(ssh_proxy)
        self.mux_emulator = str(mux_emulator)
        self.unix_inetd = str(unix_inetd)
        self.lifetime = lifetime
        self.ssh_timeout = ssh_timeout
        self.base = base or os.environ.get("TEST_TMPDIR") or os.environ.get("TMPDIR") or "/tmp"
        self.daemons = Daemons()
        self.dir = None
        self.user = pwd.getpwuid(os.getuid()).pw_name

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.stop()

    def start(self, scenario="firecracker"):
        """Keys, sshd_config, ssh_config, the sshd behind unix_inetd and the multiplexer vm.sock
        with SCENARIO. Raises FixtureError (and leaves stop() to the caller) on any failure."""
        for tool in (self.mux_emulator, self.unix_inetd, SSHD, "ssh", "ssh-keygen"):
            if not shutil.which(tool):
                raise FixtureError(f"missing {tool} (needs openssh-server and openssh-client)")
        self._make_dir()
        d = self.dir
        self.sshd_sock, self.vm_sock = f"{d}/sshd.sock", f"{d}/vm.sock"
        self.vm_log, self.sshd_log = f"{d}/vm.log", f"{d}/sshd.log"
        self.ssh_config = f"{d}/ssh_config"
        for who in ("host", "client"):
            r = check.run(["ssh-keygen", "-q", "-N", "", "-t", "ed25519", "-C", f"fixture-{who}",
                           "-f", f"{d}/{who}_ed25519"], timeout=30)
            if r.rc != 0:
                raise FixtureError(f"ssh-keygen: {r.detail()}")
        shutil.copyfile(f"{d}/client_ed25519.pub", f"{d}/authorized_keys")
        key_type, key = _read(f"{d}/host_ed25519.pub").split()[:2]
        _write(f"{d}/known_hosts", f"{HOST_KEY_ALIAS} {key_type} {key}\n")
        _write(f"{d}/sshd_config",
               "# Written by sshd_fixture.py; sshd runs in inetd mode (sshd -i) behind "
               "unix_inetd.\n" + self._options(_SSHD_OPTIONS, ""))
        if os.getuid() == 0:
            # sshd's pre-auth privilege separation chroots there when started as root.
            os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        r = check.run([SSHD, "-t", "-f", f"{d}/sshd_config"], timeout=30)
        if r.rc != 0:
            raise FixtureError(f"sshd rejects the generated config: {(r.out + r.err).strip()}")
        _write(self.ssh_config, self._ssh_config_text())
        self.daemons.start(
            [self.unix_inetd, f"--listen={self.sshd_sock}", f"--ready={d}/sshd.ready",
             f"--lifetime={self.lifetime}", f"--stderr={d}/inetd.log", "--",
             SSHD, "-i", "-f", f"{d}/sshd_config", "-E", self.sshd_log],
            f"{d}/sshd.ready", "unix_inetd")
        self.start_mux("vm", scenario)

    def start_mux(self, name, scenario):
        """Another mux_emulator at DIR/NAME.sock (log DIR/NAME.log, created empty) with guest port
        22 bridged to the sshd. Raises FixtureError when it does not come up."""
        d = self.dir
        self.daemons.start(
            [self.mux_emulator, f"--listen={d}/{name}.sock", f"--scenario={scenario}",
             f"--backend=22:{d}/sshd.sock", f"--log={d}/{name}.log", f"--ready={d}/{name}.ready",
             f"--lifetime={self.lifetime}"],
            f"{d}/{name}.ready", f"mux_emulator {name}")
        with open(f"{d}/{name}.log", "a", encoding="utf-8"):
            pass

    def ssh(self, *args, timeout=None, **kwargs):
        """ssh -F ssh_config ARGS, bounded by ssh_timeout seconds (or timeout): a check.Result."""
        return check.run(["ssh", "-F", self.ssh_config, *args],
                         timeout=timeout or self.ssh_timeout, **kwargs)

    def scp(self, *args):
        """scp -q -F ssh_config ARGS, bounded like ssh()."""
        return check.run(["scp", "-q", "-F", self.ssh_config, *args], timeout=self.ssh_timeout)

    def save_logs(self):
        """Under Bazel, copies the logs and configs to TEST_UNDECLARED_OUTPUTS_DIR."""
        out = os.environ.get("TEST_UNDECLARED_OUTPUTS_DIR")
        if not out or not self.dir:
            return
        for path in glob.glob(f"{self.dir}/*.log") + glob.glob(f"{self.dir}/*_config"):
            shutil.copy(path, out)
        print(f"logs copied to {out}", file=sys.stderr)

    def stop(self):
        """Stops the daemons and removes the directory (FIXTURE_KEEP=1 keeps it). Safe to call
        more than once."""
        self.daemons.stop()
        if self.dir and os.path.isdir(self.dir):
            if os.environ.get("FIXTURE_KEEP") == "1":
                log(f"kept {self.dir}")
            else:
                shutil.rmtree(self.dir)
        self.dir = None

    def _make_dir(self):
        self.dir = tempfile.mkdtemp(prefix="sshfx.", dir=self.base)
        if len(self.dir) + _SOCKET_ROOM > 107:
            os.rmdir(self.dir)
            self.dir = tempfile.mkdtemp(prefix="sshfx.", dir="/tmp")
            log(f"{self.base} is too long for socket paths; using {self.dir}")

    def _options(self, options, indent):
        return "".join(f"{indent}{key} {value.format(d=self.dir, user=self.user)}\n"
                       for key, value in options)

    def _ssh_config_text(self):
        proxy = quote_proxy_arg(self.ssh_proxy)
        return (f"# Written by sshd_fixture.py. Use with: ssh -F {self.ssh_config} HOST COMMAND\n"
                f"Host vm-unix\n"
                f"  ProxyCommand {proxy} {quote_proxy_arg('unix' + self.sshd_sock)} %p\n"
                f"Host vm-mux\n"
                f"  ProxyCommand {proxy} {quote_proxy_arg('vsock-mux' + self.vm_sock)} %p\n"
                f"Host *\n  ProxyCommand {proxy} %n %p\n  ProxyUseFdpass yes\n"
                + self._options(_SSH_OPTIONS, "  "))


def _read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def _write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
