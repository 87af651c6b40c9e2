// The --timeout budget on the Syscalls clock, and waiting on a descriptor
// within it: shared by the connector and the machined resolver, so that every
// step of a run spends one budget the same way.

#ifndef SSH_PROXY_SRC_DEADLINE_H_
#define SSH_PROXY_SRC_DEADLINE_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "src/syscalls.h"

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

// WaitFor polls `fd` for `events` until it is ready or the deadline passes,
// retrying on EINTR. Returns OK when ready (or on POLLERR/POLLHUP, which the
// caller's next call reports), DeadlineExceeded "WHAT: timed out after 10s"
// once the budget is spent, or for a failed poll ResourceExhausted (ENOMEM)
// or Internal, "WHAT: poll: <errno text>".
absl::Status WaitFor(Syscalls& sys, int fd, short events,
                     const Deadline& deadline, absl::string_view what);

}  // namespace ssh_proxy

#endif  // SSH_PROXY_SRC_DEADLINE_H_
