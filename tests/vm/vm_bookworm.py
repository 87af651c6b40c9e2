# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
"""vm_bookworm.py: the bookworm flavour of tests/vm/vm_test.py. Debian 12 with systemd 252, whose
machined has no varlink interface (256 brought it): machine/NAME must say so, and that machine/
needs systemd 256 or later, instead of "not running". One boot."""

from vm_scenario import PROXY, Flavour, Row, pid1, starts, teardown  # pylint: disable=import-error

SCENARIOS = (
    "boot_bookworm_guest", "bookworm_pid1_systemd_older_than_256",
    "bookworm_machined_runs_without_varlink", "machine_on_systemd_older_than_256",
    "ssh_machine_on_systemd_older_than_256", "bookworm_teardown_leaves_nothing")
WANT = ("ssh-proxy: cannot resolve machine/web1: systemd-machined has no varlink interface here "
        "(/run/systemd/machines exists, /run/systemd/machine/io.systemd.Machine does not): this "
        "systemd is older than 256; machine/ needs systemd 256 or later (use vsock/CID or "
        "unix/PATH instead)")


def steps(_):
    return [
        pid1("bookworm_pid1_systemd_older_than_256", lambda v: v < 256,
             "want systemd < 256 as PID 1"),
        # machined 252 is D-Bus activated and speaks D-Bus only: its state directory, no varlink
        # socket.
        Row("bookworm_machined_runs_without_varlink",
            "systemctl start systemd-machined && systemctl is-active systemd-machined\n"
            "test -d /run/systemd/machines && echo statedir\n"
            'test -e /run/systemd/machine/io.systemd.Machine || echo "no varlink socket"',
            "active\nstatedir\nno varlink socket"),
        Row("machine_on_systemd_older_than_256", f'{PROXY} machine/web1 22; echo "exit $?"',
            "exit 69", err=lambda e: e == WANT, context=f"want exit 69 and [{WANT}]"),
        # Through real ssh and the installed fragment: the line comes before ssh's own two.
        Row("ssh_machine_on_systemd_older_than_256", 'ssh machine/web1 true; echo "ssh exit $?"',
            "ssh exit 255", err=starts(WANT)),
        teardown("bookworm_teardown_leaves_nothing"),
    ]


FLAVOUR = Flavour("bookworm", "bookworm guest", SCENARIOS, steps)
