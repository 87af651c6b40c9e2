// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// fdpass_harness: runs a ProxyCommand the way ssh does with `ProxyUseFdpass
// yes` and reports what it passed back, so tests can run ssh-proxy directly and
// check its exit code.
//
//   fdpass_harness [--timeout=SECONDS] [--read-line] -- COMMAND [ARG]...
//
// Like ssh: one end of an AF_UNIX socketpair becomes COMMAND's stdin and stdout
// (stderr is inherited); the other end receives one data byte with one
// SCM_RIGHTS fd. Prints to stdout:
//   "fd: socket"            an fd arrived and it is a socket
//   "fd: none"              the command closed its end (or exited) without
//   passing an fd "fd: bad <reason>"      something arrived that ssh would
//   reject "line: <C-escaped>"     with --read-line and an fd: the first line
//   read from that fd (up to
//                           '\n', EOF, 4 KiB or the timeout), e.g. the sshd
//                           banner
// Exits with COMMAND's exit status (128+N if killed by signal N); if COMMAND is
// still running at the timeout (default 10 s) it is killed and the harness
// exits 124.

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "tests/e2e/daemon_util.h"
#include "tests/testing/fd_passing.h"

namespace {

constexpr char kUsage[] =
    "usage: fdpass_harness [--timeout=SECONDS] [--read-line] -- COMMAND "
    "[ARG]...\n";

void Print(const std::string& line) {
  std::string out = line + "\n";
  e2e::WriteAll(STDOUT_FILENO, out.data(), out.size(),
                e2e::MonotonicMs() + 5000);
}

// ReceiveFd waits for ssh's expected message: exactly one data byte and one
// SCM_RIGHTS fd. Returns the fd (>= 0), or -1 after printing why not.
int ReceiveFd(int sock, int64_t deadline_ms) {
  for (;;) {
    pollfd pfd = {sock, POLLIN, 0};
    int rc = poll(&pfd, 1, e2e::RemainingMs(deadline_ms));
    if (rc < 0 && errno == EINTR) continue;
    if (rc == 0) {
      Print("fd: none (timeout)");
      return -1;
    }
    if (rc < 0) {
      Print(std::string("fd: bad poll: ") + strerror(errno));
      return -1;
    }
    break;
  }
  const ssh_proxy::testing::Received r = ssh_proxy::testing::ReceiveFd(
      sock, true, ssh_proxy::testing::Room::kAsSsh);
  const ssize_t n = r.n;
  const int fd = r.fd;
  if (n < 0) {
    Print(std::string("fd: none (recvmsg: ") + strerror(r.err) + ")");
    return -1;
  }
  if (n == 0 && fd < 0) {
    Print("fd: none");
    return -1;
  }
  if (r.truncated) {
    Print("fd: bad (control message truncated)");
    if (fd >= 0) close(fd);
    return -1;
  }
  if (n != 1) {
    Print("fd: bad (expected 1 data byte, got " + std::to_string(n) + ")");
    if (fd >= 0) close(fd);
    return -1;
  }
  if (fd < 0) {
    Print("fd: none (a data byte without SCM_RIGHTS)");
    return -1;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) {
    Print("fd: bad (not a socket)");
    close(fd);
    return -1;
  }
  Print("fd: socket");
  return fd;
}

void ReadLine(int fd, int64_t deadline_ms) {
  std::string line;
  while (line.size() < 4096 && line.find('\n') == std::string::npos) {
    pollfd pfd = {fd, POLLIN, 0};
    int rc = poll(&pfd, 1, e2e::RemainingMs(deadline_ms));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) break;
    char c;
    ssize_t n = read(fd, &c, 1);  // One byte at a time: stop exactly at '\n'.
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    line += c;
  }
  Print("line: " + e2e::CEscape(line));
}

}  // namespace

int main(int argc, char** argv) {
  e2e::SetProgramName(argv[0]);
  int timeout_s = 10;
  bool read_line = false;
  const int i = e2e::ParseOptions(argc, argv, [&](const char* arg) {
    std::string v;
    if (e2e::ParseFlag(arg, "timeout", &v)) {
      if (!e2e::ParseSeconds(v, &timeout_s)) e2e::Die("bad --timeout: " + v);
    } else if (strcmp(arg, "--read-line") == 0) {
      read_line = true;
    } else {
      e2e::UsageError(kUsage, "");
    }
  });
  if (i >= argc) e2e::UsageError(kUsage, "");
  std::vector<char*> command(argv + i, argv + argc);
  command.push_back(nullptr);
  signal(SIGPIPE, SIG_IGN);

  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    e2e::Die(std::string("socketpair: ") + strerror(errno));
  }
  const int64_t deadline = e2e::MonotonicMs() + int64_t{timeout_s} * 1000;
  pid_t pid = fork();
  if (pid < 0) e2e::Die(std::string("fork: ") + strerror(errno));
  if (pid == 0) {
    signal(SIGPIPE, SIG_DFL);
    if (dup2(sv[1], STDIN_FILENO) < 0 || dup2(sv[1], STDOUT_FILENO) < 0) {
      _exit(127);
    }
    execvp(command[0], command.data());
    e2e::Log(std::string("exec ") + command[0] + ": " + strerror(errno));
    _exit(127);
  }
  close(sv[1]);
  int fd = ReceiveFd(sv[0], deadline);
  close(sv[0]);
  if (fd >= 0 && read_line) ReadLine(fd, deadline);

  int status = 0;
  for (;;) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) e2e::Die("waitpid failed");
    if (e2e::RemainingMs(deadline) == 0) {
      Print("exit: still running at the timeout, killed");
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      if (fd >= 0) close(fd);
      return 124;
    }
    usleep(2000);
  }
  if (fd >= 0) close(fd);
  int code = WIFEXITED(status)
                 ? WEXITSTATUS(status)
                 : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  Print("exit: " + std::to_string(code));
  return code;
}
