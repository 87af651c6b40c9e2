// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// A scripted systemd-machined for running the real binary with machine/NAME:
// a UNIX listener that answers every varlink call with one fixed reply, and a
// way to make it appear at machined's system-scope path,
// /run/systemd/machine/io.systemd.Machine, for one process and its children
// only (a private mount namespace with a tmpfs on /run), so that nothing on
// the machine changes.

#ifndef SSH_PROXY_TESTS_TESTING_SCRIPTED_MACHINED_H_
#define SSH_PROXY_TESTS_TESTING_SCRIPTED_MACHINED_H_

#include <atomic>
#include <string>
#include <thread>

namespace ssh_proxy {
namespace testing {

// ScriptedMachined listens on `socket_path` (replacing a stale socket) and,
// on a thread, answers each connection: reads one message up to its NUL, then
// sends `reply` and a NUL and closes. ok() says whether it listens.
class ScriptedMachined {
 public:
  ScriptedMachined(const std::string& socket_path, const std::string& reply);
  ~ScriptedMachined();
  ScriptedMachined(const ScriptedMachined&) = delete;
  ScriptedMachined& operator=(const ScriptedMachined&) = delete;
  bool ok() const { return fd_ >= 0; }

 private:
  std::string path_;
  std::string reply_;
  int fd_ = -1;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// MachineReply returns machined's List reply for a virtual machine `name`
// whose sshAddress is `ssh_address` (e.g. "unix/tmp/x/sshd.sock").
std::string MachineReply(const std::string& name,
                         const std::string& ssh_address);

// ShowAsSystemMachined makes `socket_path` reachable as
// /run/systemd/machine/io.systemd.Machine (and, if `local_sshd_path` is not
// null, that socket as .host's /run/ssh-unix-local/socket) for the calling
// process and the processes it starts from now on, and hides the rest of /run
// from them: it moves the caller into a new mount namespace
// (unshare(CLONE_NEWNS), so the caller must be single-threaded, e.g. a child
// between fork and exec), makes every mount private to it, mounts a tmpfs on
// /run and puts symlinks there. Needs CAP_SYS_ADMIN. Returns true, or false
// with the failed step and its errno text in *error (if not null).
bool ShowAsSystemMachined(const char* socket_path, std::string* error,
                          const char* local_sshd_path = nullptr);

}  // namespace testing
}  // namespace ssh_proxy

#endif  // SSH_PROXY_TESTS_TESTING_SCRIPTED_MACHINED_H_
