# shellcheck shell=bash
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
#
# load.sh: what tests/vm/load_test.sh and tests/vm/load_bench.sh share: bursts of ssh-proxy
# processes against a guest booted by tests/vm/vm.sh (sourced first), QEMU's QMP monitor (pause,
# resume, reboot action), the real PIDs of qemu and vhost-device-vsock, and the multiplexer's fds
# and RSS. Every host-side process it starts runs under no-vsock ($VM_NO_VSOCK).
#
# Inputs: LOAD_HARNESS (//tests/e2e:burst_harness), VM_SSH_PROXY and a started guest (VM_DIR,
# VM_MUX, VM_PIDS as vm_start leaves them).

# load_qmp COMMAND...: sends each QMP command (JSON, one per argument) after qmp_capabilities;
# prints QEMU's replies. Returns 1 if the monitor cannot be reached.
load_qmp() {
  local c
  {
    echo '{"execute":"qmp_capabilities"}'
    for c in "$@"; do echo "$c"; done
    # socat ends when QEMU has answered or 2 s after our input ends.
    sleep 0.2
  } | timeout -k 2 10 "$VM_NO_VSOCK" socat -t 2 - "UNIX-CONNECT:$VM_DIR/qmp.sock"
}

# load_real_pid WRAPPER: the process vm_spawn started behind `timeout` (no-vsock execs it): the
# wrapper's only child.
load_real_pid() { pgrep -P "$1" | head -n1; }

# load_vhost_pid, load_qemu_pid: the real vhost-device-vsock and qemu of the current guest.
load_vhost_pid() { load_real_pid "${VM_PIDS[0]}"; }
load_qemu_pid() { load_real_pid "${VM_PIDS[1]}"; }

# load_vhost_version: the vhost-device-vsock package version in use (from its cache directory).
load_vhost_version() {
  local d=${VM_VHOST%/usr/bin/vhost-device-vsock}
  echo "${d##*/vhost-device-vsock-}"
}

# load_fds PID, load_rss_kb PID: open fds and resident memory of a process.
load_fds() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
load_rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
# load_cpu_ms PID: user + system CPU time of a running process, in ms.
load_cpu_ms() {
  awk -v hz="$(getconf CLK_TCK)" '{ print int(($14 + $15) * 1000 / hz) }' "/proc/$1/stat" 2>/dev/null
}

# load_mux_settle BASELINE SECONDS: waits until the multiplexer holds at most BASELINE fds (the
# guest's side of the connections has closed), up to SECONDS; prints the final count.
load_mux_settle() {
  local pid n i
  pid=$(load_vhost_pid)
  for ((i = 0; i < $2 * 10; i++)); do
    n=$(load_fds "$pid")
    ((n <= $1)) && break
    sleep 0.1
  done
  load_fds "$pid"
}

# load_burst N PORT [HARNESS_OPTION...] [-- SSH_PROXY_OPTION...]: N ssh-proxy processes against guest port PORT at once
# (burst_harness, under no-vsock). Output in $VM_DIR/burst.out; BURST_SUMMARY is its "burst:"
# line, BURST_GOT the number that got an fd, BURST_REST its "rest:" lines.
# shellcheck disable=SC2034  # BURST_* are for the scripts that source this file.
load_burst() {
  local n=$1 port=$2 hopts=() popts=()
  shift 2
  while (($# > 0)) && [[ $1 != -- ]]; do
    hopts+=("$1")
    shift
  done
  (($# > 0)) && shift && popts=("$@")
  "$VM_NO_VSOCK" "$LOAD_HARNESS" --count="$n" "${hopts[@]}" -- "$VM_SSH_PROXY" "${popts[@]}" \
    "vsock-mux$VM_MUX" "$port" >"$VM_DIR/burst.out" 2>"$VM_DIR/burst.err" </dev/null
  BURST_SUMMARY=$(grep '^burst:' "$VM_DIR/burst.out")
  BURST_GOT=$(sed -n 's/^burst: [0-9]* started, \([0-9]*\) got an fd.*/\1/p' "$VM_DIR/burst.out")
  BURST_REST=$(grep '^rest:' "$VM_DIR/burst.out")
}

# load_guest_listener PORT BACKLOG: in the guest, one more socat listener on vsock PORT with that
# listen backlog, running the guest's sshd per connection (the minimal guest's own listener on 22
# has a backlog of 128; socat's default is 5). Reached through port 22; waits until it answers.
load_guest_listener() {
  local port=$1 backlog=$2 i
  vm_ssh "vsock-mux$VM_MUX" "setsid socat VSOCK-LISTEN:$port,fork,reuseaddr,backlog=$backlog \
    'EXEC:/usr/sbin/sshd -i -f /etc/ssh/sshd_config,nofork' </dev/null >/dev/null 2>&1 &" \
    </dev/null >/dev/null 2>&1 || return 1
  for ((i = 0; i < 100; i++)); do
    vm_ssh -p "$port" "vsock-mux$VM_MUX" true </dev/null >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  return 1
}

# load_guest_stop_listener PORT (through CONTROL_PORT): stops the guest's socat listener on vsock
# PORT (its parent process; sessions already running go on).
load_guest_stop_listener() {
  vm_ssh -p "$2" "vsock-mux$VM_MUX" "for p in \$(pidof socat); do
    [ \"\$(cut -d' ' -f4 /proc/\$p/stat)\" = 1 ] && grep -q 'VSOCK-LISTEN:$1,' /proc/\$p/cmdline && kill \$p
  done; sleep 0.2; for p in \$(pidof socat); do
    [ \"\$(cut -d' ' -f4 /proc/\$p/stat)\" = 1 ] && grep -q 'VSOCK-LISTEN:$1,' /proc/\$p/cmdline && exit 1
  done; exit 0" </dev/null >/dev/null 2>&1
}

# load_percentiles FILE: "p50 p90 p99 max" of the numbers in FILE (one per line).
load_percentiles() {
  sort -n "$1" | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "- - - -"; exit }
    n = split("0.50 0.90 0.99 1.0", q, " ")
    for (k = 1; k <= n; k++) { i = int(NR * q[k] + 0.999); if (i < 1) i = 1; printf "%s%s", v[i], (k < n ? " " : "\n") } }'
}
