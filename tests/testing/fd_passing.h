// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// Receiving a passed descriptor as ssh does, for tests of the hand-off, the
// e2e harnesses and the benchmarks: the one recvmsg of ssh's mm_receive_fd.

#ifndef SSH_PROXY_TESTS_TESTING_FD_PASSING_H_
#define SSH_PROXY_TESTS_TESTING_FD_PASSING_H_

#include <sys/types.h>

namespace ssh_proxy {
namespace testing {

// What one recvmsg on ssh's end of the socketpair got.
struct Received {
  ssize_t n = -1;  // recvmsg's result: ssh requires exactly 1.
  int err = 0;     // errno, when n < 0.
  char byte = 1;   // The data byte, if any.
  int fds = 0;     // How many descriptors arrived (ssh wants one).
  int fd = -1;     // The first of the last SCM_RIGHTS message (close-on-exec).
  bool truncated = false;  // MSG_CTRUNC: descriptors beyond the room left out.
};

// How much a ReceiveFd makes room for.
enum class Room {
  kExtras,  // Two data bytes and four descriptors: extras show in n and fds.
  kAsSsh,   // One byte and one descriptor, as ssh: the kernel drops extras.
};

// ReceiveFd makes one recvmsg on `sock` (non-blocking unless `wait`; retried
// on EINTR) with the given room, and reports what came. The caller owns and
// closes `fd`; with Room::kExtras, any others (fds > 1, already a failure of
// ssh's contract) are left open.
Received ReceiveFd(int sock, bool wait = false, Room room = Room::kExtras);

}  // namespace testing
}  // namespace ssh_proxy

#endif  // SSH_PROXY_TESTS_TESTING_FD_PASSING_H_
