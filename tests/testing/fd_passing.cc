// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors

#include "tests/testing/fd_passing.h"

#include <errno.h>
#include <sys/socket.h>

#include <cstring>

namespace ssh_proxy {
namespace testing {

Received ReceiveFd(int sock, bool wait, Room room) {
  const bool extras = room == Room::kExtras;
  Received r;
  char buf[2];
  struct iovec iov = {buf, extras ? sizeof(buf) : 1};
  union {
    struct cmsghdr align;
    char buf[CMSG_SPACE(sizeof(int) * 4)];
  } control;
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.buf;
  msg.msg_controllen = extras ? sizeof(control.buf) : CMSG_SPACE(sizeof(int));
  const int flags = MSG_CMSG_CLOEXEC | (wait ? 0 : MSG_DONTWAIT);
  do {
    r.n = ::recvmsg(sock, &msg, flags);
  } while (r.n < 0 && errno == EINTR);
  if (r.n < 0) {
    // msg_control is untouched then: nothing to read in it.
    r.err = errno;
    return r;
  }
  if (r.n > 0) r.byte = buf[0];
  r.truncated = (msg.msg_flags & MSG_CTRUNC) != 0;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr;
       c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      const int count =
          static_cast<int>((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
      r.fds += count;
      if (count > 0) std::memcpy(&r.fd, CMSG_DATA(c), sizeof(int));
    }
  }
  return r;
}

}  // namespace testing
}  // namespace ssh_proxy
