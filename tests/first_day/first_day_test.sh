#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
#
# first_day_test.sh: the mistakes a new user makes on the first day, each run on the real binary,
# asserting the exit code and what the one line on stderr says (issue "first contact"):
#   a path that exists but is no socket (file, directory, FIFO, device, symlinks to them),
#   permission denied on the socket or on a directory on the way (run as nobody),
#   .host without /run/ssh-unix-local/socket,
#   vsock-mux/ pointed at an sshd's own socket (it answers with an SSH banner).
# The did-you-mean messages of the grammar are in tests/cli_binary_test.cc.
#
#   first_day_test.sh SSH_PROXY UNIX_INETD
# Prints PASS/FAIL/SKIP per case and "N passed, N failed, N skipped".
set -uo pipefail
# shellcheck source=tests/check.sh
source "$(dirname "${BASH_SOURCE[0]}")/../check.sh"

proxy=$(abspath "$1")
inetd=$(abspath "$2")

# Below /tmp, not TEST_TMPDIR: socket paths must fit sun_path (107 bytes), and the messages are
# checked for the short-path route; the O_PATH route of longer paths has a case of its own.
tmp=$(mktemp -d /tmp/first-day.XXXXXX)
chmod 755 "$tmp"
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT

# expect NAME CODE SUBSTRING... -- ARGS...: runs ssh-proxy ARGS (stdin /dev/null, 10 s at most) and
# checks its exit code, that stdout is empty and stderr one "ssh-proxy: " line, and that it
# contains every SUBSTRING.
expect() {
  local name=$1 code=$2
  shift 2
  local -a subs=()
  while [[ $1 != -- ]]; do
    subs+=("$1")
    shift
  done
  shift
  local out err rc
  out=$(timeout 10 "$proxy" "$@" </dev/null 2>"$tmp/err")
  rc=$?
  err=$(<"$tmp/err")
  if [[ $rc != "$code" ]]; then
    fail "$name" "exit $rc, expected $code; stderr [$err]"
    return
  fi
  if [[ -n $out || $(wc -l <"$tmp/err") != 1 || $err != 'ssh-proxy: '* ]]; then
    fail "$name" "expected one ssh-proxy: line on stderr and nothing on stdout; got [$out] [$err]"
    return
  fi
  local s
  for s in "${subs[@]}"; do
    if [[ $err != *"$s"* ]]; then
      fail "$name" "stderr [$err] does not say [$s]"
      return
    fi
  done
  pass "$name: $err"
}

# --- a path that exists but is not a socket: exit 69 with what it is ------------------------------
d=$tmp/things
mkdir "$d"
: >"$d/file"
mkdir "$d/dir"
mkfifo "$d/fifo"
ln -s file "$d/link-to-file"
ln -s dir "$d/link-to-dir"
ln -s fifo "$d/link-to-fifo"
ln -s missing "$d/dangling"
for kind in unix vsock-mux; do
  expect "$kind/ to a regular file" 69 "$d/file is a regular file, not a socket" -- "$kind/${d#/}/file" 22
  expect "$kind/ to a directory" 69 "$d/dir is a directory, not a socket" -- "$kind/${d#/}/dir" 22
done
expect "unix/ to a FIFO" 69 "$d/fifo is a FIFO (named pipe), not a socket" -- "unix/${d#/}/fifo" 22
expect "unix/ to a character device" 69 "/dev/null is a character device, not a socket" -- unix/dev/null 22
expect "unix/ to a symlink to a file" 69 "$d/link-to-file is a symlink to a regular file, not a socket" -- "unix/${d#/}/link-to-file" 22
expect "unix/ to a symlink to a directory" 69 "$d/link-to-dir is a symlink to a directory, not a socket" -- "unix/${d#/}/link-to-dir" 22
expect "unix/ to a symlink to a FIFO" 69 "$d/link-to-fifo is a symlink to a FIFO (named pipe), not a socket" -- "unix/${d#/}/link-to-fifo" 22
expect "unix/ to a dangling symlink" 69 "$d/dangling is a symlink to a missing file" -- "unix/${d#/}/dangling" 22
# Nothing there at all keeps the plain errno.
expect "unix/ to nothing" 69 "cannot connect to unix/${d#/}/none: No such file or directory (ENOENT)" -- "unix/${d#/}/none" 22
# A path longer than sun_path (107 bytes) takes the O_PATH route: the same diagnosis.
long=$d/$(printf 'x%.0s' {1..120})
: >"$long"
expect "unix/ to a regular file over 107 bytes" 69 "$long is a regular file, not a socket" -- "unix/${long#/}" 22
ln -s missing "$long-dangling"
expect "unix/ to a dangling symlink over 107 bytes" 69 "$long-dangling is a symlink to a missing file" -- "unix/${long#/}-dangling" 22
expect "unix/ to nothing over 107 bytes" 69 "cannot connect to unix/${long#/}-none: open(O_PATH): No such file or directory (ENOENT)" -- "unix/${long#/}-none" 22

# --- a live socket refusing: still "Connection refused" -------------------------------------------
"$inetd" --listen="$d/live.sock" --ready="$d/live.ready" --lifetime=60 -- /bin/true &
pids+=($!)
for _ in $(seq 100); do [[ -e $d/live.ready ]] && break; sleep 0.05; done

# --- permission denied: which path, its owner and mode (as nobody; root is never denied) -----------
if [[ $(id -u) != 0 ]]; then
  skip "permission denied" "needs root to run ssh-proxy as nobody"
elif ! command -v setpriv >/dev/null; then
  skip "permission denied" "setpriv (util-linux) is not installed"
else
  p=$tmp/perm
  mkdir -p "$p/locked/inner" "$p/open"
  "$inetd" --listen="$p/locked/inner/s" --ready="$p/locked.ready" --lifetime=60 -- /bin/true &
  pids+=($!)
  "$inetd" --listen="$p/open/s" --ready="$p/open.ready" --lifetime=60 -- /bin/true &
  pids+=($!)
  for _ in $(seq 100); do [[ -e $p/locked.ready && -e $p/open.ready ]] && break; sleep 0.05; done
  chmod 755 "$p" "$p/open" "$p/locked/inner"
  chmod 700 "$p/locked"
  chmod 600 "$p/open/s"
  saved=$proxy
  proxy=$tmp/as-nobody
  # A coverage build writes its profile at exit: nobody cannot write Bazel's profile directory, and
  # the runtime's complaint would be a second line on stderr. Those runs' profiles go here.
  mkdir -m 1777 "$tmp/profiles"
  # shellcheck disable=SC2016  # the $ belongs to the wrapper script, expanded when it runs.
  printf '#!/bin/sh\n[ -z "${LLVM_PROFILE_FILE:-}" ] || export LLVM_PROFILE_FILE=%q\nexec setpriv --reuid=65534 --regid=65534 --clear-groups %q "$@"\n' \
    "$tmp/profiles/%p.profraw" "$saved" >"$proxy"
  chmod 755 "$proxy"
  expect "EACCES on a directory on the way" 71 "permission denied: no search permission on the directory $p/locked (owner uid 0, gid 0, mode 0700)" -- "unix/${p#/}/locked/inner/s" 22
  expect "EACCES on the socket" 71 "permission denied: no write permission on the socket $p/open/s (owner uid 0, gid 0, mode 0600)" -- "unix/${p#/}/open/s" 22
  expect "EACCES through vsock-mux/" 71 "permission denied: no write permission on the socket $p/open/s" -- "vsock-mux/${p#/}/open/s" 22
  long=$p/locked/inner/$(printf 'y%.0s' {1..120})
  expect "EACCES over 107 bytes" 71 "permission denied: no search permission on the directory $p/locked (owner uid 0, gid 0, mode 0700)" -- "unix/${long#/}" 22
  proxy=$saved
fi

# --- .host without its socket ----------------------------------------------------------------------
if [[ -e /run/ssh-unix-local/socket ]]; then
  skip ".host without its socket" "this machine has /run/ssh-unix-local/socket"
else
  for h in .host machine/.host; do
    expect "$h without its socket" 69 "cannot connect to .host (unix/run/ssh-unix-local/socket): No such file or directory (ENOENT)" "sshd-unix-local.socket" "systemd 256 and later" -- "$h" 22
  done
fi

# --- vsock-mux/ pointed at an sshd -----------------------------------------------------------------
banner='SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3'
"$inetd" --listen="$d/sshd.sock" --ready="$d/sshd.ready" --lifetime=60 -- /bin/sh -c "echo '$banner'; sleep 5" &
pids+=($!)
for _ in $(seq 100); do [[ -e $d/sshd.ready ]] && break; sleep 0.05; done
expect "vsock-mux/ to an sshd" 76 "it answered with an SSH banner (\"$banner\")" "this looks like an sshd, not a multiplexer" "write unix/${d#/}/sshd.sock" -- "vsock-mux/${d#/}/sshd.sock" 22

check_summary
