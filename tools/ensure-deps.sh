#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
#
# ensure-deps.sh [build|demo|test]: makes sure the Debian 12 packages that building, the demo or
# the test suite need are installed (build: debian/control's Build-Depends; demo adds OpenSSH and
# what the VM guests run; test adds the tools of the whole test suite). As root it installs what is
# missing (non-interactively); as anyone else it prints the exact apt-get line and exits 1.
set -euo pipefail

what="${1:-test}"
here=$(cd "$(dirname "$0")" && pwd)
# Building (Bazel 4.2.3, the C++ libraries, lld, libseccomp, nlohmann/json, GoogleTest, Benchmark):
# debian/control's Build-Depends is the one list (tools/build-depends.sh reads it), plus the
# compiler that every Debian builder has (build-essential).
mapfile -t pkgs < <("$here/build-depends.sh")
((${#pkgs[@]} > 0)) || exit 1
pkgs+=(build-essential)
if [[ "$what" != build ]]; then
  pkgs+=(
    # A real OpenSSH on both ends for the demo and the end-to-end tests.
    openssh-client openssh-server
    # Real guests (tests/vm): QEMU, the guest's initramfs (busybox, cpio; socat listens on the
    # guest's vsock port 22). The kernel and vhost-device-vsock are fetched by tests/vm/vm.sh.
    qemu-system-x86 busybox-static cpio socat
  )
fi
if [[ "$what" == test ]]; then
  pkgs+=(
    # ASan+UBSan and libFuzzer with clang-14; lld links the sanitized binaries quietly.
    clang-14 lld-14 libclang-rt-14-dev llvm-14
    # AFL++ as a second fuzzing engine; zip for OSS-Fuzz seed corpora.
    afl++ zip
    # The relay benchmark's reference.
    socat
    # tests/vm: strace delays a read (the OK line and the banner in one read); debootstrap and
    # e2fsprogs build the systemd guest (VM_FLAVOURS=systemd).
    strace debootstrap e2fsprogs
    # The man page checks: mandoc -Tlint, man -l, and column for its rendering.
    mandoc man-db groff-base bsdextrautils
    # The Python tests and tools (tests/testing/check.py), and pyflakes over them.
    python3 pyflakes3
    # tools/shellcheck.sh: every shell script of the tree.
    shellcheck
    # tests/deb: the source package, lintian, autopkgtest, and diffoscope's summary when the two
    # builds differ.
    dpkg-dev lintian autopkgtest diffoscope-minimal
  )
fi

missing=()
for p in "${pkgs[@]}"; do
  if [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]]; then
    missing+=("$p")
  fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

line="apt-get install -y --no-install-recommends ${missing[*]}"
if [[ "$(id -u)" -ne 0 ]]; then
  echo "ssh-proxy: missing Debian packages; as root run:" >&2
  echo "  apt-get update && $line" >&2
  exit 1
fi
echo "ensure-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq </dev/null >&2
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >&2
