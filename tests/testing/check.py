# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
"""check.py: what the Python tests share (the twin of tests/check.sh for the shell tests).

Each check prints one line, "PASS name", "FAIL name: why" or "SKIP name: why"; tools/test.sh counts
those lines (a SKIP is never a pass). A test ends with `sys.exit(checks.summary())`, which prints
"N passed, N failed, N skipped" and returns 1 if any check failed.

run() runs a command with a bound: no test waits forever on a process that hangs; wait_for,
alive, send_signal and stop_pids are the process handling the fixtures and guests share.
"""

import dataclasses
import os
import pathlib
import signal
import subprocess
import sys
import time


class Checks:
    """Counts and prints the verdict of each check, and remembers which names have one."""

    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.skipped = 0
        self.reported = set()

    def ok(self, name):
        print(f"PASS {name}", flush=True)
        self.passed += 1
        self.reported.add(name)

    def fail(self, name, why):
        print(f"FAIL {name}: {why}", flush=True)
        self.failed += 1
        self.reported.add(name)

    def skip(self, name, why):
        print(f"SKIP {name}: {why}", flush=True)
        self.skipped += 1
        self.reported.add(name)

    def fail_unreported(self, names, why):
        """FAIL with why each of names that has no verdict yet (a guest that did not boot, a step
        that raised): a scenario that was not shown never goes unreported."""
        for name in names:
            if name not in self.reported:
                self.fail(name, why)

    def expect(self, name, ok, why):
        """PASS when ok is true, else FAIL with why (a string, or a callable that makes it)."""
        if ok:
            self.ok(name)
        else:
            self.fail(name, why() if callable(why) else why)
        return bool(ok)

    def summary(self):
        """Prints the closing line; returns the exit status (1 if a check failed)."""
        print(f"{self.passed} passed, {self.failed} failed, {self.skipped} skipped", flush=True)
        return 1 if self.failed else 0


@dataclasses.dataclass
class Result:
    """What a command did. rc is None when it was killed for running past its timeout."""

    rc: int | None
    out: str
    err: str
    ms: int

    def detail(self, out_cut=400, err_cut=600):
        """One line for a failure message."""
        return f"rc={self.rc} stdout=[{self.out[:out_cut]}] stderr=[{self.err[:err_cut]}]"


def run(argv, *, timeout, stdin=subprocess.DEVNULL, env=None, cwd=None, pass_fds=(),
        stdout=subprocess.PIPE):
    """Runs argv in a process group of its own, with stdin from `stdin` (bytes, a file object or
    DEVNULL). After `timeout` seconds the whole group gets SIGKILL and rc is None. Output is
    decoded as UTF-8 with invalid bytes replaced; with `stdout` a file object (binary output),
    the command's stdout goes there and out is empty."""
    data = stdin if isinstance(stdin, bytes) else None
    start = now_ms()
    with subprocess.Popen(
        argv,
        stdin=subprocess.PIPE if data is not None else stdin,
        stdout=stdout,
        stderr=subprocess.PIPE,
        env=env,
        cwd=cwd,
        pass_fds=pass_fds,
        start_new_session=True,
    ) as proc:
        try:
            out, err = proc.communicate(data, timeout=timeout)
            rc = proc.returncode
        except subprocess.TimeoutExpired:
            _kill_group(proc.pid)
            out, err = proc.communicate()
            rc = None
    return Result(rc, _text(out), _text(err), now_ms() - start)


def paths_from_argv(*names):
    """The test's command line: one path per NAME (Bazel passes runfiles paths relative to the
    working directory), each made absolute. With another count, prints the usage line and exits
    with status 2."""
    if len(sys.argv) != len(names) + 1:
        print(f"usage: {sys.argv[0]} {' '.join(names)}", file=sys.stderr)
        sys.exit(2)
    return [os.path.abspath(arg) for arg in sys.argv[1:]]


def flags(argv, names):
    """The --NAME=VALUE arguments of argv (argv[0] left out) as {NAME: VALUE}, for the NAMES a
    program takes; None when there is anything else (the caller prints its usage line)."""
    values = {}
    for arg in argv[1:]:
        name, eq, value = arg.partition("=")
        if not eq or not name.startswith("--") or name[2:] not in names:
            return None
        values[name[2:]] = value
    return values


def in_order(text, *parts):
    """True when every part occurs in text, each after the end of the one before (the shell's
    [[ $text == *"a"*"b"* ]])."""
    at = 0
    for part in parts:
        at = text.find(part, at)
        if at < 0:
            return False
        at += len(part)
    return True


def now_ms():
    """A monotonic clock in ms."""
    return time.monotonic_ns() // 1_000_000


def wait_for(condition, seconds, step=0.01):
    """Polls condition() every step seconds until it is true (returns True) or seconds have passed
    (returns False)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(step)
    return True


def alive(pid):
    """True while PID exists and is not a zombie (a zombie child has ended); False for None."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[-1][0] != "Z"
    except (OSError, IndexError):
        return False


def send_signal(pid, sig):
    """Sends sig to PID; nothing when PID is None or already gone."""
    if pid:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def stop_pids(pids, grace_s=5):
    """TERM to each PID, up to grace_s for all to end, then KILL to what is left; reaps those that
    are our children (others are reaped by whoever started them, or init)."""
    for pid in pids:
        send_signal(pid, signal.SIGTERM)
    wait_for(lambda: not any(alive(p) for p in pids), grace_s)
    for pid in pids:
        send_signal(pid, signal.SIGKILL)
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass


def _kill_group(pgid):
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _text(data):
    return data.decode("utf-8", "replace") if data else ""




if __name__ == "__main__":
    sys.exit("check.py is a module: import it")
