#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
"""hardening_check.py: checks the hardening of the release binary in its ELF, one line per
property, and exits non-zero if one is missing.

  tools/hardening_check.py                   bazel build --config=release //:ssh-proxy, then check
                                             it and our object files under bazel-bin/src/_objs
  tools/hardening_check.py --binary=FILE [--objects=DIR] [--link-only]
                                             check FILE (and the .o files below DIR)

--link-only checks only what the link decides and holds for every configuration (PIE, RELRO,
BIND_NOW, NX stack, no TEXTREL/RPATH, a stack protector): //tests/install:hardening_test runs it
on the fastbuild binary inside `bazel test`. The full check wants the release build: it also reads
the compiler switches gcc recorded in .GCC.command.line (-frecord-gcc-switches).

Why not just Debian's hardening-check (devscripts)? It reads the dynamic symbol table, which a
static PIE does not have: it reports "Stack protected: no" and "Fortify: unknown" for this binary
although both are compiled in. It is run at the end for information only.
What the checks read:
  PIE            ELF type DYN and static-pie (no PT_INTERP) or a PT_INTERP PIE (readelf -h, -l)
  RELRO          a PT_GNU_RELRO segment
  BIND_NOW       DT_FLAGS has BIND_NOW or DT_FLAGS_1 has NOW (full RELRO = both)
  NX stack       PT_GNU_STACK without E
  stack protector __stack_chk_fail in .symtab, referenced by our objects, and
                 -fstack-protector-strong (or -all) as the last -fstack-protector* switch
  fortify        *_chk functions in .symtab, referenced by our objects, and optimisation >= -O1
                 (gcc does not record -D options, so _FORTIFY_SOURCE=2 itself is taken from the
                 compile actions: bazel aquery, when this script builds)
  stack clash    -fstack-clash-protection recorded for every object
  CET            -fcf-protection (=full) recorded; our objects' .note.gnu.property says IBT, SHSTK.
                 The binary cannot carry the note: Debian 12's libabsl_*.a objects have none, so
                 the linker drops it (reported, not a failure, once that cause is verified).

BAZEL_STARTUP_OPTIONS and BAZEL_BUILD_OPTIONS (empty by default) are passed to bazel, as in
tools/demo.sh.
Exit status: 0 when every property holds, 1 when one is missing (or the build failed), 2 on a
usage error, a missing tool or a missing binary.
"""

import collections
import os
import pathlib
import re
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "testing"))

import check  # pylint: disable=wrong-import-position

PROG = "hardening_check.py"
# readelf and nm over one binary take well under a second; a minute means they hang.
TOOL_TIMEOUT = 60
# A cold release build takes about a minute on these machines; an hour means it hangs.
BUILD_TIMEOUT = 3600
ABSL = "/usr/lib/x86_64-linux-gnu/libabsl_strings.a"


def tool(*argv):
    """The stdout of a binutils command (stderr dropped, exit status ignored: a missing section
    or table simply gives no lines, as the checks expect)."""
    return check.run(list(argv), timeout=TOOL_TIMEOUT).out


def grep(pattern, text):
    """The lines of text in which the regular expression pattern matches."""
    return [line for line in text.splitlines() if re.search(pattern, line)]


def counted(values):
    """`sort | uniq -c`, each line as "N value", in byte order of the values."""
    return [f"{n} {value}" for value, n in sorted(collections.Counter(values).items())]


class Report:
    """The verdict lines and the count of missing properties."""

    def __init__(self):
        self.failures = 0

    def __call__(self, verdict, prop, detail):
        """Prints one line "PROPERTY: yes|no|info DETAIL"; a "no" counts as missing."""
        print(f"{prop + ':':<18} {verdict:<4} {detail}", flush=True)
        if verdict == "no":
            self.failures += 1


def parse_args(argv):
    """(binary, objects, link_only) from the command line; exits 0 after --help and 2 on an
    unknown argument."""
    binary, objects, link_only = "", "", False
    for arg in argv:
        if arg.startswith("--binary="):
            binary = arg.split("=", 1)[1]
        elif arg.startswith("--objects="):
            objects = arg.split("=", 1)[1]
        elif arg == "--link-only":
            link_only = True
        elif arg in ("-h", "--help"):
            print(__doc__.rstrip("\n"))
            sys.exit(0)
        else:
            print(f'{PROG}: unknown argument "{arg}"', file=sys.stderr)
            sys.exit(2)
    return binary, objects, link_only


def bazel(*args, capture):
    """Runs bazel in the source tree with BAZEL_STARTUP_OPTIONS before the command and
    BAZEL_BUILD_OPTIONS after its first two words. With capture, returns (rc, stdout) and drops
    stderr; without, bazel's output goes to ours and (rc, None) comes back."""
    startup = os.environ.get("BAZEL_STARTUP_OPTIONS", "").split()
    opts = os.environ.get("BAZEL_BUILD_OPTIONS", "").split()
    argv = ["bazel", *startup, *args[:2], *opts, *args[2:]]
    if capture:
        r = check.run(argv, timeout=BUILD_TIMEOUT, cwd=ROOT)
        return r.rc, r.out
    sys.stdout.flush()
    try:
        return subprocess.run(argv, cwd=ROOT, timeout=BUILD_TIMEOUT, check=False).returncode, None
    except subprocess.TimeoutExpired:
        print(f"{PROG}: bazel {args[0]} ran past {BUILD_TIMEOUT} s", file=sys.stderr)
        return 1, None


def fortify_of_actions(aquery):
    """From `bazel aquery --output=text`: per compile action, the last -D_FORTIFY_SOURCE[=N] or
    -U_FORTIFY_SOURCE of its command line, counted (["14 -D_FORTIFY_SOURCE=2"])."""
    lasts, on, last = [], False, ""
    for line in aquery.split("\n"):
        if line.startswith("  Command Line:"):
            on = True
        if on and "_FORTIFY_SOURCE" in line:
            last = line
        if not line:
            if on and last:
                m = re.match(r".*(-[UD]_FORTIFY_SOURCE(=[0-9])?)", last)
                lasts.append(m[1] if m else last)
            on, last = False, ""
    return counted(lasts)


def build_release():
    """bazel build --config=release //:ssh-proxy; returns (binary, objects dir, the counted
    _FORTIFY_SOURCE of //src's compile actions), or exits 1 when the build fails."""
    print("== bazel build --config=release //:ssh-proxy", flush=True)
    if bazel("build", "--config=release", "//:ssh-proxy", capture=False)[0] != 0:
        sys.exit(1)
    rc, bin_dir = bazel("info", "--config=release", "bazel-bin", capture=True)
    if rc != 0:
        sys.exit(1)
    bin_dir = bin_dir.rstrip("\n")
    # gcc records no -D switches: take _FORTIFY_SOURCE from the compile actions of //src, where
    # the last -D_FORTIFY_SOURCE/-U_FORTIFY_SOURCE decides.
    _, aquery = bazel("aquery", "--config=release", "--output=text",
                      'mnemonic("CppCompile", deps(//src:main))', capture=True)
    return f"{bin_dir}/ssh-proxy", f"{bin_dir}/src/_objs", fortify_of_actions(aquery)


def our_objects(binary, objects):
    """The object files the binary was linked from (gcc recorded each one's
    -frandom-seed=bazel-out/.../NAME.o, Bazel's output path), else every .o below objects."""
    if not objects or not os.path.isdir(objects):
        return []
    execroot = objects.split("/bazel-out/", 1)[0]
    seeds = sorted(set(m[len("-frandom-seed="):] for m in re.findall(
        r"-frandom-seed=bazel-out/[^ ]+\.o", tool("readelf", "-p", ".GCC.command.line", binary))))
    objs = [f"{execroot}/{seed}" for seed in seeds if os.path.isfile(f"{execroot}/{seed}")]
    if not objs:
        objs = sorted(str(p) for p in pathlib.Path(objects).rglob("*.o"))
    return objs


def check_link(report, binary):
    """What the link decides: PIE, RELRO, BIND_NOW, NX stack, no TEXTREL, no RPATH."""
    header = tool("readelf", "-hW", binary)
    segments = tool("readelf", "-lW", binary)
    dynamic = tool("readelf", "-dW", binary)
    print(f"== {binary}", flush=True)

    elf_type = "\n".join(line.split()[1] for line in grep(r"^ *Type:", header))
    interp = "INTERP" in segments
    if elf_type == "DYN" and interp:
        report("yes", "PIE", "ET_DYN with an interpreter (dynamic PIE)")
    elif elf_type == "DYN" and grep(r"FLAGS_1.*PIE", dynamic):
        report("yes", "PIE", "ET_DYN, no interpreter, DF_1_PIE: static-pie")
    else:
        report("no", "PIE", f"ELF type {elf_type} ({'dynamic' if interp else 'static'})")

    if "GNU_RELRO" in segments:
        report("yes", "RELRO", "PT_GNU_RELRO present")
    else:
        report("no", "RELRO", "no PT_GNU_RELRO segment")
    if grep(r"\(FLAGS\).*BIND_NOW", dynamic) or grep(r"\(FLAGS_1\).*NOW", dynamic):
        flags = [re.sub(" +", " ", re.sub(r"^ *0x[0-9a-f]+ +", "", line))
                 for line in grep(r"\((FLAGS|FLAGS_1)\)", dynamic)]
        report("yes", "BIND_NOW", ";".join(flags))
    else:
        report("no", "BIND_NOW",
               "neither DT_FLAGS BIND_NOW nor DT_FLAGS_1 NOW (partial RELRO only)")

    stack = "\n".join(line.split()[-2] for line in grep("GNU_STACK", segments))
    if stack and "E" not in stack:
        report("yes", "NX stack", f"PT_GNU_STACK flags {stack}")
    else:
        report("no", "NX stack", f"PT_GNU_STACK {stack or 'missing'}")
    if grep(r"\(TEXTREL\)|FLAGS\).*TEXTREL", dynamic):
        report("no", "no TEXTREL", "text relocations present")
    else:
        report("yes", "no TEXTREL", "none")
    rpath = grep(r"\((RPATH|RUNPATH)\)", dynamic)
    if rpath:
        report("no", "no RPATH", "\n".join(re.sub(" +", " ", line) for line in rpath))
    else:
        report("yes", "no RPATH", "none")


def obj_refs(objs, pattern):
    """How many of objs reference (nm -u) a symbol whose line matches pattern."""
    return sum(1 for o in objs if grep(pattern, tool("nm", "-u", o)))


def check_stack_protector(report, symbols, objs):
    """__stack_chk_fail is linked in, and our own objects (not only libraries) call it."""
    if not grep(r" __stack_chk_fail$", symbols):
        report("no", "stack protector", "no __stack_chk_fail in .symtab")
        return
    detail = "__stack_chk_fail in .symtab"
    if objs:
        n = obj_refs(objs, r" __stack_chk_fail$")
        detail += f", referenced by {n} of our {len(objs)} objects"
        if n == 0:
            report("no", "stack protector", f"{detail} (only libraries use it)")
            return
    report("yes", "stack protector", detail)


def check_switches(report, binary, symbols, objs, fortify_actions):
    """The compiler switches gcc recorded, and fortify (which also needs optimisation)."""
    dump = tool("readelf", "-p", ".GCC.command.line", binary)
    switches = [m[1] for m in (re.match(r" *\[ *[0-9a-f]*\] *(.*)", line)
                               for line in dump.splitlines()) if m]
    if not switches:
        report("no", "recorded switches",
               "no .GCC.command.line section (build with --config=release)")
        return

    def check_switch(prop, pattern, good):
        # For every recorded command line, the last switch matching pattern ("-" for none).
        lasts = counted([([w for w in line.split() if re.search(pattern, w)] or ["-"])[-1]
                         for line in switches])
        if all(re.search(f" ({good})$", last) for last in lasts):
            report("yes", prop, f"all {len(switches)} recorded command lines: {' '.join(lasts)}")
        else:
            report("no", prop, f"last switch per command line: {' '.join(lasts)}")

    check_switch("-fstack-protector", r"^-f(no-)?stack-protector",
                 r"-fstack-protector-(strong|all)")
    check_switch("stack clash", r"^-f(no-)?stack-clash-protection$", r"-fstack-clash-protection")
    check_switch("-fcf-protection", r"^-f(no-)?cf-protection", r"-fcf-protection(=full)?")
    check_switch("optimisation", r"^-O", r"-O([1-3]|s|fast|z)?")

    fortify_syms = sorted(set(m[0].strip() for m in (re.search(r" __[a-z0-9_]+_chk$", line)
                                                       for line in symbols.splitlines())
                              if m and "stack_chk" not in m[0]))
    if not fortify_syms:
        report("no", "fortify", "no *_chk function in .symtab")
        return
    detail = f"*_chk in .symtab: {' '.join(fortify_syms)}"
    ok = True
    if objs:
        n = obj_refs(objs, r" __[a-z0-9_]+_chk$")
        detail += f"; referenced by {n} of our objects"
        ok = n > 0
    if fortify_actions:
        detail += f"; compile actions: {' '.join(fortify_actions)}"
        if not all(re.fullmatch(r"[0-9]+ -D_FORTIFY_SOURCE=[23]", a) for a in fortify_actions):
            ok = False
    report("yes" if ok else "no", "fortify", detail)


def cet_note(path):
    """The x86 feature list of path's .note.gnu.property lines, one per line."""
    return [re.sub(r".*x86 feature: ", "", line)
            for line in grep("x86 feature", tool("readelf", "-nW", path))]


def check_cet(report, binary, objs):
    """The binary's CET marking, or else our objects' and the verified reason it is missing."""
    notes = cet_note(binary)
    note = notes[0] if notes else ""
    if "IBT" in note and "SHSTK" in note:
        report("yes", "CET marking", f"the binary's .note.gnu.property: {note}")
        return
    if objs:
        unmarked = 0
        for o in objs:
            n = "\n".join(cet_note(o))
            if not ("IBT" in n and "SHSTK" in n):
                unmarked += 1
        if unmarked == 0:
            report("yes", "CET (our code)", f"all {len(objs)} of our objects carry IBT, SHSTK")
        else:
            report("no", "CET (our code)", f"{unmarked} of {len(objs)} objects lack IBT/SHSTK")
    # Verify the stated cause: an abseil archive member without the note.
    if os.path.exists(ABSL) and "IBT" not in tool("readelf", "-nW", ABSL):
        report("info", "CET marking",
               f"not possible with Debian's absl (no IBT note in libabsl_*.a, e.g. {ABSL}), so "
               "the linker leaves the binary unmarked")
    else:
        report("no", "CET marking", f"the binary has no IBT/SHSTK note ({note or 'none'}) and "
               "abseil is not the cause")


def main(argv):
    """Runs the checks; returns the exit status (0 all hold, 1 one is missing, 2 cannot check)."""
    binary, objects, link_only = parse_args(argv[1:])
    for needed in ("readelf", "nm"):
        if shutil.which(needed) is None:
            print(f"{PROG}: needs {needed} (binutils)", file=sys.stderr)
            return 2
    fortify_actions = []
    if not binary:
        binary, objects, fortify_actions = build_release()
    if not os.path.isfile(binary):
        print(f"{PROG}: no binary at {binary}", file=sys.stderr)
        return 2

    report = Report()
    symbols = tool("nm", binary)
    check_link(report, binary)
    objs = our_objects(binary, objects)
    check_stack_protector(report, symbols, objs)
    # The rest needs the recorded switches (release build) unless --link-only.
    if link_only:
        print(f"(--link-only: compiler switches, fortify and CET are checked on the release build "
              f"by tools/{PROG})")
    else:
        check_switches(report, binary, symbols, objs, fortify_actions)
        check_cet(report, binary, objs)

    if shutil.which("hardening-check"):
        print("== Debian's hardening-check, for information (it cannot judge a static binary):",
              flush=True)
        r = check.run(["hardening-check", binary], timeout=TOOL_TIMEOUT)
        for line in (r.out + r.err).splitlines():
            print(f"    {line}")

    if report.failures == 0:
        print("hardening: PASS")
        return 0
    print(f"hardening: FAIL ({report.failures} missing)")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
