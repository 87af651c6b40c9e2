// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// The --timeout budget on the Syscalls clock, and waiting on a descriptor
// within it: shared by the connector and the machined resolver, so that every
// step of a run spends one budget the same way.

#ifndef SSH_PROXY_SRC_DEADLINE_H_
#define SSH_PROXY_SRC_DEADLINE_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "src/syscalls.h"
#include "src/timeouts.h"

namespace ssh_proxy {

// Deadline is `timeout_ms` (positive) after `start_ms` on sys.NowMs()'s clock,
// or after now if `start_ms` is negative.
class Deadline {
 public:
  Deadline(Syscalls& sys, int64_t start_ms, int64_t timeout_ms);
  // RemainingMs returns the milliseconds left, 0 once spent; it fits poll()'s
  // int (never more than the timeout).
  int RemainingMs() const;
  int64_t timeout_ms() const { return timeout_ms_; }
  // TimeoutText returns the timeout as messages show it: "10s", "700ms".
  std::string TimeoutText() const;

 private:
  Syscalls& sys_;
  const int64_t end_ms_;
  const int64_t timeout_ms_;
};

// RunContext is what every step of a run shares: the one --timeout budget and
// the -v log. Run (run.h) builds it once; the resolver (machine.h) takes it as
// it is, the connector (connector.h) with the hook it adds.
struct RunContext {
  // The time budget: every step must finish within this many milliseconds,
  // counted from `start_ms`. Must be positive.
  int64_t timeout_ms = kDefaultTimeoutMs;
  // When the budget started, on Syscalls::NowMs's clock; -1 means "when the
  // step is called". Run sets it once, so that every step shares one
  // --timeout.
  int64_t start_ms = -1;
  // If set, receives one line per step (without "\n") for -v.
  std::function<void(absl::string_view)> log;

  // Log passes `line` to `log`, if set.
  void Log(absl::string_view line) const {
    if (log) log(line);
  }
  // Budget returns the deadline of this context on `sys`'s clock.
  Deadline Budget(Syscalls& sys) const {
    return Deadline(sys, start_ms, timeout_ms);
  }
};

// WaitFor polls `fd` for `events` until it is ready or the deadline passes,
// retrying on EINTR. Returns OK when ready (or on POLLERR/POLLHUP, which the
// caller's next call reports), DeadlineExceeded "WHAT: timed out after 10s"
// once the budget is spent, or for a failed poll ResourceExhausted (ENOMEM)
// or Internal, "WHAT: poll: <errno text>".
absl::Status WaitFor(Syscalls& sys, int fd, short events,
                     const Deadline& deadline, absl::string_view what);

}  // namespace ssh_proxy

#endif  // SSH_PROXY_SRC_DEADLINE_H_
