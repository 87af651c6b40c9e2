// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// Exit codes of ssh-proxy (sysexits.h values) and the mapping from absl::Status
// to them.

#ifndef SSH_PROXY_SRC_EXIT_CODES_H_
#define SSH_PROXY_SRC_EXIT_CODES_H_

#include "absl/status/status.h"

namespace ssh_proxy {

inline constexpr int kExitOk = 0;
inline constexpr int kExitUsage =
    64;  // EX_USAGE: bad command line, HOST or PORT.
inline constexpr int kExitUnavailable =
    69;  // EX_UNAVAILABLE: nothing listening there.
inline constexpr int kExitOsError = 71;  // EX_OSERR: a system call failed.
inline constexpr int kExitTimeout = 75;  // EX_TEMPFAIL: --timeout expired.
inline constexpr int kExitProtocol =
    76;  // EX_PROTOCOL: the multiplexer or systemd-machined broke protocol.

// ExitCodeForStatus maps a status to the exit code: OK -> 0; InvalidArgument
// and FailedPrecondition -> 64; NotFound and Unavailable -> 69;
// DeadlineExceeded -> 75; DataLoss (a peer that broke protocol) -> 76; every
// other code -> 71.
int ExitCodeForStatus(const absl::Status& status);

}  // namespace ssh_proxy

#endif  // SSH_PROXY_SRC_EXIT_CODES_H_
