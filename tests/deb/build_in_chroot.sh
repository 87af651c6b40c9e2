#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
#
# build_in_chroot.sh: the build part of tests/deb/deb_test.sh, run as root inside a fresh overlay
# over the clean Debian 12 chroot, after `apt-get build-dep` installed the Build-Depends there.
#
#   build_in_chroot.sh DSC DIR USER UID UMASK OPTIONS [NAME=VALUE...]
#
# Creates the user USER (uid UID), unpacks the source package DSC into DIR as that user and runs
# `dpkg-buildpackage -b -us -uc` there with umask UMASK, DEB_BUILD_OPTIONS=OPTIONS and only
# the environment given (PATH, HOME, USER, LOGNAME and the NAME=VALUE pairs, e.g. LANG or TZ).
# deb_test.sh runs it twice with different values to check that the .deb does not depend on them.
# The packages land in DIR's parent directory. Exits with dpkg-buildpackage's status.
set -euo pipefail

if (($# < 6)); then
  echo "usage: $0 DSC DIR USER UID UMASK OPTIONS [NAME=VALUE...]" >&2
  exit 2
fi
dsc=$1 dir=$2 user=$3 uid=$4 mask=$5 options=$6
shift 6

useradd --create-home --uid "$uid" --user-group --shell /bin/bash "$user"
parent=$(dirname "$dir")
mkdir -p "$parent"
chown "$user:" "$parent"
cp "$dsc" "${dsc%.dsc}".tar.* "$parent/"
chown "$user:" "$parent"/*
cd "$parent"
# shellcheck disable=SC2016  # $1..$3 are for the inner bash.
exec setpriv --reuid="$uid" --regid="$uid" --init-groups \
  env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="/home/$user" USER="$user" LOGNAME="$user" \
  DEB_BUILD_OPTIONS="$options" "$@" \
  /bin/bash -c 'umask "$1" && dpkg-source -x "$2" "$3" && cd "$3" && exec dpkg-buildpackage -b -us -uc' \
  build "$mask" "$(basename "$dsc")" "$dir"
