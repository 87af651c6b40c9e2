// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// Tests of the relay (src/relay.h) over real pipes and AF_UNIX socketpairs,
// with failures injected through FakeSyscalls.

#include "src/relay.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "src/exit_codes.h"
#include "tests/testing/blocking_io.h"
#include "tests/testing/fake_syscalls.h"

namespace ssh_proxy {
namespace {

using ::ssh_proxy::testing::FakeSyscalls;
using ::ssh_proxy::testing::ReadToEof;
using ::ssh_proxy::testing::WriteAll;

// How the relay's messages name the target.
constexpr char kName[] = "unix/run/x.sock";

std::string RandomBytes(size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(gen());
  return s;
}

// The local side as ssh without fd passing sets it up: stdin and stdout are
// pipes. The relay's connection is one end of a socketpair; the test plays the
// remote on the other end.
struct Fixture {
  int stdin_r, stdin_w;  // The relay reads stdin_r; the test writes stdin_w.
  int stdout_r,
      stdout_w;      // The relay writes stdout_w; the test reads stdout_r.
  int sock, remote;  // The relay's connection, and the remote end of it.

  Fixture() {
    int p[2];
    EXPECT_EQ(::pipe2(p, O_CLOEXEC), 0);
    stdin_r = p[0];
    stdin_w = p[1];
    EXPECT_EQ(::pipe2(p, O_CLOEXEC), 0);
    stdout_r = p[0];
    stdout_w = p[1];
    int s[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s), 0);
    sock = s[0];
    remote = s[1];
  }
  ~Fixture() {
    // stdout_w is closed by the relay when the remote's data ends; closing
    // twice is harmless here (EBADF) as no other fd is opened in between.
    for (int fd : {stdin_r, stdin_w, stdout_r, sock, remote}) ::close(fd);
  }
};

// The outcome of RunBothWays.
struct Exchange {
  absl::Status status;
  std::string remote_got;  // What reached the remote end of the connection.
  std::string local_got;   // What reached the local reader of stdout.
};

// RunBothWays relays `up` from stdin to the remote and `down` from the remote
// to stdout at the same time, each side half-closing when it has sent all.
Exchange RunBothWays(FakeSyscalls& sys, Fixture& f, const std::string& up,
                     const std::string& down, RelayStats* stats = nullptr) {
  Exchange result;
  std::thread remote([&] {
    std::thread writer([&] {
      WriteAll(f.remote, down);
      ::shutdown(f.remote, SHUT_WR);
    });
    result.remote_got = ReadToEof(f.remote);
    writer.join();
  });
  std::thread local_reader([&] { result.local_got = ReadToEof(f.stdout_r); });
  std::thread local_writer([&] {
    WriteAll(f.stdin_w, up);
    ::close(f.stdin_w);
    f.stdin_w = -1;
  });
  result.status = Relay(f.stdin_r, f.stdout_w, f.sock, kName, sys, stats);
  local_writer.join();
  remote.join();
  local_reader.join();  // Ends because the relay closed stdout.
  return result;
}

TEST(RelayTest, CopiesBothWaysAndPropagatesHalfCloses) {
  FakeSyscalls sys;
  Fixture f;
  const std::string up = RandomBytes(3 << 20, 1);
  const std::string down = RandomBytes(5 << 20, 2);
  RelayStats stats;
  const Exchange x = RunBothWays(sys, f, up, down, &stats);
  ASSERT_TRUE(x.status.ok()) << x.status;
  EXPECT_TRUE(x.remote_got == up);
  EXPECT_TRUE(x.local_got == down);
  EXPECT_EQ(stats.to_socket, up.size());
  EXPECT_EQ(stats.from_socket, down.size());
  EXPECT_GT(sys.calls["splice"], 0);  // The pipes took the splice path.
  EXPECT_EQ(sys.calls["read"], 0);
  // Its two pipes are closed again.
  EXPECT_TRUE(sys.open_fds().empty());
}

TEST(RelayTest, RemoteEofFirstThenLocalKeepsSending) {
  FakeSyscalls sys;
  Fixture f;
  std::string remote_got, local_got;
  std::thread remote([&] {
    WriteAll(f.remote, "banner\n");
    ::shutdown(f.remote,
               SHUT_WR);  // The remote is done talking, still listening.
    remote_got = ReadToEof(f.remote);
  });
  std::thread local([&] {
    local_got =
        ReadToEof(f.stdout_r);  // EOF arrives while stdin is still open.
    WriteAll(f.stdin_w, "after eof");
    ::close(f.stdin_w);
    f.stdin_w = -1;
  });
  absl::Status status = Relay(f.stdin_r, f.stdout_w, f.sock, kName, sys);
  remote.join();
  local.join();
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(local_got, "banner\n");
  EXPECT_EQ(remote_got, "after eof");
}

TEST(RelayTest, LocalEofFirstThenRemoteKeepsSending) {
  FakeSyscalls sys;
  Fixture f;
  ::close(f.stdin_w);  // Nothing to send at all.
  f.stdin_w = -1;
  std::string remote_got, local_got;
  std::thread remote([&] {
    remote_got = ReadToEof(f.remote);  // The relay's SHUT_WR arrives first.
    WriteAll(f.remote, "reply after your eof");
    ::shutdown(f.remote, SHUT_WR);
  });
  std::thread local([&] { local_got = ReadToEof(f.stdout_r); });
  absl::Status status = Relay(f.stdin_r, f.stdout_w, f.sock, kName, sys);
  remote.join();
  local.join();
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(remote_got, "");
  EXPECT_EQ(local_got, "reply after your eof");
}

TEST(RelayTest, SameSocketOnBothSidesHalfClosesIt) {
  // --relay under ssh's socketpair: stdin and stdout are one socket.
  FakeSyscalls sys;
  int local[2], conn[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, local), 0);
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, conn), 0);
  std::string remote_got, local_got;
  std::thread remote([&] {
    remote_got = ReadToEof(conn[1]);
    WriteAll(conn[1], "pong");
    ::shutdown(conn[1], SHUT_WR);
  });
  std::thread user([&] {
    WriteAll(local[1], "ping");
    ::shutdown(local[1], SHUT_WR);
    local_got = ReadToEof(local[1]);
  });
  absl::Status status = Relay(local[0], local[0], conn[0], kName, sys);
  remote.join();
  user.join();
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(remote_got, "ping");
  EXPECT_EQ(local_got, "pong");
  for (int fd : {local[0], local[1], conn[0], conn[1]}) ::close(fd);
}

// A connection that is also stdin or stdout (a standard descriptor was closed
// when it was made) would be copied onto itself: refused before any I/O.
TEST(RelayTest, RefusesAConnectionAliasedToStdinOrStdout) {
  FakeSyscalls sys;
  Fixture f;
  for (const auto& [in, out] : {std::pair<int, int>{f.sock, f.stdout_w},
                                std::pair<int, int>{f.stdin_r, f.sock}}) {
    absl::Status status = Relay(in, out, f.sock, kName, sys);
    EXPECT_EQ(ExitCodeForStatus(status), kExitOsError) << status;
    EXPECT_TRUE(absl::StrContains(status.message(), kName)) << status;
  }
  EXPECT_EQ(sys.calls["poll"], 0);
  EXPECT_EQ(sys.calls["read"] + sys.calls["splice"], 0);
}

// stdout is a blocking socket (ssh's, never made non-blocking by us) that
// nobody reads, while the remote keeps sending: stdin must still flow to the
// remote, and stdout's file status flags stay as they were.
TEST(RelayTest, UnreadStdoutSocketDoesNotStallStdin) {
  FakeSyscalls sys;
  Fixture f;
  int out[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, out), 0);
  const int flags = ::fcntl(out[0], F_GETFL);
  const size_t kUp = 2 << 20;
  std::atomic<bool> stop{false};
  std::atomic<size_t> remote_got{0};
  std::thread remote([&] {
    const std::string chunk(65536, 'd');
    char buf[65536];
    while (!stop && remote_got < kUp) {
      ::send(f.remote, chunk.data(), chunk.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      const ssize_t n = ::recv(f.remote, buf, sizeof(buf), MSG_DONTWAIT);
      if (n > 0) remote_got += static_cast<size_t>(n);
      if (n <= 0) ::usleep(1000);
    }
    ::shutdown(f.remote, SHUT_RDWR);
  });
  std::thread feeder([&] {
    WriteAll(f.stdin_w, std::string(kUp, 'u'));
    ::close(f.stdin_w);
    f.stdin_w = -1;
  });
  // Once stdin has all arrived (or after 30 s), stdout's reader goes away:
  // the relay's stdout direction then ends with EPIPE, and the relay returns.
  std::thread watchdog([&] {
    for (int i = 0; i < 3000 && remote_got < kUp; ++i) ::usleep(10000);
    stop = true;
    ::shutdown(out[1], SHUT_RDWR);
  });
  absl::Status status = Relay(f.stdin_r, out[0], f.sock, kName, sys);
  feeder.join();
  remote.join();
  watchdog.join();
  EXPECT_EQ(remote_got, kUp) << status;
  EXPECT_EQ(::fcntl(out[0], F_GETFL), flags);
  EXPECT_EQ(sys.calls["splice"] > 0, true);  // stdin still splices.
  ::close(out[0]);
  ::close(out[1]);
}

TEST(RelayTest, PeerResetIsUnavailable) {
  FakeSyscalls sys;
  Fixture f;
  // An AF_UNIX peer that closes with unread data resets the connection: the
  // relay's next read of the socket fails with ECONNRESET.
  std::thread remote([&] {
    char c;
    ASSERT_EQ(::recv(f.remote, &c, 1, 0),
              1);       // Wait until data is queued for it...
    ::close(f.remote);  // ...and close with more still unread.
    f.remote = -1;
  });
  WriteAll(f.stdin_w, std::string(1000, 'x'));
  absl::Status status = Relay(f.stdin_r, f.stdout_w, f.sock, kName, sys);
  remote.join();
  EXPECT_EQ(ExitCodeForStatus(status), kExitUnavailable) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "ECONNRESET")) << status;
  EXPECT_TRUE(sys.open_fds().empty());
}

TEST(RelayTest, InjectedResetOnWriteIsUnavailable) {
  FakeSyscalls sys;
  Fixture f;
  sys.Inject("splice", FakeSyscalls::Injection{});            // stdin -> pipe
  sys.Inject("splice", FakeSyscalls::Injection{ECONNRESET});  // pipe -> socket
  WriteAll(f.stdin_w, "data");
  absl::Status status = Relay(f.stdin_r, f.stdout_w, f.sock, kName, sys);
  EXPECT_EQ(ExitCodeForStatus(status), kExitUnavailable) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "stdin -> unix/run/x.sock"))
      << status;
}

TEST(RelayTest, OtherFailuresAreOsErrors) {
  for (const char* op : {"poll", "splice"}) {
    FakeSyscalls sys;
    Fixture f;
    sys.Fail(op, EIO);
    WriteAll(f.stdin_w, "data");
    absl::Status status = Relay(f.stdin_r, f.stdout_w, f.sock, kName, sys);
    EXPECT_EQ(ExitCodeForStatus(status), kExitOsError) << op << ": " << status;
  }
}

TEST(RelayTest, SlowReaderBoundsBuffering) {
  FakeSyscalls sys;
  Fixture f;
  // The remote sends as fast as it can while nobody reads stdout: the relay
  // must stop taking bytes once its pipe and stdout's pipe are full, so the
  // remote gets pushed back.
  const std::string down = RandomBytes(16 << 20, 3);
  std::atomic<size_t> sent{0};
  std::thread remote([&] {
    size_t done = 0;
    while (done < down.size()) {
      const ssize_t n =
          ::send(f.remote, down.data() + done,
                 std::min<size_t>(65536, down.size() - done), MSG_NOSIGNAL);
      if (n <= 0) break;
      done += static_cast<size_t>(n);
      sent = done;
    }
    ::shutdown(f.remote, SHUT_WR);
  });
  ::close(f.stdin_w);
  f.stdin_w = -1;
  absl::Status status;
  std::thread relay(
      [&] { status = Relay(f.stdin_r, f.stdout_w, f.sock, kName, sys); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  // In flight at most: the socket's buffers, the relay's 64 KiB pipe, stdout's
  // 64 KiB pipe.
  int sndbuf = 0, rcvbuf = 0;
  socklen_t len = sizeof(int);
  ::getsockopt(f.remote, SOL_SOCKET, SO_SNDBUF, &sndbuf, &len);
  ::getsockopt(f.sock, SOL_SOCKET, SO_RCVBUF, &rcvbuf, &len);
  const size_t bound = static_cast<size_t>(sndbuf + rcvbuf) + 2 * 65536 + 65536;
  EXPECT_LT(sent.load(), bound)
      << "the relay kept reading with nobody to write to";
  EXPECT_LT(sent.load(), down.size());
  // Now read: everything arrives, intact and in order.
  const std::string got = ReadToEof(f.stdout_r);
  remote.join();
  relay.join();
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_TRUE(got == down);
}

TEST(RelayTest, StdoutReaderGoneEndsThatDirectionOnly) {
  // The relay's contract, as main() keeps it: SIGPIPE ignored, so a gone reader is EPIPE.
  ::signal(SIGPIPE, SIG_IGN);
  FakeSyscalls sys;
  Fixture f;
  ::close(f.stdout_r);  // Nobody will ever read stdout.
  f.stdout_r = -1;
  std::string remote_got;
  std::thread remote([&] {
    WriteAll(f.remote, std::string(200000, 'y'));
    ::shutdown(f.remote, SHUT_WR);
    remote_got = ReadToEof(f.remote);
  });
  WriteAll(f.stdin_w, "still delivered");
  ::close(f.stdin_w);
  f.stdin_w = -1;
  absl::Status status = Relay(f.stdin_r, f.stdout_w, f.sock, kName, sys);
  remote.join();
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(remote_got, "still delivered");
}

TEST(RelayTest, FallsBackToReadWriteWhereSpliceIsRefused) {
  FakeSyscalls sys;
  Fixture f;
  // EINVAL is what splice says for a terminal or an O_APPEND file: first on the
  // fill of the first direction polled, later on a drain after bytes are
  // already in the pipe.
  sys.Fail("splice", EINVAL);
  sys.Inject("splice", FakeSyscalls::Injection{});
  sys.Fail("splice", EINVAL);
  const std::string up = RandomBytes(1 << 20, 4);
  const std::string down = RandomBytes(1 << 20, 5);
  const Exchange x = RunBothWays(sys, f, up, down);
  ASSERT_TRUE(x.status.ok()) << x.status;
  EXPECT_TRUE(x.remote_got == up);
  EXPECT_TRUE(x.local_got == down);
  EXPECT_GT(sys.calls["read"], 0);
  EXPECT_GT(sys.calls["write"], 0);
}

TEST(RelayTest, WorksWithoutPipes) {
  // EMFILE for the pipes: both directions copy with read/write instead.
  FakeSyscalls sys;
  Fixture f;
  sys.Fail("pipe2", EMFILE);
  sys.Fail("pipe2", EMFILE);
  const Exchange x = RunBothWays(sys, f, "no pipes", "ok");
  ASSERT_TRUE(x.status.ok()) << x.status;
  EXPECT_EQ(x.remote_got, "no pipes");
  EXPECT_EQ(x.local_got, "ok");
  EXPECT_EQ(sys.calls["splice"], 0);
}

TEST(RelayTest, InterruptsAndSpuriousWakeupsAreRetried) {
  FakeSyscalls sys;
  Fixture f;
  sys.Fail("poll", EINTR);
  sys.Fail("splice", EINTR);
  sys.Fail("splice", EAGAIN);
  std::string remote_got;
  std::thread remote([&] {
    remote_got = ReadToEof(f.remote);
    ::shutdown(f.remote, SHUT_WR);
  });
  WriteAll(f.stdin_w, "through interrupts");
  ::close(f.stdin_w);
  f.stdin_w = -1;
  absl::Status status = Relay(f.stdin_r, f.stdout_w, f.sock, kName, sys);
  remote.join();
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(remote_got, "through interrupts");
}

}  // namespace
}  // namespace ssh_proxy
