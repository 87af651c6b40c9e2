#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
#
# bench.sh: every benchmark, from one command, with the ratios the targets are stated in.
#   1. spawn -> fd received -> exit of ssh-proxy (unix/, vsock-mux/, and machine/ through a scripted
#      machined in a private mount namespace) against /bin/true, and against the same binary
#      without self-confinement (what confinement costs), in one interleaved run; then what the
#      kernel charges to attach each shape of the seccomp programs and the Landlock ruleset
#   2. 1 GiB through the relay against socat, and the fd-pass path against a direct socket
#   3. Google Benchmark: address parsing per kind and by length (slope), mux reply parsing
#   4. a real VM (tests/vm/vm_bench.py; BENCH_VM=0 skips it): spawn -> fd through vhost-device-vsock,
#      and ssh session set-up through ssh-proxy against the same guest's sshd reached without it
#   5. a real VM under load (tests/vm/load_bench.py; BENCH_LOAD=0 skips it): bursts, 32 parallel
#      ssh, a listener's backlog overflowing, and a soak (LOAD_SOAK_SECONDS, default 600)
# Builds with -c opt (the static PIE ssh-proxy). Exits non-zero if a benchmark reports a
# failure (a lost byte, a relay slower than socat, a run without an fd).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
tools/ensure-deps.sh test || exit 1

read -ra startup <<<"${BAZEL_STARTUP_OPTIONS:-}"
opts=(-c opt)
bazel "${startup[@]}" build "${opts[@]}" //:ssh-proxy //bench:all //tests/e2e:fdpass_harness \
  //tests/e2e:burst_harness || exit 1
bin=$(bazel "${startup[@]}" info "${opts[@]}" bazel-bin 2>/dev/null)
rc=0

echo "== spawn latency (what every ssh, scp and rsync waits for)"
"$bin/bench/spawn_latency" --proxy="$bin/ssh-proxy" --mux-emulator="$bin/tests/e2e/mux_emulator" \
  --proxy-unconfined="$bin/bench/ssh-proxy-unconfined" --runs="${SPAWN_RUNS:-2000}" || rc=1

echo
echo "== seccomp and Landlock attach cost (each shape, in fresh children; bench/README.md)"
"$bin/bench/seccomp_attach" --rounds="${ATTACH_ROUNDS:-400}" || rc=1

echo
echo "== relay throughput"
"$bin/bench/relay_throughput" --proxy="$bin/ssh-proxy" --mib="${RELAY_MIB:-1024}" || rc=1

echo
echo "== address parsing (Google Benchmark; BigO = ns per byte of path)"
"$bin/bench/address_benchmark" --benchmark_repetitions=5 \
  --benchmark_report_aggregates_only=true 2>/dev/null |
  grep -E '_median|BigO|RMS' || rc=1

echo
echo "== mux reply parsing"
"$bin/bench/mux_reply_benchmark" --benchmark_repetitions=5 \
  --benchmark_report_aggregates_only=true 2>/dev/null | grep -E '_median' || rc=1

if [[ ${BENCH_VM:-1} == 1 ]]; then
  echo
  echo "== a real VM: QEMU (TCG) + vhost-device-vsock (reported, not asserted)"
  tests/vm/vm_bench.py --binary="$bin/ssh-proxy" --harness="$bin/tests/e2e/fdpass_harness" || rc=1
fi
if [[ ${BENCH_VM:-1} == 1 && ${BENCH_LOAD:-1} == 1 ]]; then
  echo
  echo "== a real VM under load: bursts of 16/64/256, 32 parallel ssh, the backlog, a soak of" \
    "${LOAD_SOAK_SECONDS:-600} s (tests/vm/load_bench.py; BENCH_LOAD=0 skips it; about 25 minutes)"
  tests/vm/load_bench.py --binary="$bin/ssh-proxy" --harness="$bin/tests/e2e/burst_harness" || rc=1
fi
exit "$rc"
