# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors

"""The repository rules of repositories.bzl as a bzlmod module extension.

`debian_libraries` declares the same four repositories that WORKSPACE gets from
`ssh_proxy_debian_dependencies()` (Debian's abseil, nlohmann/json, GoogleTest and Google
Benchmark under their upstream repository names), so that a bzlmod build makes them with the same
rules and the same BUILD text. A module uses it with:

    debian = use_extension("//third_party/debian:extensions.bzl", "debian_libraries")
    use_repo(debian, "com_google_absl", "nlohmann_json", "com_google_googletest")

tools/bzlmod-check.sh uses it to make, offline, the local stand-ins for the Bazel Central Registry
modules that MODULE.bazel names (abseil-cpp, nlohmann_json, googletest, google_benchmark).
"""

load(":repositories.bzl", "ssh_proxy_debian_dependencies")

def _debian_libraries_impl(_mctx):
    # The repositories do not depend on any module's tags: the same four for every user.
    ssh_proxy_debian_dependencies()

debian_libraries = module_extension(
    implementation = _debian_libraries_impl,
    doc = "Debian's abseil, nlohmann/json, GoogleTest and Google Benchmark (repositories.bzl).",
)
