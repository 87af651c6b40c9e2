#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
"""load_bench.py: ssh-proxy under load through a real VMM (QEMU TCG + vhost-device-vsock, every
host process under no-vsock). Reports; asserts only that the runs themselves worked. Run by
tools/bench.sh (BENCH_VM=0 skips it), not by the default test run (tests/vm/load_test.py has its
short version).

  tests/vm/load_bench.py --binary=SSH_PROXY --harness=BURST_HARNESS [--no-bursts] [--no-soak]
                         [--no-systemd]
(--no-bursts leaves out the minimal guest's bursts, parallel ssh, nothing-listening and backlog
runs; --no-soak the soak; --no-systemd the systemd guest.)

For each guest (the minimal one: socat with backlog 128; the trixie systemd one: sshd-vsock.socket,
socket-activated, Backlog=2147483647, MaxConnections=64):
  bursts   N = 16, 64, 256 ssh-proxy processes at once through vsock-mux/ (burst_harness, as ssh
           runs them, each reading the guest sshd's banner from its fd): how many got an fd and a
           banner, what the rest got, spawn -> fd p50/p90/p99, the multiplexer's fds and RSS right
           after and once settled;
  ssh      32 parallel `ssh HOST true`: successes, what the rest printed, wall p50/p99;
and on the minimal guest:
  backlog  16 and 64 at once against a socat listener with its default backlog (5), with no retry
           and with burst_harness's retry (5 ms doubling to 50 ms) inside 90 ms, 1 s and 5 s: the
           evidence for what ssh-proxy does on the multiplexer's EOF;
  nothing  a guest port with nothing listening: 20 one at a time and 16 at once, start -> exit;
  soak     LOAD_SOAK_SECONDS (600) of continuous `ssh HOST true` with the number of parallel loops
           (1, 2, 4 or 8; LOAD_SOAK_WORKERS to fix it) that gave the highest rate with no failure
           in a 15 s trial each, plus one ssh-proxy probe (spawn -> fd) per second; success rate,
           ssh wall and spawn -> fd p50/p99, and every 30 s: ssh-proxy's peak RSS and its fds at
           the hand-off, the multiplexer's fds and RSS, qemu's RSS.
The machine's load average is printed with each figure: timings on a shared machine are noisy.
"""

import collections
import concurrent.futures
import os
import pathlib
import re
import sys
import threading
import time

import load
from load import loadavg, percentiles

import guest as guest_mod
import check  # pylint: disable=wrong-import-order

USAGE = "--binary=SSH_PROXY --harness=BURST_HARNESS [--no-bursts] [--no-soak] [--no-systemd]"


def first_line(text):
    """TEXT's first line without carriage returns."""
    return text.replace("\r", "").split("\n", 1)[0]


def counted(items, prefix):
    """`sort | uniq -c`: one line per distinct item, PREFIX then its count and the item."""
    return [f"{prefix}{n:7d} {item}" for item, n in sorted(collections.Counter(items).items())]


class Bench:
    """The runs against one guest at a time; rc becomes 1 when a run did not work."""

    def __init__(self, binary, harness):
        self.binary = binary
        self.harness = harness
        self.rc = 0
        self.vm = None
        self.load = None

    def start(self, flavour):
        """Boots a guest of FLAVOUR; True when it answers."""
        self.vm = guest_mod.Guest(self.binary, flavour)
        self.load = load.Load(self.vm, self.harness)
        return self.vm.start()

    def stop(self):
        """Stops the current guest (if any)."""
        if self.vm:
            self.vm.stop()

    def bursts(self, label):
        """N = 16, 64, 256 against guest port 22 of the current guest."""
        pid = self.load.vhost_pid()
        base = load.fds(pid)
        for n in (16, 64, 256):
            b = self.load.burst(n, 22, ["--read-line", "--timeout=120"])
            after = load.fds(pid)
            rss = load.rss_kb(pid)
            banners = b.count(r'line="SSH-2\.0-')
            closed = b.count(r'fd=socket .*line=""')
            settled = self.load.mux_settle(base, 120)
            print(f"  {label} N={n}: {b.summary}")
            print(f"    banners {banners}, fd then closed before a banner {closed}; multiplexer "
                  f"fds {base} before, {after} right after, {settled} settled; RSS {rss} kB after, "
                  f"{load.rss_kb(pid)} kB settled; load {loadavg()}")
            if b.rest:
                print("    " + b.rest.replace("\n", "\n    "))
            if not b.summary:
                self.rc = 1
            sys.stdout.flush()
            # Let the guest's sshd processes of this burst end before the next one.
            time.sleep(5)

    def parallel_ssh(self, label, n):
        """N `ssh HOST true` at once."""
        with concurrent.futures.ThreadPoolExecutor(max_workers=n) as pool:
            results = list(pool.map(lambda _: self.vm.gssh("true", timeout=120), range(n)))
        ok = sum(1 for r in results if r.rc == 0)
        p50, _, p99, most = percentiles([r.ms for r in results])
        print(f"  {label}: {n} parallel ssh HOST true: {ok} succeeded; wall p50 {p50} ms, p99 "
              f"{p99} ms, max {most} ms; load {loadavg()}")
        for line in counted([f"rc={124 if r.rc is None else r.rc} {first_line(r.err)}"
                             for r in results if r.rc != 0], "    "):
            print(line)
        sys.stdout.flush()

    def nothing_listening(self):
        """A guest port with nothing listening: 20 one at a time, 16 at once (start -> exit)."""
        print("== nothing listening on the guest port (start -> exit 69)")
        times = []
        for _ in range(20):
            times += [c.exit_ms for c in self.load.burst(1, 2222).copies if c.exit_ms is not None]
        p50, p90, _, most = percentiles(times)
        print(f"  one at a time (20): p50 {p50} ms, p90 {p90} ms, max {most} ms; load {loadavg()}")
        b = self.load.burst(16, 2222)
        p50, _, _, most = percentiles([c.exit_ms for c in b.copies if c.exit_ms is not None])
        print(f"  16 at once: {b.count(r'^copy .* rc=69 ')} exit 69; p50 {p50} ms, max {most} ms; "
              f"load {loadavg()}", flush=True)

    def backlog(self):
        """16 and 64 at once against socat's default backlog (5), with and without a retry."""
        print("== a listener with socat's default backlog (5): the multiplexer's EOF, and what a "
              "retry would gain", flush=True)
        if not self.load.guest_listener(2205, 5):
            print("  could not start the listener", flush=True)
            self.rc = 1
            return
        for budget in (0, 90, 1000, 5000):
            for n in (16, 64):
                b = self.load.burst(n, 2205, ["--read-line", "--timeout=120",
                                              f"--retry-budget-ms={budget}"])
                slow69 = b.slowest_exit(" rc=69 ")
                attempts = [c.attempts for c in b.copies if c.attempts is not None]
                banners = b.count(r'line="SSH-2\.0-')
                print(f"  retry budget {budget} ms, N={n}: {b.summary}; banners "
                      f"{banners}; up to {max(attempts, default='')} "
                      f"attempts; the last 69 came after {'-' if slow69 is None else slow69} ms; "
                      f"load {loadavg()}", flush=True)
                time.sleep(3)

    def soak_run(self, workers, secs, directory):
        """WORKERS loops of `ssh HOST true` for SECS and an ssh-proxy probe a second; returns
        (the (rc, ms) of every session, the errors, the probes' copy lines, the timeline)."""
        os.makedirs(directory, exist_ok=True)
        start = int(time.time())
        end = start + secs
        sessions, errors = [], []
        lock = threading.Lock()

        def loop():
            while time.time() < end:
                r = self.vm.gssh("true", timeout=60)
                rc = 124 if r.rc is None else r.rc
                with lock:
                    sessions.append((rc, r.ms))
                    if rc == 124:
                        errors.append("rc=124: still running after 60 s, killed (timeout) "
                                      f"{first_line(r.err)}")
                    elif rc != 0:
                        errors.append(f"rc={rc}: {first_line(r.err)}")

        threads = [threading.Thread(target=loop) for _ in range(workers)]
        for thread in threads:
            thread.start()
        vp, qp = self.load.vhost_pid(), self.load.qemu_pid()
        probes, timeline = [], []
        following = 0
        while time.time() < end:
            probes += [c.raw for c in self.load.burst(1, 22, ["--timeout=30"]).copies[:1]]
            t = int(time.time()) - start
            if t >= following:
                if check.alive(vp):
                    timeline.append(f"{t} {load.fds(vp)} {load.rss_kb(vp)} {load.rss_kb(qp)} "
                                    f"{loadavg()}")
                else:
                    panic = load.first_line_with(f"{self.vm.dir}/vhost.out", "panicked at")
                    timeline.append(f"{t} vhost-device-vsock has exited: {panic}")
                following += 30
            time.sleep(1)
        for thread in threads:
            thread.join()
        return sessions, errors, probes, timeline

    def soak(self):
        """The soak, after the trials that choose its number of loops."""
        secs = int(os.environ.get("LOAD_SOAK_SECONDS", "600"))
        workers = int(os.environ.get("LOAD_SOAK_WORKERS", "0"))
        if not workers:
            print("== soak: finding the rate the guest sustains (15 s each with 1, 2, 4, 8 "
                  "parallel loops)", flush=True)
            best = 0
            for w in (1, 2, 4, 8):
                sessions = self.soak_run(w, 15, f"{self.vm.dir}/trial{w}")[0]
                bad = sum(1 for rc, _ in sessions if rc != 0)
                print(f"  {w} loops: {len(sessions)} sessions in 15 s, {bad} failed; load "
                      f"{loadavg()}", flush=True)
                if bad == 0 and len(sessions) > best:
                    best, workers = len(sessions), w
            workers = workers or 1
        print(f"== soak: {secs} s of ssh HOST true with {workers} parallel loops, one ssh-proxy "
              "probe a second", flush=True)
        sessions, errors, probes, timeline = self.soak_run(workers, secs, f"{self.vm.dir}/soak")
        total = len(sessions)
        good = [ms for rc, ms in sessions if rc == 0]
        sp50, _, sp99, smax = percentiles(good)
        fd_ms = [int(m.group(1)) for m in (re.search(r" rc=0 fd=socket ms=(\d+) ", p)
                                           for p in probes) if m]
        fp50, _, fp99, fmax = percentiles(fd_ms)
        print(f"  ssh HOST true: {len(good)} of {total} succeeded "
              f"({100 * len(good) / total if total else 0:.2f} %), {total / secs:.2f} sessions/s; "
              f"wall p50 {sp50} ms, p99 {sp99} ms, max {smax} ms")
        print(f"  ssh-proxy probes: {len(fd_ms)} of {len(probes)} got an fd; spawn -> fd p50 "
              f"{fp50} ms, p99 {fp99} ms, max {fmax} ms")
        rss = collections.Counter(re.findall(r"rss_kb=(\d+)", "\n".join(probes)))
        top = sorted(rss.items(), key=lambda kv: (kv[1], int(kv[0])), reverse=True)[:3]
        fds = collections.Counter(re.findall(r"fds=(-?\d+)", "\n".join(probes)))
        print("  ssh-proxy per process: peak RSS "
              + "".join(f"{kb} kB ({n} probes) " for kb, n in top)
              + "; fds at the hand-off "
              + "".join(f"{v} ({n} probes) " for v, n in sorted(fds.items(),
                                                                 key=lambda kv: int(kv[0]))))
        print("  over time (s, multiplexer fds, multiplexer RSS kB, qemu RSS kB, load):")
        for line in timeline:
            print(f"    {line}")
        for line in counted(errors, "    failed: "):
            print(line)
        if self.load.vhost_pid():
            settled = self.load.mux_settle(24, 60)
            print(f"  after the soak, settled: multiplexer fds {settled}, RSS "
                  f"{load.rss_kb(self.load.vhost_pid())} kB")
        else:
            vhost_out = pathlib.Path(self.vm.dir, "vhost.out")
            print("  after the soak: vhost-device-vsock has exited: "
                  f"{vhost_out.read_text(errors='replace')[:400] if vhost_out.exists() else ''}")
        sys.stdout.flush()


def machine():
    """One line on the machine: CPUs, model, memory, kernel."""
    cpuinfo = pathlib.Path("/proc/cpuinfo").read_text()
    model = re.search(r"^model name\s*: (.*)$", cpuinfo, re.M)
    mem_kb = int(re.search(r"^MemTotal:\s+(\d+)", pathlib.Path("/proc/meminfo").read_text(),
                           re.M).group(1))
    return (f"machine: {len(os.sched_getaffinity(0))} CPUs ({model.group(1) if model else ''}), "
            f"{mem_kb // 1048576} GiB; kernel {os.uname().release}")


def run(bench, bursts, soak, systemd):
    """The minimal guest's runs, then the systemd guest's; the exit status."""
    print(machine(), flush=True)
    if not bench.start("minimal"):
        return 1
    vm = bench.vm
    print(f"== minimal guest ({vm.kernel_release}, busybox init, socat VSOCK-LISTEN:22 "
          f"backlog=128, sshd -i per connection), accelerator {vm.accel}, vhost-device-vsock "
          f"{bench.load.vhost_version()}", flush=True)
    if bursts:
        bench.bursts("minimal")
        bench.parallel_ssh("minimal", 32)
        bench.nothing_listening()
        bench.backlog()
    if soak:
        bench.soak()
    bench.stop()
    if systemd:
        if bench.start("systemd"):
            socket = bench.vm.gssh("systemctl show -p Backlog -p MaxConnections --value "
                                   "sshd-vsock.socket | paste -sd/").out.strip()
            print(f"== systemd guest (trixie, sshd-vsock.socket: {socket} Backlog/MaxConnections, "
                  f"sshd per connection), vhost-device-vsock {bench.load.vhost_version()}",
                  flush=True)
            bench.bursts("systemd")
            time.sleep(30)
            bench.parallel_ssh("systemd", 32)
        else:
            print("== systemd guest: did not boot", flush=True)
            bench.rc = 1
        bench.stop()
    return bench.rc


def main(argv):
    """The command line's runs; the exit status."""

    def make(binary, harness, given):
        bench = Bench(binary, harness)
        return (lambda: run(bench, "--no-bursts" not in given, "--no-soak" not in given,
                            "--no-systemd" not in given)), bench.stop

    return load.bench_main(argv, USAGE, make, ("--no-bursts", "--no-soak", "--no-systemd"))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
