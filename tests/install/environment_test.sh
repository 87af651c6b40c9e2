#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
#
# shellcheck disable=SC2016  # single-quoted scripts for sh -c and printf expand later, on purpose.
# environment_test.sh: ssh-proxy's behaviour does not depend on its environment. It runs the same
# commands with an empty environment and with a hostile one (LD_PRELOAD and LD_AUDIT naming a canary
# library, LD_LIBRARY_PATH, SSH_AUTH_SOCK pointing at a decoy listener, every SSH_* ssh sets, HOME,
# TMPDIR, XDG_RUNTIME_DIR, PATH, locale, GLIBC_TUNABLES, ...) and requires identical results:
#   - --dry-run of every address form and of bad input (stdout, stderr, exit code);
#   - a real unix connect under ssh's fd-passing protocol (//tests/e2e:fdpass_harness): the passed
#     fd must be a socket whose first line comes from the real listener, not the decoy;
#   - the same connect in relay mode (stdout a pipe), and with -v.
# A control run shows that the canary does fire in a dynamic program named ssh-proxy.
#
#   environment_test.sh SSH_PROXY FDPASS_HARNESS UNIX_INETD PRELOAD_CANARY_SO
#
# Opens no AF_VSOCK socket. Prints "PASS name" / "FAIL name: why" per check and
# "N passed, N failed"; exits 1 if anything failed.
set -uo pipefail
# pass, fail, abspath and the PASSED/FAILED counters.
# shellcheck source=tests/check.sh
source "$(dirname "${BASH_SOURCE[0]}")/../check.sh"

if (($# != 4)); then
  echo "usage: $0 SSH_PROXY FDPASS_HARNESS UNIX_INETD PRELOAD_CANARY_SO" >&2
  exit 2
fi
PROXY=$(abspath "$1")
HARNESS=$(abspath "$2")
INETD=$(abspath "$3")
CANARY=$(abspath "$4")


T=$(mktemp -d /tmp/ssh-proxy-env.XXXXXX)  # short: socket paths must fit sun_path
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf -- "$T"
}
trap cleanup EXIT

# Listeners: the real target and the decoy that SSH_AUTH_SOCK points at.
start_listener() {  # start_listener NAME GREETING: each connection touches $T/NAME.reached
  "$INETD" --listen="$T/$1.sock" --ready="$T/$1.ready" --lifetime=60 --stderr="$T/$1.log" \
    -- /bin/sh -c 'touch "$1"; echo "$2"' sh "$T/$1.reached" "$2" &
  pids+=("$!")
  local i
  for ((i = 0; i < 500; i++)); do
    [[ -e $T/$1.ready ]] && return 0
    sleep 0.01
  done
  echo "listener $1 did not start" >&2
  exit 1
}
start_listener real real-target
start_listener decoy DECOY-via-environment
mkdir -p "$T/evil-home/.ssh" "$T/evil-tmp" "$T/evil-run" "$T/evil-bin" "$T/evil-lib"
# A PATH entry that would shadow anything looked up by name.
printf '#!/bin/sh\necho "EVIL $0"\n' >"$T/evil-bin/ssh-proxy"
cp "$T/evil-bin/ssh-proxy" "$T/evil-bin/ssh"
chmod +x "$T/evil-bin/ssh-proxy" "$T/evil-bin/ssh"
echo "Host *
  ProxyCommand $T/evil-bin/ssh-proxy" >"$T/evil-home/.ssh/config"

# shellcheck disable=SC2034  # read through the nameref in in_env
clean_env=(PATH=/usr/bin:/bin)
hostile_env=(
  "LD_PRELOAD=$CANARY"
  "LD_AUDIT=$CANARY"
  "LD_LIBRARY_PATH=$T/evil-lib"
  "LD_BIND_NOW=" "LD_DEBUG=all" "LD_SHOW_AUXV=1"
  "GCONV_PATH=$T/evil-lib"
  "GLIBC_TUNABLES=glibc.malloc.perturb=165:glibc.malloc.tcache_count=0"
  "MALLOC_CHECK_=3" "MALLOC_PERTURB_=165"
  "SSH_AUTH_SOCK=$T/decoy.sock"
  "SSH_AGENT_PID=1"
  "SSH_CONNECTION=192.0.2.1 4711 192.0.2.2 22"
  "SSH_CLIENT=192.0.2.1 4711 22"
  "SSH_ORIGINAL_COMMAND=unix$T/decoy.sock"
  "SSH_TTY=/dev/pts/99"
  "SSH_ASKPASS=$T/evil-bin/ssh"
  "SSH_PROXY_HOST=unix$T/decoy.sock"
  "SSH_PROXY_TIMEOUT=1ms"
  "HOME=$T/evil-home"
  "TMPDIR=$T/evil-tmp"
  "XDG_RUNTIME_DIR=$T/evil-run"
  "PATH=$T/evil-bin:/usr/bin:/bin"
  "LANG=fr_FR.UTF-8" "LC_ALL=fr_FR.UTF-8" "LANGUAGE=fr"
  "TZ=Pacific/Kiritimati"
  "VMADDR_CID=3" "SYSTEMD_SSH_PROXY=unix$T/decoy.sock"
  "POSIXLY_CORRECT=1"
)

# in_env OUT_PREFIX ENV_ARRAY_NAME CMD...: runs CMD with exactly that environment (no env(1):
# bash execs CMD itself, so no dynamic loader runs before a static CMD), stdin /dev/null; writes
# OUT_PREFIX.out, .err, .rc.
in_env() {
  local prefix=$1 envname=$2
  shift 2
  local -n vars=$envname
  (
    while IFS= read -r v; do unset "$v" 2>/dev/null; done < <(compgen -e)
    # (bash itself warns when LC_ALL names a locale that is not installed: not ssh-proxy's output)
    { for kv in "${vars[@]}"; do export "${kv?}"; done; } 2>/dev/null
    exec "$@"
  ) </dev/null >"$prefix.out" 2>"$prefix.err"
  echo $? >"$prefix.rc"
}

# same NAME CMD...: CMD's stdout, stderr and exit code are identical in both environments.
same() {
  local name=$1
  shift
  in_env "$T/clean" clean_env "$@"
  in_env "$T/hostile" hostile_env "$@"
  local c h
  c="rc=$(<"$T/clean.rc") out=[$(<"$T/clean.out")] err=[$(<"$T/clean.err")]"
  h="rc=$(<"$T/hostile.rc") out=[$(<"$T/hostile.out")] err=[$(<"$T/hostile.err")]"
  if [[ $c == "$h" ]]; then
    pass "$name ($(<"$T/clean.out" tr '\n' ' ')rc=$(<"$T/clean.rc"))"
    return 0
  fi
  fail "$name" "empty environment: $c; hostile: $h"
  return 1
}

if readelf -lW "$PROXY" | grep -q INTERP; then
  # --config=asan links ssh-proxy dynamically (sanitizer runtimes cannot be static): the loader
  # then honours LD_* by design, so those are left out; everything else is still checked.
  echo "NOTE: $PROXY is dynamically linked (a sanitizer build): LD_* variables left out"
  kept=()
  for kv in "${hostile_env[@]}"; do [[ $kv == LD_* ]] || kept+=("$kv"); done
  hostile_env=("${kept[@]}")
  dynamic=1
else
  dynamic=0
fi

# Control: the canary fires in a dynamic program called ssh-proxy, so silence below means
# something.
# (Skipped for a sanitizer build: the canary is then instrumented too and loads only into
# instrumented programs.)
if ((dynamic)); then
  skip control_canary_fires_in_a_dynamic_ssh_proxy "a sanitizer build: the canary only loads into instrumented programs"
else
  mkdir -p "$T/control"
  cp /bin/true "$T/control/ssh-proxy"
  LD_PRELOAD=$CANARY "$T/control/ssh-proxy" 2>"$T/control/err"
  rc=$?
  if [[ $rc == 99 && $(<"$T/control/err") == HIJACKED* ]]; then
    pass control_canary_fires_in_a_dynamic_ssh_proxy
  else
    fail control_canary_fires_in_a_dynamic_ssh_proxy "rc=$rc stderr=[$(<"$T/control/err")]"
  fi
fi

# --- --dry-run ------------------------------------------------------------------------------------
same dry_run_vsock "$PROXY" --dry-run vsock/4711 22
same dry_run_vsock_name "$PROXY" --dry-run vsock%host 2222
same dry_run_unix "$PROXY" --dry-run "unix$T/real.sock" 22
same dry_run_mux "$PROXY" --dry-run vsock-mux/run/vm0/v.sock 22
same dry_run_local_host "$PROXY" --dry-run .host 22
same dry_run_bad_host "$PROXY" --dry-run vsock/0x10 22
same dry_run_bad_port "$PROXY" --dry-run vsock/4711 +22
same usage_error "$PROXY" --bogus
# A missing loader object named in LD_PRELOAD (a dynamic program would complain on stderr).
if ((!dynamic)); then
  saved=("${hostile_env[@]}")
  hostile_env=("LD_PRELOAD=/nonexistent.so" "LD_LIBRARY_PATH=/nonexistent" "SSH_AUTH_SOCK=$T/decoy.sock")
  same dry_run_nonexistent_preload "$PROXY" --dry-run vsock/4711 22
  same unix_connect_relay_nonexistent_preload "$PROXY" "unix$T/real.sock" 22
  hostile_env=("${saved[@]}")
fi

# --- a real unix connect ---------------------------------------------------------------------------
# The harness is a dynamic program that execs ssh-proxy: its own loader would print for LD_DEBUG
# and LD_SHOW_AUXV on the stderr it shares with ssh-proxy, so those two are left out here (the
# direct runs above and the relay runs below have them).
full_hostile_env=("${hostile_env[@]}")
hostile_env=()
for kv in "${full_hostile_env[@]}"; do
  case $kv in LD_DEBUG=* | LD_SHOW_AUXV=*) ;; *) hostile_env+=("$kv") ;; esac
done
if same fdpass_unix_connect "$HARNESS" --timeout=10 --read-line -- "$PROXY" "unix$T/real.sock" 22; then
  if [[ $(<"$T/hostile.out") == *"fd: socket"*"line: real-target\n"*"exit: 0"* ]]; then
    pass fdpass_reached_the_real_listener
  else
    fail fdpass_reached_the_real_listener "[$(<"$T/hostile.out")]"
  fi
fi
same fdpass_unix_connect_verbose "$HARNESS" --timeout=10 --read-line -- "$PROXY" -v "unix$T/real.sock" 22
same missing_socket "$HARNESS" --timeout=10 -- "$PROXY" "unix$T/missing.sock" 22
hostile_env=("${full_hostile_env[@]}")
if same relay_unix_connect "$PROXY" "unix$T/real.sock" 22; then
  if [[ $(<"$T/hostile.out") == real-target ]]; then
    pass relay_reached_the_real_listener
  else
    fail relay_reached_the_real_listener "[$(<"$T/hostile.out")]"
  fi
fi
same relay_missing_socket "$PROXY" "unix$T/missing.sock" 22
if [[ -e $T/real.reached && ! -e $T/decoy.reached ]] && ! grep -q DECOY "$T"/*.out; then
  pass decoy_never_reached
else
  fail decoy_never_reached "real reached: $([[ -e $T/real.reached ]] && echo yes || echo no), decoy reached: $([[ -e $T/decoy.reached ]] && echo yes || echo no)"
fi
if ! grep -q HIJACKED "$T"/*.err 2>/dev/null; then
  pass canary_never_loaded_into_ssh_proxy
else
  fail canary_never_loaded_into_ssh_proxy "$(grep -h HIJACKED "$T"/*.err)"
fi

check_summary
