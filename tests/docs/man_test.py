#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
"""man_test.py: the man page passes mandoc's linter and groff's warnings and renders with man -l.

  man_test.py doc/ssh-proxy.1

mandoc -Tlint -Wall must print nothing but "referenced manual not found" (which depends on the
manuals installed on the machine: rsync(1), systemd-ssh-proxy(1)); groff -ww and
`man --warnings -l` must print nothing on stderr, and the rendered page must have every section.
Prints "PASS name" / "FAIL name: why" per check and "N passed, N failed, N skipped"; exits 1 on
failure.
"""

import os
import pathlib
import re
import shutil
import sys

sys.path.insert(0, str(pathlib.Path(__file__).parent.parent / "testing"))

import check  # pylint: disable=wrong-import-position

TIMEOUT = 60
# Two of mandoc's pieces of advice are declined on purpose:
# - "operating system explicitly specified": groff (man-db's renderer on Debian) prints "BSD" in
#   the footer of a page with an empty .Os, so .Os names ssh-proxy and its version;
# - "sections out of conventional order": the page follows the order the project chose (its
#   first-contact issue, and many Linux pages): EXIT STATUS right after OPTIONS and AUTHORS last,
#   where mdoc(7) puts EXIT STATUS after FILES and AUTHORS before BUGS. The order itself is
#   checked below.
LINT_DECLINED = re.compile(
    r"referenced manual not found|outdated mandoc\.db|operating system explicitly specified"
    r"|sections out of conventional order: Sh (ENVIRONMENT|AUTHORS)$")
# The usual order of a section 1 page (mdoc(7), OpenSSH's ssh(1)).
SECTIONS = ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXIT STATUS", "ENVIRONMENT", "FILES",
            "EXAMPLES", "DIAGNOSTICS", "SECURITY", "SEE ALSO", "BUGS", "AUTHORS")
# The address forms, options and exit codes the issue asks the page to cover.
WORDS = ("unix/path", "vsock/cid", "vsock-mux/path", ".host", "--dry-run", "--fdpass", "--relay",
         "--timeout", "--verbose", "64", "69", "71", "75", "76", "ProxyUseFdpass",
         "systemd-ssh-proxy", "LD_PRELOAD", "SSH_AUTH_SOCK")


def run(argv, env=None, stdin=b""):
    """check.run with this test's bound; a tool that is not installed gives rc 127 and the reason
    on stderr, as a shell would."""
    try:
        return check.run(argv, timeout=TIMEOUT, env=env, stdin=stdin)
    except OSError as e:
        return check.Result(127, "", f"{argv[0]}: {e}", 0)


def man_env(width, keep_formatting=None):
    """The environment with MANWIDTH (and MAN_KEEP_FORMATTING when given) set."""
    env = dict(os.environ, MANWIDTH=str(width))
    if keep_formatting is not None:
        env["MAN_KEEP_FORMATTING"] = keep_formatting
    return env


def main(argv):
    """Runs every check; returns the exit status (1 if a check failed)."""
    if len(argv) != 2:
        print(f"usage: {argv[0]} ssh-proxy.1", file=sys.stderr)
        return 2
    page = argv[1]
    checks = check.Checks()
    for tool in ("mandoc", "groff", "man", "col"):
        if shutil.which(tool) is None:
            checks.fail(f"{tool} installed",
                        "apt-get install mandoc groff-base man-db bsdextrautils")

    lint = run(["mandoc", "-Tlint", "-Wall", page])
    out = "\n".join(line for line in (lint.out + lint.err).splitlines()
                    if not LINT_DECLINED.search(line))
    checks.expect("mandoc -Tlint -Wall", not out, out)

    groff = run(["groff", "-ww", "-mandoc", "-Tutf8", "-z", page])
    out = (groff.out + groff.err).rstrip("\n")
    checks.expect("groff -ww -mandoc", not out, out)

    # man -l as a reader runs it (man-db, groff), at the usual widths.
    for width in (80, 120):
        r = run(["man", "--warnings", "-l", page], env=man_env(width, "0"))
        err = r.err.rstrip("\n")
        checks.expect(f"man --warnings -l (MANWIDTH={width})", r.rc == 0 and not err and r.out,
                      f"exit {r.rc}, stderr [{err}]")

    man = run(["man", "-l", page], env=man_env(80))
    rendered = run(["col", "-b"], stdin=man.out.encode())
    lines = rendered.out.rstrip("\n").split("\n")
    got = ",".join(line for line in lines
                   if re.fullmatch(r"[A-Z][A-Z ]+", line) and not line.startswith("SSH-PROXY"))
    want = ",".join(SECTIONS)
    if got == want:
        checks.ok(f"sections in the usual order: {want}")
    else:
        checks.fail("sections in the usual order", f"got {got}, want {want}")
    # The footer names the program and its version, not "BSD" (an empty .Os).
    footer = lines[-1]
    version = "\n".join(line.removeprefix(".Os ssh-proxy ")
                        for line in pathlib.Path(page).read_text().split("\n")
                        if line.startswith(".Os ssh-proxy "))
    if version and f"ssh-proxy {version}" in footer and "BSD" not in footer:
        checks.ok(f"footer names ssh-proxy {version}")
    else:
        checks.fail("footer names ssh-proxy and its version",
                    f"footer [{footer}], .Os version [{version}]")
    missing = [word for word in WORDS if word not in rendered.out]
    checks.expect("the page covers every address form, option and exit code", not missing,
                  lambda: f"missing: {' '.join(missing)}")
    return checks.summary()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
