// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// The system calls the connector and the relay make, behind a small interface (in the manner
// of Envoy's Api::OsSysCalls) so that tests and fuzzers inject each failure
// deterministically: EINTR, EAGAIN, short writes, ECONNREFUSED, ENOENT,
// ETIMEDOUT, EMFILE, a failing sendmsg.
//
// Every method has the POSIX contract of the call it is named after: on failure
// it returns -1 and sets errno.

#ifndef SSH_PROXY_SRC_SYSCALLS_H_
#define SSH_PROXY_SRC_SYSCALLS_H_

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace ssh_proxy {

// SSH_PROXY_SYSCALLS(X) lists every call of Syscalls once, as
// X(return type, Name, (parameters)); the interface, the kernel's
// implementation and the test fakes each expand it, so that a new call is
// added here and in syscalls.cc only. Splice's offsets are always null.
// NowMs returns a monotonic clock in milliseconds (CLOCK_MONOTONIC) and never
// fails.
#define SSH_PROXY_SYSCALLS(X)                                                 \
  X(int, Socket, (int domain, int type, int protocol))                        \
  X(int, Connect, (int fd, const struct sockaddr* addr, socklen_t len))       \
  X(int, SetSockOpt,                                                          \
    (int fd, int level, int name, const void* value, socklen_t len))          \
  X(int, GetSockOpt,                                                          \
    (int fd, int level, int name, void* value, socklen_t* len))               \
  X(int, Open, (const char* path, int flags))                                 \
  X(int, Fchdir, (int fd))                                                    \
  X(int, Close, (int fd))                                                     \
  X(int, Fcntl, (int fd, int cmd, int arg))                                   \
  X(int, Fstat, (int fd, struct stat* st))                                    \
  X(ssize_t, Send, (int fd, const void* buf, size_t len, int flags))          \
  X(ssize_t, Recv, (int fd, void* buf, size_t len, int flags))                \
  X(ssize_t, SendMsg, (int fd, const struct msghdr* msg, int flags))          \
  X(int, Poll, (struct pollfd fds[], nfds_t nfds, int timeout_ms))            \
  X(ssize_t, Read, (int fd, void* buf, size_t len))                           \
  X(ssize_t, Write, (int fd, const void* buf, size_t len))                    \
  X(ssize_t, Splice, (int fd_in, int fd_out, size_t len, unsigned int flags)) \
  X(int, Pipe2, (int fds[2], int flags))                                      \
  X(int, Shutdown, (int fd, int how))                                         \
  X(int64_t, NowMs, ())

// For SSH_PROXY_SYSCALLS: declares one call as pure virtual, or as an
// override (in KernelSyscalls and in the fakes derived from it).
#define SSH_PROXY_SYSCALL_PURE(ret, name, params) virtual ret name params = 0;
#define SSH_PROXY_SYSCALL_OVERRIDE(ret, name, params) ret name params override;

class Syscalls {
 public:
  virtual ~Syscalls() = default;

  SSH_PROXY_SYSCALLS(SSH_PROXY_SYSCALL_PURE)
};

// KernelSyscalls calls the kernel: the production implementation, and the
// pass-through base of the test fakes (tests/testing, fuzz/), which override
// only the calls they fake. Adding a call to Syscalls therefore touches this
// header and syscalls.cc only.
class KernelSyscalls : public Syscalls {
 public:
  SSH_PROXY_SYSCALLS(SSH_PROXY_SYSCALL_OVERRIDE)
};

// RealSyscalls returns the process-wide implementation that calls the kernel.
Syscalls& RealSyscalls();

// ErrnoText returns how messages show an errno value: its text and its name,
// "No such file or directory (ENOENT)" ("... (errno 4095)" if it has no name).
std::string ErrnoText(int err);

}  // namespace ssh_proxy

#endif  // SSH_PROXY_SRC_SYSCALLS_H_
