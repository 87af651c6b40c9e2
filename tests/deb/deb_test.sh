#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
#
# deb_test.sh: the Debian package, built from its source package in a clean Debian 12 chroot (twice,
# to check that it is reproducible), tested there with autopkgtest, installed, used with real ssh
# and purged.
#
#   tests/deb/deb_test.sh
#
# 1. A clean Debian 12: `debootstrap --variant=buildd bookworm` (essential packages,
#    build-essential and dpkg-dev, nothing else), made once in CACHE/bookworm-buildd and never
#    changed after that. Each step below works in its own fresh overlay over it (CACHE/run/NAME),
#    so each starts from the same clean system. Packages that apt downloads into an overlay are
#    kept in CACHE/apt-archives and copied into the next overlays, so that a warm run downloads
#    nothing.
# 2. The source package: `dpkg-source -b` of a copy of the work tree (tracked and untracked files,
#    not ignored ones).
# 3. `apt-get build-dep ./ssh-proxy_VERSION.dsc` in a fresh overlay (the only packages added to
#    the chroot), then two builds, each in a fresh overlay over that one (tests/deb/
#    build_in_chroot.sh): `dpkg-source -x` and `dpkg-buildpackage -b -us -uc` as a non-root user,
#    in a network namespace with only a loopback interface (the build can fetch nothing). The two builds differ in what reprotest varies: the
#    build path, the user (name and uid), the umask, the locale, the time zone, the host name, the
#    kernel version uname reports, ASLR, the parallelism, nocheck (the second build skips the unit
#    tests) and, as they run one after the other, the time; SOURCE_DATE_EPOCH comes from
#    debian/changelog in both. Every .deb of the two must be byte-identical (cmp); on a
#    difference, diffoscope's summary is printed if diffoscope is installed.
# 4. lintian (Debian 12's default profile) on the built .deb, its .changes and the .dsc: any error
#    or warning fails the test.
# 5. tools/install.sh --prefix=/usr installs the same files as the package (which adds only its
#    doc and lintian files and gzips the man page); the fragments differ only in their first line.
# 6. In a fresh overlay with openssh-client and openssh-server: tests/deb/in_chroot.sh, with the
#    .deb built in step 3: `apt-get install ./ssh-proxy_*.deb`, real ssh through the installed
#    /etc/ssh/ssh_config.d/20-ssh-proxy.conf to a throwaway sshd on a unix socket and through the
#    multiplexer emulator (built here with bazel build //tests/e2e:mux_emulator
#    //tests/e2e:unix_inetd), `apt-get purge`, and checks that no file of the package is left (the
#    controls: the same ssh fails before the install and after the purge). Outside, after the
#    purge: nothing the run changed in the chroot has "ssh-proxy" in its name.
# 7. In another fresh overlay: `autopkgtest DEB DSC -- chroot OVERLAY`, the package's own
#    debian/tests against the installed .deb.
# The packages of the first build, the source package and both builds' logs are left in CACHE/dist.
# Only the overlays and, for the builds, /proc are mounted; everything is unmounted, and processes
# left in the chroot are killed (by PID), on every exit. Prints each step with its time and ends
# with "deb-test: PASS" or "deb-test: FAIL (...)"; exits non-zero on failure.
#
# Needs root (debootstrap, mount, chroot, unshare) and Debian's archive for the first run. Installs
# what it needs on the host if missing (debootstrap, dpkg-dev, lintian, autopkgtest). Environment:
#   SSH_PROXY_DEB_CACHE   the cache (default /var/cache/ssh-proxy-deb)
#   DEB_TEST_MIRROR       Debian mirror for debootstrap (default http://deb.debian.org/debian)
#   DEB_TEST_REBUILD=1    make the clean chroot again
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cache=${SSH_PROXY_DEB_CACHE:-/var/cache/ssh-proxy-deb}
mirror=${DEB_TEST_MIRROR:-http://deb.debian.org/debian}
if (($# != 0)); then
  echo "usage: $0 (no arguments; see the comment at its top)" >&2
  exit 2
fi
LOG_NAME="deb-test"
# shellcheck source=tools/lib.sh
source "$root/tools/lib.sh"

[[ $(id -u) == 0 ]] || die "needs root for debootstrap, mount, chroot and unshare"
case "$cache/" in
  "$root"/*) die "the cache $cache must not be inside the repository" ;;
esac
mkdir -p "$cache" || die "cannot create $cache"
# One run at a time per cache (the chroot, the overlays and the package cache are shared). Commands
# that may leave a daemon behind (the Bazel server) run with fd 9 closed, so that no daemon holds
# the lock.
exec 9>"$cache/deb-test.lock"
flock -w 1800 9 || die "another deb-test holds $cache/deb-test.lock"

base=$cache/bookworm-buildd
archives=$cache/apt-archives
run=$cache/run
# The logs of the last run (apt, the builds, autopkgtest) stay here after it.
logs=$cache/logs
rm -rf -- "$logs"
mkdir -p "$logs"

# kill_chroot_processes DIR: kills (by PID) whatever still runs with its root at or below DIR.
kill_chroot_processes() {
  local p r
  for p in /proc/[0-9]*; do
    r=$(readlink "$p/root" 2>/dev/null) || continue
    [[ $r == "$1" || $r == "$1"/* ]] && kill -KILL "${p#/proc/}" 2>/dev/null
  done
  return 0
}
cleanup() {
  kill_chroot_processes "$run"
  unmount_all
  [[ -d $run ]] && rm -rf --one-file-system -- "$run"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# overlay NAME [LOWER [proc]]: a fresh overlay at $run/NAME/root (its changes in $run/NAME/upper)
# over LOWER (default: the clean chroot; "DIR:$base" stacks it on another overlay's upper
# directory), with /proc mounted in it if asked (Bazel's JVM needs it). dpkg in it skips fsync():
# a throwaway system need not survive a crash, and apt runs twice as fast.
overlay() {
  local d=$run/$1 lower=${2:-$base}
  mkdir -p "$d/upper" "$d/work" "$d/root" || die "cannot create $d"
  mount_tracked -t overlay overlay -o "lowerdir=$lower,upperdir=$d/upper,workdir=$d/work" \
    "$d/root" || die "cannot mount an overlay at $d/root"
  [[ -e $d/root/etc/dpkg/dpkg.cfg.d/deb-test-unsafe-io ]] ||
    echo force-unsafe-io >"$d/root/etc/dpkg/dpkg.cfg.d/deb-test-unsafe-io"
  if [[ ${3:-} == proc ]]; then
    mount_tracked -t proc proc "$d/root/proc" || die "cannot mount /proc in $d/root"
  fi
}

# apt_cached DIR ARGS...: apt-get -y ARGS in the chroot DIR, with the packages kept from earlier
# runs in its archive; the ones it downloads are kept for later runs.
apt_cached() {
  local dir=$1
  shift
  find "$archives" -maxdepth 1 -name '*.deb' -exec cp -t "$dir/var/cache/apt/archives/" {} + ||
    return 1
  chroot_run "$dir" apt-get -o DPkg::Lock::Timeout=60 -y -q --no-install-recommends "$@" \
    </dev/null >>"$logs/apt.log" 2>&1
  local rc=$?
  find "$dir/var/cache/apt/archives" -maxdepth 1 -name '*.deb' -exec cp -n -t "$archives/" {} +
  return "$rc"
}

# --- 0. tools on the host -------------------------------------------------------------------------
host_tools debootstrap:debootstrap dpkg-source:dpkg-dev lintian:lintian autopkgtest:autopkgtest
command -v diffoscope >/dev/null ||
  log "diffoscope is not installed: a difference between the two builds is shown by cmp only"

# --- 1. the clean Debian 12 ---------------------------------------------------------------------
stamp=$base/.ssh-proxy-deb-test-ready
want_stamp="bookworm buildd"
if [[ ${DEB_TEST_REBUILD:-0} == 1 || ! -f $stamp || $(<"$stamp") != "$want_stamp" ]]; then
  fresh_chroot "$base" buildd bookworm "$mirror"
  # No package script may start a service in the chroot.
  printf '#!/bin/sh\nexit 101\n' >"$base/usr/sbin/policy-rc.d"
  chmod 0755 "$base/usr/sbin/policy-rc.d"
  rm -f "$base"/var/cache/apt/archives/*.deb
  echo "$want_stamp" >"$stamp"
  log "chroot ready in $((SECONDS - STEP_STARTED))s ($(du -sh --one-file-system "$base" | cut -f1))"
fi
mkdir -p "$archives"

# A run killed before its cleanup may have left mounts (this lock is held, so none is in use).
if grep -qF " $run/" /proc/mounts; then
  kill_chroot_processes "$run"
  grep -F " $run/" /proc/mounts | awk '{print $2}' | sort -r | while read -r m; do
    umount "$m" || umount -l "$m"
  done
fi
rm -rf --one-file-system -- "$run"
mkdir -p "$run"

# --- 2. the source package ------------------------------------------------------------------------
step "dpkg-source -b (a copy of the work tree)"
mkdir -p "$run/src/ssh-proxy"
copy_work_tree "$root" "$run/src/ssh-proxy" || die "cannot copy the work tree"
(cd "$run/src" && dpkg-source -b ssh-proxy) >"$logs/dpkg-source.log" 2>&1 ||
  die "dpkg-source -b: $(tail -n 5 "$logs/dpkg-source.log")"
version=$(cd "$run/src/ssh-proxy" && dpkg-parsechangelog -S Version)
dsc=$run/src/ssh-proxy_$version.dsc
[[ -f $dsc ]] || die "dpkg-source made no $dsc"
log "$(basename "$dsc") and $(cd "$run/src" && echo ssh-proxy_"$version".tar.*)"

# --- 3. two builds in clean chroots ---------------------------------------------------------------
# The clean chroot with what `apt-get build-dep` installs from the .dsc, in a fresh overlay; both
# builds then run in overlays of their own over it, so that they start from the same system.
step "apt-get build-dep ./$(basename "$dsc") in a fresh overlay"
overlay deps "$base" proc # openjdk's postinst runs java, which needs /proc.
mkdir -p "$run/deps/root/srv/source"
cp "$dsc" "${dsc%.dsc}".tar.* "$here/build_in_chroot.sh" "$run/deps/root/srv/source/" ||
  die "cannot copy the source package into $run/deps/root"
apt_cached "$run/deps/root" build-dep "./srv/source/$(basename "$dsc")" ||
  die "apt-get build-dep in the chroot; see $logs/apt.log"
rm -f "$run/deps/root"/var/cache/apt/archives/*.deb
kill_chroot_processes "$run/deps/root"
# Not lazily: the builds stack their overlays on its upper directory. These were the only mounts.
umount "$run/deps/root/proc" "$run/deps/root" || die "cannot unmount $run/deps/root"
MOUNTS=()
log "build-dep took $((SECONDS - STEP_STARTED))s"

# build NAME HOSTNAME DIR USER UID UMASK DEB_BUILD_OPTIONS [NAME=VALUE...]: builds the source
# package in a fresh overlay $run/NAME over the build dependencies, under the command ${wrap[@]} if
# set; its packages end up in $run/NAME.out.
build() {
  local name=$1 host=$2 dir=$3
  shift 3
  local r=$run/$name/root
  step "build $name${wrap[*]:+ (under ${wrap[*]})}: dpkg-buildpackage as $1 (uid $2) in $dir," \
    "host name $host, umask $3, DEB_BUILD_OPTIONS=\"$4\", ${*:5}"
  overlay "$name" "$run/deps/upper:$base" proc
  local t=$SECONDS
  # No network but loopback (the Bazel client talks to its server over it); its own host name.
  # shellcheck disable=SC2016  # $1 and $@ are for the inner sh.
  unshare --net --uts -- /bin/sh -c 'ip link set lo up && hostname "$1" && shift && exec "$@"' \
    sh "$host" "${wrap[@]}" chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    /bin/bash /srv/source/build_in_chroot.sh "/srv/source/$(basename "$dsc")" "$dir" "$@" \
    </dev/null >"$logs/$name.log" 2>&1 9>&-
  local rc=$?
  kill_chroot_processes "$r"
  if ((rc != 0)); then
    tail -n 40 "$logs/$name.log" | sed 's/^/    /'
    die "dpkg-buildpackage in $name (above)"
  fi
  mkdir -p "$run/$name.out"
  cp "$r$(dirname "$dir")"/*.deb "$r$(dirname "$dir")"/*.changes \
    "$r$(dirname "$dir")"/*.buildinfo "$run/$name.out/" ||
    die "build $name made no .deb"
  log "dpkg-buildpackage took $((SECONDS - t))s: $(cd "$run/$name.out" && echo *.deb)"
}
wrap=()
build build-a deb-test-a /build/ssh-proxy-"$version" builder 1500 0022 parallel=2 LANG=C.UTF-8 \
  TZ=UTC
# Also a different kernel version as uname(2) reports it (2.6.x), no address space layout
# randomisation, and nocheck: the unit tests run in the first build (as on a Debian builder), and
# skipping them must not change the package either (it saves about a third of the build's time).
wrap=(setarch x86_64 --uname-2.6 --addr-no-randomize)
build build-b other-host.example /home/someone-else/a/much/longer/build/path/ssh-proxy \
  someone-else 2742 0002 "parallel=4 nocheck" LANG=C LC_ALL=C TZ=ZZZ-14

step "the two builds: byte for byte"
debs=$(cd "$run/build-a.out" && echo *.deb)
[[ $debs == "$(cd "$run/build-b.out" && echo *.deb)" ]] ||
  die "build-a made [$debs], build-b [$(cd "$run/build-b.out" && echo *.deb)]"
differ=()
for d in $debs; do
  cmp "$run/build-a.out/$d" "$run/build-b.out/$d" || differ+=("$d")
done
if ((${#differ[@]} > 0)); then
  if command -v diffoscope >/dev/null; then
    for d in "${differ[@]}"; do
      diffoscope --text - "$run/build-a.out/$d" "$run/build-b.out/$d" 2>&1 | head -n 80
    done
  fi
  die "not reproducible: ${differ[*]} differ between the two builds"
fi
for d in $debs; do log "$d: $(stat -c %s "$run/build-a.out/$d") bytes, identical in both builds"; done
deb=$run/build-a.out/ssh-proxy_${version}_$(dpkg-architecture -qDEB_HOST_ARCH).deb
[[ -f $deb ]] || die "no $(basename "$deb") among $debs"
# The packages and their build logs stay in CACHE/dist after the run, for a look or an install.
rm -rf -- "$cache/dist"
mkdir -p "$cache/dist"
cp "$run/build-a.out"/* "$dsc" "${dsc%.dsc}".tar.* "$logs/build-a.log" "$logs/build-b.log" \
  "$cache/dist/"

# --- 4. lintian -------------------------------------------------------------------------------------
step "lintian $(basename "$deb") $(cd "$run/build-a.out" && echo *.changes) $(basename "$dsc")"
cp "$dsc" "${dsc%.dsc}".tar.* "$run/build-a.out/"
(cd "$run/build-a.out" && lintian --fail-on error,warning --display-info "$(basename "$deb")" \
  ./*.changes "$(basename "$dsc")") 2>&1 | sed 's/^/    /'
((PIPESTATUS[0] == 0)) || die "lintian reports errors or warnings (above)"

step "bazel build //tests/e2e:mux_emulator //tests/e2e:unix_inetd"
(cd "$root" && bazel build //tests/e2e:mux_emulator //tests/e2e:unix_inetd) 9>&- 2>&1 |
  grep -E '^(ERROR|FAIL)' >&2
bin_dir=$(cd "$root" && bazel info bazel-bin 2>/dev/null 9>&-) || die "bazel info bazel-bin"
for b in mux_emulator unix_inetd; do
  [[ -x $bin_dir/tests/e2e/$b ]] || die "bazel did not build //tests/e2e:$b"
done

# --- 5. a source install and the package: the same files ----------------------------------------
# tools/install.sh (a source install) and the package install the same files: the package adds only
# its copyright, changelog and lintian override, and gzips the man page, as Debian does.
step "tools/install.sh --prefix=/usr and the package: the same files"
dpkg-deb -x "$deb" "$run/deb" || die "dpkg-deb -x $deb"
"$root/tools/install.sh" --binary="$run/deb/usr/libexec/ssh-proxy" --prefix=/usr \
  --destdir="$run/source" >/dev/null || die "tools/install.sh into $run/source"
source_files=$(cd "$run/source" && find . -type f | sed 's|/man1/ssh-proxy\.1$|&.gz|' | sort)
deb_files=$(cd "$run/deb" && find . -type f ! -path './usr/share/doc/ssh-proxy/*' \
  ! -path './usr/share/lintian/overrides/*' | sort)
[[ $source_files == "$deb_files" && -n $deb_files ]] ||
  die "install.sh installs [${source_files//$'\n'/ }], the package [${deb_files//$'\n'/ }]"
gzip -dc "$run/deb/usr/share/man/man1/ssh-proxy.1.gz" | cmp -s - "$root/doc/ssh-proxy.1" ||
  die "the package's man page is not doc/ssh-proxy.1"
f=etc/ssh/ssh_config.d/20-ssh-proxy.conf
# The fragments differ only in their first line, which names who installed them.
cmp -s <(tail -n +2 "$run/source/$f") <(tail -n +2 "$run/deb/$f") ||
  die "the package's fragment is not the one tools/install.sh writes: $(diff "$run/source/$f" "$run/deb/$f")"
log "both: ${deb_files//$'\n'/ }"

# --- 6. install, use and purge, in a fresh overlay with OpenSSH -------------------------------------
step "overlay use: apt-get install openssh-client openssh-server"
overlay use
merged=$run/use/root
apt_cached "$merged" install openssh-client openssh-server ||
  die "apt-get install openssh-client openssh-server; see $logs/apt.log"
# What the package's installation will change from here on, and nothing before it.
upper_before=$(cd "$run/use/upper" && find . | sort)

t=/opt/deb-test
mkdir -p "$merged$t"
{
  (cd "$root" && cp --parents tests/check.sh tests/e2e/sshd_fixture.sh tests/deb/in_chroot.sh \
    tools/lib.sh tools/install.sh doc/ssh-proxy.1 "$merged$t/") &&
    cp "$deb" "$bin_dir/tests/e2e/mux_emulator" "$bin_dir/tests/e2e/unix_inetd" "$merged$t/"
} || die "cannot copy the test's files into the chroot"

step "in the chroot: apt-get install ./$(basename "$deb"), ssh, apt-get purge"
chroot_run "$merged" /usr/bin/env -C "$t" /bin/bash tests/deb/in_chroot.sh "$(basename "$deb")" \
  "$version" 9>&- 2>&1 | sed 's/^/    /'
rc=${PIPESTATUS[0]}
log "install, use and purge took $((SECONDS - STEP_STARTED))s"
((rc == 0)) || die "checks in the chroot (above)"

# Outside: the run's own files removed, nothing it changed may carry the package's name.
step "checking what the run changed in the chroot"
kill_chroot_processes "$merged"
rm -rf -- "${merged:?}$t"
leftovers=$(cd "$run/use/upper" && find . -name '*ssh-proxy*' | sort)
changed=$(comm -13 <(echo "$upper_before") <(cd "$run/use/upper" && find . | sort) | wc -l)
if [[ -n $leftovers ]]; then
  die "after the purge the chroot still has: $(tr '\n' ' ' <<<"$leftovers")"
fi
log "none of the $changed paths the install, use and purge added is named after ssh-proxy"

# --- 7. autopkgtest -------------------------------------------------------------------------------
step "autopkgtest $(basename "$deb") $(basename "$dsc") -- chroot (a fresh overlay)"
overlay autopkgtest
# The tests' Depends (openssh-client, openssh-server, socat) come from the package cache when it
# has them; autopkgtest installs them with the chroot's apt.
find "$archives" -maxdepth 1 -name '*.deb' -exec cp -t "$run/autopkgtest/root/var/cache/apt/archives/" {} +
autopkgtest --output-dir="$run/autopkgtest.out" "$deb" "$dsc" -- chroot "$run/autopkgtest/root" \
  </dev/null >"$logs/autopkgtest.log" 2>&1 9>&-
rc=$?
find "$run/autopkgtest/root/var/cache/apt/archives" -maxdepth 1 -name '*.deb' -exec cp -n -t "$archives/" {} +
kill_chroot_processes "$run/autopkgtest/root"
grep -E '^(PASS|FAIL|SKIP) |^[0-9]+ passed' "$logs/autopkgtest.log" | sed 's/^/    /'
if ((rc != 0)); then
  tail -n 30 "$logs/autopkgtest.log" | sed 's/^/    /'
  die "autopkgtest exited $rc (above)"
fi
log "autopkgtest passed in $((SECONDS - STEP_STARTED))s"
log "PASS in $((SECONDS - STARTED))s"
