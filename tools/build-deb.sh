#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
#
# build-deb.sh: builds the Debian package ssh-proxy_VERSION_ARCH.deb with debian/ (dpkg-buildpackage
# -b -us -uc; debian/rules builds with Bazel --config=release) and checks it with lintian.
#
#   tools/build-deb.sh [--out=DIR]
#
# 1. As root, installs what the build needs (dpkg-dev, debhelper, lintian and debian/control's
#    Build-Depends) if something is missing; as anyone else it prints the apt-get line and exits 1.
# 2. Copies the work tree (tracked and untracked files, not ignored ones) to CACHE/build/ssh-proxy
#    and builds there, so that dpkg-buildpackage's outputs do not land in the clone's parent
#    directory, and Bazel's output root CACHE/bazel keeps later builds warm.
# 3. Builds the source package (dpkg-source -b: .dsc and .tar.xz) and the binary packages
#    (dpkg-buildpackage -b -us -uc), and moves them, the .changes and the .buildinfo to DIR
#    (default: dist/ in the clone), with the build's log (build-deb.log); older ones are removed.
# 4. Runs lintian (Debian 12's default profile) on the .deb, the .changes and the .dsc: any error or
#    warning fails the build (info tags are shown, and do not).
# Prints the path of the .deb on its last line; exits non-zero on any failure.
#
# CACHE is $SSH_PROXY_DEB_CACHE, default /var/cache/ssh-proxy-deb as root, else
# ${XDG_CACHE_HOME:-~/.cache}/ssh-proxy-deb. Removing it only makes the next build cold.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
out=$root/dist
for arg in "$@"; do
  case $arg in
    --out=*) out=${arg#*=} ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "build-deb.sh: unknown argument \"$arg\" (see --help)" >&2
      exit 2
      ;;
  esac
done
if [[ $(id -u) == 0 ]]; then
  cache=${SSH_PROXY_DEB_CACHE:-/var/cache/ssh-proxy-deb}
else
  cache=${SSH_PROXY_DEB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ssh-proxy-deb}
fi
# copy_work_tree. Its log and die are not the ones below (these print on stderr).
# shellcheck source=tools/lib.sh
source "$here/lib.sh"
started=$SECONDS
log() { echo "build-deb: [$((SECONDS - started))s] $*" >&2; }
die() {
  echo "build-deb: $*" >&2
  exit 1
}
case "$cache/" in
  "$root"/*) die "the cache $cache must not be inside the repository" ;;
esac

# --- 1. build dependencies ------------------------------------------------------------------------
tools=(dpkg-dev debhelper lintian git)
missing=()
for p in "${tools[@]}"; do
  [[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null) == "install ok installed" ]] || missing+=("$p")
done
if ((${#missing[@]} == 0)) && (cd "$root" && dpkg-checkbuilddeps >/dev/null 2>&1); then
  :
elif [[ $(id -u) != 0 ]]; then
  echo "build-deb: missing build dependencies; as root run:" >&2
  echo "  apt-get update && apt-get install -y --no-install-recommends ${tools[*]} &&" \
    "apt-get build-dep -y $root" >&2
  exit 1
else
  log "installing the build dependencies"
  export DEBIAN_FRONTEND=noninteractive
  apt=(apt-get -o DPkg::Lock::Timeout=600 -y -qq --no-install-recommends)
  apt-get -o DPkg::Lock::Timeout=600 update -qq </dev/null >&2 || die "apt-get update failed"
  "${apt[@]}" install "${tools[@]}" </dev/null >&2 || die "cannot install ${tools[*]}"
  # apt reads the Build-Depends of a directory's debian/control.
  "${apt[@]}" build-dep "$root" </dev/null >&2 || die "apt-get build-dep $root failed"
fi

# --- 2. the build tree ----------------------------------------------------------------------------
# One build at a time per cache (the build tree's path is fixed, so that Bazel's cache stays warm).
# dpkg-buildpackage runs with fd 8 closed, so that no Bazel server it starts holds the lock.
mkdir -p "$cache" || die "cannot create $cache"
exec 8>"$cache/build.lock"
flock -w 900 8 || die "another build holds $cache/build.lock"
version=$(cd "$root" && dpkg-parsechangelog -S Version)
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
build=$cache/build
tree=$build/ssh-proxy
log "copying the work tree to $tree"
mkdir -p "$build" "$cache/bazel"
if [[ -d $tree ]]; then
  chmod -R u+w "$tree"
  rm -rf -- "$tree"
fi
rm -f -- "$build"/ssh-proxy_* "$build"/ssh-proxy-dbgsym_*
mkdir -p "$tree"
copy_work_tree "$root" "$tree"

# --- 3. dpkg-buildpackage -------------------------------------------------------------------------
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -f -- "$out"/ssh-proxy_*.deb "$out"/ssh-proxy-dbgsym_*.deb "$out"/ssh-proxy_*.changes \
  "$out"/ssh-proxy_*.buildinfo "$out"/ssh-proxy_*.dsc "$out"/ssh-proxy_*.tar.xz
build_log=$out/build-deb.log
log "dpkg-source -b (the source package, from the unbuilt tree)"
(cd "$build" && dpkg-source -b ssh-proxy) </dev/null >"$build_log" 2>&1 ||
  die "dpkg-source -b failed; see $build_log"
log "dpkg-buildpackage -b -us -uc (ssh-proxy $version, $arch; log: $build_log)"
if ! (cd "$tree" && SSH_PROXY_BAZEL_ROOT=$cache/bazel dpkg-buildpackage -b -us -uc) \
  </dev/null >>"$build_log" 2>&1 8>&-; then
  tail -n 40 "$build_log" >&2
  die "dpkg-buildpackage failed; the whole log is $build_log"
fi
deb=ssh-proxy_${version}_$arch.deb
changes=ssh-proxy_${version}_$arch.changes
dsc=ssh-proxy_$version.dsc
[[ -f $build/$deb && -f $build/$changes ]] || die "dpkg-buildpackage made no $deb or $changes"
mv -f -- "$build/$deb" "$build/$changes" "$build/$dsc" "$build/ssh-proxy_$version.tar.xz" "$out/"
mv -f -- "$build"/ssh-proxy_*.buildinfo "$build"/ssh-proxy-dbgsym_*.deb "$out/" 2>/dev/null || true
log "built $out/$deb ($(stat -c %s "$out/$deb") bytes)"

# --- 4. lintian -----------------------------------------------------------------------------------
log "lintian $deb $changes $dsc"
if ! (cd "$out" && lintian --fail-on error,warning --display-info "$deb" "$changes" "$dsc") >&2; then
  die "lintian reports errors or warnings (above)"
fi
log "lintian: no error, no warning"
echo "$out/$deb"
