# shellcheck shell=bash
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
#
# vm_test_sid.sh: the sid flavour of tests/vm/vm_test.sh (sourced by it; uses its run, gssh,
# gscript, expect, pass, fail, skip, detail and MUX_EMULATOR). A Debian sid guest with systemd 262:
# the per-user systemd-machined for real (user@0 and its machined socket, as systemd ships them),
# machine/NAME resolved in the user scope first, and every machine/ registration reached through
# real ssh with ssh-proxy and with systemd's own systemd-ssh-proxy side by side. All in one boot.
# See tests/vm/README.md ("sid guest") for what it needed and the table.

SID_SCENARIOS=(boot_sid_guest sid_pid1_systemd_258_or_later sid_user_machined_runs
  sid_register_in_both_scopes machine_user_scope sid_user_scope_unix_address
  sid_both_scopes_user_wins sid_system_only_falls_through sid_user_scope_nspawn_path
  sid_nspawn_user_container sid_side_by_side_systemd_reaches_nothing_we_do_not
  sid_side_by_side_table_in_readme sid_stopped_machined_is_not_running sid_teardown_leaves_nothing)

# The side-by-side rows: label, host, port, what is registered, why the two differ (empty: they
# do not). Every registration the machine/ scenarios make, in both scopes.
SID_ROWS=(
  "vmcid|machine/vmcid|22|system: \`vSockCid\` 42 (the guest's own)|"
  "vmunix|machine/vmunix|22|system: \`sshAddress\` \`unix/run/ssh-unix-local/socket\`|systemd-ssh-proxy uses only \`vSockCid\` and refuses a machine without one; ssh-proxy connects to its \`sshAddress\`"
  "vmvsock|machine%vmvsock|22|system: \`sshAddress\` \`vsock/1\` (host written with \`%\`)|as vmunix"
  "vmmux|machine/vmmux|2222|system: \`sshAddress\` \`vsock-mux/run/vmmux.vsock\` (tests/e2e's multiplexer emulator)|as vmunix"
  "vmnone|machine/vmnone|22|system: neither|both refuse; ssh-proxy says what the record lacks"
  "vmbad|machine/vmbad|22|system: \`sshAddress\` \`machine/vmcid\` (recursive)|both refuse (systemd for want of a CID); ssh-proxy names the refused address, exit 76"
  "c1|machine/c1|22|system: \`systemd-nspawn --machine=c1\` container|"
  "dothost|.host|22|none (\`.host\`: \`/run/ssh-unix-local/socket\`)|"
  "machinedothost|machine/.host|22|machined's own \`.host\` record|"
  "nosuch|machine/nosuch|22|nothing|both refuse; systemd-ssh-proxy 262 prints nothing"
  "uonly|machine/uonly|22|user: \`vSockCid\` 42|"
  "uunix|machine/uunix|22|user: \`sshAddress\` \`unix/run/ssh-unix-local/socket\`|as vmunix"
  "both|machine/both|22|user: \`vSockCid\` 42; system: \`sshAddress\` of another sshd|"
  "uc1|machine/uc1|22|user: class container, service systemd-nspawn; an sshd on \`/run/user/0/systemd/nspawn/uc1/unix-export/ssh\`|"
)

# sid_side_by_side: runs every SID_ROWS host through real ssh in the guest, once with ssh-proxy's
# installed fragment and once with systemd's (/usr/lib/systemd/ssh_config.d), each ProxyCommand
# wrapped to record the proxy's own exit status. Sets SID_CMP: one line per row and proxy,
# "label<TAB>proxy<TAB>ssh_rc<TAB>proxy_rc<TAB>stdout<TAB>the proxy's message".
sid_side_by_side() {
  local row label host port script
  script=$(
    cat <<'EOF'
set -e
printf "#!/bin/sh\n\"\$@\"\nrc=\$?\necho \$rc >\"\$CMP_RC\"\nexit \$rc\n" >/usr/local/bin/rcwrap
chmod 755 /usr/local/bin/rcwrap
for p in ours systemd; do
  case $p in
    ours) f=/etc/ssh/ssh_config.d/20-ssh-proxy.conf ;;
    systemd) f=/usr/lib/systemd/ssh_config.d/20-systemd-ssh-proxy.conf ;;
  esac
  { sed "s|^\([[:space:]]*ProxyCommand\) |\1 /usr/local/bin/rcwrap |" "$f"
    cat /etc/ssh/ssh_config.d/90-ssh-proxy-vm.conf; } >/etc/ssh/cmp-$p.conf
done
set +e
# one LABEL PROXY HOST PORT: one ssh, its line in /run/cmp/LABEL.PROXY.
one() {
  d=/run/cmp/$1.$2
  out=$(CMP_RC=$d.rc timeout 60 ssh -F /etc/ssh/cmp-$2.conf -p "$4" "$3" 'echo $(hostname)${SSH_PROXY_VM_TARGET:+/$SSH_PROXY_VM_TARGET}' 2>$d.err </dev/null)
  src=$?
  prc=$(cat $d.rc 2>/dev/null || echo -)
  msg=$(grep -v -e mm_receive_fd -e "proxy dialer" -e "^Connection closed" -e "^kex_exchange" -e "^Warning: Permanently" $d.err | head -n1)
  printf "%s\t%s\t%s\t%s\t%s\t%s\n" "$1" "$2" "$src" "$prc" "$out" "$msg" >$d
}
# cmp LABEL HOST PORT: both proxies at once (the guest has 2 vCPUs), then their lines in order.
cmp() {
  one "$1" ours "$2" "$3" &
  one "$1" systemd "$2" "$3"
  wait
  cat /run/cmp/$1.ours /run/cmp/$1.systemd
}
rm -rf /run/cmp && mkdir /run/cmp
EOF
  )
  script+=$'\n'
  for row in "${SID_ROWS[@]}"; do
    IFS='|' read -r label host port _ <<<"$row"
    script+="cmp $label '$host' $port"$'\n'
  done
  # 28 ssh logins under TCG: well past vm_ssh's default bound of 120 s on a loaded host.
  VM_SSH_TIMEOUT=900 gscript "$script"
  SID_CMP=$OUT
}

# sid_cmp_field LABEL PROXY N: field N (3 ssh_rc, 4 proxy_rc, 5 stdout, 6 message) of SID_CMP.
sid_cmp_field() {
  awk -F'\t' -v l="$1" -v p="$2" -v n="$3" '$1 == l && $2 == p { print $n; exit }' <<<"$SID_CMP"
}

# sid_table: the side-by-side table, Markdown, from SID_CMP and SID_ROWS.
sid_table() {
  local row label host port what why p reach cell msg
  echo "| ssh to | registered | ssh-proxy | systemd-ssh-proxy 262 | why they differ |"
  echo "|---|---|---|---|---|"
  for row in "${SID_ROWS[@]}"; do
    IFS='|' read -r label host port what why <<<"$row"
    local cells=()
    for p in ours systemd; do
      if [[ $(sid_cmp_field "$label" "$p" 3) == 0 ]]; then
        reach="reaches \`$(sid_cmp_field "$label" "$p" 5)\`"
      else
        reach="does not reach it"
      fi
      msg=$(sid_cmp_field "$label" "$p" 6)
      msg=${msg//|/\\|}
      ((${#msg} > 170)) && msg="${msg:0:170}…"
      cell="$reach, exit $(sid_cmp_field "$label" "$p" 4)"
      [[ -n $msg ]] && cell+=": \`$msg\`"
      cells+=("$cell")
    done
    [[ $port == 22 ]] || host="$host -p $port"
    echo "| \`$host\` | $what | ${cells[0]} | ${cells[1]} | ${why:-} |"
  done
}

sid_tests() {
  local flavour_started
  flavour_started=$(vm_now_ms)
  start_flavour sid "sid guest" "${SID_SCENARIOS[@]}" || return
  echo "sid guest: sshd answered $VM_BOOT_MS ms after qemu started (accelerator $VM_ACCEL_USED)"
  pass boot_sid_guest
  MUX=$VM_MUX
  local cid=${VM_CID:-42} proxy=/usr/libexec/ssh-proxy
  local U=/run/user/0/systemd/machine/io.systemd.Machine S=/run/systemd/machine/io.systemd.Machine

  run gssh 'readlink /proc/1/exe; systemctl --version | sed -n "1s/^systemd \([0-9]*\) (\(.*\))/\1 \2/p"'
  local exe version full
  { read -r exe; read -r version full; } <<<"$OUT"
  if [[ $RC == 0 && $exe == */systemd && $version =~ ^[0-9]+$ && $version -ge 258 ]]; then
    pass sid_pid1_systemd_258_or_later
    echo "  (PID 1 is $exe, systemd $full)"
  else
    fail sid_pid1_systemd_258_or_later "want systemd >= 258 as PID 1; $(detail)"
  fi

  # The per-user machined as systemd ships it: a user unit (systemd-machined.socket) of root's user
  # manager, which sshd's PAM session (libpam-systemd) starts. Linger keeps user@0 (and the machines
  # registered with its machined) between this test's ssh sessions.
  run gssh "loginctl enable-linger root
for i in \$(seq 100); do [ -S $U ] && break; sleep 0.1; done
systemctl is-active user@0.service; systemctl --user is-active systemd-machined.socket
systemctl --user show -P ExecStart systemd-machined.service | grep -o 'systemd-machined --user' | head -n1
test -S $U && echo socket"
  expect sid_user_machined_runs $'active\nactive\nsystemd-machined --user\nsocket'

  # Registrations: each with its own leader (machined keys machines by the leader's unit); user
  # scope leaders are units of the user manager. Two extra sshds, each telling which it is
  # (SetEnv SSH_PROXY_VM_TARGET): for the system scope's "both" and the user-scope nspawn path.
  local setup="set -e
reg() {
  if [ \$1 = user ]; then
    systemd-run --user --quiet --unit=lead-u-\$2 sleep infinity
    pid=\$(systemctl --user show -P MainPID lead-u-\$2); sock=$U
  else
    systemd-run --quiet --unit=lead-s-\$2 sleep infinity
    pid=\$(systemctl show -P MainPID lead-s-\$2); sock=$S
  fi
  varlinkctl call \$sock io.systemd.Machine.Register \"{\\\"name\\\":\\\"\$2\\\",\\\"leader\\\":\$pid\$3}\" >/dev/null
}
marked_sshd() {
  mkdir -p \$(dirname \$2)
  systemd-run \$3 --quiet --unit=sshd-\$1 systemd-socket-activate --inetd -a -l \$2 /usr/sbin/sshd -i -o SetEnv=SSH_PROXY_VM_TARGET=\$1
  for i in \$(seq 100); do [ -S \$2 ] && break; sleep 0.1; done
}
marked_sshd both-system /run/both-system.sock
marked_sshd uc1 /run/user/0/systemd/nspawn/uc1/unix-export/ssh --user
reg system vmcid ',\"class\":\"vm\",\"vSockCid\":$cid'
reg system vmunix ',\"class\":\"vm\",\"sshAddress\":\"unix/run/ssh-unix-local/socket\"'
reg system vmvsock ',\"class\":\"vm\",\"sshAddress\":\"vsock/1\"'
reg system vmnone ',\"class\":\"vm\"'
reg system vmbad ',\"class\":\"vm\",\"sshAddress\":\"machine/vmcid\"'
reg system both ',\"class\":\"vm\",\"sshAddress\":\"unix/run/both-system.sock\"'
reg user uonly ',\"class\":\"vm\",\"vSockCid\":$cid'
reg user uunix ',\"class\":\"vm\",\"sshAddress\":\"unix/run/ssh-unix-local/socket\"'
reg user both ',\"class\":\"vm\",\"vSockCid\":$cid'
reg user uc1 ',\"class\":\"container\",\"service\":\"systemd-nspawn\"'
t=/var/lib/machines/c1
mkdir -p \$t/usr \$t/etc \$t/root \$t/proc \$t/sys \$t/dev \$t/run \$t/tmp \$t/var/tmp
for l in bin sbin lib lib64; do [ -e \$t/\$l ] || ln -s usr/\$l \$t/\$l; done
systemd-run --quiet --unit=ct-c1 -p Delegate=yes systemd-nspawn --quiet --keep-unit --register=yes -D \$t \
  --machine=c1 --bind-ro=/usr --bind-ro=/etc --bind-ro=/root \
  /bin/sh -c 'mkdir -p /run/sshd && exec systemd-socket-activate --inetd -a -l /run/host/unix-export/ssh /usr/sbin/sshd -i'
for i in \$(seq 150); do [ -S /run/systemd/nspawn/c1/unix-export/ssh ] && break; sleep 0.1; done
"
  local mux_ok=0
  if [[ -x $MUX_EMULATOR ]] && vm_ssh "vsock-mux$MUX" \
    'cat >/usr/local/bin/mux_emulator && chmod 755 /usr/local/bin/mux_emulator' \
    <"$MUX_EMULATOR" 2>/dev/null; then
    mux_ok=1
    setup+="systemd-run --quiet --unit=mux-vmmux /usr/local/bin/mux_emulator --listen=/run/vmmux.vsock \
  --backend=2222:/run/ssh-unix-local/socket --log=/run/vmmux.log --ready=/run/vmmux.ready
for i in \$(seq 100); do [ -e /run/vmmux.ready ] && break; sleep 0.1; done
reg system vmmux ',\"class\":\"vm\",\"sshAddress\":\"vsock-mux/run/vmmux.vsock\"'
"
  fi
  setup+="for n in vmcid vmunix vmvsock vmnone vmbad both c1; do
  varlinkctl call $S io.systemd.Machine.List \"{\\\"name\\\":\\\"\$n\\\"}\" >/dev/null && echo \"system \$n\"
done
for n in uonly uunix both uc1; do
  varlinkctl call $U io.systemd.Machine.List \"{\\\"name\\\":\\\"\$n\\\"}\" >/dev/null && echo \"user \$n\"
done"
  gscript "$setup"
  local want_reg=$'system vmcid\nsystem vmunix\nsystem vmvsock\nsystem vmnone\nsystem vmbad\nsystem both\nsystem c1\nuser uonly\nuser uunix\nuser both\nuser uc1'
  expect sid_register_in_both_scopes "$want_reg" "$( ((mux_ok)) || echo 'mux emulator not copied; ')"

  # A name only in the user scope resolves there, through real ssh and the installed fragment.
  run gssh "$proxy -v --dry-run machine/uonly 22 2>&1 >/dev/null | grep -c 'is vsock cid=$cid port=22 (from systemd-machined (user scope))'; ssh machine/uonly hostname"
  expect machine_user_scope $'1\nssh-proxy-sid' "user-scope vSockCid $cid"
  run gssh "$proxy --dry-run machine/uunix 22; ssh machine/uunix hostname"
  expect sid_user_scope_unix_address $'unix path=/run/ssh-unix-local/socket\nssh-proxy-sid'
  # In both scopes: the user scope's (the guest's own CID), not the system scope's (an sshd that
  # says "both-system").
  run gssh "$proxy -v --dry-run machine/both 22 2>&1 >/dev/null | grep -c '(from systemd-machined (user scope))'; ssh machine/both 'echo \$(hostname)\${SSH_PROXY_VM_TARGET:+/\$SSH_PROXY_VM_TARGET}'; ssh -o 'ProxyCommand=$proxy unix/run/both-system.sock %p' x 'echo \$SSH_PROXY_VM_TARGET'"
  expect sid_both_scopes_user_wins $'1\nssh-proxy-sid\nboth-system' "the last line shows the system scope's sshd is there"
  # Only in the system scope: the user scope answers NoSuchMachine, the system scope resolves it.
  run gssh "$proxy -v --dry-run machine/vmcid 22 2>&1 >/dev/null | grep -e 'user scope) has no machine vmcid' -e 'from systemd-machined (system scope)' | sed 's/^ssh-proxy: debug: //'; ssh machine/vmcid hostname"
  expect sid_system_only_falls_through "systemd-machined (user scope) has no machine vmcid"$'\n'"machine/vmcid is vsock cid=$cid port=22 (from systemd-machined (system scope))"$'\n'ssh-proxy-sid
  # A user-scope nspawn record resolves to the user's runtime directory, where systemd 262 lays
  # out a container's export (runtime/systemd/nspawn/NAME/unix-export/ssh, as its ssh-proxy.c);
  # the system scope's c1 (a real nspawn container) has it there too. -v says which layout.
  run gssh "$proxy --dry-run machine/uc1 22; ssh machine/uc1 'echo \$(hostname)/\$SSH_PROXY_VM_TARGET'
$proxy -v --dry-run machine/c1 22 2>&1 | grep -c 'export socket /run/systemd/nspawn/c1/unix-export/ssh exists'"
  expect sid_user_scope_nspawn_path $'unix path=/run/user/0/systemd/nspawn/uc1/unix-export/ssh\nssh-proxy-sid/uc1\n1'

  # systemd-nspawn --user for real: it needs systemd-nsresourced for its user namespace. When that
  # cannot allocate one (this kernel's BPF), say so with nspawn's own words: a SKIP, not ours.
  gscript "systemctl start systemd-nsresourced.socket systemd-mountfsd.socket 2>&1
t=/var/lib/machines/u1
mkdir -p \$t/usr \$t/etc \$t/root \$t/proc \$t/sys \$t/dev \$t/run \$t/tmp \$t/var/tmp
for l in bin sbin lib lib64; do [ -e \$t/\$l ] || ln -s usr/\$l \$t/\$l; done
systemd-run --user --quiet --unit=ct-u1 -p Delegate=yes systemd-nspawn --user --quiet --keep-unit --register=yes -D \$t \
  --machine=u1 --bind-ro=/usr --bind-ro=/etc --bind-ro=/root \
  /bin/sh -c 'mkdir -p /run/sshd && exec systemd-socket-activate --inetd -a -l /run/host/unix-export/ssh /usr/sbin/sshd -i'
for i in \$(seq 100); do
  [ -S /run/user/0/systemd/nspawn/u1/unix-export/ssh ] && break
  systemctl --user -q is-failed ct-u1 && break
  sleep 0.1
done
if [ -S /run/user/0/systemd/nspawn/u1/unix-export/ssh ]; then
  $proxy --dry-run machine/u1 22; ssh machine/u1 hostname
else
  echo 'nspawn-failed:' \$(journalctl --user -u ct-u1 -o cat --no-pager | grep -v -e '^ct-u1' -e '^Started' -e '^Note:' | tail -n 1)
  journalctl -u systemd-nsresourced -o cat --no-pager | grep -i -e 'disabled' -e 'failed to load' | tail -n 2
fi"
  if [[ $OUT == "unix path=/run/user/0/systemd/nspawn/u1/unix-export/ssh"$'\n'u1 ]]; then
    pass sid_nspawn_user_container
  elif [[ $OUT == nspawn-failed:* ]]; then
    skip sid_nspawn_user_container "systemd-nspawn --user cannot run in this guest (bookworm's 6.1 kernel): $(tr '\n' ' ' <<<"${OUT#nspawn-failed: }")"
  else
    fail sid_nspawn_user_container "$(detail)"
  fi

  # Side by side with systemd's own proxy.
  sid_side_by_side
  local row label lost=""
  for row in "${SID_ROWS[@]}"; do
    label=${row%%|*}
    if [[ $(sid_cmp_field "$label" systemd 3) == 0 && ($(sid_cmp_field "$label" ours 3) != 0 ||
      $(sid_cmp_field "$label" ours 5) != "$(sid_cmp_field "$label" systemd 5)") ]]; then
      lost+="$label "
    fi
  done
  SID_TABLE=$(sid_table)
  printf '  %s\n' "${SID_TABLE//$'\n'/$'\n'  }"
  if [[ $RC == 0 && $(wc -l <<<"$SID_CMP") == $((2 * ${#SID_ROWS[@]})) && -z $lost ]]; then
    pass sid_side_by_side_systemd_reaches_nothing_we_do_not
  else
    fail sid_side_by_side_systemd_reaches_nothing_we_do_not "systemd-ssh-proxy reaches, ssh-proxy does not: [${lost% }]; $(detail)"
  fi
  # shellcheck disable=SC2154  # root: set by vm_test.sh, which sources this file.
  local readme=$root/tests/vm/README.md current
  current=$(sed -n '/^<!-- sid-side-by-side:begin -->$/,/^<!-- sid-side-by-side:end -->$/p' "$readme" | sed '1d;$d')
  if [[ $current == "$SID_TABLE" ]]; then
    pass sid_side_by_side_table_in_readme
  else
    local saved
    saved=$(mktemp /tmp/ssh-proxy-vm-sid-table.XXXXXX.md)
    echo "$SID_TABLE" >"$saved"
    fail sid_side_by_side_table_in_readme "tests/vm/README.md's table differs from this run's (saved in $saved): $(diff <(echo "$current") "$saved" | head -n 6 | tr '\n' ' ')"
  fi

  # machined >= 256 stopped in both scopes: its socket units leave the socket files, so this is
  # "not running" (ECONNREFUSED), never "older than 256", although /run/systemd/machines exists.
  run gssh "systemctl --user stop systemd-machined.socket systemd-machined.service 2>/dev/null
systemctl stop systemd-machined.socket systemd-machined.service 2>/dev/null
test -d /run/systemd/machines && echo statedir
$proxy machine/vmcid 22; echo \"exit \$?\""
  if [[ $OUT == $'statedir\nexit 69' && $ERR == "ssh-proxy: cannot resolve machine/vmcid: systemd-machined is not running ("* &&
    $ERR != *256* ]]; then
    pass sid_stopped_machined_is_not_running
  else
    fail sid_stopped_machined_is_not_running "$(detail)"
  fi

  vm_stop
  local left
  left=$(vm_leftovers)
  if [[ -z $left ]]; then
    pass sid_teardown_leaves_nothing
  else
    fail sid_teardown_leaves_nothing "$left"
  fi
  echo "sid guest: $((($(vm_now_ms) - flavour_started) / 1000)) s for the flavour, boot included"
}
