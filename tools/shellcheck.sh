#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
#
# tools/shellcheck.sh: runs shellcheck (Debian's package) on every shell script of the repository and
# fails on any finding, whatever its severity. The scripts are found, not listed: every file git
# knows (tracked, or untracked and not ignored; every file below the tree outside a checkout) whose
# name ends in .sh or .bash or whose first line is a shebang naming sh, bash, dash or ksh. A finding
# in code that is right is silenced where it stands, with `# shellcheck disable=SCnnnn` and the
# reason. Ends with "shellcheck: PASS: N scripts" or "shellcheck: FAIL: ..." (tools/test.sh runs it).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

if ! command -v shellcheck >/dev/null; then
  echo "shellcheck: FAIL: shellcheck not found (apt-get install shellcheck)"
  exit 1
fi

# is_shell_script FILE: by name, else by shebang.
is_shell_script() {
  [[ $1 == *.sh || $1 == *.bash ]] && return 0
  local first=""
  IFS= read -r first <"$1" 2>/dev/null || [[ -n $first ]] || return 1
  [[ $first =~ ^#![[:space:]]*/[^[:space:]]*/(env[[:space:]]+)?(ba|da|k)?sh([[:space:]]|$) ]]
}

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  list_files() { git ls-files -z --cached --others --exclude-standard; }
else
  list_files() { find . -path './bazel-*' -prune -o -type f -printf '%P\0'; }
fi
scripts=()
while IFS= read -r -d '' f; do
  if [[ -f $f && ! -L $f ]] && is_shell_script "$f"; then
    scripts+=("$f")
  fi
done < <(list_files)
if [[ ${#scripts[@]} -eq 0 ]]; then
  echo "shellcheck: FAIL: no shell scripts found"
  exit 1
fi

if shellcheck --format=gcc -- "${scripts[@]}"; then
  echo "shellcheck: PASS: ${#scripts[@]} scripts, no findings"
else
  echo "shellcheck: FAIL: findings above (in ${#scripts[@]} scripts)"
  exit 1
fi
