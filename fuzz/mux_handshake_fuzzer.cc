// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// mux_handshake_fuzzer: the connector (src/connector.h) end to end through
// ScriptedSyscalls (fuzz/scripted_syscalls.h): socket, the O_PATH detour for
// long paths, connect (EINPROGRESS, EINTR, EAGAIN, refusals), the vsock-mux
// handshake against a scripted multiplexer (the reply in pieces, EOF, reset,
// EINTR, silence), O_NONBLOCK cleared, and the hand-off to ssh. No real
// socket is ever opened: the fds are eventfds and every call is simulated, so
// AF_VSOCK targets are safe to fuzz too.
//
// Input (missing bytes read as 0):
//   byte 0     bits 0-1 target kind (0, 1 vsock-mux; 2 unix; 3 vsock),
//              bit 2 CheckHandOffFd first, bit 3 HandOff after a connection,
//              bits 4-5 path length (12, 107, 108 and 4095 bytes: both sides
//              of sun_path's limit and the longest path) or CID,
//              bit 6 verbose logging, bit 7 a timeout near the 1 h maximum
//   bytes 1-4  guest port, little-endian (0 becomes 1, 2^32-1 becomes 2^32-2)
//   bytes 5-6  --timeout: 1 + value % 20000 ms, or with bit 7 3600000 - value
//              % 1000 ms
//   byte 7     L = value % 48: the length of what the multiplexer sends
//   byte 8     what it does afterwards: value % 3 = silence, EOF, reset;
//              value / 3 % 4 = 1..3: fd 0, 1 or 2 is closed while Connect
//              runs (as if ssh-proxy had been started without it), so the
//              socket lands there and Connect must refuse it
//   L bytes    what the multiplexer sends (its reply, then the guest's bytes)
//   the rest   the script: one byte per decision of ScriptedSyscalls
//
// Properties, checked on every input:
//  - the outcome is a documented one: Connect returns OK or NotFound,
//    Unavailable, DeadlineExceeded, DataLoss, ResourceExhausted, Internal
//    (exits 0, 69, 75, 76, 71); CheckHandOffFd and HandOff add
//    FailedPrecondition (64); every message is one printable line, and so is
//    every -v log line;
//  - no fd leaks: on error every fd the connector opened is closed when
//    Connect returns; on success exactly one is open, the socket, blocking;
//    HandOff passes that fd and does not close it;
//  - nothing blocks: no infinite poll, no poll past the deadline, no spin
//    (ScriptedSyscalls aborts on each); DeadlineExceeded only once the
//    deadline has passed (or the kernel said ETIMEDOUT);
//  - the multiplexer gets exactly "CONNECT <port>\n" (a prefix of it on
//    error, nothing for other kinds); an accepted reply is a valid
//    "OK <u32>\n", consumed exactly through its "\n", and the guest's bytes
//    after it stay in the socket.

#include <fcntl.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/scripted_syscalls.h"
#include "src/address.h"
#include "src/cli.h"
#include "src/connector.h"
#include "src/exit_codes.h"

namespace ssh_proxy {
namespace {

using fuzz::IsPrintableLine;
using fuzz::PeerEnd;
using fuzz::Script;
using fuzz::ScriptedSyscalls;
using fuzz::Shown;

// The input cap: a reply is at most 14 bytes, so even split into 1-byte
// pieces, each behind an EINTR or a spurious wakeup, a handshake takes about
// a hundred decisions; 1 KiB also covers long runs of EAGAIN and short
// writes. Longer scripts only repeat the same retries.
constexpr size_t kMaxInput = 1024;
constexpr size_t kHeader = 9;

// FUZZ_TRACE_OUTCOMES=1 in the environment prints each input's system calls,
// script bytes and outcome to stderr: for checking what a corpus entry
// exercises (its name should say).
bool TraceOutcomes() {
  static const bool trace = std::getenv("FUZZ_TRACE_OUTCOMES") != nullptr;
  return trace;
}

void Trace(const std::string& where, absl::string_view step,
           const absl::Status& status, fuzz::ScriptedSyscalls& sys,
           int64_t start) {
  if (!TraceOutcomes()) return;
  std::fprintf(stderr,
               "\noutcome: %s %s -> %s (exit %d) after %zu calls, %lldms\n",
               where.c_str(), std::string(step).c_str(),
               status.ToString().c_str(), ExitCodeForStatus(status),
               sys.calls(), static_cast<long long>(sys.NowMs() - start));
}

std::string PathOfLength(size_t length) {
  // "/" + "p/p/.../p" with a last component sized to hit `length` exactly.
  std::string path = "/";
  while (path.size() + 2 < length) path += "p/";
  while (path.size() < length) path += "q";
  return path;
}

Target MakeTarget(uint8_t flags, uint32_t port) {
  Target t;
  const int kind = flags & 3;
  const int size_class = (flags >> 4) & 3;
  t.port = port == 0 ? 1 : port == kVsockPortAny ? kVsockPortAny - 1 : port;
  if (kind == 3) {
    static constexpr uint32_t kCids[] = {3, 2, 4294967294u, 0};
    t.kind = TargetKind::kVsock;
    t.cid = kCids[size_class];
    return t;
  }
  t.kind = kind == 2 ? TargetKind::kUnix : TargetKind::kVsockMux;
  static constexpr size_t kLengths[] = {12, 107, 108, kMaxPathLength};
  t.path = PathOfLength(kLengths[size_class]);
  return t;
}

// The port of a valid "OK <u32>\n" reply, or -1.
int64_t ReplyPort(absl::string_view reply) {
  if (reply.size() < 5 || reply.substr(0, 3) != "OK " || reply.back() != '\n')
    return -1;
  const absl::string_view digits = reply.substr(3, reply.size() - 4);
  if (digits.empty() || digits.size() > 10) return -1;
  if (digits.size() > 1 && digits[0] == '0') return -1;
  int64_t v = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  return v <= 0xFFFFFFFFll ? v : -1;
}

void CheckStatus(const absl::Status& s, bool handoff, const Target& target,
                 const std::string& where) {
  const int exit_code = ExitCodeForStatus(s);
  switch (s.code()) {
    case absl::StatusCode::kOk:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kDataLoss:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kInternal:
      break;
    case absl::StatusCode::kFailedPrecondition:
      FUZZ_CHECK(handoff, where + " Connect returned " + s.ToString());
      break;
    default:
      FUZZ_CHECK(false, where + " undocumented status " + s.ToString());
  }
  FUZZ_CHECK(exit_code == 0 || exit_code == 69 || exit_code == 71 ||
                 exit_code == 75 || exit_code == 76 ||
                 (handoff && exit_code == 64),
             where + absl::StrCat(" exit ", exit_code));
  if (!s.ok()) {
    FUZZ_CHECK(
        IsPrintableLine(s.message()),
        where + " message not one printable line: " + Shown(s.message()));
    // Every error names the target, whatever step failed.
    FUZZ_CHECK(
        absl::StrContains(s.message(), TargetName(target)),
        where + " message does not name the target: " + Shown(s.message()));
  }
}

}  // namespace
}  // namespace ssh_proxy

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ssh_proxy;
  if (size > kMaxInput) return -1;
  uint8_t header[kHeader] = {};
  for (size_t i = 0; i < kHeader && i < size; ++i) header[i] = data[i];
  const size_t header_size = std::min(size, kHeader);
  const uint8_t flags = header[0];
  const uint32_t port = static_cast<uint32_t>(header[1]) |
                        static_cast<uint32_t>(header[2]) << 8 |
                        static_cast<uint32_t>(header[3]) << 16 |
                        static_cast<uint32_t>(header[4]) << 24;
  const int64_t timeout_value = static_cast<int64_t>(header[5]) | header[6]
                                                                      << 8;
  // Up to 20 s, or near --timeout's maximum (1 h) to check the arithmetic.
  const int64_t timeout_ms = (flags & 0x80)
                                 ? kMaxTimeoutMs - timeout_value % 1000
                                 : 1 + timeout_value % 20000;
  const size_t rest = size - header_size;
  const size_t incoming_size = std::min<size_t>(header[7] % 48, rest);
  const PeerEnd end = static_cast<PeerEnd>(header[8] % 3);
  const int closed_std_fd = (header[8] / 3) % 4 - 1;  // -1: none.
  const std::string incoming(reinterpret_cast<const char*>(data + header_size),
                             incoming_size);
  Script script(data + header_size + incoming_size, rest - incoming_size);
  script.trace = TraceOutcomes();

  const Target target = MakeTarget(flags, port);
  const bool mux = target.kind == TargetKind::kVsockMux;
  ScriptedSyscalls sys(&script, target, incoming, end);
  const std::string where = absl::StrCat(
      DescribeTarget(target), " timeout=", timeout_ms,
      "ms incoming=", Shown(incoming), " end=", static_cast<int>(end), ":");

  ConnectOptions options;
  options.timeout_ms = timeout_ms;
  if (flags & 0x40) {
    options.log = [&where](absl::string_view line) {
      FUZZ_CHECK(IsPrintableLine(line),
                 where + " log line not printable: " + Shown(line));
    };
  }

  if (flags & 0x04) {
    const absl::Status usable = CheckHandOffFd(fuzz::kHandOffFd, target, sys);
    CheckStatus(usable, true, target, where + " CheckHandOffFd");
    Trace(where, "CheckHandOffFd", usable, sys, sys.NowMs());
    FUZZ_CHECK(sys.open_fds().empty(), where + " CheckHandOffFd opened an fd");
    if (!usable.ok()) return 0;
  }

  // One budget for Connect and HandOff, as main() sets it.
  const int64_t start = sys.NowMs();
  options.start_ms = start;
  sys.SetDeadline(start + timeout_ms);
  // A standard descriptor closed: the next fd made (the socket) takes its
  // number. Put it back right after Connect (libFuzzer reports on fd 2).
  int saved_std_fd = -1;
  if (closed_std_fd >= 0) {
    saved_std_fd = fcntl(closed_std_fd, F_DUPFD_CLOEXEC, 10);
    FUZZ_CHECK(saved_std_fd >= 0, std::string("cannot save a std fd"));
    close(closed_std_fd);
  }
  absl::StatusOr<UniqueFd> fd = Connect(target, options, sys);
  if (saved_std_fd >= 0) {
    // Where Connect returned the std fd (a bug the check below reports), move
    // it out of the way first.
    if (fd.ok() && fd->get() == closed_std_fd) fd->reset();
    FUZZ_CHECK(dup2(saved_std_fd, closed_std_fd) == closed_std_fd,
               std::string("cannot restore a std fd"));
    close(saved_std_fd);
    FUZZ_CHECK(!(fd.ok() && !fd->valid()),
               where + " Connect returned a standard descriptor");
    if (sys.socket_fd() >= 0 && sys.socket_fd() <= 2) {
      // The socket landed on fd 0-2: nothing may have been sent on it.
      FUZZ_CHECK(!fd.ok() && sys.sent().empty(),
                 where + " used a socket on a standard descriptor");
    }
  }
  CheckStatus(fd.status(), false, target, where + " Connect");
  Trace(where, "Connect", fd.status(), sys, start);

  // The multiplexer only ever sees (a prefix of) the command.
  FUZZ_CHECK(
      sys.expected_command().compare(0, sys.sent().size(), sys.sent()) == 0,
      where + " sent " + Shown(sys.sent()));
  if (!mux) {
    FUZZ_CHECK(sys.sent().empty() && sys.consumed() == 0, where);
  }

  if (!fd.ok()) {
    FUZZ_CHECK(
        sys.open_fds().empty(),
        where + absl::StrCat(" ", sys.open_fds().size(), " fd(s) leaked after ",
                             fd.status().ToString()));
    if (fd.status().code() == absl::StatusCode::kDeadlineExceeded) {
      FUZZ_CHECK(sys.NowMs() >= start + timeout_ms || sys.timed_out(),
                 where + absl::StrCat(" timed out after ", sys.NowMs() - start,
                                      "ms of ", timeout_ms, ": ",
                                      fd.status().ToString()));
    }
    return 0;
  }

  // Connected.
  FUZZ_CHECK(sys.cwd_restored(),
             where + " the working directory was not restored");
  FUZZ_CHECK(fd->valid() && fd->get() == sys.socket_fd(),
             where + " returned fd is not the socket");
  FUZZ_CHECK(
      sys.open_fds().size() == 1 && *sys.open_fds().begin() == sys.socket_fd(),
      where +
          absl::StrCat(" ", sys.open_fds().size(), " fds open after success"));
  FUZZ_CHECK((sys.socket_flags() & O_NONBLOCK) == 0,
             where + " the socket handed to ssh is still non-blocking");
  if (mux) {
    FUZZ_CHECK(sys.sent() == sys.expected_command(),
               where + " sent " + Shown(sys.sent()));
    const size_t newline = incoming.find('\n');
    FUZZ_CHECK(
        newline != std::string::npos && sys.consumed() == newline + 1 &&
            ReplyPort(absl::string_view(incoming).substr(0, newline + 1)) >= 0,
        where + absl::StrCat(" accepted after consuming ", sys.consumed(),
                             " bytes"));
  }

  if (flags & 0x08) {
    const int64_t handoff_start = sys.NowMs();
    const absl::Status handed =
        HandOff(fuzz::kHandOffFd, fd->get(), target, options, sys);
    CheckStatus(handed, true, target, where + " HandOff");
    Trace(where, "HandOff", handed, sys, handoff_start);
    FUZZ_CHECK(sys.open_fds().count(fd->get()) == 1,
               where + " HandOff closed the connection");
    if (handed.ok()) {
      FUZZ_CHECK(sys.handoff_fd_sent() == fd->get(), where);
    } else if (handed.code() == absl::StatusCode::kDeadlineExceeded) {
      FUZZ_CHECK(sys.NowMs() >= start + timeout_ms,
                 where + " HandOff timed out early");
    }
  }
  fd->reset();
  FUZZ_CHECK(sys.open_fds().empty(), where + " fds left after closing");
  return 0;
}
