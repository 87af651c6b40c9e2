# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
"""ssh_proxy_binary: a build of ssh-proxy, linked the way the release binary is."""

load("//:copts.bzl", "SSH_PROXY_COPTS")

def ssh_proxy_binary(name, **kwargs):
    """A cc_binary linked as a static PIE with lld, or dynamically in sanitizer builds.

    ssh waits for its ProxyCommand to exit, and a static binary skips the dynamic loader, which is
    most of a dynamic binary's start-up (bench/README.md); gold cannot link a static PIE, lld can.
    Sanitizer runtimes cannot be linked statically (--config=asan sets //:sanitizer).

    Args:
      name: the binary's name.
      **kwargs: cc_binary's other attributes (srcs, deps, tags, testonly, visibility).
    """
    native.cc_binary(
        name = name,
        copts = SSH_PROXY_COPTS,
        linkopts = select({
            str(Label("//:sanitizer")): [],
            "//conditions:default": [
                "-fuse-ld=lld",
                "-static-pie",
            ],
        }),
        **kwargs
    )
