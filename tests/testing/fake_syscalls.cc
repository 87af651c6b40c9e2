// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors

#include "tests/testing/fake_syscalls.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace ssh_proxy {
namespace testing {

FakeSyscalls::Injection FakeSyscalls::Next(const std::string& op) {
  ++calls[op];
  auto it = injections_.find(op);
  if (it == injections_.end() || it->second.empty()) return Injection{};
  Injection injection = it->second.front();
  it->second.pop_front();
  return injection;
}

bool FakeSyscalls::Injected(const std::string& op, size_t* len) {
  const Injection inj = Next(op);
  if (inj.err != 0) {
    errno = inj.err;
    return true;
  }
  if (len != nullptr && inj.max_len != 0 && *len > inj.max_len) {
    *len = inj.max_len;
  }
  return false;
}

int FakeSyscalls::Socket(int domain, int type, int protocol) {
  const Injection inj = Next("socket");
  socket_types.push_back(type);
  if (inj.err != 0) {
    errno = inj.err;
    return -1;
  }
  if (domain == AF_VSOCK) {
    // Never a real AF_VSOCK socket: a placeholder fd stands in for it.
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
      return -1;
    }
    vsock_fds_.insert(pair[0]);
    vsock_peers_[pair[0]] = pair[1];
    open_.insert(pair[0]);
    return pair[0];
  }
  const int fd = KernelSyscalls::Socket(domain, type, protocol);
  if (fd >= 0) open_.insert(fd);
  return fd;
}

int FakeSyscalls::Connect(int fd, const struct sockaddr* addr, socklen_t len) {
  const Injection inj = Next("connect");
  if (vsock_fds_.count(fd) != 0) {
    struct sockaddr_vm vm;
    std::memset(&vm, 0, sizeof(vm));
    std::memcpy(&vm, addr, len < sizeof(vm) ? len : sizeof(vm));
    vsock_connects.push_back(vm);
    const int err = inj.err != 0 ? inj.err : vsock_connect_errno;
    if (err != 0) {
      errno = err;
      return -1;
    }
    return 0;
  }
  if (inj.err != 0 && !inj.after_real) {
    errno = inj.err;
    return -1;
  }
  const int r = KernelSyscalls::Connect(fd, addr, len);
  if (inj.err != 0) {
    errno = inj.err;
    return -1;
  }
  return r;
}

int FakeSyscalls::SetSockOpt(int fd, int level, int name, const void* value,
                             socklen_t len) {
  if (Injected("setsockopt")) return -1;
  if (vsock_fds_.count(fd) != 0) {
    if (level == AF_VSOCK && name == SO_VM_SOCKETS_CONNECT_TIMEOUT &&
        len == sizeof(struct timeval)) {
      struct timeval tv;
      std::memcpy(&tv, value, sizeof(tv));
      vsock_connect_timeouts.push_back(tv);
      return 0;
    }
    errno = ENOPROTOOPT;
    return -1;
  }
  return KernelSyscalls::SetSockOpt(fd, level, name, value, len);
}

int FakeSyscalls::GetSockOpt(int fd, int level, int name, void* value,
                             socklen_t* len) {
  if (Injected("getsockopt")) return -1;
  if (vsock_fds_.count(fd) != 0 && level == SOL_SOCKET && name == SO_ERROR) {
    std::memcpy(value, &vsock_so_error, sizeof(int));
    *len = sizeof(int);
    return 0;
  }
  return KernelSyscalls::GetSockOpt(fd, level, name, value, len);
}

int FakeSyscalls::Open(const char* path, int flags) {
  if (Injected("open")) return -1;
  const int fd = KernelSyscalls::Open(path, flags);
  if (fd >= 0) open_.insert(fd);
  return fd;
}

int FakeSyscalls::Fchdir(int fd) {
  if (Injected("fchdir")) return -1;
  return KernelSyscalls::Fchdir(fd);
}

int FakeSyscalls::Close(int fd) {
  ++calls["close"];
  open_.erase(fd);
  auto peer = vsock_peers_.find(fd);
  if (peer != vsock_peers_.end()) {
    ::close(peer->second);
    vsock_peers_.erase(peer);
    vsock_fds_.erase(fd);
  }
  return KernelSyscalls::Close(fd);
}

int FakeSyscalls::Fcntl(int fd, int cmd, int arg) {
  if (Injected("fcntl")) return -1;
  return KernelSyscalls::Fcntl(fd, cmd, arg);
}

int FakeSyscalls::Fstat(int fd, struct stat* st) {
  if (Injected("fstat")) return -1;
  return KernelSyscalls::Fstat(fd, st);
}

ssize_t FakeSyscalls::Send(int fd, const void* buf, size_t len, int flags) {
  if (Injected("send", &len)) return -1;
  const ssize_t n = KernelSyscalls::Send(fd, buf, len, flags);
  if (n > 0) sent.append(static_cast<const char*>(buf), static_cast<size_t>(n));
  return n;
}

ssize_t FakeSyscalls::Recv(int fd, void* buf, size_t len, int flags) {
  if (Injected("recv", &len)) return -1;
  return KernelSyscalls::Recv(fd, buf, len, flags);
}

ssize_t FakeSyscalls::SendMsg(int fd, const struct msghdr* msg, int flags) {
  if (Injected("sendmsg")) return -1;
  return KernelSyscalls::SendMsg(fd, msg, flags);
}

int FakeSyscalls::Poll(struct pollfd* fds, nfds_t nfds, int timeout_ms) {
  const Injection inj = Next("poll");
  if (inj.err != 0) {
    errno = inj.err;
    return -1;
  }
  if (nfds == 1 && vsock_fds_.count(fds[0].fd) != 0) {
    if (vsock_poll_ready) {
      fds[0].revents = POLLOUT;
      return 1;
    }
    if (fake_clock) {
      now_ms += timeout_ms;
      return 0;
    }
    return ::poll(nullptr, 0, timeout_ms);
  }
  if (fake_clock) {
    // On the fake clock, wait at most a moment of real time (for a peer thread
    // to act), and if nothing is ready, let the whole timeout pass.
    const int n = KernelSyscalls::Poll(
        fds, nfds, std::min(timeout_ms, fake_clock_real_wait_ms));
    if (n == 0) now_ms += timeout_ms;
    return n;
  }
  return KernelSyscalls::Poll(fds, nfds, timeout_ms);
}

ssize_t FakeSyscalls::Read(int fd, void* buf, size_t len) {
  if (Injected("read", &len)) return -1;
  return KernelSyscalls::Read(fd, buf, len);
}

ssize_t FakeSyscalls::Write(int fd, const void* buf, size_t len) {
  if (Injected("write", &len)) return -1;
  return KernelSyscalls::Write(fd, buf, len);
}

ssize_t FakeSyscalls::Splice(int fd_in, int fd_out, size_t len,
                             unsigned int flags) {
  if (Injected("splice", &len)) return -1;
  return KernelSyscalls::Splice(fd_in, fd_out, len, flags);
}

int FakeSyscalls::Pipe2(int fds[2], int flags) {
  if (Injected("pipe2")) return -1;
  const int r = KernelSyscalls::Pipe2(fds, flags);
  if (r == 0) {
    open_.insert(fds[0]);
    open_.insert(fds[1]);
  }
  return r;
}

int FakeSyscalls::Shutdown(int fd, int how) {
  if (Injected("shutdown")) return -1;
  return KernelSyscalls::Shutdown(fd, how);
}

int64_t FakeSyscalls::NowMs() {
  if (fake_clock) return now_ms;
  return KernelSyscalls::NowMs();
}

}  // namespace testing
}  // namespace ssh_proxy
