// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// The real //:ssh-proxy resolving machine/NAME against what a system has on
// disk, laid out in a private mount namespace: a tmpfs over /run holding
// (or not) machined's state directory /run/systemd/machines and its varlink
// socket /run/systemd/machine/io.systemd.Machine, and a tmpfs over
// /usr/lib/systemd holding (or not) systemd-ssh-proxy, the mark of systemd
// 256 and later. Shows the message a systemd older than 256 gets (Debian 12's
// 252: machined runs, keeps its state directory, has no varlink socket)
// against "not running", with the exit code of both (69). The namespace needs root, or unprivileged user
// namespaces; without either each case is skipped with the reason. Nothing
// here opens AF_VSOCK.

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/testing/argv.h"

extern char** environ;

namespace ssh_proxy {
namespace {

using Clock = std::chrono::steady_clock;

// In a Bazel test the working directory is the runfiles tree.
constexpr char kBinary[] = "./ssh-proxy";

// What is on disk below the namespace's fresh /run.
enum class Layout {
  kNothing,           // No machined at all.
  kStateDirOnly,      // systemd < 256: the directory, no socket.
  kStateDirAndStale,  // systemd >= 256, machined stopped: a dead socket.
  kStateDirOn257,     // systemd 257 before machined first runs: the
                      // directory, no socket, systemd-ssh-proxy installed.
};

// Exit codes of the child before exec: the namespace could not be made.
constexpr int kNoNamespace = 120;
constexpr int kNoTmpfs = 121;
constexpr int kNoLayout = 122;
constexpr int kNoExec = 123;
constexpr int kNoUsrLibSystemd = 124;

struct Result {
  int code = -1;  // Exit code, 128+signal, or -1 on timeout.
  std::string err;
};

// WriteFile writes `text` to `path` (async-signal-safe; for uid_map).
bool WriteFile(const char* path, const char* text) {
  const int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const ssize_t n = write(fd, text, strlen(text));
  close(fd);
  return n == static_cast<ssize_t>(strlen(text));
}

// Child side, after fork: only async-signal-safe calls. Makes the namespace
// and the layout, then execs the binary with `args`.
[[noreturn]] void Child(Layout layout, char* const* argv, int err_fd,
                        const char* uid_map, const char* gid_map) {
  dup2(err_fd, 2);
  const int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  dup2(devnull, 0);
  dup2(devnull, 1);
  if (geteuid() == 0) {
    if (unshare(CLONE_NEWNS) != 0) _exit(kNoNamespace);
  } else {
    // Unprivileged: our own user namespace, mapping our ids to themselves.
    if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0 ||
        !WriteFile("/proc/self/setgroups", "deny") ||
        !WriteFile("/proc/self/uid_map", uid_map) ||
        !WriteFile("/proc/self/gid_map", gid_map)) {
      _exit(kNoNamespace);
    }
  }
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
      mount("tmpfs", "/run", "tmpfs", 0, "mode=0755") != 0) {
    _exit(kNoTmpfs);
  }
  // The host's own /usr/lib/systemd must not decide: a tmpfs over it, holding
  // systemd-ssh-proxy (the mark of systemd >= 256) only where the layout says.
  // ssh-proxy is linked statically and needs nothing from there.
  if (mount("tmpfs", "/usr/lib/systemd", "tmpfs", 0, "mode=0755") != 0) {
    if (errno != ENOENT || layout == Layout::kStateDirOn257) {
      _exit(kNoUsrLibSystemd);
    }
  }
  if (layout == Layout::kStateDirOn257) {
    const int fd = open("/usr/lib/systemd/systemd-ssh-proxy",
                        O_CREAT | O_WRONLY | O_CLOEXEC, 0755);
    if (fd < 0) _exit(kNoLayout);
    close(fd);
  }
  if (layout != Layout::kNothing) {
    if (mkdir("/run/systemd", 0755) != 0 ||
        mkdir("/run/systemd/machines", 0755) != 0) {
      _exit(kNoLayout);
    }
  }
  if (layout == Layout::kStateDirAndStale) {
    // Bound, then closed: the socket file stays, connect() is refused.
    static const char kSocket[] = "/run/systemd/machine/io.systemd.Machine";
    if (mkdir("/run/systemd/machine", 0755) != 0) _exit(kNoLayout);
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof(addr));
    addr.sun_family = AF_UNIX;
    memcpy(addr.sun_path, kSocket, sizeof(kSocket));
    if (fd < 0 ||
        bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      _exit(kNoLayout);
    }
    close(fd);
  }
  execve(kBinary, argv, environ);
  _exit(kNoExec);
}

// RunIn runs the binary with `args` in a namespace with `layout`; its stderr
// and exit code, within 20 s.
Result RunIn(Layout layout, std::vector<std::string> args) {
  Argv argv(kBinary, args);
  const std::string uid_map = absl::StrCat(getuid(), " ", getuid(), " 1");
  const std::string gid_map = absl::StrCat(getgid(), " ", getgid(), " 1");
  int err[2];
  if (pipe2(err, O_CLOEXEC) != 0) return {};
  const pid_t pid = fork();
  if (pid == 0) {
    Child(layout, argv.data(), err[1], uid_map.c_str(), gid_map.c_str());
  }
  close(err[1]);
  Result r;
  const auto end = Clock::now() + std::chrono::seconds(20);
  char buf[4096];
  while (Clock::now() < end) {
    pollfd p = {err[0], POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    const ssize_t n = read(err[0], buf, sizeof(buf));
    if (n > 0) {
      r.err.append(buf, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  close(err[0]);
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (Clock::now() > end) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return r;
    }
    usleep(2000);
  }
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

// SkipIfNoNamespace: the child's own failures are no verdict on ssh-proxy.
#define SKIP_IF_NO_NAMESPACE(r)                                              \
  do {                                                                       \
    if ((r).code == kNoNamespace)                                            \
      GTEST_SKIP() << "no mount namespace here (not root, and no "           \
                      "unprivileged user namespaces)";                       \
    if ((r).code == kNoTmpfs)                                                \
      GTEST_SKIP() << "cannot mount a tmpfs over /run in a mount namespace"; \
    if ((r).code == kNoUsrLibSystemd)                                        \
      GTEST_SKIP() << "cannot mount a tmpfs over /usr/lib/systemd";          \
    ASSERT_NE((r).code, kNoLayout) << "could not lay out /run";              \
    ASSERT_NE((r).code, kNoExec) << kBinary << " did not execute";           \
  } while (0)

// ExpectOneLine: stderr is exactly one line, "ssh-proxy: " first.
void ExpectOneLine(const std::string& err) {
  ASSERT_FALSE(err.empty());
  EXPECT_TRUE(absl::StartsWith(err, "ssh-proxy: ")) << err;
  EXPECT_EQ(err.find('\n'), err.size() - 1) << err;
}

TEST(MachineBinaryTest, SystemdOlderThan256SaysSo) {
  for (const bool dry_run : {false, true}) {
    std::vector<std::string> args = {"machine/vm1", "22"};
    if (dry_run) args.insert(args.begin(), "--dry-run");
    const Result r = RunIn(Layout::kStateDirOnly, args);
    SKIP_IF_NO_NAMESPACE(r);
    EXPECT_EQ(r.code, 69) << r.err;
    ExpectOneLine(r.err);
    EXPECT_EQ(r.err,
              "ssh-proxy: cannot resolve machine/vm1: systemd-machined has no "
              "varlink interface here (/run/systemd/machines exists, "
              "/run/systemd/machine/io.systemd.Machine does not): this "
              "systemd is older than 256; machine/ needs systemd 256 or later "
              "(use vsock/CID or unix/PATH instead)\n");
  }
}

TEST(MachineBinaryTest, NoMachinedAtAllIsNotRunning) {
  const Result r = RunIn(Layout::kNothing, {"machine/vm1", "22"});
  SKIP_IF_NO_NAMESPACE(r);
  EXPECT_EQ(r.code, 69) << r.err;
  ExpectOneLine(r.err);
  EXPECT_TRUE(absl::StrContains(
      r.err,
      "cannot resolve machine/vm1: systemd-machined is not running (user "
      "scope: "))
      << r.err;
  EXPECT_TRUE(absl::StrContains(
      r.err,
      "system scope: /run/systemd/machine/io.systemd.Machine: No such file or "
      "directory (ENOENT))"))
      << r.err;
  EXPECT_FALSE(absl::StrContains(r.err, "256")) << r.err;
}

TEST(MachineBinaryTest, AStoppedMachinedWithItsSocketIsNotRunning) {
  const Result r = RunIn(Layout::kStateDirAndStale, {"machine/vm1", "22"});
  SKIP_IF_NO_NAMESPACE(r);
  EXPECT_EQ(r.code, 69) << r.err;
  ExpectOneLine(r.err);
  EXPECT_TRUE(absl::StrContains(r.err, "systemd-machined is not running"))
      << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "ECONNREFUSED")) << r.err;
  EXPECT_FALSE(absl::StrContains(r.err, "256")) << r.err;
}

// systemd 257 (Debian 13): tmpfiles makes /run/systemd/machines at boot, and
// machined starts on demand, so before it first runs the layout is 252's but
// for systemd-ssh-proxy (256 and later): not running, never "older than 256".
TEST(MachineBinaryTest, NotYetStartedOn257IsNotRunning) {
  const Result r = RunIn(Layout::kStateDirOn257, {"-v", "machine/vm1", "22"});
  SKIP_IF_NO_NAMESPACE(r);
  EXPECT_EQ(r.code, 69) << r.err;
  EXPECT_TRUE(absl::StrContains(
      r.err,
      "ssh-proxy: cannot resolve machine/vm1: systemd-machined is not "
      "running ("))
      << r.err;
  EXPECT_TRUE(absl::StrContains(r.err,
                                "ssh-proxy: debug: systemd >= 256's "
                                "/usr/lib/systemd/systemd-ssh-proxy exists"))
      << r.err;
  EXPECT_FALSE(absl::StrContains(r.err, "older than 256")) << r.err;
}

// -v shows why: both scopes absent, then the state directory found.
TEST(MachineBinaryTest, VerboseShowsTheStateDirectory) {
  const Result r = RunIn(Layout::kStateDirOnly, {"-v", "machine/vm1", "22"});
  SKIP_IF_NO_NAMESPACE(r);
  EXPECT_EQ(r.code, 69) << r.err;
  EXPECT_TRUE(absl::StrContains(
      r.err,
      "ssh-proxy: debug: systemd-machined (system scope) is not running: "
      "/run/systemd/machine/io.systemd.Machine: No such file or directory"))
      << r.err;
  EXPECT_TRUE(absl::StrContains(r.err,
                                "ssh-proxy: debug: machined's state directory "
                                "/run/systemd/machines exists"))
      << r.err;
}

}  // namespace
}  // namespace ssh_proxy
