// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// The machine resolver: turns `machine/NAME` (a Target of kind kMachine, see
// address.h) into the unix, vsock or vsock-mux Target that reaches the
// machine's sshd, by asking systemd-machined over its varlink API. Knows
// nothing of argv; every system call goes through a Syscalls (syscalls.h).
//
// Lookup order:
//   1. the user scope's machined, /run/user/<uid>/systemd/machine/
//      io.systemd.Machine, if that socket exists and something listens on it;
//   2. the system scope's, /run/systemd/machine/io.systemd.Machine, when the
//      user scope has none or answers io.systemd.Machine.NoSuchMachine.
// (systemd's own ssh-proxy.c asks the same two, through
// runtime_directory_generic(scope, "systemd/machine/io.systemd.Machine");
// ssh-proxy reads no environment, so the user scope's runtime directory is
// /run/user/<uid>, as pam_systemd makes $XDG_RUNTIME_DIR.)
// One call per scope, `{"method":"io.systemd.Machine.List","parameters":
// {"name":"NAME"}}` and a NUL; one reply read up to its NUL, at most
// kMaxMachinedReply bytes, within the --timeout budget of the RunContext.
//
// From the reply's `parameters`, in this order:
//   vSockCid                  -> vsock/CID, port PORT
//   sshAddress                -> that address, parsed with our own grammar as
//                                a HOST (unix/, vsock/, vsock-mux/ only:
//                                machine/ and .host are refused, so there is
//                                no recursion), port PORT
//   class "container" and service "systemd-nspawn"
//                             -> unix/run/systemd/nspawn/unix-export/NAME/ssh
//                                (systemd 257's layout; ResolveMachine uses
//                                newer systemd's /run/systemd/nspawn/NAME/
//                                unix-export/ssh instead when that exists:
//                                262 moved it)
//                                (user scope: /run/user/<uid>/systemd/nspawn/
//                                unix-export/NAME/ssh; ssh-proxy.c again,
//                                runtime_directory_generic(scope,
//                                "systemd/nspawn/unix-export"))
//   anything else             -> "machine NAME has no SSH address"
//
// Errors are absl::Status values whose code maps to the exit code
// (exit_codes.h); each message is one printable line that starts with
// "cannot resolve machine/NAME: ":
//   NotFound (69)          no machine of that name (NoSuchMachine)
//   Unavailable (69)       machined is not running in either scope; a
//                          systemd older than 256, whose machined has no
//                          varlink interface (see kMachinedStateDir and
//                          kSystemd256Marker); another
//                          varlink error (its name, escaped); no SSH address;
//                          machined closed the connection without a reply
//   DataLoss (76)          the reply is not JSON, misses a field, has a field
//                          of the wrong type, a CID out of range, another
//                          machine's name, an sshAddress our grammar refuses,
//                          or is longer than kMaxMachinedReply (the offending
//                          value shown escaped)
//   DeadlineExceeded (75)  the budget ran out
//   any other (71)         a system call failed

#ifndef SSH_PROXY_SRC_MACHINE_H_
#define SSH_PROXY_SRC_MACHINE_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "src/address.h"
#include "src/deadline.h"
#include "src/syscalls.h"

namespace ssh_proxy {

enum class MachineScope { kUser, kSystem };

// The longest reply accepted, its NUL included: 64 KiB. (A machine's record
// is a few hundred bytes.)
inline constexpr size_t kMaxMachinedReply = 65536;

// machined's state directory. When no scope has a socket, the system scope's
// is missing (ENOENT) and this directory exists, machined is there but older
// than systemd 256 (Debian 12 has 252): it speaks only D-Bus, and the message
// says so instead of "not running" -- unless kSystemd256Marker exists.
inline constexpr char kMachinedStateDir[] = "/run/systemd/machines";

// Why the state directory alone is not enough: systemd's own tmpfiles.d
// (systemd.conf: "d /run/systemd/machines") creates it at boot in 252, 257 and
// 262 alike, whether machined ever runs. On 257 (Debian 13) machined is
// started on demand (D-Bus), so until it first runs there is the directory and
// no socket, exactly as on 252 (measured in tests/vm's trixie guest). systemd
// 256 brought machine/ and its own ssh proxy together: this file exists on a
// systemd that has machined's varlink interface (Debian, Fedora and Arch all
// install it there), and then the message says "not running".
inline constexpr char kSystemd256Marker[] =
    "/usr/lib/systemd/systemd-ssh-proxy";

// MachineScopeName returns "user" or "system".
absl::string_view MachineScopeName(MachineScope scope);

// MachinedSocketPath returns the varlink socket of machined in `scope`:
// "/run/user/<uid>/systemd/machine/io.systemd.Machine" or
// "/run/systemd/machine/io.systemd.Machine".
std::string MachinedSocketPath(MachineScope scope, uint32_t uid);

// MachinedRequest returns the call sent for machine `name`, its NUL included.
std::string MachinedRequest(absl::string_view name);

// MachinedReplyReader collects one varlink message from the bytes of a
// stream, however they are split: Feed appends a chunk and returns the state.
// Once complete, message() is the message without its NUL, and bytes after the
// NUL are ignored. More than kMaxMachinedReply - 1 bytes without a NUL make it
// kTooLong (final too).
class MachinedReplyReader {
 public:
  enum class State { kNeedMore, kComplete, kTooLong };
  State Feed(absl::string_view chunk);
  State state() const { return state_; }
  const std::string& message() const { return message_; }
  // How many more bytes it can take before it is complete or too long; the
  // most a caller should read next (0 once final).
  size_t Room() const;

 private:
  State state_ = State::kNeedMore;
  std::string message_;
};

// ParseMachinedReply reads `message` (one varlink message, without its NUL) as
// the answer of machined in `scope` to MachinedRequest(machine.name), where
// `machine` is a kMachine Target (name and port set) and `uid` the user whose
// scope that is. On success returns the resolved Target (never kMachine, always
// one that ParseTarget accepts, with machine.port). On failure returns the
// status described at the top of this file; NotFound means NoSuchMachine
// (the caller may ask the next scope).
absl::StatusOr<Target> ParseMachinedReply(absl::string_view message,
                                          const Target& machine,
                                          MachineScope scope, uint32_t uid);

// ReadMachinedReply reads machined's reply from `fd`, a connected socket on
// which the call has been sent: the point where the hostile bytes come in (and
// where a sandbox may hook in). Each recv is non-blocking (MSG_DONTWAIT),
// polled until `options`' budget (timeout_ms from start_ms) is spent. On
// success returns the message without its NUL. On failure: DeadlineExceeded,
// Unavailable (closed or reset before any byte), DataLoss (closed in the middle,
// or longer than kMaxMachinedReply), or an OS error; messages start with
// `what`.
absl::StatusOr<std::string> ReadMachinedReply(int fd, const RunContext& context,
                                              Syscalls& sys,
                                              absl::string_view what);

// ResolveMachine resolves `machine` (kind kMachine) for user `uid` (main()
// passes getuid()) as described at the top of this file, logging each step to
// options.log (which scope answered and what). Opens no socket but the
// machined ones, and closes them. On success returns the target; on failure
// the status described above.
absl::StatusOr<Target> ResolveMachine(const Target& machine, uint32_t uid,
                                      const RunContext& context, Syscalls& sys);

}  // namespace ssh_proxy

#endif  // SSH_PROXY_SRC_MACHINE_H_
