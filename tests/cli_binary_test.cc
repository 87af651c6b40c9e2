// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// Runs the real ssh-proxy binary and checks stdout, stderr and the exit code
// exactly. Every case either uses --dry-run or is refused before any socket
// exists; none opens AF_VSOCK.

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "src/cli.h"
#include "src/usage.h"
#include "tests/testing/argv.h"
#include "tests/testing/printing.h"
#include "tests/testing/unix_socket.h"

extern char** environ;

namespace ssh_proxy {
namespace {

// In a Bazel test the working directory is the runfiles tree of this workspace.
constexpr char kBinary[] = "./ssh-proxy";

struct Result {
  int exit_code = -1;  // -1 unless the process exited normally.
  std::string out;
  std::string err;
};

std::string Show(const std::vector<std::string>& args) {
  return absl::StrCat("ssh-proxy [", absl::StrJoin(args, "] ["), "]");
}

// RunProxy spawns the binary with `args`, stdin from /dev/null, and collects
// stdout and stderr until both close (poll, so neither pipe can fill up and
// stall the child).
Result RunProxy(const std::vector<std::string>& args) {
  Result r;
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2: " << std::strerror(errno);
    return r;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);

  Argv argv(kBinary, args);

  pid_t pid = -1;
  const int rc =
      posix_spawn(&pid, kBinary, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  close(err[1]);
  if (rc != 0) {
    ADD_FAILURE() << "posix_spawn " << kBinary << ": " << std::strerror(rc);
    close(out[0]);
    close(err[0]);
    return r;
  }

  struct pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  std::string* sinks[2] = {&r.out, &r.err};
  int open_fds = 2;
  while (open_fds > 0) {
    const int ready = poll(fds, 2, 10000);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) {
      ADD_FAILURE() << Show(args) << ": no output for 10 s";
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[4096];
      const ssize_t n = read(fds[i].fd, buf, sizeof(buf));
      if (n > 0) {
        sinks[i]->append(buf, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (const pollfd& p : fds) {
    if (p.fd >= 0) close(p.fd);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  return r;
}

TEST(CliBinaryTest, BinaryIsThere) {
  ASSERT_EQ(access(kBinary, X_OK), 0)
      << kBinary << " is missing: is //:ssh-proxy a data dependency?";
}

struct DryRunCase {
  std::vector<std::string> args;
  std::string line;  // Without "\n".
};

TEST(CliBinaryTest, DryRunPrintsExactlyOneLine) {
  const std::vector<DryRunCase> cases = {
      {{"--dry-run", "unix/run/x.sock", "22"}, "unix path=/run/x.sock"},
      {{"--dry-run", "unix%run/x.sock", "22"}, "unix path=/run/x.sock"},
      {{"--dry-run", "vsock/4711", "22"}, "vsock cid=4711 port=22"},
      {{"--dry-run", "vsock%4711", "22"}, "vsock cid=4711 port=22"},
      {{"--dry-run", "vsock/host", "22"}, "vsock cid=2 port=22"},
      {{"--dry-run", "vsock/local", "22"}, "vsock cid=1 port=22"},
      {{"--dry-run", "vsock/hypervisor", "22"}, "vsock cid=0 port=22"},
      {{"--dry-run", "vsock/4294967294", "4294967294"},
       "vsock cid=4294967294 port=4294967294"},
      {{"--dry-run", "vsock-mux/run/vm.sock", "22"},
       "vsock-mux path=/run/vm.sock port=22"},
      {{"--dry-run", "vsock-mux%run/vm.sock", "2222"},
       "vsock-mux path=/run/vm.sock port=2222"},
      {{"--dry-run", ".host", "22"}, "unix path=/run/ssh-unix-local/socket"},
      // Options anywhere, "--", and a valid --timeout do not change the line.
      {{"unix/run/x.sock", "22", "--dry-run"}, "unix path=/run/x.sock"},
      {{"--timeout=500ms", "--dry-run", "--", "vsock/3", "22"},
       "vsock cid=3 port=22"},
      {{"--dry-run", "--timeout", "1h", "vsock/3", "1"}, "vsock cid=3 port=1"},
  };
  for (const DryRunCase& c : cases) {
    const Result r = RunProxy(c.args);
    EXPECT_EQ(r.exit_code, 0) << Show(c.args) << " stderr: " << r.err;
    EXPECT_EQ(r.out, c.line + "\n") << Show(c.args);
    EXPECT_EQ(r.err, "") << Show(c.args);
  }
}

// A dry run connects to nothing: a listening socket sees no connection.
TEST(CliBinaryTest, DryRunTouchesNoSocket) {
  const std::string dir = MakeTempDir("cli-test");
  ASSERT_FALSE(dir.empty());
  const std::string path = dir + "/s";
  const int fd = BindUnix(path, 4);
  ASSERT_GE(fd, 0) << strerror(errno);
  // Non-blocking: the accept below must not wait for a connection.
  ASSERT_EQ(fcntl(fd, F_SETFL, O_NONBLOCK), 0);

  const std::vector<std::string> args = {"--dry-run",
                                         absl::StrCat("unix", path), "22"};
  const Result r = RunProxy(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, absl::StrCat("unix path=", path, "\n"));
  EXPECT_EQ(r.err, "");
  EXPECT_LT(accept(fd, nullptr, nullptr), 0);
  EXPECT_EQ(errno, EAGAIN);

  close(fd);
  unlink(path.c_str());
  rmdir(dir.c_str());
}

TEST(CliBinaryTest, HelpPrintsUsageOnStdout) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"-h"}, std::vector<std::string>{"--help"},
        std::vector<std::string>{"-vh"},
        std::vector<std::string>{"--help", "--bogus"},
        std::vector<std::string>{"unix/x", "22", "--help"}}) {
    const Result r = RunProxy(args);
    EXPECT_EQ(r.exit_code, 0) << Show(args);
    // The ssh_config sample names the binary as it runs (/proc/self/exe).
    char self[4096];
    const ssize_t n = readlink("/proc/self/cwd/ssh-proxy", self, sizeof(self));
    ASSERT_GT(n, 0) << std::strerror(errno);
    std::string path(self, static_cast<size_t>(n));
    if (path[0] != '/') {
      char* real = realpath("./ssh-proxy", nullptr);
      ASSERT_NE(real, nullptr);
      path = real;
      free(real);
    }
    EXPECT_EQ(r.out, UsageText(path)) << Show(args);
    EXPECT_TRUE(absl::StrContains(
        r.out, absl::StrCat("ProxyCommand ", path, " '%n' %p\n")))
        << r.out;
    EXPECT_EQ(r.err, "") << Show(args);
  }
}

TEST(CliBinaryTest, VersionPrintsOneLine) {
  const Result r = RunProxy({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, absl::StrCat(kVersionString, "\n"));
  EXPECT_EQ(r.err, "");
}

struct ErrorCase {
  std::vector<std::string> args;
  std::string
      named;  // Must occur in the stderr line ("" for nothing in particular).
};

TEST(CliBinaryTest, ErrorsAreOneLineOnStderrAndExit64) {
  const std::vector<ErrorCase> cases = {
      // Command line.
      {{}, ""},
      {{"unix/x"}, ""},
      {{"unix/x", "22", "third-operand"}, "third-operand"},
      {{"--bogus", "unix/x", "22"}, "--bogus"},
      {{"-x", "unix/x", "22"}, "-x"},
      {{"--timeout"}, "--timeout"},
      {{"--timeout=0s", "--dry-run", "unix/x", "22"}, "0s"},
      {{"--timeout=2h", "--dry-run", "unix/x", "22"}, "2h"},
      // HOST.
      {{"--dry-run", "tcp/x", "22"}, "tcp/x"},
      {{"--dry-run", "UNIX/run/x", "22"}, "UNIX/run/x"},
      {{"--dry-run", "unix//run/x", "22"}, "did you mean unix/run/x"},
      {{"--dry-run", "unix/run/../x", "22"}, "unix/run/../x"},
      {{"--dry-run", "vsock/4294967295", "22"}, "vsock/4294967295"},
      {{"--dry-run", "vsock/0x16", "22"}, "vsock/0x16"},
      {{"--dry-run", ".HOST", "22"}, ".HOST"},
      {{"--dry-run", "unix/run/a\nb", "22"}, "unix/run/a"},
      {{"--dry-run", "unix/run/\x1b[31mred", "22"}, "[31mred"},
      // First-day habits from socat, QEMU and systemd: the one fix is named.
      {{"--dry-run", "vsock:3", "22"}, "(did you mean vsock/3?)"},
      {{"--dry-run", "unix:/tmp/x", "22"}, "(did you mean unix/tmp/x?)"},
      {{"--dry-run", "vsock-mux:/run/v.sock", "22"},
       "(did you mean vsock-mux/run/v.sock?)"},
      {{"--dry-run", "UNIX-CONNECT:/tmp/x", "22"},
       "(did you mean unix/tmp/x?)"},
      {{"--dry-run", "vsock/03", "22"}, "(did you mean vsock/3?)"},
      {{"--dry-run", "vsock%007", "22"}, "(did you mean vsock%7?)"},
      {{"--dry-run", "vsock/019", "22"}, "(did you mean vsock/19?)"},
      // Decimal 10 or octal 8 (systemd's reading): no guess.
      {{"--dry-run", "vsock/010", "22"}, "decimal 10, or octal 8"},
      {{"--dry-run", "vsock/hots", "22"}, "(did you mean vsock/host?)"},
      {{"--dry-run", "vsock/locl", "22"}, "(did you mean vsock/local?)"},
      {{"--dry-run", "vsock/hypervsior", "22"},
       "(did you mean vsock/hypervisor?)"},
      {{"--dry-run", "vsock/lo", "22"}, "one of hypervisor, local, host"},
      {{"--dry-run", "vsock/3:22", "22"}, "ssh -p 22 vsock/3"},
      {{"--dry-run", "vsock/3:22", "22"}, "(did you mean vsock/3?)"},
      {{"--dry-run", "vsock:3:2222", "22"}, "ssh -p 2222 vsock/3"},
      // PORT.
      {{"--dry-run", "vsock/3", "0"}, "PORT"},
      {{"--dry-run", "vsock/3", "4294967295"}, "4294967295"},
      {{"--dry-run", "unix/x", "022"}, "022"},
      {{"--dry-run", ".host", "+22"}, "+22"},
      // Without --dry-run, bad arguments are refused before any socket is made.
      {{"unix/nonexistent/ssh-proxy-test", "0"}, "PORT"},
      {{"tcp/x", "22"}, "tcp/x"},
  };
  for (const ErrorCase& c : cases) {
    const Result r = RunProxy(c.args);
    EXPECT_EQ(r.exit_code, 64) << Show(c.args) << " stderr: " << r.err;
    EXPECT_EQ(r.out, "") << Show(c.args);
    EXPECT_TRUE(absl::StartsWith(r.err, "ssh-proxy: "))
        << Show(c.args) << " stderr: " << Printable(r.err);
    ASSERT_FALSE(r.err.empty()) << Show(c.args);
    EXPECT_EQ(r.err.back(), '\n') << Show(c.args);
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1)
        << Show(c.args) << " stderr: " << Printable(r.err);
    for (size_t i = 0; i + 1 < r.err.size(); ++i) {
      const unsigned char b = static_cast<unsigned char>(r.err[i]);
      EXPECT_TRUE(b >= 0x20 && b <= 0x7e)
          << Show(c.args) << " stderr: " << Printable(r.err);
    }
    EXPECT_TRUE(absl::StrContains(r.err, c.named))
        << Show(c.args) << " stderr: " << Printable(r.err) << " does not name "
        << c.named;
  }
}

}  // namespace
}  // namespace ssh_proxy
