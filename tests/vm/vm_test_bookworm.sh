# shellcheck shell=bash
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
#
# vm_test_bookworm.sh: the bookworm flavour of tests/vm/vm_test.sh (sourced by it; uses its run,
# gssh, expect, pass, fail, skip and detail). Debian 12 with systemd 252, whose machined has no
# varlink interface (256 brought it): machine/NAME must say so, and that machine/ needs systemd 256
# or later, instead of "not running". One boot.

BOOKWORM_SCENARIOS=(boot_bookworm_guest bookworm_pid1_systemd_older_than_256
  bookworm_machined_runs_without_varlink machine_on_systemd_older_than_256
  ssh_machine_on_systemd_older_than_256 bookworm_teardown_leaves_nothing)

bookworm_tests() {
  local flavour_started
  flavour_started=$(vm_now_ms)
  start_flavour bookworm "bookworm guest" "${BOOKWORM_SCENARIOS[@]}" || return
  echo "bookworm guest: sshd answered $VM_BOOT_MS ms after qemu started (accelerator $VM_ACCEL_USED)"
  pass boot_bookworm_guest
  # shellcheck disable=SC2034  # MUX: read by gssh (vm_test.sh).
  MUX=$VM_MUX
  local proxy=/usr/libexec/ssh-proxy
  run gssh 'readlink /proc/1/exe; systemctl --version | sed -n "1s/^systemd \([0-9]*\) (\(.*\))/\1 \2/p"'
  local exe version full
  { read -r exe; read -r version full; } <<<"$OUT"
  if [[ $RC == 0 && $exe == */systemd && $version =~ ^[0-9]+$ && $version -lt 256 ]]; then
    pass bookworm_pid1_systemd_older_than_256
    echo "  (PID 1 is $exe, systemd $full)"
  else
    fail bookworm_pid1_systemd_older_than_256 "want systemd < 256 as PID 1; $(detail)"
  fi
  # machined 252 is D-Bus activated and speaks D-Bus only: its state directory, no varlink socket.
  run gssh 'systemctl start systemd-machined && systemctl is-active systemd-machined
test -d /run/systemd/machines && echo statedir
test -e /run/systemd/machine/io.systemd.Machine || echo "no varlink socket"'
  expect bookworm_machined_runs_without_varlink $'active\nstatedir\nno varlink socket'
  local want="ssh-proxy: cannot resolve machine/web1: systemd-machined has no varlink interface here (/run/systemd/machines exists, /run/systemd/machine/io.systemd.Machine does not): this systemd is older than 256; machine/ needs systemd 256 or later (use vsock/CID or unix/PATH instead)"
  run gssh "$proxy machine/web1 22; echo \"exit \$?\""
  if [[ $OUT == "exit 69" && $ERR == "$want" ]]; then
    pass machine_on_systemd_older_than_256
  else
    fail machine_on_systemd_older_than_256 "want exit 69 and [$want]; $(detail)"
  fi
  # Through real ssh and the installed fragment: the line comes before ssh's own two.
  run gssh "ssh machine/web1 true; echo \"ssh exit \$?\""
  if [[ $OUT == "ssh exit 255" && $ERR == "$want"* ]]; then
    pass ssh_machine_on_systemd_older_than_256
  else
    fail ssh_machine_on_systemd_older_than_256 "$(detail)"
  fi
  vm_stop
  local left
  left=$(vm_leftovers)
  if [[ -z $left ]]; then
    pass bookworm_teardown_leaves_nothing
  else
    fail bookworm_teardown_leaves_nothing "$left"
  fi
  echo "bookworm guest: $((($(vm_now_ms) - flavour_started) / 1000)) s for the flavour, boot included"
}
