#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
#
# licence-check.sh: every file of ours that is code (C and C++, Starlark and BUILD files, shell,
# Python, debian/rules) carries "SPDX-License-Identifier: Apache-2.0" in its first five lines, and
# the tree has LICENSE and NOTICE. Corpora, dictionaries, generated files and test data are left
# alone. Lists the files without it and exits 1 if there are any.
#   licence-check.sh [--fix]   (--fix adds the two lines where they are missing)
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

fix=0
[[ ${1:-} == --fix ]] && fix=1

# code_files: the tracked files that need the line, one per line.
code_files() {
  local f
  git ls-files | while IFS= read -r f; do
    case $f in
      *_corpus/* | *.dict | *.options | *.md | LICENSE | NOTICE) continue ;;
      *.cc | *.h | *.c | *.sh | *.py | *.bzl | BUILD | BUILD.bazel | */BUILD | */BUILD.bazel | \
        WORKSPACE | */WORKSPACE | MODULE.bazel | */MODULE.bazel | debian/rules)
        echo "$f"
        ;;
      *)
        # Scripts without an extension (.ci/run, tools): by their shebang.
        if [[ -f $f ]] && head -c 2 "$f" | grep -q '^#!'; then echo "$f"; fi
        ;;
    esac
  done
}

# add_lines FILE: the SPDX and copyright lines, after a shebang if there is one, as comments of
# the file's language.
add_lines() {
  local f=$1 c='#'
  case $f in *.cc | *.h | *.c) c='//' ;; esac
  local tmp
  tmp=$(mktemp) || return 1
  {
    if head -n1 "$f" | grep -q '^#!'; then
      head -n1 "$f"
      printf '%s SPDX-License-Identifier: Apache-2.0\n%s Copyright 2026 The ssh-proxy Authors\n' "$c" "$c"
      [[ $(sed -n 2p "$f") == "$c"* ]] && printf '%s\n' "$c"
      tail -n +2 "$f"
    else
      printf '%s SPDX-License-Identifier: Apache-2.0\n%s Copyright 2026 The ssh-proxy Authors\n' "$c" "$c"
      # A blank comment line before a comment header, an empty line before code.
      if [[ $(head -n1 "$f") == "$c"* ]]; then printf '%s\n' "$c"; else echo; fi
      cat "$f"
    fi
  } >"$tmp" && cat "$tmp" >"$f"
  rm -f "$tmp"
}

missing=()
while IFS= read -r f; do
  head -n 5 "$f" | grep -q 'SPDX-License-Identifier: Apache-2.0' && continue
  if ((fix)); then
    add_lines "$f" && continue
  fi
  missing+=("$f")
done < <(code_files)
rc=0
for f in LICENSE NOTICE; do
  [[ -s $f ]] || { echo "licence-check: $f is missing" >&2; rc=1; }
done
if ((${#missing[@]} > 0)); then
  printf 'licence-check: no SPDX-License-Identifier line in the first five lines of %s\n' "${missing[@]}" >&2
  exit 1
fi
((rc == 0)) && echo "licence-check: PASS: $(code_files | wc -l) files carry the Apache-2.0 SPDX line"
exit "$rc"
