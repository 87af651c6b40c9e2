# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
"""check.py: what the Python tests share (the twin of tests/check.sh for the shell tests).

Each check prints one line, "PASS name", "FAIL name: why" or "SKIP name: why"; tools/test.sh counts
those lines (a SKIP is never a pass). A test ends with `sys.exit(checks.summary())`, which prints
"N passed, N failed, N skipped" and returns 1 if any check failed.

run() runs a command with a bound: no test waits forever on a process that hangs.
"""

import dataclasses
import os
import signal
import subprocess
import sys
import time


class Checks:
    """Counts and prints the verdict of each check."""

    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.skipped = 0

    def ok(self, name):
        print(f"PASS {name}", flush=True)
        self.passed += 1

    def fail(self, name, why):
        print(f"FAIL {name}: {why}", flush=True)
        self.failed += 1

    def skip(self, name, why):
        print(f"SKIP {name}: {why}", flush=True)
        self.skipped += 1

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
    start = _now_ms()
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
    return Result(rc, _text(out), _text(err), _now_ms() - start)


def paths_from_argv(*names):
    """The test's command line: one path per NAME (Bazel passes runfiles paths relative to the
    working directory), each made absolute. With another count, prints the usage line and exits
    with status 2."""
    if len(sys.argv) != len(names) + 1:
        print(f"usage: {sys.argv[0]} {' '.join(names)}", file=sys.stderr)
        sys.exit(2)
    return [os.path.abspath(arg) for arg in sys.argv[1:]]


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


def _kill_group(pgid):
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _text(data):
    return data.decode("utf-8", "replace") if data else ""


def _now_ms():
    return int(time.monotonic() * 1000)


if __name__ == "__main__":
    sys.exit("check.py is a module: import it")
