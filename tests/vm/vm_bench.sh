#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
#
# vm_bench.sh: ssh-proxy's cost against a real VM (tests/vm/vm.sh's minimal guest under QEMU TCG,
# vhost-device-vsock as the multiplexer). Reports, asserts nothing but that the runs worked.
#
#   tests/vm/vm_bench.sh --binary=SSH_PROXY --harness=FDPASS_HARNESS
#
#   spawn -> fd: fdpass_harness (//tests/e2e:fdpass_harness) runs `ssh-proxy vsock-mux/MUX 22` the
#     way ssh does (ProxyUseFdpass yes) and receives the connected fd; VM_BENCH_RUNS runs (100),
#     against the same harness running /bin/true (its own floor).
#   ssh set-up: `ssh HOST true`, VM_BENCH_SSH_RUNS runs (10) each, with ssh-proxy passing the fd,
#     with ssh-proxy relaying (ProxyUseFdpass no), and with the guest's sshd reached without
#     ssh-proxy (socat to the multiplexer's socket, a shell writing "CONNECT 22" and stripping the
#     6-byte "OK 22" reply, two cats relaying).
# Medians (and p90) in milliseconds, measured around each command from bash ($EPOCHREALTIME; the
# command substitution's fork is in every figure, which is why the /bin/true floor is shown).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/vm/vm.sh
source "$here/vm.sh"

BIN=""
HARNESS=""
for arg in "$@"; do
  case $arg in
    --binary=*) BIN=$(realpath "${arg#*=}") ;;
    --harness=*) HARNESS=$(realpath "${arg#*=}") ;;
    *)
      echo "usage: $0 --binary=SSH_PROXY --harness=FDPASS_HARNESS" >&2
      exit 2
      ;;
  esac
done
[[ -x $BIN && -x $HARNESS ]] || {
  echo "usage: $0 --binary=SSH_PROXY --harness=FDPASS_HARNESS" >&2
  exit 2
}
if reason=$(vm_skip_reason); then
  echo "skipped: $reason"
  exit 0
fi

trap vm_stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
VM_SSH_PROXY=$BIN
VM_REPO=$(cd "$here/../.." && pwd)
vm_start || exit 1
echo "guest $VM_KERNEL_RELEASE, accelerator $VM_ACCEL_USED, sshd answered $VM_BOOT_MS ms after qemu started"

# stats LABEL FILE: median and p90 of the microsecond figures in FILE, printed in ms.
stats() {
  sort -n "$2" | awk -v label="$1" '{ v[NR] = $1 } END {
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    p = v[int(NR * 0.9 + 0.999)]
    printf "  %-58s median %8.2f ms   p90 %8.2f ms   (%d runs)\n", label, m / 1000, p / 1000, NR }'
}
rc=0

# time_runs FILE N CMD...: N runs of CMD, which must succeed (and print "fd: socket" when
# EXPECT_FD=1), each one's wall time in microseconds in FILE.
time_runs() {
  local file=$1 n=$2 i t0 t1 out
  shift 2
  : >"$file"
  for ((i = 0; i < n; i++)); do
    t0=${EPOCHREALTIME/./}
    out=$("$@" </dev/null 2>&1) || {
      echo "  run failed: $* -> ${out:0:300}"
      return 1
    }
    t1=${EPOCHREALTIME/./}
    if [[ ${EXPECT_FD:-0} == 1 && $out != *"fd: socket"* ]]; then
      echo "  no fd: $* -> ${out:0:300}"
      return 1
    fi
    echo $((t1 - t0)) >>"$file"
  done
}

d=$VM_DIR
runs=${VM_BENCH_RUNS:-100}
echo "== spawn -> fd received, through the real multiplexer (fdpass_harness, as ssh does it)"
EXPECT_FD=1 time_runs "$d/mux.us" "$runs" "$VM_NO_VSOCK" "$HARNESS" -- "$BIN" "vsock-mux$VM_MUX" 22 &&
  stats "ssh-proxy vsock-mux/ (CONNECT 22 -> OK 22 -> fd)" "$d/mux.us" || rc=1
time_runs "$d/true.us" "$runs" "$VM_NO_VSOCK" "$HARNESS" -- /bin/true
stats "the same harness running /bin/true (floor; no fd)" "$d/true.us"

ssh_runs=${VM_BENCH_SSH_RUNS:-10}
# Without ssh-proxy: socat connects, a shell writes "CONNECT 22", strips the 6-byte "OK 22" reply one
# byte at a time (dd), then two cats relay. Nothing may be sent before the reply: vhost-device-vsock
# drops bytes that reach it in the same read as the CONNECT line.
cat >"$d/inner.sh" <<'EOF'
printf 'CONNECT 22\n'
dd bs=1 count=6 of=/dev/null status=none
cat <&3 &
exec cat >&4
EOF
cat >"$d/direct.sh" <<EOF
exec 3<&0 4>&1
exec socat UNIX-CONNECT:$VM_MUX "SYSTEM:sh $d/inner.sh,nofork"
EOF
echo "== ssh HOST true: session set-up and teardown through the real VM (the three interleaved)"
# The spawn runs left up to VM_BENCH_RUNS sshd processes starting and exiting in the guest; one
# uncounted session lets it settle.
vm_ssh "vsock-mux$VM_MUX" true </dev/null >/dev/null 2>&1
: >"$d/ssh_fd.us"
: >"$d/ssh_relay.us"
: >"$d/ssh_direct.us"
for ((k = 0; k < ssh_runs; k++)); do
  for kind in fd relay direct; do
    case $kind in
      fd) cmd=(vm_ssh "vsock-mux$VM_MUX" true) ;;
      relay) cmd=(vm_ssh -o ProxyUseFdpass=no "vsock-mux$VM_MUX" true) ;;
      direct) cmd=(timeout -k 5 120 "$VM_NO_VSOCK" ssh -F "$VM_DIR/ssh_config"
        -o "ProxyCommand=sh $d/direct.sh" -o ProxyUseFdpass=no guest true) ;;
    esac
    t0=${EPOCHREALTIME/./}
    if ! out=$("${cmd[@]}" </dev/null 2>&1); then
      echo "  run failed ($kind): ${out:0:300}"
      rc=1
      continue
    fi
    t1=${EPOCHREALTIME/./}
    echo $((t1 - t0)) >>"$d/ssh_$kind.us"
  done
done
stats "ssh-proxy, fd passed (ProxyUseFdpass yes)" "$d/ssh_fd.us"
stats "ssh-proxy relaying (ProxyUseFdpass no)" "$d/ssh_relay.us"
stats "without ssh-proxy (socat + hand-written CONNECT)" "$d/ssh_direct.us"
exit "$rc"
