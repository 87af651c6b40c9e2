// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// relay_fuzzer: the relay (src/relay.h) over real pipes and an AF_UNIX
// socketpair, with the fuzzer choosing what the system calls do on the way:
// interrupted (EINTR), spurious wake-ups (EAGAIN), short transfers, splice
// refused (EINVAL, so the relay falls back to read/write, also with bytes
// already in its pipe), no pipes at all (EMFILE), and in "hard" mode one
// real failure (EIO).
//
// Properties:
//   - with only benign faults, Relay returns OK and every byte arrives, in
//     order, both ways (stdin -> remote, remote -> stdout), and its counters
//     say so;
//   - with a hard fault, Relay returns an error (never OK with bytes lost);
//   - either way it terminates (libFuzzer's timeout catches a hang) and closes
//     every pipe it made.
//
// Both directions' data is written before Relay starts (it fits stdin's pipe
// and the socket's buffers in large writes); two threads read the remote end
// and stdout while the relay runs, because many short transfers fill a pipe's
// 16 slots or a socket's buffer accounting long before their bytes do.
//
// Also: stdout may be a (blocking) socket, which the relay must write with
// send(MSG_DONTWAIT), and the connection may be aliased to stdin or stdout (a
// standard descriptor closed when it was made), which must be refused before
// any I/O. Every error message names the target.
//
// Input: [up_len_lo][up_len_hi][down_len_lo][down_len_hi][flags][fault...]
// flags: bit 0 one hard fault, bit 1 no pipes, bit 2 stdout is a socket,
// bits 3-4 the connection aliased to stdin (1) or stdout (2).
// Each fault two bytes: (call kind, what). Sizes are capped at kMaxData.

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "fuzz/fuzz_check.h"
#include "src/relay.h"
#include "tests/testing/blocking_io.h"
#include "tests/testing/fake_syscalls.h"

namespace {

using ::ssh_proxy::RelayStats;
using ::ssh_proxy::fuzz::Fail;
using ::ssh_proxy::testing::FakeSyscalls;
using ::ssh_proxy::testing::ReadToEof;
using ::ssh_proxy::testing::WriteAll;

// 32 KiB each way: fits a pipe (64 KiB) and an AF_UNIX socket's buffers, so
// both sides can be written before the relay starts. Larger inputs add
// nothing the relay's 64 KiB chunks do not already see.
constexpr size_t kMaxData = 32 * 1024;
// Faults after this many are ignored: enough to hit every call of a small
// exchange, few enough that each input runs in well under a millisecond.
constexpr size_t kMaxFaults = 64;

std::string Pattern(size_t n, uint8_t seed) {
  std::string s(n, '\0');
  uint32_t x = 0x9e3779b9u ^ seed;
  for (char& c : s) {
    x = x * 1664525u + 1013904223u;
    c = static_cast<char>(x >> 24);
  }
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 5) return 0;
  // A reader that goes away must be EPIPE, as main() arranges.
  ::signal(SIGPIPE, SIG_IGN);
  const size_t up_len = (data[0] | (data[1] << 8)) % (kMaxData + 1);
  const size_t down_len = (data[2] | (data[3] << 8)) % (kMaxData + 1);
  const uint8_t flags = data[4];
  const bool hard = flags & 1;      // Inject one real failure too.
  const bool no_pipes = flags & 2;  // pipe2 fails: read/write from the start.
  // stdout is a socket (ssh's, blocking): send(MSG_DONTWAIT), never splice.
  const bool out_socket = flags & 4;
  // The connection aliased to stdin (1) or stdout (2), as if a standard
  // descriptor had been closed when it was made: must be refused at once.
  const int alias = (flags >> 3) & 3;

  FakeSyscalls sys;
  if (no_pipes) {
    sys.Fail("pipe2", EMFILE);
    sys.Fail("pipe2", EMFILE);
  }
  bool hard_injected = false;
  for (size_t i = 5; i + 1 < size && (i - 5) / 2 < kMaxFaults; i += 2) {
    static const char* const kOps[] = {"splice", "read", "write",
                                       "poll",   "send", "recv"};
    const char* op = kOps[data[i] % 6];
    const uint8_t what = data[i + 1];
    FakeSyscalls::Injection inj;
    switch (what % 5) {
      case 0:
        break;  // Passes through: lets later faults land on later calls.
      case 1:
        inj.err = EINTR;
        break;
      case 2:
        // poll() never says EAGAIN; for the others it is a spurious wake-up.
        inj.err = std::string(op) == "poll" ? EINTR : EAGAIN;
        break;
      case 3:
        // Splice refused: the relay must fall back, even mid-transfer.
        if (std::string(op) == "splice") inj.err = EINVAL;
        break;
      case 4:
        inj.max_len = 1 + what / 5;  // A short transfer, 1..52 bytes.
        break;
    }
    if (hard && !hard_injected && what >= 250) {
      inj = FakeSyscalls::Injection{};
      inj.err = EIO;
      hard_injected = true;
    }
    sys.Inject(op, inj);
  }

  int in[2], out[2], conn[2];
  if (::pipe2(in, O_CLOEXEC) != 0 ||
      (out_socket ? ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, out)
                  : ::pipe2(out, O_CLOEXEC)) != 0 ||
      ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, conn) != 0) {
    Fail(__FILE__, __LINE__, "setup", "cannot make pipes");
  }
  const std::string up = Pattern(up_len, data[0]);
  const std::string down = Pattern(down_len, data[2]);
  // Everything is queued before the relay starts: stdin then EOF; the remote's
  // bytes then its half-close.
  FUZZ_CHECK(WriteAll(in[1], up), std::string("prefill stdin"));
  ::close(in[1]);
  FUZZ_CHECK(WriteAll(conn[1], down), std::string("prefill remote"));
  ::shutdown(conn[1], SHUT_WR);

  constexpr char kName[] = "unix/fuzz";
  if (alias != 0 && alias != 3) {
    const absl::Status status =
        ssh_proxy::Relay(alias == 1 ? conn[0] : in[0],
                         alias == 2 ? conn[0] : out[1], conn[0], kName, sys);
    FUZZ_CHECK(status.code() == absl::StatusCode::kInternal &&
                   absl::StrContains(status.message(), kName),
               "aliased connection: " + status.ToString());
    FUZZ_CHECK(sys.calls["poll"] == 0 && sys.calls["splice"] == 0 &&
                   sys.calls["read"] == 0 && sys.calls["write"] == 0,
               std::string("aliased connection: I/O before refusing"));
    for (int fd : {in[0], out[0], out[1], conn[0], conn[1]}) ::close(fd);
    return 0;
  }

  std::string remote_got, local_got;
  std::thread remote_reader([&] { remote_got = ReadToEof(conn[1]); });
  std::thread local_reader([&] { local_got = ReadToEof(out[0]); });
  RelayStats stats;
  const absl::Status status =
      ssh_proxy::Relay(in[0], out[1], conn[0], kName, sys, &stats);
  // On success the relay has half-closed the socket and closed stdout's write
  // end, which ends both readers. After a failure, end them here. (No fd is
  // opened meanwhile, so closing out[1] a second time is only EBADF.)
  if (!status.ok()) {
    ::shutdown(conn[0], SHUT_WR);
    if (out_socket) {
      ::shutdown(out[1], SHUT_WR);
    } else {
      ::close(out[1]);
    }
    // Every error names the target.
    FUZZ_CHECK(absl::StrContains(status.message(), kName), status.ToString());
  }
  remote_reader.join();
  local_reader.join();

  // Every pipe the relay made is closed again, whatever happened.
  FUZZ_CHECK(sys.open_fds().empty(),
             absl::StrCat(sys.open_fds().size(), " fds left open"));
  if (hard_injected) {
    // A real failure may end the relay; if it did not (the fault landed on a
    // call that never came), the bytes must still be exact.
    if (!status.ok()) {
      FUZZ_CHECK(status.code() == absl::StatusCode::kInternal ||
                     status.code() == absl::StatusCode::kUnavailable,
                 status.ToString());
    }
  } else {
    FUZZ_CHECK(status.ok(), status.ToString());
  }
  if (status.ok()) {
    FUZZ_CHECK(remote_got == up,
               absl::StrCat("remote got ", remote_got.size(), " of ", up.size(),
                            " bytes (or different ones)"));
    FUZZ_CHECK(local_got == down,
               absl::StrCat("stdout got ", local_got.size(), " of ",
                            down.size(), " bytes (or different ones)"));
    FUZZ_CHECK(
        stats.to_socket == up.size() && stats.from_socket == down.size(),
        absl::StrCat("counters ", stats.to_socket, "/", stats.from_socket));
  }
  ::close(in[0]);
  ::close(out[0]);
  if (out_socket) ::close(out[1]);  // A socket is shut down, not closed.
  ::close(conn[0]);
  ::close(conn[1]);
  return 0;
}
