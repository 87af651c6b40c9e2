#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
#
# load_bench.sh: ssh-proxy under load through a real VMM (QEMU TCG + vhost-device-vsock, every
# host process under no-vsock). Reports; asserts only that the runs themselves worked. Run by
# tools/bench.sh (BENCH_VM=0 skips it), not by the default test run (tests/vm/load_test.sh has
# its short version).
#
#   tests/vm/load_bench.sh --binary=SSH_PROXY --harness=BURST_HARNESS [--no-bursts] [--no-soak]
#                          [--no-systemd]
# (--no-bursts leaves out the minimal guest's bursts, parallel ssh, nothing-listening and backlog
# runs; --no-soak the soak; --no-systemd the systemd guest.)
#
# For each guest (the minimal one: socat with backlog 128; the trixie systemd one: sshd-vsock.socket,
# socket-activated, Backlog=2147483647, MaxConnections=64):
#   bursts   N = 16, 64, 256 ssh-proxy processes at once through vsock-mux/ (burst_harness, as ssh
#            runs them, each reading the guest sshd's banner from its fd): how many got an fd and
#            a banner, what the rest got, spawn -> fd p50/p90/p99, the multiplexer's fds and RSS
#            right after and once settled;
#   ssh      32 parallel `ssh HOST true`: successes, what the rest printed, wall p50/p99;
# and on the minimal guest:
#   backlog  16 and 64 at once against a socat listener with its default backlog (5), with no
#            retry and with burst_harness's retry (5 ms doubling to 50 ms) inside 90 ms, 1 s and
#            5 s: the evidence for what ssh-proxy does on the multiplexer's EOF;
#   nothing  a guest port with nothing listening: 20 one at a time and 16 at once, start -> exit;
#   soak     LOAD_SOAK_SECONDS (600) of continuous `ssh HOST true` with the number of parallel
#            loops (1, 2, 4 or 8; LOAD_SOAK_WORKERS to fix it) that gave the highest rate with no
#            failure in a 15 s trial each, plus one ssh-proxy probe (spawn -> fd) per second;
#            success rate, ssh wall and spawn -> fd p50/p99, and every 30 s: ssh-proxy's peak RSS
#            and its fds at the hand-off, the multiplexer's fds and RSS, qemu's RSS.
# The machine's load average is printed with each figure: timings on a shared machine are noisy.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/vm/vm.sh
source "$here/vm.sh"
# shellcheck source=tests/vm/load.sh
source "$here/load.sh"

BIN=""
HARNESS=""
SOAK=1
SYSTEMD=1
BURSTS=1
usage() {
  echo "usage: $0 --binary=SSH_PROXY --harness=BURST_HARNESS [--no-bursts] [--no-soak] [--no-systemd]" >&2
  exit 2
}
for arg in "$@"; do
  case $arg in
    --binary=*) BIN=$(realpath "${arg#*=}") ;;
    --harness=*) HARNESS=$(realpath "${arg#*=}") ;;
    --no-soak) SOAK=0 ;;
    --no-bursts) BURSTS=0 ;;
    --no-systemd) SYSTEMD=0 ;;
    *) usage ;;
  esac
done
[[ -x $BIN && -x $HARNESS ]] || usage
if reason=$(vm_skip_reason); then
  echo "skipped: $reason"
  exit 0
fi
VM_SSH_PROXY=$BIN
LOAD_HARNESS=$HARNESS
VM_REPO=$(cd "$here/../.." && pwd)
trap vm_stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
rc=0
load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "machine: $(nproc) CPUs ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n1)), $(free -g | awk '/^Mem:/ {print $2}') GiB; kernel $(uname -r)"

# bursts LABEL: N = 16, 64, 256 against guest port 22 of the current guest.
bursts() {
  local n pid base after settled rss rss_settled banners closed
  pid=$(load_vhost_pid)
  base=$(load_fds "$pid")
  for n in 16 64 256; do
    load_burst "$n" 22 --read-line --timeout=120
    after=$(load_fds "$pid")
    rss=$(load_rss_kb "$pid")
    banners=$(grep -c 'line="SSH-2.0-' "$VM_DIR/burst.out")
    closed=$(grep -c 'fd=socket .*line=""' "$VM_DIR/burst.out")
    settled=$(load_mux_settle "$base" 120)
    rss_settled=$(load_rss_kb "$pid")
    echo "  $1 N=$n: $BURST_SUMMARY"
    echo "    banners $banners, fd then closed before a banner $closed; multiplexer fds $base before, $after right after, $settled settled; RSS $rss kB after, $rss_settled kB settled; load $(load)"
    [[ -n $BURST_REST ]] && echo "    ${BURST_REST//$'\n'/$'\n'    }"
    [[ -n $BURST_SUMMARY ]] || rc=1
    # Let the guest's sshd processes of this burst end before the next one.
    sleep 5
  done
}

# parallel_ssh LABEL N: N `ssh HOST true` at once.
parallel_ssh() {
  local n=$2 k ok=0
  local dir=$VM_DIR/pssh pids=()
  mkdir -p "$dir"
  for ((k = 0; k < n; k++)); do
    (
      t0=${EPOCHREALTIME/./}
      VM_SSH_TIMEOUT=120 vm_ssh "vsock-mux$VM_MUX" true </dev/null >/dev/null 2>"$dir/$k.err"
      r=$?
      echo "$r $(((${EPOCHREALTIME/./} - t0) / 1000))" >"$dir/$k.rc"
    ) &
    pids+=("$!")
  done
  # Only these: a bare wait would also wait for the guest's own qemu and vhost-device-vsock.
  wait "${pids[@]}"
  : >"$dir/ms"
  for ((k = 0; k < n; k++)); do
    read -r r ms <"$dir/$k.rc"
    echo "$ms" >>"$dir/ms"
    if [[ $r == 0 ]]; then ok=$((ok + 1)); fi
  done
  read -r p50 _ p99 max < <(load_percentiles "$dir/ms")
  echo "  $1: $n parallel ssh HOST true: $ok succeeded; wall p50 $p50 ms, p99 $p99 ms, max $max ms; load $(load)"
  for ((k = 0; k < n; k++)); do
    read -r r _ <"$dir/$k.rc"
    [[ $r == 0 ]] || echo "rc=$r $(head -n1 "$dir/$k.err")"
  done | sort | uniq -c | sed 's/^/    /'
  rm -rf "$dir"
}

# --- the minimal guest ---------------------------------------------------------------------------
VM_FLAVOUR=minimal vm_start || exit 1
echo "== minimal guest ($VM_KERNEL_RELEASE, busybox init, socat VSOCK-LISTEN:22 backlog=128, sshd -i per connection), accelerator $VM_ACCEL_USED, vhost-device-vsock $(load_vhost_version)"
if ((BURSTS)); then
  bursts minimal
  parallel_ssh minimal 32

  echo "== nothing listening on the guest port (start -> exit 69)"
  : >"$VM_DIR/nl.ms"
  for ((k = 0; k < 20; k++)); do
    load_burst 1 2222
    grep -o 'exit_ms=[0-9]*' "$VM_DIR/burst.out" | cut -d= -f2 >>"$VM_DIR/nl.ms"
  done
  read -r p50 p90 p99 max < <(load_percentiles "$VM_DIR/nl.ms")
  echo "  one at a time (20): p50 $p50 ms, p90 $p90 ms, max $max ms; load $(load)"
  load_burst 16 2222
  grep -o 'exit_ms=[0-9]*' "$VM_DIR/burst.out" | cut -d= -f2 >"$VM_DIR/nl16.ms"
  read -r p50 p90 p99 max < <(load_percentiles "$VM_DIR/nl16.ms")
  echo "  16 at once: $(grep -c '^copy .* rc=69 ' "$VM_DIR/burst.out") exit 69; p50 $p50 ms, max $max ms; load $(load)"

  echo "== a listener with socat's default backlog (5): the multiplexer's EOF, and what a retry would gain"
  if load_guest_listener 2205 5; then
    for budget in 0 90 1000 5000; do
      for n in 16 64; do
        load_burst "$n" 2205 --read-line --timeout=120 --retry-budget-ms="$budget"
        slow69=$(grep ' rc=69 ' "$VM_DIR/burst.out" | grep -o 'exit_ms=[0-9]*' | cut -d= -f2 | sort -n | tail -n1)
        maxatt=$(grep -o 'attempts=[0-9]*' "$VM_DIR/burst.out" | cut -d= -f2 | sort -n | tail -n1)
        echo "  retry budget ${budget} ms, N=$n: $BURST_SUMMARY; banners $(grep -c 'line="SSH-2.0-' "$VM_DIR/burst.out"); up to $maxatt attempts; the last 69 came after ${slow69:--} ms; load $(load)"
        sleep 3
      done
    done
  else
    echo "  could not start the listener"
    rc=1
  fi
fi

if ((SOAK)); then
  secs=${LOAD_SOAK_SECONDS:-600}
  # soak_run WORKERS SECONDS DIR: WORKERS loops of `ssh HOST true` and a probe a second.
  soak_run() {
    local workers=$1 secs=$2 dir=$3 w end pids=()
    mkdir -p "$dir"
    end=$(($(date +%s) + secs))
    for ((w = 0; w < workers; w++)); do
      (
        while (($(date +%s) < end)); do
          t0=${EPOCHREALTIME/./}
          VM_SSH_TIMEOUT=60 vm_ssh "vsock-mux$VM_MUX" true </dev/null >/dev/null 2>"$dir/w$w.err"
          r=$?
          echo "$r $(((${EPOCHREALTIME/./} - t0) / 1000))" >>"$dir/w$w.log"
          if [[ $r != 0 ]]; then
            if [[ $r == 124 ]]; then
              echo "rc=124: still running after 60 s, killed (timeout) $(tr -d '\r' <"$dir/w$w.err" | head -n1)" >>"$dir/errors"
            else
              echo "rc=$r: $(tr -d '\r' <"$dir/w$w.err" | head -n1)" >>"$dir/errors"
            fi
          fi
        done
      ) &
      pids+=("$!")
    done
    local t=0 vp qp
    touch "$dir/errors"
    vp=$(load_vhost_pid)
    qp=$(load_qemu_pid)
    : >"$dir/probe"
    : >"$dir/timeline"
    local next=0 start=$((end - secs))
    while (($(date +%s) < end)); do
      load_burst 1 22 --timeout=30
      grep '^copy 0:' "$VM_DIR/burst.out" >>"$dir/probe"
      t=$(($(date +%s) - start))
      if ((t >= next)); then
        if kill -0 "$vp" 2>/dev/null; then
          echo "$t $(load_fds "$vp") $(load_rss_kb "$vp") $(load_rss_kb "$qp") $(load)" >>"$dir/timeline"
        else
          echo "$t vhost-device-vsock has exited: $(grep -m1 'panicked at' "$VM_DIR/vhost.out")" >>"$dir/timeline"
        fi
        next=$((next + 30))
      fi
      sleep 1
    done
    wait "${pids[@]}"
  }
  workers=${LOAD_SOAK_WORKERS:-}
  if [[ -z $workers ]]; then
    echo "== soak: finding the rate the guest sustains (15 s each with 1, 2, 4, 8 parallel loops)"
    best=0
    for w in 1 2 4 8; do
      soak_run "$w" 15 "$VM_DIR/trial$w"
      n=$(cat "$VM_DIR/trial$w"/w*.log | wc -l)
      bad=$(cat "$VM_DIR/trial$w"/w*.log | awk '$1 != 0' | wc -l)
      echo "  $w loops: $n sessions in 15 s, $bad failed; load $(load)"
      if ((bad == 0 && n > best)); then
        best=$n
        workers=$w
      fi
    done
    workers=${workers:-1}
  fi
  echo "== soak: $secs s of ssh HOST true with $workers parallel loops, one ssh-proxy probe a second"
  soak_run "$workers" "$secs" "$VM_DIR/soak"
  d=$VM_DIR/soak
  total=$(cat "$d"/w*.log | wc -l)
  good=$(cat "$d"/w*.log | awk '$1 == 0' | wc -l)
  cat "$d"/w*.log | awk '$1 == 0 { print $2 }' >"$d/ssh.ms"
  read -r sp50 _ sp99 smax < <(load_percentiles "$d/ssh.ms")
  sed -n 's/.* rc=0 fd=socket ms=\([0-9]*\) .*/\1/p' "$d/probe" >"$d/fd.ms"
  read -r fp50 _ fp99 fmax < <(load_percentiles "$d/fd.ms")
  probes=$(wc -l <"$d/probe")
  pgood=$(wc -l <"$d/fd.ms")
  echo "  ssh HOST true: $good of $total succeeded ($(awk -v g="$good" -v t="$total" 'BEGIN { printf "%.2f", t ? 100 * g / t : 0 }') %), $(awk -v t="$total" -v s="$secs" 'BEGIN { printf "%.2f", t / s }') sessions/s; wall p50 $sp50 ms, p99 $sp99 ms, max $smax ms"
  echo "  ssh-proxy probes: $pgood of $probes got an fd; spawn -> fd p50 $fp50 ms, p99 $fp99 ms, max $fmax ms"
  echo "  ssh-proxy per process: peak RSS $(grep -o 'rss_kb=[0-9]*' "$d/probe" | cut -d= -f2 | sort -n | uniq -c | sort -rn | head -n3 | awk '{printf "%s kB (%s probes) ", $2, $1}'); fds at the hand-off $(grep -o 'fds=-\?[0-9]*' "$d/probe" | cut -d= -f2 | sort -n | uniq -c | awk '{printf "%s (%s probes) ", $2, $1}')"
  echo "  over time (s, multiplexer fds, multiplexer RSS kB, qemu RSS kB, load):"
  sed 's/^/    /' "$d/timeline"
  [[ -s $d/errors ]] && sort "$d/errors" | uniq -c | sed 's/^/    failed: /'
  if [[ -n $(load_vhost_pid) ]]; then
    settled=$(load_mux_settle 24 60)
    echo "  after the soak, settled: multiplexer fds $settled, RSS $(load_rss_kb "$(load_vhost_pid)") kB"
  else
    echo "  after the soak: vhost-device-vsock has exited: $(head -c 400 "$VM_DIR/vhost.out")"
  fi
fi
vm_stop

# --- the systemd guest ----------------------------------------------------------------------------
if ((SYSTEMD)); then
  if VM_FLAVOUR=systemd vm_start; then
    echo "== systemd guest (trixie, sshd-vsock.socket: $(vm_ssh "vsock-mux$VM_MUX" 'systemctl show -p Backlog -p MaxConnections --value sshd-vsock.socket | paste -sd/' </dev/null 2>/dev/null) Backlog/MaxConnections, sshd per connection), vhost-device-vsock $(load_vhost_version)"
    bursts systemd
    sleep 30
    parallel_ssh systemd 32
  else
    echo "== systemd guest: did not boot"
    rc=1
  fi
  vm_stop
fi
exit "$rc"
