#!/bin/bash -eu
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
#
# build.sh: builds ssh-proxy's fuzz targets for OSS-Fuzz and ClusterFuzzLite (which runs this same
# file through .clusterfuzzlite/build.sh), and for local engines (tools/fuzz-afl.sh,
# tools/oss-fuzz-check.sh).
#
# Uses what OSS-Fuzz sets: $CXX, $CXXFLAGS, $LIB_FUZZING_ENGINE, $OUT (and $CC, $CFLAGS, $WORK,
# $SRC when present). Writes, for each fuzz/<name>_fuzzer.cc, into $OUT:
#   <name>_fuzzer, <name>_fuzzer_seed_corpus.zip, <name>_fuzzer.dict, <name>_fuzzer.options
#
# abseil: if $SRC/abseil-cpp exists (the Dockerfile clones it), it is built here with the same
# compiler and flags as the fuzzers (instrumented, and with OSS-Fuzz's libc++). Otherwise the
# system's static abseil is used (Debian/Ubuntu libabsl-dev: built by gcc against libstdc++, so
# -stdlib=libc++ is dropped from CXXFLAGS to match it; ASan and UBSan work, MSan would not).
#
# nlohmann/json (header-only): $SRC/json/include if the Dockerfile cloned it, else the system's
# (Debian/Ubuntu nlohmann-json3-dev, /usr/include/nlohmann).
#
# The source tree: $SSH_PROXY_SRC, else the working directory if it is the tree (OSS-Fuzz runs
# build.sh from WORKDIR $SRC/ssh-proxy), else the tree this file is in.

if [[ -n "${SSH_PROXY_SRC:-}" ]]; then
  root="$SSH_PROXY_SRC"
elif [[ -f src/address.h && -d fuzz ]]; then
  root="$PWD"
else
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
fi
: "${CC:=clang}"
: "${CFLAGS:=}"
: "${WORK:=$(mktemp -d)}"
: "${SRC:=$(dirname "$root")}"

std="-std=c++17"

absl_src="$SRC/abseil-cpp"
absl_libs=()
if [[ -d "$absl_src" ]]; then
  absl_build="$WORK/abseil-build"
  absl_prefix="$WORK/abseil"
  if [[ ! -f "$absl_prefix/.built" ]]; then
    cmake -S "$absl_src" -B "$absl_build" -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
      -DCMAKE_C_FLAGS="$CFLAGS" -DCMAKE_CXX_FLAGS="$CXXFLAGS" -DCMAKE_CXX_STANDARD=17 \
      -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DABSL_PROPAGATE_CXX_STD=ON -DBUILD_TESTING=OFF \
      -DCMAKE_INSTALL_PREFIX="$absl_prefix" >/dev/null
    cmake --build "$absl_build" -j"$(nproc)" >/dev/null
    cmake --install "$absl_build" >/dev/null
    touch "$absl_prefix/.built"
  fi
  absl_include="-I$absl_prefix/include"
  absl_libdir="$(find "$absl_prefix" -name 'libabsl_base.a' -printf '%h\n' | head -1)"
else
  absl_include=""
  absl_libdir=""
  for d in /usr/lib/x86_64-linux-gnu /usr/lib/aarch64-linux-gnu /usr/lib64 /usr/lib; do
    if [[ -f "$d/libabsl_base.a" ]]; then absl_libdir="$d"; break; fi
  done
  if [[ -z "$absl_libdir" ]]; then
    echo "build.sh: no abseil: clone it to $absl_src or install libabsl-dev" >&2
    exit 1
  fi
  CXXFLAGS="${CXXFLAGS//-stdlib=libc++/}"
fi
# Every abseil archive in one group: the linker takes only what is used, in any order.
# shellcheck disable=SC2054  # the commas belong to the linker options (-Wl,...), not the array.
absl_libs=(-Wl,--start-group "$absl_libdir"/libabsl_*.a -Wl,--end-group -lpthread)

json_include=""
if [[ -f "$SRC/json/include/nlohmann/json.hpp" ]]; then
  json_include="-I$SRC/json/include"
elif [[ ! -f /usr/include/nlohmann/json.hpp ]]; then
  echo "build.sh: no nlohmann/json: clone it to $SRC/json or install nlohmann-json3-dev" >&2
  exit 1
fi

objdir="$WORK/ssh-proxy-obj"
mkdir -p "$objdir"
# src/version.h, which Bazel generates (//src:version_h), from the first line of debian/changelog.
gen="$WORK/ssh-proxy-gen"
mkdir -p "$gen/src"
version=$(sed -n '1s/^ssh-proxy (\([0-9][0-9A-Za-z.+~]*\)\(-[0-9A-Za-z.+~]*\)\{0,1\}) .*/\1/p' \
  "$root/debian/changelog")
if [[ -z $version ]]; then
  echo "build.sh: debian/changelog's first line does not read \"ssh-proxy (VERSION) ...\"" >&2
  exit 1
fi
printf '%s\n' '#ifndef SSH_PROXY_SRC_VERSION_H_' '#define SSH_PROXY_SRC_VERSION_H_' \
  "#define SSH_PROXY_VERSION \"$version\"" '#endif  // SSH_PROXY_SRC_VERSION_H_' >"$gen/src/version.h"
compile() {  # compile SRC.cc -> $objdir/<flattened name>.o; prints the object path.
  local src="$1"
  local obj
  obj="$objdir/$(echo "$src" | tr '/' '_' | sed 's/\.cc$/.o/')"
  # shellcheck disable=SC2086
  if ! $CXX $CXXFLAGS $std $absl_include $json_include -I"$root" -I"$gen" -c "$root/$src" -o "$obj"; then
    echo "build.sh: cannot compile $src" >&2
    return 1
  fi
  echo "$obj"
}

# Every library source of src/: not main.cc and run.cc (the fuzzing engine brings main(), and no
# fuzzer runs the whole program), nor the self-confinement (sandbox.cc, which fuzz builds never
# apply, and seccomp_policy_gen.cc, the build-time tool that writes its filters).
lib_objs=()
for s in "$root"/src/*.cc; do
  case "${s##*/}" in
    main.cc | run.cc | sandbox.cc | seccomp_policy_gen.cc) continue ;;
  esac
  obj="$(compile "src/${s##*/}")" || exit 1
  lib_objs+=("$obj")
done
helper_objs=()
for s in fuzz/scripted_syscalls.cc tests/testing/fake_syscalls.cc tests/testing/printing.cc \
  tests/testing/blocking_io.cc; do
  obj="$(compile "$s")" || exit 1
  helper_objs+=("$obj")
done

mkdir -p "$OUT"
for fuzzer_src in "$root"/fuzz/*_fuzzer.cc; do
  name="$(basename "$fuzzer_src" .cc)"
  obj="$(compile "fuzz/$name.cc")" || exit 1
  # shellcheck disable=SC2086
  $CXX $CXXFLAGS "$obj" "${helper_objs[@]}" "${lib_objs[@]}" $LIB_FUZZING_ENGINE \
    "${absl_libs[@]}" -o "$OUT/$name" || exit 1
  rm -f "$OUT/${name}_seed_corpus.zip"
  zip -q -j -X "$OUT/${name}_seed_corpus.zip" "$root/fuzz/${name}_corpus"/*
  cp "$root/fuzz/$name.dict" "$OUT/$name.dict"
  cp "$root/fuzz/$name.options" "$OUT/$name.options"
  echo "build.sh: $OUT/$name"
done
