// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// FakeSyscalls: the kernel's system calls (KernelSyscalls, its base) with
// deterministic failures injected, every AF_VSOCK call simulated (never
// reaching the kernel), calls recorded, and fds counted so that tests can
// assert nothing leaks. A call it does not override goes to the kernel.

#ifndef SSH_PROXY_TESTS_TESTING_FAKE_SYSCALLS_H_
#define SSH_PROXY_TESTS_TESTING_FAKE_SYSCALLS_H_

#include <linux/vm_sockets.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "src/syscalls.h"

namespace ssh_proxy {
namespace testing {

class FakeSyscalls : public KernelSyscalls {
 public:
  // What an injected failure does.
  struct Injection {
    int err = 0;  // errno to report; 0: no failure (pass through).
    bool after_real =
        false;  // Make the real call first, then report err anyway.
    size_t max_len =
        0;  // For Send/Recv: pass through at most this many bytes (0: all).
  };

  // Inject queues an injection for the next call of `op` ("socket", "connect",
  // "open", "send", "recv", "sendmsg", "poll", "setsockopt", "getsockopt",
  // "fcntl", "fstat", "fchdir"). Calls beyond the queue pass through.
  void Inject(const std::string& op, Injection injection) {
    injections_[op].push_back(injection);
  }
  void Fail(const std::string& op, int err) { Inject(op, Injection{err}); }

  // Simulated AF_VSOCK: socket() returns a real placeholder fd (a socketpair
  // end) so that fd counting works, and connect/poll/SO_ERROR follow these
  // settings.
  int vsock_connect_errno = 0;   // 0: connect succeeds at once.
  int vsock_so_error = 0;        // SO_ERROR after EINPROGRESS.
  bool vsock_poll_ready = true;  // Whether poll reports the connect as done.
  std::vector<struct sockaddr_vm> vsock_connects;
  std::vector<struct timeval> vsock_connect_timeouts;
  std::vector<int> socket_types;

  // A fake clock, when enabled: NowMs returns it, and a poll that would time
  // out advances it by the poll's timeout instead of sleeping.
  bool fake_clock = false;
  int64_t now_ms = 1'000'000;
  // How long such a poll waits in real time for a peer thread to act before
  // the fake timeout passes. A test whose peer must act first (a partial
  // reply, then silence) raises it, so that a loaded machine cannot reorder
  // the two.
  int fake_clock_real_wait_ms = 50;

  std::map<std::string, int> calls;  // Per op, how many calls were made.
  std::string sent;                  // All bytes passed to Send.
  std::set<int> open_fds() const { return open_; }

  SSH_PROXY_SYSCALLS(SSH_PROXY_SYSCALL_OVERRIDE)

 private:
  // Next returns the injection for this call of `op` (counting the call).
  Injection Next(const std::string& op);
  // Injected counts this call of `op` and returns true, with errno set, if an
  // injection makes it fail; otherwise clamps *len (if given) to the
  // injection's max_len and returns false.
  bool Injected(const std::string& op, size_t* len = nullptr);

  std::map<std::string, std::deque<Injection>> injections_;
  std::set<int> open_;
  std::set<int> vsock_fds_;
  std::map<int, int> vsock_peers_;  // placeholder fd -> its socketpair peer
};

}  // namespace testing
}  // namespace ssh_proxy

#endif  // SSH_PROXY_TESTS_TESTING_FAKE_SYSCALLS_H_
