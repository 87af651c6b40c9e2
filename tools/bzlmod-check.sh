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
#      googletest, google_benchmark) over sid's packages, and points Bazel at them with --override_module:
#      the chroot reaches Debian's archive and nothing else, so there is no Bazel Central Registry.
#      Debian's own /etc/bazel/bazelrc does the same for rules_cc, platforms, bazel_skylib, ...;
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
#   BAZEL7_OPTIONS    more options for every bazel command in the chroot
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
sid=${SID_ROOT:-/var/tmp/ssh-proxy-sid}
mirror=${SID_MIRROR:-http://deb.debian.org/debian}
read -ra tests <<<"${BZLMOD_TESTS:-//...}"
read -ra extra <<<"${BAZEL7_OPTIONS:-}"
# Packages inside the chroot: debian/control's Build-Depends (tools/build-depends.sh; in sid they
# bring Bazel 7 and sid's libraries) and build-essential, then what the tests run: OpenSSH for
# tests/e2e and tests/install, the man page tools for tests/docs; pkgconf for the abseil stand-in.
mapfile -t packages < <("$here/build-depends.sh")
((${#packages[@]} > 0)) || exit 1
packages+=(build-essential openssh-client openssh-server pkgconf ca-certificates mandoc groff-base
  man-db bsdextrautils)

started=$SECONDS
step_start=$SECONDS
log() { echo "bzlmod-check: $*"; }
step() {
  log "[$((SECONDS - started))s] $*"
  step_start=$SECONDS
}
fail() {
  log "FAIL ($*) after $((SECONDS - started))s"
  exit 1
}

if [[ $(id -u) -ne 0 ]]; then
  fail "needs root for debootstrap, chroot and mount"
fi
case "$sid/" in
  "$root"/*) fail "SID_ROOT=$sid is inside the repository" ;;
esac
for tool in debootstrap chroot mount; do
  if ! command -v "$tool" >/dev/null; then
    if [[ $tool == debootstrap ]]; then
      log "installing debootstrap"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap </dev/null >/dev/null ||
        fail "cannot install debootstrap"
    else
      fail "missing $tool"
    fi
  fi
done

mounted=()
cleanup() {
  local i
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
    umount -l "${mounted[i]}" 2>/dev/null || true
  done
}
trap cleanup EXIT

# mount_all: /proc, /sys and /dev inside the chroot (Java's and systemd's package scripts and Bazel
# need them); unmounted on exit.
mount_all() {
  local fs
  ((${#mounted[@]} == 0)) || return 0
  for fs in proc sys dev dev/pts; do
    mkdir -p "$sid/$fs"
    mount --bind "/$fs" "$sid/$fs" || fail "cannot bind-mount /$fs into $sid"
    mounted+=("$sid/$fs")
  done
}

# in_sid CMD...: runs CMD in the chroot with a clean environment.
in_sid() {
  chroot "$sid" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
    USER=root TERM=dumb "$@"
}

# --- 1. the chroot --------------------------------------------------------------------------------
stamp=$sid/.ssh-proxy-sid-ready
want_stamp="packages: ${packages[*]}"
if [[ ${SID_REBUILD:-0} != 1 && -f $stamp && $(<"$stamp") != "$want_stamp" ]]; then
  # The list changed (debian/control's Build-Depends, or the tests' packages): add what is new to
  # the chroot rather than making it again.
  step "apt-get install ${packages[*]} (the list changed)"
  mount_all
  in_sid apt-get -o Acquire::Check-Valid-Until=false update -qq </dev/null >"$sid.apt.log" 2>&1 ||
    fail "apt-get update failed; see $sid.apt.log"
  in_sid env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${packages[@]}" </dev/null >>"$sid.apt.log" 2>&1 ||
    fail "apt-get install failed; see $sid.apt.log"
  echo "$want_stamp" >"$stamp"
fi
if [[ ${SID_REBUILD:-0} == 1 || ! -f $stamp || $(<"$stamp") != "$want_stamp" ]]; then
  if [[ -d $sid ]]; then
    step "removing the old chroot $sid"
    # Only what this script made: refuse anything that is not a chroot of ours.
    if grep -qE " $sid/" /proc/mounts; then
      fail "something is still mounted below $sid (see /proc/mounts): unmount it first"
    fi
    if [[ -d $sid/proc && -d $sid/usr && ! -e $sid/proc/self ]]; then
      rm -rf --one-file-system -- "$sid"
    else
      fail "$sid exists and does not look like an unmounted chroot made by this script"
    fi
  fi
  step "debootstrap --variant=minbase sid $sid"
  mkdir -p "$(dirname "$sid")"
  debootstrap --variant=minbase sid "$sid" "$mirror" >"$sid.debootstrap.log" 2>&1 ||
    fail "debootstrap failed; see $sid.debootstrap.log"
  cp /etc/resolv.conf "$sid/etc/resolv.conf"
  mount_all
  step "apt-get install ${packages[*]}"
  # sid's Release file may be past its Valid-Until when the machine clock runs ahead.
  in_sid apt-get -o Acquire::Check-Valid-Until=false update -qq </dev/null >"$sid.apt.log" 2>&1 ||
    fail "apt-get update failed; see $sid.apt.log"
  in_sid env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${packages[@]}" </dev/null >>"$sid.apt.log" 2>&1 ||
    fail "apt-get install failed; see $sid.apt.log"
  echo "$want_stamp" >"$stamp"
  log "chroot ready in $((SECONDS - step_start))s ($(du -sh --one-file-system "$sid" | cut -f1))"
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
(cd "$root" && git ls-files -z --cached --others --exclude-standard |
  while IFS= read -r -d '' f; do [[ -e $f ]] && printf '%s\0' "$f"; done |
  tar --null -T - -cf -) | tar -C "$sid$work" -xf -

# --- 3. stand-ins for the BCR modules -------------------------------------------------------------
modules=/opt/ssh-proxy-bzlmod/modules
step "writing stand-in modules for abseil-cpp, nlohmann_json, googletest, google_benchmark in $modules"
rm -rf -- "${sid:?}$modules"
libdir=/usr/lib/$(in_sid dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
absl_version=$(in_sid dpkg-query -W -f='${Version}' libabsl-dev | sed 's/[-+~].*//')
gtest_version=$(in_sid dpkg-query -W -f='${Version}' libgtest-dev | sed 's/[-+~].*//')
bench_version=$(in_sid dpkg-query -W -f='${Version}' libbenchmark-dev | sed 's/[-+~].*//')

# abseil-cpp: one cc_library per pkg-config module (absl_NAME, its archive and its Requires), and
# the upstream labels our BUILD files use (absl/PKG:NAME -> absl_NAME) as aliases of them.
m=$sid$modules/abseil-cpp
mkdir -p "$m/lib"
ln -s /usr/include/absl "$m/absl_include_tree"
{
  echo "module(name = \"abseil-cpp\", version = \"$absl_version\")"
} >"$m/MODULE.bazel"
{
  echo '# Generated by tools/bzlmod-check.sh: Debian sid'"'"'s libabsl-dev as the abseil-cpp module.'
  echo 'package(default_visibility = ["//visibility:public"])'
  echo
  echo 'cc_library('
  echo '    name = "absl_headers",'
  echo '    hdrs = glob(["include/absl/**/*.h", "include/absl/**/*.inc"]),'
  echo '    includes = ["include"],'
  echo ')'
  for pc in "$sid$libdir"/pkgconfig/absl_*.pc; do
    name=$(basename "$pc" .pc)
    requires=$(sed -n 's/^Requires: *//p' "$pc" | tr ',' '\n' | awk '{print $1}' |
      grep -E '^absl_' | grep -vx "$name" || true)
    libs=$(sed -n 's/^Libs: *//p' "$pc" | tr ' ' '\n' | sed -n 's/^-l//p')
    srcs=()
    linkopts=()
    for lib in $libs; do
      if [[ $lib == absl_* && -e $sid$libdir/lib$lib.a ]]; then
        ln -sf "$libdir/lib$lib.a" "$m/lib/lib$lib.a"
        srcs+=("\"lib/lib$lib.a\"")
      elif [[ $lib != absl_* ]]; then
        linkopts+=("\"-l$lib\"")
      fi
    done
    deps=('":absl_headers"')
    for r in $requires; do deps+=("\":$r\""); done
    echo
    echo 'cc_library('
    echo "    name = \"$name\","
    echo "    srcs = [$(IFS=,; echo "${srcs[*]}")],"
    echo "    linkopts = [$(IFS=,; echo "${linkopts[*]}")],"
    echo '    linkstatic = True,'
    echo "    deps = [$(IFS=,; echo "${deps[*]}")],"
    echo ')'
  done
} >"$m/BUILD.bazel"
# The headers as include/absl (a symlink to /usr/include/absl inside the chroot).
mkdir -p "$m/include"
mv "$m/absl_include_tree" "$m/include/absl"
labels=$(grep -rhoE '@com_google_absl//absl/[a-z_/]+(:[a-z_]+)?' "$sid$work" \
  --include='BUILD.bazel' --include='BUILD' --include='*.bzl' | sed 's/^@com_google_absl\/\///' |
  sort -u)
declare -A pkg_lines=()
for label in $labels; do
  pkg=${label%%:*}
  if [[ $label == *:* ]]; then name=${label#*:}; else name=${pkg##*/}; fi
  [[ -e "$sid$libdir/pkgconfig/absl_$name.pc" ]] ||
    fail "no pkg-config module absl_$name for @com_google_absl//$label"
  pkg_lines[$pkg]+=$'\n'"alias(name = \"$name\", actual = \"//:absl_$name\")"
done
for pkg in "${!pkg_lines[@]}"; do
  mkdir -p "$m/$pkg"
  printf 'package(default_visibility = ["//visibility:public"])\n%s\n' "${pkg_lines[$pkg]}" \
    >"$m/$pkg/BUILD.bazel"
done

# googletest: the static libraries of libgtest-dev and libgmock-dev, under the BUILD file that
# third_party/debian/repositories.bzl also uses.
m=$sid$modules/googletest
mkdir -p "$m/lib" "$m/include"
echo "module(name = \"googletest\", version = \"$gtest_version\")" >"$m/MODULE.bazel"
ln -s /usr/include/gtest "$m/include/gtest"
ln -s /usr/include/gmock "$m/include/gmock"
for lib in gtest gtest_main gmock gmock_main; do ln -s "$libdir/lib$lib.a" "$m/lib/lib$lib.a"; done
cp "$root/third_party/debian/googletest.BUILD" "$m/BUILD.bazel"

# nlohmann_json: nlohmann-json3-dev (header-only), with upstream's target name :json.
m=$sid$modules/nlohmann_json
mkdir -p "$m/include"
json_version=$(in_sid dpkg-query -W -f='${Version}' nlohmann-json3-dev | sed 's/[-+~].*//')
echo "module(name = \"nlohmann_json\", version = \"$json_version\")" >"$m/MODULE.bazel"
ln -s /usr/include/nlohmann "$m/include/nlohmann"
printf '%s\n' 'package(default_visibility = ["//visibility:public"])' \
  'cc_library(name = "json", hdrs = glob(["include/nlohmann/**/*.hpp"]), includes = ["include"])' \
  >"$m/BUILD.bazel"

# google_benchmark: libbenchmark-dev (shared libbenchmark, static libbenchmark_main), under the
# BUILD file that third_party/debian/repositories.bzl also uses.
m=$sid$modules/google_benchmark
mkdir -p "$m/lib" "$m/include"
echo "module(name = \"google_benchmark\", version = \"$bench_version\")" >"$m/MODULE.bazel"
ln -s /usr/include/benchmark "$m/include/benchmark"
ln -s "$libdir/libbenchmark_main.a" "$m/lib/libbenchmark_main.a"
cp "$root/third_party/debian/benchmark.BUILD" "$m/BUILD.bazel"

# Bazel 7's own bazel_tools module names four modules that Debian does not package as Bazel modules
# (its /etc/bazel/bazelrc overrides the others): zlib, protobuf, buildozer and apple_support. No C++
# build here uses them (they serve Java, protobuf, `bazel mod tidy` and Apple platforms), but module
# resolution must find them: empty modules stand in for them.
stubs=(zlib:1.3.1.bcr.3 protobuf:3.19.6 buildozer:7.1.2 apple_support:1.23.1)
for stub in "${stubs[@]}"; do
  m=$sid$modules/${stub%%:*}
  mkdir -p "$m"
  echo "module(name = \"${stub%%:*}\", version = \"${stub#*:}\")" >"$m/MODULE.bazel"
  echo "# Generated by tools/bzlmod-check.sh: an empty stand-in (see there)." >"$m/BUILD.bazel"
done

# The overrides, as options of each bazel command below. A module that is not in a workspace's
# dependency graph must not be overridden there (Bazel refuses): google_benchmark is a dev
# dependency of ssh_proxy, so the consumer does not see it.
overrides_for() {
  local name
  for name in abseil-cpp nlohmann_json googletest google_benchmark "${stubs[@]%%:*}"; do
    [[ $1 == consumer && $name == google_benchmark ]] && continue
    printf -- '--override_module=%s=%s\n' "$name" "$modules/$name"
  done
}
mapfile -t repo_overrides < <(overrides_for repository)
mapfile -t consumer_overrides < <(overrides_for consumer)

# --- 4. bzlmod build and tests --------------------------------------------------------------------
# bazel7 DIR ARGS...: bazel in DIR inside the chroot, bzlmod only, its own output root.
bazel7() {
  local dir=$1
  shift
  local cmd=$1
  shift
  in_sid /bin/sh -c 'cd "$1" && shift && exec "$@"' sh "$dir" \
    bazel --output_user_root=/root/.cache/bazel-bzlmod "$cmd" \
    --noenable_workspace --enable_bzlmod --lockfile_mode=off --color=no --curses=no \
    "${extra[@]}" "$@"
}

result=0
step "bazel build //... (bzlmod, $work)"
if bazel7 "$work" build "${repo_overrides[@]}" //... 2>&1 | sed 's/^/    /'; then
  log "build passed in $((SECONDS - step_start))s"
else
  fail "bazel build //... of the repository"
fi

step "bazel test ${tests[*]} (bzlmod, $work)"
if bazel7 "$work" test "${repo_overrides[@]}" --test_output=errors "${tests[@]}" 2>&1 | sed 's/^/    /'; then
  log "tests passed in $((SECONDS - step_start))s"
else
  log "tests FAILED"
  result=1
fi

step "bazel test //... (bzlmod, $work/examples/bazel-consumer)"
if bazel7 "$work/examples/bazel-consumer" test "${consumer_overrides[@]}" --test_output=errors //... 2>&1 |
  sed 's/^/    /'; then
  log "consumer passed in $((SECONDS - step_start))s"
else
  log "consumer FAILED"
  result=1
fi

# Stop the Bazel servers so that the mounts can go.
bazel7 "$work" shutdown >/dev/null 2>&1 || true
bazel7 "$work/examples/bazel-consumer" shutdown >/dev/null 2>&1 || true

if ((result != 0)); then
  fail "see the output above"
fi
log "PASS in $((SECONDS - started))s"
