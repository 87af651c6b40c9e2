#!/usr/bin/env bash
# test.sh: the whole test suite, as the README's quick start and CI (.ci/run) run it.
#   1. bazel test //...                    (gcc: unit, CLI, connector, end-to-end, fuzz replays)
#   2. bazel test --config=asan //...      (the same tests under ASan+UBSan, clang-14)
#   3. the fuzz targets under libFuzzer, FUZZ_SECONDS each (default 60), and the other checks
#      in tools/ that exist (AFL++, the OSS-Fuzz build.sh check, coverage, the consumer workspace,
#      hardening, bzlmod); before all of them, shellcheck over every shell script.
# Ends with one line "N passed, N failed" (each Bazel test target and each check counts once)
# and exits non-zero if anything failed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

tools/ensure-deps.sh test || exit 1

passed=0
failed=0
failures=()
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
bazel_tests gcc
bazel_tests asan --config=asan

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
# bzlmod with Debian sid's Bazel 7.7.1 in a sid chroot (root only; ~3 min cold, ~40 s warm).
if [[ ${BZLMOD_CHECK:-1} == 1 && $(id -u) == 0 ]]; then
  check bzlmod tools/bzlmod-check.sh
fi

rm -rf "$log_dir"
if [[ ${#failures[@]} -gt 0 ]]; then
  printf 'failed: %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed"
[[ "$failed" -eq 0 ]]
