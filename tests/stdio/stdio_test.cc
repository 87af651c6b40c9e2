// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// Runs the real ssh-proxy binary with hostile standard descriptors and checks
// what a reviewer would: the exact exit code, that stderr is at most one line
// naming the target, that the target receives exactly the bytes it should (no
// "ssh-proxy:" text, no echo of its own bytes), and that nothing hangs.
//
// Cases: each of fds 0-2 closed, alone and together, in every mode (auto,
// --fdpass, --relay, --dry-run, -v); a full blocking stdout socket nobody
// reads (the hand-off is bounded by --timeout); --relay with a stdout that is
// never read (socket, pipe, terminal) while stdin flows; /dev/full; EMFILE at
// each socket/pipe2/open call (RLIMIT_NOFILE); long paths without /proc (a
// private mount namespace, root only). Only AF_UNIX sockets: nothing here
// opens AF_VSOCK.

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "tests/testing/argv.h"
#include "tests/testing/fd_passing.h"
#include "tests/testing/printing.h"
#include "tests/testing/unix_socket.h"

extern char** environ;

namespace ssh_proxy {
namespace {

using Clock = std::chrono::steady_clock;

// In a Bazel test the working directory is the runfiles tree.
constexpr char kBinary[] = "./ssh-proxy";
constexpr int kClosed = -1;

int Bind(const std::string& path) {
  const int fd = BindUnix(path, 8);
  EXPECT_GE(fd, 0) << path << ": " << strerror(errno);
  return fd;
}

// A target: an AF_UNIX listener whose first connection is served on a thread.
// It optionally plays a vsock multiplexer (reads "CONNECT <port>\n", answers
// "OK <port>\n"), sends `greeting`, optionally `flood` bytes more, then records
// everything it receives until EOF or until stopped.
class Target {
 public:
  struct Options {
    bool mux = false;
    std::string greeting;
    size_t flood = 0;  // Bytes sent after the greeting.
    bool close_after_greeting = false;
  };
  Target(const std::string& path, Options options)
      : path_(path), options_(options), listen_fd_(Bind(path)) {
    thread_ = std::thread([this] { Serve(); });
  }
  ~Target() {
    stop_ = true;
    thread_.join();
    close(listen_fd_);
    unlink(path_.c_str());
  }
  // received returns a copy of what arrived so far (after the mux command).
  std::string received() {
    std::lock_guard<std::mutex> lock(mu_);
    return received_;
  }
  std::string command() {
    std::lock_guard<std::mutex> lock(mu_);
    return command_;
  }
  bool connected() const { return connected_; }
  bool saw_eof() const { return eof_; }

 private:
  void Serve() {
    pollfd p = {listen_fd_, POLLIN, 0};
    while (!stop_) {
      if (poll(&p, 1, 50) > 0) break;
    }
    if (stop_) return;
    const int conn = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0) return;
    connected_ = true;
    if (options_.mux) {
      std::string line;
      char c;
      while (line.size() < 64 && recv(conn, &c, 1, 0) == 1) {
        line += c;
        if (c == '\n') break;
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        command_ = line;
      }
      if (absl::StartsWith(line, "CONNECT ") && absl::EndsWith(line, "\n")) {
        const std::string ok = "OK " + line.substr(8);
        send(conn, ok.data(), ok.size(), MSG_NOSIGNAL);
      }
    }
    send(conn, options_.greeting.data(), options_.greeting.size(),
         MSG_NOSIGNAL);
    if (options_.close_after_greeting) shutdown(conn, SHUT_WR);
    size_t flooded = 0;
    const std::string chunk(65536, 'F');
    char buf[65536];
    while (!stop_) {
      pollfd fds = {conn, POLLIN, 0};
      if (flooded < options_.flood) fds.events |= POLLOUT;
      if (poll(&fds, 1, 50) <= 0) continue;
      if (fds.revents & POLLOUT) {
        const ssize_t n = send(conn, chunk.data(),
                               std::min(chunk.size(), options_.flood - flooded),
                               MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) flooded += static_cast<size_t>(n);
        if (flooded >= options_.flood) shutdown(conn, SHUT_WR);
      }
      if (fds.revents & (POLLIN | POLLHUP | POLLERR)) {
        const ssize_t n = recv(conn, buf, sizeof(buf), MSG_DONTWAIT);
        if (n > 0) {
          std::lock_guard<std::mutex> lock(mu_);
          received_.append(buf, static_cast<size_t>(n));
        } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
          eof_ = true;
          if (flooded >= options_.flood) break;
          // Keep flooding until done; no more reading.
          if (!(fds.events & POLLOUT)) break;
        }
      }
    }
    close(conn);
  }

  const std::string path_;
  const Options options_;
  const int listen_fd_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> connected_{false};
  std::atomic<bool> eof_{false};
  std::mutex mu_;
  std::string received_;
  std::string command_;
};

// How the child's fds 0-2 are set up: an fd of ours to dup2 there, or kClosed.
struct Stdio {
  int in = kClosed;
  int out = kClosed;
  int err = kClosed;
};

struct Limits {
  rlim_t nofile = 0;     // RLIMIT_NOFILE if non-zero.
  bool no_proc = false;  // Private mount namespace without /proc.
};

// The runtimes of an ASan/UBSan or coverage-instrumented ssh-proxy open files
// (/proc/self/maps at start, the profile at exit): with RLIMIT_NOFILE at 3 or
// 4, or without /proc, they fail or add their own messages.
constexpr bool kInstrumentedBinary =
#ifdef SSH_PROXY_INSTRUMENTED_BINARY
    true;
#else
    false;
#endif
#define SKIP_IF_INSTRUMENTED()                                             \
  if (kInstrumentedBinary)                                                 \
  GTEST_SKIP() << "an instrumented binary's runtime needs fds and /proc; " \
                  "the plain binary is tested in the default configuration"

// Spawn forks and execs the binary with `stdio` as its fds 0-2.
pid_t Spawn(const std::vector<std::string>& args, Stdio stdio,
            Limits limits = {}) {
  Argv argv(kBinary, args);
  const pid_t pid = fork();
  if (pid != 0) return pid;
  // Child: only async-signal-safe calls from here.
  const int want[3] = {stdio.in, stdio.out, stdio.err};
  int moved[3];
  for (int i = 0; i < 3; ++i) {
    moved[i] = want[i] >= 0 ? fcntl(want[i], F_DUPFD_CLOEXEC, 10) : -1;
  }
  for (int i = 0; i < 3; ++i) {
    if (moved[i] >= 0) {
      dup2(moved[i], i);
    } else {
      close(i);
    }
  }
  if (limits.no_proc) {
    if (unshare(CLONE_NEWNS) != 0 ||
        mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        umount2("/proc", MNT_DETACH) != 0) {
      _exit(120);
    }
  }
  if (limits.nofile != 0) {
    const rlimit rl = {limits.nofile, limits.nofile};
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) _exit(121);
  }
  execve(kBinary, argv.data(), environ);
  _exit(122);
}

// Wait waits up to `timeout` for `pid`; kills it on expiry. Returns the exit
// code, 128+signal if killed by one, or -1 on timeout.
int Wait(pid_t pid, std::chrono::milliseconds timeout) {
  const auto end = Clock::now() + timeout;
  int status = 0;
  for (;;) {
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (Clock::now() > end) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    usleep(2000);
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

// ReadAll reads `fd` until EOF (or `timeout`), without blocking forever.
std::string ReadAll(int fd, std::chrono::milliseconds timeout) {
  std::string got;
  const auto end = Clock::now() + timeout;
  char buf[65536];
  while (Clock::now() < end) {
    pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    const ssize_t n = read(fd, buf, sizeof(buf));
    if (n > 0) {
      got.append(buf, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  return got;
}

struct Pipe {
  int r = -1, w = -1;
  Pipe() {
    int p[2];
    EXPECT_EQ(pipe2(p, O_CLOEXEC), 0);
    r = p[0];
    w = p[1];
  }
  ~Pipe() {
    CloseR();
    CloseW();
  }
  void CloseR() {
    if (r >= 0) close(r);
    r = -1;
  }
  void CloseW() {
    if (w >= 0) close(w);
    w = -1;
  }
};

struct Pair {
  int a = -1, b = -1;  // a goes to the child; the test keeps b.
  Pair() {
    int p[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p), 0);
    a = p[0];
    b = p[1];
  }
  ~Pair() {
    if (a >= 0) close(a);
    if (b >= 0) close(b);
  }
};

// ReceivePassedFd waits up to `timeout` for what ssh would get: exactly one
// data byte and one descriptor, which it returns; -1 otherwise.
int ReceivePassedFd(int sock, std::chrono::milliseconds timeout) {
  pollfd p = {sock, POLLIN, 0};
  if (poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return -1;
  const testing::Received r = testing::ReceiveFd(sock);
  if (r.n == 1 && r.fds == 1) return r.fd;
  if (r.fd >= 0) close(r.fd);
  return -1;
}

// ExpectOneLineNaming checks stderr is exactly one "ssh-proxy: " line that
// contains each of `parts`.
void ExpectOneLineNaming(const std::string& err,
                         const std::vector<std::string>& parts,
                         const std::string& where) {
  EXPECT_TRUE(absl::StartsWith(err, "ssh-proxy: ")) << where << Printable(err);
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1)
      << where << Printable(err);
  EXPECT_TRUE(absl::EndsWith(err, "\n")) << where << Printable(err);
  for (const std::string& part : parts) {
    EXPECT_TRUE(absl::StrContains(err, part))
        << where << ": " << Printable(err) << " does not contain " << part;
  }
}

class StdioTest : public ::testing::Test {
 protected:
  void SetUp() override {
    signal(SIGPIPE, SIG_IGN);
    dir_ = MakeTempDir("stdio");
    ASSERT_FALSE(dir_.empty());
    path_ = dir_ + "/t.sock";
  }
  void TearDown() override { rmdir(dir_.c_str()); }
  std::string dir_;
  std::string path_;
};

TEST(StdioBinaryTest, BinaryIsThere) {
  ASSERT_EQ(access(kBinary, X_OK), 0) << kBinary << " is missing";
}

// ---- Closed standard descriptors, in every mode ----

enum class Mode { kAuto, kVerbose, kFdPass, kRelay, kDryRun };

std::string ModeName(Mode m) {
  switch (m) {
    case Mode::kAuto:
      return "auto";
    case Mode::kVerbose:
      return "-v";
    case Mode::kFdPass:
      return "--fdpass";
    case Mode::kRelay:
      return "--relay";
    case Mode::kDryRun:
      return "--dry-run";
  }
  return "?";
}

// For every mode and every non-empty set of closed fds 0-2: the target (a
// multiplexer, so that any stray text shows in its command line) gets exactly
// "CONNECT 22\n" and, in the relay, exactly what stdin carried; the exit code
// is the documented one; nothing hangs.
TEST_F(StdioTest, ClosedStandardDescriptorsInEveryMode) {
  const std::string host = "vsock-mux" + path_;
  for (Mode mode : {Mode::kAuto, Mode::kVerbose, Mode::kFdPass, Mode::kRelay,
                    Mode::kDryRun}) {
    for (int closed = 1; closed < 8; ++closed) {
      const bool in_closed = closed & 1, out_closed = closed & 2,
                 err_closed = closed & 4;
      const std::string where =
          absl::StrCat(ModeName(mode), " closed:", in_closed ? " 0" : "",
                       out_closed ? " 1" : "", err_closed ? " 2" : "");
      Target target(path_, {.mux = true,
                            .greeting = "SSH-2.0-guest\r\n",
                            .close_after_greeting = true});
      std::vector<std::string> args = {host, "22"};
      if (mode != Mode::kAuto) args.insert(args.begin(), ModeName(mode));
      // The fds that stay open are what ssh would give: a socketpair on
      // stdin+stdout when passing fds, pipes when relaying.
      Pair ssh_pair;
      Pipe in, out, err;
      const bool fdpass_like = mode == Mode::kAuto || mode == Mode::kVerbose ||
                               mode == Mode::kFdPass;
      Stdio stdio;
      stdio.in = in_closed ? kClosed : (fdpass_like ? ssh_pair.a : in.r);
      stdio.out = out_closed ? kClosed : (fdpass_like ? ssh_pair.a : out.w);
      stdio.err = err_closed ? kClosed : err.w;
      const std::string client_bytes = "client says hi\n";
      if (!in_closed && !fdpass_like) {
        ASSERT_EQ(write(in.w, client_bytes.data(), client_bytes.size()),
                  static_cast<ssize_t>(client_bytes.size()));
      }
      in.CloseW();  // stdin (a pipe) ends after client_bytes.
      const pid_t pid = Spawn(args, stdio);
      close(ssh_pair.a);
      ssh_pair.a = -1;
      in.CloseR();
      out.CloseW();
      err.CloseW();

      int passed = -1;
      std::string out_text;
      if (fdpass_like && !out_closed) {
        passed = ReceivePassedFd(ssh_pair.b, std::chrono::seconds(10));
      } else if (fdpass_like) {
        // Relaying into /dev/null: stdin is the socketpair (or /dev/null);
        // end it so that the relay can end.
        shutdown(ssh_pair.b, SHUT_WR);
      } else if (!out_closed) {
        out_text = ReadAll(out.r, std::chrono::seconds(10));
      }
      const int code = Wait(pid, std::chrono::seconds(10));
      const std::string err_text = ReadAll(err.r, std::chrono::seconds(2));

      // The expected exit code.
      int expected = 0;
      if (mode == Mode::kDryRun && out_closed) expected = 71;
      if (mode == Mode::kFdPass && out_closed) expected = 64;
      EXPECT_EQ(code, expected) << where << " stderr: " << Printable(err_text);

      const bool connects =
          mode != Mode::kDryRun && !(mode == Mode::kFdPass && out_closed);
      EXPECT_EQ(target.connected(), connects) << where;
      if (connects) {
        EXPECT_EQ(target.command(), "CONNECT 22\n") << where;
      }
      // The target never sees our text; in the relay it sees exactly stdin.
      const std::string received = target.received();
      EXPECT_FALSE(absl::StrContains(received, "ssh-proxy")) << where;
      if (mode == Mode::kRelay && !in_closed) {
        EXPECT_EQ(received, client_bytes) << where;
      } else {
        EXPECT_EQ(received, "") << where << ": " << Printable(received);
      }
      if (fdpass_like && !out_closed) {
        EXPECT_GE(passed, 0) << where << ": no fd passed";
        if (passed >= 0) {
          // The passed connection carries the guest's banner, untouched.
          EXPECT_EQ(ReadAll(passed, std::chrono::seconds(5)),
                    "SSH-2.0-guest\r\n")
              << where;
          close(passed);
        }
      }
      if (mode == Mode::kRelay && !out_closed) {
        EXPECT_EQ(out_text, "SSH-2.0-guest\r\n") << where;
      }
      if (mode == Mode::kDryRun && !out_closed) {
        EXPECT_EQ(out_text, "vsock-mux path=" + path_ + " port=22\n") << where;
      }
      if (!err_closed) {
        if (expected == 0 && mode != Mode::kVerbose) {
          EXPECT_EQ(err_text, "") << where;
        }
        if (mode == Mode::kVerbose) {
          EXPECT_TRUE(absl::StrContains(err_text, "ssh-proxy: debug: "))
              << where;
          EXPECT_TRUE(absl::StrContains(err_text, "closed at start"))
              << where << ": " << Printable(err_text);
        }
        if (expected == 71) {
          EXPECT_EQ(err_text,
                    "ssh-proxy: cannot write to stdout: Bad file descriptor "
                    "(EBADF)\n")
              << where;
        }
        if (expected == 64) {
          ExpectOneLineNaming(err_text, {host, "ProxyUseFdpass yes"}, where);
        }
      }
    }
  }
}

// --dry-run with its stdout open prints exactly the target's line, whatever
// else is closed.
TEST_F(StdioTest, DryRunWithStdinAndStderrClosedPrintsTheLine) {
  Pipe out;
  const pid_t pid =
      Spawn({"--dry-run", "vsock/4711", "22"}, {kClosed, out.w, kClosed});
  out.CloseW();
  const std::string text = ReadAll(out.r, std::chrono::seconds(10));
  EXPECT_EQ(Wait(pid, std::chrono::seconds(10)), 0);
  EXPECT_EQ(text, "vsock cid=4711 port=22\n");
}

// ---- The hand-off is bounded by --timeout ----

// stdout is a blocking socket whose send buffer is full and which nobody
// reads: sendmsg would block forever. The whole run must end at --timeout
// with exit 75 and a line naming the target, and the target must have been
// reached (the time went into the hand-off, not the connect).
TEST_F(StdioTest, FullBlockingStdoutSocketTimesOut) {
  Target target(path_, {.greeting = "banner"});
  Pair ssh_pair;
  const char junk[4096] = {};
  while (send(ssh_pair.a, junk, sizeof(junk), MSG_DONTWAIT) > 0) {
  }
  ASSERT_EQ(errno, EAGAIN);
  ASSERT_EQ(fcntl(ssh_pair.a, F_GETFL) & O_NONBLOCK, 0);
  Pipe err;
  const auto start = Clock::now();
  const pid_t pid = Spawn({"--timeout=1s", "unix" + path_, "22"},
                          {ssh_pair.a, ssh_pair.a, err.w});
  err.CloseW();
  const int code = Wait(pid, std::chrono::seconds(15));
  const auto elapsed = Clock::now() - start;
  const std::string err_text = ReadAll(err.r, std::chrono::seconds(2));
  EXPECT_EQ(code, 75) << Printable(err_text);
  EXPECT_GE(elapsed, std::chrono::milliseconds(950));
  EXPECT_LT(elapsed, std::chrono::seconds(5));
  ExpectOneLineNaming(err_text, {"unix" + path_, "back to ssh", "timed out"},
                      "full stdout");
  EXPECT_TRUE(target.connected());
  // ssh's socket keeps its flags.
  EXPECT_EQ(fcntl(ssh_pair.a, F_GETFL) & O_NONBLOCK, 0);
}

// ---- The relay: a stdout nobody reads must not stall stdin ----

enum class Out { kSocket, kPipe, kTerminal };

// stdin carries 4 MiB; the target floods 16 MiB back; stdout is never read.
// All 4 MiB must still reach the target, in a bounded time.
// With `nofile` set, the relay has no fd left for its pipes and copies with
// read/write (the poll + PIPE_BUF path for a pipe stdout).
void RelayNeverStalls(const std::string& path, Out kind, rlim_t nofile = 0) {
  if (nofile != 0) SKIP_IF_INSTRUMENTED();
  const size_t kUp = 4 << 20;
  Target target(path, {.flood = 16 << 20});
  Pipe in, err;
  Pair out_pair;
  int out_fd = -1, out_keep = -1;
  Pipe out_pipe;
  switch (kind) {
    case Out::kSocket:
      out_fd = out_pair.a;
      out_keep = out_pair.b;
      break;
    case Out::kPipe:
      out_fd = out_pipe.w;
      out_keep = out_pipe.r;
      break;
    case Out::kTerminal: {
      const int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
      ASSERT_GE(master, 0);
      ASSERT_EQ(grantpt(master), 0);
      ASSERT_EQ(unlockpt(master), 0);
      out_fd = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
      ASSERT_GE(out_fd, 0);
      out_keep = master;
      break;
    }
  }
  const int out_flags = fcntl(out_fd, F_GETFL);
  const pid_t pid = Spawn({"--relay", "unix" + path, "22"},
                          {in.r, out_fd, err.w}, {.nofile = nofile});
  in.CloseR();
  err.CloseW();
  // Feed stdin from a thread: the pipe blocks once the relay stops reading,
  // which is the failure this test looks for.
  std::atomic<size_t> fed{0};
  std::thread feeder([&] {
    const std::string chunk(65536, 'U');
    while (fed < kUp) {
      const ssize_t n = write(in.w, chunk.data(), chunk.size());
      if (n <= 0) break;
      fed += static_cast<size_t>(n);
    }
    in.CloseW();
  });
  const auto end = Clock::now() + std::chrono::seconds(30);
  while (target.received().size() < kUp && Clock::now() < end) {
    usleep(10000);
  }
  const size_t got = target.received().size();
  EXPECT_EQ(got, kUp) << "only " << got << " of " << kUp
                      << " bytes of stdin reached the target while stdout ("
                      << static_cast<int>(kind) << ") was not read";
  EXPECT_EQ(fcntl(out_fd, F_GETFL), out_flags)
      << "the relay changed stdout's file status flags";
  kill(pid, SIGKILL);
  Wait(pid, std::chrono::seconds(5));
  if (kind == Out::kTerminal) {
    close(out_fd);
    close(out_keep);
  }
  // Unblock the feeder if the relay never read everything.
  in.CloseR();
  feeder.join();
}

TEST_F(StdioTest, RelayStdoutSocketNeverReadDoesNotStallStdin) {
  RelayNeverStalls(path_, Out::kSocket);
}
TEST_F(StdioTest, RelayStdoutPipeNeverReadDoesNotStallStdin) {
  RelayNeverStalls(path_, Out::kPipe);
}
TEST_F(StdioTest, RelayWithoutPipesStdoutPipeNeverReadDoesNotStallStdin) {
  RelayNeverStalls(path_, Out::kPipe, /*nofile=*/4);
}
TEST_F(StdioTest, RelayWithoutPipesStdoutSocketNeverReadDoesNotStallStdin) {
  RelayNeverStalls(path_, Out::kSocket, /*nofile=*/4);
}
TEST_F(StdioTest, RelayStdoutTerminalNeverReadDoesNotStallStdin) {
  RelayNeverStalls(path_, Out::kTerminal);
}

// The relay still moves every byte both ways when stdout is a socket that is
// read (the MSG_DONTWAIT path), and when stdout is a regular file.
TEST_F(StdioTest, RelayToSocketAndFileDeliversEverything) {
  for (bool to_file : {false, true}) {
    Target target(path_, {.greeting = std::string(300000, 'g'),
                          .close_after_greeting = true});
    Pipe in, err;
    Pair out_pair;
    const std::string file = dir_ + "/out";
    const int file_fd =
        open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ASSERT_GE(file_fd, 0);
    const std::string up(200000, 'u');
    const pid_t pid = Spawn({"--relay", "unix" + path_, "22"},
                            {in.r, to_file ? file_fd : out_pair.a, err.w});
    close(file_fd);
    in.CloseR();
    err.CloseW();
    close(out_pair.a);
    out_pair.a = -1;
    std::thread feeder([&] {
      size_t done = 0;
      while (done < up.size()) {
        const ssize_t n = write(in.w, up.data() + done, up.size() - done);
        if (n <= 0) break;
        done += static_cast<size_t>(n);
      }
      in.CloseW();
    });
    std::string down;
    if (!to_file) down = ReadAll(out_pair.b, std::chrono::seconds(20));
    const int code = Wait(pid, std::chrono::seconds(20));
    feeder.join();
    const std::string err_text = ReadAll(err.r, std::chrono::seconds(1));
    EXPECT_EQ(code, 0) << Printable(err_text);
    if (to_file) {
      const int r = open(file.c_str(), O_RDONLY | O_CLOEXEC);
      down = ReadAll(r, std::chrono::seconds(5));
      close(r);
    }
    EXPECT_EQ(down.size(), 300000u) << (to_file ? "file" : "socket");
    EXPECT_EQ(down, std::string(300000, 'g'));
    // The target saw stdin's end only after every byte of it.
    for (int i = 0; i < 200 && !target.saw_eof(); ++i) usleep(10000);
    EXPECT_EQ(target.received(), up);
    unlink(file.c_str());
  }
}

// ---- Write errors ----

TEST_F(StdioTest, DevFullIsReportedForEveryPrintingAction) {
  const int full = open("/dev/full", O_WRONLY | O_CLOEXEC);
  if (full < 0) GTEST_SKIP() << "/dev/full: " << strerror(errno);
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--dry-run", "vsock/1", "22"},
        std::vector<std::string>{"--help"},
        std::vector<std::string>{"--version"}}) {
    Pipe err;
    const pid_t pid = Spawn(args, {kClosed, full, err.w});
    err.CloseW();
    const int code = Wait(pid, std::chrono::seconds(10));
    const std::string err_text = ReadAll(err.r, std::chrono::seconds(2));
    EXPECT_EQ(code, 71) << args[0];
    EXPECT_EQ(err_text,
              "ssh-proxy: cannot write to stdout: No space left on device "
              "(ENOSPC)\n")
        << args[0];
  }
  close(full);
}

// ---- EMFILE at each descriptor-making call ----

TEST_F(StdioTest, EmfileAtEachCallNamesTheTarget) {
  SKIP_IF_INSTRUMENTED();
  Target target(path_, {.greeting = "banner", .close_after_greeting = true});
  struct Case {
    std::vector<std::string> args;
    rlim_t nofile;
    int exit;
    std::vector<std::string> named;
  };
  const std::string long_path =
      dir_ + "/" + std::string(100, 'd') + "/" + std::string(20, 'f');
  const std::vector<Case> cases = {
      // fds 0-2 in use: socket() is the first to fail.
      {{"unix" + path_, "22"},
       3,
       71,
       {"unix" + path_, "socket(AF_UNIX)", "EMFILE"}},
      {{"vsock-mux" + path_, "22"},
       3,
       71,
       {"vsock-mux" + path_ + " port 22", "socket(AF_UNIX)", "EMFILE"}},
      // The socket gets fd 3; the O_PATH open for a long path fails.
      {{"unix" + long_path, "22"},
       4,
       71,
       {"unix" + long_path, "O_PATH", "EMFILE"}},
  };
  for (const Case& c : cases) {
    Pipe err;
    Pair ssh_pair;
    const pid_t pid =
        Spawn(c.args, {ssh_pair.a, ssh_pair.a, err.w}, {.nofile = c.nofile});
    err.CloseW();
    const int code = Wait(pid, std::chrono::seconds(10));
    const std::string err_text = ReadAll(err.r, std::chrono::seconds(2));
    EXPECT_EQ(code, c.exit) << c.args[0] << ": " << Printable(err_text);
    ExpectOneLineNaming(err_text, c.named, c.args[0]);
  }
}

// In the relay, no fd is left for its pipes (pipe2 fails with EMFILE): it
// copies without them, and every byte still arrives.
TEST_F(StdioTest, RelayWithoutPipesStillDelivers) {
  SKIP_IF_INSTRUMENTED();
  Target target(path_, {.greeting = std::string(100000, 'g'),
                        .close_after_greeting = true});
  Pipe in, out, err;
  const std::string up(100000, 'u');
  ASSERT_EQ(fcntl(in.w, F_SETPIPE_SZ, 1 << 20), 1 << 20);
  ASSERT_EQ(write(in.w, up.data(), up.size()), static_cast<ssize_t>(up.size()));
  in.CloseW();
  // fds 0-2 and the socket (3): pipe2 needs two more.
  const pid_t pid = Spawn({"--relay", "unix" + path_, "22"},
                          {in.r, out.w, err.w}, {.nofile = 4});
  in.CloseR();
  out.CloseW();
  err.CloseW();
  const std::string down = ReadAll(out.r, std::chrono::seconds(20));
  const int code = Wait(pid, std::chrono::seconds(20));
  const std::string err_text = ReadAll(err.r, std::chrono::seconds(1));
  EXPECT_EQ(code, 0) << Printable(err_text);
  EXPECT_EQ(down, std::string(100000, 'g'));
  for (int i = 0; i < 200 && target.received().size() < up.size(); ++i) {
    usleep(10000);
  }
  EXPECT_EQ(target.received(), up);
}

// ---- Long paths without /proc ----

// RunWithoutProc runs the binary in a private mount namespace with /proc
// unmounted; the socket path is longer than sun_path. Root only.
TEST_F(StdioTest, LongPathWithoutProc) {
  SKIP_IF_INSTRUMENTED();
  if (geteuid() != 0) GTEST_SKIP() << "needs root for a mount namespace";
  std::string dir = dir_;
  std::vector<std::string> made;
  while (dir.size() < 200) {
    dir += "/" + std::string(50, 'd');
    ASSERT_EQ(mkdir(dir.c_str(), 0700), 0) << strerror(errno);
    made.push_back(dir);
  }
  const std::string path = dir + "/s.sock";
  {
    Target target(path, {.greeting = "long banner"});
    Pipe err;
    Pair ssh_pair;
    const pid_t pid = Spawn({"-v", "unix" + path, "22"},
                            {ssh_pair.a, ssh_pair.a, err.w}, {.no_proc = true});
    err.CloseW();
    const int passed = ReceivePassedFd(ssh_pair.b, std::chrono::seconds(10));
    const int code = Wait(pid, std::chrono::seconds(10));
    const std::string err_text = ReadAll(err.r, std::chrono::seconds(1));
    if (code == 120) GTEST_SKIP() << "cannot unmount /proc in a namespace here";
    EXPECT_EQ(code, 0) << Printable(err_text);
    ASSERT_GE(passed, 0) << Printable(err_text);
    EXPECT_TRUE(absl::StrContains(err_text,
                                  "connecting through the socket's directory"))
        << Printable(err_text);
    EXPECT_EQ(ReadAll(passed, std::chrono::milliseconds(500)).substr(0, 11),
              "long banner");
    close(passed);
  }
  // A last component too long for sun_path: 71, saying /proc is needed.
  {
    const std::string short_path = dir_ + "/short.sock";
    const std::string long_name = dir_ + "/" + std::string(120, 'n');
    Target target(short_path, {});
    ASSERT_EQ(rename(short_path.c_str(), long_name.c_str()), 0);
    Pipe err;
    Pair ssh_pair;
    const pid_t pid = Spawn({"unix" + long_name, "22"},
                            {ssh_pair.a, ssh_pair.a, err.w}, {.no_proc = true});
    err.CloseW();
    const int code = Wait(pid, std::chrono::seconds(10));
    const std::string err_text = ReadAll(err.r, std::chrono::seconds(1));
    EXPECT_EQ(code, 71) << Printable(err_text);
    ExpectOneLineNaming(err_text, {"unix" + long_name, "/proc"}, "no /proc");
    EXPECT_FALSE(absl::StrContains(err_text, "ENOENT")) << Printable(err_text);
    unlink(long_name.c_str());
  }
  for (auto it = made.rbegin(); it != made.rend(); ++it) rmdir(it->c_str());
}

}  // namespace
}  // namespace ssh_proxy
