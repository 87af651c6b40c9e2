// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// Receiving a passed descriptor as ssh does, for tests of the hand-off.

#ifndef SSH_PROXY_TESTS_TESTING_FD_PASSING_H_
#define SSH_PROXY_TESTS_TESTING_FD_PASSING_H_

#include <sys/types.h>

namespace ssh_proxy {
namespace testing {

// What one recvmsg on ssh's end of the socketpair got.
struct Received {
  ssize_t n = -1;  // recvmsg's result: ssh requires exactly 1.
  char byte = 1;   // The data byte, if any.
  int fds = 0;     // How many descriptors arrived (ssh wants exactly one).
  int fd = -1;     // The last one that arrived (close-on-exec), or -1.
};

// ReceiveFd makes one non-blocking recvmsg on `sock` with room for one data
// byte too many and four descriptors, so that extras show, and reports what
// came. The caller owns and closes `fd`.
Received ReceiveFd(int sock);

}  // namespace testing
}  // namespace ssh_proxy

#endif  // SSH_PROXY_TESTS_TESTING_FD_PASSING_H_
