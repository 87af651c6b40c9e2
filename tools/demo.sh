#!/usr/bin/env bash
# demo.sh: builds ssh-proxy, starts a throwaway sshd (inetd mode, behind a UNIX socket, keys in a
# temporary directory) and a Firecracker-compatible vsock multiplexer emulator in front of it, and
# reaches that sshd with the real ssh client through ssh-proxy as unix/..., unix%... and
# vsock-mux/.... vsock/... is only shown with --dry-run: this never opens an AF_VSOCK socket.
# Prints each command and its output; removes everything it started on exit; exits non-zero if a
# step fails.
#
# BAZEL_STARTUP_OPTIONS and BAZEL_BUILD_OPTIONS (empty by default) are passed to bazel, e.g.
# BAZEL_STARTUP_OPTIONS=--output_base=/tmp/ob to keep away from another build's server.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
if [[ -f $here/ensure-deps.sh ]]; then
  "$here/ensure-deps.sh" demo
fi
cd "$root"

read -ra startup <<<"${BAZEL_STARTUP_OPTIONS:-}"
read -ra build_opts <<<"${BAZEL_BUILD_OPTIONS:-}"
targets=(//:ssh-proxy //tests/e2e:mux_emulator //tests/e2e:unix_inetd)

# show CMD...: prints "$ CMD" (words quoted only where the shell needs it), runs it with its
# output indented, and stops the demo if it fails.
show() {
  local out rc word line='$'
  for word in "$@"; do
    if [[ $word =~ ^[-A-Za-z0-9_./%:=@+,]+$ ]]; then line+=" $word"; else line+=" ${word@Q}"; fi
  done
  printf '\n%s\n' "$line"
  out=$("$@" 2>&1) && rc=0 || rc=$?
  [[ -z $out ]] || printf '%s\n' "$out" | sed 's/^/    /'
  if ((rc != 0)); then
    echo "demo: that command failed (exit $rc)" >&2
    exit 1
  fi
}

echo "== Building ssh-proxy and the test tools"
bazel "${startup[@]}" build "${build_opts[@]}" "${targets[@]}"
bin=$(bazel "${startup[@]}" info "${build_opts[@]}" bazel-bin 2>/dev/null)
# The convenience link reads better in the transcript, when it is the same directory.
if [[ $(readlink -f "$root/bazel-bin") == "$(readlink -f "$bin")" ]]; then
  bin=$root/bazel-bin
fi

SSH_PROXY=$bin/ssh-proxy
MUX_EMULATOR=$bin/tests/e2e/mux_emulator
UNIX_INETD=$bin/tests/e2e/unix_inetd
FIXTURE_LIFETIME=120
FIXTURE_SSH_TIMEOUT=30
# shellcheck source=tests/e2e/sshd_fixture.sh
source "$root/tests/e2e/sshd_fixture.sh"

echo
echo "== Starting a throwaway sshd"
fixture_start firecracker
cfg=$FIXTURE_SSH_CONFIG
echo "sshd -i runs per connection behind $FIXTURE_SSHD_SOCK"
echo "a Firecracker-style multiplexer listens on $FIXTURE_VM_SOCK (guest port 22 -> that sshd)"
echo "ssh_config ($cfg), the part that matters:"
grep -E '^Host \*|ProxyCommand .*%n|ProxyUseFdpass' "$cfg" | sed 's/^/    /'

echo
echo "== ssh through ssh-proxy"
# shellcheck disable=SC2016  # $(...) runs on the remote side.
show timeout 30 ssh -F "$cfg" "unix$FIXTURE_SSHD_SOCK" \
  'echo "hello from $(id -un)@$(hostname) over unix/"'
show timeout 30 ssh -F "$cfg" "unix%${FIXTURE_SSHD_SOCK#/}" 'echo "hello over unix%"'
show timeout 30 ssh -F "$cfg" "vsock-mux$FIXTURE_VM_SOCK" \
  'echo "hello over vsock-mux/, guest port 22"; uname -sr'
echo
echo "scp reads any host containing '/' as a local path, so it goes through a Host alias whose"
alias_line=$(grep -A1 '^Host vm-mux' "$cfg" | tail -n1 | sed 's/^ *//')
echo "ProxyCommand names the target (vm-mux: $alias_line):"
show timeout 30 scp -q -F "$cfg" /etc/os-release "vm-mux:$FIXTURE_DIR/copied"
show timeout 30 ssh -F "$cfg" vm-mux \
  "cmp /etc/os-release $FIXTURE_DIR/copied && echo copied intact over vsock-mux"
echo
echo "Without ProxyUseFdpass ssh gives the proxy pipes, and ssh-proxy relays the bytes itself:"
show timeout 30 ssh -F "$cfg" -o ProxyUseFdpass=no "vsock-mux$FIXTURE_VM_SOCK" \
  'echo "hello over vsock-mux/ through the relay"'
echo
echo "What the multiplexer received (one line per connection, C-escaped):"
sed 's/^/    /' "$FIXTURE_VM_LOG"

echo
echo "== ssh-proxy on its own"
show "$SSH_PROXY" --dry-run "vsock-mux$FIXTURE_VM_SOCK" 22
show "$SSH_PROXY" --dry-run vsock/4711 22
echo
echo "With --fdpass, a stdout that cannot carry a descriptor is refused (exit 64) before connecting:"
printf '$ %q --fdpass unix%q 22 | cat\n' "$SSH_PROXY" "$FIXTURE_SSHD_SOCK"
out=$("$SSH_PROXY" --fdpass "unix$FIXTURE_SSHD_SOCK" 22 </dev/null 2>&1) && rc=0 || rc=$?
printf '%s\n' "$out" | sed 's/^/    /'
echo "    (exit $rc)"
if ((rc != 64)); then
  echo "demo: expected exit 64" >&2
  exit 1
fi
echo
echo "== Done: all steps passed; the sshd and the emulator are stopped and their files removed."
