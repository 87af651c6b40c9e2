#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
#
# install.sh: installs ssh-proxy (the binary, its man page and the ssh_config fragment), or removes
# what it installed.
#
#   tools/install.sh [install] [OPTIONS]      build (bazel build --config=release) and install
#   tools/install.sh uninstall [OPTIONS]      remove the three files again
#
# Options (the same for both; give uninstall the ones install had):
#   --prefix=DIR       where the binary and the man page go (default /usr/local):
#                        DIR/libexec/ssh-proxy, DIR/share/man/man1/ssh-proxy.1
#   --sysconfdir=DIR   where the ssh_config fragment goes (default /etc):
#                        DIR/ssh/ssh_config.d/20-ssh-proxy.conf
#   --destdir=DIR      staging root (like make's DESTDIR; also read from $DESTDIR): every file is
#                      written below DIR, while the fragment names the final path of the binary.
#   --binary=FILE      install FILE instead of building //:ssh-proxy
#   --dry-run          print what would be done, change nothing
#
# The fragment is conf/20-ssh-proxy.conf with @SSH_PROXY@ replaced by PREFIX/libexec/ssh-proxy.
# Prefixes are limited to characters that need no quoting in ssh_config and the shell
# ([A-Za-z0-9._+/-]). Uninstall removes only files that install wrote: the fragment must still
# carry install's marker line, and the binary must be an ssh-proxy (its --version). Directories are
# left in place. Prints one line per file; exits non-zero on the first failure.
#
# BAZEL_STARTUP_OPTIONS and BAZEL_BUILD_OPTIONS (empty by default) are passed to bazel when it
# builds the binary, as in tools/demo.sh.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
marker="# Installed by ssh-proxy's tools/install.sh."

die() {
  echo "install.sh: $*" >&2
  exit 1
}
usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
}

action=install
prefix=/usr/local
sysconfdir=/etc
destdir=${DESTDIR:-}
binary=""
dry_run=0
for arg in "$@"; do
  case $arg in
    install | uninstall) action=$arg ;;
    --prefix=*) prefix=${arg#*=} ;;
    --sysconfdir=*) sysconfdir=${arg#*=} ;;
    --destdir=*) destdir=${arg#*=} ;;
    --binary=*) binary=${arg#*=} ;;
    --dry-run) dry_run=1 ;;
    -h | --help)
      usage
      exit 0
      ;;
    *) die "unknown argument \"$arg\" (see tools/install.sh --help)" ;;
  esac
done

# safe_dir NAME VALUE: an absolute, normalised path of safe characters.
safe_dir() {
  local name=$1 value=$2
  [[ $value == /* ]] || die "$name must be an absolute path: \"$value\""
  [[ $value =~ ^[A-Za-z0-9._+/-]+$ ]] ||
    die "$name \"$value\" has characters that would need quoting in ssh_config (allowed: A-Z a-z 0-9 . _ + / -)"
  [[ /$value/ != */../* && /$value/ != */./* && $value != *//* ]] ||
    die "$name \"$value\" is not normalised (no //, . or .. components)"
}
safe_dir --prefix "$prefix"
safe_dir --sysconfdir "$sysconfdir"
prefix=${prefix%/}
sysconfdir=${sysconfdir%/}
[[ -n $prefix && -n $sysconfdir ]] || die "--prefix and --sysconfdir must not be /"
if [[ -n $destdir ]]; then
  [[ $destdir == /* ]] || die "--destdir must be an absolute path: \"$destdir\""
  destdir=${destdir%/}
fi

bin_path=$prefix/libexec/ssh-proxy
man_path=$prefix/share/man/man1/ssh-proxy.1
conf_path=$sysconfdir/ssh/ssh_config.d/20-ssh-proxy.conf

run() {
  echo "+ $*"
  ((dry_run)) || "$@"
}

# uninstall_one PATH WHY CHECK...: removes $destdir$PATH if `CHECK... FILE` says it is ours, and
# dies with "FILE WHY; not removing it" if it does not; a missing file is only reported.
uninstall_one() {
  local f=$destdir$1 why=$2
  shift 2
  if [[ ! -e $f ]]; then
    echo "  (no $f)"
    return 0
  fi
  "$@" "$f" || die "$f $why; not removing it"
  run rm -f -- "$f"
}
says_ssh_proxy() {
  local version
  version=$("$1" --version 2>/dev/null) || true
  [[ $version == "ssh-proxy "* ]]
}

if [[ $action == uninstall ]]; then
  uninstall_one "$conf_path" "was not written by tools/install.sh" grep -qxF "$marker"
  uninstall_one "$bin_path" "does not say it is ssh-proxy" says_ssh_proxy
  uninstall_one "$man_path" "is not ssh-proxy's man page" grep -q '^\.Dt SSH-PROXY 1'
  echo "uninstalled ssh-proxy from ${destdir:-/} (directories are left in place)"
  exit 0
fi

# --- install --------------------------------------------------------------------------------------
if [[ -z $binary ]]; then
  # A user's install from a clone: the build's Debian packages first (as root it installs them,
  # otherwise it prints the apt-get line). A staged install (--destdir, a package build) brings its
  # own build dependencies and must fetch nothing.
  if [[ -z $destdir ]]; then
    "$root/tools/ensure-deps.sh" build || die "the build's Debian packages are missing (see above)"
  fi
  read -ra startup <<<"${BAZEL_STARTUP_OPTIONS:-}"
  read -ra build_opts <<<"${BAZEL_BUILD_OPTIONS:-}"
  echo "+ bazel build --config=release //:ssh-proxy"
  (cd "$root" && bazel "${startup[@]}" build --config=release "${build_opts[@]}" //:ssh-proxy) ||
    die "bazel build failed"
  bin_dir=$(cd "$root" && bazel "${startup[@]}" info --config=release "${build_opts[@]}" bazel-bin \
    2>/dev/null) || die "bazel info bazel-bin failed"
  binary=$bin_dir/ssh-proxy
fi
[[ -f $binary && -x $binary ]] || die "no executable ssh-proxy at $binary"
version=$("$binary" --version 2>/dev/null) || true
[[ $version == "ssh-proxy "* ]] || die "$binary does not say it is ssh-proxy (--version: \"$version\")"
[[ -f $root/doc/ssh-proxy.1 ]] || die "missing $root/doc/ssh-proxy.1"
[[ -f $root/conf/20-ssh-proxy.conf ]] || die "missing $root/conf/20-ssh-proxy.conf"

# The fragment, with the binary's final path (not the staging path).
fragment=$(sed -e "s|@SSH_PROXY@|$bin_path|g" "$root/conf/20-ssh-proxy.conf")
[[ $fragment != *@SSH_PROXY@* ]] || die "conf/20-ssh-proxy.conf: placeholder left after substitution"
fragment="$marker"$'\n'"$fragment"

run install -d -m 0755 "$destdir$prefix/libexec" "$destdir$prefix/share/man/man1" \
  "$destdir$sysconfdir/ssh/ssh_config.d"
run install -m 0755 "$binary" "$destdir$bin_path"
run install -m 0644 "$root/doc/ssh-proxy.1" "$destdir$man_path"
echo "+ write $destdir$conf_path (ProxyCommand $bin_path '%n' %p)"
if ((!dry_run)); then
  tmp=$(mktemp "$destdir$sysconfdir/ssh/ssh_config.d/.20-ssh-proxy.conf.XXXXXX")
  printf '%s\n' "$fragment" >"$tmp"
  chmod 0644 "$tmp"
  mv -f -- "$tmp" "$destdir$conf_path"
fi
echo "installed $version into ${destdir:-/}: $bin_path, $man_path, $conf_path"
if [[ -z $destdir && $sysconfdir == /etc ]] && ! grep -qsE '^[[:space:]]*Include[[:space:]]+/etc/ssh/ssh_config\.d/\*\.conf' /etc/ssh/ssh_config; then
  echo "note: /etc/ssh/ssh_config does not include /etc/ssh/ssh_config.d/*.conf; add" \
    "\"Include $conf_path\" to it or to ~/.ssh/config" >&2
fi
