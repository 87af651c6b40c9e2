#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
#
# man_test.sh: the man page passes mandoc's linter and groff's warnings and renders with man -l.
#
#   man_test.sh doc/ssh-proxy.1
#
# mandoc -Tlint -Wall must print nothing but "referenced manual not found" (which depends on the
# manuals installed on the machine: rsync(1), systemd-ssh-proxy(1)); groff -ww and
# `man --warnings -l` must print nothing on stderr, and the rendered page must have every section.
# Prints "PASS name" / "FAIL name: why" per check and "N passed, N failed"; exits 1 on failure.
set -uo pipefail
# pass, fail, abspath and the PASSED/FAILED counters.
# shellcheck source=tests/check.sh
source "$(dirname "${BASH_SOURCE[0]}")/../check.sh"

page=$1

for tool in mandoc groff man col; do
  if ! command -v "$tool" >/dev/null; then
    fail "$tool installed" "apt-get install mandoc groff-base man-db bsdextrautils"
  fi
done

# Two of mandoc's pieces of advice are declined on purpose:
# - "operating system explicitly specified": groff (man-db's renderer on Debian) prints "BSD" in
#   the footer of a page with an empty .Os, so .Os names ssh-proxy and its version;
# - "sections out of conventional order": the page follows the order the project chose (its
#   first-contact issue, and many Linux pages): EXIT STATUS right after OPTIONS and AUTHORS last,
#   where mdoc(7) puts EXIT STATUS after FILES and AUTHORS before BUGS. The order itself is
#   checked below.
out=$(mandoc -Tlint -Wall "$page" 2>&1 |
  grep -vE 'referenced manual not found|outdated mandoc\.db|operating system explicitly specified|sections out of conventional order: Sh (ENVIRONMENT|AUTHORS)$')
if [[ -z $out ]]; then
  pass "mandoc -Tlint -Wall"
else
  fail "mandoc -Tlint -Wall" "$out"
fi

out=$(groff -ww -mandoc -Tutf8 -z "$page" 2>&1)
if [[ -z $out ]]; then
  pass "groff -ww -mandoc"
else
  fail "groff -ww -mandoc" "$out"
fi

# man -l as a reader runs it (man-db, groff), at the usual widths.
for width in 80 120; do
  err=$(MANWIDTH=$width MAN_KEEP_FORMATTING=0 man --warnings -l "$page" 2>&1 >"${TEST_TMPDIR:-/tmp}/man.$width.txt")
  rc=$?
  if [[ $rc == 0 && -z $err && -s ${TEST_TMPDIR:-/tmp}/man.$width.txt ]]; then
    pass "man --warnings -l (MANWIDTH=$width)"
  else
    fail "man --warnings -l (MANWIDTH=$width)" "exit $rc, stderr [$err]"
  fi
done

rendered=$(MANWIDTH=80 man -l "$page" 2>/dev/null | col -b)
missing=()
# The usual order of a section 1 page (mdoc(7), OpenSSH's ssh(1)).
sections=(NAME SYNOPSIS DESCRIPTION OPTIONS "EXIT STATUS" ENVIRONMENT FILES EXAMPLES DIAGNOSTICS
  SECURITY "SEE ALSO" BUGS AUTHORS)
got=$(grep -E '^[A-Z][A-Z ]+$' <<<"$rendered" | grep -vE '^SSH-PROXY' | paste -sd,)
want=$(printf '%s\n' "${sections[@]}" | paste -sd,)
if [[ $got == "$want" ]]; then
  pass "sections in the usual order: $want"
else
  fail "sections in the usual order" "got $got, want $want"
fi
# The footer names the program and its version, not "BSD" (an empty .Os).
footer=$(tail -n 1 <<<"$rendered")
version=$(sed -n 's/^\.Os ssh-proxy //p' "$page")
if [[ -n $version && $footer == *"ssh-proxy $version"* && $footer != *BSD* ]]; then
  pass "footer names ssh-proxy $version"
else
  fail "footer names ssh-proxy and its version" "footer [$footer], .Os version [$version]"
fi
# The address forms, options and exit codes the issue asks the page to cover.
missing=()
for word in unix/path vsock/cid vsock-mux/path .host --dry-run --fdpass --relay --timeout \
  --verbose 64 69 71 75 76 ProxyUseFdpass systemd-ssh-proxy LD_PRELOAD SSH_AUTH_SOCK; do
  grep -qF -- "$word" <<<"$rendered" || missing+=("$word")
done
if ((${#missing[@]} == 0)); then
  pass "the page covers every address form, option and exit code"
else
  fail "the page covers every address form, option and exit code" "missing: ${missing[*]}"
fi

check_summary
