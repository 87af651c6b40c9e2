#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
#
# in_chroot.sh: the part of tests/deb/deb_test.sh that runs inside the clean Debian 12 chroot, as
# root, from the directory that holds everything it needs (deb_test.sh copies it there):
#
#   tests/deb/in_chroot.sh DEB VERSION
#
#   DEB               the package, e.g. ssh-proxy_0.1.0_amd64.deb (in the current directory)
#   VERSION           what `ssh-proxy --version` must say
#   ./mux_emulator and ./unix_inetd sit beside DEB; tests/check.sh, tests/e2e/sshd_fixture.sh,
#   tools/lib.sh, tools/install.sh and doc/ssh-proxy.1 sit below the directory as in the repository.
#
# Installs the package with `apt-get install ./DEB`, runs real ssh through the installed fragment
# (ssh reads /etc/ssh/ssh_config, which includes /etc/ssh/ssh_config.d/*.conf; ~/.ssh/config only
# names the key and known_hosts, as a user's would) to a throwaway sshd on a unix socket and through
# the test multiplexer, then `apt-get purge`s it and checks that none of its files is left. The same
# ssh fails before the install and after the purge (the controls). Writes the package's file list
# to ./dpkg-L.txt for deb_test.sh. Prints "PASS name" / "FAIL name: why" per check and
# "N passed, N failed"; exits 1 if anything failed.
set -uo pipefail
# pass, fail and the PASSED/FAILED counters.
# shellcheck source=tests/check.sh
source tests/check.sh

if (($# != 2)); then
  echo "usage: $0 DEB VERSION" >&2
  exit 2
fi
DEB=$1
VERSION=$2
HERE=$PWD
T=$(mktemp -d /tmp/deb-test.XXXXXX)

OUT=""
ERR=""
RC=0
run() {
  OUT=$("$@" 2>"$T/stderr")
  RC=$?
  ERR=$(<"$T/stderr")
}
detail() { printf 'rc=%s stdout=[%s] stderr=[%s]' "$RC" "${OUT:0:2000}" "${ERR:0:2000}"; }
finish() {
  rm -rf -- "$T"
  echo "$PASSED passed, $FAILED failed"
  ((FAILED == 0))
  exit
}
export DEBIAN_FRONTEND=noninteractive
BIN=/usr/libexec/ssh-proxy
CONF=/etc/ssh/ssh_config.d/20-ssh-proxy.conf

# --- the throwaway sshd and multiplexer (the chroot's own openssh-server) ------------------------
# Its generated ssh_config is not used: ssh below reads only the system's files and ~/.ssh/config.
SSH_PROXY=/nonexistent/fixture-proxy-must-not-run
MUX_EMULATOR=$HERE/mux_emulator
UNIX_INETD=$HERE/unix_inetd
FIXTURE_LIFETIME=120
TEST_TMPDIR=/tmp
# shellcheck source=tests/e2e/sshd_fixture.sh
source tests/e2e/sshd_fixture.sh
if ! fixture_start firecracker; then
  fail fixture_start "could not start sshd and the mux emulator in the chroot"
  finish
fi
D=$FIXTURE_DIR
# What a user's ~/.ssh/config would say: which key, which known_hosts. No ProxyCommand.
mkdir -p /root/.ssh && chmod 0700 /root/.ssh
cat >/root/.ssh/config <<EOF
Host *
  IdentityFile $D/client_ed25519
  IdentitiesOnly yes
  IdentityAgent none
  UserKnownHostsFile $D/known_hosts
  GlobalKnownHostsFile /dev/null
  HostKeyAlias $FIXTURE_HOST_KEY_ALIAS
  StrictHostKeyChecking yes
  BatchMode yes
  LogLevel ERROR
  ConnectTimeout 10
EOF

# ssh_to NAME HOST: `ssh HOST echo TOKEN` must print TOKEN.
ssh_to() {
  local name=$1 host=$2 token="tok-$RANDOM$RANDOM"
  run timeout -k 5 30 ssh "$host" echo "$token"
  if [[ $RC == 0 && $OUT == "$token" ]]; then
    pass "$name"
  else
    fail "$name" "ssh $host: $(detail)"
  fi
}
# ssh_fails NAME HOST: without the package, ssh cannot reach HOST.
ssh_fails() {
  local name=$1 host=$2
  run timeout -k 5 30 ssh "$host" echo reached
  if [[ $RC == 255 && $OUT != *reached* ]]; then
    pass "$name"
  else
    fail "$name" "ssh $host without the package: $(detail)"
  fi
}

# --- before: a clean system, on which the same ssh fails -----------------------------------------
if [[ ! -e $BIN && ! -e $CONF ]] && grep -qxE 'Include /etc/ssh/ssh_config\.d/\*\.conf' \
  /etc/ssh/ssh_config; then
  pass clean_system_includes_ssh_config_d
else
  fail clean_system_includes_ssh_config_d "$BIN or $CONF exists, or ssh_config has no Include"
fi
ssh_fails control_ssh_fails_before_install "unix$FIXTURE_SSHD_SOCK"

# --- install ---------------------------------------------------------------------------------------
run apt-get -o DPkg::Lock::Timeout=60 install -y "./$DEB"
status=$(dpkg-query -W -f='${Status} ${Version}' ssh-proxy 2>/dev/null)
if [[ $RC == 0 && $status == "install ok installed $VERSION" ]]; then
  pass apt_get_install
else
  fail apt_get_install "status [$status]; $(detail)"
  finish
fi
dpkg -L ssh-proxy >"$HERE/dpkg-L.txt"
missing=()
for f in "$BIN" /usr/share/man/man1/ssh-proxy.1.gz "$CONF" /usr/share/doc/ssh-proxy/copyright \
  /usr/share/doc/ssh-proxy/NOTICE \
  /usr/share/doc/ssh-proxy/changelog.gz; do
  grep -qxF "$f" "$HERE/dpkg-L.txt" && [[ -f $f ]] || missing+=("$f")
done
if ((${#missing[@]} == 0)); then
  pass package_installs_its_files
else
  fail package_installs_its_files "not installed: ${missing[*]}"
fi
conffiles=$(dpkg-query -W -f='${Conffiles}\n' ssh-proxy | while read -r f _; do echo "$f"; done)
if [[ $conffiles == "$CONF" ]]; then
  pass fragment_is_the_only_conffile
else
  fail fragment_is_the_only_conffile "conffiles [$conffiles]"
fi
if grep -qxF "    ProxyCommand $BIN '%n' %p" "$CONF" && ! grep -q '@SSH_PROXY@' "$CONF" &&
  [[ $(head -n 1 "$CONF") == "# Installed by the Debian package ssh-proxy "* ]]; then
  pass fragment_names_the_binary
else
  fail fragment_names_the_binary "$(cat "$CONF")"
fi
if gzip -dc /usr/share/man/man1/ssh-proxy.1.gz | cmp -s - "$HERE/doc/ssh-proxy.1"; then
  pass man_page_is_doc_ssh_proxy_1
else
  fail man_page_is_doc_ssh_proxy_1 "/usr/share/man/man1/ssh-proxy.1.gz differs from doc/ssh-proxy.1"
fi
run "$BIN" --version
v=$OUT
run "$BIN" --dry-run vsock-mux/run/vm0/v.sock 22
if [[ $v == "ssh-proxy $VERSION" && $RC == 0 && $OUT == "vsock-mux path=/run/vm0/v.sock port=22" ]]; then
  pass installed_binary_runs
else
  fail installed_binary_runs "--version [$v]; $(detail)"
fi

# tools/install.sh's uninstall (for source installs) must not delete the package's files.
run tools/install.sh uninstall --prefix=/usr
if [[ $RC == 1 && $ERR == *"not written by tools/install.sh"* && -f $CONF && -x $BIN ]]; then
  pass source_uninstall_keeps_the_package_files
else
  fail source_uninstall_keeps_the_package_files "$(detail)"
fi

# --- use: real ssh through the installed fragment --------------------------------------------------
run ssh -G "unix$FIXTURE_SSHD_SOCK"
if [[ $OUT == *"proxycommand $BIN '%n' %p"* && $OUT == *"proxyusefdpass yes"* ]]; then
  pass ssh_G_reads_the_installed_fragment
else
  fail ssh_G_reads_the_installed_fragment "$(grep -E '^proxy' <<<"$OUT")"
fi
ssh_to ssh_unix "unix$FIXTURE_SSHD_SOCK"
ssh_to ssh_unix_percent "unix%${FIXTURE_SSHD_SOCK#/}"
: >"$FIXTURE_VM_LOG"
ssh_to ssh_vsock_mux "vsock-mux$FIXTURE_VM_SOCK"
if [[ $(cat "$FIXTURE_VM_LOG") == 'CONNECT 22\n' ]]; then
  pass mux_saw_one_connect
else
  fail mux_saw_one_connect "mux log [$(cat "$FIXTURE_VM_LOG")]"
fi

# --- beside systemd's fragment ---------------------------------------------------------------------
# systemd 256+ ships /etc/ssh/ssh_config.d/20-systemd-ssh-proxy.conf (Debian 12's systemd does not):
# its Host sections, as systemd writes them, next to ours. Ours sorts first, so ssh takes our
# ProxyCommand for every host both name (machine/* included, since ours names it too); host key
# checking comes from systemd's section, which sets it and ours does not (README, "Beside systemd's
# own fragment").
sysd=/etc/ssh/ssh_config.d/20-systemd-ssh-proxy.conf
sysd_proxy=/usr/lib/systemd/systemd-ssh-proxy
cat >"$sysd" <<EOF
Host .host machine/.host
  ProxyCommand $sysd_proxy unix/run/ssh-unix-local/socket %p
  ProxyUseFdpass yes
  CheckHostIP no
Host unix/* unix%* vsock/* vsock%* vsock-mux/* vsock-mux%* machine/* machine%*
  ProxyCommand $sysd_proxy %h %p
  ProxyUseFdpass yes
  CheckHostIP no
  StrictHostKeyChecking no
  UserKnownHostsFile /dev/null
EOF
mv /root/.ssh/config /root/.ssh/config.user
bad=""
for host in "unix$FIXTURE_SSHD_SOCK" vsock/4711 vsock-mux/run/vm0/v.sock .host machine/vm0 machine%vm0; do
  g=$(ssh -G "$host" 2>&1)
  pc=$(sed -n 's/^proxycommand //p' <<<"$g")
  shk=$(sed -n 's/^stricthostkeychecking //p' <<<"$g")
  ukh=$(sed -n 's/^userknownhostsfile //p' <<<"$g")
  want="$BIN '%n' %p"
  [[ $pc == "$want" ]] || bad+=" $host: proxycommand [$pc], want [$want];"
  if [[ $host != .host ]]; then
    [[ $shk == false && $ukh == /dev/null ]] ||
      bad+=" $host: stricthostkeychecking [$shk] userknownhostsfile [$ukh];"
  elif [[ $shk == false || $ukh == /dev/null ]]; then
    bad+=" .host: host key checking is off ([$shk] [$ukh]), but neither section turns it off;"
  fi
done
mv /root/.ssh/config.user /root/.ssh/config
if [[ -z $bad ]]; then
  pass systemd_fragment_sorts_after_ours
else
  fail systemd_fragment_sorts_after_ours "$bad"
fi
ssh_to ssh_unix_beside_systemd_fragment "unix$FIXTURE_SSHD_SOCK"
rm -f -- "$sysd"

# --- purge -----------------------------------------------------------------------------------------
run apt-get -o DPkg::Lock::Timeout=60 purge -y ssh-proxy
if [[ $RC == 0 ]] && ! dpkg-query -W ssh-proxy >/dev/null 2>&1; then
  pass apt_get_purge
else
  fail apt_get_purge "dpkg still knows ssh-proxy: $(dpkg-query -W ssh-proxy 2>&1); $(detail)"
fi
# Every file of the package is gone; a directory may stay only if another package owns it.
left=()
while IFS= read -r path; do
  [[ $path == /. ]] && continue
  if [[ -d $path && ! -L $path ]]; then
    dpkg-query -S "$path" >/dev/null 2>&1 || left+=("$path/")
  elif [[ -e $path || -L $path ]]; then
    left+=("$path")
  fi
done <"$HERE/dpkg-L.txt"
leftover_info=$(find /var/lib/dpkg/info -name 'ssh-proxy.*' | tr '\n' ' ')
if ((${#left[@]} == 0)) && [[ ! -e $CONF && -z $leftover_info ]]; then
  pass purge_leaves_nothing
else
  fail purge_leaves_nothing "left: ${left[*]} $leftover_info"
fi
ssh_fails control_ssh_fails_after_purge "unix$FIXTURE_SSHD_SOCK"

fixture_stop
rm -rf -- /root/.ssh
finish
