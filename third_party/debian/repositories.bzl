# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors

"""Debian's abseil, nlohmann/json, GoogleTest and Google Benchmark under their upstream repository
names and labels.

The machines that build this project have no internet, so the libraries come from Debian packages
(libabsl-dev, nlohmann-json3-dev, libgtest-dev, libbenchmark-dev). Each rule below makes a
repository whose labels match upstream (`@com_google_absl//absl/strings`, `@nlohmann_json//:json`,
`@com_google_googletest//:gtest_main`, `@com_github_google_benchmark//:benchmark_main`), so a
monorepo that has the real upstream repositories declares those instead and our BUILD files do not
change.

Headers are symlinked into the repository and declared as `hdrs`, so Bazel tracks them and an apt
upgrade triggers a rebuild. abseil is linked statically (from Debian's `.a` files): the proxy starts
faster without loading a dozen shared libraries.
"""

_LIBDIRS = [
    "/usr/lib/x86_64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/usr/lib64",
    "/usr/lib",
]

# Upstream abseil label (package, target) -> Debian pkg-config module. Extend as code needs more.
_ABSL_LABELS = {
    "absl/base:core_headers": "absl_core_headers",
    "absl/cleanup:cleanup": "absl_cleanup",
    "absl/status:status": "absl_status",
    "absl/status:statusor": "absl_statusor",
    "absl/strings:str_format": "absl_str_format",
    "absl/strings:strings": "absl_strings",
    "absl/time:time": "absl_time",
    "absl/types:optional": "absl_optional",
    "absl/types:span": "absl_span",
}

def _find_libdir(rctx, probe):
    for d in _LIBDIRS:
        if rctx.path(d + "/" + probe).exists:
            return d
    fail("cannot find %s in %s: install the Debian package that ships it" % (probe, _LIBDIRS))

def _parse_pc(text):
    """Returns (requires, libs) of a pkg-config file: module names and -l library names."""
    requires = []
    libs = []
    for line in text.splitlines():
        if line.startswith("Requires:"):
            for item in line[len("Requires:"):].split(","):
                name = item.strip().split(" ")[0]
                if name:
                    requires.append(name)
        elif line.startswith("Libs:"):
            for word in line[len("Libs:"):].split(" "):
                if word.startswith("-l"):
                    libs.append(word[2:])
    return requires, libs

def _debian_absl_impl(rctx):
    libdir = _find_libdir(rctx, "pkgconfig/absl_base.pc")
    include = rctx.path("/usr/include/absl")
    if not include.exists:
        fail("/usr/include/absl is missing: apt-get install libabsl-dev")
    rctx.symlink(include, "include/absl")

    root = [
        'package(default_visibility = ["//visibility:public"])',
        "",
        "cc_library(",
        '    name = "absl_headers",',
        '    hdrs = glob(["include/absl/**/*.h", "include/absl/**/*.inc"]),',
        '    includes = ["include"],',
        ")",
    ]
    for pc in rctx.path(libdir + "/pkgconfig").readdir():
        if not pc.basename.startswith("absl_") or not pc.basename.endswith(".pc"):
            continue
        module = pc.basename[:-len(".pc")]
        requires, libs = _parse_pc(rctx.read(pc))
        srcs = []
        linkopts = []
        for lib in libs:
            if not lib.startswith("absl_"):
                # System libraries (e.g. -latomic, -lpthread) stay ordinary link flags.
                linkopts.append('"-l%s"' % lib)
                continue
            archive = "lib%s.a" % lib
            rctx.symlink(libdir + "/" + archive, "lib/" + archive)
            srcs.append('"lib/%s"' % archive)
        # Newer abseil's .pc files (Debian sid's 20260526) list the module among its own Requires.
        deps = ['":absl_headers"'] + [
            '":%s"' % r
            for r in requires
            if r.startswith("absl_") and r != module
        ]
        root += [
            "",
            "cc_library(",
            '    name = "%s",' % module,
            "    srcs = [%s]," % ", ".join(srcs),
            "    linkopts = [%s]," % ", ".join(linkopts),
            "    linkstatic = True,",
            "    deps = [%s]," % ", ".join(deps),
            ")",
        ]
    rctx.file("BUILD.bazel", "\n".join(root) + "\n")

    packages = {}
    for label, module in _ABSL_LABELS.items():
        package, name = label.split(":")
        packages.setdefault(package, []).extend([
            "",
            "cc_library(",
            '    name = "%s",' % name,
            '    deps = ["//:%s"],' % module,
            ")",
        ])
    for package, lines in packages.items():
        rctx.file(
            package + "/BUILD.bazel",
            'package(default_visibility = ["//visibility:public"])\n' + "\n".join(lines) + "\n",
        )
    rctx.file("WORKSPACE", 'workspace(name = "%s")\n' % rctx.name)

debian_absl = repository_rule(
    implementation = _debian_absl_impl,
    local = True,
    doc = "Debian's libabsl-dev as @com_google_absl, linked statically.",
)

def _debian_nlohmann_json_impl(rctx):
    header = rctx.path("/usr/include/nlohmann/json.hpp")
    if not header.exists:
        fail("/usr/include/nlohmann/json.hpp is missing: apt-get install nlohmann-json3-dev")
    rctx.symlink("/usr/include/nlohmann", "include/nlohmann")
    rctx.file("WORKSPACE", 'workspace(name = "%s")\n' % rctx.name)
    rctx.file("BUILD.bazel", "\n".join([
        'package(default_visibility = ["//visibility:public"])',
        "",
        "# Header-only, as upstream's @nlohmann_json//:json: #include <nlohmann/json.hpp>.",
        "cc_library(",
        '    name = "json",',
        '    hdrs = glob(["include/nlohmann/**/*.hpp"]),',
        '    includes = ["include"],',
        ")",
        "",
    ]))

debian_nlohmann_json = repository_rule(
    implementation = _debian_nlohmann_json_impl,
    local = True,
    doc = "Debian's nlohmann-json3-dev as @nlohmann_json (header-only).",
)

def _debian_gtest_impl(rctx):
    libdir = _find_libdir(rctx, "libgtest.a")
    for h in ["gtest", "gmock"]:
        if not rctx.path("/usr/include/" + h).exists:
            fail("/usr/include/%s is missing: apt-get install libgtest-dev libgmock-dev" % h)
        rctx.symlink("/usr/include/" + h, "include/" + h)
    for lib in ["gtest", "gtest_main", "gmock", "gmock_main"]:
        rctx.symlink("%s/lib%s.a" % (libdir, lib), "lib/lib%s.a" % lib)
    rctx.file("WORKSPACE", 'workspace(name = "%s")\n' % rctx.name)
    rctx.template("BUILD.bazel", Label("//third_party/debian:googletest.BUILD"))

debian_gtest = repository_rule(
    implementation = _debian_gtest_impl,
    local = True,
    doc = "Debian's libgtest-dev/libgmock-dev as @com_google_googletest.",
)

def _debian_benchmark_impl(rctx):
    libdir = _find_libdir(rctx, "libbenchmark_main.a")
    if not rctx.path("/usr/include/benchmark").exists:
        fail("/usr/include/benchmark is missing: apt-get install libbenchmark-dev")
    rctx.symlink("/usr/include/benchmark", "include/benchmark")
    rctx.symlink(libdir + "/libbenchmark_main.a", "lib/libbenchmark_main.a")
    rctx.file("WORKSPACE", 'workspace(name = "%s")\n' % rctx.name)
    rctx.template("BUILD.bazel", Label("//third_party/debian:benchmark.BUILD"))

debian_benchmark = repository_rule(
    implementation = _debian_benchmark_impl,
    local = True,
    doc = "Debian's libbenchmark-dev as @com_github_google_benchmark.",
)

def ssh_proxy_debian_dependencies():
    """Declares the four libraries; call from WORKSPACE unless the real ones are declared."""
    debian_absl(name = "com_google_absl")
    debian_nlohmann_json(name = "nlohmann_json")
    debian_gtest(name = "com_google_googletest")
    debian_benchmark(name = "com_github_google_benchmark")
