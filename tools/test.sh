#!/usr/bin/env bash
# test.sh: the whole test suite, as the README's quick start and CI (.ci/run) run it.
#   1. bazel test //...                    (gcc: unit, CLI, connector, end-to-end, fuzz replays)
#   2. bazel test --config=asan //...      (the same tests under ASan+UBSan, clang-14)
#   3. the fuzz targets under libFuzzer, FUZZ_SECONDS each (default 60), and the other checks
#      in tools/ that exist (AFL++, the OSS-Fuzz build.sh check, coverage, the consumer workspace,
#      hardening, the Debian package, bzlmod); before all of them, shellcheck over every shell
#      script and the copts check.
#   Between 2 and 3: tests/vm/vm_test.sh once (not per Bazel config), real QEMU guests; each of
#      its scenarios counts, and VM_TESTS=0 reports them as skipped.
# Ends with one line "N passed, N failed" (each Bazel test target and each check counts once;
# ", N skipped" is added when something was skipped, with the reasons above it) and exits non-zero
# if anything failed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

tools/ensure-deps.sh test || exit 1

passed=0
failed=0
skipped=0
failures=()
skips=()
log_dir="$(mktemp -d -t ssh-proxy-test.XXXXXX)"

# Stale convenience symlinks from another output root make //... descend into them.
for link in bazel-*; do
  [[ -L "$link" && ! -e "$link" ]] && rm -f "$link"
done

# bazel_tests NAME ARGS...: runs bazel test and counts each test target's verdict.
bazel_tests() {
  local name="$1"
  shift
  local log="$log_dir/$name.log"
  echo "== $name: bazel test $*"
  bazel test --test_output=errors "$@" //... 2>&1 | tee "$log" | grep -E '^(//|ERROR|FAIL)' || true
  local rc="${PIPESTATUS[0]}"
  local p f
  p=$(grep -cE '^//[^ ]+ +(\(cached\) )?PASSED' "$log")
  f=$(grep -cE '^//[^ ]+ +(\(cached\) )?(FAILED|TIMEOUT|FLAKY|NO STATUS|INCOMPLETE|FAILED TO BUILD)' "$log")
  passed=$((passed + p))
  failed=$((failed + f))
  if [[ "$rc" -ne 0 && "$f" -eq 0 ]]; then
    # The build itself failed: no target verdicts to count, so count the step.
    failed=$((failed + 1))
    failures+=("$name (bazel exit $rc; see the log above)")
  elif [[ "$f" -ne 0 ]]; then
    failures+=("$name: $(grep -E '^//[^ ]+ +(\(cached\) )?(FAILED|TIMEOUT|FLAKY|NO STATUS|INCOMPLETE)' "$log" | awk '{print $1}' | tr '\n' ' ')")
  fi
}

# check NAME COMMAND...: a check outside Bazel; counts once.
check() {
  local name="$1"
  shift
  echo "== $name: $*"
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    failures+=("$name")
  fi
}

# Every shell script of the tree (found by name and shebang) passes shellcheck with no finding.
check shellcheck tools/shellcheck.sh
# Every cc_* target of ours carries SSH_PROXY_COPTS (-Werror=switch), so a TargetKind left out of
# a switch anywhere fails the build.
copts_check() {
  local missing
  missing=$(bazel query --noshow_progress \
    'kind("cc_(library|binary|test) rule", //...) except attr("copts", "-Werror=switch", //...)' \
    2>/dev/null) || return 1
  [[ -z "$missing" ]] && return 0
  echo "targets without SSH_PROXY_COPTS (copts.bzl): $missing" >&2
  return 1
}
check copts copts_check

# script_tests NAME COMMAND...: a script printing "PASS x" / "FAIL x: why" / "SKIP x: why" lines;
# each line counts. A script that fails without a FAIL line counts as one failure.
script_tests() {
  local name="$1"
  shift
  local log="$log_dir/$name.log"
  echo "== $name: $*"
  "$@" 2>&1 | tee "$log"
  local rc="${PIPESTATUS[0]}"
  local p f s
  p=$(grep -c '^PASS ' "$log")
  f=$(grep -c '^FAIL ' "$log")
  s=$(grep -c '^SKIP ' "$log")
  passed=$((passed + p))
  failed=$((failed + f))
  skipped=$((skipped + s))
  if [[ "$f" -ne 0 ]]; then
    failures+=("$name: $(grep '^FAIL ' "$log" | cut -d: -f1 | cut -c6- | tr '\n' ' ')")
  elif [[ "$rc" -ne 0 ]]; then
    failed=$((failed + 1))
    failures+=("$name (exit $rc; see the log above)")
  fi
  if [[ "$s" -ne 0 ]]; then
    skips+=("$name: $s skipped: $(grep -m1 '^SKIP ' "$log" | cut -d: -f2- | sed 's/^ //')")
  fi
}

bazel_tests gcc
bazel_tests asan --config=asan
# Real guests under QEMU (TCG), once: the minimal guest boots in about 5 s, the run takes about a
# minute. The systemd guest (systemd-machined for machine/NAME) boots in about 30 s and its run takes
# about 100 s, plus 2-3 minutes to debootstrap its tree the first time (cached after that).
# VM_FLAVOURS=minimal leaves it out.
if [[ ${VM_TESTS:-1} == 1 ]]; then
  VM_FLAVOURS=${VM_FLAVOURS:-minimal,systemd} script_tests vm tests/vm/vm_test.sh
  # A burst of 16 and the faults (QEMU or vhost-device-vsock killed, pause, reboot, sshd restarted,
  # the socket replaced): four minimal guests, about 3 minutes on a loaded 2-core machine.
  script_tests vm-load tests/vm/load_test.sh
else
  echo "== vm: skipped (VM_TESTS=0)"
  skipped=$((skipped + 1))
  skips+=("vm: VM_TESTS=0")
  echo "== vm-load: skipped (VM_TESTS=0)"
  skipped=$((skipped + 1))
  skips+=("vm-load: VM_TESTS=0")
fi

# Two fuzzers at a time (the machines have 2 cores); each still runs FUZZ_SECONDS.
[[ -x tools/fuzz.sh ]] && check fuzz env FUZZ_PARALLEL="${FUZZ_PARALLEL:-2}" tools/fuzz.sh "${FUZZ_SECONDS:-60}"
[[ -x tools/fuzz-afl.sh ]] && check fuzz-afl tools/fuzz-afl.sh "${AFL_SECONDS:-20}"
[[ -x tools/oss-fuzz-check.sh ]] && check oss-fuzz-build tools/oss-fuzz-check.sh
# Line coverage goals: 100% of the grammar and the reply parser, >= 90% of the connector.
check coverage tools/coverage.sh
# The consumer workspace (a separate WORKSPACE using @ssh_proxy//src:address), Bazel 4.2.3.
consumer_test() (
  cd examples/bazel-consumer || exit 1
  bazel test //...
  rc=$?
  bazel shutdown
  exit "$rc"
)
check bazel-consumer consumer_test
# The release binary's ELF hardening (bazel build --config=release //:ssh-proxy, then readelf/nm).
check hardening tools/hardening-check.sh
# The .deb: built, lintian-clean, installed in a clean bookworm chroot, used by ssh, purged (root).
if [[ ${DEB_CHECK:-1} == 1 && $(id -u) == 0 ]]; then
  check deb tests/deb/deb_test.sh
else
  echo "== deb: skipped (needs root for debootstrap, mount and chroot; DEB_CHECK=${DEB_CHECK:-1})"
  skipped=$((skipped + 1))
  skips+=("deb: needs root for debootstrap, mount and chroot (DEB_CHECK=${DEB_CHECK:-1})")
fi
# bzlmod with Debian sid's Bazel 7.7.1 in a sid chroot (root only; ~3 min cold, ~40 s warm).
if [[ ${BZLMOD_CHECK:-1} == 1 && $(id -u) == 0 ]]; then
  check bzlmod tools/bzlmod-check.sh
fi

rm -rf "$log_dir"
if [[ ${#failures[@]} -gt 0 ]]; then
  printf 'failed: %s\n' "${failures[@]}"
fi
if [[ ${#skips[@]} -gt 0 ]]; then
  printf 'skipped: %s\n' "${skips[@]}"
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
[[ "$failed" -eq 0 ]]
