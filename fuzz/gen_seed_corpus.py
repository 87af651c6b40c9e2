#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
"""Writes the seed corpora of the fuzz targets: fuzz/<target>_corpus/seed-<what>.

Each seed's name says what it covers. Run from anywhere; it rewrites only seed-* files, so crash
reproducers (crash-*, regression-*) and entries a fuzzer added (hash names) stay. The files are
checked in; this script documents and regenerates them:
    python3 fuzz/gen_seed_corpus.py
"""

import pathlib
import re

FUZZ = pathlib.Path(__file__).resolve().parent


def write(target, seeds, crashes=()):
    """Writes seed-<name> for each seed (after deleting old seed-* files) and crash-<name> for each
    reproducer of a bug found in src/ (never deleted: they keep the bug fixed)."""
    d = FUZZ / (target + "_corpus")
    d.mkdir(exist_ok=True)
    for old in d.glob("seed-*"):
        old.unlink()
    names = set()
    for prefix, entries in (("seed-", seeds), ("crash-", crashes)):
        for name, data in entries:
            assert re.fullmatch(r"[a-z0-9][a-z0-9.+_-]*", name), name
            assert name not in names, name
            names.add(name)
            (d / (prefix + name)).write_bytes(data)
    print(f"{target}: {len(seeds)} seeds, {len(crashes)} crash reproducers")


# ---- address_fuzzer: HOST NUL PORT (without NUL: PORT is "22"). ----

def addr(host, port=b"22"):
    return host + b"\0" + port

long_ok = b"unix/" + b"a/" * 2046 + b"bb"                      # "/" + R = 4095 bytes: the maximum
assert len(long_ok) - len(b"unix") == 4095
long_bad = long_ok + b"c"                                       # 4096 bytes: one too many
sun_107 = b"unix/" + b"s" * 106                                 # 107 bytes + NUL fill sun_path
sun_108 = b"unix/" + b"s" * 107                                 # 108: needs /proc/self/fd/N

address = [
    # Every accepted form, with both separators.
    ("unix-slash", addr(b"unix/run/x.sock")),
    ("unix-percent", addr(b"unix%run/x.sock")),
    ("unix-percent-in-path", addr(b"unix/run/a%b")),
    ("unix-high-bytes-allowed", addr(b"unix/run/\xc3\xa9\x80\xff")),
    ("unix-dot-prefixed-component", addr(b"unix/run/.x/..y/...")),
    ("dot-host", addr(b".host")),
    ("dot-host-any-port", addr(b".host", b"4294967294")),
    ("vsock-slash", addr(b"vsock/3")),
    ("vsock-percent", addr(b"vsock%4711")),
    ("vsock-hypervisor", addr(b"vsock/hypervisor")),
    ("vsock-local", addr(b"vsock/local")),
    ("vsock-host", addr(b"vsock/host")),
    ("vsock-host-percent", addr(b"vsock%host")),
    ("vsock-mux-slash", addr(b"vsock-mux/run/vm.sock")),
    ("vsock-mux-percent", addr(b"vsock-mux%run/vm.sock", b"1024")),
    ("no-nul-port-defaults", b"vsock/4"),
    # CID and port boundaries.
    ("vsock-cid-0", addr(b"vsock/0")),
    ("vsock-cid-max", addr(b"vsock/4294967294")),
    ("vsock-cid-any-refused", addr(b"vsock/4294967295")),
    ("vsock-cid-2-32-overflow", addr(b"vsock/4294967296")),
    ("vsock-cid-11-digits", addr(b"vsock/99999999999")),
    ("vsock-cid-empty", addr(b"vsock/")),
    ("port-1", addr(b"vsock/3", b"1")),
    ("port-max", addr(b"vsock/3", b"4294967294")),
    ("port-any-refused", addr(b"vsock/3", b"4294967295")),
    ("port-2-32-overflow", addr(b"vsock/3", b"4294967296")),
    ("port-empty", addr(b"vsock/3", b"")),
    ("port-extra-nul", addr(b"vsock/3", b"22\0" + b"1")),
    ("port-checked-for-unix", addr(b"unix/run/x", b"x")),
    # PATH boundaries.
    ("path-4095-max", addr(long_ok)),
    ("path-4096-too-long", addr(long_bad)),
    ("path-107-fits-sun-path", addr(sun_107)),
    ("path-108-via-proc-fd", addr(sun_108)),
    ("path-empty", addr(b"unix/")),
    ("path-root-slash", addr(b"unix//")),
    ("path-leading-slash", addr(b"unix//run/x")),
    ("path-trailing-slash", addr(b"unix/run/x/")),
    ("path-double-slash", addr(b"unix/run//x")),
    ("path-dot", addr(b"unix/run/./x")),
    ("path-dotdot", addr(b"unix/run/../x")),
    ("path-trailing-dot", addr(b"vsock-mux/run/.")),
    ("path-space", addr(b"unix/run/a b")),
    ("path-newline", addr(b"unix/run/x\n")),
    ("path-control-1", addr(b"unix/run/\x01")),
    ("path-del", addr(b"unix/run/\x7f")),
    ("path-escape-sequence", addr(b"unix/\x1b[31mred")),
    ("no-separator-unix", addr(b"unix")),
    ("no-separator-vsock-mux", addr(b"vsock-mux")),
    ("empty-host", addr(b"")),
    ("unknown-prefix", addr(b"tcp/1.2.3.4")),
    ("hostname", addr(b"example.com")),
    # systemd-ssh-proxy divergences (shared/notes/protocols.md): refused here, each with a reason.
    ("systemd-cid-hex", addr(b"vsock/0x16")),
    ("systemd-cid-hex-upper", addr(b"vsock/0X16")),
    ("systemd-cid-octal", addr(b"vsock/010")),
    ("systemd-cid-plus", addr(b"vsock/+3")),
    ("systemd-cid-leading-space", addr(b"vsock/ 3")),
    ("systemd-cid-minus-one", addr(b"vsock/-1")),
    ("systemd-cid-any-name", addr(b"vsock/any")),
    ("systemd-cid-name-case", addr(b"vsock/Host")),
    ("systemd-port-0-accepted-there", addr(b"vsock/3", b"0")),
    ("systemd-port-hex", addr(b"vsock/3", b"0x16")),
    ("systemd-port-octal", addr(b"vsock/3", b"010")),
    ("systemd-port-plus", addr(b"vsock/3", b"+22")),
    ("systemd-port-space", addr(b"vsock/3", b" 22")),
    ("systemd-port-minus", addr(b"vsock/3", b"-1")),
    ("systemd-mux-port-injection", addr(b"vsock-mux/run/vm.sock", b"22\nX\n")),
    ("systemd-relative-path", addr(b"unix%./s")),
    ("systemd-relative-path-slash", addr(b"unix/./s")),
    ("systemd-machine-lookup", addr(b"machine/foo")),
    # machine/NAME: systemd's hostname_is_valid(NAME, VALID_HOSTNAME_DOT_HOST).
    ("machine-percent", addr(b"machine%web-1.example")),
    ("machine-dot-host", addr(b"machine/.host")),
    ("machine-dot-host-percent-port", addr(b"machine%.host", b"2222")),
    ("machine-name-64", addr(b"machine/" + b"a" * 64)),
    ("machine-name-65", addr(b"machine/" + b"a" * 65)),
    ("machine-underscore", addr(b"machine/web_1")),
    ("machine-leading-hyphen", addr(b"machine/-a")),
    ("machine-hyphen-before-dot", addr(b"machine/a-.b")),
    ("machine-double-dot", addr(b"machine/a..b")),
    ("machine-trailing-dot", addr(b"machine/a.b.")),
    ("machine-double-hyphen", addr(b"machine/a--b")),
    ("machine-empty", addr(b"machine/")),
    ("machine-case", addr(b"Machine/web1")),
    ("machine-utf8", addr(b"machine/caf\xc3\xa9")),
    ("systemd-prefix-case-unix", addr(b"UNIX/run/x")),
    ("systemd-prefix-case-vsock", addr(b"Vsock%3")),
    ("systemd-prefix-case-mux", addr(b"VSOCK-MUX/run/x")),
    ("dot-host-case", addr(b".HOST")),
    ("dot-host-with-path", addr(b".host/x")),
    ("dot-host-percent", addr(b".host%x")),
    ("suggest-canonical-path", addr(b"unix%/run//x/./y/")),
    ("suggest-prefix-case-valid", addr(b"Unix%run/x")),
    ("bare-path-suggests-unix", addr(b"/run/x.sock")),
    ("bare-path-invalid-no-suggestion", addr(b"/run//x")),
    ("escape-backslash-quote-tab-cr", addr(b"tcp/\\\"\t\r")),
    ("port-escape-backslash-quote-tab", addr(b"vsock/3", b"2\\2\"\t")),
]

# Bugs the address fuzzer found in src/address.cc, one reproducer each.
address_crashes = [
    # "did you mean unix/<raw 0x9b>31m?": the PATH suggestion was appended unescaped, so a C1 CSI
    # byte reached the terminal (fixed in 5bf3e4a).
    ("address-raw-c1-byte-in-path-suggestion", addr(b"unix//\x9b31m")),
    # "prefixes are lowercase (did you mean unix/<ESC>]0;x<BEL>?)": the rest of a mis-cased HOST
    # was appended unescaped: a terminal title escape, and with "\n" a second line (fixed in
    # 5bf3e4a).
    ("address-raw-esc-in-prefix-case-suggestion", addr(b"UNIX/\x1b]0;x\x07")),
    ("address-raw-newline-in-prefix-case-suggestion", addr(b"Vsock%3\nfake: line")),
    # "prefixes are lowercase (did you mean unix/run/?)": the suggested spelling was itself refused
    # (trailing "/"): the lowercase suggestion was not checked against the grammar (fixed in
    # 33720dd).
    ("address-prefix-case-suggestion-does-not-parse", addr(b"UNIX/run/")),
    ("address-prefix-case-suggestion-bad-cid", addr(b"VSOCK/any")),
]

# ---- mux_reply_fuzzer: two split-mask bytes, then the stream. ----

NONE, ALL, MID = b"\0\0", b"\xff\xff", b"\x24\x01"

mux = [
    ("ok-vhost-22", NONE + b"OK 22\n"),
    ("ok-vhost-22-bytewise", ALL + b"OK 22\n"),
    ("ok-firecracker-first", NONE + b"OK 1073741824\n"),
    ("ok-firecracker-split", MID + b"OK 1073741824\n"),
    ("ok-then-banner", NONE + b"OK 1073741824\nSSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"),
    ("ok-then-banner-bytewise", ALL + b"OK 22\nSSH-2.0-OpenSSH_9.2\r\n"),
    ("ok-then-second-reply", NONE + b"OK 22\nOK 23\n"),
    ("ok-zero", NONE + b"OK 0\n"),
    ("ok-max-u32", NONE + b"OK 4294967295\n"),
    ("err-u32-overflow", NONE + b"OK 4294967296\n"),
    ("err-11-digits", NONE + b"OK 42949672950\n"),
    ("err-leading-zero", NONE + b"OK 01\n"),
    ("err-double-zero", NONE + b"OK 00\n"),
    ("err-empty-port", NONE + b"OK \n"),
    ("err-no-space", NONE + b"OK\n"),
    ("err-lowercase", NONE + b"ok 22\n"),
    ("err-crlf", NONE + b"OK 22\r\n"),
    ("err-minus", NONE + b"OK -1\n"),
    ("err-plus", NONE + b"OK +1\n"),
    ("err-leading-space", NONE + b" OK 22\n"),
    ("err-two-spaces", NONE + b"OK  22\n"),
    ("err-trailing-space", NONE + b"OK 22 \n"),
    ("err-error-word", NONE + b"ERROR\n"),
    ("err-newline-first", NONE + b"\n"),
    ("err-nul", NONE + b"\0"),
    ("err-banner-without-reply", NONE + b"SSH-2.0-OpenSSH_9.2\r\n"),
    ("err-high-byte", NONE + b"OK 2\x80\n"),
    ("need-empty", NONE),
    ("need-o", NONE + b"O"),
    ("need-ok", NONE + b"OK"),
    ("need-ok-space", NONE + b"OK "),
    ("need-no-newline", NONE + b"OK 22"),
    ("need-ten-digits", ALL + b"OK 4294967295"),
    ("mask-only-one-byte", b"\x01"),
]

# ---- cli_fuzzer: the arguments after argv[0], NUL-separated. ----

def argv(*args):
    return b"\0".join(args)

cli = [
    ("run", argv(b"unix/run/x.sock", b"22")),
    ("run-dry-run", argv(b"--dry-run", b"vsock/3", b"22")),
    ("run-verbose-short", argv(b"-v", b"vsock/3", b"22")),
    ("run-verbose-long", argv(b"--verbose", b"vsock/3", b"22")),
    ("run-bundled-vv", argv(b"-vv", b"vsock/3", b"22")),
    ("run-options-after-operands", argv(b"vsock/3", b"22", b"--dry-run", b"-v")),
    ("timeout-equals", argv(b"--timeout=5s", b"vsock/3", b"22")),
    ("timeout-separate", argv(b"--timeout", b"500ms", b"vsock/3", b"22")),
    ("timeout-minutes", argv(b"--timeout=2m", b"h", b"p")),
    ("timeout-max-1h", argv(b"--timeout=1h", b"h", b"p")),
    ("timeout-max-ms", argv(b"--timeout=3600000ms", b"h", b"p")),
    ("timeout-over-max", argv(b"--timeout=3600001ms", b"h", b"p")),
    ("timeout-61m", argv(b"--timeout=61m", b"h", b"p")),
    ("timeout-u32-max-ms", argv(b"--timeout=4294967295ms", b"h", b"p")),
    ("timeout-u32-overflow", argv(b"--timeout=4294967296ms", b"h", b"p")),
    ("timeout-u32-max-hours", argv(b"--timeout=4294967295h", b"h", b"p")),
    ("timeout-zero", argv(b"--timeout=0s", b"h", b"p")),
    ("timeout-leading-zero", argv(b"--timeout=05s", b"h", b"p")),
    ("timeout-no-unit", argv(b"--timeout=5", b"h", b"p")),
    ("timeout-bad-unit", argv(b"--timeout=5x", b"h", b"p")),
    ("timeout-upper-unit", argv(b"--timeout=5S", b"h", b"p")),
    ("timeout-plus", argv(b"--timeout=+5s", b"h", b"p")),
    ("timeout-space", argv(b"--timeout= 5s", b"h", b"p")),
    ("timeout-empty", argv(b"--timeout=", b"h", b"p")),
    ("timeout-missing-value", argv(b"h", b"p", b"--timeout")),
    ("timeout-value-is-dashdash", argv(b"--timeout", b"--", b"h", b"p")),
    ("timeout-value-is-help", argv(b"--timeout", b"-h", b"h", b"p")),
    ("timeout-repeated", argv(b"--timeout=1s", b"--timeout=2s", b"h", b"p")),
    ("help-short", argv(b"-h")),
    ("help-long", argv(b"--help")),
    ("help-after-operands", argv(b"a", b"b", b"c", b"-h")),
    ("help-bundled-after-v", argv(b"-vh")),
    ("help-bundled-before-bad", argv(b"-hx")),
    ("help-after-error", argv(b"--bogus", b"-h")),
    ("help-with-value", argv(b"--help=1")),
    ("version", argv(b"--version")),
    ("version-with-value", argv(b"--version=2")),
    ("dry-run-with-value", argv(b"--dry-run=yes", b"h", b"p")),
    ("mode-fdpass", argv(b"--fdpass", b"h", b"p")),
    ("mode-relay", argv(b"h", b"p", b"--relay")),
    ("mode-relay-repeated", argv(b"--relay", b"--relay", b"h", b"p")),
    ("mode-fdpass-and-relay-conflict", argv(b"--fdpass", b"h", b"p", b"--relay")),
    ("mode-relay-with-value", argv(b"--relay=yes", b"h", b"p")),
    ("mode-conflict-then-help", argv(b"--relay", b"--fdpass", b"-h")),
    ("unknown-short", argv(b"-x", b"h", b"p")),
    ("unknown-bundled", argv(b"-vx", b"h", b"p")),
    ("unknown-long", argv(b"--bogus", b"h", b"p")),
    ("unknown-empty-long", argv(b"--=x", b"h", b"p")),
    ("unknown-escape", argv(b"--\x1b[2J", b"h", b"p")),
    ("dashdash-then-dash-operand", argv(b"--", b"-h", b"p")),
    ("dashdash-twice", argv(b"--", b"--", b"p")),
    ("single-dash-operand", argv(b"-", b"p")),
    ("empty-operand", argv(b"h", b"")),
    ("no-arguments", b""),
    ("one-operand", argv(b"vsock/3")),
    ("three-operands", argv(b"a", b"b", b"c")),
    ("operand-escape", argv(b"a", b"b", b"\x9b\x1b[31m")),
]

# ---- mux_handshake_fuzzer: header, what the multiplexer sends, then the script. ----
# See fuzz/mux_handshake_fuzzer.cc for the header and fuzz/scripted_syscalls.cc for the meaning
# of each script byte; the names below spell the common ones.

MUX, UNIX, VSOCK = 0, 2, 3
CHECK, HANDOFF, VERBOSE, ONE_HOUR = 0x04, 0x08, 0x40, 0x80
SIZE_107, SIZE_108, SIZE_4095 = 0x10, 0x20, 0x30   # for vsock: CID 2, 4294967294, 0
SILENT, EOF, RESET = 0, 1, 2
OK = 0                      # socket, open, connect, send, recv, fcntl, getsockopt, sendmsg: success
C_INPROGRESS, C_EINTR, C_EAGAIN, C_REFUSED, C_ENOENT, C_ETIMEDOUT = 6, 7, 8, 9, 10, 11
S_EMFILE, S_EAFNOSUPPORT = 12, 14
O_ENOENT = 4
SO_REFUSED, SO_ETIMEDOUT = 4, 5
D_INET, D_ENOTSOCK = 1, 2
F_FAIL = 7
ST_FIFO, ST_REG = 1, 2
SEND_SHORT1, SEND_EINTR, SEND_EAGAIN, SEND_EPIPE = 0x01, 2, 3, 4
RECV_ENOMEM, RECV_VANISHED, RECV_EINTR = 12, 13, 14
MSG_EINTR, MSG_EAGAIN, MSG_ENOTSOCK, MSG_EPIPE, MSG_ZERO = 1, 2, 4, 5, 9
P_TIMEOUT, P_EINTR, P_ALL, P_ENOMEM = 0, 1, 7, 0xF9
SO_EBADF = 7


def P_PIECE(n, delay_steps=0):
    """Poll: a piece of n bytes arrives after delay_steps * 53 ms (two script bytes)."""
    return bytes([2 | delay_steps << 3, n - 1])


def P_LATE(delay_steps):
    """Poll: ready (POLLOUT) or all bytes arrive (POLLIN) after delay_steps * 53 ms."""
    return bytes([7 | delay_steps << 3])


def hs(flags, port=22, timeout_ms=10000, incoming=b"", end=SILENT, script=b"", closed_fd=None):
    """closed_fd: 0, 1 or 2 is closed while Connect runs, so the socket lands there."""
    t = (3600000 - timeout_ms) if flags & ONE_HOUR else (timeout_ms - 1) % 20000
    assert len(incoming) < 48
    flat = b"".join(x if isinstance(x, bytes) else bytes([x]) for x in script)
    after = end + (0 if closed_fd is None else 3 * (closed_fd + 1))
    return (bytes([flags]) + port.to_bytes(4, "little") + t.to_bytes(2, "little") +
            bytes([len(incoming), after]) + incoming + flat)

FC = b"OK 1073741824\n"
BANNER = b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"
HAPPY = [OK, OK, OK, P_ALL, OK, OK, OK, OK]       # socket connect send poll peek recv getfl setfl

handshake = [
    ("mux-vhost-reply", hs(MUX, 22, incoming=b"OK 22\n", script=HAPPY)),
    ("mux-firecracker-reply-then-banner", hs(MUX | CHECK | HANDOFF | VERBOSE, 22,
        incoming=FC + BANNER, script=[OK, OK] + HAPPY + [OK])),
    ("mux-reply-one-byte-pieces-with-eintr", hs(MUX, 2222, incoming=b"OK 1073741825\nSSH-",
        script=[OK, OK, SEND_EINTR, OK] + [
            P_PIECE(1) + bytes([OK, OK]) if i % 3 else bytes([P_EINTR]) + P_PIECE(1) +
            bytes([RECV_EINTR, OK, OK]) for i in range(14)] + [OK, OK])),
    ("mux-reply-two-pieces", hs(MUX, 22, incoming=b"OK 10737" + b"41824\nSSH-2.0-",
        script=[OK, OK, OK] + list(P_PIECE(5, 3)) + [OK, OK] + list(P_PIECE(16, 2)) +
        [OK, OK, OK, OK])),
    ("mux-short-writes-and-eagain", hs(MUX, 4294967294, incoming=b"OK 1\n",
        script=[OK, OK, SEND_SHORT1 | 1 << 3, SEND_EAGAIN, P_LATE(2), SEND_SHORT1 | 2 << 3, OK,
                P_ALL, OK, OK, OK, OK])),
    ("mux-send-epipe", hs(MUX, 22, script=[OK, OK, SEND_EPIPE])),
    ("mux-nothing-listening-eof", hs(MUX, 22, end=EOF, script=[OK, OK, OK, P_ALL, OK])),
    ("mux-nothing-listening-reset", hs(MUX, 22, end=RESET, script=[OK, OK, OK, P_ALL, OK])),
    ("mux-silent-timeout", hs(MUX, 22, timeout_ms=2000, script=[OK, OK, OK, P_TIMEOUT])),
    ("mux-partial-reply-then-timeout", hs(MUX | VERBOSE, 22, timeout_ms=500, incoming=b"OK 10",
        script=[OK, OK, OK, P_ALL, OK, OK, P_TIMEOUT])),
    ("mux-eof-mid-reply", hs(MUX, 22, incoming=b"OK 10", end=EOF,
        script=[OK, OK, OK, P_ALL, OK, OK, OK])),
    ("mux-garbage-reply", hs(MUX, 22, incoming=b"HTTP/1.1 400\r\n", script=HAPPY)),
    ("mux-banner-without-reply", hs(MUX, 22, incoming=BANNER, script=HAPPY)),
    ("mux-reply-overflow-u32", hs(MUX, 22, incoming=b"OK 4294967296\n", script=HAPPY)),
    ("mux-reply-max-u32", hs(MUX, 22, incoming=b"OK 4294967295\n", script=HAPPY)),
    ("mux-crlf-reply", hs(MUX, 22, incoming=b"OK 22\r\n", script=HAPPY)),
    ("mux-long-path-108-o-path", hs(MUX | SIZE_108, 22, incoming=b"OK 22\n",
        script=[OK, OK] + HAPPY[1:])),
    ("mux-path-107-fits-sun-path", hs(MUX | SIZE_107, 22, incoming=b"OK 22\n", script=HAPPY)),
    ("mux-fcntl-fails", hs(MUX, 22, incoming=b"OK 22\n", script=HAPPY[:6] + [F_FAIL])),
    ("unix-connected", hs(UNIX, 22, script=[OK, OK, OK, OK])),
    ("unix-connected-handoff", hs(UNIX | CHECK | HANDOFF | VERBOSE, 22,
        script=[OK, OK, OK, OK, OK, OK, OK])),
    ("unix-refused", hs(UNIX, 22, script=[OK, C_REFUSED])),
    ("unix-enoent", hs(UNIX, 22, script=[OK, C_ENOENT])),
    ("unix-socket-emfile", hs(UNIX, 22, script=[S_EMFILE])),
    ("unix-backlog-full-then-connected", hs(UNIX, 22, timeout_ms=100,
        script=[OK, C_EAGAIN, OK, C_EAGAIN, 1 | 2 << 3, OK, OK, OK])),
    ("unix-backlog-full-until-timeout", hs(UNIX, 22, timeout_ms=12,
        script=[OK, C_EAGAIN, OK, C_EAGAIN, OK, C_EAGAIN, OK, C_EAGAIN, OK])),
    ("unix-eintr-connect-then-so-error",
        hs(UNIX, 22, script=[OK, C_EINTR, P_LATE(1), OK, OK, OK])),
    ("unix-long-path-4095", hs(UNIX | SIZE_4095 | VERBOSE, 22, script=[OK, OK, OK, OK, OK])),
    ("unix-long-path-open-enoent", hs(UNIX | SIZE_108, 22, script=[OK, O_ENOENT])),
    ("vsock-inprogress-connected", hs(VSOCK | VERBOSE, 22,
        script=[OK, OK, C_INPROGRESS, P_LATE(4), OK, OK, OK])),
    ("vsock-inprogress-refused",
        hs(VSOCK, 22, script=[OK, OK, C_INPROGRESS, P_LATE(4), SO_REFUSED])),
    ("vsock-inprogress-etimedout", hs(VSOCK, 22, script=[OK, OK, C_INPROGRESS, P_LATE(4),
        SO_ETIMEDOUT])),
    ("vsock-inprogress-poll-timeout", hs(VSOCK, 22, timeout_ms=3000,
        script=[OK, OK, C_INPROGRESS, P_EINTR, P_TIMEOUT])),
    ("vsock-no-af-vsock", hs(VSOCK, 22, script=[S_EAFNOSUPPORT])),
    ("vsock-setsockopt-fails", hs(VSOCK | SIZE_108, 22, script=[OK, 7])),
    ("vsock-cid-0-etimedout", hs(VSOCK | SIZE_4095, 22, script=[OK, OK, C_ETIMEDOUT])),
    ("handoff-stdout-fifo", hs(UNIX | CHECK, 22, script=[ST_FIFO])),
    ("handoff-stdout-regular-file", hs(UNIX | CHECK, 22, script=[ST_REG])),
    ("handoff-stdout-inet-socket", hs(UNIX | CHECK, 22, script=[OK, D_INET])),
    ("handoff-stdout-getsockopt-fails", hs(UNIX | CHECK, 22, script=[OK, D_ENOTSOCK])),
    ("handoff-enotsock", hs(UNIX | HANDOFF, 22, script=[OK, OK, OK, OK, MSG_ENOTSOCK])),
    ("handoff-epipe-ssh-gone", hs(UNIX | HANDOFF, 22, script=[OK, OK, OK, OK, MSG_EPIPE])),
    ("handoff-eintr-eagain-then-sent", hs(UNIX | HANDOFF, 22,
        script=[OK, OK, OK, OK, MSG_EINTR, MSG_EAGAIN, P_LATE(3), OK])),
    ("handoff-eagain-until-timeout", hs(UNIX | HANDOFF, 22, timeout_ms=300,
        script=[OK, OK, OK, OK, MSG_EAGAIN, P_TIMEOUT])),
    ("mux-poll-enomem", hs(MUX, 22, script=[OK, OK, OK, P_ENOMEM])),
    ("mux-peek-enomem", hs(MUX, 22, incoming=b"OK 22\n", script=[OK, OK, OK, P_ALL, RECV_ENOMEM])),
    ("mux-consume-enomem", hs(MUX, 22, incoming=b"OK 22\n",
        script=[OK, OK, OK, P_ALL, OK, RECV_ENOMEM])),
    ("mux-peeked-bytes-vanish", hs(MUX, 22, incoming=b"OK 22\n",
        script=[OK, OK, OK, P_ALL, OK, RECV_VANISHED])),
    ("vsock-so-error-getsockopt-fails", hs(VSOCK, 22,
        script=[OK, OK, C_INPROGRESS, P_LATE(1), SO_EBADF])),
    ("vsock-socket-emfile", hs(VSOCK, 22, script=[S_EMFILE])),
    ("handoff-sendmsg-sends-nothing", hs(UNIX | HANDOFF, 22, script=[OK, OK, OK, OK, MSG_ZERO])),
    ("handoff-poll-enomem", hs(UNIX | HANDOFF, 22,
        script=[OK, OK, OK, OK, MSG_EAGAIN, P_ENOMEM])),
    ("vsock-one-hour-timeout", hs(VSOCK | ONE_HOUR | VERBOSE, 22, timeout_ms=3599001,
        script=[OK, OK, C_INPROGRESS, P_LATE(31), OK, OK, OK])),
    ("mux-one-hour-timeout-silent", hs(MUX | ONE_HOUR, 22, timeout_ms=3600000,
        script=[OK, OK, OK, P_EINTR, P_TIMEOUT])),
    ("empty", b""),
]
# Started without fd 0, 1 or 2: the connected socket lands on it, and Connect must refuse it.
for fd in (0, 1, 2):
    handshake += [
        (f"mux-firecracker-reply-then-banner-with-fd{fd}-closed",
            hs(MUX | CHECK | HANDOFF | VERBOSE, 22, incoming=FC + BANNER,
               script=[OK, OK] + HAPPY + [OK], closed_fd=fd)),
        (f"unix-connected-handoff-with-fd{fd}-closed", hs(UNIX | CHECK | HANDOFF | VERBOSE, 22,
            script=[OK, OK, OK, OK, OK, OK, OK], closed_fd=fd)),
    ]
# A path longer than sun_path without /proc (connecting to /proc/self/fd/N fails with ENOENT):
# the fallback connects relative to the socket's directory, or reports its fchdir failing.
handshake += [
    ("unix-long-path-4095-without-proc-through-directory",
        hs(UNIX | SIZE_4095, 22, timeout_ms=10001, script=[OK, OK, C_ENOENT])),
    ("unix-long-path-without-proc-through-directory",
        hs(UNIX | HANDOFF | SIZE_108, 22, timeout_ms=10001, script=[OK, OK, C_ENOENT])),
    ("unix-long-path-without-proc-fchdir-fails",
        hs(UNIX | SIZE_108, 22, timeout_ms=10001, script=[OK, OK, C_ENOENT, OK, OK, F_FAIL])),
]

# Bugs the handshake fuzzer found in src/connector.cc.
handshake_crashes = [
    # A poll that fails (ENOMEM) after part of the reply arrived was reported as a timeout
    # (DeadlineExceeded, exit 75) 1.6 s into a 10 s timeout, instead of as the poll error (exit 71).
    ("mux-poll-error-after-partial-reply-reported-as-timeout", hs(MUX, 22, incoming=b"OK 10",
        script=[OK, OK, OK, P_ALL, OK, OK, P_ENOMEM])),
]

# ---- relay_fuzzer: up length, down length (little-endian u16), flags, then (call, what) faults. ----
# See fuzz/relay_fuzzer.cc. Calls: 0 splice, 1 read, 2 write, 3 poll, 4 send, 5 recv. What % 5:
# 0 pass, 1 EINTR, 2 EAGAIN (EINTR for poll), 3 EINVAL for splice (fall back to read/write),
# 4 short transfer. Flags: 1 one hard fault, 2 no pipes, 4 stdout is a socket, 8 or 16 the
# connection aliased to stdin or stdout.

SPLICE, READ, WRITE, POLL, SEND = 0, 1, 2, 3, 4
NO_PIPES, STDOUT_SOCKET, ALIASED_STDIN, ALIASED_STDOUT = 2, 4, 8, 16
PASS, EINTR, EAGAIN, EINVAL, SHORT = 0, 1, 2, 3, 4


def rl(up, down, flags=0, faults=()):
    out = bytes([up & 0xFF, up >> 8, down & 0xFF, down >> 8, flags])
    for call, what in faults:
        out += bytes([call, what])
    return out


relay = [
    ("empty-both-ways", rl(0, 0)),
    ("one-byte-each-way", rl(1, 1)),
    ("max-both-ways", rl(0xFFFF, 0xFFFF)),
    ("up-only", rl(5000, 0)),
    ("down-only", rl(0, 5000)),
    ("eintr-everywhere", rl(3000, 3000, 0, [(c, EINTR) for c in (SPLICE, SPLICE, POLL, WRITE)])),
    ("eagain-spurious-wakeups", rl(3000, 3000, 0, [(SPLICE, EAGAIN), (SPLICE, EAGAIN)])),
    ("short-splices", rl(4000, 4000, 0, [(SPLICE, SHORT + 5 * k) for k in range(10)])),
    # Splice refused on the first fill: read/write from the start.
    ("splice-refused-on-fill", rl(2000, 2000, 0, [(SPLICE, EINVAL)])),
    # Splice refused on a drain, with bytes already in the pipe: they are read back out.
    ("splice-refused-mid-transfer", rl(2000, 2000, 0, [(SPLICE, PASS), (SPLICE, EINVAL)])),
    ("splice-refused-then-interrupted-recovery",
     rl(2000, 2000, 0, [(SPLICE, PASS), (SPLICE, EINVAL), (READ, EINTR), (READ, SHORT + 5)])),
    ("no-pipes-read-write", rl(3000, 3000, 2, [(READ, EINTR), (WRITE, SHORT + 10), (WRITE, EAGAIN)])),
    ("hard-eio-on-first-splice", rl(1000, 1000, 1, [(SPLICE, 250)])),
    ("hard-eio-on-write", rl(1000, 1000, 3, [(WRITE, 250)])),
    ("stdout-socket", rl(1000, 1000, STDOUT_SOCKET)),
    ("no-pipes-stdout-socket", rl(10000, 10000, NO_PIPES | STDOUT_SOCKET,
        [(SEND, EAGAIN), (READ, EINTR)])),
    ("stdout-socket-send-eagain-and-short", rl(10000, 20000, STDOUT_SOCKET,
        [(SEND, EAGAIN), (SEND, SHORT + 5), (SEND, EINTR), (SEND, SHORT + 10), (POLL, EINTR),
         (SEND, EAGAIN)])),
    ("connection-aliased-to-stdin", rl(5, 5, ALIASED_STDIN)),
    ("connection-aliased-to-stdout", rl(5, 5, ALIASED_STDOUT)),
]


# ---- machine_reply_fuzzer: options, split, then machined's bytes. ----
# options: bit 0 user scope; bits 1-3 the name asked (vm1 vm2 vm3 vm4 c1 web1 a.b x); bits 4-5 the
# port (22, 1, 4294967294, 2222). The replies are systemd-machined 257.13's (shared/notes/
# machined.md), pids and timestamps filled in.
NAMES = ["vm1", "vm2", "vm3", "vm4", "c1", "web1", "a.b", "x"]


def mr(name, reply, user=False, port=0, split=0, nul=True):
    options = (1 if user else 0) | (NAMES.index(name) << 1) | (port << 4)
    return bytes([options, split]) + reply + (b"\0" if nul else b"")


TS = b'"timestamp":{"realtime":1764680000123456,"monotonic":12345678}'
VM1 = (b'{"parameters":{"name":"vm1","class":"vm","service":"test","unit":"lead-vm1.service",'
       b'"leader":{"pid":294},' + TS + b',"vSockCid":3}}')
VM2 = (b'{"parameters":{"name":"vm2","class":"vm","service":"test","unit":"lead-vm2.service",'
       b'"leader":{"pid":301},' + TS + b',"sshAddress":"unix/run/ssh-unix-local/socket"}}')
VM3 = (b'{"parameters":{"name":"vm3","class":"vm","service":"test","unit":"lead-vm3.service",'
       b'"leader":{"pid":305},' + TS + b',"sshAddress":"vsock-mux/run/vm3.vsock"}}')
VM4 = (b'{"parameters":{"name":"vm4","class":"vm","service":"test","unit":"lead-vm4.service",'
       b'"leader":{"pid":309},' + TS + b'}}')
C1 = (b'{"parameters":{"name":"c1","class":"container","service":"systemd-nspawn",'
      b'"rootDirectory":"/var/lib/machines/c1","unit":"machine-c1.scope","leader":{"pid":412},'
      + TS + b'}}')
HOST = (b'{"parameters":{"name":"x","class":"host","unit":"-.slice","leader":{"pid":1},' + TS +
        b',"vSockCid":1}}')
NO_SUCH = b'{"error":"io.systemd.Machine.NoSuchMachine","parameters":{}}'
INVALID = b'{"error":"org.varlink.service.InvalidParameter","parameters":{"parameter":"name"}}'


def addr_reply(address):
    return b'{"parameters":{"name":"vm2","class":"vm","sshAddress":"' + address + b'"}}'


# systemd-machined 257.13's List replies in tests/vm's systemd guest (machines registered with
# varlinkctl, no "service" given; printed by `varlinkctl --json=short`, which writes sd-json's
# compact form, as machined does), inside the wire's {"parameters":...}.
CAPTURED = {
    "vm1": b'{"name":"vm1","class":"vm","unit":"lead-vm1.service","leader":{"pid":247},'
           b'"timestamp":{"realtime":1796229684469121,"monotonic":12972465},"vSockCid":3}',
    "vm2": b'{"name":"vm2","class":"vm","unit":"lead-vm2.service","leader":{"pid":251},'
           b'"timestamp":{"realtime":1796229684798199,"monotonic":13301535},'
           b'"sshAddress":"unix/run/ssh-unix-local/socket"}',
    "vm3": b'{"name":"vm3","class":"vm","unit":"lead-vm3.service","leader":{"pid":255},'
           b'"timestamp":{"realtime":1796229685157395,"monotonic":13660728},'
           b'"sshAddress":"vsock-mux/run/vm3.vsock"}',
    "vm4": b'{"name":"vm4","class":"vm","unit":"lead-vm4.service","leader":{"pid":259},'
           b'"timestamp":{"realtime":1796229685529696,"monotonic":14033030}}',
    "x": b'{"name":".host","id":"a6fdec841007ee42ed0b260b27246c31","class":"host",'
         b'"rootDirectory":"/","unit":"-.slice","leader":{"pid":1},'
         b'"timestamp":{"realtime":1796229671496709,"monotonic":12},"vSockCid":1}',
}

machine = [
    ("captured-257-" + ("dot-host" if name == "x" else name), mr(name, b'{"parameters":' + reply + b"}"))
    for name, reply in CAPTURED.items()
] + [
    ("vm-with-cid", mr("vm1", VM1)),
    ("vm-with-cid-port-2222-split", mr("vm1", VM1, port=3, split=7)),
    ("vm-with-cid-user-scope", mr("vm1", VM1, user=True)),
    ("vm-unix-address", mr("vm2", VM2)),
    ("vm-mux-address", mr("vm3", VM3, split=1)),
    ("vm-mux-address-port-max", mr("vm3", VM3, port=2)),
    ("vm-no-address", mr("vm4", VM4)),
    ("nspawn-container", mr("c1", C1)),
    ("nspawn-container-user-scope", mr("c1", C1, user=True)),
    ("host-listed-with-cid-1", mr("x", HOST)),
    ("no-such-machine", mr("web1", NO_SUCH)),
    ("invalid-parameter", mr("web1", INVALID)),
    ("expected-more", mr("web1", b'{"error":"org.varlink.service.ExpectedMore","parameters":{}}')),
    ("trailing-bytes-after-nul", mr("vm1", VM1 + b"\0garbage", split=3)),
    ("no-nul", mr("vm1", VM1, nul=False)),
    ("empty-message", mr("vm1", b"")),
    ("not-json", mr("vm1", b"OK 22\n")),
    ("truncated-json", mr("vm1", VM1[:40])),
    ("array", mr("vm1", b"[1,2,3]")),
    ("parameters-array", mr("vm1", b'{"parameters":[]}')),
    ("error-number", mr("vm1", b'{"error":5}')),
    ("cid-string", mr("vm1", b'{"parameters":{"name":"vm1","vSockCid":"3"}}')),
    ("cid-negative", mr("vm1", b'{"parameters":{"name":"vm1","vSockCid":-1}}')),
    ("cid-float", mr("vm1", b'{"parameters":{"name":"vm1","vSockCid":3.0}}')),
    ("cid-any", mr("vm1", b'{"parameters":{"name":"vm1","vSockCid":4294967295}}')),
    ("cid-max", mr("vm1", b'{"parameters":{"name":"vm1","vSockCid":4294967294}}')),
    ("cid-null-then-address", mr("vm2", b'{"parameters":{"name":"vm2","vSockCid":null,'
                                        b'"sshAddress":"unix/a"}}')),
    ("name-other-machine", mr("vm1", VM2)),
    ("name-missing", mr("vm1", b'{"parameters":{"vSockCid":3}}')),
    ("address-not-an-address", mr("vm2", addr_reply(b"not an address"))),
    ("address-machine-recursion", mr("vm2", addr_reply(b"machine/vm2"))),
    ("address-dot-host", mr("vm2", addr_reply(b".host"))),
    ("address-vsock", mr("vm2", addr_reply(b"vsock/4711"))),
    ("address-vsock-named", mr("vm2", addr_reply(b"vsock%host"))),
    ("address-unix-percent-utf8", mr("vm2", addr_reply(b"unix%run/caf\xc3\xa9"))),
    ("address-escape-sequence", mr("vm2", addr_reply(b"unix/run/\\u001b[31m"))),
    ("address-number", mr("vm2", b'{"parameters":{"name":"vm2","sshAddress":5}}')),
    ("container-not-nspawn", mr("c1", b'{"parameters":{"name":"c1","class":"container",'
                                      b'"service":"lxc"}}')),
    ("error-escape", mr("vm1", b'{"error":"x\\u001b[2J\\n"}')),
    ("invalid-utf8", mr("vm1", b'{"parameters":{"name":"vm1\xff"}}')),
    ("deep-nesting", mr("vm1", b'{"parameters":{"name":"vm1","leader":' + b"[" * 5000 +
                         b"]" * 5000 + b',"vSockCid":3}}')),
    ("max-size-fits", mr("vm1", b'{"parameters":{"name":"vm1","vSockCid":3}}'.ljust(65535))),
    ("one-over-max-size", mr("vm1", b'{"parameters":{"name":"vm1","vSockCid":3}}'.ljust(65536))),
]

# Reproducers of bugs machine_reply_fuzzer found in src/machine.cc.
machine_crashes = [
    # An sshAddress the grammar refuses for its length: the message quoted the whole address
    # (twice with a suggestion), over 4 KiB on one line.
    ("sshaddress-long-path-message-over-4k", mr("vm2", addr_reply(b"unix/" + b"a" * 5000))),
]

if __name__ == "__main__":
    write("address_fuzzer", address, address_crashes)
    write("mux_reply_fuzzer", mux)
    write("cli_fuzzer", cli)
    write("mux_handshake_fuzzer", handshake, handshake_crashes)
    write("relay_fuzzer", relay)
    write("machine_reply_fuzzer", machine, machine_crashes)
