// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// UniqueFd owns a file descriptor and closes it through a Syscalls, so that fd
// leaks show up in tests that count opens and closes.

#ifndef SSH_PROXY_SRC_UNIQUE_FD_H_
#define SSH_PROXY_SRC_UNIQUE_FD_H_

#include "src/syscalls.h"

namespace ssh_proxy {

class UniqueFd {
 public:
  UniqueFd() = default;
  UniqueFd(Syscalls* sys, int fd) : sys_(sys), fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept
      : sys_(other.sys_), fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      reset();
      sys_ = other.sys_;
      fd_ = other.release();
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // release gives up ownership and returns the fd (-1 if none).
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }
  // reset closes the fd, if any. The result of close is ignored: on Linux the
  // fd is gone either way.
  void reset() {
    if (fd_ >= 0) sys_->Close(fd_);
    fd_ = -1;
  }

 private:
  Syscalls* sys_ = nullptr;
  int fd_ = -1;
};

}  // namespace ssh_proxy

#endif  // SSH_PROXY_SRC_UNIQUE_FD_H_
