#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
"""guest.py: a real guest under QEMU for the Python tests of tests/vm, booted by tests/vm/vm.sh.

vm.sh stays the one place that fetches, builds and boots a guest (tools/demo.sh sources it too);
Guest.start runs its vm_start in bash and reads back what it set. Everything after the boot (ssh,
host-side listeners, teardown, the leftover check) is here.

Every process a Guest starts runs under no-vsock and `timeout VM_LIFETIME`, so nothing outlives a
test that dies; stop() ends them (TERM, then KILL after 5 s) and removes the guest's directory.
"""

import os
import pathlib
import shlex
import signal
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT / "tests" / "testing"))

import check  # pylint: disable=wrong-import-position

VM_SH = HERE / "vm.sh"
# What vm_start sets and the tests read back (VM_SKIP_REASON also when it fails).
_STATE = ("VM_DIR", "VM_MUX", "VM_KERNEL_RELEASE", "VM_BOOT_MS", "VM_ACCEL_USED",
          "VM_SKIP_REASON", "VM_NO_VSOCK")


def skip_reason():
    """Why QEMU cannot boot a guest on this machine at all, or None when it can."""
    r = check.run(["bash", "-c", 'source "$1" && vm_skip_reason', "vm.sh", str(VM_SH)], timeout=60)
    return r.out.strip() if r.rc == 0 else None


class Guest:
    """One guest. Attributes after start(): dir, mux, kernel_release, boot_ms, accel, cid, pids,
    no_vsock; skip_why is vm.sh's reason when the guest could not be built (sid moved, ...)."""

    def __init__(self, binary, flavour="minimal", env=None):
        self.binary = str(binary)
        self.flavour = flavour
        self.env = dict(os.environ if env is None else env)
        self.cid = int(self.env.get("VM_CID", "42"))
        self.dir = self.mux = self.kernel_release = self.accel = self.no_vsock = None
        self.boot_ms = None
        self.skip_why = ""
        self.pids = []
        self.stopped_dir = None
        self.stopped_pids = []

    def start(self, timeout=1800):
        """Fetches (once), builds and boots the guest; True when its sshd answered through the
        multiplexer. On False, what started is stopped, and skip_why says why when vm.sh knew.
        Interrupted (SIGTERM turned into SystemExit, Ctrl-C), it stops vm_start and what it had
        started before it lets the exception go on: a caller killed during boot leaves nothing."""
        with tempfile.NamedTemporaryFile("r", prefix="ssh-proxy-vm-state.") as state:
            # vm_start's own lines ("vm: ...") go to our stderr; the state file gets its results,
            # also when it fails or is stopped half way (what it started must be stopped).
            # (The trap may fire inside vm_start, where $@ is the function's: copies first.)
            script = ('source "$1"; guest_state=$2; guest_vars=("${@:3}"); '
                      'trap \'exit 143\' TERM; '
                      'trap \'{ for v in "${guest_vars[@]}"; do printf "%s=%s\\n" "$v" '
                      '"${!v-}"; done; echo "VM_PIDS=${VM_PIDS[*]}"; } >"$guest_state"\' EXIT; '
                      'vm_start')
            env = dict(self.env, VM_SSH_PROXY=self.binary, VM_REPO=str(ROOT),
                       VM_FLAVOUR=self.flavour, VM_CID=str(self.cid))
            with subprocess.Popen(["bash", "-c", script, "vm.sh", str(VM_SH), state.name, *_STATE],
                                  env=env, stdin=subprocess.DEVNULL) as proc:
                try:
                    rc = proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    rc = None
                    _end(proc)
                except BaseException:
                    _end(proc)
                    self._read_state(state.name)
                    self.stop()
                    raise
            self._read_state(state.name)
        if rc != 0:
            print(f"vm: vm_start {'timed out' if rc is None else 'failed'}", file=sys.stderr)
            self.stop()
            return False
        return True

    def _read_state(self, path):
        with open(path, encoding="utf-8") as state:
            values = dict(line.split("=", 1) for line in state.read().splitlines() if "=" in line)
        self.dir = values.get("VM_DIR") or None
        self.mux = values.get("VM_MUX")
        self.kernel_release = values.get("VM_KERNEL_RELEASE")
        self.accel = values.get("VM_ACCEL_USED")
        self.no_vsock = values.get("VM_NO_VSOCK")
        self.skip_why = values.get("VM_SKIP_REASON", "")
        self.pids = [int(p) for p in values.get("VM_PIDS", "").split()]
        boot = values.get("VM_BOOT_MS")
        self.boot_ms = int(boot) if boot else None

    def ssh_argv(self, *args):
        """ssh with the guest's ssh_config and the binary under test as ProxyCommand, under
        no-vsock (as vm.sh's vm_ssh)."""
        return [self.no_vsock, "ssh", "-F", f"{self.dir}/ssh_config",
                "-o", f"ProxyCommand={shlex.quote(self.binary)} '%n' %p",
                "-o", "ProxyUseFdpass=yes", *args]

    def ssh(self, *args, timeout=120, stdin=subprocess.DEVNULL):
        """Runs ssh ARGS (bounded by timeout seconds); a check.Result."""
        return check.run(self.ssh_argv(*args), timeout=timeout, stdin=stdin)

    def gssh(self, *args, **kwargs):
        """ssh into this guest through its multiplexer: `ssh vsock-mux/MUX ARGS`."""
        return self.ssh(f"vsock-mux{self.mux}", *args, **kwargs)

    def spawn(self, name, argv):
        """Runs argv in the background under no-vsock and VM_LIFETIME, output in DIR/NAME.out;
        stop() ends it. Returns its PID (timeout's, which passes TERM on)."""
        with open(f"{self.dir}/{name}.out", "wb") as out:
            proc = subprocess.Popen(  # pylint: disable=consider-using-with
                ["timeout", "-k", "5", self.env.get("VM_LIFETIME", "900"), self.no_vsock, *argv],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        self.pids.append(proc.pid)
        return proc.pid

    def host_listen(self, port, argv):
        """A host-side listener on MUX_PORT (what the guest reaches as vsock/2 port PORT) running
        argv per connection, with the connection as its stdin and stdout. True once it listens."""
        cmd = " ".join(shlex.quote(a) for a in argv)
        self.spawn(f"listen-{port}", ["socat", f"UNIX-LISTEN:{self.mux}_{port},fork",
                                      f"EXEC:{cmd},nofork"])
        return check.wait_for(lambda: os.path.exists(f"{self.mux}_{port}"), 3)

    def host_sshd(self, port):
        """This host's own sshd (inetd mode, the guest's host key, the client key) reachable from
        the guest as vsock/2 port PORT. True once it listens."""
        config = pathlib.Path(self.dir, "host_sshd_config")
        user = subprocess.run(["id", "-un"], capture_output=True, text=True, check=True).stdout
        config.write_text(
            f"HostKey {self.dir}/host_key\nAuthorizedKeysFile {self.dir}/client_key.pub\n"
            f"AllowUsers {user.strip()}\n"
            "StrictModes no\nUsePAM no\nPidFile none\nPermitRootLogin prohibit-password\n"
            "AuthenticationMethods publickey\nPasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\nUseDNS no\nPrintMotd no\nPrintLastLog no\n"
            "X11Forwarding no\nAllowTcpForwarding no\nLogLevel ERROR\n")
        if os.getuid() == 0:
            os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        return self.host_listen(port, ["/usr/sbin/sshd", "-i", "-f", str(config)])

    def stop(self):
        """Stops everything start() and spawn() started (TERM, KILL after 5 s); removes the
        guest's directory unless VM_KEEP=1. Once stopped, a second call changes nothing."""
        if not self.pids and not self.dir:
            return
        check.stop_pids(self.pids)
        self.stopped_pids, self.pids = self.pids, []
        self.stopped_dir, self.dir = self.dir, None
        if self.stopped_dir and os.path.isdir(self.stopped_dir):
            if self.env.get("VM_KEEP") == "1":
                print(f"vm: kept {self.stopped_dir}", file=sys.stderr)
            else:
                subprocess.run(["rm", "-rf", "--", self.stopped_dir], check=False)

    def leftovers(self, directory=None, pids=None):
        """After stop(): a line for every process, socket or file that survived it (none when the
        teardown was clean), for the last stop() or for the DIRECTORY and PIDS given."""
        directory = self.stopped_dir if directory is None else directory
        pids = self.stopped_pids if pids is None else pids
        return leftovers(directory, pids)


def leftovers(directory, pids):
    """What is left of a guest: live PIDs, processes naming or holding a file below directory,
    UNIX sockets below it, and the directory itself. One line each."""
    found = [f"process {p} ({_cmdline(p)})" for p in pids if check.alive(p)]
    if not directory:
        return found
    for proc in pathlib.Path("/proc").glob("[0-9]*"):
        pid = int(proc.name)
        if pid == os.getpid() or pid in pids:
            continue
        try:
            if directory in _cmdline(pid):
                found.append(f"process {pid} ({_cmdline(pid)})")
            elif any(os.readlink(fd).startswith(directory) for fd in (proc / "fd").iterdir()):
                found.append(f"process {pid} holds a file below {directory}")
        except OSError:
            continue  # gone, or not ours to read
    with open("/proc/net/unix", encoding="utf-8", errors="replace") as unix:
        found += [f"socket {line.split()[-1]}" for line in unix if directory in line]
    if os.path.exists(directory):
        found.append(f"directory {directory}")
    return found


def bazel_bin(*targets, build_options=True):
    """`bazel build -c opt TARGETS` in the repository (BAZEL_STARTUP_OPTIONS before the command,
    BAZEL_BUILD_OPTIONS after it unless build_options is False; bazel's output to our stderr);
    the directory of its outputs (bazel-bin), or None when the build or `bazel info` fails."""
    startup = os.environ.get("BAZEL_STARTUP_OPTIONS", "").split()
    options = os.environ.get("BAZEL_BUILD_OPTIONS", "").split() if build_options else []
    built = subprocess.run(["bazel", *startup, "build", "-c", "opt", *options, *targets],
                           cwd=ROOT, stdin=subprocess.DEVNULL, stdout=sys.stderr, timeout=3600,
                           check=False)
    if built.returncode != 0:
        return None
    info = check.run(["bazel", *startup, "info", "-c", "opt", *options, "bazel-bin"], cwd=ROOT,
                     timeout=600)
    return info.out.strip() if info.rc == 0 and info.out.strip() else None


def main(argv):
    """guest.py --binary=SSH_PROXY [--flavour=FLAVOUR]: boots a guest, prints its multiplexer's
    path and keeps the guest until SIGTERM (exit 143) or Ctrl-C (exit 130), then stops it.
    vm_test.py kills one of these during boot to show that such a caller leaves nothing."""
    given = check.flags(argv, ("binary", "flavour")) or {}
    binary, flavour = given.get("binary"), given.get("flavour", "minimal")
    if not binary:
        print(f"usage: {argv[0]} --binary=SSH_PROXY [--flavour=FLAVOUR]", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    guest = Guest(os.path.abspath(binary), flavour)
    try:
        if not guest.start():
            return 1
        print(guest.mux, flush=True)
        while True:
            signal.pause()
    except KeyboardInterrupt:
        return 130
    finally:
        guest.stop()


def _end(proc, grace_s=30):
    """TERM to proc (vm_start's bash: its EXIT trap writes the state), KILL after grace_s."""
    proc.terminate()
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _cmdline(pid):
    try:
        return pathlib.Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(
            "utf-8", "replace").strip()
    except OSError:
        return ""




if __name__ == "__main__":
    sys.exit(main(sys.argv))
