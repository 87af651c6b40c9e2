#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
"""End-to-end test of ssh-proxy with the real OpenSSH client and a real sshd (sshd -i behind
unix_inetd), directly over AF_UNIX and through mux_emulator (an emulated Firecracker vsock
multiplexer). Nothing here opens AF_VSOCK.

  e2e_test.py SSH_PROXY MUX_EMULATOR UNIX_INETD FDPASS_HARNESS

(Bazel passes the four paths; see BUILD.bazel.) Prints one "PASS name", "FAIL name: why" or
"SKIP name: why" line per check, then "N passed, N failed, N skipped"; exits 1 if any check
failed. Every command is time-bounded. FIXTURE_KEEP=1 keeps the fixture directory; under Bazel the
logs of a failed run are copied to $TEST_UNDECLARED_OUTPUTS_DIR.
"""

import hashlib
import os
import pathlib
import random
import shutil
import signal
import sys
import threading
import time

import check
import sshd_fixture

MUX_SCENARIOS = ("echo", "trickle", "close", "reset", "garbage", "midclose", "overlong", "badport",
                 "silent")
# A multiplexer socket path longer than sockaddr_un's sun_path (ssh-proxy connects those through
# an O_PATH descriptor).
LONG_DIR = "long-directory-name-" * 6
TEN_MB = 10 * 1024 * 1024


def rnd():
    """A number like bash's $RANDOM."""
    return random.randrange(32768)


def sha256(path):
    """The file's SHA-256 in hex, or "" when it cannot be read (what `sha256sum <PATH` prints
    then)."""
    try:
        return hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()
    except OSError:
        return ""


def proxy_pids(pattern):
    """The PIDs of the ssh-proxy processes whose command line contains pattern."""
    pids = []
    for proc in pathlib.Path("/proc").glob("[0-9]*"):
        try:
            if (proc / "comm").read_text().strip() != "ssh-proxy":
                continue
            if pattern in (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(
                    "utf-8", "replace"):
                pids.append(int(proc.name))
        except OSError:
            continue  # gone meanwhile
    return pids


def in_background(argv, **kwargs):
    """check.run(argv, **kwargs) in a thread; join() the thread, then read its .result."""
    thread = threading.Thread(target=lambda: setattr(thread, "result", check.run(argv, **kwargs)))
    thread.start()
    return thread


def signal_all(pids, sig):
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


class E2e:
    """The checks, the fixture and ssh-proxy under fdpass_harness."""

    def __init__(self, proxy, harness, fx):
        self.checks = check.Checks()
        self.proxy = proxy
        self.harness = harness
        self.fx = fx
        self.d = fx.dir

    def run_proxy(self, *args):
        """ssh-proxy ARGS under fdpass_harness (stdin and stdout a socketpair, as ssh provides
        them with ProxyUseFdpass); out holds the harness' report."""
        return check.run([self.harness, "--timeout=20", "--read-line", "--", self.proxy, *args],
                         timeout=30)

    def check_ssh(self, name, host, *opts, prefix="hello"):
        """`ssh [OPTS] HOST echo TOKEN` through ssh-proxy must print TOKEN."""
        token = f"{prefix}-{rnd()}-{rnd()}"
        r = self.fx.ssh(*opts, host, "echo", token)
        self.checks.expect(name, r.rc == 0 and r.out.rstrip("\n") == token,
                           lambda: f"ssh {' '.join([*opts, host])}: {r.detail()}")

    def check_log(self, name, log, count):
        """LOG holds exactly COUNT lines, each `CONNECT 22\\n` (C-escaped)."""
        actual = pathlib.Path(log).read_text(encoding="utf-8", errors="replace")
        self.checks.expect(name, actual == "CONNECT 22\\n\n" * count,
                           f"{log} holds [{actual}], want {count} line(s) 'CONNECT 22\\n'")

    def check_proxy_fails(self, name, want, *args):
        """ssh-proxy ARGS must exit WANT without passing an fd."""
        r = self.run_proxy(*args)
        self.checks.expect(name, r.rc == want and "fd: none" in r.out and r.err.strip(),
                           lambda: f"want exit {want}, no fd and a message: {r.detail()}")

    def check_proxy_ok(self, name, *args):
        """ssh-proxy ARGS must exit 0 after passing a socket whose first line is sshd's banner
        (the proxy consumed the mux reply exactly, not the guest's bytes)."""
        r = self.run_proxy(*args)
        self.checks.expect(name, r.rc == 0 and "fd: socket" in r.out
                           and check.in_order(r.out, "line: SSH-2.0-", "\\r\\n"),
                           lambda: f"want exit 0 and sshd's banner on the passed fd: {r.detail()}")


def fixture_self_checks(t):
    """The fixture itself, without ssh-proxy (needs socat; skipped without it)."""
    c, fx = t.checks, t.fx
    if not shutil.which("socat"):
        c.skip("fixture_sshd_without_proxy", "socat is not installed")
        c.skip("fixture_mux_firecracker_reply", "socat is not installed")
        return
    token = f"direct-{rnd()}"
    r = fx.ssh("-o", "ProxyUseFdpass=no", "-o", f"ProxyCommand=socat - UNIX-CONNECT:{fx.sshd_sock}",
               "x", "echo", token)
    c.expect("fixture_sshd_without_proxy", r.rc == 0 and r.out.rstrip("\n") == token,
             lambda: f"the fixture's sshd is broken: {r.detail()}")
    fx.start_mux("selfcheck", "firecracker")
    r = check.run(["socat", "-t", "2", "-", f"UNIX-CONNECT:{t.d}/selfcheck.sock"],
                  stdin=b"CONNECT 22\n", timeout=10)
    c.expect("fixture_mux_firecracker_reply",
             r.rc == 0 and r.out.startswith("OK 1073741824\nSSH-2.0-"),
             lambda: f"want 'OK 1073741824' then sshd's banner: {r.detail()}")


def ssh_through_proxy(t):
    """ssh through ssh-proxy, every spelling of every target."""
    c, fx, d, sock = t.checks, t.fx, t.d, t.fx.sshd_sock
    t.check_ssh("ssh_unix_slash", f"unix{sock}")
    t.check_ssh("ssh_unix_percent", f"unix%{sock[1:]}")
    t.check_ssh("ssh_unix_alias", "vm-unix")
    for scenario, label in (("vm", "firecracker"), ("echo", "echo"), ("trickle", "trickle")):
        t.check_ssh(f"ssh_mux_{label}_slash", f"vsock-mux{d}/{scenario}.sock")
        t.check_ssh(f"ssh_mux_{label}_percent", f"vsock-mux%{d[1:]}/{scenario}.sock")
    t.check_ssh("ssh_mux_firecracker_alias", "vm-mux")
    t.check_ssh("ssh_mux_long_path", f"vsock-mux{d}/{LONG_DIR}/vm.sock")
    # The emulator must have seen exactly one command per connection. Note that these ssh checks
    # cannot tell whether ssh-proxy consumed the mux reply: ssh skips lines before the "SSH-"
    # banner (RFC 4253 4.2), so a reply left in the stream goes unnoticed. The proxy_*_banner
    # checks below look at the passed fd directly.
    t.check_log("mux_firecracker_log", fx.vm_log, 3)
    t.check_log("mux_echo_log", f"{d}/echo.log", 2)
    t.check_log("mux_trickle_log", f"{d}/trickle.log", 2)

    # Stdin and stdout streamed through the bridge (half-close of the session).
    token = f"stdin-{rnd()}"
    r = fx.ssh("vm-mux", 'read -r x; echo "got $x"', stdin=f"{token}\n".encode(), timeout=30)
    c.expect("ssh_mux_stdin", r.rc == 0 and r.out.rstrip("\n") == f"got {token}", r.detail)


def scp_10mb(t):
    """scp of 10 MB over vsock-mux. scp reads a host containing "/" as a local path: the vm-mux
    alias runs `ssh-proxy vsock-mux/<path> %p`."""
    c, fx, d = t.checks, t.fx, t.d
    pathlib.Path(f"{d}/upload.bin").write_bytes(os.urandom(TEN_MB))
    want = sha256(f"{d}/upload.bin")
    r = fx.scp(f"{d}/upload.bin", f"vm-mux:{d}/remote.bin")
    got = sha256(f"{d}/remote.bin")
    c.expect("scp_upload_10mb_sftp", r.rc == 0 and got == want,
             lambda: f"sha256 {got}, want {want}; {r.detail()}")
    # Back again with the legacy scp protocol (-O), which ends on the stream's EOF.
    r = fx.scp("-O", f"vm-mux:{d}/remote.bin", f"{d}/download.bin")
    got = sha256(f"{d}/download.bin")
    c.expect("scp_download_10mb_legacy", r.rc == 0 and got == want,
             lambda: f"sha256 {got}, want {want}; {r.detail()}")
    for name in ("upload.bin", "remote.bin", "download.bin"):
        pathlib.Path(f"{d}/{name}").unlink(missing_ok=True)


def proxy_directly(t):
    """ssh-proxy run directly under a socketpair."""
    c, d, sock = t.checks, t.d, t.fx.sshd_sock
    t.check_proxy_ok("proxy_unix_banner", f"unix{sock}", "22")
    t.check_proxy_ok("proxy_mux_firecracker_banner_in_same_write", f"vsock-mux{t.fx.vm_sock}",
                     "22")
    t.check_proxy_ok("proxy_mux_trickle_banner", f"vsock-mux{d}/trickle.sock", "22")
    for scenario, want in (("close", 69), ("reset", 69), ("garbage", 76), ("midclose", 76),
                           ("overlong", 76), ("badport", 76)):
        t.check_proxy_fails(f"proxy_mux_{scenario}_{want}", want, f"vsock-mux{d}/{scenario}.sock",
                            "22")
        t.check_log(f"proxy_mux_{scenario}_log", f"{d}/{scenario}.log", 1)

    r = t.run_proxy("--timeout=500ms", f"vsock-mux{d}/silent.sock", "22")
    c.expect("proxy_mux_silent_timeout_75", r.rc == 75 and "fd: none" in r.out and r.ms < 5000,
             lambda: f"want exit 75 within 5 s (took {r.ms} ms): {r.detail()}")
    t.check_log("proxy_mux_silent_log", f"{d}/silent.log", 1)

    # Guest port without a listener: the mux closes without a reply.
    t.check_proxy_fails("proxy_mux_no_guest_listener_69", 69, f"vsock-mux{d}/nobackend.sock",
                        "2222")
    t.check_proxy_fails("proxy_unix_missing_socket_69", 69, f"unix{d}/missing.sock", "22")
    t.check_proxy_fails("proxy_mux_missing_socket_69", 69, f"vsock-mux{d}/missing.sock", "22")

    # --fdpass with stdout not a socket: usage error 64, before connecting.
    r = check.run([t.proxy, "--fdpass", f"unix{sock}", "22"], timeout=30)
    c.expect("proxy_fdpass_stdout_not_socket_64", r.rc == 64 and "ProxyUseFdpass" in r.err,
             lambda: f"want exit 64 naming ProxyUseFdpass: {r.detail()}")


def ssh_failures(t):
    """Through ssh: a failing proxy makes ssh fail promptly; without fd passing, a proxy forced
    to --fdpass says what to set."""
    c, fx, proxy = t.checks, t.fx, sshd_fixture.quote_proxy_arg(t.proxy)
    r = fx.ssh(f"vsock-mux{t.d}/close.sock", "true")
    c.expect("ssh_mux_close_fails", r.rc == 255 and r.ms < 10000,
             lambda: f"want ssh exit 255 within 10 s (took {r.ms} ms): {r.detail()}")
    r = fx.ssh("-o", "ProxyUseFdpass=no", "-o", f"ProxyCommand={proxy} --fdpass %n %p",
               f"unix{fx.sshd_sock}", "true")
    c.expect("ssh_without_fdpass_explains", r.rc != 0 and "ProxyUseFdpass" in r.err,
             lambda: f"want failure naming ProxyUseFdpass: {r.detail()}")


def relay(t):
    """Relay mode: ssh without ProxyUseFdpass (ssh gives the proxy pipes)."""
    c, fx, d, sock = t.checks, t.fx, t.d, t.fx.sshd_sock
    proxy = sshd_fixture.quote_proxy_arg(t.proxy)
    for name, host in (("ssh_relay_unix", f"unix{sock}"),
                       ("ssh_relay_unix_percent", f"unix%{sock[1:]}"),
                       ("ssh_relay_mux_firecracker", f"vsock-mux{fx.vm_sock}"),
                       ("ssh_relay_mux_trickle", f"vsock-mux{d}/trickle.sock")):
        t.check_ssh(name, host, "-o", "ProxyUseFdpass=no", prefix="relay")
    r = fx.ssh("-o", "ProxyUseFdpass=no", "-o", f"ProxyCommand={proxy} --relay %n %p",
               f"unix{sock}", "echo", "forced")
    c.expect("ssh_relay_forced", r.rc == 0 and r.out.rstrip("\n") == "forced", r.detail)
    # A relay under ssh's fd-passing socketpair, forced with --relay: ssh would then have to read
    # the session from the proxy's stdout rather than from a passed fd, which ssh with
    # ProxyUseFdpass does not do, so it must fail cleanly rather than hang.
    r = fx.ssh("-o", f"ProxyCommand={proxy} --relay %n %p", f"unix{sock}", "true")
    c.expect("ssh_fdpass_with_forced_relay_fails_cleanly", r.rc == 255 and r.ms < 20000,
             lambda: f"want ssh exit 255: {r.detail()}")

    # 10 MB both ways through the relay, by checksum: stdin -> guest, guest -> stdout.
    blob = f"{d}/relay.bin"
    pathlib.Path(blob).write_bytes(os.urandom(TEN_MB))
    want = sha256(blob)
    relay_ssh = ("-o", "ProxyUseFdpass=no", f"vsock-mux{fx.vm_sock}")
    with open(blob, "rb") as stdin:
        r = fx.ssh(*relay_ssh, 'sha256sum | cut -d" " -f1', stdin=stdin, timeout=60)
    c.expect("ssh_relay_10mb_upload", r.rc == 0 and r.out.rstrip("\n") == want,
             lambda: f"want {want}: {r.detail()}")
    with open(f"{d}/download.bin", "wb") as out:
        r = fx.ssh(*relay_ssh, "cat", blob, stdout=out, timeout=60)
    got = sha256(f"{d}/download.bin")
    c.expect("ssh_relay_10mb_download", got == want,
             lambda: f"got {got}, want {want}; {r.err.rstrip()}")
    signals(t, relay_ssh, want)
    for name in ("relay.bin", "download.bin", "stopped.bin"):
        pathlib.Path(f"{d}/{name}").unlink(missing_ok=True)


def signals(t, relay_ssh, want):
    """A relay stopped and continued mid-session loses nothing; SIGTERM ends it at once."""
    c, fx, d, sock = t.checks, t.fx, t.d, t.fx.sshd_sock
    with open(f"{d}/stopped.bin", "wb") as out:
        bg = in_background(["ssh", "-F", fx.ssh_config, *relay_ssh, f"sleep 1; cat {d}/relay.bin"],
                           stdout=out, timeout=60)
        stopped = False
        for _ in range(50):
            pids = proxy_pids(f"vsock-mux{fx.vm_sock} 22")
            if pids:
                signal_all(pids, signal.SIGSTOP)
                time.sleep(0.5)
                signal_all(pids, signal.SIGCONT)
                stopped = True
                break
            time.sleep(0.1)
        bg.join()
    got = sha256(f"{d}/stopped.bin")
    c.expect("relay_survives_sigstop_sigcont", stopped and got == want,
             f"stopped={int(stopped)} sha {got}, want {want}")

    # The relay's stdin: a pipe kept open and idle.
    idle_r, idle_w = os.pipe()
    try:
        bg = in_background([t.proxy, f"unix{sock}", "22"], stdin=idle_r, timeout=30)
        pids = []
        for _ in range(50):
            pids = proxy_pids(f"unix{sock} 22")
            if pids:
                break
            time.sleep(0.1)
        time.sleep(0.2)  # Let it connect and settle in the relay.
        start = time.monotonic()
        signal_all(pids, signal.SIGTERM)
        bg.join()
        ms = int((time.monotonic() - start) * 1000)
    finally:
        os.close(idle_r)
        os.close(idle_w)
    # A signal's death as the shell reports it: 128 + the signal's number.
    rc = bg.result.rc if bg.result.rc is None or bg.result.rc >= 0 else 128 - bg.result.rc
    c.expect("relay_sigterm_ends_it", pids and rc == 143 and ms < 5000,
             f"want exit 143 (SIGTERM) at once: pids=[{' '.join(map(str, pids))}] rc={rc} "
             f"after {ms} ms")


def main():
    proxy, mux_emulator, unix_inetd, harness = check.paths_from_argv(
        "SSH_PROXY", "MUX_EMULATOR", "UNIX_INETD", "FDPASS_HARNESS")
    with sshd_fixture.Fixture(proxy, mux_emulator, unix_inetd) as fx:
        t = E2e(proxy, harness, fx)
        step, why = "fixture_start", "could not start sshd and the mux emulator"
        try:
            fx.start("firecracker")
            t.d = fx.dir
            os.mkdir(f"{fx.dir}/{LONG_DIR}")
            muxes = [(s, s) for s in MUX_SCENARIOS] + [("nobackend", "firecracker"),
                                                       (f"{LONG_DIR}/vm", "firecracker")]
            for name, scenario in muxes:
                step, why = "fixture_start_mux", f"{name} ({scenario})"
                fx.start_mux(name, scenario)
            step, why = "fixture_start_mux", "selfcheck (firecracker)"
            fixture_self_checks(t)
        except sshd_fixture.FixtureError as e:
            sshd_fixture.log(e)
            t.checks.fail(step, why)
            fx.save_logs()
            return 1
        ssh_through_proxy(t)
        scp_10mb(t)
        proxy_directly(t)
        ssh_failures(t)
        relay(t)
        # vsock is only ever parsed here (--dry-run): never connect an AF_VSOCK socket in tests.
        r = check.run([proxy, "--dry-run", "vsock/4711", "22"], timeout=30)
        t.checks.expect("proxy_vsock_dry_run", r.rc == 0 and r.out.rstrip("\n") ==
                        "vsock cid=4711 port=22", r.detail)
        status = t.checks.summary()
        if status:
            fx.save_logs()
            print(f"--- tail of {fx.sshd_log}", file=sys.stderr)
            for line in pathlib.Path(fx.sshd_log).read_text(errors="replace").splitlines()[-20:]:
                print(line, file=sys.stderr)
        return status


if __name__ == "__main__":
    sys.exit(main())
