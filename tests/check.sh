# check.sh: sourced by the shell tests. Each check prints one "PASS name" or "FAIL name: why" line;
# the test ends with check_summary, which prints "N passed, N failed" and fails if any failed.
# shellcheck shell=bash

PASSED=0
FAILED=0

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
