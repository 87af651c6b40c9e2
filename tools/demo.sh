#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
#
# demo.sh: builds ssh-proxy, starts a throwaway sshd (inetd mode, behind a UNIX socket, keys in a
# temporary directory) and a Firecracker-compatible vsock multiplexer emulator in front of it, and
# reaches that sshd with the real ssh client through ssh-proxy as unix/..., unix%... and
# vsock-mux/.... Then it boots a real guest under QEMU (tests/vm/vm.sh: TCG, vhost-device-vsock as
# the multiplexer, no network device), shows ssh vsock-mux/... printing the guest's own kernel, and
# ssh vsock/1 run inside the guest. This machine itself never opens an AF_VSOCK socket (host-side
# VM processes run under tests/vm/no-vsock.c); AF_VSOCK is used only inside the guest.
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
echo "== A real VM: QEMU (TCG) with rust-vmm's vhost-device-vsock as its multiplexer"
# shellcheck source=tests/vm/vm.sh
source "$root/tests/vm/vm.sh"
VM_SSH_PROXY=$SSH_PROXY
VM_REPO=$root
trap 'vm_stop; fixture_stop' EXIT
if reason=$(vm_skip_reason); then
  echo "demo: cannot boot a guest here: $reason" >&2
  exit 1
fi
echo "Building a minimal guest (bookworm cloud kernel, busybox, this host's sshd, ssh-proxy) and"
echo "booting it with no network device; its sshd listens on guest vsock port 22 only."
echo "(The first run downloads the kernel and vhost-device-vsock into $(vm_cache_dir).)"
vm_start || {
  echo "demo: the guest did not boot" >&2
  exit 1
}
echo "booted; sshd answered $((VM_BOOT_MS / 1000)).$(printf '%03d' $((VM_BOOT_MS % 1000))) s after qemu started (accelerator: $VM_ACCEL_USED)"
vcfg=$VM_DIR/demo_config
{
  echo "Host *"
  echo "  ProxyCommand $SSH_PROXY '%n' %p"
  echo "  ProxyUseFdpass yes"
  cat "$VM_DIR/ssh_config"
} >"$vcfg"
echo "Every host-side process (qemu, vhost-device-vsock, ssh) runs under no-vsock, which refuses"
echo "AF_VSOCK: this machine only talks to the guest through the multiplexer's UNIX socket."
echo
echo "The host's kernel is $(uname -r); ssh through vsock-mux/ lands in the guest's:"
show "$VM_NO_VSOCK" ssh -F "$vcfg" "vsock-mux$VM_MUX" 'uname -r; hostname'
show "$VM_NO_VSOCK" ssh -F "$vcfg" "vsock-mux%${VM_MUX#/}" 'echo "hello over vsock-mux%"'
echo
echo "Inside the guest, ssh-proxy (installed there by tools/install.sh, with its ssh_config"
echo "fragment) opens a real AF_VSOCK connection: vsock/1 is the guest's own loopback."
# shellcheck disable=SC2016  # expanded by the guest's shells.
show "$VM_NO_VSOCK" ssh -F "$vcfg" "vsock-mux$VM_MUX" \
  'grep ProxyCommand /etc/ssh/ssh_config.d/20-ssh-proxy.conf; ssh vsock/1 "echo hello from \$(hostname) over vsock/1; uname -r"'
echo
echo "A guest port with nothing listening: the multiplexer closes without a reply (exit 69):"
printf '$ ssh-proxy vsock-mux%q 2222\n' "$VM_MUX"
out=$("$VM_NO_VSOCK" "$SSH_PROXY" "vsock-mux$VM_MUX" 2222 </dev/null 2>&1) && rc=0 || rc=$?
printf '%s\n' "$out" | sed 's/^/    /'
echo "    (exit $rc)"
if ((rc != 69)); then
  echo "demo: expected exit 69" >&2
  exit 1
fi
vm_stop
echo
echo "== Done: all steps passed; the VM, the sshd and the emulator are stopped and their files removed."
