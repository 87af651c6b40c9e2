#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
#
# version_test.sh CHANGELOG MODULE_BAZEL SSH_PROXY: the version is set in one place, the first line
# of debian/changelog. `ssh-proxy --version` gets it through //src:version_h; MODULE.bazel cannot
# read a file, so this checks that its module() version is the same, and that NEWS.md has a
# section for it. Prints "PASS name" / "FAIL name: why" per check.
set -uo pipefail
# shellcheck source=tests/check.sh
source tests/check.sh

changelog=$1
module=$2
binary=$3
news=$4

version=$(sed -n '1s/^ssh-proxy (\([^)]*\)) .*/\1/p' "$changelog")
upstream=${version%%-*}
if [[ $upstream =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  pass changelog_names_a_version
else
  fail changelog_names_a_version "first line of debian/changelog: [$(head -n 1 "$changelog")]"
fi

out=$("$binary" --version)
if [[ $out == "ssh-proxy $upstream" ]]; then
  pass binary_version_is_the_changelog_version
else
  fail binary_version_is_the_changelog_version "--version [$out], debian/changelog [$upstream]"
fi

# The module() call's version: the first `version = "..."` after `module(`.
mod_version=$(sed -n '/^module(/,/^)/s/^ *version = "\([^"]*\)",.*/\1/p' "$module")
if [[ $mod_version == "$upstream" ]]; then
  pass module_version_is_the_changelog_version
else
  fail module_version_is_the_changelog_version \
    "MODULE.bazel module(version = \"$mod_version\"), debian/changelog [$upstream]"
fi

if grep -qx "## $upstream\( .*\)\{0,1\}" "$news"; then
  pass news_has_the_version
else
  fail news_has_the_version "NEWS.md has no \"## $upstream\" heading"
fi

echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
