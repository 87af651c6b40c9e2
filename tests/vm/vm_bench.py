#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
"""vm_bench.py: ssh-proxy's cost against a real VM (tests/vm/vm.sh's minimal guest under QEMU TCG,
vhost-device-vsock as the multiplexer). Reports, asserts nothing but that the runs worked.

  tests/vm/vm_bench.py --binary=SSH_PROXY --harness=FDPASS_HARNESS

  spawn -> fd: fdpass_harness (//tests/e2e:fdpass_harness) runs `ssh-proxy vsock-mux/MUX 22` the
    way ssh does (ProxyUseFdpass yes) and receives the connected fd; VM_BENCH_RUNS runs (100),
    against the same harness running /bin/true (its own floor).
  ssh set-up: `ssh HOST true`, VM_BENCH_SSH_RUNS runs (10) each, with ssh-proxy passing the fd,
    with ssh-proxy relaying (ProxyUseFdpass no), and with the guest's sshd reached without
    ssh-proxy (socat to the multiplexer's socket, a shell writing "CONNECT 22" and stripping the
    6-byte "OK 22" reply, two cats relaying).
Medians (and p90) in milliseconds, measured around each command (the fork and exec of the command
are in every figure, which is why the /bin/true floor is shown).
"""

import os
import pathlib
import sys
import time

import load

import guest as guest_mod

import check  # pylint: disable=wrong-import-order
USAGE = "--binary=SSH_PROXY --harness=FDPASS_HARNESS"

# Without ssh-proxy: socat connects, a shell writes "CONNECT 22", strips the 6-byte "OK 22" reply
# one byte at a time (dd), then two cats relay. Nothing may be sent before the reply:
# vhost-device-vsock drops bytes that reach it in the same read as the CONNECT line.
INNER_SH = """printf 'CONNECT 22\\n'
dd bs=1 count=6 of=/dev/null status=none
cat <&3 &
exec cat >&4
"""


def stats(label, micros):
    """Prints LABEL's median and p90 of the microsecond figures, in ms."""
    v = sorted(micros)
    n = len(v)
    if n == 0:
        median = p90 = 0.0
    else:
        median = v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2
        p90 = v[max(int(n * 0.9 + 0.999), 1) - 1]
    print(f"  {label:<58s} median {median / 1000:8.2f} ms   p90 {p90 / 1000:8.2f} ms   ({n} runs)",
          flush=True)


def timed(argv, timeout=120):
    """Runs argv (stdin from /dev/null); (check.Result, wall time in microseconds)."""
    t0 = time.perf_counter_ns()
    result = check.run(argv, timeout=timeout)
    return result, (time.perf_counter_ns() - t0) // 1000


def time_runs(n, argv, expect_fd=False):
    """N runs of argv, which must succeed (and print "fd: socket" when expect_fd); the wall time
    of each in microseconds, or None after printing why a run failed."""
    micros = []
    for _ in range(n):
        result, us = timed(argv)
        out = result.out + result.err
        if result.rc != 0:
            print(f"  run failed: {' '.join(argv)} -> {out[:300]}", flush=True)
            return None
        if expect_fd and "fd: socket" not in out:
            print(f"  no fd: {' '.join(argv)} -> {out[:300]}", flush=True)
            return None
        micros.append(us)
    return micros


def bench(vm, binary, harness):
    """The runs against a started guest; the exit status (1 when a run failed)."""
    rc = 0
    d = vm.dir
    target = f"vsock-mux{vm.mux}"
    runs = int(os.environ.get("VM_BENCH_RUNS", "100"))
    print("== spawn -> fd received, through the real multiplexer (fdpass_harness, as ssh does it)",
          flush=True)
    mux = time_runs(runs, [vm.no_vsock, harness, "--", binary, target, "22"], expect_fd=True)
    if mux is None:
        rc = 1
    else:
        stats("ssh-proxy vsock-mux/ (CONNECT 22 -> OK 22 -> fd)", mux)
    floor = time_runs(runs, [vm.no_vsock, harness, "--", "/bin/true"])
    stats("the same harness running /bin/true (floor; no fd)", floor or [])

    ssh_runs = int(os.environ.get("VM_BENCH_SSH_RUNS", "10"))
    pathlib.Path(d, "inner.sh").write_text(INNER_SH)
    pathlib.Path(d, "direct.sh").write_text(
        f'exec 3<&0 4>&1\nexec socat UNIX-CONNECT:{vm.mux} "SYSTEM:sh {d}/inner.sh,nofork"\n')
    print("== ssh HOST true: session set-up and teardown through the real VM (the three "
          "interleaved)", flush=True)
    # The spawn runs left up to VM_BENCH_RUNS sshd processes starting and exiting in the guest;
    # one uncounted session lets it settle.
    vm.gssh("true")
    ssh = [vm.no_vsock, "ssh", "-F", f"{d}/ssh_config"]
    proxy = f"ProxyCommand={binary} '%n' %p"
    kinds = {
        "fd": vm.ssh_argv(target, "true"),
        # ssh takes the first value given for an option: ProxyUseFdpass=no must come first.
        "relay": [*ssh, "-o", proxy, "-o", "ProxyUseFdpass=no", target, "true"],
        "direct": [*ssh, "-o", f"ProxyCommand=sh {d}/direct.sh", "-o", "ProxyUseFdpass=no",
                   "guest", "true"],
    }
    micros = {kind: [] for kind in kinds}
    for _ in range(ssh_runs):
        for kind, argv in kinds.items():
            result, us = timed(argv)
            if result.rc != 0:
                print(f"  run failed ({kind}): {(result.out + result.err)[:300]}", flush=True)
                rc = 1
                continue
            micros[kind].append(us)
    stats("ssh-proxy, fd passed (ProxyUseFdpass yes)", micros["fd"])
    stats("ssh-proxy relaying (ProxyUseFdpass no)", micros["relay"])
    stats("without ssh-proxy (socat + hand-written CONNECT)", micros["direct"])
    return rc


def boot_and_bench(vm, binary, harness):
    """Boots the guest and runs the benchmark against it; the exit status."""
    if not vm.start():
        return 1
    print(f"guest {vm.kernel_release}, accelerator {vm.accel}, sshd answered {vm.boot_ms} ms "
          "after qemu started", flush=True)
    return bench(vm, binary, harness)


def main(argv):
    """The command line's guest and runs; the exit status."""

    def make(binary, harness, _):
        vm = guest_mod.Guest(binary, os.environ.get("VM_FLAVOUR", "minimal"))
        return (lambda: boot_and_bench(vm, binary, harness)), vm.stop

    return load.bench_main(argv, USAGE, make)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
