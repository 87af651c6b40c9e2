# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors

"""ssh_proxy_fuzz_target: one fuzz target, built two ways.

For a target `name` (source `srcs`, corpus in `<name>_corpus/`, dictionary `<name>.dict`, options
`<name>.options` beside it) the macro makes:

  <name>            the libFuzzer binary. Built only with `--config=fuzz` (clang-14, ASan+UBSan,
                    `--define=ssh_proxy_fuzz=libfuzzer`); incompatible otherwise, so that
                    `bazel build //...` with gcc skips it.
  <name>_replay     an ordinary cc_test (any compiler, no libFuzzer) that runs the target once on
                    every file of its corpus and of `regression_dirs`, so `bazel test //...` keeps
                    every past crash fixed.
  <name>_corpus_files, <name>_dict_file, <name>_options_file
                    filegroups, for scripts and packaging.

Both binaries are compiled with SSH_PROXY_COPTS (//:copts.bzl).
"""

load("//:copts.bzl", "SSH_PROXY_COPTS")

def ssh_proxy_fuzz_target(name, srcs, deps = [], regression_dirs = [], replay_size = "small"):
    corpus = name + "_corpus"
    dirs = [corpus] + regression_dirs
    data = native.glob([d + "/**" for d in dirs])

    native.filegroup(
        name = name + "_corpus_files",
        srcs = native.glob([corpus + "/**"]),
    )
    native.filegroup(
        name = name + "_dict_file",
        srcs = [name + ".dict"],
    )
    native.filegroup(
        name = name + "_options_file",
        srcs = [name + ".options"],
    )

    native.cc_binary(
        name = name,
        srcs = srcs,
        copts = SSH_PROXY_COPTS,
        deps = deps,
        linkopts = ["-fsanitize=fuzzer"],
        data = [name + ".dict", name + ".options"],
        target_compatible_with = select({
            "//fuzz:libfuzzer": [],
            "//conditions:default": ["//fuzz:incompatible"],
        }),
        tags = ["fuzzer"],
        testonly = True,
    )

    native.cc_test(
        name = name + "_replay",
        size = replay_size,
        srcs = srcs,
        copts = SSH_PROXY_COPTS,
        deps = deps + ["//fuzz:replay_main"],
        data = data,
        # Directories relative to the runfiles root (the test's working directory).
        args = [native.package_name() + "/" + d for d in dirs],
    )
