// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// Canonical: the canonical spelling of an ssh-proxy HOST, for a tool that keeps one known_hosts
// entry (or one inventory line) per target however the user spelled it.

#ifndef BAZEL_CONSUMER_CANONICAL_H_
#define BAZEL_CONSUMER_CANONICAL_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace bazel_consumer {

// Canonical parses HOST and PORT with ssh-proxy's grammar. On success returns the canonical HOST
// followed by a tab and the target as ssh-proxy --dry-run describes it; on failure returns the
// grammar's InvalidArgument error unchanged.
absl::StatusOr<std::string> Canonical(absl::string_view host,
                                      absl::string_view port);

}  // namespace bazel_consumer

#endif  // BAZEL_CONSUMER_CANONICAL_H_
