# shellcheck shell=bash
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
#
# check.sh: sourced by the shell tests. Each check prints one "PASS name", "FAIL name: why" or
# "SKIP name: why" line (tools/test.sh counts SKIP lines as skipped, never as passed); the test
# ends with check_summary, which prints "N passed, N failed, N skipped" and fails if any failed.

PASSED=0
FAILED=0
SKIPPED=0

skip() {
  echo "SKIP $1: $2"
  SKIPPED=$((SKIPPED + 1))
}

# check_summary: the closing line; returns 1 if a check failed.
check_summary() {
  echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
  ((FAILED == 0))
}

pass() {
  echo "PASS $1"
  PASSED=$((PASSED + 1))
}

fail() {
  echo "FAIL $1: $2"
  FAILED=$((FAILED + 1))
}

# abspath PATH: PATH made absolute against the current directory (Bazel passes runfiles paths
# relative to it, and the tests change directory).
abspath() {
  case $1 in
    /*) printf '%s\n' "$1" ;;
    *) printf '%s\n' "$PWD/$1" ;;
  esac
}
