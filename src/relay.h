// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// The relay: for when ssh does not take a file descriptor (no ProxyUseFdpass)
// or a person pipes data through ssh-proxy. Copies in_fd -> sock and sock ->
// out_fd until both directions end.

#ifndef SSH_PROXY_SRC_RELAY_H_
#define SSH_PROXY_SRC_RELAY_H_

#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "src/syscalls.h"

namespace ssh_proxy {

struct RelayStats {
  uint64_t to_socket = 0;    // Bytes copied in_fd -> sock.
  uint64_t from_socket = 0;  // Bytes copied sock -> out_fd.
};

// Relay copies bytes both ways between `in_fd`/`out_fd` (the local side; they
// may be the same socket) and the connected socket `sock`, moving them with
// splice(2) through a pipe where both ends allow it and with read/write
// otherwise. Buffering is bounded: one pipe (64 KiB) or one 64 KiB buffer per
// direction; a slow reader slows the writer, nothing piles up.
//
// Neither direction can stall the other, whatever in_fd and out_fd are (pipe,
// socket, terminal, regular file, /dev/null), and the file status flags of
// in_fd and out_fd (which ssh shares) are never changed: `sock` is ours and
// made non-blocking; a socket out_fd is written with MSG_DONTWAIT; a pipe
// out_fd with SPLICE_F_NONBLOCK (or, without a pipe of our own, with writes
// of at most PIPE_BUF bytes once poll says it has room); a terminal or other
// character device out_fd through a non-blocking descriptor of our own opened
// from /proc/self/fd (if that fails, as a pipe). Reads happen only after poll
// says there is something to read.
//   - in_fd ends (EOF): shutdown(sock, SHUT_WR); the other direction goes on.
//   - sock ends (EOF): out_fd is closed (shut down for writing if it is a
//     socket); the other direction goes on.
//   - a write fails with EPIPE (out_fd's reader, or the remote, has gone):
//     that direction ends; the other goes on.
// Returns OK once both directions have ended. Otherwise returns, with a
// message naming `name` (the target, as TargetName in connector.h gives it)
// and the direction: Unavailable if the peer reset the connection
// (ECONNRESET), or Internal for another failed call, or if `sock` is in_fd or
// out_fd (the connection would be copied onto itself). Does not close `sock`.
// The caller must ignore SIGPIPE.
absl::Status Relay(int in_fd, int out_fd, int sock, absl::string_view name,
                   Syscalls& sys, RelayStats* stats = nullptr);

// RelayEnds is the local side of a relay, prepared before connecting:
// everything the relay opens (the terminal's own descriptor, the splice pipes)
// is opened by PrepareRelay, so that the copying itself opens nothing and can
// run after the process has given up opening files (sandbox.h, stage 2).
// Move-only; owns what it opened and closes it when destroyed.
class RelayEnds {
 public:
  struct State;  // Private to relay.cc.
  RelayEnds();
  explicit RelayEnds(std::unique_ptr<State> state);
  RelayEnds(RelayEnds&&) noexcept;
  RelayEnds& operator=(RelayEnds&&) noexcept;
  ~RelayEnds();
  State* state() const { return state_.get(); }

 private:
  std::unique_ptr<State> state_;
};

// PrepareRelay finds out how to use `in_fd` and `out_fd` (fstat) and opens
// what the relay will need: a non-blocking descriptor of a terminal out_fd
// (through /proc/self/fd) and one pipe per direction that can splice. It never
// fails: what cannot be opened (no /proc, EMFILE) makes the relay copy
// instead, as described above.
RelayEnds PrepareRelay(int in_fd, int out_fd, Syscalls& sys);

// Relay, given prepared ends, is Relay(in_fd, out_fd, ...) above without the
// preparation: it opens nothing. `ends` must come from PrepareRelay with the
// same `sys`.
absl::Status Relay(RelayEnds ends, int sock, absl::string_view name,
                   Syscalls& sys, RelayStats* stats = nullptr);

}  // namespace ssh_proxy

#endif  // SSH_PROXY_SRC_RELAY_H_
