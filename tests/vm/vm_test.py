#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
"""vm_test.py: ssh-proxy against real VMs. QEMU (TCG) boots each guest of VM_FLAVOURS
(tests/vm/vm.sh, through guest.py) with rust-vmm's vhost-device-vsock as its multiplexer; real ssh
on the host reaches the guest's real sshd through vsock-mux/, and ssh-proxy inside the guest uses
real AF_VSOCK. Run once per tools/test.sh, outside Bazel, as root.

  tests/vm/vm_test.py [--binary=SSH_PROXY]

Without --binary it builds `bazel build -c opt //:ssh-proxy` (BAZEL_STARTUP_OPTIONS and
BAZEL_BUILD_OPTIONS as in tools/demo.sh). Prints "PASS name", "FAIL name: why" or "SKIP name: why"
per scenario and ends with "N passed, N failed, N skipped"; exits 1 if anything failed. When QEMU
cannot run here at all every scenario is SKIPPED with the reason, never passed. VM_FLAVOURS
(comma-separated, default minimal) says which guests run, in order: minimal, systemd, sid, bookworm
(vm_minimal.py, vm_systemd.py, vm_sid.py, vm_bookworm.py). Every host-side process runs under
tests/vm/no-vsock.c: this machine never opens AF_VSOCK.
"""

import os
import pathlib
import re
import signal
import sys
import time

# Run as root from the tree: leave no __pycache__ behind in it.
sys.dont_write_bytecode = True
HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path[:0] = [str(HERE), str(ROOT / "tests" / "testing")]

# pylint: disable=wrong-import-position,import-error
import check
import guest
import vm_bookworm
import vm_minimal
import vm_scenario
import vm_sid
import vm_systemd

FLAVOURS = {f.name: f for f in (vm_minimal.FLAVOUR, vm_systemd.FLAVOUR, vm_sid.FLAVOUR,
                                 vm_bookworm.FLAVOUR)}


def main(argv):
    flavours = [f for f in re.split(r"[,\s]+", os.environ.get("VM_FLAVOURS") or "minimal") if f]
    for name in flavours:
        if name not in FLAVOURS:
            print(f'VM_FLAVOURS: unknown flavour "{name}" ({", ".join(FLAVOURS)})',
                  file=sys.stderr)
            return 2
    scenarios = [s for name in flavours for s in FLAVOURS[name].scenarios]
    given = check.flags(argv, ("binary",))
    if given is None:
        print(f"usage: {argv[0]} [--binary=SSH_PROXY]", file=sys.stderr)
        return 2
    binary = given.get("binary", "")
    checks = check.Checks()
    # The machine/ scenarios run tests/e2e's multiplexer emulator inside the guest (a VM
    # registered with an sshAddress of vsock-mux/...): built here, copied in over ssh.
    emulator = None
    if "systemd" in flavours or "sid" in flavours:
        bin_dir = guest.bazel_bin("//tests/e2e:mux_emulator", build_options=False)
        emulator = bin_dir and f"{bin_dir}/tests/e2e/mux_emulator"
    reason = guest.skip_reason()
    if reason:
        for s in scenarios:
            checks.skip(s, reason)
        return checks.summary()
    if not binary:
        bin_dir = guest.bazel_bin("//:ssh-proxy")
        binary = bin_dir and f"{bin_dir}/ssh-proxy"
        if not binary:
            for s in scenarios:
                checks.fail(s, "bazel build -c opt //:ssh-proxy failed")
            return checks.summary()
    t = vm_scenario.Session(checks, os.path.abspath(binary), emulator)
    started = time.monotonic()
    for name in flavours:
        vm_scenario.run_flavour(t, FLAVOURS[name])
    print(f"vm tests took {int(time.monotonic() - started)} s (boot included)")
    return checks.summary()


if __name__ == "__main__":
    # Killed or interrupted: run_flavour's finally stops the guest on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    # Our lines in order with vm.sh's and bazel's on stderr, also through a pipe (tools/test.sh).
    sys.stdout.reconfigure(line_buffering=True)
    try:
        sys.exit(main(sys.argv))
    except KeyboardInterrupt:
        sys.exit(130)
