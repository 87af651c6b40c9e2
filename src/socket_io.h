// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// The socket steps the connector and the machined resolver share: errno to
// Status, an AF_UNIX address, a connect within the deadline (a full listen
// backlog retried), and a send of all bytes. One behaviour for both.

#ifndef SSH_PROXY_SRC_SOCKET_IO_H_
#define SSH_PROXY_SRC_SOCKET_IO_H_

#include <sys/socket.h>
#include <sys/un.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "src/deadline.h"
#include "src/syscalls.h"

namespace ssh_proxy {

// ErrnoStatus maps a failed system call's `err` to a status whose message is
// "WHAT: <errno text>": NotFound (ENOENT, ENOTDIR) and Unavailable
// (ECONNREFUSED, ECONNRESET, EHOSTUNREACH, ENETUNREACH, ENODEV) are "nothing
// there" (69), DeadlineExceeded (ETIMEDOUT) a timeout (75), ResourceExhausted
// (EMFILE, ENFILE, ENOBUFS, ENOMEM) and Internal (the rest) an OS error (71).
absl::Status ErrnoStatus(int err, absl::string_view what);

// FillSunPath sets `*addr` to the AF_UNIX address `path`, which must be
// shorter than sun_path, and returns its length for connect().
socklen_t FillSunPath(struct sockaddr_un* addr, absl::string_view path);

// ConnectSocket connects the non-blocking socket `fd` to `addr` within
// `deadline`: a full AF_UNIX backlog (EAGAIN) is retried every 5 ms, a connect
// in progress (AF_VSOCK) or interrupted is waited for. Returns OK when
// connected; DeadlineExceeded "WHAT: the listener's backlog stayed full for
// 10s" or WaitFor's timeout; else ErrnoStatus(errno, WHAT). The failed errno
// is stored in `*failed_errno` when that is not null, for the caller's
// diagnosis.
absl::Status ConnectSocket(Syscalls& sys, int fd, const struct sockaddr* addr,
                           socklen_t len, const Deadline& deadline,
                           absl::string_view what, int* failed_errno);

// SendAll writes all of `data` to the non-blocking socket `fd` within
// `deadline`, through short writes, EINTR and EAGAIN. On failure returns the
// wait's error (75, 71), Unavailable "WHAT: PEER closed the connection: <errno
// text>" for EPIPE or ECONNRESET, Internal "WHAT: send sent nothing" for a
// send that returns 0 (never spins), or ErrnoStatus(errno, "WHAT: send").
absl::Status SendAll(Syscalls& sys, int fd, absl::string_view data,
                     const Deadline& deadline, absl::string_view what,
                     absl::string_view peer);

}  // namespace ssh_proxy

#endif  // SSH_PROXY_SRC_SOCKET_IO_H_
