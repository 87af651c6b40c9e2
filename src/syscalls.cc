// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors

#include "src/syscalls.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <string>

namespace ssh_proxy {

int KernelSyscalls::Socket(int domain, int type, int protocol) {
  return ::socket(domain, type, protocol);
}
int KernelSyscalls::Connect(int fd, const struct sockaddr* addr,
                            socklen_t len) {
  return ::connect(fd, addr, len);
}
int KernelSyscalls::SetSockOpt(int fd, int level, int name, const void* value,
                               socklen_t len) {
  return ::setsockopt(fd, level, name, value, len);
}
int KernelSyscalls::GetSockOpt(int fd, int level, int name, void* value,
                               socklen_t* len) {
  return ::getsockopt(fd, level, name, value, len);
}
int KernelSyscalls::Open(const char* path, int flags) {
  return ::open(path, flags);
}
int KernelSyscalls::Fchdir(int fd) { return ::fchdir(fd); }
int KernelSyscalls::Close(int fd) { return ::close(fd); }
int KernelSyscalls::Fcntl(int fd, int cmd, int arg) {
  return ::fcntl(fd, cmd, arg);
}
int KernelSyscalls::Fstat(int fd, struct stat* st) { return ::fstat(fd, st); }
ssize_t KernelSyscalls::Send(int fd, const void* buf, size_t len, int flags) {
  return ::send(fd, buf, len, flags);
}
ssize_t KernelSyscalls::Recv(int fd, void* buf, size_t len, int flags) {
  return ::recv(fd, buf, len, flags);
}
ssize_t KernelSyscalls::SendMsg(int fd, const struct msghdr* msg, int flags) {
  return ::sendmsg(fd, msg, flags);
}
int KernelSyscalls::Poll(struct pollfd* fds, nfds_t nfds, int timeout_ms) {
  return ::poll(fds, nfds, timeout_ms);
}
ssize_t KernelSyscalls::Read(int fd, void* buf, size_t len) {
  return ::read(fd, buf, len);
}
ssize_t KernelSyscalls::Write(int fd, const void* buf, size_t len) {
  return ::write(fd, buf, len);
}
ssize_t KernelSyscalls::Splice(int fd_in, int fd_out, size_t len,
                               unsigned int flags) {
  return ::splice(fd_in, nullptr, fd_out, nullptr, len, flags);
}
int KernelSyscalls::Pipe2(int fds[2], int flags) { return ::pipe2(fds, flags); }
int KernelSyscalls::Shutdown(int fd, int how) { return ::shutdown(fd, how); }
int64_t KernelSyscalls::NowMs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

std::string ErrnoText(int err) {
  const char* name = strerrorname_np(err);
  std::string text = strerror(err);
  text += " (";
  text += name != nullptr ? name : "errno " + std::to_string(err);
  text += ")";
  return text;
}

Syscalls& RealSyscalls() {
  // Constructed on first use and never destroyed: no static initialiser or
  // destructor runs.
  static KernelSyscalls* const kernel = new KernelSyscalls();
  return *kernel;
}

}  // namespace ssh_proxy
