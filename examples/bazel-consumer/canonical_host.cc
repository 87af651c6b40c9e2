// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// canonical_host HOST PORT: prints "CANONICAL_HOST<TAB>TARGET" and exits 0, or the grammar's error
// on stderr and exits 64.

#include <cstdio>
#include <string>

#include "absl/status/statusor.h"
#include "canonical.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fputs("usage: canonical_host HOST PORT\n", stderr);
    return 64;
  }
  absl::StatusOr<std::string> line =
      bazel_consumer::Canonical(argv[1], argv[2]);
  if (!line.ok()) {
    std::fprintf(stderr, "canonical_host: %s\n",
                 std::string(line.status().message()).c_str());
    return 64;
  }
  std::printf("%s\n", line->c_str());
  return 0;
}
