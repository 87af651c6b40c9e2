// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors

#include "tests/testing/scripted_machined.h"

#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

namespace ssh_proxy {
namespace testing {

ScriptedMachined::ScriptedMachined(const std::string& socket_path,
                                   const std::string& reply)
    : path_(socket_path), reply_(reply) {
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (path_.size() >= sizeof(addr.sun_path)) return;
  std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
  unlink(path_.c_str());
  fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return;
  if (bind(fd_, reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(fd_, 128) != 0) {
    close(fd_);
    fd_ = -1;
    return;
  }
  thread_ = std::thread([this] {
    while (!stop_) {
      struct pollfd pfd = {fd_, POLLIN, 0};
      if (poll(&pfd, 1, 50) <= 0) continue;
      const int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      // The call, up to its NUL (or until the client gives up).
      char ch = 1;
      while (ch != '\0' && recv(c, &ch, 1, 0) == 1) {
      }
      const std::string message = reply_ + std::string(1, '\0');
      send(c, message.data(), message.size(), MSG_NOSIGNAL);
      close(c);
    }
  });
}

ScriptedMachined::~ScriptedMachined() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (fd_ >= 0) {
    close(fd_);
    unlink(path_.c_str());
  }
}

std::string MachineReply(const std::string& name,
                         const std::string& ssh_address) {
  return "{\"parameters\":{\"name\":\"" + name +
         "\",\"class\":\"vm\",\"service\":\"test\",\"unit\":\"test-" + name +
         ".service\",\"leader\":{\"pid\":301},\"sshAddress\":\"" + ssh_address +
         "\"}}";
}

bool ShowAsSystemMachined(const char* socket_path, std::string* error,
                          const char* local_sshd_path) {
  const char* step = nullptr;
  if (unshare(CLONE_NEWNS) != 0) {
    step = "unshare(CLONE_NEWNS)";
  } else if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    step = "mount --make-rprivate /";
  } else if (mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV,
                   "mode=0755") != 0) {
    step = "mount tmpfs on /run";
  } else if (mkdir("/run/systemd", 0755) != 0 ||
             mkdir("/run/systemd/machine", 0755) != 0) {
    step = "mkdir /run/systemd/machine";
  } else if (symlink(socket_path, "/run/systemd/machine/io.systemd.Machine") !=
             0) {
    step = "symlink /run/systemd/machine/io.systemd.Machine";
  } else if (local_sshd_path != nullptr &&
             (mkdir("/run/ssh-unix-local", 0755) != 0 ||
              symlink(local_sshd_path, "/run/ssh-unix-local/socket") != 0)) {
    step = "symlink /run/ssh-unix-local/socket";
  }
  if (step == nullptr) return true;
  if (error != nullptr) {
    *error = std::string(step) + ": " + std::strerror(errno);
  }
  return false;
}

}  // namespace testing
}  // namespace ssh_proxy
