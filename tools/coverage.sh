#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
#
# coverage.sh: line and branch coverage of src/ with clang's source-based coverage (Bazel's
# `coverage` command cannot run offline). Builds and runs, under Bazel with --config=coverage
# (.bazelrc: clang-14, -fprofile-instr-generate -fcoverage-mapping, its own --platform_suffix, so
# other builds stay cached):
#   1. the fuzz replay tests (every corpus entry of every fuzz target), then
#   2. every other test of the workspace (unit, connector, relay, end-to-end),
# merges the profiles with llvm-profdata-14 and prints per file of src/, with llvm-cov-14:
#   <file>  lines <covered>/<total> <pct>%  branches <covered>/<total> <pct>%
# once for the fuzz corpora alone and once for corpora + tests. Then it checks the goals: 100% of
# the lines of src/address.cc and src/mux_reply.cc and at least 90% of src/connector.cc (corpora +
# tests), listing the lines still missed, and ends with "coverage: PASS ..." or "coverage: FAIL ...".
#
# Environment: BAZEL (default bazel), BAZEL_OUTPUT_BASE (optional --output_base), COVERAGE_HTML=DIR
# (also write an HTML report there).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
bazel_cmd=("${BAZEL:-bazel}")
[[ -n "${BAZEL_OUTPUT_BASE:-}" ]] && bazel_cmd+=("--output_base=$BAZEL_OUTPUT_BASE")
for tool in clang-14 llvm-profdata-14 llvm-cov-14 llvm-readelf-14; do
  command -v "$tool" >/dev/null || { echo "coverage: FAIL: $tool not found (apt-get install clang-14 llvm-14)"; exit 1; }
done

work="$(mktemp -d -t ssh-proxy-coverage.XXXXXX)"
trap '[[ -n "${COVERAGE_KEEP:-}" ]] || rm -rf "$work"' EXIT
mkdir -p "$work/fuzz" "$work/tests"

# The build: .bazelrc's coverage config (clang-14, -fprofile-instr-generate -fcoverage-mapping).
flags=(--config=coverage)

# .bazelignore keeps //... out of the bazel-* links and the separate example workspaces.
patterns=(//...)

run_tests() {  # run_tests PROFILE_DIR TARGET_PATTERN...
  local dir="$1"
  shift
  "${bazel_cmd[@]}" test "${flags[@]}" --nocache_test_results --test_output=errors \
    --test_env=LLVM_PROFILE_FILE="$dir/%p-%m.profraw" --sandbox_writable_path="$dir" \
    -- "$@" >"$dir.log" 2>&1
  local rc=$?
  grep -E '^//' "$dir.log" | sed 's/^/  /'
  return $rc
}

echo "coverage: fuzz replays (bazel test, clang-14 coverage build)"
replays="$("${bazel_cmd[@]}" query "kind(cc_test, //fuzz:all)" 2>/dev/null)"
[[ -n "$replays" ]] || { echo "coverage: FAIL: no fuzz replay tests found"; exit 1; }
# shellcheck disable=SC2086
run_tests "$work/fuzz" $replays || { tail -20 "$work/fuzz.log"; echo "coverage: FAIL: fuzz replays failed"; exit 1; }
echo "coverage: all other tests"
others=("${patterns[@]}")
for r in $replays; do others+=("-$r"); done
tests_ok=1
run_tests "$work/tests" "${others[@]}" || tests_ok=0

bin="$("${bazel_cmd[@]}" info "${flags[@]}" bazel-bin 2>/dev/null)"
# The instrumented executables: every ELF file outside runfiles with a coverage map.
objects=()
while IFS= read -r f; do
  if [[ "$(head -c4 "$f" | od -An -c | tr -d ' ')" == '177ELF' ]] &&
    llvm-readelf-14 -S "$f" 2>/dev/null | grep -q __llvm_covmap; then
    objects+=("$f")
  fi
done < <(find "$bin" -type f -not -path '*.runfiles/*' -not -name '*.*')
[[ ${#objects[@]} -gt 0 ]] || { echo "coverage: FAIL: no instrumented binaries under $bin"; exit 1; }
object_args=("${objects[0]}")
for o in "${objects[@]:1}"; do object_args+=(-object "$o"); done

sources=()
for f in src/*.cc; do sources+=("$f"); done

# report NAME PROFDATA: prints the per-file table; leaves the llvm-cov report in $work/NAME.txt.
report() {
  local name="$1" profdata="$2"
  llvm-cov-14 report -instr-profile="$profdata" "${object_args[@]}" "${sources[@]}" \
    >"$work/$name.txt" 2>"$work/$name.err"
  # Columns: Filename Regions Missed Cover Functions Missed Cover Lines Missed Cover Branches
  # Missed Cover.
  awk 'function row(n, lt, lm, bt, bm) {
         printf "  %-20s lines %4d/%-4d %6.2f%%   branches %4d/%-4d %6.2f%%\n", n, lt - lm, lt,
           lt ? 100 * (lt - lm) / lt : 100, bt - bm, bt, bt ? 100 * (bt - bm) / bt : 100 }
       $1 ~ /^src\// { row($1, $8, $9, $11, $12); LT += $8; LM += $9; BT += $11; BM += $12 }
       END { row("src/ (total)", LT, LM, BT, BM) }' "$work/$name.txt"
}

for set in fuzz all; do
  profs=("$work/fuzz"/*.profraw)
  [[ "$set" == all ]] && profs+=("$work/tests"/*.profraw)
  llvm-profdata-14 merge -sparse "${profs[@]}" -o "$work/$set.profdata" 2>"$work/merge-$set.err" ||
    { cat "$work/merge-$set.err"; echo "coverage: FAIL: llvm-profdata merge"; exit 1; }
done
echo "coverage of src/ from the fuzz corpora alone:"
report fuzz "$work/fuzz.profdata"
echo "coverage of src/ from the fuzz corpora and all tests:"
report all "$work/all.profdata"

if [[ -n "${COVERAGE_HTML:-}" ]]; then
  llvm-cov-14 show -format=html -output-dir="$COVERAGE_HTML" -instr-profile="$work/all.profdata" \
    "${object_args[@]}" "${sources[@]}" 2>/dev/null && echo "coverage: HTML in $COVERAGE_HTML"
fi

# Goals, on corpora + tests: FILE MIN_LINE_PERCENT.
failed=()
while read -r file goal; do
  line="$(awk -v f="$file" '$1 == f' "$work/all.txt")"
  total="$(echo "$line" | awk '{print $8}')"
  missed="$(echo "$line" | awk '{print $9}')"
  if [[ -z "$total" ]]; then
    failed+=("$file: no coverage data")
    continue
  fi
  # Integer check: covered * 100 >= goal * total.
  if (((total - missed) * 100 < goal * total)); then
    failed+=("$file: $((total - missed))/$total lines, goal $goal%")
  fi
  if [[ "$missed" -ne 0 ]]; then
    # The lines still missed ("  NNN|      0|..." in llvm-cov show).
    [[ -f "$work/show.txt" ]] ||
      llvm-cov-14 show -instr-profile="$work/all.profdata" "${object_args[@]}" \
        >"$work/show.txt" 2>/dev/null
    lines="$(awk -v f="$file:" '$0 == f {on = 1; next} /^[^ ].*:$/ {on = 0}
      on && /^ +[0-9]+\| +0\|/ {split($0, a, "|"); gsub(/ /, "", a[1]); printf "%s ", a[1]}' \
      "$work/show.txt")"
    echo "  $file: lines not reached: $lines"
  fi
done <<'GOALS'
src/address.cc 100
src/mux_reply.cc 100
src/connector.cc 90
GOALS

if [[ "$tests_ok" -eq 0 ]]; then
  failed+=("some tests failed in the coverage build (see above)")
fi
if [[ ${#failed[@]} -gt 0 ]]; then
  printf '  %s\n' "${failed[@]}"
  echo "coverage: FAIL: ${#failed[@]} goal(s) not met"
  exit 1
fi
echo "coverage: PASS: address.cc and mux_reply.cc 100% of lines, connector.cc >= 90%"
