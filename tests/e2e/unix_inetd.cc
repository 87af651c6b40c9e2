// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// unix_inetd: inetd for one AF_UNIX socket, for end-to-end tests. For each
// connection it forks and execs COMMAND with the connection as fd 0 and fd 1
// (as inetd does for `sshd -i`).
//
//   unix_inetd --listen=PATH [--ready=FILE] [--lifetime=SECONDS]
//   [--stderr=FILE] -- COMMAND ARG...
//
// stderr is inherited unless --stderr names a file to append to. Children are
// reaped as they exit; SIGTERM, SIGINT or the end of the lifetime (default 600
// s) stops the daemon, sends SIGTERM to the children still running and unlinks
// the socket.

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "tests/e2e/daemon_util.h"

namespace {

constexpr char kUsage[] =
    "usage: unix_inetd --listen=PATH [--ready=FILE] [--lifetime=SECONDS] "
    "[--stderr=FILE] -- COMMAND [ARG]...\n";

std::vector<char*> g_command;
std::string g_stderr_file;

// MoveTo makes `fd` available as `target` without the close-on-exec flag.
void MoveTo(int fd, int target) {
  if (fd == target) {
    fcntl(fd, F_SETFD, 0);
  } else if (dup2(fd, target) < 0) {
    e2e::Die(std::string("dup2: ") + strerror(errno));
  }
}

int Serve(int conn, int64_t /*deadline_ms*/) {
  if (!g_stderr_file.empty()) {
    int err = open(g_stderr_file.c_str(),
                   O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (err < 0) {
      e2e::Log("open " + g_stderr_file + ": " + strerror(errno));
      return 127;
    }
    MoveTo(err, STDERR_FILENO);
    if (err != STDERR_FILENO) close(err);
  }
  MoveTo(conn, STDIN_FILENO);
  MoveTo(conn, STDOUT_FILENO);
  if (conn > STDERR_FILENO) close(conn);
  // The daemon ignores SIGPIPE; the command gets the default, as from a real
  // inetd.
  signal(SIGPIPE, SIG_DFL);
  execvp(g_command[0], g_command.data());
  e2e::Log(std::string("exec ") + g_command[0] + ": " + strerror(errno));
  return 127;
}

}  // namespace

int main(int argc, char** argv) {
  e2e::SetProgramName(argv[0]);
  std::string listen_path, ready;
  int lifetime_s = 600;
  int i = e2e::ParseOptions(argc, argv, [&](const char* arg) {
    std::string v;
    if (e2e::ParseFlag(arg, "listen", &v)) {
      listen_path = v;
    } else if (e2e::ParseFlag(arg, "ready", &v)) {
      ready = v;
    } else if (e2e::ParseFlag(arg, "stderr", &v)) {
      g_stderr_file = v;
    } else if (e2e::ParseFlag(arg, "lifetime", &v)) {
      if (!e2e::ParseSeconds(v, &lifetime_s))
        e2e::UsageError(kUsage, "bad --lifetime: " + v);
    } else if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
      fputs(kUsage, stdout);
      exit(0);
    } else {
      e2e::UsageError(kUsage, std::string("unknown argument: ") + arg);
    }
  });
  if (listen_path.empty()) e2e::UsageError(kUsage, "--listen=PATH is required");
  if (i >= argc) e2e::UsageError(kUsage, "missing COMMAND after --");
  for (; i < argc; ++i) g_command.push_back(argv[i]);
  g_command.push_back(nullptr);

  std::string error;
  int listen_fd = e2e::ListenUnix(listen_path, &error);
  if (listen_fd < 0) e2e::Die(error);
  if (!ready.empty()) e2e::WriteReadyFile(ready);
  return e2e::RunAcceptLoop(listen_fd, listen_path, lifetime_s, Serve);
}
