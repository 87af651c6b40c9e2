# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
"""load.py: what load_test.py and load_bench.py share: bursts of ssh-proxy processes against a
guest booted by guest.py, QEMU's QMP monitor (pause, resume, reboot action), the real PIDs of qemu
and vhost-device-vsock, and a process's fds, RSS and CPU time. Every host-side process it starts
runs under no-vsock.
"""

import os
import pathlib
import re
import shlex
import signal
import sys
import time

import guest as guest_mod
import check  # pylint: disable=wrong-import-order

ROOT = guest_mod.ROOT

# The fields of burst_harness's "copy K:" line before its optional line="..." and stderr="...".
_COPY_FIELD = re.compile(r" (rc|fd|ms|exit_ms|attempts|cpu_ms|rss_kb|fds)=(\S+)")


class Copy:
    """One "copy K: rc=.. fd=.. ms=.. exit_ms=.. attempts=.. cpu_ms=.. rss_kb=.. fds=..
    [line="..."] [stderr="..."]" line of burst_harness, raw and parsed (numbers as int, None when
    the line does not carry them)."""

    def __init__(self, raw):
        self.raw = raw
        head = re.split(r' (?:line|stderr)="', raw, maxsplit=1)[0]
        fields = dict(_COPY_FIELD.findall(head))
        self.fd = fields.get("fd")
        for key in ("rc", "ms", "exit_ms", "attempts", "cpu_ms", "rss_kb", "fds"):
            value = fields.get(key)
            setattr(self, key, int(value) if value and re.fullmatch(r"-?\d+", value) else None)
        err = re.search(r' stderr="(.*)"$', raw)
        self.stderr = err.group(1) if err else ""
        line = re.search(r' line="(.*?)"(?: stderr="|$)', raw)
        self.line = line.group(1) if line else None


class Burst:
    """What burst_harness printed: out (all of it), copies (Copy per "copy" line), summary (its
    "burst:" line), got (how many got an fd), rest (its "rest:" lines, joined by newlines)."""

    def __init__(self, out):
        self.out = out
        lines = out.splitlines()
        self.copies = [Copy(line) for line in lines if line.startswith("copy ")]
        self.summary = "\n".join(line for line in lines if line.startswith("burst:"))
        got = re.search(r"^burst: \d+ started, (\d+) got an fd", out, re.M)
        self.got = int(got.group(1)) if got else None
        self.rest = "\n".join(line for line in lines if line.startswith("rest:"))

    def first(self):
        """The "copy 0:" line ("" when there is none)."""
        return self.copies[0] if self.copies else Copy("")

    def count(self, pattern):
        """How many copy lines match the regular expression (re.search)."""
        return sum(1 for c in self.copies if re.search(pattern, c.raw))

    def slowest_exit(self, pattern=""):
        """The largest exit_ms among copies matching pattern, or None."""
        times = [c.exit_ms for c in self.copies if c.exit_ms is not None and
                 re.search(pattern, c.raw)]
        return max(times) if times else None


class Load:
    """A started Guest plus burst_harness: bursts, QMP, the multiplexer's and qemu's PIDs."""

    def __init__(self, vm, harness):
        self.vm = vm
        self.harness = str(harness)

    @property
    def target(self):
        """vsock-mux/ host string of the guest's multiplexer."""
        return f"vsock-mux{self.vm.mux}"

    def qmp(self, *commands):
        """Sends each QMP command (JSON text) after qmp_capabilities; QEMU's replies ("" when the
        monitor cannot be reached)."""
        script = ('{ echo \'{"execute":"qmp_capabilities"}\'; for c in "$@"; do echo "$c"; done; '
                  'sleep 0.2; } | "$0" socat -t 2 - "UNIX-CONNECT:$QMP"')
        env = dict(os.environ, QMP=f"{self.vm.dir}/qmp.sock")
        return check.run(["bash", "-c", script, self.vm.no_vsock, *commands], timeout=10,
                         env=env).out

    def vhost_pid(self):
        """The real vhost-device-vsock of the guest (behind its timeout wrapper), or None."""
        return real_pid(self.vm.pids[0]) if self.vm.pids else None

    def qemu_pid(self):
        """The real qemu of the guest, or None."""
        return real_pid(self.vm.pids[1]) if len(self.vm.pids) > 1 else None

    def vhost_version(self):
        """The vhost-device-vsock package version in use (from its cache directory's name)."""
        try:
            exe = os.readlink(f"/proc/{self.vhost_pid()}/exe")
        except OSError:
            return ""
        directory = exe.removesuffix("/usr/bin/vhost-device-vsock")
        return directory.rsplit("/vhost-device-vsock-", 1)[-1]

    def burst(self, n, port, hopts=(), popts=(), no_vsock=None, target=None):
        """N ssh-proxy processes against guest port PORT at once (burst_harness HOPTS -- ssh-proxy
        POPTS TARGET PORT, under no-vsock); output also in DIR/burst.out. A Burst."""
        argv = [no_vsock or self.vm.no_vsock, self.harness, f"--count={n}", *hopts, "--",
                self.vm.binary, *popts, target or self.target, str(port)]
        result = check.run(argv, timeout=600)
        if self.vm.dir:
            pathlib.Path(self.vm.dir, "burst.out").write_text(result.out)
            pathlib.Path(self.vm.dir, "burst.err").write_text(result.err)
        return Burst(result.out)

    def mux_settle(self, baseline, seconds):
        """Waits until the multiplexer holds at most BASELINE fds (the guest's side of the
        connections has closed), up to SECONDS; the final count."""
        pid = self.vhost_pid()
        for _ in range(int(seconds * 10)):
            if fds(pid) <= baseline:
                break
            time.sleep(0.1)
        return fds(pid)

    def guest_listener(self, port, backlog):
        """In the guest, one more socat listener on vsock PORT with that listen backlog, running
        the guest's sshd per connection. True once ssh answers through it."""
        start = self.vm.gssh(guest_listen_command(port, backlog))
        if start.rc != 0:
            return False
        for _ in range(100):
            if self.vm.ssh("-p", str(port), self.target, "true").rc == 0:
                return True
            time.sleep(0.2)
        return False

    def guest_stop_listener(self, port, control_port):
        """Stops the guest's socat listener on vsock PORT (its parent process; sessions already
        running go on), through CONTROL_PORT. True when it is gone."""
        find = (f"for p in $(pidof socat); do [ \"$(cut -d' ' -f4 /proc/$p/stat)\" = 1 ] && "
                f"grep -q 'VSOCK-LISTEN:{port},' /proc/$p/cmdline && ")
        script = f"{find}kill $p; done; sleep 0.2; {find}exit 1; done; exit 0"
        return self.vm.ssh("-p", str(control_port), self.target, script).rc == 0


def guest_listen_command(port, backlog):
    """The guest shell command that starts a socat listener on vsock PORT in the background."""
    sshd = shlex.quote("EXEC:/usr/sbin/sshd -i -f /etc/ssh/sshd_config,nofork")
    return (f"setsid socat VSOCK-LISTEN:{port},fork,reuseaddr,backlog={backlog} {sshd} "
            "</dev/null >/dev/null 2>&1 &")


def children(pid):
    """The PIDs whose parent is PID, lowest first."""
    found = []
    for stat in pathlib.Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    return sorted(found)


def real_pid(wrapper):
    """The process Guest.spawn started behind `timeout` (no-vsock execs it): the wrapper's only
    child, or None."""
    kids = children(wrapper)
    return kids[0] if kids else None


def cmdline(pid):
    """PID's command line, arguments joined by spaces ("" when it is gone)."""
    try:
        raw = pathlib.Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.rstrip(b"\0").replace(b"\0", b" ").decode("utf-8", "replace")


def pgrep(pattern):
    """PIDs (lowest first, not ours) whose command line matches the regular expression, as
    `pgrep -f` does."""
    found = []
    for proc in pathlib.Path("/proc").glob("[0-9]*"):
        pid = int(proc.name)
        if pid != os.getpid() and re.search(pattern, cmdline(pid)):
            found.append(pid)
    return sorted(found)


def fds(pid):
    """How many fds PID has open (0 when it is gone)."""
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0


def fd_targets(pid):
    """What PID's fds point to, space-separated."""
    targets = []
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            targets.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
    except OSError:
        pass
    return " ".join(targets) + (" " if targets else "")


def rss_kb(pid):
    """PID's resident memory in kB ("" when it is gone)."""
    try:
        for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return line.split()[1]
    except OSError:
        pass
    return ""


def cpu_ms(pid):
    """User + system CPU time of a running process in ms, or None when it is gone."""
    try:
        fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) * 1000 // os.sysconf("SC_CLK_TCK")


def percentiles(values):
    """[p50, p90, p99, max] of the numbers (nearest rank), or four "-" when there are none."""
    ordered = sorted(values)
    if not ordered:
        return ["-"] * 4
    return [ordered[max(int(len(ordered) * q + 0.999), 1) - 1] for q in (0.50, 0.90, 0.99, 1.0)]


def loadavg():
    """The machine's 1, 5 and 15 minute load averages."""
    return " ".join(pathlib.Path("/proc/loadavg").read_text().split()[:3])


def ms_since(t0):
    """ms elapsed since check.now_ms() returned t0."""
    return check.now_ms() - t0




def first_line_with(path, needle):
    """The first line of the file holding NEEDLE ("" when none or no file)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as lines:
            return next((line.rstrip("\n") for line in lines if needle in line), "")
    except OSError:
        return ""


def bench_main(argv, usage, make, flags=()):
    """The benchmarks' main: their command line is --binary=SSH_PROXY --harness=HARNESS (both
    executable; made real paths) and any of FLAGS; make(binary, harness, the FLAGS given) returns
    (run, stop): run() does the work and returns the exit status, stop() ends what it started,
    also on ^C (130) and SIGTERM (143). Returns 2 after the usage line on anything else, and 0
    after "skipped: REASON" when QEMU cannot run here."""
    given = {arg for arg in argv[1:] if arg in flags}
    paths = check.flags([argv[0]] + [arg for arg in argv[1:] if arg not in flags],
                        ("binary", "harness")) or {}
    binary = os.path.realpath(paths["binary"]) if paths.get("binary") else ""
    harness = os.path.realpath(paths["harness"]) if paths.get("harness") else ""
    if not (binary and os.access(binary, os.X_OK) and harness and os.access(harness, os.X_OK)):
        print(f"usage: {argv[0]} {usage}", file=sys.stderr)
        return 2
    reason = guest_mod.skip_reason()
    if reason:
        print(f"skipped: {reason}")
        return 0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    run, stop = make(binary, harness, given)
    try:
        return run()
    except KeyboardInterrupt:
        return 130
    finally:
        stop()
