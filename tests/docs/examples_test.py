#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
"""examples_test.py: runs every example of the man page and of the Markdown documents (README.md
and the documents its depth moved to) and checks that the documents agree with the program and the
ssh_config fragment.

  examples_test.py SSH_PROXY doc/ssh-proxy.1 conf/20-ssh-proxy.conf README.md [OTHER.md ...]

What counts as an example (Markdown: fenced ``` blocks; man page: .Bd -literal blocks):
  "$ ssh-proxy ARGS"  is run (stdin /dev/null, the binary as "ssh-proxy" on PATH); the lines
                      after it, up to the next "$ " line or the end of the block, must equal its
                      stdout and stderr together. "$ echo $?" prints the previous exit status.
  "ssh ..." / "scp ..." (with or without "$ ", "# comments" dropped) is resolved with the real
                      `ssh -G` against the fragment: the host must get ssh-proxy as ProxyCommand
                      with ProxyUseFdpass, and that ProxyCommand, with %n and %p expanded as ssh
                      does and --dry-run added, must exit 0 (so vsock examples never connect).
                      An "ssh -o ProxyCommand=... -o ProxyUseFdpass=yes HOST" line (the README's
                      try-it line) is resolved with its own options instead of the fragment, the
                      binary standing for "$PWD/bazel-bin/ssh-proxy".
  "ProxyCommand /usr/local/libexec/ssh-proxy ..." (Host aliases) runs with --dry-run too.
Other lines (tools/demo.sh, bazel ..., tools/install.sh) are commands that CI runs itself.
Also: the ssh_config blocks of the man page and of --help (whose Host patterns come from the
grammar's table of prefixes) equal the fragment as installed with the default prefix, and --help
names the binary's own path; every option --help lists is documented in the man page, and every
exit code; README.md stays the way in (at most 160 lines).
Prints "PASS name" / "FAIL name: why" per check and "N passed, N failed, N skipped"; exits 1 on
failure, 2 on a usage error.
"""

import difflib
import os
import pathlib
import re
import shutil
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).parent.parent / "testing"))

import check  # pylint: disable=wrong-import-position

INSTALLED_PATH = "/usr/local/libexec/ssh-proxy"
EXIT_CODES = ("0", "64", "69", "71", "75", "76")
# Every command here is quick (--dry-run, ssh -G, mandoc): a minute means it hangs.
TIMEOUT = 60
# What the shell's `[[:space:]]` matches.
_BLANKS = " \t\n\r\v\f"


def lines_of(text):
    """The lines of text as awk and `read` see them: split on newlines, no empty last line for a
    text that ends with one."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def md_blocks(text):
    """The lines of a Markdown text's fenced ``` blocks, one empty line after each block."""
    out, inblock = [], False
    for line in lines_of(text):
        if line.startswith("```"):
            if inblock:
                out.append("")
            inblock = not inblock
        elif inblock:
            out.append(line)
    return out


def man_blocks(text):
    """The lines of a man page's .Bd -literal blocks with the escapes \\& \\e \\- undone, one empty
    line after each block."""
    out, inblock = [], False
    for line in lines_of(text):
        if line.startswith(".Bd -literal"):
            inblock = True
        elif line.startswith(".Ed"):
            if inblock:
                out.append("")
            inblock = False
        elif inblock:
            out.append(line.replace("\\&", "").replace("\\e", "\\").replace("\\-", "-"))
    return out


def field(ssh_g, key):
    """The value of KEY in `ssh -G` output ("" when absent; lines joined when repeated)."""
    prefix = key + " "
    return "\n".join(line[len(prefix):] for line in lines_of(ssh_g) if line.startswith(prefix))


def strip_comment(line):
    """A command line without its leading "$ " and from its first "#" on."""
    return line.removeprefix("$ ").split("#", 1)[0]


def after_at(word):
    """user@host -> host (the text after the first @, or the word itself)."""
    return word.split("@", 1)[1] if "@" in word else word


class ExamplesTest:
    """The checks, over one temporary directory that holds the binary as "ssh-proxy" (on PATH, and
    as the try-it line's bazel-bin/ssh-proxy) and the fragment as installed."""

    def __init__(self, checks, proxy, manpage, conf, tmp):
        self.checks = checks
        self.proxy = proxy
        self.manpage = manpage
        self.tmp = tmp
        self.bin = f"{tmp}/bin/ssh-proxy"
        self.tryit = f"{tmp}/tryit"
        os.makedirs(f"{tmp}/bin")
        os.makedirs(f"{self.tryit}/bazel-bin")
        os.symlink(proxy, self.bin)
        os.symlink(proxy, f"{self.tryit}/bazel-bin/ssh-proxy")
        fragment = pathlib.Path(conf).read_text()
        # The fragment as the install script writes it, once for the documents' path and once for
        # ours.
        self.fragment_test = f"{tmp}/fragment.test"
        pathlib.Path(self.fragment_test).write_text(fragment.replace("@SSH_PROXY@", self.bin))
        self.fragment_lines = [
            line for line in lines_of(fragment.replace("@SSH_PROXY@", INSTALLED_PATH))
            if not re.match(r"[ \t\n\r\v\f]*(#|$)", line)]

    def shell(self, script, *args, cwd=None, env=None, path=None):
        """Runs a bash script in the temporary directory with stdin from /dev/null; returns its
        exit status (None on timeout) and its stdout and stderr together without trailing
        newlines, as $(... 2>&1) does."""
        if path is not None:
            env = dict(os.environ if env is None else env, PATH=path)
        r = check.run(["bash", "-c", "exec 2>&1\n" + script, *args], timeout=TIMEOUT,
                      cwd=cwd or self.tmp, env=env)
        return r.rc, r.out.rstrip("\n")

    # --- "$ ssh-proxy" examples ------------------------------------------------------------------
    def run_transcripts(self, name, blocks):
        """Checks every "$ " command of blocks against the lines after it."""
        cmd, expected, count, last_rc = "", "", 0, 0
        for line in blocks + [""]:
            if cmd and (line.startswith("$ ") or not line):
                if cmd == "echo $?":
                    out, rc = str(last_rc), 0
                else:
                    rc, out = self.shell(cmd, path=f"{self.tmp}/bin:/usr/bin:/bin")
                    last_rc = rc
                documented = expected.removesuffix("\n")
                if out == documented:
                    self.checks.ok(f"{name} example: $ {cmd}")
                else:
                    self.checks.fail(f"{name} example: $ {cmd}",
                                     f"got [{out}] (exit {rc}), documented [{documented}]")
                count += 1
                cmd, expected = "", ""
            if line.startswith("$ "):
                cmd = line[2:]
                if cmd.startswith(("ssh ", "scp ")):
                    cmd = ""  # checked by check_ssh_line
                elif not (cmd.startswith("ssh-proxy ") or cmd == "echo $?"):
                    self.checks.fail(f"{name} example: $ {cmd}",
                                     "not a command this test knows how to check")
                    cmd = ""
            elif cmd and line:
                expected += line + "\n"
        if count == 0:
            self.checks.fail(f"{name} transcripts", 'no "$ ssh-proxy" example found')

    # --- "ssh ..." and "scp ..." examples --------------------------------------------------------
    def check_ssh_line(self, name, line):
        """Resolves the line's host through the fragment with ssh -G and runs the resulting
        ProxyCommand with --dry-run."""
        line = strip_comment(line)
        words = re.split(r"[ \t\n]+", line.strip(" \t\n"))
        host, port, ssh_args = "", "22", []

        def word(i):
            return words[i] if i < len(words) else ""

        i = 1
        if words[0] == "ssh":
            while i < len(words):
                w = words[i]
                if w == "-p":
                    i += 1
                    port = word(i)
                    ssh_args += ["-p", port]
                elif re.fullmatch(r"-[BbcDEeFIiJLlmOoQRSWw]", w):
                    i += 1
                    ssh_args += [w, word(i)]
                elif w.startswith("-"):
                    ssh_args.append(w)
                else:
                    host = after_at(w)
                    break
                i += 1
        else:
            while i < len(words):
                w = words[i]
                if w == "-P":
                    i += 1
                    port = word(i)
                elif re.fullmatch(r"-[cFiJloPS]", w):
                    i += 1
                elif not w.startswith("-") and ":" in w:
                    host = after_at(w.split(":", 1)[0])
                i += 1
            ssh_args = ["-p", port]
        if not host:
            self.checks.fail(f"{name}: {line}", "no host found")
            return
        r = check.run(["ssh", "-G", "-F", self.fragment_test, *ssh_args, host], timeout=TIMEOUT)
        g = (r.out + r.err).rstrip("\n")
        if r.rc != 0:
            self.checks.fail(f"{name}: {line}", f"ssh -G failed: {g}")
            return
        pc, fd = field(g, "proxycommand"), field(g, "proxyusefdpass")
        port = field(g, "port")
        if not pc.startswith(self.bin + " ") or fd != "yes":
            self.checks.fail(f"{name}: {line}",
                             f'the fragment does not send "{host}" to ssh-proxy '
                             f"(proxycommand [{pc}], proxyusefdpass [{fd}])")
            return
        # Expand as ssh does: %n is the host as typed, %p the port, %% a percent sign.
        expanded = re.sub(r"%[np%]", lambda m: {"%n": host, "%p": port, "%%": "%"}[m[0]],
                          pc.removeprefix(self.bin))
        rc, out = self.shell(f'exec "$0" --dry-run {expanded}', self.bin)
        if rc == 0 and re.match(r"(unix|vsock|vsock-mux) path=|vsock cid=", out):
            self.checks.ok(f"{name}: {line} -> {out}")
        else:
            self.checks.fail(f"{name}: {line}", f"ProxyCommand with --dry-run: exit {rc}, [{out}]")

    def check_alias_line(self, name, line):
        """A "ProxyCommand /usr/local/libexec/ssh-proxy ARGS" of a Host alias, run with
        --dry-run."""
        args = line.split(f"ProxyCommand {INSTALLED_PATH}", 1)[1]
        args = args.replace("%p", "22").replace("%n", "vsock/4711")
        rc, out = self.shell(f'exec "$0" --dry-run {args}', self.bin)
        if rc == 0:
            self.checks.ok(f"{name}: {line} -> {out}")
        else:
            self.checks.fail(f"{name}: {line}", f"with --dry-run: exit {rc}, [{out}]")

    def check_tryit_line(self, name, line):
        """'ssh -o ProxyCommand="$PWD/bazel-bin/ssh-proxy '%n' %p" -o ProxyUseFdpass=yes HOST',
        resolved by ssh -G with its own options (and no configuration file), the binary under test
        standing for $PWD/bazel-bin/ssh-proxy."""
        line = strip_comment(line)
        # The documented line is shell syntax: the shell's own word splitting runs it, with
        # ssh -G in place of ssh.
        rc, g = self.shell('ssh() { command ssh -F /dev/null -G "$@"; }; ' + line,
                           cwd=self.tryit, env=dict(os.environ, PWD=self.tryit))
        if rc != 0:
            self.checks.fail(f"{name}: {line}", f"ssh -G failed: {g}")
            return
        pc, fd = field(g, "proxycommand"), field(g, "proxyusefdpass")
        host = field(g, "hostname")
        if not pc.startswith(f"{self.tryit}/bazel-bin/ssh-proxy ") or fd != "yes":
            self.checks.fail(f"{name}: {line}",
                             "not sent to bazel-bin/ssh-proxy with fd passing "
                             f"(proxycommand [{pc}], proxyusefdpass [{fd}])")
            return
        expanded = pc.replace("%n", host).replace("%p", "22")
        rc, out = self.shell("exec " + expanded.replace("ssh-proxy ", "ssh-proxy --dry-run ", 1))
        if rc == 0 and out.startswith("unix path="):
            self.checks.ok(f"{name}: {line} -> {out}")
        else:
            self.checks.fail(f"{name}: {line}", f"ProxyCommand with --dry-run: exit {rc}, [{out}]")

    def check_command_lines(self, name, blocks):
        """Checks each ssh/scp line, try-it line and Host alias of blocks; at least one ssh or scp
        line must be there."""
        n = 0
        for line in blocks:
            t = line.lstrip(_BLANKS)
            if t.startswith(("ssh -o ProxyCommand=", "$ ssh -o ProxyCommand=")):
                self.check_tryit_line(f"{name} try-it example", t)
                n += 1
            elif t.startswith(("$ ssh ", "$ scp ", "ssh ", "scp ")):
                self.check_ssh_line(f"{name} ssh example", t)
                n += 1
            elif t == f"ProxyCommand {INSTALLED_PATH} '%n' %p":
                pass  # the fragment itself (compared by check_fragment)
            elif t.startswith(f"ProxyCommand {INSTALLED_PATH} "):
                self.check_alias_line(f"{name} alias", t)
        if n == 0:
            self.checks.fail(f"{name} ssh examples", "none found")

    # --- the ssh_config fragment as documented ---------------------------------------------------
    def check_fragment(self, name, blocks):
        """Some block's "Host unix/* ..." section (up to its first blank line) equals the installed
        fragment, leading blanks aside."""
        shown, on = [], False
        for line in blocks:
            if re.match(r"[ \t\n\r\v\f]*Host unix/\*", line):
                on = True
            if on and not line.strip(_BLANKS):
                break
            if on:
                shown.append(line.lstrip(_BLANKS))
        want = [line.lstrip(_BLANKS) for line in self.fragment_lines]
        title = f"{name} shows the installed ssh_config fragment"
        if shown == want:
            self.checks.ok(title)
        else:
            self.checks.fail(title, "\n".join(difflib.unified_diff(
                want, shown, f"{self.tmp}/fragment.cmp", f"{self.tmp}/{name}.fragment",
                lineterm="")))

    # --- options, exit codes, version ------------------------------------------------------------
    def proxy_output(self, *args, stderr=True):
        """What the binary prints for args (stdout, with stderr after it when asked), without
        trailing newlines."""
        r = check.run([self.proxy, *args], timeout=TIMEOUT)
        return (r.out + (r.err if stderr else "")).rstrip("\n")

    def check_options(self):
        """Every --option --help names appears in the rendered man page; every exit code has its
        .It line."""
        title = "every --help option is documented in the man page"
        options = sorted(set(re.findall(r"--[a-z][a-z-]+", self.proxy_output("--help"))))
        try:
            mandoc = check.run(["mandoc", "-Tascii", self.manpage], timeout=TIMEOUT)
            rendered = check.run(["col", "-b"], stdin=mandoc.out.encode(), timeout=TIMEOUT).out
        except OSError as e:
            self.checks.fail(title, f"cannot render the man page with mandoc and col: {e}")
        else:
            missing_man = "".join(f" {opt}" for opt in options if opt not in rendered)
            self.checks.expect(title, not missing_man, f"it lacks:{missing_man}")
        page = lines_of(pathlib.Path(self.manpage).read_text())
        missing = [f"man:{code}" for code in EXIT_CODES if f".It {code}" not in page]
        if not missing:
            self.checks.ok(f"exit codes {' '.join(EXIT_CODES)} are documented in the man page")
        else:
            self.checks.fail("exit codes documented", " ".join(missing))

    def check_version(self):
        """The man page's footer (.Os) carries the version --version prints."""
        os_version = "\n".join(line.removeprefix(".Os ssh-proxy ")
                               for line in lines_of(pathlib.Path(self.manpage).read_text())
                               if line.startswith(".Os ssh-proxy "))
        version = self.proxy_output("--version", stderr=False)
        if f"ssh-proxy {os_version}" == version:
            self.checks.ok(f"the man page's .Os names the version --version prints ({os_version})")
        else:
            self.checks.fail("the man page's .Os names the version --version prints",
                             f".Os [{os_version}], --version [{version}]")

    def check_help(self):
        """--help names the path the binary runs from (/proc/self/exe), not the install default,
        and its ssh_config sample is the fragment."""
        real = os.path.realpath(self.proxy)
        help_lines = lines_of(self.proxy_output("--help") + "\n")
        if any(f"ProxyCommand {real} '%n' %p" in line for line in help_lines):
            self.checks.ok("--help's ssh_config sample names the binary's own path")
        else:
            self.checks.fail("--help's ssh_config sample names the binary's own path",
                             "\n".join(line for line in help_lines if "ProxyCommand" in line))
        self.check_fragment("--help", [
            line.replace(f"ProxyCommand {real} ", f"ProxyCommand {INSTALLED_PATH} ", 1)
            for line in help_lines])


def logical_cwd():
    """The working directory as the shell names it ($PWD when it is this directory)."""
    pwd = os.environ.get("PWD")
    if pwd and os.path.isabs(pwd) and os.path.samefile(pwd, "."):
        return pwd
    return os.getcwd()


def main(argv):
    """Runs every check; returns the exit status (0, 1 if a check failed, 2 on a usage error)."""
    if len(argv) < 5:
        print(f"usage: {argv[0]} SSH_PROXY ssh-proxy.1 20-ssh-proxy.conf README.md [OTHER.md ...]",
              file=sys.stderr)
        return 2
    pwd = logical_cwd()
    proxy, manpage, conf, readme, *others = [
        arg if arg.startswith("/") else f"{pwd}/{arg}" for arg in argv[1:]]
    checks = check.Checks()
    tmp = tempfile.mkdtemp(prefix="docs.", dir=os.environ.get("TEST_TMPDIR", "/tmp"))
    try:
        test = ExamplesTest(checks, proxy, manpage, conf, tmp)
        man = man_blocks(pathlib.Path(manpage).read_text())
        test.run_transcripts("man", man)
        test.check_command_lines("man", man)
        test.check_fragment("man", man)
        for doc in [readme, *others]:
            name = doc.removeprefix(f"{pwd}/")
            blocks = md_blocks(pathlib.Path(doc).read_text())
            # A document with no example of its own kind is fine; README.md must have both.
            if doc == readme or any(line.startswith("$ ssh-proxy ") for line in blocks):
                test.run_transcripts(name, blocks)
            if doc == readme or any(re.match(r"(\$ )?(ssh|scp) ", line) for line in blocks):
                test.check_command_lines(name, blocks)
        test.check_version()
        readme_lines = pathlib.Path(readme).read_bytes().count(b"\n")
        if readme_lines <= 160:
            checks.ok(f"README.md is the way in ({readme_lines} lines)")
        else:
            checks.fail("README.md is the way in",
                        f"{readme_lines} lines; the reference belongs in the man page")
        test.check_help()
        test.check_options()
    finally:
        shutil.rmtree(tmp)
    return checks.summary()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
