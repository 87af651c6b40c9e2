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

class Syscalls {
 public:
  virtual ~Syscalls() = default;

  virtual int Socket(int domain, int type, int protocol) = 0;
  virtual int Connect(int fd, const struct sockaddr* addr, socklen_t len) = 0;
  virtual int SetSockOpt(int fd, int level, int name, const void* value,
                         socklen_t len) = 0;
  virtual int GetSockOpt(int fd, int level, int name, void* value,
                         socklen_t* len) = 0;
  virtual int Open(const char* path, int flags) = 0;
  virtual int Fchdir(int fd) = 0;
  virtual int Close(int fd) = 0;
  virtual int Fcntl(int fd, int cmd, int arg) = 0;
  virtual int Fstat(int fd, struct stat* st) = 0;
  virtual ssize_t Send(int fd, const void* buf, size_t len, int flags) = 0;
  virtual ssize_t Recv(int fd, void* buf, size_t len, int flags) = 0;
  virtual ssize_t SendMsg(int fd, const struct msghdr* msg, int flags) = 0;
  virtual int Poll(struct pollfd* fds, nfds_t nfds, int timeout_ms) = 0;
  virtual ssize_t Read(int fd, void* buf, size_t len) = 0;
  virtual ssize_t Write(int fd, const void* buf, size_t len) = 0;
  virtual ssize_t Splice(int fd_in, int fd_out, size_t len,
                         unsigned int flags) = 0;  // Offsets are always null.
  virtual int Pipe2(int fds[2], int flags) = 0;
  virtual int Shutdown(int fd, int how) = 0;
  // NowMs returns a monotonic clock in milliseconds (CLOCK_MONOTONIC); never
  // fails.
  virtual int64_t NowMs() = 0;
};

// KernelSyscalls calls the kernel: the production implementation, and the
// pass-through base of the test fakes (tests/testing, fuzz/), which override
// only the calls they fake. Adding a call to Syscalls therefore touches this
// header and syscalls.cc only.
class KernelSyscalls : public Syscalls {
 public:
  int Socket(int domain, int type, int protocol) override;
  int Connect(int fd, const struct sockaddr* addr, socklen_t len) override;
  int SetSockOpt(int fd, int level, int name, const void* value,
                 socklen_t len) override;
  int GetSockOpt(int fd, int level, int name, void* value,
                 socklen_t* len) override;
  int Open(const char* path, int flags) override;
  int Fchdir(int fd) override;
  int Close(int fd) override;
  int Fcntl(int fd, int cmd, int arg) override;
  int Fstat(int fd, struct stat* st) override;
  ssize_t Send(int fd, const void* buf, size_t len, int flags) override;
  ssize_t Recv(int fd, void* buf, size_t len, int flags) override;
  ssize_t SendMsg(int fd, const struct msghdr* msg, int flags) override;
  int Poll(struct pollfd* fds, nfds_t nfds, int timeout_ms) override;
  ssize_t Read(int fd, void* buf, size_t len) override;
  ssize_t Write(int fd, const void* buf, size_t len) override;
  ssize_t Splice(int fd_in, int fd_out, size_t len,
                 unsigned int flags) override;
  int Pipe2(int fds[2], int flags) override;
  int Shutdown(int fd, int how) override;
  int64_t NowMs() override;
};

// RealSyscalls returns the process-wide implementation that calls the kernel.
Syscalls& RealSyscalls();

// ErrnoText returns how messages show an errno value: its text and its name,
// "No such file or directory (ENOENT)" ("... (errno 4095)" if it has no name).
std::string ErrnoText(int err);

}  // namespace ssh_proxy

#endif  // SSH_PROXY_SRC_SYSCALLS_H_
