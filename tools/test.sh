#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
#
# test.sh: the whole test suite, as the README's quick start and CI (.ci/run) run it: makes sure the
# tools it needs are installed (tools/ensure-deps.sh test), then runs tools/test_suite.py, which
# lists its steps and the variables that change them (VM_TESTS, VM_FLAVOURS, FUZZ_SECONDS,
# FUZZ_PARALLEL, AFL_SECONDS, DEB_CHECK, BZLMOD_CHECK). Ends with one line
# "N passed, N failed, N skipped" and exits non-zero if anything failed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

tools/ensure-deps.sh test || exit 1
exec python3 tools/test_suite.py
