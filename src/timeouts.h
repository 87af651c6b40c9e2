// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// The --timeout bounds, in one place for the command line (cli.h) and the
// connector (connector.h).

#ifndef SSH_PROXY_SRC_TIMEOUTS_H_
#define SSH_PROXY_SRC_TIMEOUTS_H_

#include <cstdint>

namespace ssh_proxy {

// The default and the largest accepted --timeout, in milliseconds.
inline constexpr int64_t kDefaultTimeoutMs = 10'000;
inline constexpr int64_t kMaxTimeoutMs = 3'600'000;

}  // namespace ssh_proxy

#endif  // SSH_PROXY_SRC_TIMEOUTS_H_
