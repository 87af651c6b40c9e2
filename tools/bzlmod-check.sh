#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
#
# shellcheck disable=SC2016  # single-quoted ${Version} and "$@" are for dpkg-query and sh -c.
# bzlmod-check.sh: checks MODULE.bazel with a real Bazel 7 (Debian sid's bazel-bootstrap 7.7.1),
# which cannot run on Debian 12: it needs sid's glibc. So this script
#   1. builds (once) a Debian sid chroot with debootstrap, and installs debian/control's
#      Build-Depends in it: Bazel 7 and sid's abseil, nlohmann/json, GoogleTest and Google
#      Benchmark (about 1 minute and 2.4 GB; reused on later runs);
#   2. copies this work tree into it (tracked and untracked files, not .git or bazel-* links);
#   3. makes stand-ins for the four BCR modules that MODULE.bazel names (abseil-cpp, nlohmann_json,
#      googletest, google_benchmark) over sid's packages, and points Bazel at them with
#      --override_module: the chroot reaches Debian's archive and nothing else, so there is no
#      Bazel Central Registry. Each stand-in is the repository that the WORKSPACE build declares
#      (third_party/debian/repositories.bzl), made by Bazel 7 in a scratch module through the module
#      extension third_party/debian/extensions.bzl and copied out with a MODULE.bazel. Debian's own
#      /etc/bazel/bazelrc does the same for rules_cc, platforms, bazel_skylib, ...;
#   4. runs, bzlmod only (--noenable_workspace): `bazel build //...` and `bazel test //...` of this
#      repository, then `bazel test //...` of examples/bazel-consumer through its MODULE.bazel (it
#      depends on ssh_proxy through local_path_override and uses @ssh_proxy//src:address).
# Prints each step and its time, ends with "bzlmod-check: PASS" or "bzlmod-check: FAIL (...)" and
# exits non-zero on failure. Needs root (debootstrap, chroot, mount) and Debian's archive.
#
# Environment:
#   SID_ROOT          where the chroot lives (default /var/tmp/ssh-proxy-sid); never inside the repo
#   SID_MIRROR        Debian mirror (default http://deb.debian.org/debian)
#   SID_REBUILD=1     delete and rebuild the chroot first
#   BZLMOD_TESTS      the target patterns `bazel test` runs in the copy of this repository
#                     (default //...; e.g. "-- //... -//tests/e2e:e2e_test")
#   BAZEL7_OPTIONS    more options for each `bazel build` and `bazel test` in the chroot
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
sid=${SID_ROOT:-/var/tmp/ssh-proxy-sid}
mirror=${SID_MIRROR:-http://deb.debian.org/debian}
read -ra tests <<<"${BZLMOD_TESTS:-//...}"
read -ra extra <<<"${BAZEL7_OPTIONS:-}"
LOG_NAME="bzlmod-check"
# shellcheck source=tools/lib.sh
source "$here/lib.sh"
# Packages inside the chroot: debian/control's Build-Depends (tools/build-depends.sh; in sid they
# bring Bazel 7 and sid's libraries) and build-essential, then what the tests run: OpenSSH for
# tests/e2e and tests/install, the man page tools for tests/docs.
mapfile -t packages < <("$here/build-depends.sh")
((${#packages[@]} > 0)) || exit 1
packages+=(build-essential openssh-client openssh-server pkgconf ca-certificates mandoc groff-base
  man-db bsdextrautils)

[[ $(id -u) == 0 ]] || die "needs root for debootstrap, chroot and mount"
[[ $sid/ != "$root"/* ]] || die "SID_ROOT=$sid is inside the repository"
host_tools debootstrap:debootstrap
trap unmount_all EXIT

# mount_all: /proc, /sys and /dev inside the chroot (Java's and systemd's package scripts and Bazel
# need them); unmounted on exit.
mount_all() {
  local fs
  ((${#MOUNTS[@]} == 0)) || return 0
  for fs in proc sys dev dev/pts; do
    mkdir -p "$sid/$fs"
    mount_tracked --bind "/$fs" "$sid/$fs" || die "cannot bind-mount /$fs into $sid"
  done
}

in_sid() { chroot_run "$sid" "$@"; }

# sid_apt: installs the packages in the chroot (apt's output in $sid.apt.log) and stamps it.
sid_apt() {
  mount_all
  # sid's Release file may be past its Valid-Until when the machine clock runs ahead.
  in_sid apt-get -o Acquire::Check-Valid-Until=false update -qq </dev/null >"$sid.apt.log" 2>&1 ||
    die "apt-get update failed; see $sid.apt.log"
  in_sid apt-get install -y -qq --no-install-recommends "${packages[@]}" </dev/null \
    >>"$sid.apt.log" 2>&1 || die "apt-get install failed; see $sid.apt.log"
  echo "$want_stamp" >"$stamp"
}

# --- 1. the chroot --------------------------------------------------------------------------------
stamp=$sid/.ssh-proxy-sid-ready
want_stamp="packages: ${packages[*]}"
if [[ ${SID_REBUILD:-0} != 1 && -f $stamp && $(<"$stamp") != "$want_stamp" ]]; then
  # The list changed (debian/control's Build-Depends, or the tests' packages): add what is new to
  # the chroot rather than making it again.
  step "apt-get install ${packages[*]} (the list changed)"
  sid_apt
fi
if [[ ${SID_REBUILD:-0} == 1 || ! -f $stamp || $(<"$stamp") != "$want_stamp" ]]; then
  fresh_chroot "$sid" minbase sid "$mirror"
  cp /etc/resolv.conf "$sid/etc/resolv.conf"
  step "apt-get install ${packages[*]}"
  sid_apt
  log "chroot ready in $((SECONDS - STEP_STARTED))s ($(du -sh --one-file-system "$sid" | cut -f1))"
else
  step "reusing the chroot $sid"
fi
mount_all
mkdir -p "$sid/run/sshd" "$sid/tmp"
chmod 1777 "$sid/tmp"
log "$(in_sid bazel --version 2>/dev/null || echo 'bazel: not runnable')," \
  "abseil $(in_sid dpkg-query -W -f='${Version}' libabsl-dev)," \
  "googletest $(in_sid dpkg-query -W -f='${Version}' libgtest-dev)," \
  "benchmark $(in_sid dpkg-query -W -f='${Version}' libbenchmark-dev)"

# --- 2. the work tree -----------------------------------------------------------------------------
work=/work/ssh-proxy
step "copying the work tree to $sid$work"
rm -rf -- "${sid:?}$work"
mkdir -p "$sid$work"
copy_work_tree "$root" "$sid$work"

# bazel7 DIR COMMAND ARGS...: bazel in DIR inside the chroot, bzlmod only, its own output root;
# build and test also get $BAZEL7_OPTIONS.
bazel7() {
  local dir=$1 cmd=$2 more=()
  shift 2
  [[ $cmd != build && $cmd != test ]] || more=("${extra[@]}")
  in_sid /bin/sh -c 'cd "$1" && shift && exec "$@"' sh "$dir" \
    bazel --output_user_root=/root/.cache/bazel-bzlmod "$cmd" \
    --noenable_workspace --enable_bzlmod --lockfile_mode=off --color=no --curses=no \
    "${more[@]}" "$@"
}
# Bazel servers to stop on the way out, so that the mounts can go.
servers=()
stop_servers() {
  local dir
  for dir in "${servers[@]}"; do
    in_sid /bin/sh -c 'cd "$1" && bazel --output_user_root=/root/.cache/bazel-bzlmod shutdown' \
      sh "$dir" >/dev/null 2>&1 || true
  done
  unmount_all
}
trap stop_servers EXIT

# --- 3. stand-ins for the BCR modules -------------------------------------------------------------
modules=/opt/ssh-proxy-bzlmod/modules
scratch=/opt/ssh-proxy-bzlmod/debian
# MODULE:REPOSITORY:PACKAGE: the BCR module, the repository that repositories.bzl makes for it, and
# the Debian package that gives its version.
stand_ins=(abseil-cpp:com_google_absl:libabsl-dev nlohmann_json:nlohmann_json:nlohmann-json3-dev
  googletest:com_google_googletest:libgtest-dev
  google_benchmark:com_github_google_benchmark:libbenchmark-dev)
# Bazel 7's own bazel_tools module names four modules that Debian does not package as Bazel modules
# (its /etc/bazel/bazelrc overrides the others): zlib, protobuf, buildozer and apple_support. No C++
# build here uses them (they serve Java, protobuf, `bazel mod tidy` and Apple platforms), but module
# resolution must find them: empty modules stand in for them.
stubs=(zlib:1.3.1.bcr.3 protobuf:3.19.6 buildozer:7.1.2 apple_support:1.23.1)
rm -rf -- "${sid:?}$modules" "${sid:?}$scratch"
for stub in "${stubs[@]}"; do
  mkdir -p "$sid$modules/${stub%%:*}"
  echo "module(name = \"${stub%%:*}\", version = \"${stub#*:}\")" \
    >"$sid$modules/${stub%%:*}/MODULE.bazel"
  echo "# Written by tools/bzlmod-check.sh: an empty stand-in (see there)." \
    >"$sid$modules/${stub%%:*}/BUILD.bazel"
done
# overrides_for repository|consumer|scratch: the --override_module options of each bazel command
# below. A module that is not in a workspace's dependency graph must not be overridden there (Bazel
# refuses): google_benchmark is a dev dependency of ssh_proxy, which the consumer does not see, and
# the scratch module depends on none of the four.
overrides_for() {
  local name names=("${stubs[@]%%:*}")
  [[ $1 == scratch ]] || names+=(abseil-cpp nlohmann_json googletest)
  [[ $1 != repository ]] || names+=(google_benchmark)
  for name in "${names[@]}"; do
    printf -- '--override_module=%s=%s\n' "$name" "$modules/$name"
  done
}
mapfile -t scratch_overrides < <(overrides_for scratch)
mapfile -t repo_overrides < <(overrides_for repository)
mapfile -t consumer_overrides < <(overrides_for consumer)

step "making abseil-cpp, nlohmann_json, googletest and google_benchmark in $modules" \
  "(third_party/debian/extensions.bzl in $scratch)"
mkdir -p "$sid$scratch/third_party"
cp -r "$root/third_party/debian" "$sid$scratch/third_party/"
repos=("${stand_ins[@]#*:}")
repos=("${repos[@]%:*}")
{
  echo 'module(name = "ssh_proxy_debian_stand_ins")'
  echo 'debian = use_extension("//third_party/debian:extensions.bzl", "debian_libraries")'
  printf 'use_repo(debian'
  printf ', "%s"' "${repos[@]}"
  printf ')\n'
} >"$sid$scratch/MODULE.bazel"
servers+=("$scratch")
query=$(printf ' + @%s//...' "${repos[@]}")
if ! out=$(bazel7 "$scratch" query "${scratch_overrides[@]}" "${query# + }" 2>&1 >/dev/null); then
  printf '%s\n' "$out" | sed 's/^/    /'
  die "bazel could not make the repositories (above)"
fi
output_base=$(bazel7 "$scratch" info "${scratch_overrides[@]}" output_base 2>/dev/null) ||
  die "bazel info output_base in $scratch"
for s in "${stand_ins[@]}"; do
  IFS=: read -r name repo package <<<"$s"
  made=("$sid$output_base"/external/*[~+]"$repo")
  [[ ${#made[@]} == 1 && -d ${made[0]} ]] || die "no repository $repo in $output_base/external"
  cp -a -- "${made[0]}" "$sid$modules/$name"
  version=$(in_sid dpkg-query -W -f='${Version}' "$package" | sed 's/[-+~].*//')
  echo "module(name = \"$name\", version = \"$version\")" >"$sid$modules/$name/MODULE.bazel"
done

# --- 4. bzlmod build and tests --------------------------------------------------------------------
result=0
servers+=("$work")
step "bazel build //... (bzlmod, $work)"
if bazel7 "$work" build "${repo_overrides[@]}" //... 2>&1 | sed 's/^/    /'; then
  log "build passed in $((SECONDS - STEP_STARTED))s"
else
  die "bazel build //... of the repository"
fi

step "bazel test ${tests[*]} (bzlmod, $work)"
if bazel7 "$work" test "${repo_overrides[@]}" --test_output=errors "${tests[@]}" 2>&1 |
  sed 's/^/    /'; then
  log "tests passed in $((SECONDS - STEP_STARTED))s"
else
  log "tests FAILED"
  result=1
fi

servers+=("$work/examples/bazel-consumer")
step "bazel test //... (bzlmod, $work/examples/bazel-consumer)"
if bazel7 "$work/examples/bazel-consumer" test "${consumer_overrides[@]}" --test_output=errors \
  //... 2>&1 | sed 's/^/    /'; then
  log "consumer passed in $((SECONDS - STEP_STARTED))s"
else
  log "consumer FAILED"
  result=1
fi

((result == 0)) || die "see the output above"
log "PASS in $((SECONDS - STARTED))s"
