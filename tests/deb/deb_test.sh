#!/usr/bin/env bash
# deb_test.sh: the Debian package, built, installed on a clean Debian 12 and used with real ssh.
#
#   tests/deb/deb_test.sh [--deb=FILE]
#
# 1. Builds the package with tools/build-deb.sh (which fails on any lintian error or warning),
#    unless --deb names one, and the test multiplexer and inetd (bazel build
#    //tests/e2e:mux_emulator //tests/e2e:unix_inetd, in this work tree).
# 2. A clean Debian 12: `debootstrap --variant=minbase bookworm` with openssh-client and
#    openssh-server, made once in CACHE/bookworm and never changed after that. Each run works in an
#    overlay over it (CACHE/run/root, its changes in CACHE/run/upper), so every run starts from the
#    same clean system, and the overlay's upper directory is exactly what the run changed.
# 3. tools/install.sh --prefix=/usr installs the same files as the package (which adds only its
#    doc and lintian files and gzips the man page); the fragments differ only in their first line.
#    In the chroot, tests/deb/in_chroot.sh: `apt-get install ./ssh-proxy_*.deb`, real ssh through
#    the installed /etc/ssh/ssh_config.d/20-ssh-proxy.conf to a throwaway sshd on a unix socket and
#    through the multiplexer emulator, `apt-get purge`, and checks that no file of the package is
#    left (the controls: the same ssh fails before the install and after the purge).
# 4. Outside: after the purge, nothing the run changed in the chroot has "ssh-proxy" in its name.
# Nothing is mounted in the chroot but the overlay itself; it is unmounted, and processes left in
# the chroot are killed (by PID), on every exit. Prints each step with its time and ends with
# "deb-test: PASS" or "deb-test: FAIL (...)"; exits non-zero on failure.
#
# Needs root (debootstrap, mount, chroot) and Debian's archive for the first run (40-65 s and
# 200 MB). Environment:
#   SSH_PROXY_DEB_CACHE   the cache (default /var/cache/ssh-proxy-deb, shared with build-deb.sh)
#   DEB_TEST_MIRROR       Debian mirror for debootstrap (default http://deb.debian.org/debian)
#   DEB_TEST_REBUILD=1    make the clean chroot again
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cache=${SSH_PROXY_DEB_CACHE:-/var/cache/ssh-proxy-deb}
mirror=${DEB_TEST_MIRROR:-http://deb.debian.org/debian}
deb=""
for arg in "$@"; do
  case $arg in
    --deb=*) deb=${arg#*=} ;;
    *)
      echo "usage: $0 [--deb=FILE]" >&2
      exit 2
      ;;
  esac
done

started=$SECONDS
step_start=$SECONDS
log() { echo "deb-test: $*"; }
step() {
  log "[$((SECONDS - started))s] $*"
  step_start=$SECONDS
}
fail() {
  log "FAIL ($*) after $((SECONDS - started))s"
  exit 1
}

[[ $(id -u) == 0 ]] || fail "needs root for debootstrap, mount and chroot"
case "$cache/" in
  "$root"/*) fail "the cache $cache must not be inside the repository" ;;
esac
mkdir -p "$cache" || fail "cannot create $cache"
# One run at a time per cache (the chroot and the overlay are shared). Commands that may leave a
# daemon behind (the Bazel server) run with fd 9 closed, so that no daemon holds the lock.
exec 9>"$cache/deb-test.lock"
flock -w 900 9 || fail "another deb-test holds $cache/deb-test.lock"

base=$cache/bookworm
run=$cache/run
merged=$run/root

# kill_chroot_processes: kills (by PID) whatever still runs with its root in the overlay.
kill_chroot_processes() {
  local p r
  for p in /proc/[0-9]*; do
    r=$(readlink "$p/root" 2>/dev/null) || continue
    [[ $r == "$merged" || $r == "$merged"/* ]] && kill -KILL "${p#/proc/}" 2>/dev/null
  done
  return 0
}
cleanup() {
  kill_chroot_processes
  if mountpoint -q "$merged" 2>/dev/null; then
    umount "$merged" 2>/dev/null || umount -l "$merged"
  fi
  [[ -d $run ]] && rm -rf --one-file-system -- "$run"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- 1. the package and the test's daemons -----------------------------------------------------
if [[ -z $deb ]]; then
  step "tools/build-deb.sh"
  deb=$("$root/tools/build-deb.sh" 9>&- | tail -n 1) || fail "tools/build-deb.sh failed"
  log "package built and lintian-clean in $((SECONDS - step_start))s"
fi
[[ -f $deb ]] || fail "no package at $deb"
deb=$(cd "$(dirname "$deb")" && pwd)/$(basename "$deb")
version=$(dpkg-deb -f "$deb" Version) || fail "$deb is not a Debian package"
log "$(basename "$deb"): $(stat -c %s "$deb") bytes, version $version"

step "bazel build //tests/e2e:mux_emulator //tests/e2e:unix_inetd"
(cd "$root" && bazel build //tests/e2e:mux_emulator //tests/e2e:unix_inetd) 9>&- 2>&1 |
  grep -E '^(ERROR|FAIL)' >&2
bin_dir=$(cd "$root" && bazel info bazel-bin 2>/dev/null 9>&-) || fail "bazel info bazel-bin"
for b in mux_emulator unix_inetd; do
  [[ -x $bin_dir/tests/e2e/$b ]] || fail "bazel did not build //tests/e2e:$b"
done

# --- 2. the clean Debian 12 ---------------------------------------------------------------------
packages=(openssh-client openssh-server)
stamp=$base/.ssh-proxy-deb-test-ready
want_stamp="bookworm minbase: ${packages[*]}"
if [[ ${DEB_TEST_REBUILD:-0} == 1 || ! -f $stamp || $(<"$stamp") != "$want_stamp" ]]; then
  if ! command -v debootstrap >/dev/null; then
    log "installing debootstrap"
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq debootstrap \
      </dev/null >/dev/null || fail "cannot install debootstrap"
  fi
  if [[ -d $base ]]; then
    step "removing the old chroot $base"
    grep -qF " $base/" /proc/mounts && fail "something is mounted below $base: unmount it first"
    rm -rf --one-file-system -- "$base"
  fi
  step "debootstrap --variant=minbase (with ${packages[*]}) bookworm $base"
  debootstrap --variant=minbase --include="$(
    IFS=,
    echo "${packages[*]}"
  )" bookworm "$base" "$mirror" >"$cache/debootstrap.log" 2>&1 ||
    fail "debootstrap failed; see $cache/debootstrap.log"
  # No package script may start a service in the chroot.
  printf '#!/bin/sh\nexit 101\n' >"$base/usr/sbin/policy-rc.d"
  chmod 0755 "$base/usr/sbin/policy-rc.d"
  rm -f "$base"/var/cache/apt/archives/*.deb
  echo "$want_stamp" >"$stamp"
  log "chroot ready in $((SECONDS - step_start))s ($(du -sh --one-file-system "$base" | cut -f1))"
fi

# --- 3. install, use, purge in an overlay over it ---------------------------------------------------
step "overlay over $base at $merged"
# A run killed before its cleanup may have left one (this lock is held, so it is not in use).
if mountpoint -q "$merged" 2>/dev/null; then
  kill_chroot_processes
  umount "$merged" || fail "cannot unmount the stale $merged"
fi
rm -rf --one-file-system -- "$run"
mkdir -p "$run/upper" "$run/work" "$merged"
mount -t overlay overlay -o "lowerdir=$base,upperdir=$run/upper,workdir=$run/work" "$merged" ||
  fail "cannot mount an overlay at $merged"

# tools/install.sh (a source install) and the package install the same files: the package adds only
# its copyright, changelog and lintian override, and gzips the man page, as Debian does.
step "tools/install.sh --prefix=/usr and the package: the same files"
dpkg-deb -x "$deb" "$run/deb" || fail "dpkg-deb -x $deb"
"$root/tools/install.sh" --binary="$run/deb/usr/libexec/ssh-proxy" --prefix=/usr \
  --destdir="$run/source" >/dev/null || fail "tools/install.sh into $run/source"
source_files=$(cd "$run/source" && find . -type f | sed 's|/man1/ssh-proxy\.1$|&.gz|' | sort)
deb_files=$(cd "$run/deb" && find . -type f ! -path './usr/share/doc/ssh-proxy/*' \
  ! -path './usr/share/lintian/overrides/*' | sort)
[[ $source_files == "$deb_files" && -n $deb_files ]] ||
  fail "install.sh installs [${source_files//$'\n'/ }], the package [${deb_files//$'\n'/ }]"
gzip -dc "$run/deb/usr/share/man/man1/ssh-proxy.1.gz" | cmp -s - "$root/doc/ssh-proxy.1" ||
  fail "the package's man page is not doc/ssh-proxy.1"
f=etc/ssh/ssh_config.d/20-ssh-proxy.conf
# The fragments differ only in their first line, which names who installed them.
cmp -s <(tail -n +2 "$run/source/$f") <(tail -n +2 "$run/deb/$f") ||
  fail "the package's fragment is not the one tools/install.sh writes: $(diff "$run/source/$f" "$run/deb/$f")"
log "both: ${deb_files//$'\n'/ }"

t=/opt/deb-test
mkdir -p "$merged$t"
cp "$deb" "$root/tests/check.sh" "$root/tests/e2e/sshd_fixture.sh" "$here/in_chroot.sh" \
  "$root/tools/install.sh" \
  "$root/doc/ssh-proxy.1" "$bin_dir/tests/e2e/mux_emulator" "$bin_dir/tests/e2e/unix_inetd" \
  "$merged$t/" || fail "cannot copy the test's files into the chroot"

step "in the chroot: apt-get install ./$(basename "$deb"), ssh, apt-get purge"
chroot "$merged" /usr/bin/env -i -C "$t" HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin \
  LANG=C.UTF-8 TERM=dumb /bin/bash ./in_chroot.sh "$(basename "$deb")" "$version" 9>&- 2>&1 |
  sed 's/^/    /'
rc=${PIPESTATUS[0]}
log "install, use and purge took $((SECONDS - step_start))s"
((rc == 0)) || fail "checks in the chroot (above)"

# Outside: the run's own files removed, nothing it changed may carry the package's name.
step "checking what the run changed in the chroot"
kill_chroot_processes
rm -rf -- "${merged:?}$t"
leftovers=$(cd "$run/upper" && find . -name '*ssh-proxy*' | sort)
changed=$(cd "$run/upper" && find . -type f | wc -l)
if [[ -n $leftovers ]]; then
  fail "after the purge the chroot still has: $(tr '\n' ' ' <<<"$leftovers")"
fi
log "none of the $changed files the run changed is named after ssh-proxy"
log "PASS in $((SECONDS - started))s"
