# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
"""The cc_* targets of ssh-proxy, each with SSH_PROXY_COPTS and the conventional file names.

Every C++ target of the repository goes through one of these macros (or ssh_proxy_binary,
ssh_proxy_fuzz_target), so that each one carries SSH_PROXY_COPTS (tools/test.sh checks it) and a
BUILD stanza says only what is particular to it. Labels that callers pass are theirs, resolved in
their package, so //src stays loadable when ssh-proxy is an external repository of a monorepo.
"""

load("//:copts.bzl", "SSH_PROXY_COPTS")

_GTEST_MAIN = "@com_google_googletest//:gtest_main"

def ssh_proxy_cc_library(name, srcs = None, hdrs = None, copts = [], **kwargs):
    """A cc_library compiled with SSH_PROXY_COPTS.

    Args:
      name: the library's name.
      srcs: its sources; default `<name>.cc` (pass [] for a header-only library).
      hdrs: its headers; default `<name>.h`.
      copts: options added after SSH_PROXY_COPTS.
      **kwargs: cc_library's other attributes (deps, testonly, visibility, ...).
    """
    native.cc_library(
        name = name,
        srcs = [name + ".cc"] if srcs == None else srcs,
        hdrs = [name + ".h"] if hdrs == None else hdrs,
        copts = SSH_PROXY_COPTS + copts,
        **kwargs
    )

def ssh_proxy_test_library(name, **kwargs):
    """ssh_proxy_cc_library for test support: testonly, the same defaults."""
    ssh_proxy_cc_library(name = name, testonly = True, **kwargs)

def ssh_proxy_cc_binary(name, srcs = None, copts = [], **kwargs):
    """A cc_binary compiled with SSH_PROXY_COPTS, from `<name>.cc` unless srcs says otherwise.

    Args:
      name: the binary's name.
      srcs: its sources; default `<name>.cc`.
      copts: options added after SSH_PROXY_COPTS.
      **kwargs: cc_binary's other attributes (deps, data, args, linkopts, tags, testonly, ...).
    """
    native.cc_binary(
        name = name,
        srcs = [name + ".cc"] if srcs == None else srcs,
        copts = SSH_PROXY_COPTS + copts,
        **kwargs
    )

def ssh_proxy_cc_test(name, srcs = None, deps = [], size = "small", **kwargs):
    """A GoogleTest cc_test: SSH_PROXY_COPTS, gtest_main, `<name>.cc`, small unless told.

    Args:
      name: the test's name.
      srcs: its sources; default `<name>.cc`.
      deps: its dependencies; gtest_main is added.
      size: Bazel's test size.
      **kwargs: cc_test's other attributes (data, local_defines, linkopts, tags, ...).
    """
    native.cc_test(
        name = name,
        size = size,
        srcs = [name + ".cc"] if srcs == None else srcs,
        copts = SSH_PROXY_COPTS,
        deps = deps + [_GTEST_MAIN],
        **kwargs
    )

def local_define_when_any(define, settings):
    """local_defines that hold `define` when any of the config_settings `settings` matches.

    Args:
      define: the macro definition ("NAME=1").
      settings: labels of config_settings (e.g. "//:sanitizer").

    Returns:
      A value for local_defines (a sum of selects; the define may appear more than once).
    """
    defines = []
    for setting in settings:
        defines = defines + select({
            setting: [define],
            "//conditions:default": [],
        })
    return defines

def ssh_proxy_py_test(name, files = [], args = [], data = [], srcs = None, size = "small", **kwargs):
    """A Python test on Debian's python3 that prints tests/testing/check.py's PASS/FAIL/SKIP lines.

    Args:
      name: the test's name.
      files: labels handed to the test as its first arguments, in this order, as runfiles paths
        (each is also in data).
      args: arguments after those.
      data: runfiles besides files.
      srcs: its sources; default `<name>.py`.
      size: Bazel's test size.
      **kwargs: py_test's other attributes (main, tags, ...).
    """
    native.py_test(
        name = name,
        size = size,
        srcs = [name + ".py"] if srcs == None else srcs,
        args = ["$(rootpath %s)" % f for f in files] + args,
        data = files + data,
        python_version = "PY3",
        deps = ["//tests/testing:check_py"],
        **kwargs
    )
