# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
"""vm_scenario.py: what the flavours of tests/vm/vm_test.py share.

A flavour is a guest (vm.sh's VM_FLAVOUR) and its scenarios, in order: the first is the boot, the
others are steps run one after the other in that one boot. A step is a callable taking the Session;
most are Rows ("run this in the guest, expect this stdout and this stderr"), the rest functions.
"""

import base64
import dataclasses
import os
import re
import subprocess
import sys
import time
import traceback
import typing

import check  # pylint: disable=import-error
import guest as guest_mod  # pylint: disable=import-error

# Where tools/install.sh puts ssh-proxy in every guest.
PROXY = "/usr/libexec/ssh-proxy"
# PID 1 and `systemctl --version`'s first line as "VERSION FULL_VERSION".
PID1 = ('readlink /proc/1/exe; '
        'systemctl --version | sed -n "1s/^systemd \\([0-9]*\\) (\\(.*\\))/\\1 \\2/p"')
# tests/e2e's multiplexer emulator as a unit in the guest, guest port 2222 bridged to its sshd.
MUX_EMULATOR_START = r"""systemd-run --quiet --unit=mux-vmmux /usr/local/bin/mux_emulator \
  --listen=/run/vmmux.vsock --backend=2222:/run/ssh-unix-local/socket --log=/run/vmmux.log \
  --ready=/run/vmmux.ready
for i in $(seq 100); do [ -e /run/vmmux.ready ] && break; sleep 0.1; done
# A failure to start (a library the guest lacks, say) shows in the scenario's stderr.
[ -e /run/vmmux.ready ] || echo "mux_emulator did not start in the guest:" \
  "$(systemctl status mux-vmmux --no-pager -l -n 3 2>&1 | tail -n 3 | tr '\n' ' ')" >&2
"""


def trimmed(result):
    """result with the trailing newlines of stdout and stderr removed (as $(...) did)."""
    return dataclasses.replace(result, out=result.out.rstrip("\n"), err=result.err.rstrip("\n"))


class Session:
    """One run of vm_test.py: the checks, the binary under test, the guest booted now."""

    def __init__(self, checks, binary, mux_emulator):
        self.checks = checks
        self.binary = binary
        self.mux_emulator = mux_emulator
        self.guest = None
        # The scenarios' verdicts (check.Checks; each flavour's steps call t.ok, t.expect, ...).
        self.ok, self.fail = checks.ok, checks.fail
        self.skip, self.expect = checks.skip, checks.expect

    @property
    def host(self):
        """The guest as ssh's host: its multiplexer, vsock-mux/PATH."""
        return f"vsock-mux{self.guest.mux}"

    def ssh(self, *args, timeout=120, stdin=subprocess.DEVNULL):
        """ssh ARGS from the host, the binary under test as ProxyCommand; trimmed Result."""
        return trimmed(self.guest.ssh(*args, timeout=timeout, stdin=stdin))

    def gssh(self, command, timeout=120, host=None):
        """Runs the shell command line in the guest as root (through HOST, default the mux)."""
        return self.ssh(host or self.host, command, timeout=timeout)

    def gscript(self, script, timeout=120):
        """Runs the shell script in the guest, sent base64-encoded so that its quotes survive
        ssh's command line and its stdin stays free for what it runs."""
        encoded = base64.b64encode((script + "\n").encode()).decode()
        return self.gssh(f"echo {encoded} | base64 -d | sh", timeout=timeout)

    def host_run(self, argv, timeout=120):
        """argv on the host under no-vsock; trimmed Result."""
        return trimmed(check.run([self.guest.no_vsock, *argv], timeout=timeout))

    def copy_mux_emulator(self):
        """Copies tests/e2e's emulator to /usr/local/bin/mux_emulator in the guest; True if it
        was built and copied."""
        if not self.mux_emulator or not os.access(self.mux_emulator, os.X_OK):
            return False
        with open(self.mux_emulator, "rb") as emulator:
            data = emulator.read()
        r = self.ssh(self.host, "cat >/usr/local/bin/mux_emulator && "
                     "chmod 755 /usr/local/bin/mux_emulator", stdin=data)
        return r.rc == 0


@dataclasses.dataclass(frozen=True)
class Row:
    """A scenario: `cmd` run in the guest (as a script when `script`) must exit 0 and print
    exactly `out`; with `err`, stderr must satisfy it too. `context` starts the failure message."""

    name: str
    cmd: str
    out: str
    err: typing.Callable[[str], bool] | None = None
    context: str = ""
    script: bool = False
    host: str | None = None

    def __call__(self, t):
        r = t.gscript(self.cmd) if self.script else t.gssh(self.cmd, host=self.host)
        ok = r.rc == 0 and r.out == self.out and (self.err is None or self.err(r.err))
        why = r.detail() if self.err else f"want [{self.out}]; {r.detail()}"
        t.expect(self.name, ok, f"{self.context}; {why}" if self.context else why)


def starts(prefix, lacks=None):
    """An err test: stderr starts with prefix (and does not contain lacks)."""
    return lambda err: err.startswith(prefix) and (lacks is None or lacks not in err)


def has(*parts):
    """An err test: stderr contains each of parts, in this order."""
    return lambda err: check.in_order(err, *parts)


def missing(err, wants):
    """The lines of wants that err lacks, each as "[line] "; empty when none is missing."""
    return "".join(f"[{w}] " for w in wants if w not in err)


def pid1(name, version_ok, want, vsock_sockets=False):
    """A step: PID 1 is systemd with version_ok(version), and with vsock_sockets a socket unit on
    vsock port 22; prints which. Fails with "want; detail"."""
    command = PID1
    if vsock_sockets:
        command += '; systemctl list-sockets --no-legend --no-pager | grep -c "vsock:.*:22"'

    def step(t):
        r = t.gssh(command)
        lines = r.out.split("\n") + ["", "", ""]
        exe, (version, _, full), sockets = lines[0], lines[1].partition(" "), lines[2]
        ok = (r.rc == 0 and exe.endswith("/systemd") and re.fullmatch("[0-9]+", version)
              and version_ok(int(version))
              and (not vsock_sockets or (sockets.isdigit() and int(sockets) >= 1)))
        t.expect(name, ok, lambda: f"{want}; {r.detail()}")
        if ok:
            print(f"  (PID 1 is {exe}, systemd {full})")
    return step


def teardown(name):
    """A step: stops the guest; passes when nothing of it is left."""
    def step(t):
        t.guest.stop()
        left = t.guest.leftovers()
        t.expect(name, not left, "\n".join(left))
    return step


@dataclasses.dataclass(frozen=True)
class Flavour:
    """A guest and its scenarios: scenarios[0] is the boot, steps(t) gives the rest in order."""

    name: str
    guest: str
    scenarios: tuple
    steps: typing.Callable
    timed: bool = True
    boot_line: typing.Callable | None = None


def run_flavour(t, flavour):
    """Boots the flavour's guest and runs its steps. A guest that does not boot skips every
    scenario with vm.sh's reason when it had one (a tree that cannot be built), else fails each.
    A step that raises fails every scenario not reported yet; the guest is stopped in any case."""
    started = time.monotonic()
    t.guest = guest_mod.Guest(t.binary, flavour.name)
    if not t.guest.start():
        for name in flavour.scenarios:
            if t.guest.skip_why:
                t.skip(name, t.guest.skip_why)
            else:
                t.fail(name, f"the {flavour.guest} did not boot (see the vm: lines above)")
        return
    g = t.guest
    if flavour.boot_line:
        print(flavour.boot_line(g))
    else:
        print(f"{flavour.guest}: sshd answered {g.boot_ms} ms after qemu started "
              f"(accelerator {g.accel})")
    t.ok(flavour.scenarios[0])
    why = "not run"
    try:
        for step in flavour.steps(t):
            step(t)
    except Exception as e:  # pylint: disable=broad-except
        traceback.print_exc()
        why = f"not run: the test raised {type(e).__name__}: {e}"
    finally:
        t.guest.stop()
    t.checks.fail_unreported(flavour.scenarios, why)
    if flavour.timed:
        print(f"{flavour.guest}: {int(time.monotonic() - started)} s for the flavour, "
              "boot included")
    sys.stdout.flush()


def nspawn(name, user=False):
    """Script lines starting the nspawn container NAME (--user: the user manager's) as a unit:
    the guest's /usr, /etc and /root read-only, so its sshd, host key and root's key; the sshd
    listens on /run/host/unix-export/ssh, run per connection by systemd-socket-activate."""
    u = " --user" if user else ""
    return f"""t=/var/lib/machines/{name}
sshd='mkdir -p /run/sshd && exec systemd-socket-activate --inetd -a -l /run/host/unix-export/ssh \
/usr/sbin/sshd -i'
mkdir -p $t/usr $t/etc $t/root $t/proc $t/sys $t/dev $t/run $t/tmp $t/var/tmp
for l in bin sbin lib lib64; do [ -e $t/$l ] || ln -s usr/$l $t/$l; done
systemd-run{u} --quiet --unit=ct-{name} -p Delegate=yes systemd-nspawn{u} --quiet --keep-unit \\
  --register=yes -D $t --machine={name} --bind-ro=/usr --bind-ro=/etc --bind-ro=/root \\
  /bin/sh -c "$sshd"
"""
