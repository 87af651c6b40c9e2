#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
#
# End-to-end test of ssh-proxy with the real OpenSSH client and a real sshd (sshd -i behind
# unix_inetd), directly over AF_UNIX and through mux_emulator (an emulated Firecracker vsock
# multiplexer). Nothing here opens AF_VSOCK.
#
#   e2e_test.sh SSH_PROXY MUX_EMULATOR UNIX_INETD FDPASS_HARNESS SSHD_FIXTURE
#
# (Bazel passes the five paths; see BUILD.bazel.) Prints one "PASS name" or "FAIL name: why" line
# per check and exits 1 if any check failed. Every command is time-bounded. FIXTURE_KEEP=1 keeps
# the fixture directory; under Bazel the logs of a failed run are copied to
# $TEST_UNDECLARED_OUTPUTS_DIR.

set -uo pipefail
# pass, fail, abspath and the PASSED/FAILED counters.
# shellcheck source=tests/check.sh
source "$(dirname "${BASH_SOURCE[0]}")/../check.sh"

if (($# != 5)); then
  echo "usage: $0 SSH_PROXY MUX_EMULATOR UNIX_INETD FDPASS_HARNESS SSHD_FIXTURE" >&2
  exit 2
fi

SSH_PROXY=$(abspath "$1")
MUX_EMULATOR=$(abspath "$2")
UNIX_INETD=$(abspath "$3")
FDPASS_HARNESS=$(abspath "$4")
# shellcheck source=tests/e2e/sshd_fixture.sh
source "$(abspath "$5")"


OUT=""     # stdout of the last run_* command
ERR=""     # stderr of the last run_* command
RC=0       # exit status of the last run_* command
ELAPSED=0  # its duration in milliseconds

now_ms() { date +%s%3N; }

# run_cmd CMD...: runs CMD (a bounded command: fixture_ssh, run_proxy or `timeout ...`),
# capturing OUT, ERR, RC and ELAPSED.
run_cmd() {
  local start
  start=$(now_ms)
  OUT=$("$@" 2>"$FIXTURE_DIR/stderr")
  RC=$?
  ELAPSED=$(($(now_ms) - start))
  ERR=$(<"$FIXTURE_DIR/stderr")
}

# run_proxy ARGS...: runs ssh-proxy ARGS under fdpass_harness (stdin and stdout a socketpair,
# as ssh provides them with ProxyUseFdpass); OUT holds the harness' report.
run_proxy() {
  run_cmd timeout -k 5 30 "$FDPASS_HARNESS" --timeout=20 --read-line -- "$SSH_PROXY" "$@"
}

detail() { printf 'rc=%s stdout=[%s] stderr=[%s]' "$RC" "$OUT" "$ERR"; }

# check_ssh NAME HOST: `ssh HOST echo TOKEN` through ssh-proxy must print TOKEN.
check_ssh() {
  local name=$1 host=$2 token="hello-$RANDOM-$RANDOM"
  run_cmd fixture_ssh "$host" echo "$token"
  if [[ $RC == 0 && $OUT == "$token" ]]; then
    pass "$name"
  else
    fail "$name" "ssh $host: $(detail)"
  fi
}

# check_log NAME LOG COUNT: LOG holds exactly COUNT lines, each `CONNECT 22\n` (C-escaped).
check_log() {
  local name=$1 log=$2 count=$3 expected="" i
  for ((i = 0; i < count; i++)); do expected+='CONNECT 22\n'$'\n'; done
  local actual
  actual=$(cat "$log"; echo x)
  actual=${actual%x}
  if [[ $actual == "$expected" ]]; then
    pass "$name"
  else
    fail "$name" "$log holds [$actual], want $count line(s) 'CONNECT 22\\n'"
  fi
}

# check_proxy_fails NAME WANT_RC ARGS...: ssh-proxy ARGS must exit WANT_RC without passing an fd.
check_proxy_fails() {
  local name=$1 want=$2
  shift 2
  run_proxy "$@"
  if [[ $RC == "$want" && $OUT == *"fd: none"* && -n $ERR ]]; then
    pass "$name"
  else
    fail "$name" "want exit $want, no fd and a message: $(detail)"
  fi
}

# check_proxy_ok NAME ARGS...: ssh-proxy ARGS must exit 0 after passing a socket whose first line
# is sshd's banner (the proxy consumed the mux reply exactly, not the guest's bytes).
check_proxy_ok() {
  local name=$1
  shift
  run_proxy "$@"
  if [[ $RC == 0 && $OUT == *"fd: socket"* && $OUT == *"line: SSH-2.0-"*'\r\n'* ]]; then
    pass "$name"
  else
    fail "$name" "want exit 0 and sshd's banner on the passed fd: $(detail)"
  fi
}

save_logs() {
  [[ -n ${TEST_UNDECLARED_OUTPUTS_DIR:-} && -n $FIXTURE_DIR ]] || return 0
  cp "$FIXTURE_DIR"/*.log "$FIXTURE_DIR"/*_config "$TEST_UNDECLARED_OUTPUTS_DIR"/ 2>/dev/null
  echo "logs copied to $TEST_UNDECLARED_OUTPUTS_DIR" >&2
}

# start_mux NAME SCENARIO: fixture_start_mux, or stop the test.
start_mux() {
  if ! fixture_start_mux "$1" "$2"; then
    fail fixture_start_mux "$1 ($2)"
    save_logs
    exit 1
  fi
}

if ! fixture_start firecracker; then
  fail fixture_start "could not start sshd and the mux emulator"
  save_logs
  exit 1
fi
D=$FIXTURE_DIR
for scenario in echo trickle close reset garbage midclose overlong badport silent; do
  start_mux "$scenario" "$scenario"
done
start_mux nobackend firecracker
# A multiplexer socket path longer than sockaddr_un's sun_path (ssh-proxy connects those through
# an O_PATH descriptor).
LONG_DIR=$(printf 'long-directory-name-%.0s' 1 2 3 4 5 6)
mkdir -p "$D/$LONG_DIR"
start_mux "$LONG_DIR/vm" firecracker
SSHD_SOCK=$FIXTURE_SSHD_SOCK
VM_SOCK=$FIXTURE_VM_SOCK

# --- the fixture itself, without ssh-proxy (needs socat; skipped without it) ----------------------
if command -v socat >/dev/null; then
  token="direct-$RANDOM"
  run_cmd fixture_ssh -o ProxyUseFdpass=no -o "ProxyCommand=socat - UNIX-CONNECT:$SSHD_SOCK" \
    x echo "$token"
  if [[ $RC == 0 && $OUT == "$token" ]]; then
    pass fixture_sshd_without_proxy
  else
    fail fixture_sshd_without_proxy "the fixture's sshd is broken: $(detail)"
  fi
  start_mux selfcheck firecracker
  run_cmd timeout -k 5 10 socat -t 2 - "UNIX-CONNECT:$D/selfcheck.sock" <<<"CONNECT 22"
  if [[ $RC == 0 && $OUT == $'OK 1073741824\nSSH-2.0-'* ]]; then
    pass fixture_mux_firecracker_reply
  else
    fail fixture_mux_firecracker_reply "want 'OK 1073741824' then sshd's banner: $(detail)"
  fi
else
  skip fixture_sshd_without_proxy "socat is not installed"
  skip fixture_mux_firecracker_reply "socat is not installed"
fi

# --- ssh through ssh-proxy, every spelling of every target ----------------------------------------
check_ssh ssh_unix_slash "unix$SSHD_SOCK"
check_ssh ssh_unix_percent "unix%${SSHD_SOCK#/}"
check_ssh ssh_unix_alias vm-unix
for scenario in vm echo trickle; do
  label=${scenario/vm/firecracker}
  check_ssh "ssh_mux_${label}_slash" "vsock-mux$D/$scenario.sock"
  check_ssh "ssh_mux_${label}_percent" "vsock-mux%${D#/}/$scenario.sock"
done
check_ssh ssh_mux_firecracker_alias vm-mux
check_ssh ssh_mux_long_path "vsock-mux$D/$LONG_DIR/vm.sock"
# The emulator must have seen exactly one command per connection. Note that these ssh checks
# cannot tell whether ssh-proxy consumed the mux reply: ssh skips lines before the "SSH-" banner
# (RFC 4253 4.2), so a reply left in the stream goes unnoticed. The proxy_*_banner checks below
# look at the passed fd directly.
check_log mux_firecracker_log "$FIXTURE_VM_LOG" 3
check_log mux_echo_log "$D/echo.log" 2
check_log mux_trickle_log "$D/trickle.log" 2

# Stdin and stdout streamed through the bridge (half-close of the session).
token="stdin-$RANDOM"
# shellcheck disable=SC2016  # $x is for the remote shell.
OUT=$(printf '%s\n' "$token" |
  timeout -k 5 30 ssh -F "$FIXTURE_SSH_CONFIG" vm-mux 'read -r x; echo "got $x"' 2>"$D/stderr")
RC=$?
ERR=$(<"$D/stderr")
if [[ $RC == 0 && $OUT == "got $token" ]]; then
  pass ssh_mux_stdin
else
  fail ssh_mux_stdin "$(detail)"
fi

# --- scp of 10 MB over vsock-mux ------------------------------------------------------------------
# scp reads a host containing "/" as a local path: the vm-mux alias runs
# `ssh-proxy vsock-mux/<path> %p`.
head -c $((10 * 1024 * 1024)) /dev/urandom >"$D/upload.bin"
want_sha=$(sha256sum <"$D/upload.bin" | cut -d' ' -f1)
run_cmd fixture_scp "$D/upload.bin" "vm-mux:$D/remote.bin"
got_sha=$(sha256sum <"$D/remote.bin" 2>/dev/null | cut -d' ' -f1)
if [[ $RC == 0 && $got_sha == "$want_sha" ]]; then
  pass scp_upload_10mb_sftp
else
  fail scp_upload_10mb_sftp "sha256 $got_sha, want $want_sha; $(detail)"
fi
# Back again with the legacy scp protocol (-O), which ends on the stream's EOF.
run_cmd fixture_scp -O "vm-mux:$D/remote.bin" "$D/download.bin"
got_sha=$(sha256sum <"$D/download.bin" 2>/dev/null | cut -d' ' -f1)
if [[ $RC == 0 && $got_sha == "$want_sha" ]]; then
  pass scp_download_10mb_legacy
else
  fail scp_download_10mb_legacy "sha256 $got_sha, want $want_sha; $(detail)"
fi
rm -f "$D/upload.bin" "$D/remote.bin" "$D/download.bin"

# --- ssh-proxy run directly under a socketpair ----------------------------------------------------
check_proxy_ok proxy_unix_banner "unix$SSHD_SOCK" 22
check_proxy_ok proxy_mux_firecracker_banner_in_same_write "vsock-mux$VM_SOCK" 22
check_proxy_ok proxy_mux_trickle_banner "vsock-mux$D/trickle.sock" 22

check_proxy_fails proxy_mux_close_69 69 "vsock-mux$D/close.sock" 22
check_log proxy_mux_close_log "$D/close.log" 1
check_proxy_fails proxy_mux_reset_69 69 "vsock-mux$D/reset.sock" 22
check_log proxy_mux_reset_log "$D/reset.log" 1
for scenario in garbage midclose overlong badport; do
  check_proxy_fails "proxy_mux_${scenario}_76" 76 "vsock-mux$D/$scenario.sock" 22
  check_log "proxy_mux_${scenario}_log" "$D/$scenario.log" 1
done

run_proxy --timeout=500ms "vsock-mux$D/silent.sock" 22
if [[ $RC == 75 && $OUT == *"fd: none"* && $ELAPSED -lt 5000 ]]; then
  pass proxy_mux_silent_timeout_75
else
  fail proxy_mux_silent_timeout_75 "want exit 75 within 5 s (took ${ELAPSED} ms): $(detail)"
fi
check_log proxy_mux_silent_log "$D/silent.log" 1

# Guest port without a listener: the mux closes without a reply.
check_proxy_fails proxy_mux_no_guest_listener_69 69 "vsock-mux$D/nobackend.sock" 2222
check_proxy_fails proxy_unix_missing_socket_69 69 "unix$D/missing.sock" 22
check_proxy_fails proxy_mux_missing_socket_69 69 "vsock-mux$D/missing.sock" 22

# --fdpass with stdout not a socket: usage error 64, before connecting.
run_cmd timeout -k 5 30 "$SSH_PROXY" --fdpass "unix$SSHD_SOCK" 22
if [[ $RC == 64 && $ERR == *ProxyUseFdpass* ]]; then
  pass proxy_fdpass_stdout_not_socket_64
else
  fail proxy_fdpass_stdout_not_socket_64 "want exit 64 naming ProxyUseFdpass: $(detail)"
fi

# Through ssh: a failing proxy makes ssh fail promptly.
run_cmd fixture_ssh "vsock-mux$D/close.sock" true
if [[ $RC == 255 && $ELAPSED -lt 10000 ]]; then
  pass ssh_mux_close_fails
else
  fail ssh_mux_close_fails "want ssh exit 255 within 10 s (took ${ELAPSED} ms): $(detail)"
fi
# ssh without fd passing and a proxy forced to --fdpass: it says what to set.
run_cmd fixture_ssh -o ProxyUseFdpass=no \
  -o "ProxyCommand=$(fixture_quote_proxy_arg "$SSH_PROXY") --fdpass %n %p" "unix$SSHD_SOCK" true
if [[ $RC != 0 && $ERR == *ProxyUseFdpass* ]]; then
  pass ssh_without_fdpass_explains
else
  fail ssh_without_fdpass_explains "want failure naming ProxyUseFdpass: $(detail)"
fi

# --- relay mode: ssh without ProxyUseFdpass (ssh gives the proxy pipes) ----------------------------
check_ssh_relay() {
  local name=$1 host=$2 token="relay-$RANDOM-$RANDOM"
  run_cmd fixture_ssh -o ProxyUseFdpass=no "$host" echo "$token"
  if [[ $RC == 0 && $OUT == "$token" ]]; then
    pass "$name"
  else
    fail "$name" "ssh -o ProxyUseFdpass=no $host: $(detail)"
  fi
}
check_ssh_relay ssh_relay_unix "unix$SSHD_SOCK"
check_ssh_relay ssh_relay_unix_percent "unix%${SSHD_SOCK#/}"
check_ssh_relay ssh_relay_mux_firecracker "vsock-mux$VM_SOCK"
check_ssh_relay ssh_relay_mux_trickle "vsock-mux$D/trickle.sock"
run_cmd fixture_ssh -o ProxyUseFdpass=no \
  -o "ProxyCommand=$(fixture_quote_proxy_arg "$SSH_PROXY") --relay %n %p" "unix$SSHD_SOCK" echo forced
if [[ $RC == 0 && $OUT == forced ]]; then
  pass ssh_relay_forced
else
  fail ssh_relay_forced "$(detail)"
fi
# A relay under ssh's fd-passing socketpair, forced with --relay: ssh must still work (it then
# reads the session from the proxy's stdout rather than from a passed fd... which ssh with
# ProxyUseFdpass does not do, so it must fail cleanly rather than hang).
run_cmd fixture_ssh -o "ProxyCommand=$(fixture_quote_proxy_arg "$SSH_PROXY") --relay %n %p" \
  "unix$SSHD_SOCK" true
if [[ $RC == 255 && $ELAPSED -lt 20000 ]]; then
  pass ssh_fdpass_with_forced_relay_fails_cleanly
else
  fail ssh_fdpass_with_forced_relay_fails_cleanly "want ssh exit 255: $(detail)"
fi

# 10 MB both ways through the relay, by checksum: stdin -> guest, guest -> stdout.
head -c $((10 * 1024 * 1024)) /dev/urandom >"$D/relay.bin"
want_sha=$(sha256sum <"$D/relay.bin" | cut -d' ' -f1)
OUT=$(timeout -k 5 60 ssh -F "$FIXTURE_SSH_CONFIG" -o ProxyUseFdpass=no "vsock-mux$VM_SOCK" \
  'sha256sum | cut -d" " -f1' <"$D/relay.bin" 2>"$D/stderr")
RC=$?
ERR=$(<"$D/stderr")
if [[ $RC == 0 && $OUT == "$want_sha" ]]; then
  pass ssh_relay_10mb_upload
else
  fail ssh_relay_10mb_upload "want $want_sha: $(detail)"
fi
got_sha=$(timeout -k 5 60 ssh -F "$FIXTURE_SSH_CONFIG" -o ProxyUseFdpass=no "vsock-mux$VM_SOCK" \
  cat "$D/relay.bin" 2>"$D/stderr" | sha256sum | cut -d' ' -f1)
if [[ $got_sha == "$want_sha" ]]; then
  pass ssh_relay_10mb_download
else
  fail ssh_relay_10mb_download "got $got_sha, want $want_sha; $(<"$D/stderr")"
fi

# Signals: a relay stopped and continued mid-session loses nothing; SIGTERM ends it at once.
# proxy_pids PATTERN: pids of ssh-proxy processes whose command line contains PATTERN.
proxy_pids() {
  local pid
  for pid in $(pgrep -x ssh-proxy || true); do
    if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$1"; then echo "$pid"; fi
  done
}
(timeout -k 5 60 ssh -F "$FIXTURE_SSH_CONFIG" -o ProxyUseFdpass=no "vsock-mux$VM_SOCK" \
  "sleep 1; cat $D/relay.bin" 2>"$D/stderr" | sha256sum | cut -d' ' -f1 >"$D/stopped.sha") &
bg=$!
stopped=0
for _ in $(seq 50); do
  pids=$(proxy_pids "vsock-mux$VM_SOCK 22")
  if [[ -n $pids ]]; then
    # shellcheck disable=SC2086
    kill -STOP $pids && sleep 0.5 && kill -CONT $pids && stopped=1
    break
  fi
  sleep 0.1
done
wait "$bg"
if [[ $stopped == 1 && $(<"$D/stopped.sha") == "$want_sha" ]]; then
  pass relay_survives_sigstop_sigcont
else
  fail relay_survives_sigstop_sigcont "stopped=$stopped sha $(<"$D/stopped.sha"), want $want_sha"
fi
mkfifo "$D/idle.fifo"
(timeout -k 5 30 "$SSH_PROXY" "unix$SSHD_SOCK" 22 <"$D/idle.fifo" >/dev/null 2>&1
  echo $? >"$D/term.rc") &
bg=$!
exec {idle_fd}>"$D/idle.fifo" # Keeps the relay's stdin open and idle.
for _ in $(seq 50); do
  pids=$(proxy_pids "unix$SSHD_SOCK 22")
  [[ -n $pids ]] && break
  sleep 0.1
done
sleep 0.2 # Let it connect and settle in the relay.
start=$(now_ms)
# shellcheck disable=SC2086
[[ -n $pids ]] && kill -TERM $pids
wait "$bg"
ELAPSED=$(($(now_ms) - start))
exec {idle_fd}>&-
if [[ -n $pids && $(<"$D/term.rc") == 143 && $ELAPSED -lt 5000 ]]; then
  pass relay_sigterm_ends_it
else
  fail relay_sigterm_ends_it "want exit 143 (SIGTERM) at once: pids=[$pids] rc=$(<"$D/term.rc") after ${ELAPSED} ms"
fi
rm -f "$D/relay.bin" "$D/idle.fifo"

# vsock is only ever parsed here (--dry-run): never connect an AF_VSOCK socket in tests.
run_cmd timeout -k 5 30 "$SSH_PROXY" --dry-run vsock/4711 22
if [[ $RC == 0 && $OUT == "vsock cid=4711 port=22" ]]; then
  pass proxy_vsock_dry_run
else
  fail proxy_vsock_dry_run "$(detail)"
fi

if ! check_summary; then
  save_logs
  echo "--- tail of $FIXTURE_SSHD_LOG" >&2
  tail -n 20 "$FIXTURE_SSHD_LOG" >&2 2>/dev/null
  exit 1
fi
exit 0
