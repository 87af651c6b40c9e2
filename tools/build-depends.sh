#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
#
# build-depends.sh [CONTROL]: prints the Debian packages that building and testing ssh-proxy needs,
# one per line, as debian/control's Build-Depends names them (CONTROL, default debian/control of
# this tree): the one list, which tools/ensure-deps.sh and tools/bzlmod-check.sh read instead of
# keeping their own copies. Version constraints, architecture lists and build profiles
# (<!nocheck>) are dropped, the first of alternatives is taken, and debhelper-compat (a virtual
# package) is printed as debhelper, which provides it. Exits 1 if the field is missing or empty.
set -euo pipefail

control=${1:-$(cd "$(dirname "$0")/.." && pwd)/debian/control}
# The field runs from "Build-Depends:" to the next line that does not start with a space; comment
# lines (#) inside a paragraph are not part of it.
pkgs=$(awk '
  /^#/ { next }
  /^Build-Depends:/ { on = 1; sub(/^Build-Depends:/, ""); print; next }
  on && /^[ \t]/ { print; next }
  { on = 0 }
' "$control" | tr '\n' ' ' | tr ',' '\n' |
  sed -e 's/|.*//' -e 's/([^)]*)//g' -e 's/\[[^]]*\]//g' -e 's/<[^>]*>//g' -e 's/[[:space:]]//g' |
  sed -e '/^$/d' -e 's/^debhelper-compat$/debhelper/')
if [[ -z $pkgs ]]; then
  echo "build-depends.sh: no Build-Depends in $control" >&2
  exit 1
fi
printf '%s\n' "$pkgs"
