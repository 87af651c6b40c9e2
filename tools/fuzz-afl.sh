#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
#
# fuzz-afl.sh [SECONDS]: AFL++ (Debian's afl++) as a second engine over the same fuzz targets:
# builds them with afl-clang-fast++ (ASan+UBSan) through fuzz/oss-fuzz/build.sh with
# LIB_FUZZING_ENGINE=libAFLDriver.a, checks every seed, then runs afl-fuzz on each target for
# SECONDS (default: $AFL_SECONDS, else 60) with its dictionary. Fails on any crash or hang.
#
# Targets: $FUZZ_AFL_TARGETS (default "address_fuzzer mux_reply_fuzzer"); FUZZ_AFL_KEEP=1 keeps
# the work directory. Prints one line per target:
#   <target>: <N> execs, <N> exec/s, <N> corpus entries, findings: <N>
# and ends with "fuzz-afl: PASS ..." or "fuzz-afl: FAIL ...". Findings are kept in a temp dir
# (printed); never in the source tree.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
root="$PWD"
read -r -a targets <<<"${FUZZ_AFL_TARGETS:-address_fuzzer mux_reply_fuzzer}"
# shellcheck source=tools/lib.sh
source tools/lib.sh
seconds=$(seconds_arg "tools/fuzz-afl.sh [SECONDS]" "${1:-${AFL_SECONDS:-60}}") || exit 2
# afl-fuzz warns about every unknown AFL_* variable.
unset AFL_SECONDS
for tool in afl-clang-fast++ afl-fuzz; do
  command -v "$tool" >/dev/null || { echo "fuzz-afl: FAIL: $tool not found (apt-get install afl++)"; exit 1; }
done
driver=/usr/lib/afl/libAFLDriver.a
[[ -f "$driver" ]] || { echo "fuzz-afl: FAIL: $driver not found"; exit 1; }

work="$(mktemp -d -t ssh-proxy-afl.XXXXXX)"
export OUT="$work/out" WORK="$work/build" SRC="$work/src" SSH_PROXY_SRC="$root"
mkdir -p "$OUT" "$WORK" "$SRC"
export CC=afl-clang-fast CXX=afl-clang-fast++
export CFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all"
export CXXFLAGS="$CFLAGS"
export LIB_FUZZING_ENGINE="$driver"
export AFL_QUIET=1
echo "fuzz-afl: building with afl-clang-fast++ (ASan+UBSan)"
if ! bash fuzz/oss-fuzz/build.sh >"$work/build.log" 2>&1; then
  tail -30 "$work/build.log"
  echo "fuzz-afl: FAIL: build.sh with afl-clang-fast++ failed"
  exit 1
fi
unset AFL_QUIET

# As afl-fuzz wants them: no UI, no CPU-frequency or core_pattern checks (a shared VM), no
# pinning (other jobs share the cores), ASan aborting so that AFL++ sees a crash.
export AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1
export ASAN_OPTIONS="abort_on_error=1:symbolize=0:detect_leaks=0:allocator_may_return_null=1"
export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1"

stat() { sed -n "s/^$1 *: *//p" "$2" | head -1; }
total=0
for t in "${targets[@]}"; do
  bin="$OUT/$t"
  seeds="$work/seeds-$t"
  mkdir -p "$seeds"
  cp "fuzz/${t}_corpus/"* "$seeds/"
  # Every seed once, outside afl-fuzz (which would only skip a crashing seed).
  bad=0
  for f in "$seeds"/*; do
    if ! "$bin" "$f" >/dev/null 2>"$work/seed.log"; then
      echo "  $t: seed $(basename "$f") fails:"
      grep -m2 -E 'property violated|ERROR|runtime error' -A1 "$work/seed.log" | sed 's/^/    /'
      bad=$((bad + 1))
    fi
  done
  # A crashing seed would stop afl-fuzz at its dry run: fuzz from the passing ones.
  if [[ "$bad" -ne 0 ]]; then
    for f in "$seeds"/*; do "$bin" "$f" >/dev/null 2>&1 || rm -f "$f"; done
  fi
  timeout --kill-after=10 $((seconds + 60)) afl-fuzz -i "$seeds" -o "$work/afl-$t" \
    -x "fuzz/$t.dict" -t 1000 -V "$seconds" -- "$bin" >"$work/afl-$t.log" 2>&1
  rc=$?
  stats="$work/afl-$t/default/fuzzer_stats"
  if [[ ! -f "$stats" ]]; then
    tail -20 "$work/afl-$t.log"
    echo "$t: afl-fuzz did not run (exit $rc), findings: 1"
    total=$((total + 1))
    continue
  fi
  crashes="$(stat saved_crashes "$stats")"
  hangs="$(stat saved_hangs "$stats")"
  findings=$((bad + ${crashes:-0} + ${hangs:-0}))
  echo "$t: $(stat execs_done "$stats") execs, $(stat execs_per_sec "$stats") exec/s," \
    "$(stat corpus_count "$stats") corpus entries, findings: $findings" \
    "(crashes ${crashes:-0}, hangs ${hangs:-0}, failing seeds $bad)"
  if [[ "$findings" -ne 0 ]]; then
    find "$work/afl-$t/default/crashes" "$work/afl-$t/default/hangs" -type f -not -name README.txt \
      2>/dev/null | sed 's/^/    /'
  fi
  total=$((total + findings))
done

if [[ "$total" -ne 0 ]]; then
  echo "fuzz-afl: FAIL: $total finding(s) in ${#targets[@]} targets (${seconds}s each); see $work"
  exit 1
fi
[[ -n "${FUZZ_AFL_KEEP:-}" ]] || rm -rf "$work"
echo "fuzz-afl: PASS: ${#targets[@]} targets, ${seconds}s each under AFL++, no findings"
