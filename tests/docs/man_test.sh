#!/usr/bin/env bash
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

out=$(mandoc -Tlint -Wall "$page" 2>&1 | grep -vE 'referenced manual not found|outdated mandoc\.db')
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
for section in NAME SYNOPSIS DESCRIPTION ADDRESSES OPTIONS ENVIRONMENT FILES "EXIT STATUS" \
  EXAMPLES COMPATIBILITY "SEE ALSO" "SECURITY CONSIDERATIONS"; do
  grep -qx "$section" <<<"$rendered" || missing+=("$section")
done
if ((${#missing[@]} == 0)); then
  pass "every section is rendered"
else
  fail "every section is rendered" "missing: ${missing[*]}"
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

echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
