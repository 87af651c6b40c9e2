#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
"""load_test.py: ssh-proxy under a burst and under faults, through a real VMM: QEMU (TCG) boots
tests/vm/vm.sh's minimal guest with rust-vmm's vhost-device-vsock as its multiplexer. The short
version that runs by default (tools/test.sh); the long bursts and the soak are in
tests/vm/load_bench.py (tools/bench.sh).

  tests/vm/load_test.py [--binary=SSH_PROXY] [--harness=BURST_HARNESS]

Without --binary/--harness it builds them (bazel build -c opt //:ssh-proxy
//tests/e2e:burst_harness). Prints "PASS name", "FAIL name: why" or "SKIP name: why" per scenario
and ends with "N passed, N failed, N skipped"; exits 1 if anything failed. Every host-side process
runs under tests/vm/no-vsock.c. Five guests boot (the faults spoil four); each scenario prints what
it cost. A fault case checks the exact exit status and message, a bound on time, that ssh-proxy
used little CPU (no spinning), held no more fds than its stdio and the connection, and that no
process is left behind.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import load
from load import fds, fd_targets, ms_since, pgrep

import guest as guest_mod
import check  # pylint: disable=wrong-import-order

SCENARIOS = (
    "load_boot_guest", "burst_16_all_get_an_fd", "nothing_listening_decided_under_100ms",
    "backlog_overflow_names_the_backlog", "sshd_restarted_between_connections",
    "reboot_during_relay", "pause_waiting_for_ok_exit_75", "pause_then_next_connection",
    "pause_shorter_than_timeout_connects", "qemu_killed_waiting_for_ok",
    "socket_path_stale_after_vmm_exit", "socket_path_replaced_by_new_vmm",
    "vhost_killed_waiting_for_ok", "vhost_killed_mid_relay_100MiB",
    "sigstop_waiting_for_ok_exit_75", "sigstop_then_next_connection",
    "load_teardown_leaves_nothing")
HOSTNAME = "ssh-proxy-guest"
MIB = 1048576
# ssh-proxy -v's progress lines, left out of the stderr a relay case shows.
DEBUG_LINE = re.compile(r"^ssh-proxy: debug: (connecting|connected|sent CONNECT|multiplexer "
                        r"replied|relaying|stage)")
USAGE = "[--binary=SSH_PROXY] [--harness=BURST_HARNESS]"


class Finished(Exception):
    """The run ends here (its summary follows)."""


def text(value):
    """A figure as the shell version printed it: "" for a missing one."""
    return "" if value is None else str(value)


def num(value, missing=99999):
    """A figure for a comparison: MISSING when there is none."""
    return missing if value is None else value


def cost(label, t0):
    """Prints what a scenario cost."""
    print(f"  ({label}: {ms_since(t0)} ms)", flush=True)


def fds_ok(pid, most=4):
    """"" if ssh-proxy PID holds at most MOST fds (while it waits: stdin, stdout, stderr and the
    connection; a relay adds two splice pipes: 8), else what it holds."""
    n = fds(pid)
    return "" if n <= most else f"ssh-proxy held {n} fds: {fd_targets(pid)}"


class LoadTest:  # pylint: disable=too-many-instance-attributes
    """The scenarios, in the order of SCENARIOS, against five guests booted one after another."""

    def __init__(self, binary, harness, work):
        self.bin = binary
        self.harness = harness
        self.work = work
        self.checks = check.Checks()
        self.vm = None
        self.load = None
        self.no_vsock = None
        self.vhost_version = ""
        self.all_dirs = []
        self.all_pids = []
        self.stable = f"{work}/vm.sock"
        self.id_b = ""

    # --- guests ------------------------------------------------------------------------------

    def boot(self, label):
        """A fresh minimal guest; on failure every scenario left fails and the run ends."""
        t0 = check.now_ms()
        self.vm = guest_mod.Guest(self.bin, "minimal")
        if not self.vm.start():
            self.checks.fail_unreported(
                SCENARIOS, f"guest {label} did not boot (see the vm: lines above)")
            raise Finished
        self.load = load.Load(self.vm, self.harness)
        self.all_dirs.append(self.vm.dir)
        self.all_pids.extend(self.vm.pids)
        print(f"  (guest {label} booted in {ms_since(t0)} ms; sshd answered {self.vm.boot_ms} ms "
              "after qemu started)", flush=True)

    def stop(self):
        """Stops the current guest (if any)."""
        if self.vm:
            self.vm.stop()

    @property
    def target(self):
        return self.load.target

    def boot_id(self, target=None):
        """The guest's boot_id through TARGET (default: its multiplexer); a check.Result."""
        return self.vm.ssh(target or self.target, "cat /proc/sys/kernel/random/boot_id")

    def nothing_listening(self, port):
        """ssh-proxy's exact message for a guest port with nothing listening or a full backlog."""
        return (f"ssh-proxy: cannot connect to {self.target} port {port}: nothing listening on "
                f"guest port {port}, or its listen backlog is full: the multiplexer closed the "
                "connection without a reply")

    # --- one ssh-proxy in the background ------------------------------------------------------

    def one_proxy(self, *args):
        """One ssh-proxy ARGS through burst_harness in the background (it kills at its own 60 s);
        the harness's Popen, its output in a file of WORK."""
        out = tempfile.NamedTemporaryFile(  # pylint: disable=consider-using-with
            "w+", dir=self.work, prefix="one.", suffix=".out", delete=False)
        proc = subprocess.Popen(  # pylint: disable=consider-using-with
            [self.no_vsock, self.harness, "--count=1", "--timeout=60", "--", self.bin, *args],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        proc.out_file = out
        return proc

    @staticmethod
    def one_wait(proc):
        """Waits for one_proxy's harness; its "copy 0:" line, parsed (rc, exit_ms, cpu_ms,
        stderr: its stderr's first line)."""
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.out_file.seek(0)
        copy = load.Burst(proc.out_file.read()).first()
        proc.out_file.close()
        return copy

    @staticmethod
    def proxy_child(harness_pid):
        """The ssh-proxy the harness started (waits up to 2 s for it), or None."""
        for _ in range(200):
            kids = load.children(harness_pid)
            if kids:
                return kids[0]
            time.sleep(0.01)
        return None

    # --- pause, resume, relay -----------------------------------------------------------------

    def pause(self, how):
        """Pauses the guest: HOW qmp is QMP stop, sigstop is SIGSTOP to qemu."""
        if how == "qmp":
            self.load.qmp('{"execute":"stop"}')
        else:
            check.send_signal(self.load.qemu_pid(), signal.SIGSTOP)

    def resume(self, how):
        """Resumes what pause(HOW) paused."""
        if how == "qmp":
            self.load.qmp('{"execute":"cont"}')
        else:
            check.send_signal(self.load.qemu_pid(), signal.SIGCONT)

    def start_relay(self):
        """ssh relaying 100 MiB from the guest through ssh-proxy -v (ProxyUseFdpass no), in the
        background (bounded at 300 s); returns (its Popen, the relaying ssh-proxy or None) once
        more than 1 MiB arrived (or after 10 s)."""
        with open(f"{self.work}/relay.bytes", "wb") as out, \
                open(f"{self.work}/relay.err", "wb") as err:
            relay = subprocess.Popen(  # pylint: disable=consider-using-with
                ["timeout", "-k", "5", "300", self.vm.no_vsock, "ssh", "-F",
                 f"{self.vm.dir}/ssh_config", "-o", f"ProxyCommand={self.bin} -v '%n' %p",
                 "-o", "ProxyUseFdpass=no", self.target, "head -c 104857600 /dev/zero"],
                stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        pattern = f"^{re.escape(self.bin)} -v {re.escape(self.target)} 22$"
        proxy = None
        for _ in range(100):
            found = pgrep(pattern)
            proxy = found[0] if found else None
            if proxy and self.relayed() > MIB:
                break
            time.sleep(0.1)
        return relay, proxy

    def relayed(self):
        """How many bytes the relay has written so far."""
        return os.path.getsize(f"{self.work}/relay.bytes")

    def relay_stderr(self):
        """The relay's stderr lines without ssh-proxy's progress lines and carriage returns."""
        with open(f"{self.work}/relay.err", encoding="utf-8", errors="replace") as err:
            return [line.replace("\r", "").rstrip("\n") for line in err
                    if not DEBUG_LINE.match(line)]

    @staticmethod
    def wait_gone(pid):
        """Waits up to 5 s for PID to end; (gone, ms waited)."""
        t0 = check.now_ms()
        gone = check.wait_for(lambda: not check.alive(pid), 5, 0.05)
        return gone, ms_since(t0)

    # --- the scenarios ------------------------------------------------------------------------

    def run(self):
        """All scenarios; the exit status."""
        try:
            self.scenarios()
        except Finished:
            pass
        finally:
            self.stop()
        return self.checks.summary()

    def scenarios(self):
        t_all = check.now_ms()
        self.guest_a()
        self.guest_b()
        self.stale_path()
        self.guest_c()
        self.guest_d()
        self.guest_e()
        self.teardown()
        print(f"load tests took {ms_since(t_all)} ms (five guests booted, load average "
              f"{load.loadavg()})", flush=True)

    def guest_a(self):
        """Guest A: the burst, nothing listening, the backlog, sshd restarted, reboot, pause."""
        self.boot("A")
        self.checks.ok("load_boot_guest")
        # no-vsock outlives each guest's directory here (the stale-path case runs between guests).
        self.no_vsock = f"{self.work}/no-vsock"
        shutil.copy(self.vm.no_vsock, self.no_vsock)
        self.vhost_version = self.load.vhost_version()
        qemu = check.run(["qemu-system-x86_64", "--version"], timeout=30).out
        qemu_version = re.search(r"version (\S+)", qemu.splitlines()[0] if qemu else "")
        print(f"  (vhost-device-vsock {self.vhost_version}, qemu "
              f"{qemu_version.group(1) if qemu_version else ''}, load average {load.loadavg()})",
              flush=True)
        mux_base = fds(self.load.vhost_pid())
        self.burst_16(mux_base)
        self.nothing_listening_case()
        self.backlog_overflow()
        self.sshd_restarted()
        self.reboot_during_relay()
        t0 = check.now_ms()
        self.pause_waiting("qmp", "pause_waiting_for_ok_exit_75")
        self.next_connection("qmp", "pause_then_next_connection")
        cost("pause", t0)
        self.stop()

    def burst_16(self, mux_base):
        """A burst of 16 against the guest's listener (socat, backlog 128): every copy gets an fd
        and the guest's sshd banner; afterwards the multiplexer is back to its fds before it."""
        t0 = check.now_ms()
        b = self.load.burst(16, 22, ["--read-line", "--timeout=60"])
        banners = b.count(r'line="SSH-2.0-')
        bad_rc = b.count(r"^copy .*rc=[1-9]")
        mux_after = self.load.mux_settle(mux_base, 30)
        left = " ".join(map(str, pgrep(f"^{re.escape(f'{self.bin} {self.target} ')}")))
        print(f"  ({b.summary}; banners {banners}; multiplexer fds {mux_base} before, {mux_after} "
              f"after; RSS {load.rss_kb(self.load.vhost_pid())} kB)", flush=True)
        self.checks.expect(
            "burst_16_all_get_an_fd",
            b.got == 16 and banners == 16 and bad_rc == 0 and mux_after <= mux_base and not left,
            f"{b.summary}; banners {banners}; nonzero exits {bad_rc}; mux fds {mux_base} -> "
            f"{mux_after}; left [{left}]; {b.rest}")
        cost("burst of 16", t0)

    def nothing_listening_case(self):
        """Nothing listening on the guest port: decided from the multiplexer's EOF, without
        waiting for --timeout. 10 one at a time (each under 100 ms: the figure the issue asks for;
        on this shared 2-core machine one slow spawn may exceed it, so the median must be under
        100 ms and every one under 1 s), then 16 at once."""
        t0 = check.now_ms()
        times, bad = [], ""
        want = (f'stderr="ssh-proxy: cannot connect to {self.target} port 2222: nothing listening '
                "on guest port 2222")
        for _ in range(10):
            c = self.load.burst(1, 2222).first()
            if c.exit_ms is not None:
                times.append(c.exit_ms)
            if not (" rc=69 " in c.raw and want in c.raw and num(c.exit_ms) < 1000):
                bad += f"[{c.raw}] "
        p50, _, _, pmax = load.percentiles(times)
        b = self.load.burst(16, 2222, ["--timeout=30"])
        burst_max = b.slowest_exit()
        burst_69 = b.count(r"^copy .* rc=69 .*nothing listening on guest port 2222")
        print(f"  (one at a time: p50 {p50} ms, max {pmax} ms; 16 at once: all decided within "
              f"{text(burst_max)} ms)", flush=True)
        self.checks.expect(
            "nothing_listening_decided_under_100ms",
            not bad and p50 != "-" and p50 < 100 and burst_69 == 16 and num(burst_max) < 1000,
            f"p50 {p50} ms max {pmax}; burst: {burst_69} of 16 exit 69, slowest {text(burst_max)} "
            f"ms; bad: {bad[:600]}")
        cost("nothing listening", t0)

    def backlog_overflow(self):
        """A listener whose backlog overflows (socat with backlog=1; socat's own default is 5):
        16 at once. The guest resets what its backlog cannot hold, which the multiplexer reports
        exactly as a port with nothing listening: those exit 69 at once, and the message names the
        backlog as the other likely cause. Every other copy gets an fd."""
        name = "backlog_overflow_names_the_backlog"
        t0 = check.now_ms()
        if self.load.guest_listener(2201, 1):
            b = self.load.burst(16, 2201, ["--timeout=60"])
            refused = [c for c in b.copies if c.rc == 69 and c.fd == "none"]
            n69 = len(refused)
            n69_msg = sum(1 for c in refused if c.stderr == self.nothing_listening(2201))
            slow = b.slowest_exit()
            print(f"  ({b.summary}; {n69} refused; slowest exit {text(slow)} ms)", flush=True)
            if n69 == 0:
                self.checks.skip(name, f"16 at once did not overflow a backlog of 1 this time "
                                 f"({b.summary})")
            else:
                self.checks.expect(
                    name, n69 == n69_msg and num(b.got) + n69 == 16 and num(slow) < 10000,
                    f"{n69} exit 69, {n69_msg} with the message; {b.summary}; {b.rest}")
        else:
            self.checks.fail(name, "could not start a guest listener on port 2201")
        cost("backlog overflow", t0)

    def sshd_restarted(self):
        """The guest's sshd restarted between two connections: a control listener on 2200; port
        22's listener stopped (ssh-proxy: 69 at once, ssh: 255), started again (the next ssh logs
        in)."""
        t0 = check.now_ms()
        ok = False
        if not self.load.guest_listener(2200, 128):
            why = "could not start a control listener on guest port 2200"
        else:
            first = "ok" if self.vm.gssh("true").rc == 0 else "failed"
            ok, why = self.restart_listener(first)
        self.checks.expect("sshd_restarted_between_connections", ok, why)
        cost("sshd restarted", t0)

    def restart_listener(self, first):
        """sshd_restarted's part after the control listener started: (ok, why)."""
        if not self.load.guest_stop_listener(22, 2200):
            return False, "could not stop the guest's listener on port 22"
        c = self.load.burst(1, 22).first()
        stopped = self.vm.gssh("true")
        self.vm.ssh("-p", "2200", self.target, load.guest_listen_command(22, 128))
        second, retries = "failed", 50
        for k in range(50):
            r = self.vm.gssh("hostname")
            if r.rc == 0 and r.out.rstrip("\n") == HOSTNAME:
                second, retries = "ok", k
                break
            time.sleep(0.1)
        print(f"  (stopped: ssh-proxy exit after {text(c.exit_ms)} ms, ssh rc {stopped.rc}; "
              f"restarted: next ssh {second} after {retries} retries)", flush=True)
        ok = (first == "ok" and re.search(r" rc=69 .*nothing listening on guest port 22",
                                          c.raw) and num(c.exit_ms) < 1000 and
              stopped.rc == 255 and "nothing listening on guest port 22" in stopped.err and
              second == "ok")
        why = (f"first {first}; stopped: [{c.raw}] ssh rc {stopped.rc} [{stopped.err[:300]}]; "
               f"second {second}")
        return bool(ok), why

    def reboot_during_relay(self):
        """The guest reboots (sysrq b: at once, nothing closes) while a relay of 100 MiB runs (ssh
        with ProxyUseFdpass no, ssh-proxy copying). ssh-proxy must not spin while the guest is
        gone; once the guest is back the next ssh works (a new boot_id); closing the relay's ssh
        ends its ssh-proxy. vhost-device-vsock keeps the relay's connection open across the
        guest's reset (it sends no reset to the host side), so the relay does not end by itself:
        ssh's keepalives or the user end it."""
        t0 = check.now_ms()
        boot_id = self.boot_id().out.rstrip("\n")
        self.load.qmp('{"execute":"set-action","arguments":{"reboot":"reset"}}')
        relay, proxy = self.start_relay()
        console = f"{self.vm.dir}/console.log"

        def readies():
            with open(console, encoding="utf-8", errors="replace") as lines:
                return sum(1 for line in lines if line.startswith("ssh-proxy-vm: ready"))

        before = readies()
        self.vm.gssh("setsid sh -c 'sleep 0.2; echo b >/proc/sysrq-trigger' </dev/null "
                     ">/dev/null 2>&1 &")
        t_reboot = check.now_ms()
        check.wait_for(lambda: readies() > before, 120, 0.1)
        reboot_ms = ms_since(t_reboot)
        cpu_during = load.cpu_ms(proxy) if proxy else None
        fdmsg = fds_ok(proxy, 8)
        new_id = ""
        for _ in range(100):
            r = self.boot_id()
            new_id = r.out.rstrip("\n")
            if r.rc == 0:
                break
            time.sleep(0.2)
        relay_alive = "yes" if relay.poll() is None else "no"
        got = self.relayed()
        # The user gives up on the stuck session (as ^C would): ssh goes, and takes its ssh-proxy
        # along.
        kids = load.children(relay.pid)
        check.send_signal(kids[0] if kids else relay.pid, signal.SIGTERM)
        gone, gone_ms = self.wait_gone(proxy)
        relay.wait(timeout=310)
        rerr = "".join(f"{line}|" for line in self.relay_stderr())
        after = self.vm.gssh("hostname").out.rstrip("\n")
        cpu = "?" if cpu_during is None else cpu_during
        print(f"  (relayed {got} bytes before the reboot; guest back after {reboot_ms} ms; "
              f"ssh-proxy used {cpu} ms CPU in all; relay still open: {relay_alive}; ssh-proxy "
              f"gone {gone_ms} ms after its ssh; stderr: {rerr[:300]})", flush=True)
        ok = (proxy and MIB < got < 100 * MIB and len(boot_id) == 36 and len(new_id) == 36 and
              new_id != boot_id and num(cpu_during) < 2000 and not fdmsg and gone and
              after == HOSTNAME)
        self.checks.expect(
            "reboot_during_relay", ok,
            f"proxy [{text(proxy)}] bytes {got}; boot_id [{boot_id}] -> [{new_id}]; cpu {cpu} ms; "
            f"{fdmsg}; gone {'yes' if gone else 'no'}; next ssh after [{after}]; stderr "
            f"[{rerr[:300]}]")
        cost("reboot during relay", t0)

    def pause_waiting(self, how, name):
        """The guest paused (HOW: qmp, QMP stop; sigstop, SIGSTOP to qemu) while ssh-proxy waits
        for OK: exit 75 at --timeout=3s, little CPU, only its own fds, nothing left."""
        self.pause(how)
        one = self.one_proxy("--timeout=3s", self.target, "22")
        time.sleep(1)
        fdmsg = fds_ok(self.proxy_child(one.pid))
        c = self.one_wait(one)
        left = " ".join(map(str, pgrep(
            f"^{re.escape(f'{self.bin} --timeout=3s {self.target} ')}")))
        print(f"  (paused ({how}): exit {text(c.rc)} after {text(c.exit_ms)} ms, CPU "
              f"{text(c.cpu_ms)} ms)", flush=True)
        want = (f"ssh-proxy: no reply from the multiplexer of {self.target} port 22: timed out "
                "after 3s")
        self.checks.expect(
            name, c.rc == 75 and c.stderr == want and 2900 <= num(c.exit_ms, -1) < 4000 and
            num(c.cpu_ms) < 200 and not fdmsg and not left,
            f"rc {text(c.rc)} after {text(c.exit_ms)} ms (want 75 in 2.9..4 s), CPU "
            f"{text(c.cpu_ms)} ms, [{c.stderr}] {fdmsg} left [{left}]")
        self.resume(how)

    def next_connection(self, how, name):
        """After the resume, the next connection must work: ssh-proxy probes with --timeout=3s for
        up to about 11 s (a resumed TCG guest answers within 1-2 s), then ssh itself.
        vhost-device-vsock 0.3.0 fails here in two ways of its own, reported as SKIP with its
        version and the symptom (anything else fails): after QMP stop it never answers again once
        a CONNECT arrived during the pause; after SIGSTOP its vring thread panics writing "OK" to
        the client that gave up (src/vsock_conn.rs, BrokenPipe) and answers nothing more."""
        status = re.search(r'"status": "[a-z-]*"', self.load.qmp('{"execute":"query-status"}'))
        status = status.group(0) if status else ""
        t1 = check.now_ms()
        all75 = True
        probe = ""
        for _ in range(3):
            probe = self.load.burst(1, 22, ["--read-line", "--timeout=10"],
                                    ["--timeout=3s"]).first().raw
            if re.search(r' rc=0 fd=socket .*line="SSH-2\.0-', probe):
                break
            if not re.search(r" rc=75 .*no reply from the multiplexer", probe):
                all75 = False
            time.sleep(1)
        next_ok, next_err = False, ""
        if " rc=0 fd=socket " in probe:
            r = self.vm.gssh("hostname", timeout=30)
            next_ok, next_err = r.rc == 0 and r.out.rstrip("\n") == HOSTNAME, r.err
        panic = load.first_line_with(f"{self.vm.dir}/vhost.out", "panicked at")
        print(f"  (resumed ({how}): {status}; next connection {'ok' if next_ok else 'failed'} "
              f"after {ms_since(t1)} ms; last probe: {probe[:160]}; multiplexer: "
              f"{panic or 'no panic logged'})", flush=True)
        if next_ok:
            self.checks.ok(name)
        elif (self.vhost_version.startswith("0.3.0") and "running" in status and all75 and
              (how == "qmp" or panic)):
            if how == "qmp":
                self.checks.skip(name, (
                    f"vhost-device-vsock {self.vhost_version} defect: a CONNECT that arrives "
                    "during QMP stop is never answered after cont, and no later CONNECT is (the "
                    f"guest runs: {status}; every ssh-proxy --timeout=3s probe for {ms_since(t1)} "
                    f"ms exited 75 'no reply from the multiplexer'; {panic or 'no panic logged'}"
                    "); ssh-proxy's own part (exit 75 at --timeout) passed above"))
            else:
                self.checks.skip(name, (
                    f"vhost-device-vsock {self.vhost_version} defect: its vring thread panicked "
                    f"({panic}) when the client that gave up was sent OK after SIGCONT, and it "
                    "answers no CONNECT since (every ssh-proxy --timeout=3s probe exited 75); "
                    "ssh-proxy's own part (exit 75 at --timeout) passed above"))
        else:
            self.checks.fail(name, f"status [{status}]; probe [{probe}]; multiplexer [{panic}]; "
                             f"ssh: {next_err[:300]}")

    def killed_while_waiting(self, victim):
        """The guest paused (QMP stop, so the request sits with the guest) while ssh-proxy
        --timeout=10s waits for OK, then VICTIM (the pid of "qemu" or "vhost") gets SIGKILL.
        Returns (ssh-proxy's copy line, ms from the kill to its exit, fds_ok's verdict)."""
        self.load.qmp('{"execute":"stop"}')
        one = self.one_proxy("--timeout=10s", self.target, "22")
        time.sleep(1)
        fdmsg = fds_ok(self.proxy_child(one.pid))
        pid = self.load.qemu_pid() if victim == "qemu" else self.load.vhost_pid()
        check.send_signal(pid, signal.SIGKILL)
        t_kill = check.now_ms()
        c = self.one_wait(one)
        return c, ms_since(t_kill), fdmsg

    def guest_b(self):
        """Guest B: a pause shorter than --timeout; QEMU killed (SIGKILL) while ssh-proxy waits
        for OK. The multiplexer's socket is also reached through a stable name of our own
        (WORK/vm.sock, a hard link: the way a VMM manager publishes one path per VM)."""
        t0 = check.now_ms()
        self.boot("B")
        os.link(self.vm.mux, self.stable)
        self.id_b = self.boot_id(f"vsock-mux{self.stable}").out.rstrip("\n")
        cost("guest B", t0)

        # A pause shorter than --timeout: ssh-proxy waits for OK through it and hands the
        # connection over once the guest runs again. SIGSTOP, not QMP stop: a CONNECT that arrives
        # during QMP stop is never answered by vhost-device-vsock 0.3.0 (pause_then_next_connection
        # shows that one).
        t0 = check.now_ms()
        self.pause("sigstop")
        one = self.one_proxy("--timeout=10s", self.target, "22")
        time.sleep(1.5)
        fdmsg = fds_ok(self.proxy_child(one.pid))
        self.resume("sigstop")
        c = self.one_wait(one)
        r = self.vm.gssh("hostname")
        out = r.out.rstrip("\n")
        print(f"  (paused 1.5 s (SIGSTOP): exit {text(c.rc)} after {text(c.exit_ms)} ms, CPU "
              f"{text(c.cpu_ms)} ms; next ssh: [{out}])", flush=True)
        self.checks.expect(
            "pause_shorter_than_timeout_connects",
            c.rc == 0 and " fd=socket " in c.raw and 1400 <= num(c.exit_ms, -1) < 10000 and
            num(c.cpu_ms) < 200 and not fdmsg and out == HOSTNAME,
            f"[{c.raw}] {fdmsg}; next ssh [{out}] {r.err[:300]}")
        cost("short pause", t0)

        t0 = check.now_ms()
        vhost = self.load.vhost_pid()
        c, after_kill, fdmsg = self.killed_while_waiting("qemu")
        time.sleep(0.5)
        vhost_alive = "still running" if check.alive(vhost) else "exited"
        # What the next one gets from the multiplexer left without its VMM (69 at once, whether
        # it resets the connection before or after the CONNECT line).
        after = self.load.burst(1, 22, ["--timeout=15"]).first()
        print(f"  (qemu killed: ssh-proxy exit {text(c.rc)} {after_kill} ms after the kill, CPU "
              f"{text(c.cpu_ms)} ms: [{c.stderr}]; vhost-device-vsock {vhost_alive}; the next "
              f"ssh-proxy: {after.raw[:240]})", flush=True)
        send = f"ssh-proxy: cannot send CONNECT to the multiplexer of {self.target} port 22: " \
               "the multiplexer closed the connection: "
        after_ok = (" rc=69 " in after.raw and num(after.exit_ms) < 1000 and (
            after.stderr in (send + "Broken pipe (EPIPE)", send + "Connection reset by peer "
                             "(ECONNRESET)") or
            "nothing listening on guest port 22, or its listen backlog is full: the multiplexer "
            "closed the connection without a reply" in after.raw))
        self.checks.expect(
            "qemu_killed_waiting_for_ok",
            c.rc == 69 and c.stderr == self.nothing_listening(22) and after_kill < 3000 and
            num(c.cpu_ms) < 200 and not fdmsg and after_ok,
            f"rc {text(c.rc)} {after_kill} ms after the kill, CPU {text(c.cpu_ms)} [{c.stderr}] "
            f"{fdmsg}; vhost {vhost_alive}; next [{after.raw}]")
        cost("qemu killed", t0)
        self.stop()

    def stale_path(self):
        """The VMM is gone but its socket's name remains: nothing accepts there, at once (69)."""
        t0 = check.now_ms()
        c = self.load.burst(1, 22, ["--timeout=30"], no_vsock=self.no_vsock,
                            target=f"vsock-mux{self.stable}").first()
        print(f"  (stale name: {c.raw[:260]})", flush=True)
        want = (f"ssh-proxy: cannot connect to vsock-mux{self.stable} port 22: Connection refused "
                "(ECONNREFUSED)")
        self.checks.expect("socket_path_stale_after_vmm_exit",
                           " rc=69 " in c.raw and c.stderr == want and num(c.exit_ms) < 1000,
                           c.raw)
        cost("stale socket", t0)

    def guest_c(self):
        """Guest C, a new VMM instance, takes the name over (an atomic rename, as a VMM manager
        would): the next connection through the same name reaches the new guest (another
        boot_id). Then vhost-device-vsock killed (SIGKILL) while ssh-proxy waits for OK."""
        t0 = check.now_ms()
        self.boot("C")
        os.link(self.vm.mux, f"{self.work}/vm.sock.new")
        os.replace(f"{self.work}/vm.sock.new", self.stable)
        r = self.boot_id(f"vsock-mux{self.stable}")
        id_c = r.out.rstrip("\n")
        self.checks.expect(
            "socket_path_replaced_by_new_vmm",
            len(self.id_b) == 36 and len(id_c) == 36 and self.id_b != id_c,
            f"boot_id through {self.stable}: B [{self.id_b}], C [{id_c}] {r.err[:300]}")
        cost("path replaced", t0)

        t0 = check.now_ms()
        c, after_kill, fdmsg = self.killed_while_waiting("vhost")
        after = self.load.burst(1, 22, ["--timeout=15"]).first()
        print(f"  (vhost-device-vsock killed: ssh-proxy exit {text(c.rc)}, {after_kill} ms after "
              f"the kill, CPU {text(c.cpu_ms)} ms; the next ssh-proxy: {after.raw[:240]})",
              flush=True)
        refused = f"ssh-proxy: cannot connect to {self.target} port 22: Connection refused " \
                  "(ECONNREFUSED)"
        self.checks.expect(
            "vhost_killed_waiting_for_ok",
            c.rc == 69 and c.stderr == self.nothing_listening(22) and after_kill < 1000 and
            num(c.cpu_ms) < 200 and not fdmsg and " rc=69 " in after.raw and
            after.stderr == refused,
            f"rc {text(c.rc)} {after_kill} ms after the kill, CPU {text(c.cpu_ms)} [{c.stderr}] "
            f"{fdmsg}; next [{after.raw}]")
        cost("vhost killed while waiting", t0)
        self.stop()

    def guest_d(self):
        """Guest D: vhost-device-vsock killed (SIGKILL) in the middle of a relay of 100 MiB."""
        t0 = check.now_ms()
        self.boot("D")
        relay, proxy = self.start_relay()
        fdmsg = fds_ok(proxy, 8)
        check.send_signal(self.load.vhost_pid(), signal.SIGKILL)
        t_kill = check.now_ms()
        ssh_rc = relay.wait(timeout=310)
        end_ms = ms_since(t_kill)
        gone, waited = self.wait_gone(proxy)
        gone_ms = end_ms + waited
        got = self.relayed()
        lines = self.relay_stderr()
        err = "".join(f"{line}|" for line in lines)
        print(f"  (relayed {got} bytes; vhost-device-vsock killed: ssh exit {ssh_rc} after "
              f"{end_ms} ms, ssh-proxy gone after {gone_ms} ms; stderr: {err[:400]})", flush=True)
        # ssh-proxy sees the multiplexer's EOF: the relay towards ssh ends, ssh reports the closed
        # connection (255), and ssh-proxy is gone (its relay ended, or ssh's SIGHUP ended it).
        why = ""
        if not proxy:
            why += "no ssh-proxy relaying; "
        if not MIB < got < 100 * MIB:
            why += f"relayed {got} bytes, not part of 100 MiB; "
        if ssh_rc != 255:
            why += f"ssh exit {ssh_rc}, not 255; "
        # Killed with bytes still queued in it, the multiplexer's socket resets (ssh-proxy reports
        # the reset, 69, and ssh finds its pipe closed); killed without, it just closes (the relay
        # ends, ssh reports the closed connection). Either, exactly. (ssh lowercases the host name
        # in its own messages; ssh-proxy got it as typed, through %n.)
        closed = f"Connection to {self.target} closed by remote host.".lower()
        reset = (f"ssh-proxy: relay {self.target} port 22 -> stdout: the connection was reset: "
                 "Connection reset by peer (ECONNRESET)")
        if any(line.lower() == closed for line in lines):
            how_ended = "EOF: the relay ended; ssh: closed by remote host"
        elif reset in lines:
            ssh_said = next((line for line in lines if not line.startswith("ssh-proxy: ")), "")
            how_ended = f"reset: ssh-proxy reported it; ssh: {ssh_said}"
        else:
            how_ended = ""
            why += (f"neither 'Connection to {self.target} closed by remote host.' from ssh nor "
                    "ssh-proxy's reset line; ")
        print(f"  ({how_ended or 'ended otherwise'})", flush=True)
        if end_ms >= 5000:
            why += f"ssh ended {end_ms} ms after the kill; "
        if not gone:
            why += f"ssh-proxy {proxy} still running {gone_ms} ms after the kill; "
        if fdmsg:
            why += f"{fdmsg}; "
        self.checks.expect("vhost_killed_mid_relay_100MiB", not why, f"{why}stderr [{err}]")
        cost("vhost killed mid-relay", t0)
        self.stop()

    def guest_e(self):
        """Guest E: SIGSTOP to qemu while ssh-proxy waits for OK: 75 at --timeout; then SIGCONT
        and the next one. Last: vhost-device-vsock 0.3.0's vring thread may panic here, and the
        process then exits at the next vhost-user request, which would spoil any case after it."""
        t0 = check.now_ms()
        self.boot("E")
        self.pause_waiting("sigstop", "sigstop_waiting_for_ok_exit_75")
        self.next_connection("sigstop", "sigstop_then_next_connection")
        cost("SIGSTOP", t0)
        self.stop()

    def teardown(self):
        """Nothing of the five guests survives: their processes, sockets, directories."""
        left = []
        for directory in self.all_dirs:
            left += guest_mod.leftovers(directory, self.all_pids)
        left += [f"{pid} {load.cmdline(pid)}" for pid in pgrep(f"^{re.escape(self.bin)} ")
                 if "/tmp/ssh-proxy-vm." in load.cmdline(pid)]
        self.checks.expect("load_teardown_leaves_nothing", not left, "; ".join(left))


def main(argv):
    """Parses the command line, runs every scenario (or skips them all); the exit status."""
    given = check.flags(argv, ("binary", "harness"))
    if given is None:
        print(f"usage: {argv[0]} {USAGE}", file=sys.stderr)
        return 2
    binary, harness = given.get("binary", ""), given.get("harness", "")
    reason = guest_mod.skip_reason()
    if reason:
        checks = check.Checks()
        for name in SCENARIOS:
            checks.skip(name, reason)
        return checks.summary()
    if not binary or not harness:
        bin_dir = guest_mod.bazel_bin("//:ssh-proxy", "//tests/e2e:burst_harness")
        if bin_dir is None:
            checks = check.Checks()
            for name in SCENARIOS:
                checks.fail(name, "bazel build -c opt failed")
            return checks.summary()
        binary = binary or f"{bin_dir}/ssh-proxy"
        harness = harness or f"{bin_dir}/tests/e2e/burst_harness"
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    work = tempfile.mkdtemp(prefix="ssh-proxy-load.", dir="/tmp")
    try:
        return LoadTest(os.path.abspath(binary), os.path.abspath(harness), work).run()
    except KeyboardInterrupt:
        return 130
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
