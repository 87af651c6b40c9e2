# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
"""vm_systemd.py: the systemd flavour of tests/vm/vm_test.py. Trixie userspace, systemd >= 257 as
PID 1, its own sshd on vsock::22 (systemd's ssh generator), systemd-machined; then machine/NAME
against that real machined: machines registered with varlinkctl (machined refuses CIDs below 3, so
the VM with a CID has the guest's own CID, which vsock loopback turns into the guest's own sshd),
reached by real ssh inside the guest through the fragment tools/install.sh put there."""

import re

import check  # pylint: disable=import-error
# pylint: disable=import-error
from vm_scenario import (PROXY, Flavour, Row, has, nspawn, pid1, starts, teardown,
                         MUX_EMULATOR_START)

MACHINE_SCENARIOS = (
    "machined_register", "machine_dry_run_each_path", "machine_verbose_names_the_scope",
    "ssh_machine_vsock_cid", "ssh_machine_unix_address", "ssh_machine_vsock_address_percent",
    "ssh_machine_mux_address", "ssh_machine_dot_host", "machine_no_ssh_address_69",
    "machine_recursive_address_76", "machine_no_such_machine_69", "ssh_machine_nspawn_container",
    "machine_user_scope")
SCENARIOS = (
    "boot_systemd_guest", "systemd_mux_prints_guest_kernel", "systemd_pid1_257_with_sshd_on_vsock",
    "systemd_machined_not_started_is_not_running", "systemd_machined_runs",
    "systemd_guest_vsock_1", "systemd_guest_dot_host", *MACHINE_SCENARIOS,
    "systemd_teardown_leaves_nothing")
MACHINE = "/run/systemd/machine/io.systemd.Machine"
# Each machine gets its own leader (machined keys machines by the leader's unit).
REGISTER = rf"""set -e
reg() {{
  systemd-run --quiet --unit=lead-$1 sleep infinity
  pid=$(systemctl show -P MainPID lead-$1)
  varlinkctl call {MACHINE} io.systemd.Machine.Register \
    "{{\"name\":\"$1\",\"class\":\"vm\",\"leader\":$pid$2}}" >/dev/null
}}
reg vmcid ',"vSockCid":CID'
reg vmunix ',"sshAddress":"unix/run/ssh-unix-local/socket"'
reg vmvsock ',"sshAddress":"vsock/1"'
reg vmnone ''
reg vmbad ',"sshAddress":"machine/vmcid"'
varlinkctl call {MACHINE} io.systemd.Machine.List '{{"name":"vmunix"}}' | tr -d ' \n'
echo
echo registered"""
# sshAddress vsock-mux/...: tests/e2e's emulator inside the guest (its firecracker scenario: "OK
# <n>" and the banner in one write); ssh -p 2222 shows that PORT reaches the CONNECT line.
MUX_MACHINE = ("set -e\n" + MUX_EMULATOR_START
               + rf"""systemd-run --quiet --unit=lead-vmmux sleep infinity
pid=$(systemctl show -P MainPID lead-vmmux)
varlinkctl call {MACHINE} io.systemd.Machine.Register \
  "{{\"name\":\"vmmux\",\"class\":\"vm\",\"leader\":$pid,\
\"sshAddress\":\"vsock-mux/run/vmmux.vsock\"}}" >/dev/null
{PROXY} --dry-run machine/vmmux 2222
ssh -p 2222 machine/vmmux hostname
cat /run/vmmux.log""")


def machined_register(t):
    r = t.gscript(REGISTER.replace("CID", str(t.guest.cid)))
    head, _, tail = r.out.rpartition("\n")
    ok = (r.rc == 0 and tail == "registered"
          and '"sshAddress":"unix/run/ssh-unix-local/socket"' in head)
    t.expect("machined_register", ok, r.detail)
    if ok:
        print(f"  (machined's List for vmunix: {r.out.split(chr(10))[0]})")


def ssh_machine_mux_address(t):
    name = "ssh_machine_mux_address"
    if not t.copy_mux_emulator():
        t.fail(name, "bazel build -c opt //tests/e2e:mux_emulator failed")
        return
    r = t.gscript(MUX_MACHINE)
    want = "vsock-mux path=/run/vmmux.vsock port=2222\nssh-proxy-systemd\nCONNECT 2222\\n"
    t.expect(name, r.rc == 0 and r.out.startswith(want), r.detail)


def machine_user_scope(t):
    # systemd 257 has no per-user machined (it came with 258). Shown, not faked.
    r = t.gssh('systemctl --version | sed -n "1s/^systemd \\([0-9]*\\).*/\\1/p"; '
               'ls /usr/lib/systemd/user/ | grep -c machined || true')
    v = r.out.split("\n")[0]
    if re.fullmatch("[0-9]+", v) and int(v) >= 258:
        t.fail("machine_user_scope",
               f"systemd {v} has a per-user machined; the user-scope scenario is not written yet")
    else:
        t.skip("machine_user_scope",
               f"systemd {v or '?'} in the guest has no per-user machined (258 and later do)")


def steps(t):
    cid, host = t.guest.cid, "ssh-proxy-systemd"
    fragment = f"proxycommand {PROXY} '%n' %p"
    return [
        Row("systemd_mux_prints_guest_kernel", "uname -r; hostname",
            f"{t.guest.kernel_release}\n{host}"),
        pid1("systemd_pid1_257_with_sshd_on_vsock", lambda v: v >= 257,
             "want systemd >= 257 as PID 1 and a vsock :22 socket unit", vsock_sockets=True),
        # Before machined first runs (257 starts it on demand), tmpfiles has made
        # /run/systemd/machines and there is no varlink socket, as on 252: still "not running",
        # never "older than 256".
        Row("systemd_machined_not_started_is_not_running",
            "test -d /run/systemd/machines && echo statedir; systemctl is-active "
            f'systemd-machined; {PROXY} machine/x 22; echo "exit $?"',
            "statedir\ninactive\nexit 69",
            err=starts("ssh-proxy: cannot resolve machine/x: systemd-machined is not running (")),
        Row("systemd_machined_runs", "systemctl start systemd-machined && systemctl is-active "
            f"systemd-machined && test -S {MACHINE} && echo socket", "active\nsocket"),
        # The fragment tools/install.sh put in ssh_config.d sorts before systemd's own
        # 20-systemd-ssh-proxy.conf, so ssh-proxy handles vsock/1 and .host.
        Row("systemd_guest_vsock_1", 'ssh -G vsock/1 | grep "^proxycommand"; ssh vsock/1 hostname',
            f"{fragment}\n{host}"),
        Row("systemd_guest_dot_host", "ssh .host hostname", host,
            context="ssh .host (unix/run/ssh-unix-local/socket) in the guest"),
        # --- machine/NAME, one registration per resolution path ---
        machined_register,
        Row("machine_dry_run_each_path",
            f"for m in vmcid vmunix vmvsock .host; do {PROXY} --dry-run machine/$m 22; done",
            f"vsock cid={cid} port=22\nunix path=/run/ssh-unix-local/socket\n"
            "vsock cid=1 port=22\nunix path=/run/ssh-unix-local/socket"),
        # 257 has no per-user machined: -v says the user scope is not running and the system
        # scope answered, with its reply.
        Row("machine_verbose_names_the_scope", f"{PROXY} -v --dry-run machine/vmcid 2222",
            f"vsock cid={cid} port=2222",
            err=lambda e: "systemd-machined (user scope) is not running: /run/user/0/systemd/"
            "machine/io.systemd.Machine" in e and check.in_order(
                e, 'systemd-machined (system scope) replied: "{\\"parameters\\":{\\"name\\":'
                '\\"vmcid\\"', f'vSockCid\\":{cid}')),
        Row("ssh_machine_vsock_cid",
            'ssh -G machine/vmcid | grep "^proxycommand"; ssh machine/vmcid hostname',
            f"{fragment}\n{host}"),
        Row("ssh_machine_unix_address", "ssh machine/vmunix hostname", host),
        Row("ssh_machine_vsock_address_percent", "ssh machine%vmvsock hostname", host),
        ssh_machine_mux_address,
        Row("ssh_machine_dot_host", "ssh machine/.host hostname", host),
        # The errors, from the real machined's answers.
        Row("machine_no_ssh_address_69", f'{PROXY} machine/vmnone 22; echo "exit $?"', "exit 69",
            err=starts("ssh-proxy: cannot resolve machine/vmnone: machine vmnone has no SSH "
                       "address")),
        Row("machine_recursive_address_76", f'{PROXY} machine/vmbad 22; echo "exit $?"',
            "exit 76", err=has('"sshAddress" "machine/vmcid" is not allowed there')),
        Row("machine_no_such_machine_69", f'{PROXY} machine/nosuch 22; echo "exit $?"; '
            'ssh machine/nosuch true; echo "ssh exit $?"', "exit 69\nssh exit 255",
            err=starts("ssh-proxy: cannot resolve machine/nosuch: no machine named nosuch")),
        # An nspawn container: systemd-nspawn registers it (class container, service
        # systemd-nspawn) and bind-mounts /run/systemd/nspawn/unix-export/c1 (257's layout) at
        # /run/host/unix-export inside, where the container's sshd listens on "ssh".
        Row("ssh_machine_nspawn_container", "set -e\n" + nspawn("c1") + "for i in $(seq 100); "
            "do [ -S /run/systemd/nspawn/unix-export/c1/ssh ] && break; sleep 0.1; done\n"
            f"{PROXY} --dry-run machine/c1 22\nssh machine/c1 hostname",
            "unix path=/run/systemd/nspawn/unix-export/c1/ssh\nc1", script=True),
        machine_user_scope,
        teardown("systemd_teardown_leaves_nothing"),
    ]


FLAVOUR = Flavour("systemd", "systemd guest", SCENARIOS, steps, timed=False)
