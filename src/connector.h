// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// The connector: opens the connection a Target names (address.h), does the
// vsock-mux handshake, and hands the connected socket to ssh over a UNIX
// socket with SCM_RIGHTS. Knows nothing of argv. All system calls go through a
// Syscalls (syscalls.h).
//
// Errors are absl::Status values whose code maps to the exit code
// (exit_codes.h) and whose message is one printable line naming the target
// and, for a failed system call, the errno text:
//
//   code                 exit  meaning
//   NotFound/Unavailable  69   nothing there: ENOENT, ECONNREFUSED,
//                              ECONNRESET, the multiplexer closed before
//                              replying, ...
//   DeadlineExceeded      75   the timeout expired (connect, or the
//                              multiplexer's reply)
//   DataLoss              76   the multiplexer broke protocol (its bytes
//                              shown escaped)
//   FailedPrecondition    64   the hand-off fd is not a UNIX socket
//                              (ProxyUseFdpass missing)
//   any other             71   a system call failed (EMFILE, ENOMEM, ...)

#ifndef SSH_PROXY_SRC_CONNECTOR_H_
#define SSH_PROXY_SRC_CONNECTOR_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "src/address.h"
#include "src/deadline.h"
#include "src/syscalls.h"
#include "src/timeouts.h"
#include "src/unique_fd.h"

namespace ssh_proxy {

// ConnectOptions is the run's context (deadline.h: the one --timeout budget,
// counted from start_ms, and the -v log) and the hook Connect adds.
struct ConnectOptions : RunContext {
  // If set, Connect calls it once, right after the socket is connected and
  // before anything is sent or received on it (Run confines the process
  // there: sandbox.h). An error from it is Connect's error, and the socket is
  // closed.
  std::function<absl::Status()> after_connect;
};

// TargetName returns how messages name `target`: "unix/run/x.sock", "vsock/4711
// port 22", "vsock-mux/run/vm.sock port 22" (bytes outside printable ASCII
// escaped).
std::string TargetName(const Target& target);

// Connect opens a SOCK_STREAM connection to `target`:
//   unix:      AF_UNIX connect to target.path. A path that does not fit
//              sun_path connects through an O_PATH fd of the socket and
//              /proc/self/fd/N (works up to 4095 bytes). If /proc is not
//              mounted (the magic link is missing), the connect goes through
//              the socket's directory as the working directory instead
//              (restored afterwards), when the last path component fits
//              sun_path; otherwise it fails with an OS error (71) saying that
//              /proc is needed. A live socket is never reported as missing.
//              When the connect fails, the message says what is at the path
//              if that explains it (a regular file, a directory, a FIFO, a
//              symlink to one, a dangling symlink), or, for EACCES, which
//              directory or socket denies it, with its owner and mode; the
//              status code stays the errno's.
//   vsock:     AF_VSOCK connect to (cid, port), with
//              SO_VM_SOCKETS_CONNECT_TIMEOUT set to the remaining timeout
//              instead of the kernel's 2 s.
//   machine:   refused (Internal): ResolveMachine (machine.h) first.
//   vsock-mux: as unix (long paths and the diagnosis included), then one
//              write of "CONNECT <port>\n" and the reply "OK <u32>\n"
//              (mux_reply.h) read exactly through its "\n": bytes the guest
//              sent after it stay in the socket. A reply that starts with an
//              SSH banner is a protocol error (76) saying that the path looks
//              like an sshd, not a multiplexer.
// A ".host" target (kLocalHostSocketPath) that is missing or refuses adds
// where that socket comes from (systemd's sshd-unix-local.socket) to the
// message.
// options.after_connect, if set, runs once the socket is connected (after the
// fchdir back, for a long path without /proc), before the multiplexer's
// handshake and before SetBlocking.
// On success returns the connected socket: blocking, close-on-exec, owned by
// the caller, and never one of fds 0-2 (main() keeps them open, see
// SanitizeStdFds; a socket landing there would mix our output into the
// connection, so Connect refuses it with an OS error). On failure returns an
// error as described above whose message names the target and the failed
// step, and every fd it opened is closed.
absl::StatusOr<UniqueFd> Connect(const Target& target,
                                 const ConnectOptions& options, Syscalls& sys);

// CheckHandOffFd checks that `out_fd` can carry SCM_RIGHTS: it must be an
// AF_UNIX socket. Returns OK, or FailedPrecondition with a message naming
// `target` and telling to set `ProxyUseFdpass yes`.
absl::Status CheckHandOffFd(int out_fd, const Target& target, Syscalls& sys);

// HandOff sends `fd` (the connection to `target`) over `out_fd` as ssh
// expects: one '\0' data byte and one SCM_RIGHTS fd. Each sendmsg is
// non-blocking for that call only (MSG_DONTWAIT | MSG_NOSIGNAL: the file status
// flags of `out_fd`, which ssh shares, are never changed), retried on EINTR
// and, polling, on EAGAIN until the budget of `options` (timeout_ms from
// start_ms) is spent. Does not close `fd`. Returns OK once sent; otherwise, with
// a message naming `target`: FailedPrecondition if `out_fd` is not a socket
// (ENOTSOCK), Unavailable if ssh went away (EPIPE, ECONNRESET),
// DeadlineExceeded when the budget is spent (a full socket nobody reads), or
// Internal.
absl::Status HandOff(int out_fd, int fd, const Target& target,
                     const ConnectOptions& options, Syscalls& sys);

}  // namespace ssh_proxy

#endif  // SSH_PROXY_SRC_CONNECTOR_H_
