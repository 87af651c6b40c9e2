// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// ScriptedSyscalls: a Syscalls (src/syscalls.h) whose every answer comes from
// fuzzer bytes, with a model of the peer (a vsock multiplexer) behind the one
// socket. For mux_handshake_fuzzer; never touches the network: the "socket"
// and O_PATH fds are real eventfds, so they are real, countable descriptors,
// but Connect, Send, Recv, Poll, ... are all simulated.
//
// The model stays within what the kernel can do (send on a stream socket
// returns >= 1 or -1, poll returns 0 only after its full timeout, recv
// returns 0 only at EOF), so that a property violation is a bug of the
// connector and not of the script. Beyond that, each call checks how the
// connector uses it and aborts on misuse:
//   - a second socket, a socket without SOCK_CLOEXEC, the wrong domain;
//   - an address that is not the target's (sun_path, /proc/self/fd/N of the
//     O_PATH fd, vsock cid and port);
//   - a call on an fd that is not open, a double close, a close of an fd the
//     connector does not own;
//   - send without MSG_NOSIGNAL, or bytes that are not a prefix of
//     "CONNECT <port>\n", or any send after it;
//   - a poll with an infinite timeout or one reaching past the deadline;
//   - more calls than the script can justify (a spin).
//
// The clock (NowMs) only advances inside Poll: by the full timeout when poll
// times out, by a scripted delay otherwise. Once the script is exhausted the
// peer goes silent, Connect and Send succeed, and poll times out: every
// correct connector then finishes within a bounded number of calls.

#ifndef SSH_PROXY_FUZZ_SCRIPTED_SYSCALLS_H_
#define SSH_PROXY_FUZZ_SCRIPTED_SYSCALLS_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <set>
#include <string>

#include "src/address.h"
#include "src/syscalls.h"

namespace ssh_proxy {
namespace fuzz {

// Script hands out fuzzer bytes one at a time; 0 once exhausted.
class Script {
 public:
  Script(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint8_t Next() {
    const uint8_t b = pos_ < size_ ? data_[pos_++] : 0;
    if (trace) std::fprintf(stderr, " [%02x]", b);
    return b;
  }
  bool exhausted() const { return pos_ >= size_; }
  size_t size() const { return size_; }

  // Set by the fuzzer to print every call and decision to stderr.
  bool trace = false;

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

// What the multiplexer does after its last byte.
enum class PeerEnd { kSilent, kEof, kReset };

// The stdout fd that HandOff and CheckHandOffFd are given. Not a real fd.
inline constexpr int kHandOffFd = 1;

class ScriptedSyscalls final : public KernelSyscalls {
 public:
  ScriptedSyscalls(Script* script, const Target& target, std::string incoming,
                   PeerEnd end);
  ~ScriptedSyscalls() override;

  // SetDeadline sets the latest clock value a Poll may reach (start + timeout
  // of the operation under test).
  void SetDeadline(int64_t deadline_ms) { deadline_ms_ = deadline_ms; }

  // Read, Write, Splice, Pipe2 and Shutdown are not made by Connect,
  // CheckHandOffFd or HandOff: each aborts, so that a new use shows up here
  // and gets modelled. (A call added to Syscalls later reaches KernelSyscalls,
  // the base, until it is modelled here.)
  SSH_PROXY_SYSCALLS(SSH_PROXY_SYSCALL_OVERRIDE)

  // Observations for the fuzzer's checks.
  const std::set<int>& open_fds() const { return open_; }
  int socket_fd() const { return socket_fd_; }
  int socket_flags() const { return socket_flags_; }
  const std::string& sent() const { return sent_; }
  const std::string& expected_command() const { return command_; }
  const std::string& incoming() const { return incoming_; }
  size_t consumed() const { return consumed_; }  // Removed by recv.
  size_t calls() const { return calls_; }
  int handoff_fd_sent() const { return handoff_fd_sent_; }
  // Whether the script made connect fail with ETIMEDOUT (the kernel's vsock
  // connect timeout, which the connector sets to the time left).
  bool timed_out() const { return timed_out_; }
  // Whether the working directory is the one the connector started in (the
  // long-path fallback must restore it).
  bool cwd_restored() const { return cwd_ == Cwd::kOriginal; }

 private:
  void Call(const char* op);  // Counts a call; aborts on a spin.
  void CheckOpen(int fd, const char* op) const;
  void CheckSocket(int fd, const char* op) const;
  int NewFd();
  int Fail(int err) {
    errno = err;
    return -1;
  }
  bool ReadableNow() const;
  void Advance(int64_t ms, int timeout_ms);

  Script* script_;
  const Target target_;
  const std::string incoming_;
  const PeerEnd end_;
  const std::string command_;

  std::set<int> open_;
  int socket_fd_ = -1;
  int inode_fd_ = -1;  // The O_PATH fd, while open.
  // The long-path fallback without /proc: the saved working directory, the
  // socket's directory, and which one is current.
  enum class Cwd { kOriginal, kTargetDir };
  int cwd_fd_ = -1;
  int dir_fd_ = -1;
  Cwd cwd_ = Cwd::kOriginal;
  int socket_flags_ = 0;
  bool connecting_ = false;  // Connect said EINPROGRESS/EINTR.
  std::string sent_;
  size_t delivered_ = 0;  // Bytes of incoming_ that arrived in the socket.
  size_t consumed_ = 0;   // Bytes removed from the socket by recv.
  int64_t now_ms_ = 1'000'000;
  int64_t deadline_ms_ = 0;
  size_t calls_ = 0;
  int handoff_fd_sent_ = -1;
  bool timed_out_ = false;
};

}  // namespace fuzz
}  // namespace ssh_proxy

#endif  // SSH_PROXY_FUZZ_SCRIPTED_SYSCALLS_H_
