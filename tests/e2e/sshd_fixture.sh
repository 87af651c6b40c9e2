# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
#
# shellcheck shell=bash disable=SC2034  # FIXTURE_* variables are for the scripts sourcing this.
# sshd_fixture.sh: a throwaway sshd reachable over AF_UNIX, directly and through an emulated
# Firecracker vsock multiplexer. Sourced by tools/demo.sh and by tests/deb/in_chroot.sh (the
# Debian 12 chroot there has no python3; the Python tests use tests/testing/sshd_fixture.py, which
# makes the same sshd, keys and ssh_config). Sources tools/lib.sh (at ../../tools/lib.sh from here,
# as in the repository; Bazel: //tools:lib).
#
# Inputs (environment or shell variables, set before fixture_start):
#   SSH_PROXY      path of the ssh-proxy binary written into the ssh_config's ProxyCommand
#   MUX_EMULATOR   path of //tests/e2e:mux_emulator
#   UNIX_INETD     path of //tests/e2e:unix_inetd
#   FIXTURE_LIFETIME     seconds after which the daemons exit on their own (default 300)
#   FIXTURE_SSH_TIMEOUT  seconds fixture_ssh/fixture_scp may take (default 60)
#   TEST_TMPDIR, TMPDIR  where the fixture directory goes (TEST_TMPDIR first); if socket paths
#                        there would be too long for sockaddr_un, /tmp is used instead.
#
# fixture_start [SCENARIO] creates, in $FIXTURE_DIR:
#   host_ed25519{,.pub}, client_ed25519{,.pub}, authorized_keys, sshd_config, known_hosts,
#   ssh_config, sshd.sock (unix_inetd running `sshd -i`), sshd.log (sshd -E),
#   vm.sock + vm.log (mux_emulator, SCENARIO, default firecracker, backend 22 -> sshd.sock).
# and sets FIXTURE_DIR FIXTURE_SSHD_SOCK FIXTURE_VM_SOCK FIXTURE_VM_LOG FIXTURE_SSHD_LOG
# FIXTURE_SSH_CONFIG FIXTURE_USER. It installs an EXIT trap that calls fixture_stop (INT and TERM
# exit the shell, which runs it); a caller with its own EXIT trap must call fixture_stop itself.
#
# ssh_config: `Host *` runs `ProxyCommand $SSH_PROXY %n %p` with `ProxyUseFdpass yes`; host keys
# are checked strictly against known_hosts under the fixed `HostKeyAlias ssh-proxy-e2e` (the
# hosts are spelled many ways: unix/..., unix%..., vsock-mux/...). Two aliases with a fixed target
# exist for tools that cannot take a "/" in a host name (scp treats "host/..." as a local path):
#   vm-unix -> unix$FIXTURE_SSHD_SOCK,   vm-mux -> vsock-mux$FIXTURE_VM_SOCK
#
# Other functions: fixture_start_mux NAME SCENARIO (another emulator at $FIXTURE_DIR/NAME.sock,
# log NAME.log), fixture_ssh ARGS (ssh -F ssh_config, time-bounded), fixture_scp ARGS,
# fixture_stop. All waits are bounded.

# stop_pids, remove_dir and ssh_isolated_options.
# shellcheck source=tools/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../tools/lib.sh"

FIXTURE_DIR=""
FIXTURE_PIDS=()
FIXTURE_HOST_KEY_ALIAS="ssh-proxy-e2e"

fixture_log() { echo "fixture: $*" >&2; }

# fixture_wait_ready FILE PID NAME: waits (5 s at most) for a daemon's --ready file.
fixture_wait_ready() {
  local file=$1 pid=$2 name=$3 i
  for ((i = 0; i < 500; i++)); do
    [[ -e $file ]] && return 0
    if ! kill -0 "$pid" 2>/dev/null; then
      fixture_log "$name exited before it was ready"
      return 1
    fi
    sleep 0.01
  done
  fixture_log "$name was not ready after 5 s"
  return 1
}

# fixture_quote_proxy_arg WORD: WORD quoted for the shell ssh runs the ProxyCommand with, and with
# '%' doubled so that ssh's % expansion leaves it alone.
fixture_quote_proxy_arg() {
  local q
  printf -v q '%q' "$1"
  printf '%s' "${q//%/%%}"
}

fixture_make_dir() {
  local base=${TEST_TMPDIR:-${TMPDIR:-/tmp}}
  FIXTURE_DIR=$(mktemp -d "$base/sshfx.XXXXXX") || return 1
  # sockaddr_un holds 107 bytes; keep room for the longest socket name used here.
  if ((${#FIXTURE_DIR} + 20 > 107)); then
    rmdir "$FIXTURE_DIR"
    FIXTURE_DIR=$(mktemp -d /tmp/sshfx.XXXXXX) || return 1
    fixture_log "$base is too long for socket paths; using $FIXTURE_DIR"
  fi
  # mktemp's names suit ssh-proxy's address grammar and ssh's host name rules.
}

fixture_start() {
  local scenario=${1:-firecracker}
  local lifetime=${FIXTURE_LIFETIME:-300}
  local tool
  for tool in SSH_PROXY MUX_EMULATOR UNIX_INETD; do
    if [[ -z ${!tool:-} ]]; then
      fixture_log "$tool is not set"
      return 1
    fi
  done
  for tool in "$MUX_EMULATOR" "$UNIX_INETD" /usr/sbin/sshd ssh ssh-keygen; do
    if ! command -v "$tool" >/dev/null; then
      fixture_log "missing $tool (needs openssh-server and openssh-client)"
      return 1
    fi
  done

  fixture_make_dir || return 1
  trap fixture_stop EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM

  local d=$FIXTURE_DIR
  FIXTURE_USER=$(id -un)
  FIXTURE_SSHD_SOCK=$d/sshd.sock
  FIXTURE_VM_SOCK=$d/vm.sock
  FIXTURE_VM_LOG=$d/vm.log
  FIXTURE_SSHD_LOG=$d/sshd.log
  FIXTURE_SSH_CONFIG=$d/ssh_config

  ssh-keygen -q -N '' -t ed25519 -C fixture-host -f "$d/host_ed25519" </dev/null || return 1
  ssh-keygen -q -N '' -t ed25519 -C fixture-client -f "$d/client_ed25519" </dev/null || return 1
  cp "$d/client_ed25519.pub" "$d/authorized_keys"
  local host_type host_key
  read -r host_type host_key _ <"$d/host_ed25519.pub"
  echo "$FIXTURE_HOST_KEY_ALIAS $host_type $host_key" >"$d/known_hosts"

  cat >"$d/sshd_config" <<EOF
# Written by sshd_fixture.sh; sshd runs in inetd mode (sshd -i) behind unix_inetd.
HostKey $d/host_ed25519
AuthorizedKeysFile $d/authorized_keys
StrictModes no
UsePAM no
PidFile none
AllowUsers $FIXTURE_USER
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
AuthenticationMethods publickey
MaxAuthTries 3
LoginGraceTime 30
PrintMotd no
PrintLastLog no
UseDNS no
X11Forwarding no
AllowAgentForwarding no
AllowTcpForwarding no
PermitTunnel no
Subsystem sftp internal-sftp
LogLevel VERBOSE
EOF

  if [[ $(id -u) == 0 && ! -d /run/sshd ]]; then
    # sshd's pre-auth privilege separation chroots there when started as root.
    mkdir -p /run/sshd && chmod 0755 /run/sshd || return 1
  fi
  local err
  if ! err=$(/usr/sbin/sshd -t -f "$d/sshd_config" 2>&1); then
    fixture_log "sshd rejects the generated config: $err"
    return 1
  fi

  local proxy
  proxy=$(fixture_quote_proxy_arg "$SSH_PROXY")
  cat >"$FIXTURE_SSH_CONFIG" <<EOF
# Written by sshd_fixture.sh. Use with: ssh -F $FIXTURE_SSH_CONFIG HOST COMMAND
Host vm-unix
  ProxyCommand $proxy $(fixture_quote_proxy_arg "unix$FIXTURE_SSHD_SOCK") %p
Host vm-mux
  ProxyCommand $proxy $(fixture_quote_proxy_arg "vsock-mux$FIXTURE_VM_SOCK") %p
Host *
  ProxyCommand $proxy %n %p
  ProxyUseFdpass yes
  CheckHostIP no
  HostKeyAlias $FIXTURE_HOST_KEY_ALIAS
  UserKnownHostsFile $d/known_hosts
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  UpdateHostKeys no
  IdentityFile $d/client_ed25519
  IdentitiesOnly yes
  IdentityAgent none
  PasswordAuthentication no
  KbdInteractiveAuthentication no
  BatchMode yes
  User $FIXTURE_USER
  LogLevel ERROR
  ConnectTimeout 10
  ServerAliveInterval 10
  ServerAliveCountMax 3
$(ssh_isolated_options)
EOF

  "$UNIX_INETD" --listen="$FIXTURE_SSHD_SOCK" --ready="$d/sshd.ready" \
    --lifetime="$lifetime" --stderr="$d/inetd.log" \
    -- /usr/sbin/sshd -i -f "$d/sshd_config" -E "$FIXTURE_SSHD_LOG" &
  FIXTURE_PIDS+=("$!")
  fixture_wait_ready "$d/sshd.ready" "$!" unix_inetd || return 1

  fixture_start_mux vm "$scenario"
}

# fixture_start_mux NAME SCENARIO: another mux_emulator at $FIXTURE_DIR/NAME.sock (log
# $FIXTURE_DIR/NAME.log) with guest port 22 bridged to the sshd.
fixture_start_mux() {
  local name=$1 scenario=$2 d=$FIXTURE_DIR
  "$MUX_EMULATOR" --listen="$d/$name.sock" --scenario="$scenario" \
    --backend="22:$d/sshd.sock" --log="$d/$name.log" --ready="$d/$name.ready" \
    --lifetime="${FIXTURE_LIFETIME:-300}" &
  FIXTURE_PIDS+=("$!")
  fixture_wait_ready "$d/$name.ready" "$!" "mux_emulator $name" || return 1
  : >>"$d/$name.log"
}

# fixture_ssh ARGS...: ssh with the fixture's config, killed after FIXTURE_SSH_TIMEOUT seconds.
fixture_ssh() {
  timeout -k 5 "${FIXTURE_SSH_TIMEOUT:-60}" ssh -F "$FIXTURE_SSH_CONFIG" "$@"
}

# fixture_scp ARGS...: scp with the fixture's config, killed after FIXTURE_SSH_TIMEOUT seconds.
fixture_scp() {
  timeout -k 5 "${FIXTURE_SSH_TIMEOUT:-60}" scp -q -F "$FIXTURE_SSH_CONFIG" "$@"
}

# fixture_stop: stops the daemons (SIGTERM, SIGKILL after 3 s) and removes $FIXTURE_DIR. Safe to
# call more than once. Set FIXTURE_KEEP=1 to keep the directory (logs) for debugging.
fixture_stop() {
  stop_pids 3 "${FIXTURE_PIDS[@]}"
  FIXTURE_PIDS=()
  remove_dir "$FIXTURE_DIR" "${FIXTURE_KEEP:-0}" fixture
  FIXTURE_DIR=""
}
