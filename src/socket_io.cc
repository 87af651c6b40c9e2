// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors

#include "src/socket_io.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "src/deadline.h"
#include "src/syscalls.h"

namespace ssh_proxy {
namespace {

// SleepMs waits `ms` milliseconds (or less if interrupted) on the injected
// poll.
void SleepMs(Syscalls& sys, int ms) { sys.Poll(nullptr, 0, ms); }

}  // namespace

absl::Status ErrnoStatus(int err, absl::string_view what) {
  const std::string message = absl::StrCat(what, ": ", ErrnoText(err));
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return absl::NotFoundError(message);
    case ECONNREFUSED:
    case ECONNRESET:
    case EHOSTUNREACH:
    case ENETUNREACH:
    case ENODEV:
      return absl::UnavailableError(message);
    case ETIMEDOUT:
      return absl::DeadlineExceededError(message);
    case EMFILE:
    case ENFILE:
    case ENOBUFS:
    case ENOMEM:
      return absl::ResourceExhaustedError(message);
    default:
      return absl::InternalError(message);
  }
}

socklen_t FillSunPath(struct sockaddr_un* addr, absl::string_view path) {
  std::memset(addr, 0, sizeof(*addr));
  addr->sun_family = AF_UNIX;
  std::memcpy(addr->sun_path, path.data(), path.size());
  return sizeof(*addr);
}

absl::Status ConnectSocket(Syscalls& sys, int fd, const struct sockaddr* addr,
                           socklen_t len, const Deadline& deadline,
                           absl::string_view what, int* failed_errno) {
  int unused = 0;
  int& failed = failed_errno != nullptr ? *failed_errno : unused;
  for (;;) {
    if (sys.Connect(fd, addr, len) == 0) return absl::OkStatus();
    const int err = errno;
    failed = err;
    if (err == EAGAIN) {
      // AF_UNIX: the listener's backlog is full. Retry until it drains or time
      // is up.
      const int remaining = deadline.RemainingMs();
      if (remaining == 0) {
        return absl::DeadlineExceededError(
            absl::StrCat(what, ": the listener's backlog stayed full for ",
                         deadline.TimeoutText()));
      }
      SleepMs(sys, std::min(remaining, 5));
      continue;
    }
    if (err != EINPROGRESS && err != EALREADY && err != EINTR) {
      return ErrnoStatus(err, what);
    }
    // In progress (vsock), or interrupted: the connect goes on; wait for its
    // result.
    absl::Status ready = WaitFor(sys, fd, POLLOUT, deadline, what);
    if (!ready.ok()) return ready;
    int so_error = 0;
    socklen_t so_len = sizeof(so_error);
    if (sys.GetSockOpt(fd, SOL_SOCKET, SO_ERROR, &so_error, &so_len) != 0) {
      return ErrnoStatus(errno, absl::StrCat(what, ": getsockopt(SO_ERROR)"));
    }
    if (so_error == 0) return absl::OkStatus();
    failed = so_error;
    return ErrnoStatus(so_error, what);
  }
}

absl::Status SendAll(Syscalls& sys, int fd, absl::string_view data,
                     const Deadline& deadline, absl::string_view what,
                     absl::string_view peer) {
  while (!data.empty()) {
    const ssize_t n =
        sys.Send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n == 0) {
      // A stream socket never sends 0 of a non-empty buffer; refuse to spin.
      return absl::InternalError(absl::StrCat(what, ": send sent nothing"));
    }
    const int err = errno;
    if (err == EINTR) continue;
    if (err == EAGAIN) {
      absl::Status ready = WaitFor(sys, fd, POLLOUT, deadline, what);
      if (!ready.ok()) return ready;
      continue;
    }
    if (err == EPIPE || err == ECONNRESET) {
      return absl::UnavailableError(absl::StrCat(
          what, ": ", peer, " closed the connection: ", ErrnoText(err)));
    }
    return ErrnoStatus(err, absl::StrCat(what, ": send"));
  }
  return absl::OkStatus();
}

}  // namespace ssh_proxy
