#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
#
# fuzz.sh [SECONDS]: runs every libFuzzer target in fuzz/ for SECONDS each (default: $FUZZ_SECONDS,
# else 60) on a copy of its corpus, and fails on any finding (crash, property violation, leak,
# timeout, out-of-memory) — including one that an existing corpus entry already triggers.
#
# Builds the targets with `bazel build --config=fuzz` (clang-14, libFuzzer, ASan+UBSan). Prints one
# line per target:
#   <target>: <N> execs, <N> exec/s, <N> new units, findings: <N>
# and ends with "fuzz: PASS ..." or "fuzz: FAIL ...". Reproducers of findings are kept under
# $FUZZ_ARTIFACTS (default: a temp dir, printed); never in the source tree.
#
# Environment: FUZZ_TARGETS (space-separated names, default all fuzz/*_fuzzer.cc), FUZZ_PARALLEL
# (targets run at once, default 1), BAZEL (default bazel), BAZEL_OUTPUT_BASE (optional
# --output_base), FUZZ_KEEP_CORPUS=DIR (keep each grown corpus in DIR/<target>/).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
root="$PWD"
# shellcheck source=tools/lib.sh
source tools/lib.sh
seconds=$(seconds_arg "tools/fuzz.sh [SECONDS]" "${1:-${FUZZ_SECONDS:-60}}") || exit 2
bazel_cmd=("${BAZEL:-bazel}")
[[ -n "${BAZEL_OUTPUT_BASE:-}" ]] && bazel_cmd+=("--output_base=$BAZEL_OUTPUT_BASE")

if [[ -n "${FUZZ_TARGETS:-}" ]]; then
  read -r -a targets <<<"$FUZZ_TARGETS"
else
  targets=()
  for f in fuzz/*_fuzzer.cc; do targets+=("$(basename "$f" .cc)"); done
fi
parallel="${FUZZ_PARALLEL:-1}"

work="$(mktemp -d -t ssh-proxy-fuzz.XXXXXX)"
artifacts="${FUZZ_ARTIFACTS:-$work/artifacts}"
mkdir -p "$artifacts"

echo "fuzz: building ${targets[*]} (bazel build --config=fuzz)"
labels=()
for t in "${targets[@]}"; do labels+=("//fuzz:$t"); done
# --symlink_prefix=/ leaves the bazel-* convenience links (used by other scripts) alone.
if ! "${bazel_cmd[@]}" build --config=fuzz --symlink_prefix=/ "${labels[@]}" >"$work/build.log" 2>&1; then
  tail -30 "$work/build.log"
  echo "fuzz: FAIL: the fuzz targets did not build"
  exit 1
fi
bin_dir="$("${bazel_cmd[@]}" info --config=fuzz bazel-bin 2>/dev/null)/fuzz"

# run_one TARGET: fuzzes TARGET; writes $work/TARGET.result ("execs exec/s new findings").
run_one() {
  local t="$1"
  local dir="$work/$t"
  mkdir -p "$dir/corpus" "$artifacts/$t"
  cp fuzz/"${t}"_corpus/* "$dir/corpus/"
  local max_len
  max_len="$(sed -n 's/^max_len *= *//p' "fuzz/$t.options")"
  local before
  before="$(find "$dir/corpus" -mindepth 1 -maxdepth 1 -not -name '.*' | wc -l)"
  # -timeout: one input may take at most 10 s; -rss_limit_mb: 2 GiB; -error_exitcode and
  # -timeout_exitcode: distinct non-zero codes for any finding. The outer timeout bounds the
  # whole run even if libFuzzer hangs on exit.
  (
    cd "$dir" &&
      timeout --kill-after=10 $((seconds + 120)) "$bin_dir/$t" \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len="$max_len" \
        -dict="$root/fuzz/$t.dict" -artifact_prefix="$artifacts/$t/" \
        -error_exitcode=77 -timeout_exitcode=78 -print_final_stats=1 \
        corpus >"$dir/log" 2>&1
  )
  local rc=$?
  local execs rate after findings
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)"
  rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/log" | tail -1)"
  after="$(find "$dir/corpus" -mindepth 1 -maxdepth 1 -not -name '.*' | wc -l)"
  findings="$(find "$artifacts/$t" -type f | wc -l)"
  if [[ "$rc" -ne 0 && "$findings" -eq 0 ]]; then findings=1; fi
  echo "${execs:-0} ${rate:-0} $((after - before)) $findings $rc" >"$work/$t.result"
  if [[ -n "${FUZZ_KEEP_CORPUS:-}" ]]; then
    mkdir -p "$FUZZ_KEEP_CORPUS/$t"
    cp "$dir/corpus/"* "$FUZZ_KEEP_CORPUS/$t/"
  fi
}

echo "fuzz: ${#targets[@]} targets, ${seconds}s each, $parallel at a time"
running=0
for t in "${targets[@]}"; do
  run_one "$t" &
  running=$((running + 1))
  if [[ "$running" -ge "$parallel" ]]; then
    wait -n
    running=$((running - 1))
  fi
done
wait

total_findings=0
for t in "${targets[@]}"; do
  read -r execs rate new findings rc <"$work/$t.result"
  echo "$t: $execs execs, $rate exec/s, $new new units, findings: $findings"
  if [[ "$findings" -ne 0 ]]; then
    total_findings=$((total_findings + findings))
    echo "  libFuzzer exit $rc; reproducers in $artifacts/$t/:"
    find "$artifacts/$t" -type f | sed 's/^/    /'
    grep -m1 -A3 -E 'property violated|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error' \
      "$work/$t/log" | sed 's/^/    /'
    cp "$work/$t/log" "$artifacts/$t.log"
  fi
done

if [[ "$total_findings" -ne 0 ]]; then
  # Keep the reproducers (and, when they are inside it, the work directory).
  [[ "$artifacts" != "$work"/* ]] && rm -rf "$work"
  echo "fuzz: FAIL: $total_findings finding(s) in ${#targets[@]} targets (${seconds}s each); logs and reproducers in $artifacts"
  exit 1
fi
rm -rf "$work"
echo "fuzz: PASS: ${#targets[@]} targets, ${seconds}s each, no findings"
