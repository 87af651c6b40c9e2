#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
#
# install_test.sh: tools/install.sh into temporary roots, and real ssh through the installed
# ssh_config fragment (ssh -F with an Include of it) to a throwaway sshd.
#
#   install_test.sh INSTALL_SH SSH_PROXY MUX_EMULATOR UNIX_INETD SSHD_FIXTURE
#
# Checks: a staged install (--destdir, and $DESTDIR) writes exactly the binary, the man page and the
# fragment, with the final path in the fragment; --dry-run writes nothing; unsafe prefixes are
# refused; a real install into a temporary prefix and sysconfdir is used by ssh for unix/...,
# unix%... and vsock-mux/... to a socket path with upper-case letters (which %h would break, shown
# by a control run) and with a glob character (which the quoted '%n' keeps from the shell, shown by
# a control run); ssh without ProxyUseFdpass gets a relay; uninstall removes exactly what install
# wrote and refuses files it did not write. Never opens AF_VSOCK. Prints "PASS name" / "FAIL name:
# why" per check and "N passed, N failed"; exits 1 if anything failed.
set -uo pipefail
# pass, fail, abspath and the PASSED/FAILED counters.
# shellcheck source=tests/check.sh
source "$(dirname "${BASH_SOURCE[0]}")/../check.sh"

if (($# != 5)); then
  echo "usage: $0 INSTALL_SH SSH_PROXY MUX_EMULATOR UNIX_INETD SSHD_FIXTURE" >&2
  exit 2
fi
INSTALL_SH=$(abspath "$1")
BIN=$(abspath "$2")
MUX_EMULATOR=$(abspath "$3")
UNIX_INETD=$(abspath "$4")
FIXTURE=$(abspath "$5")
REPO_ROOT=$(cd "$(dirname "$INSTALL_SH")/.." && pwd)

OUT=""
ERR=""
RC=0
run() {
  OUT=$("$@" 2>"$T/stderr")
  RC=$?
  ERR=$(<"$T/stderr")
}
detail() { printf 'rc=%s stdout=[%s] stderr=[%s]' "$RC" "$OUT" "$ERR"; }

# A short base (socket paths must fit sun_path) whose name has upper-case letters.
T=$(mktemp -d /tmp/ssh-proxy-install.XXXXXX)
cleanup() {
  declare -F fixture_stop >/dev/null && fixture_stop
  rm -rf -- "$T"
}
trap cleanup EXIT

# --- a staged install ----------------------------------------------------------------------------
S=$T/stage
run "$INSTALL_SH" --binary="$BIN" --prefix=/usr --destdir="$S"
files=$(cd "$S" 2>/dev/null && find . -type f | sort | tr '\n' ' ')
want="./etc/ssh/ssh_config.d/20-ssh-proxy.conf ./usr/libexec/ssh-proxy ./usr/share/man/man1/ssh-proxy.1 "
if [[ $RC == 0 && $files == "$want" ]]; then
  pass staged_install_writes_three_files
else
  fail staged_install_writes_three_files "files [$files], want [$want]; $(detail)"
fi
if cmp -s "$BIN" "$S/usr/libexec/ssh-proxy" && cmp -s "$REPO_ROOT/doc/ssh-proxy.1" \
  "$S/usr/share/man/man1/ssh-proxy.1" && [[ $(stat -c %a "$S/usr/libexec/ssh-proxy") == 755 &&
  $(stat -c %a "$S/usr/share/man/man1/ssh-proxy.1") == 644 &&
  $(stat -c %a "$S/etc/ssh/ssh_config.d/20-ssh-proxy.conf") == 644 ]]; then
  pass staged_install_contents_and_modes
else
  fail staged_install_contents_and_modes "binary or man page differ, or modes are not 755/644"
fi
frag=$S/etc/ssh/ssh_config.d/20-ssh-proxy.conf
if grep -qxF "    ProxyCommand /usr/libexec/ssh-proxy '%n' %p" "$frag" && ! grep -qF "$S" "$frag" &&
  ! grep -q '@SSH_PROXY@' "$frag" && grep -qx "# Installed by ssh-proxy's tools/install.sh." "$frag"; then
  pass staged_fragment_names_the_final_path
else
  fail staged_fragment_names_the_final_path "$(cat "$frag" 2>/dev/null)"
fi
if out=$(MANWIDTH=80 man -l "$S/usr/share/man/man1/ssh-proxy.1" 2>&1) && [[ $out == *"ssh-proxy"*ProxyUseFdpass* ]]; then
  pass installed_man_page_renders
else
  fail installed_man_page_renders "${out:0:300}"
fi
run "$INSTALL_SH" uninstall --prefix=/usr --destdir="$S"
left=$(find "$S" -type f | wc -l)
if [[ $RC == 0 && $left == 0 ]]; then
  pass staged_uninstall_removes_them
else
  fail staged_uninstall_removes_them "$left files left; $(detail)"
fi

# DESTDIR from the environment, as packaging tools set it.
run env DESTDIR="$T/stage2" "$INSTALL_SH" --binary="$BIN" --prefix=/usr
if [[ $RC == 0 && -x $T/stage2/usr/libexec/ssh-proxy && -f $T/stage2/etc/ssh/ssh_config.d/20-ssh-proxy.conf ]]; then
  pass destdir_from_environment
else
  fail destdir_from_environment "$(detail)"
fi

run "$INSTALL_SH" --binary="$BIN" --prefix=/usr --destdir="$T/dry" --dry-run
if [[ $RC == 0 && ! -e $T/dry && $OUT == *"/usr/libexec/ssh-proxy"* ]]; then
  pass dry_run_writes_nothing
else
  fail dry_run_writes_nothing "$(detail)"
fi

bad=0
for prefix in "$T/a b" "usr/local" "$T/x'y" "$T/x%y" "$T/../etc" "$T//x"; do
  run "$INSTALL_SH" --binary="$BIN" --prefix="$prefix" --destdir="$T/bad"
  [[ $RC == 1 && $ERR == "install.sh: "* && ! -e $T/bad ]] || {
    bad=1
    fail refuses_unsafe_prefix "prefix [$prefix]: $(detail)"
  }
done
((bad)) || pass refuses_unsafe_prefix

# --- a real install, used by ssh -----------------------------------------------------------------
R=$T/Root
run "$INSTALL_SH" --binary="$BIN" --prefix="$R/usr" --sysconfdir="$R/etc"
installed=$R/usr/libexec/ssh-proxy
frag=$R/etc/ssh/ssh_config.d/20-ssh-proxy.conf
if [[ $RC == 0 && -x $installed ]] && grep -qxF "    ProxyCommand $installed '%n' %p" "$frag"; then
  pass install_into_temporary_root
else
  fail install_into_temporary_root "$(detail)"
  check_summary
  exit 1
fi

# The fixture's sshd and multiplexer; its own ProxyCommand must never run: the fragment, included
# first, decides (ssh keeps the first value it reads).
SSH_PROXY=/nonexistent/fixture-proxy-must-not-run
FIXTURE_LIFETIME=120
FIXTURE_SSH_TIMEOUT=30
mkdir -p "$T/VM-Dir"
TEST_TMPDIR=$T/VM-Dir
# shellcheck source=tests/e2e/sshd_fixture.sh
source "$FIXTURE"
if ! fixture_start firecracker; then
  fail fixture_start "could not start sshd and the mux emulator"
  check_summary
  exit 1
fi
trap cleanup EXIT
D=$FIXTURE_DIR
cfg=$T/ssh_config
{
  echo "Include $frag"
  cat "$FIXTURE_SSH_CONFIG"
} >"$cfg"

run ssh -G -F "$cfg" "unix$FIXTURE_SSHD_SOCK"
if [[ $OUT == *"proxycommand $installed '%n' %p"* && $OUT == *"proxyusefdpass yes"* ]]; then
  pass ssh_G_uses_the_installed_fragment
else
  fail ssh_G_uses_the_installed_fragment "$(grep -E '^proxy' <<<"$OUT")"
fi

# check_ssh NAME HOST [SSH OPTIONS...]: `ssh HOST echo TOKEN` through the installed fragment.
check_ssh() {
  local name=$1 host=$2 token="tok-$RANDOM$RANDOM"
  shift 2
  run timeout -k 5 30 ssh -F "$cfg" "$@" "$host" echo "$token"
  if [[ $RC == 0 && $OUT == "$token" ]]; then
    pass "$name"
  else
    fail "$name" "ssh $* $host: $(detail)"
  fi
}
[[ $D == *[A-Z]* ]] || fail mixed_case_path "fixture dir $D has no upper-case letter"
check_ssh ssh_unix_mixed_case_path "unix$FIXTURE_SSHD_SOCK"
check_ssh ssh_unix_percent "unix%${FIXTURE_SSHD_SOCK#/}"
check_ssh ssh_vsock_mux "vsock-mux$FIXTURE_VM_SOCK"
if [[ $(cat "$FIXTURE_VM_LOG") == 'CONNECT 22\n' ]]; then
  pass mux_saw_one_connect
else
  fail mux_saw_one_connect "mux log [$(cat "$FIXTURE_VM_LOG")]"
fi
# Without fd passing the installed binary relays.
check_ssh ssh_without_fdpass_relays "unix$FIXTURE_SSHD_SOCK" -o ProxyUseFdpass=no

# Control: %h (what systemd's fragment uses) is lowercased by ssh and misses the socket.
run timeout -k 5 30 ssh -F "$cfg" -o "ProxyCommand=$installed %h %p" "unix$FIXTURE_SSHD_SOCK" true
lower=$(tr '[:upper:]' '[:lower:]' <<<"$FIXTURE_SSHD_SOCK")
if [[ $RC == 255 && $ERR == *"unix$lower"* ]]; then
  pass control_h_lowercases_the_path
else
  fail control_h_lowercases_the_path "$(detail)"
fi

# A glob character in the host: the quoted '%n' reaches ssh-proxy as typed (no such socket), while
# an unquoted %n would let the shell expand it against files in the current directory: here a
# decoy tree below $T/cwd makes "unix/.../sshd.soc?" expand to the real socket's name.
mkdir -p "$T/cwd/unix$D"
: >"$T/cwd/unix$D/sshd.sock"
globbed="unix$D/sshd.soc?"
OUT=$(cd "$T/cwd" && timeout -k 5 30 ssh -F "$cfg" "$globbed" true 2>&1)
RC=$?
if [[ $RC == 255 && $OUT == *"sshd.soc?"*"ENOENT"* ]]; then
  pass quoted_n_keeps_glob_from_shell
else
  fail quoted_n_keeps_glob_from_shell "rc=$RC output=[$OUT]"
fi
token="glob-$RANDOM"
OUT=$(cd "$T/cwd" && timeout -k 5 30 ssh -F "$cfg" -o "ProxyCommand=$installed %n %p" \
  "$globbed" echo "$token" 2>&1)
RC=$?
if [[ $RC == 0 && $OUT == "$token" ]]; then
  pass control_unquoted_n_is_globbed
else
  fail control_unquoted_n_is_globbed "rc=$RC output=[$OUT]"
fi

# --- uninstall -----------------------------------------------------------------------------------
fixture_stop
run "$INSTALL_SH" uninstall --prefix="$R/usr" --sysconfdir="$R/etc"
left=$(find "$R" -type f | wc -l)
if [[ $RC == 0 && $left == 0 && -d $R/etc/ssh/ssh_config.d ]]; then
  pass uninstall_removes_exactly_the_files
else
  fail uninstall_removes_exactly_the_files "$left files left; $(detail)"
fi
mkdir -p "$R/etc/ssh/ssh_config.d"
echo "Host mine" >"$frag"
run "$INSTALL_SH" uninstall --prefix="$R/usr" --sysconfdir="$R/etc"
if [[ $RC != 0 && -f $frag && $ERR == *"not written by tools/install.sh"* ]]; then
  pass uninstall_keeps_a_foreign_fragment
else
  fail uninstall_keeps_a_foreign_fragment "$(detail)"
fi

check_summary
