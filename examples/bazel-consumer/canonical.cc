// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors

#include "canonical.h"

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "src/address.h"

namespace bazel_consumer {

absl::StatusOr<std::string> Canonical(absl::string_view host,
                                      absl::string_view port) {
  absl::StatusOr<ssh_proxy::Target> target = ssh_proxy::ParseTarget(host, port);
  if (!target.ok()) return target.status();
  return absl::StrCat(ssh_proxy::FormatHost(*target), "\t",
                      ssh_proxy::DescribeTarget(*target));
}

}  // namespace bazel_consumer
