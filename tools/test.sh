#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
#
# test.sh: the whole test suite, as the README's quick start and CI (.ci/run) run it.
#   1. bazel test //...                    (gcc: unit, CLI, connector, end-to-end, fuzz replays)
#   2. bazel test --config=asan //...      (the same tests under ASan+UBSan, clang-14)
#   3. the fuzz targets under libFuzzer, FUZZ_SECONDS each (default 60), and the other checks
#      in tools/ that exist (AFL++, the OSS-Fuzz build.sh check, coverage, the consumer workspace,
#      hardening, the Debian package, bzlmod); before all of them, shellcheck over every shell
#      script and the copts check.
#   Between 2 and 3: tests/vm/vm_test.py once (not per Bazel config), real QEMU guests; each of
#      its scenarios counts, and VM_TESTS=0 reports them as skipped.
# Ends with one line "N passed, N failed, N skipped" (each Bazel test target and each check counts
# once; what was skipped is listed above it with its reason, and a skip never counts as a pass)
# and exits non-zero if anything failed.
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
  # Bazel reports a test that skipped what it could not run as PASSED: read the skips back from
  # each passed target's test.xml (GTEST_SKIP) and test.log ("SKIP name: why" lines of the shell
  # tests). A target that skipped every case counts as skipped, not passed; each case skipped in
  # a target that also passed counts as skipped too. Either way the first reason is listed.
  local testlogs target dir xml_skips xml_cases log_skips log_passes why
  testlogs=$(bazel info "$@" bazel-testlogs 2>/dev/null)
  while read -r target; do
    dir=$testlogs/${target#//}
    dir=${dir/://}
    xml_skips=0
    xml_cases=0
    log_skips=0
    log_passes=0
    if [[ -f $dir/test.xml ]]; then
      xml_skips=$(grep -oE '<testsuite [^>]* skipped="[0-9]+"' "$dir/test.xml" |
        sed -E 's/.*skipped="([0-9]+)"/\1/' | awk '{ n += $1 } END { print n + 0 }')
      xml_cases=$(grep -oE '<testsuite [^>]* tests="[0-9]+"' "$dir/test.xml" |
        sed -E 's/.* tests="([0-9]+)".*/\1/' | awk '{ n += $1 } END { print n + 0 }')
    fi
    if [[ -f $dir/test.log ]]; then
      log_skips=$(grep -c '^SKIP ' "$dir/test.log")
      log_passes=$(grep -c '^PASS ' "$dir/test.log")
    fi
    ((xml_skips + log_skips > 0)) || continue
    why=$(grep -m1 -oE '^SKIP .*' "$dir/test.log" 2>/dev/null ||
      grep -m1 -oE '<skipped message="[^"]*' "$dir/test.xml" | sed -e 's/<skipped message="//' \
        -e 's/&#x0A;/ /g' -e "s/&apos;/'/g" -e 's/&quot;/"/g' -e 's/&lt;/</g' -e 's/&gt;/>/g' \
        -e 's/&amp;/\&/g')
    if ((xml_cases - xml_skips + log_passes == 0)); then
      passed=$((passed - 1))
      skipped=$((skipped + 1))
      skips+=("$name $target: every case skipped: $why")
    else
      skipped=$((skipped + xml_skips + log_skips))
      skips+=("$name $target: $((xml_skips + log_skips)) case(s) skipped: $why")
    fi
  done < <(grep -oE '^//[^ ]+ +(\(cached\) )?PASSED' "$log" | awk '{print $1}')
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
# Every file of code we wrote carries its SPDX line; LICENSE and NOTICE are there.
check licence tools/licence-check.sh
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
# The examples of the documents in directories that are no Bazel packages of this workspace
# (examples/ is a workspace of its own, debian/ and tests/vm/ have no BUILD file); //tests/docs
# runs the rest.
docs_outside_bazel() {
  local -a docs=(README.md)
  local d
  for d in debian/README.source examples/bazel-consumer/README.md tests/vm/README.md; do
    [[ -f $d ]] && docs+=("$d")
  done
  tests/docs/examples_test.sh "$(bazel info bazel-bin 2>/dev/null)/ssh-proxy" doc/ssh-proxy.1 \
    conf/20-ssh-proxy.conf "${docs[@]}"
}
check docs-outside-bazel docs_outside_bazel
# Real guests under QEMU (TCG), once: the minimal guest boots in about 5 s, the run takes about a
# minute. The systemd guest (systemd-machined for machine/NAME) boots in about 30 s and its run takes
# about 100 s, plus 2-3 minutes to debootstrap its tree the first time (cached after that).
# The sid guest (systemd 262: per-user machined, systemd-ssh-proxy side by side) boots in 30-70 s
# and its run takes about 5 minutes; the bookworm guest (systemd 252: machine/ on a machined
# without varlink) boots in about 30 s and its run takes about a minute; each debootstraps its tree
# in about 2 minutes the first time. The default leaves bookworm out to keep a cold run within its
# budget (its message is proven on every Bazel run by //tests/machine:machine_binary_test, with the
# same files laid out in a mount namespace); VM_FLAVOURS=minimal,systemd,sid,bookworm adds it,
# VM_FLAVOURS=minimal leaves the systemd guests out.
if [[ ${VM_TESTS:-1} == 1 ]]; then
  VM_FLAVOURS=${VM_FLAVOURS:-minimal,systemd,sid} script_tests vm tests/vm/vm_test.py
  # A burst of 16 and the faults (QEMU or vhost-device-vsock killed, pause, reboot, sshd restarted,
  # the socket replaced): four minimal guests, about 3 minutes on a loaded 2-core machine.
  script_tests vm-load tests/vm/load_test.py
else
  echo "== vm: skipped (VM_TESTS=0)"
  skipped=$((skipped + 1))
  skips+=("vm: VM_TESTS=0")
  echo "== vm-load: skipped (VM_TESTS=0)"
  skipped=$((skipped + 1))
  skips+=("vm-load: VM_TESTS=0")
fi

# Two fuzzers at a time (the machines have 2 cores); each still runs FUZZ_SECONDS.
check fuzz env FUZZ_PARALLEL="${FUZZ_PARALLEL:-2}" tools/fuzz.sh "${FUZZ_SECONDS:-45}"
check fuzz-afl tools/fuzz-afl.sh "${AFL_SECONDS:-20}"
check oss-fuzz-build tools/oss-fuzz-check.sh
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
# The .deb, built twice from its source package in a clean bookworm chroot (byte-identical),
# lintian-clean, autopkgtest, installed, used by ssh, purged (root; ~3-4 min warm, 7-11 min cold;
# debian/README.source).
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
else
  echo "== bzlmod: skipped (needs root for debootstrap and chroot; BZLMOD_CHECK=${BZLMOD_CHECK:-1})"
  skipped=$((skipped + 1))
  skips+=("bzlmod: needs root for debootstrap and chroot (BZLMOD_CHECK=${BZLMOD_CHECK:-1})")
fi

rm -rf "$log_dir"
if [[ ${#failures[@]} -gt 0 ]]; then
  printf 'failed: %s\n' "${failures[@]}"
fi
if [[ ${#skips[@]} -gt 0 ]]; then
  printf 'skipped: %s\n' "${skips[@]}"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[[ "$failed" -eq 0 ]]
