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
#include "src/syscalls.h"
#include "src/unique_fd.h"

namespace ssh_proxy {

struct ConnectOptions {
  // The whole connection (connect and, for vsock-mux, the complete reply) must
  // finish within this many milliseconds, counted from the start of Connect.
  // Must be positive.
  int64_t timeout_ms = 10'000;
  // If set, receives one line per step (without "\n") for -v.
  std::function<void(absl::string_view)> log;
};

// TargetName returns how messages name `target`: "unix/run/x.sock", "vsock/4711
// port 22", "vsock-mux/run/vm.sock port 22" (bytes outside printable ASCII
// escaped).
std::string TargetName(const Target& target);

// Connect opens a SOCK_STREAM connection to `target`:
//   unix:      AF_UNIX connect to target.path. A path that does not fit
//              sun_path connects through an O_PATH fd of the socket and
//              /proc/self/fd/N (works up to 4095 bytes).
//   vsock:     AF_VSOCK connect to (cid, port), with
//              SO_VM_SOCKETS_CONNECT_TIMEOUT set to the remaining timeout
//              instead of the kernel's 2 s.
//   vsock-mux: AF_UNIX connect to target.path, one write of
//              "CONNECT <port>\n", then the reply "OK <u32>\n" (mux_reply.h)
//              read exactly through its "\n": bytes the guest sent after it
//              stay in the socket.
// On success returns the connected socket: blocking, close-on-exec, owned by
// the caller. On failure returns an error as described above, and every fd it
// opened is closed.
absl::StatusOr<UniqueFd> Connect(const Target& target,
                                 const ConnectOptions& options, Syscalls& sys);

// CheckHandOffFd checks that `out_fd` can carry SCM_RIGHTS: it must be an
// AF_UNIX socket. Returns OK, or FailedPrecondition with a message telling to
// set `ProxyUseFdpass yes`.
absl::Status CheckHandOffFd(int out_fd, Syscalls& sys);

// HandOff sends `fd` over `out_fd` as ssh expects: one '\0' data byte and one
// SCM_RIGHTS fd, MSG_NOSIGNAL, retried on EINTR and (polling, at most
// `timeout_ms`) on EAGAIN. Does not close `fd`. Returns OK once sent; otherwise
// FailedPrecondition if `out_fd` is not a socket (ENOTSOCK), Unavailable if ssh
// went away (EPIPE, ECONNRESET), DeadlineExceeded, or Internal.
absl::Status HandOff(int out_fd, int fd, int64_t timeout_ms, Syscalls& sys);

}  // namespace ssh_proxy

#endif  // SSH_PROXY_SRC_CONNECTOR_H_
