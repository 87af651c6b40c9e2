# shellcheck shell=bash disable=SC2034  # STEP_STARTED and MOUNTS are for the scripts sourcing this.
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
#
# lib.sh: what the shell scripts would otherwise each write again. Sourced (it runs nothing):
#   - by the plumbing scripts that print timed steps and stop on the first failure
#     (tools/bzlmod-check.sh, tests/deb/deb_test.sh): log, step, die, host_tools, copy_work_tree
#     (also tools/build-deb.sh), chroot_run, fresh_chroot, mount_tracked and unmount_all;
#   - by the scripts that take a duration (tools/fuzz.sh, tools/fuzz-afl.sh): seconds_arg;
#   - by the fixtures that start daemons and write an ssh_config (tests/e2e/sshd_fixture.sh,
#     tests/vm/vm.sh): stop_pids, remove_dir and ssh_isolated_options.
# A Bazel target that sources it depends on //tools:lib. It defines only the functions below and
# the variables LOG_NAME, STARTED, STEP_STARTED and MOUNTS.

# Sourcing it again (a script and a fixture it sources) changes nothing.
[[ -z ${SSH_PROXY_LIB_SH:-} ]] || return 0
SSH_PROXY_LIB_SH=1
# The prefix of log's lines; the sourcing script sets it.
LOG_NAME=${LOG_NAME:-${0##*/}}
STARTED=$SECONDS
STEP_STARTED=$SECONDS
MOUNTS=()

# log WORDS...: prints "LOG_NAME: WORDS" on stdout.
log() { echo "$LOG_NAME: $*"; }

# step WORDS...: logs WORDS with the seconds since the script started, and starts the clock that
# $((SECONDS - STEP_STARTED)) reads.
step() {
  log "[$((SECONDS - STARTED))s] $*"
  STEP_STARTED=$SECONDS
}

# die WORDS...: logs "FAIL (WORDS) after Ns" and exits 1 (the EXIT trap, if any, cleans up).
die() {
  log "FAIL ($*) after $((SECONDS - STARTED))s"
  exit 1
}

# host_tools COMMAND:PACKAGE...: installs with apt-get the PACKAGE of each COMMAND that is not on
# PATH (a step that says so); dies if apt-get fails. Returns at once when nothing is missing.
host_tools() {
  local t need=()
  for t; do
    command -v "${t%%:*}" >/dev/null || need+=("${t#*:}")
  done
  ((${#need[@]} > 0)) || return 0
  step "installing ${need[*]} on the host"
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
    --no-install-recommends "${need[@]}" </dev/null >/dev/null || die "cannot install ${need[*]}"
}

# copy_work_tree REPO DEST: copies REPO's tracked and untracked (not ignored) files, as they are in
# the work tree, into the existing directory DEST; not .git, and no file git lists but that is
# deleted. Returns non-zero if git or tar fails.
copy_work_tree() {
  (cd "$1" && git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do [[ -e $f ]] && printf '%s\0' "$f"; done |
    tar --null -T - -cf -) | tar -C "$2" -xf -
}

# chroot_run DIR COMMAND...: COMMAND as root in the chroot DIR, with a clean environment (HOME,
# USER, PATH, LANG=C.UTF-8, TERM=dumb and DEBIAN_FRONTEND=noninteractive). Returns its status.
chroot_run() {
  local dir=$1
  shift
  chroot "$dir" /usr/bin/env -i HOME=/root USER=root PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 TERM=dumb DEBIAN_FRONTEND=noninteractive "$@"
}

# fresh_chroot DIR VARIANT SUITE MIRROR: replaces DIR with a new `debootstrap --variant=VARIANT
# SUITE DIR MIRROR` (its output in DIR.debootstrap.log), each part a step. Dies rather than remove
# a DIR that has anything mounted below it or that does not look like a chroot (no usr/ and
# proc/, or a mounted proc/).
fresh_chroot() {
  local dir=$1 variant=$2 suite=$3 mirror=$4
  if [[ -d $dir ]]; then
    step "removing the old chroot $dir"
    if grep -qF " $dir/" /proc/mounts; then
      die "something is still mounted below $dir (see /proc/mounts): unmount it first"
    fi
    if [[ -d $dir/proc && -d $dir/usr && ! -e $dir/proc/self ]]; then
      rm -rf --one-file-system -- "$dir"
    else
      die "$dir exists and does not look like an unmounted chroot made by this script"
    fi
  fi
  step "debootstrap --variant=$variant $suite $dir"
  mkdir -p "$(dirname "$dir")"
  debootstrap --variant="$variant" "$suite" "$dir" "$mirror" >"$dir.debootstrap.log" 2>&1 ||
    die "debootstrap failed; see $dir.debootstrap.log"
}

# mount_tracked ARGS... DIR: `mount ARGS... DIR`, remembered for unmount_all when it succeeds;
# returns mount's status.
mount_tracked() {
  mount "$@" || return
  MOUNTS+=("${*: -1}")
}

# unmount_all: unmounts what mount_tracked mounted, last first (lazily where a plain umount fails).
unmount_all() {
  local i
  for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
    umount "${MOUNTS[i]}" 2>/dev/null || umount -l "${MOUNTS[i]}" 2>/dev/null
  done
  MOUNTS=()
}

# seconds_arg USAGE VALUE: prints VALUE if it is a whole number of seconds above 0; otherwise prints
# "usage: USAGE" on stderr and returns 2 (callers: seconds=$(seconds_arg ...) || exit 2).
seconds_arg() {
  if [[ $2 =~ ^[1-9][0-9]*$ ]]; then
    echo "$2"
  else
    echo "usage: $1" >&2
    return 2
  fi
}

# stop_pids SECONDS PID...: sends SIGTERM to each PID, waits until all of them have exited or
# SECONDS of wall-clock time have passed (polling every 10 ms), then sends SIGKILL to what is left
# and reaps those that are the shell's children. Always returns 0; a PID already gone is no error.
stop_pids() {
  local seconds=$1 pid
  shift
  (($# > 0)) || return 0
  kill -TERM "$@" 2>/dev/null || true
  # Microseconds since the epoch (EPOCHREALTIME's decimal point depends on the locale): a bound in
  # real time, which a count of `sleep 0.01` is not on a loaded machine (each sleep is a fork).
  local deadline=$((${EPOCHREALTIME/[.,]/} + seconds * 1000000))
  # kill -0 succeeds while at least one of them is alive.
  while kill -0 "$@" 2>/dev/null && ((${EPOCHREALTIME/[.,]/} < deadline)); do
    sleep 0.01
  done
  kill -KILL "$@" 2>/dev/null || true
  for pid; do
    wait "$pid" 2>/dev/null || true
  done
  return 0
}

# ssh_isolated_options: the ssh_config lines (indented for a Host section) that keep a test's ssh
# away from the user's agent, X11 display, forwardings, environment and shared connections.
ssh_isolated_options() {
  printf '  %s\n' "ControlMaster no" "ControlPath none" "ForwardAgent no" "ForwardX11 no" \
    "ClearAllForwardings yes" "SendEnv -*"
}

# remove_dir DIR KEEP NAME: removes the directory DIR (nothing when DIR is empty or absent), unless
# KEEP is 1 (for debugging): then it prints "NAME: kept DIR" on stderr instead. Returns 0.
remove_dir() {
  [[ -n $1 && -d $1 ]] || return 0
  if [[ $2 == 1 ]]; then
    echo "$3: kept $1" >&2
  else
    rm -rf -- "$1"
  fi
}
