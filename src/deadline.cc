// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors

#include "src/deadline.h"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "src/syscalls.h"

namespace ssh_proxy {

Deadline::Deadline(Syscalls& sys, int64_t start_ms, int64_t timeout_ms)
    : sys_(sys),
      end_ms_((start_ms >= 0 ? start_ms : sys.NowMs()) + timeout_ms),
      timeout_ms_(timeout_ms) {}

int Deadline::RemainingMs() const {
  const int64_t left = end_ms_ - sys_.NowMs();
  return static_cast<int>(std::clamp<int64_t>(left, 0, timeout_ms_));
}

std::string Deadline::TimeoutText() const {
  return timeout_ms_ % 1000 == 0 ? absl::StrCat(timeout_ms_ / 1000, "s")
                                 : absl::StrCat(timeout_ms_, "ms");
}

absl::Status WaitFor(Syscalls& sys, int fd, short events,
                     const Deadline& deadline, absl::string_view what) {
  for (;;) {
    const int remaining = deadline.RemainingMs();
    if (remaining == 0) {
      return absl::DeadlineExceededError(
          absl::StrCat(what, ": timed out after ", deadline.TimeoutText()));
    }
    struct pollfd pfd = {fd, events, 0};
    const int n = sys.Poll(&pfd, 1, remaining);
    if (n > 0) return absl::OkStatus();
    if (n < 0 && errno != EINTR) {
      const int err = errno;
      const std::string message =
          absl::StrCat(what, ": poll: ", ErrnoText(err));
      return err == ENOMEM ? absl::ResourceExhaustedError(message)
                           : absl::InternalError(message);
    }
  }
}

}  // namespace ssh_proxy
