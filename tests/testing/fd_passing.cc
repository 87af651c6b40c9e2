// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors

#include "tests/testing/fd_passing.h"

#include <sys/socket.h>

#include <cstring>

namespace ssh_proxy {
namespace testing {

Received ReceiveFd(int sock) {
  Received r;
  char buf[2];
  struct iovec iov = {buf, sizeof(buf)};
  union {
    struct cmsghdr align;
    char buf[CMSG_SPACE(sizeof(int) * 4)];
  } control;
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.buf;
  msg.msg_controllen = sizeof(control.buf);
  r.n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  if (r.n > 0) r.byte = buf[0];
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr;
       c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      r.fds += static_cast<int>((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
      std::memcpy(&r.fd, CMSG_DATA(c), sizeof(int));
    }
  }
  return r;
}

}  // namespace testing
}  // namespace ssh_proxy
