#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
#
# vm_test.sh: ssh-proxy against a real VM: QEMU (TCG) boots the minimal guest (tests/vm/vm.sh) with
# rust-vmm's vhost-device-vsock as its multiplexer; real ssh on the host reaches the guest's real
# sshd through vsock-mux/, and ssh-proxy inside the guest uses real AF_VSOCK (vsock/1, the guest's
# own CID, vsock/2 to the host side of the multiplexer). Run once per tools/test.sh, outside Bazel.
#
#   tests/vm/vm_test.sh [--binary=SSH_PROXY]
#
# Without --binary it builds `bazel build -c opt //:ssh-proxy` (BAZEL_STARTUP_OPTIONS and
# BAZEL_BUILD_OPTIONS as in tools/demo.sh). Prints "PASS name", "FAIL name: why" or
# "SKIP name: why" per scenario and ends with "N passed, N failed, N skipped"; exits 1 if anything
# failed. When QEMU cannot run here at all every scenario is SKIPPED with the reason, never passed.
# VM_FLAVOURS=minimal (default) is the guest; see tests/vm/README.md for the systemd flavour.
# Every host-side process runs under tests/vm/no-vsock.c: this machine never opens AF_VSOCK.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=tests/check.sh
source "$here/../check.sh"
# shellcheck source=tests/vm/vm.sh
source "$here/vm.sh"
# shellcheck source=tests/vm/vm_test_sid.sh
source "$here/vm_test_sid.sh"
# shellcheck source=tests/vm/vm_test_bookworm.sh
source "$here/vm_test_bookworm.sh"

# skip and check_summary come from check.sh; summary ends the run with its verdict.
summary() {
  check_summary
  exit
}

# Every scenario, in order: a guest that does not boot fails each of them (they were not shown).
# VM_FLAVOURS (comma-separated; default minimal) says which guests run: minimal, systemd, sid,
# bookworm.
VM_FLAVOURS=${VM_FLAVOURS:-minimal}
SCENARIOS=(boot_minimal_guest mux_slash_prints_guest_kernel mux_percent_prints_guest_kernel
  scp_10MiB_to_guest scp_10MiB_from_guest relay_without_fdpass installed_fragment_as_is
  mux_nothing_listening_exit_69 mux_ok_and_banner_in_one_read mux_verbose_output
  guest_vsock_1 guest_vsock_local guest_vsock_own_cid guest_vsock_2_to_host guest_vsock_host_name
  guest_nothing_listening_exit_69 guest_host_port_timeout_exit_75 guest_verbose_output
  teardown_leaves_nothing teardown_when_killed_during_boot)
# machine/NAME against the real systemd-machined of the systemd guest (systemd_machine_tests).
MACHINE_SCENARIOS=(machined_register machine_dry_run_each_path machine_verbose_names_the_scope
  ssh_machine_vsock_cid ssh_machine_unix_address ssh_machine_vsock_address_percent
  ssh_machine_mux_address ssh_machine_dot_host machine_no_ssh_address_69 machine_recursive_address_76
  machine_no_such_machine_69 ssh_machine_nspawn_container machine_user_scope)
SYSTEMD_SCENARIOS=(boot_systemd_guest systemd_mux_prints_guest_kernel
  systemd_pid1_257_with_sshd_on_vsock systemd_machined_not_started_is_not_running
  systemd_machined_runs systemd_guest_vsock_1
  systemd_guest_dot_host "${MACHINE_SCENARIOS[@]}" systemd_teardown_leaves_nothing)
ALL=()
for flavour in ${VM_FLAVOURS//,/ }; do
  case $flavour in
    minimal) ALL+=("${SCENARIOS[@]}") ;;
    systemd) ALL+=("${SYSTEMD_SCENARIOS[@]}") ;;
    sid) ALL+=("${SID_SCENARIOS[@]}") ;;
    bookworm) ALL+=("${BOOKWORM_SCENARIOS[@]}") ;;
    *)
      echo "VM_FLAVOURS: unknown flavour \"$flavour\" (minimal, systemd, sid, bookworm)" >&2
      exit 2
      ;;
  esac
done

BIN=""
for arg in "$@"; do
  case $arg in
    --binary=*) BIN=${arg#*=} ;;
    *)
      echo "usage: $0 [--binary=SSH_PROXY]" >&2
      exit 2
      ;;
  esac
done

# The systemd guest's machine/ scenarios run tests/e2e's multiplexer emulator inside the guest (a
# VM registered with an sshAddress of vsock-mux/...): built here, copied in over ssh.
MUX_EMULATOR=""
if [[ ,$VM_FLAVOURS, == *,systemd,* || ,$VM_FLAVOURS, == *,sid,* ]]; then
  read -ra startup <<<"${BAZEL_STARTUP_OPTIONS:-}"
  if (cd "$root" && bazel "${startup[@]}" build -c opt //tests/e2e:mux_emulator >&2); then
    MUX_EMULATOR=$(cd "$root" && bazel "${startup[@]}" info -c opt bazel-bin 2>/dev/null)/tests/e2e/mux_emulator
  fi
fi

if reason=$(vm_skip_reason); then
  for s in "${ALL[@]}"; do skip "$s" "$reason"; done
  summary
fi

if [[ -z $BIN ]]; then
  read -ra startup <<<"${BAZEL_STARTUP_OPTIONS:-}"
  read -ra build_opts <<<"${BAZEL_BUILD_OPTIONS:-}"
  if ! (cd "$root" && bazel "${startup[@]}" build -c opt "${build_opts[@]}" //:ssh-proxy >&2); then
    for s in "${ALL[@]}"; do fail "$s" "bazel build -c opt //:ssh-proxy failed"; done
    summary
  fi
  BIN=$(cd "$root" && bazel "${startup[@]}" info -c opt "${build_opts[@]}" bazel-bin 2>/dev/null)/ssh-proxy
fi
BIN=$(abspath "$BIN")

OUT=""
ERR=""
RC=0
# run CMD...: OUT, ERR and RC of CMD (stdin /dev/null).
run() {
  OUT=$("$@" 2>"$VM_DIR/stderr" </dev/null)
  RC=$?
  ERR=$(<"$VM_DIR/stderr")
}
# gssh ARGS...: ssh into the current guest through its multiplexer ($MUX), the binary under test
# as ProxyCommand (vm_ssh).
MUX=""
# shellcheck disable=SC2317  # reached; shellcheck loses track after summary's exit.
gssh() { vm_ssh "vsock-mux$MUX" "$@"; }
detail() { printf 'rc=%s stdout=[%s] stderr=[%s]' "$RC" "${OUT:0:400}" "${ERR:0:600}"; }
# expect NAME WANT [CONTEXT]: NAME passes if the last run exited 0 and printed exactly WANT.
expect() {
  if [[ $RC == 0 && $OUT == "$2" ]]; then
    pass "$1"
  else
    fail "$1" "${3:+$3; }want [$2]; $(detail)"
  fi
}

trap vm_stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
VM_SSH_PROXY=$BIN
VM_REPO=$root
# start_flavour FLAVOUR GUEST SCENARIO...: boots the FLAVOUR guest and returns 0; if it does not
# boot, reports every SCENARIO as skipped with VM_SKIP_REASON when vm.sh set one (sid moved, no
# debootstrap), else as failed ("the GUEST did not boot"), stops what started and returns 1.
start_flavour() {
  local flavour=$1 guest=$2 s
  shift 2
  VM_SKIP_REASON=""
  VM_FLAVOUR=$flavour vm_start && return 0
  for s in "$@"; do
    if [[ -n $VM_SKIP_REASON ]]; then
      skip "$s" "$VM_SKIP_REASON"
    else
      fail "$s" "the $guest did not boot (see the vm: lines above)"
    fi
  done
  vm_stop
  return 1
}

# The minimal guest: every point of issue 9 against a busybox initramfs guest.
minimal_tests() {
  start_flavour minimal guest "${SCENARIOS[@]}" || return
  echo "accelerator: $VM_ACCEL_USED; guest kernel $VM_KERNEL_RELEASE; sshd answered $VM_BOOT_MS ms after qemu started"
  pass boot_minimal_guest
  MUX=$VM_MUX
  CID=${VM_CID:-42}
  host_kernel=$(uname -r)

  # --- host -> guest through the real multiplexer -----------------------------------------------------
  if [[ $host_kernel == "$VM_KERNEL_RELEASE" ]]; then
    # Then uname -r could not tell the two apart; the guest's hostname still can.
    echo "note: the host runs the guest's kernel release; checking the guest's hostname too"
  fi
  run vm_ssh "vsock-mux$MUX" 'uname -r; hostname'
  expect mux_slash_prints_guest_kernel "$VM_KERNEL_RELEASE"$'\n'ssh-proxy-guest
  run vm_ssh "vsock-mux%${MUX#/}" 'uname -r; hostname'
  expect mux_percent_prints_guest_kernel "$VM_KERNEL_RELEASE"$'\n'ssh-proxy-guest

  # scp cannot take a host with "/": an alias whose ProxyCommand names the multiplexer.
  direct=$VM_DIR/direct_config
  {
    echo "Host vm"
    echo "  ProxyCommand $BIN vsock-mux$MUX %p"
    echo "  ProxyUseFdpass yes"
    cat "$VM_DIR/ssh_config"
  } >"$direct"
  head -c 10485760 /dev/urandom >"$VM_DIR/up"
  up_sum=$(sha256sum <"$VM_DIR/up" | cut -d' ' -f1)
  run timeout -k 5 180 "$VM_NO_VSOCK" scp -q -F "$direct" "$VM_DIR/up" vm:/tmp/up
  scp_rc=$RC scp_err=$ERR
  run gssh 'sha256sum </tmp/up; wc -c </tmp/up'
  if [[ $scp_rc == 0 && $OUT == "$up_sum  -"$'\n'10485760 ]]; then
    pass scp_10MiB_to_guest
  else
    fail scp_10MiB_to_guest "scp rc=$scp_rc [$scp_err]; want $up_sum; $(detail)"
  fi
  run gssh 'head -c 10485760 /dev/urandom >/tmp/down && sha256sum </tmp/down'
  down_sum=${OUT%% *}
  run timeout -k 5 180 "$VM_NO_VSOCK" scp -q -F "$direct" vm:/tmp/down "$VM_DIR/down"
  got_sum=$(sha256sum <"$VM_DIR/down" 2>/dev/null | cut -d' ' -f1)
  if [[ $RC == 0 && ${#down_sum} == 64 && $got_sum == "$down_sum" && $(stat -c %s "$VM_DIR/down") == 10485760 ]]; then
    pass scp_10MiB_from_guest
  else
    fail scp_10MiB_from_guest "guest sum [$down_sum], received [$got_sum]; $(detail)"
  fi
  rm -f "$VM_DIR/up" "$VM_DIR/down"

  # Relay mode: without ProxyUseFdpass ssh gives ssh-proxy a pipe and it carries the bytes itself.
  run timeout -k 5 120 "$VM_NO_VSOCK" ssh -F "$VM_DIR/ssh_config" \
    -o "ProxyCommand=$BIN -v '%n' %p" -o ProxyUseFdpass=no "vsock-mux$MUX" 'uname -r; head -c 100000 /dev/zero | wc -c'
  if [[ $RC == 0 && $OUT == "$VM_KERNEL_RELEASE"$'\n'100000 && $ERR == *"relaying (stdout is not a UNIX socket)"* ]]; then
    pass relay_without_fdpass
  else
    fail relay_without_fdpass "$(detail)"
  fi

  # The fragment tools/install.sh writes, included as is: no ProxyCommand of our own.
  inst=$VM_DIR/inst
  if "$root/tools/install.sh" --binary="$BIN" --prefix="$inst/usr" --sysconfdir="$inst/etc" >/dev/null; then
    frag=$inst/etc/ssh/ssh_config.d/20-ssh-proxy.conf
    {
      echo "Include $frag"
      cat "$VM_DIR/ssh_config"
    } >"$VM_DIR/installed_config"
    run "$VM_NO_VSOCK" ssh -G -F "$VM_DIR/installed_config" "vsock-mux$MUX"
    g_ok=0
    [[ $OUT == *"proxycommand $inst/usr/libexec/ssh-proxy '%n' %p"* && $OUT == *"proxyusefdpass yes"* ]] && g_ok=1
    run timeout -k 5 120 "$VM_NO_VSOCK" ssh -F "$VM_DIR/installed_config" "vsock-mux$MUX" uname -r
    if ((g_ok)) && [[ $RC == 0 && $OUT == "$VM_KERNEL_RELEASE" ]]; then
      pass installed_fragment_as_is
    else
      fail installed_fragment_as_is "ssh -G proxycommand ok=$g_ok; $(detail)"
    fi
  else
    fail installed_fragment_as_is "tools/install.sh failed"
  fi

  # The real multiplexer closes a connection to a guest port with nothing listening, without a reply.
  run "$VM_NO_VSOCK" "$BIN" "vsock-mux$MUX" 2222
  direct_rc=$RC direct_err=$ERR
  run vm_ssh -p 2222 "vsock-mux$MUX" true
  if [[ $direct_rc == 69 && $direct_err == *"nothing listening on guest port 2222"* &&
    $RC == 255 && $ERR == *"nothing listening on guest port 2222"* ]]; then
    pass mux_nothing_listening_exit_69
  else
    fail mux_nothing_listening_exit_69 "ssh-proxy rc=$direct_rc [$direct_err]; ssh: $(detail)"
  fi

  # The OK line and sshd's banner in one read: strace delays ssh-proxy's first recvfrom (the MSG_PEEK
  # of the reply) by 2 s, so the guest's banner is queued behind "OK 22\n" when it reads; ssh-proxy
  # must consume exactly the 6 bytes of the reply and leave the banner for ssh.
  trace=$VM_DIR/strace.log
  run timeout -k 5 120 "$VM_NO_VSOCK" ssh -F "$VM_DIR/ssh_config" -o ProxyUseFdpass=yes \
    -o "ProxyCommand=strace -o $trace -s 128 -e trace=recvfrom -e inject=recvfrom:delay_enter=2000000:when=1 $BIN '%n' %p" \
    "vsock-mux$MUX" uname -r
  peek=$(grep -m1 'MSG_PEEK' "$trace" 2>/dev/null)
  consume=$(grep -v MSG_PEEK "$trace" 2>/dev/null | grep -m1 'recvfrom')
  if [[ $RC == 0 && $OUT == "$VM_KERNEL_RELEASE" && $peek == *'"OK 22\nSSH-2.0-'* &&
    $consume == *'"OK 22\n", 6,'*'= 6' ]]; then
    pass mux_ok_and_banner_in_one_read
  else
    fail mux_ok_and_banner_in_one_read "peek [$peek] consume [$consume]; $(detail)"
  fi

  run timeout -k 5 120 "$VM_NO_VSOCK" ssh -F "$VM_DIR/ssh_config" -o "ProxyCommand=$BIN -v '%n' %p" \
    -o ProxyUseFdpass=yes "vsock-mux$MUX" true
  want_lines=("ssh-proxy: debug: connecting to vsock-mux$MUX port 22 (timeout"
    "ssh-proxy: debug: connected" "ssh-proxy: debug: sent CONNECT 22"
    "ssh-proxy: debug: multiplexer replied OK 22" "ssh-proxy: debug: passed the connection to ssh")
  missing=""
  for w in "${want_lines[@]}"; do [[ $ERR == *"$w"* ]] || missing+="[$w] "; done
  if [[ $RC == 0 && -z $missing ]]; then
    pass mux_verbose_output
  else
    fail mux_verbose_output "missing $missing; $(detail)"
  fi

  # --- inside the guest: real AF_VSOCK ------------------------------------------------------------------
  # The guest's ssh uses the fragment tools/install.sh installed there (/usr/libexec/ssh-proxy).
  guest_ssh_check() {
    local name=$1 host=$2 want=$3
    shift 3
    run gssh "ssh $* $host 'uname -r; hostname'"
    expect "$name" "$want" "in the guest: ssh $* $host"
  }
  guest_ssh_check guest_vsock_1 vsock/1 "$VM_KERNEL_RELEASE"$'\n'ssh-proxy-guest
  guest_ssh_check guest_vsock_local vsock/local "$VM_KERNEL_RELEASE"$'\n'ssh-proxy-guest
  guest_ssh_check guest_vsock_own_cid "vsock/$CID" "$VM_KERNEL_RELEASE"$'\n'ssh-proxy-guest

  # vsock/2 port P reaches the host's mux.sock_P: the host's own sshd there.
  if vm_host_sshd 2222; then
    guest_ssh_check guest_vsock_2_to_host vsock/2 "$host_kernel"$'\n'"$(hostname)" -p 2222
    guest_ssh_check guest_vsock_host_name vsock/host "$host_kernel"$'\n'"$(hostname)" -p 2222
  else
    fail guest_vsock_2_to_host "could not start the host-side sshd on ${MUX}_2222"
    fail guest_vsock_host_name "could not start the host-side sshd on ${MUX}_2222"
  fi

  # A guest port with nothing listening: the guest's kernel resets (ECONNRESET) -> 69.
  run gssh "for t in vsock/1 vsock/$CID; do /usr/libexec/ssh-proxy \$t 4444 </dev/null; echo \"rc=\$?\"; done"
  if [[ $RC == 0 && $OUT == $'rc=69\nrc=69' && $ERR == *"vsock/1 port 4444"* && $ERR == *"vsock/$CID port 4444"* ]]; then
    pass guest_nothing_listening_exit_69
  else
    fail guest_nothing_listening_exit_69 "$(detail)"
  fi

  # A host port with no listener: the multiplexer never answers, so only the connect timeout ends
  # it. 4 s is twice the kernel's default (2 s): ending at 4 s shows SO_VM_SOCKETS_CONNECT_TIMEOUT
  # was set from --timeout.
  run gssh "a=\$(cut -d' ' -f1 /proc/uptime); /usr/libexec/ssh-proxy --timeout=4s vsock/2 5999 </dev/null; rc=\$?; b=\$(cut -d' ' -f1 /proc/uptime); echo \"\$rc \$a \$b\""
  read -r t_rc t_a t_b <<<"$OUT"
  elapsed=$(awk -v a="${t_a:-0}" -v b="${t_b:-0}" 'BEGIN { printf "%.2f", b - a }')
  if [[ $t_rc == 75 ]] && awk -v e="$elapsed" 'BEGIN { exit !(e >= 3.9 && e <= 5.0) }' &&
    [[ $ERR == *"vsock/2 port 5999"* ]]; then
    pass guest_host_port_timeout_exit_75
    echo "  (--timeout=4s ended after $elapsed s of guest time)"
  else
    fail guest_host_port_timeout_exit_75 "elapsed $elapsed s (want 3.9..5.0); $(detail)"
  fi

  run gssh "ssh -o 'ProxyCommand=/usr/libexec/ssh-proxy -v %n %p' vsock/1 true"
  want_lines=("ssh-proxy: debug: connecting to vsock/1 port 22 (timeout"
    "ssh-proxy: debug: connect timeout set to" "ssh-proxy: debug: connected"
    "ssh-proxy: debug: passed the connection to ssh")
  missing=""
  for w in "${want_lines[@]}"; do [[ $ERR == *"$w"* ]] || missing+="[$w] "; done
  if [[ $RC == 0 && -z $missing && $ERR != *CONNECT* ]]; then
    pass guest_verbose_output
  else
    fail guest_verbose_output "missing $missing; $(detail)"
  fi

  # --- teardown ------------------------------------------------------------------------------------
  vm_stop
  left=$(vm_leftovers)
  if [[ -z $left ]]; then
    pass teardown_leaves_nothing
  else
    fail teardown_leaves_nothing "$left"
  fi
  # Another exit path: a caller killed (SIGTERM) while its guest is still booting: as soon as qemu
  # runs, before the guest's init has said it is ready. (The child's last sleeps are short: bash
  # runs a trap only between commands.)
  notify=$(mktemp /tmp/ssh-proxy-vm-notify.XXXXXX)
  VM_DIR_NOTIFY=$notify VM_SSH_PROXY=$BIN VM_REPO=$root bash -c '
    source "$1"
    trap vm_stop EXIT
    trap "exit 143" TERM
    vm_start
    while :; do sleep 0.2; done' booting "$here/vm.sh" >/dev/null 2>&1 &
  child=$!
  dir=""
  pids=()
  for ((i = 0; i < 1200; i++)); do
    dir=$(<"$notify")
    if [[ -n $dir ]]; then
      # What is running for that guest (qemu, vhost-device-vsock and their wrappers).
      pids=()
      qemu=0
      for p in /proc/[0-9]*; do
        cmd=$({ tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null)
        if [[ $cmd == *"$dir/"* ]]; then
          pids+=("${p#/proc/}")
          [[ $cmd == qemu-system-x86_64* ]] && qemu=1
        fi
      done
      ((qemu)) && break
    fi
    sleep 0.05
  done
  booting=$(grep -c '^ssh-proxy-vm: ready' "$dir/console.log" 2>/dev/null)
  kill -TERM "$child"
  for ((i = 0; i < 600; i++)); do
    kill -0 "$child" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$child" 2>/dev/null; then
    kill -KILL "$child"
    echo "  (the killed caller did not exit within 60 s)"
  fi
  wait "$child"
  child_rc=$?
  left=$(vm_leftovers "$dir" "${pids[@]}")
  rm -f "$notify"
  if [[ -n $dir && ${#pids[@]} -ge 2 && $child_rc == 143 && -z $left ]]; then
    pass teardown_when_killed_during_boot
    echo "  (killed with ${#pids[@]} processes running, guest ready lines: ${booting:-0}; all gone)"
  else
    fail teardown_when_killed_during_boot "dir [$dir] pids [${pids[*]}] rc=$child_rc left [$left]"
    # Do not leave them behind ourselves.
    for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
    [[ -n $dir ]] && rm -rf -- "$dir"
  fi

}

# The systemd guest: trixie userspace, systemd >= 257 as PID 1, its own sshd on vsock::22 (systemd's
# ssh generator), systemd-machined. What the machine/NAME work needs to start from.
systemd_tests() {
  start_flavour systemd "systemd guest" "${SYSTEMD_SCENARIOS[@]}" || return
  echo "systemd guest: sshd answered $VM_BOOT_MS ms after qemu started (accelerator $VM_ACCEL_USED)"
  pass boot_systemd_guest
  MUX=$VM_MUX
  run gssh 'uname -r; hostname'
  expect systemd_mux_prints_guest_kernel "$VM_KERNEL_RELEASE"$'\n'ssh-proxy-systemd
  run gssh 'readlink /proc/1/exe; systemctl --version | sed -n "1s/^systemd \([0-9]*\).*/\1/p"; systemctl list-sockets --no-legend --no-pager | grep -c "vsock:.*:22"'
  local exe version vsock_sockets
  { read -r exe; read -r version; read -r vsock_sockets; } <<<"$OUT"
  if [[ $RC == 0 && $exe == */systemd && $version =~ ^[0-9]+$ && $version -ge 257 && ${vsock_sockets:-0} -ge 1 ]]; then
    pass systemd_pid1_257_with_sshd_on_vsock
    echo "  (PID 1 is $exe, systemd $version)"
  else
    fail systemd_pid1_257_with_sshd_on_vsock "want systemd >= 257 as PID 1 and a vsock :22 socket unit; $(detail)"
  fi
  # Before machined first runs (257 starts it on demand), tmpfiles has made /run/systemd/machines
  # and there is no varlink socket, as on 252: still "not running", never "older than 256".
  run gssh 'test -d /run/systemd/machines && echo statedir; systemctl is-active systemd-machined; /usr/libexec/ssh-proxy machine/x 22; echo "exit $?"'
  if [[ $OUT == $'statedir\ninactive\nexit 69' && $ERR == "ssh-proxy: cannot resolve machine/x: systemd-machined is not running ("* ]]; then
    pass systemd_machined_not_started_is_not_running
  else
    fail systemd_machined_not_started_is_not_running "$(detail)"
  fi
  run gssh 'systemctl start systemd-machined && systemctl is-active systemd-machined && test -S /run/systemd/machine/io.systemd.Machine && echo socket'
  expect systemd_machined_runs active$'\n'socket
  # Inside: the fragment tools/install.sh put in ssh_config.d sorts before systemd's own
  # 20-systemd-ssh-proxy.conf, so ssh-proxy handles vsock/1 and .host.
  run gssh 'ssh -G vsock/1 | grep "^proxycommand"; ssh vsock/1 hostname'
  expect systemd_guest_vsock_1 "proxycommand /usr/libexec/ssh-proxy '%n' %p"$'\n'ssh-proxy-systemd
  run gssh 'ssh .host hostname'
  expect systemd_guest_dot_host ssh-proxy-systemd "ssh .host (unix/run/ssh-unix-local/socket) in the guest"
  systemd_machine_tests
  vm_stop
  left=$(vm_leftovers)
  if [[ -z $left ]]; then
    pass systemd_teardown_leaves_nothing
  else
    fail systemd_teardown_leaves_nothing "$left"
  fi
}

# gscript SCRIPT: runs the shell script SCRIPT in the current guest as root (sent base64-encoded,
# so that its quotes survive ssh's command line), with OUT, ERR and RC set.
gscript() {
  run gssh "echo $(base64 -w0 <<<"$1") | base64 -d | sh"
}

# machine/NAME against the real systemd-machined (systemd >= 257) of the systemd guest: machines
# registered with varlinkctl (machined refuses CIDs below 3, so the VM with a CID has the guest's
# own CID, which vsock loopback turns into the guest's own sshd), and real ssh inside the guest
# through the fragment tools/install.sh put there.
systemd_machine_tests() {
  local cid=${VM_CID:-42} proxy=/usr/libexec/ssh-proxy
  # Each machine gets its own leader (machined keys machines by the leader's unit).
  gscript "set -e
reg() {
  systemd-run --quiet --unit=lead-\$1 sleep infinity
  pid=\$(systemctl show -P MainPID lead-\$1)
  varlinkctl call /run/systemd/machine/io.systemd.Machine io.systemd.Machine.Register \
    \"{\\\"name\\\":\\\"\$1\\\",\\\"class\\\":\\\"vm\\\",\\\"leader\\\":\$pid\$2}\" >/dev/null
}
reg vmcid ',\"vSockCid\":$cid'
reg vmunix ',\"sshAddress\":\"unix/run/ssh-unix-local/socket\"'
reg vmvsock ',\"sshAddress\":\"vsock/1\"'
reg vmnone ''
reg vmbad ',\"sshAddress\":\"machine/vmcid\"'
varlinkctl call /run/systemd/machine/io.systemd.Machine io.systemd.Machine.List '{\"name\":\"vmunix\"}' | tr -d ' \\n'
echo
echo registered"
  if [[ $RC == 0 && $OUT == *'"sshAddress":"unix/run/ssh-unix-local/socket"'*$'\n'registered ]]; then
    pass machined_register
    echo "  (machined's List for vmunix: ${OUT%%$'\n'*})"
  else
    fail machined_register "$(detail)"
  fi

  run gssh "for m in vmcid vmunix vmvsock .host; do $proxy --dry-run machine/\$m 22; done"
  local want="vsock cid=$cid port=22"$'\n'"unix path=/run/ssh-unix-local/socket"$'\n'
  want+="vsock cid=1 port=22"$'\n'"unix path=/run/ssh-unix-local/socket"
  expect machine_dry_run_each_path "$want"

  # 257 has no per-user machined: -v says the user scope is not running and the system scope
  # answered, with its reply.
  run gssh "$proxy -v --dry-run machine/vmcid 2222"
  if [[ $RC == 0 && $OUT == "vsock cid=$cid port=2222" &&
    $ERR == *"systemd-machined (user scope) is not running: /run/user/0/systemd/machine/io.systemd.Machine"* &&
    $ERR == *'systemd-machined (system scope) replied: "{\"parameters\":{\"name\":\"vmcid\"'*"vSockCid\\\":$cid"* ]]; then
    pass machine_verbose_names_the_scope
  else
    fail machine_verbose_names_the_scope "$(detail)"
  fi

  # Real ssh, through the fragment (Host ... machine/* machine%* ...), one per resolution path.
  run gssh 'ssh -G machine/vmcid | grep "^proxycommand"; ssh machine/vmcid hostname'
  expect ssh_machine_vsock_cid "proxycommand /usr/libexec/ssh-proxy '%n' %p"$'\n'ssh-proxy-systemd
  run gssh 'ssh machine/vmunix hostname'
  expect ssh_machine_unix_address ssh-proxy-systemd
  run gssh 'ssh machine%vmvsock hostname'
  expect ssh_machine_vsock_address_percent ssh-proxy-systemd
  # sshAddress vsock-mux/...: tests/e2e's emulator inside the guest (its firecracker scenario: "OK
  # <n>" and the banner in one write), guest port 2222 bridged to the guest's sshd; ssh -p 2222
  # shows that PORT reaches the CONNECT line.
  if [[ -x $MUX_EMULATOR ]]; then
    OUT=$(vm_ssh "vsock-mux$MUX" 'cat >/usr/local/bin/mux_emulator && chmod 755 /usr/local/bin/mux_emulator && echo copied' \
      <"$MUX_EMULATOR" 2>"$VM_DIR/stderr")
    gscript "set -e
systemd-run --quiet --unit=mux-vmmux /usr/local/bin/mux_emulator --listen=/run/vmmux.vsock \
  --backend=2222:/run/ssh-unix-local/socket --log=/run/vmmux.log --ready=/run/vmmux.ready
for i in \$(seq 100); do [ -e /run/vmmux.ready ] && break; sleep 0.1; done
systemd-run --quiet --unit=lead-vmmux sleep infinity
pid=\$(systemctl show -P MainPID lead-vmmux)
varlinkctl call /run/systemd/machine/io.systemd.Machine io.systemd.Machine.Register \
  \"{\\\"name\\\":\\\"vmmux\\\",\\\"class\\\":\\\"vm\\\",\\\"leader\\\":\$pid,\\\"sshAddress\\\":\\\"vsock-mux/run/vmmux.vsock\\\"}\" >/dev/null
$proxy --dry-run machine/vmmux 2222
ssh -p 2222 machine/vmmux hostname
cat /run/vmmux.log"
    if [[ $RC == 0 && $OUT == "vsock-mux path=/run/vmmux.vsock port=2222"$'\n'ssh-proxy-systemd$'\n''CONNECT 2222\n'* ]]; then
      pass ssh_machine_mux_address
    else
      fail ssh_machine_mux_address "$(detail)"
    fi
  else
    fail ssh_machine_mux_address "bazel build -c opt //tests/e2e:mux_emulator failed"
  fi
  run gssh 'ssh machine/.host hostname'
  expect ssh_machine_dot_host ssh-proxy-systemd

  # The errors, from the real machined's answers.
  run gssh "$proxy machine/vmnone 22; echo \"exit \$?\""
  if [[ $OUT == "exit 69" && $ERR == "ssh-proxy: cannot resolve machine/vmnone: machine vmnone has no SSH address"* ]]; then
    pass machine_no_ssh_address_69
  else
    fail machine_no_ssh_address_69 "$(detail)"
  fi
  run gssh "$proxy machine/vmbad 22; echo \"exit \$?\""
  if [[ $OUT == "exit 76" && $ERR == *'"sshAddress" "machine/vmcid" is not allowed there'* ]]; then
    pass machine_recursive_address_76
  else
    fail machine_recursive_address_76 "$(detail)"
  fi
  run gssh "$proxy machine/nosuch 22; echo \"exit \$?\"; ssh machine/nosuch true; echo \"ssh exit \$?\""
  if [[ $OUT == "exit 69"$'\n'"ssh exit 255" && $ERR == "ssh-proxy: cannot resolve machine/nosuch: no machine named nosuch"* ]]; then
    pass machine_no_such_machine_69
  else
    fail machine_no_such_machine_69 "$(detail)"
  fi

  # An nspawn container: systemd-nspawn registers it (class container, service systemd-nspawn)
  # and bind-mounts /run/systemd/nspawn/unix-export/c1 at /run/host/unix-export inside, where the
  # container's sshd listens on "ssh" (systemd-socket-activate running sshd -i per connection,
  # the guest's own /usr, /etc and /root shared read-only, so its host key and root's key).
  gscript "set -e
t=/var/lib/machines/c1
mkdir -p \$t/usr \$t/etc \$t/root \$t/proc \$t/sys \$t/dev \$t/run \$t/tmp \$t/var/tmp
for l in bin sbin lib lib64; do [ -e \$t/\$l ] || ln -s usr/\$l \$t/\$l; done
systemd-run --quiet --unit=ct-c1 -p Delegate=yes systemd-nspawn --quiet --keep-unit --register=yes -D \$t \
  --machine=c1 --bind-ro=/usr --bind-ro=/etc --bind-ro=/root \
  /bin/sh -c 'mkdir -p /run/sshd && exec systemd-socket-activate --inetd -a -l /run/host/unix-export/ssh /usr/sbin/sshd -i'
for i in \$(seq 100); do [ -S /run/systemd/nspawn/unix-export/c1/ssh ] && break; sleep 0.1; done
$proxy --dry-run machine/c1 22
ssh machine/c1 hostname"
  expect ssh_machine_nspawn_container "unix path=/run/systemd/nspawn/unix-export/c1/ssh"$'\n'c1

  # The user scope: systemd 257 has no per-user machined (it came with 258). Shown, not faked.
  run gssh 'systemctl --version | sed -n "1s/^systemd \([0-9]*\).*/\1/p"; ls /usr/lib/systemd/user/ | grep -c machined || true'
  local v=${OUT%%$'\n'*}
  if [[ $v =~ ^[0-9]+$ && $v -ge 258 ]]; then
    fail machine_user_scope "systemd $v has a per-user machined; the user-scope scenario is not written yet"
  else
    skip machine_user_scope "systemd ${v:-?} in the guest has no per-user machined (258 and later do)"
  fi
}

started=$(vm_now_ms)
for flavour in ${VM_FLAVOURS//,/ }; do
  case $flavour in
    minimal) minimal_tests ;;
    systemd) systemd_tests ;;
    sid) sid_tests ;;
    bookworm) bookworm_tests ;;
  esac
done
echo "vm tests took $((($(vm_now_ms) - started) / 1000)) s (boot included)"
summary
