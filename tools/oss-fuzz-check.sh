#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
#
# oss-fuzz-check.sh: tests fuzz/oss-fuzz/build.sh (the OSS-Fuzz and ClusterFuzzLite build) the way
# OSS-Fuzz would run it, with local values: CC=clang-14, CXX=clang++-14, OSS-Fuzz's ASan+UBSan
# flags (including -stdlib=libc++, which build.sh must drop for the system abseil),
# LIB_FUZZING_ENGINE=-fsanitize=fuzzer and a temporary $OUT. Then, for every fuzzer it produced:
# the .dict, .options and _seed_corpus.zip must be beside it, the zip must hold the whole corpus,
# the fuzzer must pass every seed (-runs=0) and fuzz for $OSS_FUZZ_CHECK_SECONDS (default 5) with
# its .options and .dict without a finding. Ends with "oss-fuzz-check: PASS ..." or "... FAIL ...".
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
root="$PWD"
seconds="${OSS_FUZZ_CHECK_SECONDS:-5}"

tmp="$(mktemp -d -t ssh-proxy-oss-fuzz.XXXXXX)"
trap 'rm -rf "$tmp"' EXIT
export OUT="$tmp/out" WORK="$tmp/work" SRC="$tmp/src"
mkdir -p "$OUT" "$WORK" "$SRC"
export CC=clang-14 CXX=clang++-14
# As OSS-Fuzz's base-builder sets them for sanitizer=address / undefined and engine=libfuzzer.
export CFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only -fsanitize=address,undefined \
-fsanitize-address-use-after-scope -fno-sanitize-recover=all -fsanitize=fuzzer-no-link"
export CXXFLAGS="$CFLAGS -stdlib=libc++"
export LIB_FUZZING_ENGINE="-fsanitize=fuzzer"
export SSH_PROXY_SRC="$root"

fail() {
  echo "oss-fuzz-check: FAIL: $*"
  exit 1
}

echo "oss-fuzz-check: fuzz/oss-fuzz/build.sh with CXX=$CXX, OUT=$OUT"
if ! bash fuzz/oss-fuzz/build.sh >"$tmp/build.log" 2>&1; then
  tail -30 "$tmp/build.log"
  fail "build.sh failed"
fi

count=0
for f in fuzz/*_fuzzer.cc; do
  name="$(basename "$f" .cc)"
  bin="$OUT/$name"
  [[ -x "$bin" ]] || fail "$bin was not built"
  for extra in "$name.dict" "$name.options" "${name}_seed_corpus.zip"; do
    [[ -s "$OUT/$extra" ]] || fail "$OUT/$extra is missing"
  done
  corpus="$tmp/corpus-$name"
  mkdir -p "$corpus"
  unzip -q "$OUT/${name}_seed_corpus.zip" -d "$corpus" || fail "bad zip for $name"
  seeds="$(find "$corpus" -mindepth 1 -maxdepth 1 -not -name '.*' | wc -l)"
  [[ "$seeds" -eq "$(find "fuzz/${name}_corpus" -mindepth 1 -maxdepth 1 -not -name '.*' | wc -l)" ]] ||
    fail "$name: zip holds $seeds files"
  # The seeds, once each: every corpus entry (including crash reproducers) must pass.
  if ! (cd "$tmp" && "$bin" -runs=0 "$corpus" >"$tmp/$name.seeds.log" 2>&1); then
    grep -m1 -A3 -E 'property violated|ERROR:' "$tmp/$name.seeds.log"
    fail "$name fails on its seed corpus"
  fi
  # A short run with the .options file's settings, as ClusterFuzz reads them.
  max_len="$(sed -n 's/^max_len *= *//p' "$OUT/$name.options")"
  [[ -n "$max_len" ]] || fail "$name.options has no max_len"
  if ! (cd "$tmp" && "$bin" -max_total_time="$seconds" -max_len="$max_len" \
      -dict="$OUT/$name.dict" -artifact_prefix="$tmp/$name-" "$corpus" \
      >"$tmp/$name.run.log" 2>&1); then
    grep -m1 -A3 -E 'property violated|ERROR:|ParseDictionary' "$tmp/$name.run.log"
    fail "$name: a finding (or a bad .dict) in ${seconds}s of fuzzing"
  fi
  execs="$(grep -oE '^Done [0-9]+ runs' "$tmp/$name.run.log" | grep -oE '[0-9]+')"
  echo "$name: built, $seeds seeds pass, ${seconds}s fuzzing: ${execs:-?} execs, no finding"
  count=$((count + 1))
done
echo "oss-fuzz-check: PASS: build.sh built $count fuzzers with seed corpora, dictionaries and options; all pass"
