#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
"""environment_test.py: ssh-proxy's behaviour does not depend on its environment. It runs the
same commands with an empty environment and with a hostile one (LD_PRELOAD and LD_AUDIT naming a
canary library, LD_LIBRARY_PATH, SSH_AUTH_SOCK pointing at a decoy listener, every SSH_* ssh sets,
HOME, TMPDIR, XDG_RUNTIME_DIR, PATH, locale, GLIBC_TUNABLES, ...) and requires identical results:
  - --dry-run of every address form and of bad input (stdout, stderr, exit code);
  - a real unix connect under ssh's fd-passing protocol (//tests/e2e:fdpass_harness): the passed
    fd must be a socket whose first line comes from the real listener, not the decoy;
  - the same connect in relay mode (stdout a pipe), and with -v.
A control run shows that the canary does fire in a dynamic program named ssh-proxy.

  environment_test.py SSH_PROXY FDPASS_HARNESS UNIX_INETD PRELOAD_CANARY_SO

Opens no AF_VSOCK socket. Prints "PASS name" / "FAIL name: why" per check and
"N passed, N failed, N skipped"; exits 1 if anything failed.
"""

import os
import shutil
import sys
import tempfile

import check
import sshd_fixture


def hostile_environment(t, canary):
    """The hostile environment, as a list of NAME=VALUE (T the test's directory)."""
    decoy = f"unix{t}/decoy.sock"
    return [
        f"LD_PRELOAD={canary}", f"LD_AUDIT={canary}", f"LD_LIBRARY_PATH={t}/evil-lib",
        "LD_BIND_NOW=", "LD_DEBUG=all", "LD_SHOW_AUXV=1", f"GCONV_PATH={t}/evil-lib",
        "GLIBC_TUNABLES=glibc.malloc.perturb=165:glibc.malloc.tcache_count=0",
        "MALLOC_CHECK_=3", "MALLOC_PERTURB_=165",
        f"SSH_AUTH_SOCK={t}/decoy.sock", "SSH_AGENT_PID=1",
        "SSH_CONNECTION=192.0.2.1 4711 192.0.2.2 22", "SSH_CLIENT=192.0.2.1 4711 22",
        f"SSH_ORIGINAL_COMMAND={decoy}", "SSH_TTY=/dev/pts/99", f"SSH_ASKPASS={t}/evil-bin/ssh",
        f"SSH_PROXY_HOST={decoy}", "SSH_PROXY_TIMEOUT=1ms",
        f"HOME={t}/evil-home", f"TMPDIR={t}/evil-tmp", f"XDG_RUNTIME_DIR={t}/evil-run",
        f"PATH={t}/evil-bin:/usr/bin:/bin",
        "LANG=fr_FR.UTF-8", "LC_ALL=fr_FR.UTF-8", "LANGUAGE=fr", "TZ=Pacific/Kiritimati",
        "VMADDR_CID=3", f"SYSTEMD_SSH_PROXY={decoy}", "POSIXLY_CORRECT=1",
    ]


def without(env, *prefixes):
    """env less the entries whose name starts with one of prefixes."""
    return [kv for kv in env if not kv.split("=", 1)[0].startswith(prefixes)]


class Same:
    """Runs a command in an empty and in a hostile environment and compares the two."""

    def __init__(self, checks, hostile):
        self.checks = checks
        self.hostile = hostile
        self.last = None  # (clean, hostile) Results of the last run
        self.outputs = []  # every stdout and stderr seen, for the decoy and canary checks

    def __call__(self, name, *argv):
        """CMD's stdout, stderr and exit code (stdin /dev/null, exec'd directly, so that no
        dynamic loader runs before a static CMD) are identical in both environments."""
        results = [check.run(list(argv), timeout=30, env=dict(kv.split("=", 1) for kv in env))
                   for env in (["PATH=/usr/bin:/bin"], self.hostile)]
        self.last = results
        self.outputs += [r.out + r.err for r in results]
        c, h = (f"rc={r.rc} out=[{r.out.rstrip(chr(10))}] err=[{r.err.rstrip(chr(10))}]"
                for r in results)
        if c == h:
            self.checks.ok(f"{name} ({results[0].out.replace(chr(10), ' ')}rc={results[0].rc})")
            return True
        self.checks.fail(name, f"empty environment: {c}; hostile: {h}")
        return False


def evil_files(t):
    """The hostile environment's directories, and a PATH entry that would shadow anything looked
    up by name."""
    for sub in ("evil-home/.ssh", "evil-tmp", "evil-run", "evil-bin", "evil-lib"):
        os.makedirs(f"{t}/{sub}")
    for name in ("ssh-proxy", "ssh"):
        with open(f"{t}/evil-bin/{name}", "w", encoding="utf-8") as f:
            f.write('#!/bin/sh\necho "EVIL $0"\n')
        os.chmod(f"{t}/evil-bin/{name}", 0o755)
    with open(f"{t}/evil-home/.ssh/config", "w", encoding="utf-8") as f:
        f.write(f"Host *\n  ProxyCommand {t}/evil-bin/ssh-proxy\n")


def control_canary(checks, t, canary, dynamic):
    """Control: the canary fires in a dynamic program called ssh-proxy, so silence below means
    something (skipped for a sanitizer build: the canary is then instrumented too and loads only
    into instrumented programs)."""
    name = "control_canary_fires_in_a_dynamic_ssh_proxy"
    if dynamic:
        checks.skip(name, "a sanitizer build: the canary only loads into instrumented programs")
        return
    os.mkdir(f"{t}/control")
    shutil.copy("/bin/true", f"{t}/control/ssh-proxy")
    r = check.run([f"{t}/control/ssh-proxy"], timeout=30,
                  env={**os.environ, "LD_PRELOAD": canary})
    err = r.err.rstrip("\n")
    checks.expect(name, r.rc == 99 and err.startswith("HIJACKED"), f"rc={r.rc} stderr=[{err}]")


def main():
    proxy, harness, inetd, canary = check.paths_from_argv(
        "SSH_PROXY", "FDPASS_HARNESS", "UNIX_INETD", "PRELOAD_CANARY_SO")
    checks = check.Checks()
    t = tempfile.mkdtemp(prefix="ssh-proxy-env.", dir="/tmp")  # short: sockets must fit sun_path
    daemons = sshd_fixture.Daemons()
    try:
        # Listeners: the real target and the decoy that SSH_AUTH_SOCK points at. Each connection
        # touches T/NAME.reached.
        for name, greeting in (("real", "real-target"), ("decoy", "DECOY-via-environment")):
            daemons.start([inetd, f"--listen={t}/{name}.sock", f"--ready={t}/{name}.ready",
                           "--lifetime=60", f"--stderr={t}/{name}.log", "--", "/bin/sh", "-c",
                           'touch "$1"; echo "$2"', "sh", f"{t}/{name}.reached", greeting],
                          f"{t}/{name}.ready", f"listener {name}")
        evil_files(t)
        run_checks(checks, t, proxy, harness, canary)
    except sshd_fixture.FixtureError as e:
        print(e, file=sys.stderr)
        return 1
    finally:
        daemons.stop()
        shutil.rmtree(t)
    return checks.summary()


def run_checks(checks, t, proxy, harness, canary):
    """Every check, in the order of the shell test this replaced."""
    hostile = hostile_environment(t, canary)
    dynamic = "INTERP" in check.run(["readelf", "-lW", proxy], timeout=30).out
    if dynamic:
        # --config=asan links ssh-proxy dynamically (sanitizer runtimes cannot be static): the
        # loader then honours LD_* by design, so those are left out; everything else is checked.
        print(f"NOTE: {proxy} is dynamically linked (a sanitizer build): LD_* variables left out",
              flush=True)
        hostile = without(hostile, "LD_")
    control_canary(checks, t, canary, dynamic)
    same = Same(checks, hostile)

    # --dry-run
    real = f"unix{t}/real.sock"
    for name, args in (("dry_run_vsock", ["vsock/4711", "22"]),
                       ("dry_run_vsock_name", ["vsock%host", "2222"]),
                       ("dry_run_unix", [real, "22"]),
                       ("dry_run_mux", ["vsock-mux/run/vm0/v.sock", "22"]),
                       ("dry_run_local_host", [".host", "22"]),
                       ("dry_run_bad_host", ["vsock/0x10", "22"]),
                       ("dry_run_bad_port", ["vsock/4711", "+22"])):
        same(name, proxy, "--dry-run", *args)
    same("usage_error", proxy, "--bogus")
    # A missing loader object named in LD_PRELOAD (a dynamic program would complain on stderr).
    if not dynamic:
        same.hostile = ["LD_PRELOAD=/nonexistent.so", "LD_LIBRARY_PATH=/nonexistent",
                        f"SSH_AUTH_SOCK={t}/decoy.sock"]
        same("dry_run_nonexistent_preload", proxy, "--dry-run", "vsock/4711", "22")
        same("unix_connect_relay_nonexistent_preload", proxy, real, "22")

    # A real unix connect. The harness is a dynamic program that execs ssh-proxy: its own loader
    # would print for LD_DEBUG and LD_SHOW_AUXV on the stderr it shares with ssh-proxy, so those
    # two are left out here (the direct runs above and the relay runs below have them).
    same.hostile = without(hostile, "LD_DEBUG", "LD_SHOW_AUXV")
    fdpass = [harness, "--timeout=10", "--read-line", "--", proxy]
    if same("fdpass_unix_connect", *fdpass, real, "22"):
        out = same.last[1].out.rstrip("\n")
        checks.expect("fdpass_reached_the_real_listener",
                      check.in_order(out, "fd: socket", "line: real-target\\n", "exit: 0"),
                      f"[{out}]")
    same("fdpass_unix_connect_verbose", *fdpass, "-v", real, "22")
    same("missing_socket", harness, "--timeout=10", "--", proxy, f"unix{t}/missing.sock", "22")
    same.hostile = hostile
    if same("relay_unix_connect", proxy, real, "22"):
        out = same.last[1].out.rstrip("\n")
        checks.expect("relay_reached_the_real_listener", out == "real-target", f"[{out}]")
    same("relay_missing_socket", proxy, f"unix{t}/missing.sock", "22")

    reached = {n: os.path.exists(f"{t}/{n}.reached") for n in ("real", "decoy")}
    checks.expect("decoy_never_reached",
                  reached["real"] and not reached["decoy"]
                  and not any("DECOY" in o for o in same.outputs),
                  lambda: "real reached: {}, decoy reached: {}".format(
                      *("yes" if reached[n] else "no" for n in ("real", "decoy"))))
    hijacked = [line for o in same.outputs for line in o.splitlines() if "HIJACKED" in line]
    checks.expect("canary_never_loaded_into_ssh_proxy", not hijacked, "\n".join(hijacked))


if __name__ == "__main__":
    sys.exit(main())
