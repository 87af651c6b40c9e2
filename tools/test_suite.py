#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
"""test_suite.py: the whole test suite; tools/test.sh (what the README and CI run) runs it after
tools/ensure-deps.sh. The steps, in order:
  1. bazel test //...                    (gcc: unit, CLI, connector, end-to-end, fuzz replays)
  2. bazel test --config=asan //...      (the same tests under ASan+UBSan, clang-14)
  3. the fuzz targets under libFuzzer, FUZZ_SECONDS each (default 45), and the other checks
     in tools/ (AFL++, the OSS-Fuzz build.sh check, coverage, the consumer workspace,
     hardening, the Debian package, bzlmod); before all of them, shellcheck over every shell
     script, pyflakes over every Python file, the licence check and the copts check.
  Between 2 and 3: the documents' examples outside Bazel, then tests/vm once (not per Bazel
     config), real QEMU guests; each of its scenarios counts, and VM_TESTS=0 reports them as
     skipped.
Ends with one line "N passed, N failed, N skipped" (each Bazel test target and each check counts
once, each PASS/FAIL/SKIP line of a script test counts once; what failed and what was skipped is
listed above it, a skip with its reason, and a skip never counts as a pass) and exits 1 if
anything failed.

Environment: VM_TESTS=0 skips the guests, VM_FLAVOURS (default minimal,systemd,sid) picks them;
FUZZ_SECONDS (45), FUZZ_PARALLEL (2), AFL_SECONDS (20); DEB_CHECK=0 and BZLMOD_CHECK=0 skip those
(both also need root).
"""

import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading

ROOT = pathlib.Path(__file__).resolve().parent.parent
# No step is near this (the slowest, a cold .deb or sid guest run, takes about 15 minutes): a step
# that runs this long hangs, and is stopped and counted as failed.
STEP_TIMEOUT = 2 * 3600
# Bazel's summary line of one test target: "//pkg:name   (cached) PASSED in 0.1s".
TARGET_PASSED = re.compile(r"^//[^ ]+ +(\(cached\) )?PASSED")
TARGET_FAILED = re.compile(
    r"^//[^ ]+ +(\(cached\) )?(FAILED|TIMEOUT|FLAKY|NO STATUS|INCOMPLETE|FAILED TO BUILD)")
# test.xml's entities as gtest writes them into a skip message.
XML_ENTITIES = (("&#x0A;", " "), ("&apos;", "'"), ("&quot;", '"'), ("&lt;", "<"), ("&gt;", ">"),
                ("&amp;", "&"))


def env_or(name, default):
    """The variable's value, or default when it is unset or empty (the shell's ${NAME:-default})."""
    return os.environ.get(name) or default


def read_lines(path):
    """The lines of a file as grep sees them (split at newlines only, invalid UTF-8 replaced), or
    [] when it does not exist."""
    try:
        text = pathlib.Path(path).read_text(errors="replace")
        return text.removesuffix("\n").split("\n") if text else []
    except FileNotFoundError:
        return []


def skips_of_target(testlogs, target):
    """How a target that Bazel reports as PASSED skipped: (skipped, ran, why). A test.xml that
    gtest wrote (its <testsuite> tags carry skipped=) gives the cases: skipped is the GTEST_SKIPs,
    ran the others (its log's lines are gtest's, not ours). Otherwise test.xml is Bazel's one
    wrapper case, and the cases are the test.log lines of the script tests: skipped its
    "SKIP name: why" lines, ran its "PASS name" lines. why is the first SKIP line, else the first
    <skipped message=...> (entities decoded), else ""."""
    base = f"{testlogs}/{target.removeprefix('//').replace(':', '/', 1)}"
    xml = read_lines(f"{base}/test.xml")
    log = read_lines(f"{base}/test.log")
    suites = [tag for line in xml for tag in re.findall(r"<testsuite [^>]*", line)]

    def attribute_sum(name):
        total = 0
        for tag in suites:
            values = re.findall(rf' {name}="([0-9]+)"', tag)
            total += int(values[-1]) if values else 0
        return total

    log_skips = [line for line in log if line.startswith("SKIP ")]
    why = log_skips[0] if log_skips else ""
    if not why:
        messages = [m for line in xml for m in re.findall(r'<skipped message="([^"]*)', line)]
        if messages:
            why = messages[0]
            for entity, char in XML_ENTITIES:
                why = why.replace(entity, char)
    if any(' skipped="' in tag for tag in suites):
        skipped = attribute_sum("skipped")
        return skipped, attribute_sum("tests") - skipped, why
    return len(log_skips), sum(1 for line in log if line.startswith("PASS ")), why


class Suite:
    """Runs the steps and keeps the counts, the failures and the skips (with their reasons)."""

    def __init__(self, log_dir):
        self.log_dir = log_dir
        self.passed = self.failed = self.skipped = 0
        self.failures = []
        self.skips = []
        self.child = None

    # --- running a command ---------------------------------------------------------------------
    def run(self, argv, *, sink=None, merge=True, env=None, cwd=None):
        """Runs argv with stdin from /dev/null, in a process group of its own so that a timeout,
        or a SIGINT/SIGTERM to this runner, ends all of it. Returns its exit status, or None when
        it ran past STEP_TIMEOUT (then the group got SIGKILL); 128+N when signal N ended it, as
        in a shell. With sink, each line of its stdout (and of its stderr with merge, else stderr
        goes to /dev/null) goes to sink(bytes); without, both go straight to ours."""
        sys.stdout.flush()
        timed_out = threading.Event()
        stdout = stderr = None
        if sink is not None:
            stdout, stderr = subprocess.PIPE, subprocess.STDOUT if merge else subprocess.DEVNULL
        with subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
                              env=None if env is None else dict(os.environ, **env), cwd=cwd,
                              process_group=0) as proc:
            self.child = proc

            def stop():
                timed_out.set()
                self.signal_child(signal.SIGKILL)

            timer = threading.Timer(STEP_TIMEOUT, stop)
            timer.start()
            try:
                if sink is not None:
                    for line in proc.stdout:
                        sink(line)
                rc = proc.wait()
            finally:
                timer.cancel()
                self.child = None
        if timed_out.is_set():
            print(f"== {' '.join(argv)}: stopped after {STEP_TIMEOUT} s", flush=True)
            return None
        return 128 - rc if rc < 0 else rc

    def signal_child(self, signum):
        """Sends signum to the running step's process group, if a step is running."""
        child = self.child
        if child is not None:
            try:
                os.killpg(child.pid, signum)
            except ProcessLookupError:
                pass

    def capture(self, argv, cwd=None):
        """(stdout without trailing newlines, exit status) of argv, its stderr dropped: what
        $(argv 2>/dev/null) gives."""
        chunks = []
        rc = self.run(argv, sink=chunks.append, merge=False, cwd=cwd)
        return b"".join(chunks).decode(errors="replace").rstrip("\n"), rc

    def tee(self, argv, log, show=None, env=None):
        """Runs argv (stdout and stderr together) into the file log, and shows each line on our
        stdout when show(line) is true (every line without show); returns the exit status."""
        with open(log, "wb") as out:
            def sink(raw):
                out.write(raw)
                if show is None or show(raw.decode(errors="replace")):
                    sys.stdout.buffer.write(raw)
                    sys.stdout.flush()
            return self.run(argv, sink=sink, env=env)

    # --- the kinds of step ---------------------------------------------------------------------
    def bazel_tests(self, name, *args):
        """bazel test ARGS //...: each test target's verdict counts once. Bazel reports a test that
        skipped what it could not run as PASSED: the skips are read back from each passed target's
        test.xml (GTEST_SKIP) and test.log ("SKIP name: why" lines of the script tests). A target
        that skipped every case counts as skipped, not passed; each case skipped in a target that
        also passed counts as skipped too. Either way the first reason is listed."""
        log = f"{self.log_dir}/{name}.log"
        print(f"== {name}: bazel test {' '.join(args)}", flush=True)
        rc = self.tee(["bazel", "test", "--test_output=errors", *args, "//..."], log,
                      show=lambda line: re.match(r"(//|ERROR|FAIL)", line))
        lines = read_lines(log)
        passed = [line.split()[0] for line in lines if TARGET_PASSED.match(line)]
        failed = [line for line in lines if TARGET_FAILED.match(line)]
        self.passed += len(passed)
        self.failed += len(failed)
        testlogs, _ = self.capture(["bazel", "info", *args, "bazel-testlogs"])
        for target in passed:
            skipped, ran, why = skips_of_target(testlogs, target)
            if skipped == 0:
                continue
            if ran == 0:
                self.passed -= 1
                self.skipped += 1
                self.skips.append(f"{name} {target}: every case skipped: {why}")
            else:
                self.skipped += skipped
                self.skips.append(f"{name} {target}: {skipped} case(s) skipped: {why}")
        if rc != 0 and not failed:
            # The build itself failed: no target verdicts to count, so count the step.
            self.failed += 1
            self.failures.append(f"{name} (bazel exit {rc}; see the log above)")
        elif failed:
            self.failures.append(f"{name}: " + "".join(line.split()[0] + " " for line in failed))

    def pyflakes(self):
        """pyflakes over every *.py file that git knows (tracked, or untracked and not ignored)."""
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", "*.py"],
            capture_output=True, check=False, timeout=60)
        files = [f for f in listed.stdout.decode().split("\0") if f and os.path.isfile(f)]
        if listed.returncode != 0 or not files:
            print("pyflakes: FAIL: no Python files found (git ls-files)", flush=True)
            return False
        return self.run(["pyflakes3", *files]) == 0

    def check(self, name, step):
        """A check outside Bazel, counted once. step is a command (passed when it exits 0) or a
        method of this runner (passed when it returns true); the header names either."""
        if callable(step):
            print(f"== {name}: {step.__name__}", flush=True)
            ok = step()
        else:
            print(f"== {name}: {' '.join(step)}", flush=True)
            ok = self.run(step) == 0
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            self.failures.append(name)

    def script_tests(self, name, argv, env=None):
        """A script printing "PASS x" / "FAIL x: why" / "SKIP x: why" lines; each line counts. A
        script that fails without a FAIL line counts as one failure."""
        log = f"{self.log_dir}/{name}.log"
        print(f"== {name}: {' '.join(argv)}", flush=True)
        rc = self.tee(argv, log, env=env)
        lines = read_lines(log)
        fails = [line for line in lines if line.startswith("FAIL ")]
        skips = [line for line in lines if line.startswith("SKIP ")]
        self.passed += sum(1 for line in lines if line.startswith("PASS "))
        self.failed += len(fails)
        self.skipped += len(skips)
        if fails:
            self.failures.append(f"{name}: " + "".join(
                line.split(":", 1)[0][5:] + " " for line in fails))
        elif rc != 0:
            self.failed += 1
            self.failures.append(f"{name} (exit {rc}; see the log above)" if rc is not None else
                                 f"{name} (stopped after {STEP_TIMEOUT} s; see the log above)")
        if skips:
            first = skips[0]
            why = first.split(":", 1)[1] if ":" in first else first
            self.skips.append(f"{name}: {len(skips)} skipped: {why.removeprefix(' ')}")

    def skip(self, name, why, shown):
        """A step not run: one skip, with why in the closing list and shown in its header."""
        print(f"== {name}: skipped ({shown})", flush=True)
        self.skipped += 1
        self.skips.append(f"{name}: {why}")

    def root_check(self, name, argv, knob, needs):
        """A check that needs root (for needs) and that knob=0 turns off: run when both allow,
        else one skip that says why."""
        value = env_or(knob, "1")
        if value == "1" and os.geteuid() == 0:
            self.check(name, argv)
        else:
            self.skip(name, f"needs root for {needs} ({knob}={value})",
                      f"needs root for {needs}; {knob}={value}")

    def summary(self):
        """Prints what failed, what was skipped and the closing line; returns the exit status."""
        for failure in self.failures:
            print(f"failed: {failure}")
        for skip in self.skips:
            print(f"skipped: {skip}")
        print(f"{self.passed} passed, {self.failed} failed, {self.skipped} skipped", flush=True)
        return 1 if self.failed else 0

    # --- the checks that are functions -------------------------------------------------------
    def copts_check(self):
        """Every cc_* target of ours carries SSH_PROXY_COPTS (-Werror=switch), so a TargetKind left
        out of a switch anywhere fails the build."""
        missing, rc = self.capture([
            "bazel", "query", "--noshow_progress",
            'kind("cc_(library|binary|test) rule", //...) except attr("copts", "-Werror=switch", '
            '//...)'])
        if rc != 0:
            return False
        if missing:
            print(f"targets without SSH_PROXY_COPTS (copts.bzl): {missing}", file=sys.stderr,
                  flush=True)
            return False
        return True

    def docs_outside_bazel(self):
        """The examples of the documents in directories that are no Bazel packages of this
        workspace (examples/ is a workspace of its own, debian/ and tests/vm/ have no BUILD file);
        //tests/docs runs the rest."""
        docs = ["README.md"] + [d for d in ("debian/README.source",
                                            "examples/bazel-consumer/README.md",
                                            "tests/vm/README.md") if os.path.isfile(d)]
        bin_dir, _ = self.capture(["bazel", "info", "bazel-bin"])
        return self.run(["tests/docs/examples_test.py", f"{bin_dir}/ssh-proxy", "doc/ssh-proxy.1",
                         "conf/20-ssh-proxy.conf", *docs]) == 0

    def consumer_test(self):
        """The consumer workspace (a separate WORKSPACE using @ssh_proxy//src:address) passes its
        tests with Bazel 4.2.3; its Bazel server is shut down after."""
        cwd = "examples/bazel-consumer"
        rc = self.run(["bazel", "test", "//..."], cwd=cwd)
        self.run(["bazel", "shutdown"], cwd=cwd)
        return rc == 0


def remove_stale_bazel_links():
    """Stale convenience symlinks from another output root make //... descend into them."""
    for link in pathlib.Path(".").glob("bazel-*"):
        if link.is_symlink() and not link.exists():
            link.unlink()


def run_steps(suite):
    """The steps of the suite, in order."""
    # Every shell script of the tree (found by name and shebang) passes shellcheck with no finding.
    suite.check("shellcheck", ["tools/shellcheck.sh"])
    # Every Python file git knows passes pyflakes (unused imports, undefined names) with no finding.
    suite.check("pyflakes", suite.pyflakes)
    # Every file of code we wrote carries its SPDX line; LICENSE and NOTICE are there.
    suite.check("licence", ["tools/licence-check.sh"])
    suite.check("copts", suite.copts_check)

    suite.bazel_tests("gcc")
    suite.bazel_tests("asan", "--config=asan")
    suite.check("docs-outside-bazel", suite.docs_outside_bazel)
    # Real guests under QEMU (TCG), once: the minimal guest boots in about 5 s, the run takes
    # about a minute. The systemd guest (systemd-machined for machine/NAME) boots in about 30 s
    # and its run takes about 100 s, plus 2-3 minutes to debootstrap its tree the first time
    # (cached after that). The sid guest (systemd 262: per-user machined, systemd-ssh-proxy side
    # by side) boots in 30-70 s and its run takes about 5 minutes; the bookworm guest (systemd
    # 252: machine/ on a machined without varlink) boots in about 30 s and its run takes about a
    # minute; each debootstraps its tree in about 2 minutes the first time. The default leaves
    # bookworm out to keep a cold run within its budget (its message is proven on every Bazel run
    # by //tests/machine:machine_binary_test, with the same files laid out in a mount namespace);
    # VM_FLAVOURS=minimal,systemd,sid,bookworm adds it, VM_FLAVOURS=minimal leaves the systemd
    # guests out.
    if env_or("VM_TESTS", "1") == "1":
        vm_flavours = env_or("VM_FLAVOURS", "minimal,systemd,sid")
        suite.script_tests("vm", ["tests/vm/vm_test.py"], env={"VM_FLAVOURS": vm_flavours})
        # A burst of 16 and the faults (QEMU or vhost-device-vsock killed, pause, reboot, sshd
        # restarted, the socket replaced): four minimal guests, about 3 minutes on a loaded 2-core
        # machine.
        suite.script_tests("vm-load", ["tests/vm/load_test.py"])
    else:
        suite.skip("vm", "VM_TESTS=0", "VM_TESTS=0")
        suite.skip("vm-load", "VM_TESTS=0", "VM_TESTS=0")

    # Two fuzzers at a time (the machines have 2 cores); each still runs FUZZ_SECONDS.
    suite.check("fuzz", ["env", f"FUZZ_PARALLEL={env_or('FUZZ_PARALLEL', '2')}", "tools/fuzz.sh",
                         env_or("FUZZ_SECONDS", "45")])
    suite.check("fuzz-afl", ["tools/fuzz-afl.sh", env_or("AFL_SECONDS", "20")])
    suite.check("oss-fuzz-build", ["tools/oss-fuzz-check.sh"])
    # Line coverage goals: 100% of the grammar and the reply parser, >= 90% of the connector.
    suite.check("coverage", ["tools/coverage.sh"])
    suite.check("bazel-consumer", suite.consumer_test)
    # The release binary's ELF hardening (bazel build --config=release //:ssh-proxy, then
    # readelf/nm).
    suite.check("hardening", ["tools/hardening_check.py"])
    # The .deb, built twice from its source package in a clean bookworm chroot (byte-identical),
    # lintian-clean, autopkgtest, installed, used by ssh, purged (root; ~3-4 min warm, 7-11 min
    # cold; debian/README.source).
    suite.root_check("deb", ["tests/deb/deb_test.sh"], "DEB_CHECK", "debootstrap, mount and chroot")
    # bzlmod with Debian sid's Bazel 7.7.1 in a sid chroot (root only; ~3 min cold, ~40 s warm).
    suite.root_check("bzlmod", ["tools/bzlmod-check.sh"], "BZLMOD_CHECK", "debootstrap and chroot")


def main():
    """Runs the suite from the top of the tree; returns its exit status."""
    os.chdir(ROOT)
    remove_stale_bazel_links()
    log_dir = tempfile.mkdtemp(prefix="ssh-proxy-test.")
    suite = Suite(log_dir)

    def on_signal(signum, _frame):
        # The step runs in a process group of its own: pass the signal on, then stop.
        suite.signal_child(signum)
        sys.exit(128 + signum)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        run_steps(suite)
    finally:
        shutil.rmtree(log_dir)
    return suite.summary()


if __name__ == "__main__":
    sys.exit(main())
