# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors

"""Compiler options for every cc_* target of ssh-proxy, the way abseil keeps ABSL_DEFAULT_COPTS.

The macros of //:defs.bzl (and ssh_proxy_binary, ssh_proxy_fuzz_target) pass it to every cc_*
target; it travels with the targets, so a monorepo that builds @ssh_proxy//src:address gets the
same checks (.bazelrc does not travel).
gcc and clang both understand every option here.
"""

SSH_PROXY_COPTS = [
    # A switch on an enum that leaves out one of its values is an error, not a warning. Switches on
    # TargetKind name every kind and have no default, so a new kind does not build until each of
    # them says what to do with it.
    "-Werror=switch",
    # A function outside an anonymous namespace needs a declaration in a header first, so that no
    # helper gets external linkage by accident (an anonymous namespace that closes too early).
    "-Werror=missing-declarations",
]
