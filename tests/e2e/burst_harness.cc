// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// burst_harness: starts N copies of a ProxyCommand at once, each the way ssh
// runs it with `ProxyUseFdpass yes`, and reports what each one got: for the
// load scenarios of tests/vm (a burst against a real multiplexer).
//
//   burst_harness --count=N [--timeout=SECONDS] [--read-line]
//                 [--retry-budget-ms=MS] -- COMMAND [ARG]...
//
// Every copy gets its own AF_UNIX socketpair as stdin and stdout (like ssh) and
// a pipe as stderr. All N are forked first and held on a shared pipe, then
// released together: "at once" means within one close(). For each copy it
// records the time from the release to the fd's arrival (spawn -> fd) and to
// its exit, its exit status, its first stderr line, its CPU time and peak RSS
// (wait4), its open fds when the fd arrived (-1 if it had already exited), and
// with --read-line the first line read from the passed fd (the guest sshd's
// banner).
// Received fds stay open until every copy is done, so the multiplexer carries
// all of them at once, as it would for N ssh sessions.
//
// --retry-budget-ms=MS (default 0): a copy that exits 69 without passing an fd
// is started again after a backoff (5 ms, doubling, at most 50 ms) while less
// than MS have passed since its first start: what a retry inside ssh-proxy
// would gain, measured without changing ssh-proxy.
//
// Output (stdout), one line per copy, then a summary:
//   copy K: rc=R fd=socket|none ms=T exit_ms=E attempts=A cpu_ms=C
//           rss_kb=S fds=F [line="..."] [stderr="..."]
//   burst: N started, F got an fd, p50=.. p90=.. p99=.. max=.. ms
//   rest: C x rc=R "message"          (one line per distinct outcome)
// Exits 0 if every copy got an fd, 1 if not, 2 on a usage or setup error. A
// copy still running at --timeout (default 60 s) is killed (rc=124).

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "tests/e2e/daemon_util.h"
#include "tests/testing/fd_passing.h"

namespace {

constexpr char kUsage[] =
    "usage: burst_harness --count=N [--timeout=SECONDS] [--read-line] "
    "[--retry-budget-ms=MS] -- COMMAND [ARG]...\n";

struct Copy {
  pid_t pid = -1;
  int sock = -1;  // Our end of the socketpair (ssh's end).
  int err = -1;   // Read end of the copy's stderr.
  int fd = -1;    // The passed fd, once received.
  bool got_fd = false;
  bool exited = false;
  bool line_done = true;
  int rc = -1;
  int attempts = 0;
  int64_t first_start_ms = 0;  // The release of the first attempt.
  int64_t start_ms = 0;        // The start of the current attempt.
  int64_t fd_ms = -1;          // Release of the first attempt -> fd.
  int64_t retry_at_ms = -1;    // When to start again (-1: not waiting).
  int64_t exit_ms = -1;        // Release of the first attempt -> last exit.
  int64_t cpu_us = 0;
  long rss_kb = 0;
  int fds_at_handoff = -1;  // The copy's open fds when its fd arrived.
  std::string line;
  std::string stderr_text;
};

// Spawn forks COMMAND for `c` with a fresh socketpair and stderr pipe. With
// `gate` >= 0 the child first waits for EOF on it (the shared release). Returns
// false (and logs) if the copy could not be set up.
bool Spawn(Copy& c, char** command, int gate, int gate_w) {
  int sv[2];
  int ep[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    e2e::Log(std::string("socketpair: ") + strerror(errno));
    return false;
  }
  if (pipe2(ep, O_CLOEXEC) != 0) {
    e2e::Log(std::string("pipe: ") + strerror(errno));
    close(sv[0]);
    close(sv[1]);
    return false;
  }
  pid_t pid = fork();
  if (pid < 0) {
    e2e::Log(std::string("fork: ") + strerror(errno));
    close(sv[0]);
    close(sv[1]);
    close(ep[0]);
    close(ep[1]);
    return false;
  }
  if (pid == 0) {
    signal(SIGPIPE, SIG_DFL);
    if (gate_w >= 0) close(gate_w);
    if (gate >= 0) {
      char b;
      while (read(gate, &b, 1) < 0 && errno == EINTR) {
      }
    }
    if (dup2(sv[1], STDIN_FILENO) < 0 || dup2(sv[1], STDOUT_FILENO) < 0 ||
        dup2(ep[1], STDERR_FILENO) < 0) {
      _exit(127);
    }
    // Nothing else we inherited: the copy's fds are then its own (counted by
    // the load tests), as under ssh.
    closefrom(3);
    execvp(command[0], command);
    dprintf(STDERR_FILENO, "exec %s: %s\n", command[0], strerror(errno));
    _exit(127);
  }
  close(sv[1]);
  close(ep[1]);
  c.pid = pid;
  c.sock = sv[0];
  c.err = ep[0];
  c.exited = false;
  c.rc = -1;
  c.stderr_text.clear();
  c.attempts++;
  return true;
}

// ReceiveFd takes ssh's expected message (one byte, one SCM_RIGHTS fd) from
// `sock`. Returns the fd, or -1 (closed without one, or something else).
int ReceiveFd(int sock) {
  const ssh_proxy::testing::Received r = ssh_proxy::testing::ReceiveFd(
      sock, false, ssh_proxy::testing::Room::kAsSsh);
  struct stat st;
  if (r.fd >= 0 &&
      (r.n != 1 || fstat(r.fd, &st) != 0 || !S_ISSOCK(st.st_mode))) {
    close(r.fd);
    return -1;
  }
  return r.fd;
}

void CloseFd(int* fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

// CountFds: the open fds of `pid` (-1 if it has already gone). ssh-proxy
// exits right after the hand-off, so this may miss it.
int CountFds(pid_t pid) {
  DIR* d = opendir(("/proc/" + std::to_string(pid) + "/fd").c_str());
  if (d == nullptr) return -1;
  int n = 0;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  closedir(d);
  return n;
}

// FirstLine: the first line of `text` (without its newline), C-escaped.
std::string FirstLine(const std::string& text) {
  return e2e::CEscape(text.substr(0, text.find('\n')));
}

int64_t Percentile(std::vector<int64_t> v, double p) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size()) + 0.999);
  i = std::max<size_t>(i, 1);
  return v[std::min(i, v.size()) - 1];
}

}  // namespace

int main(int argc, char** argv) {
  e2e::SetProgramName(argv[0]);
  int timeout_s = 60;
  uint32_t count = 0;
  uint32_t retry_budget_ms = 0;
  bool read_line = false;
  const int i = e2e::ParseOptions(argc, argv, [&](const char* arg) {
    std::string v;
    if (e2e::ParseFlag(arg, "timeout", &v)) {
      if (!e2e::ParseSeconds(v, &timeout_s)) e2e::Die("bad --timeout: " + v);
    } else if (e2e::ParseFlag(arg, "count", &v)) {
      if (!e2e::ParseDecimalU32(v, &count) || count == 0 || count > 4096) {
        e2e::Die("bad --count (1..4096): " + v);
      }
    } else if (e2e::ParseFlag(arg, "retry-budget-ms", &v)) {
      if (!e2e::ParseDecimalU32(v, &retry_budget_ms)) {
        e2e::Die("bad --retry-budget-ms: " + v);
      }
    } else if (strcmp(arg, "--read-line") == 0) {
      read_line = true;
    } else {
      e2e::UsageError(kUsage, "");
    }
  });
  if (i >= argc || count == 0) e2e::UsageError(kUsage, "");
  std::vector<char*> command(argv + i, argv + argc);
  command.push_back(nullptr);
  signal(SIGPIPE, SIG_IGN);
  // Each copy needs 3 fds here (4 with its passed fd).
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }

  std::vector<Copy> copies(count);
  int gate[2];
  if (pipe2(gate, O_CLOEXEC) != 0) e2e::Die("pipe failed");
  for (Copy& c : copies) {
    if (!Spawn(c, command.data(), gate[0], gate[1])) {
      // Release the ones already forked, so that nothing is left waiting.
      close(gate[1]);
      e2e::Die("could not start all copies");
    }
  }
  close(gate[0]);
  const int64_t release = e2e::MonotonicMs();
  close(gate[1]);  // Every copy's read() returns 0 now: they exec together.
  for (Copy& c : copies) c.first_start_ms = c.start_ms = release;
  const int64_t deadline = release + int64_t{timeout_s} * 1000;

  auto done = [&](const Copy& c) {
    return c.exited && c.sock < 0 && c.err < 0 && c.line_done &&
           c.retry_at_ms < 0;
  };
  for (;;) {
    const int64_t now = e2e::MonotonicMs();
    // Reap.
    for (;;) {
      int status = 0;
      struct rusage ru;
      pid_t pid = wait4(-1, &status, WNOHANG, &ru);
      if (pid <= 0) break;
      for (Copy& c : copies) {
        if (c.pid != pid || c.exited) continue;
        c.exited = true;
        c.exit_ms = e2e::MonotonicMs() - c.first_start_ms;
        c.rc = WIFEXITED(status)
                   ? WEXITSTATUS(status)
                   : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
        c.cpu_us += ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec +
                    ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec;
        c.rss_kb = std::max(c.rss_kb, ru.ru_maxrss);
      }
    }
    // Retries: a copy that exited 69 without an fd, inside the budget.
    for (Copy& c : copies) {
      if (c.exited && !c.got_fd && c.rc == 69 && c.sock < 0 && c.err < 0 &&
          c.retry_at_ms < 0 && retry_budget_ms > 0) {
        const int64_t backoff =
            std::min<int64_t>(50, int64_t{5} << std::min(c.attempts - 1, 4));
        if (now + backoff - c.first_start_ms < retry_budget_ms) {
          c.retry_at_ms = now + backoff;
        }
      }
      if (c.retry_at_ms >= 0 && now >= c.retry_at_ms) {
        c.retry_at_ms = -1;
        const std::string last = c.stderr_text;
        if (!Spawn(c, command.data(), -1, -1)) {
          c.exited = true;
          c.stderr_text = last;
        } else {
          c.start_ms = now;
        }
      }
    }
    bool all_done = true;
    for (const Copy& c : copies) all_done = all_done && done(c);
    if (all_done) break;
    if (now >= deadline) {
      for (Copy& c : copies) {
        if (!c.exited && c.pid > 0) {
          kill(c.pid, SIGKILL);
          int status;
          struct rusage ru;
          wait4(c.pid, &status, 0, &ru);
          c.exited = true;
          c.exit_ms = e2e::MonotonicMs() - c.first_start_ms;
          c.rc = 124;
          c.stderr_text += "(still running at the harness timeout, killed)";
        }
        c.retry_at_ms = -1;
        CloseFd(&c.sock);
        CloseFd(&c.err);
        c.line_done = true;
      }
      break;
    }
    // Poll everything still open.
    std::vector<pollfd> pfds;
    std::vector<std::pair<Copy*, int>> what;  // 0 sock, 1 err, 2 line fd.
    for (Copy& c : copies) {
      if (c.sock >= 0) {
        pfds.push_back({c.sock, POLLIN, 0});
        what.push_back({&c, 0});
      }
      if (c.err >= 0) {
        pfds.push_back({c.err, POLLIN, 0});
        what.push_back({&c, 1});
      }
      if (!c.line_done && c.fd >= 0) {
        pfds.push_back({c.fd, POLLIN, 0});
        what.push_back({&c, 2});
      }
    }
    int wait_ms = std::min(e2e::RemainingMs(deadline), 5);
    int rc = poll(pfds.data(), pfds.size(), wait_ms);
    if (rc < 0 && errno != EINTR) e2e::Die("poll failed");
    if (rc <= 0) continue;
    const int64_t t = e2e::MonotonicMs();
    for (size_t k = 0; k < pfds.size(); ++k) {
      if (pfds[k].revents == 0) continue;
      Copy& c = *what[k].first;
      switch (what[k].second) {
        case 0: {
          int fd = ReceiveFd(c.sock);
          if (fd >= 0 && !c.got_fd) {
            c.fds_at_handoff = CountFds(c.pid);
            c.got_fd = true;
            c.fd = fd;
            c.fd_ms = t - c.first_start_ms;
            c.line_done = !read_line;
          } else if (fd >= 0) {
            close(fd);
          }
          // ssh reads one message; whatever else comes (EOF) ends it.
          CloseFd(&c.sock);
          break;
        }
        case 1: {
          char buf[512];
          ssize_t n = read(c.err, buf, sizeof(buf));
          if (n > 0) {
            if (c.stderr_text.size() < 4096) c.stderr_text.append(buf, n);
          } else if (n == 0 || errno != EINTR) {
            CloseFd(&c.err);
          }
          break;
        }
        case 2: {
          char ch;
          ssize_t n = read(c.fd, &ch, 1);
          if (n == 1 && ch != '\n' && c.line.size() < 256) {
            c.line += ch;
          } else if (n == 1 || n == 0 || errno != EINTR) {
            c.line_done = true;
          }
          break;
        }
      }
    }
  }

  std::vector<int64_t> times;
  std::map<std::string, int> rest;
  int got = 0;
  for (size_t k = 0; k < copies.size(); ++k) {
    Copy& c = copies[k];
    std::string out = "copy " + std::to_string(k) +
                      ": rc=" + std::to_string(c.rc) +
                      " fd=" + (c.got_fd ? "socket" : "none") +
                      " ms=" + std::to_string(c.fd_ms) +
                      " exit_ms=" + std::to_string(c.exit_ms) +
                      " attempts=" + std::to_string(c.attempts) +
                      " cpu_ms=" + std::to_string(c.cpu_us / 1000) +
                      " rss_kb=" + std::to_string(c.rss_kb) +
                      " fds=" + std::to_string(c.fds_at_handoff);
    if (read_line && c.got_fd) out += " line=\"" + e2e::CEscape(c.line) + "\"";
    if (!c.stderr_text.empty()) {
      out += " stderr=\"" + FirstLine(c.stderr_text) + "\"";
    }
    printf("%s\n", out.c_str());
    if (c.got_fd && c.rc == 0) {
      ++got;
      times.push_back(c.fd_ms);
    } else {
      rest["rc=" + std::to_string(c.rc) + (c.got_fd ? " (fd passed)" : "") +
           " \"" + FirstLine(c.stderr_text) + "\""]++;
    }
    CloseFd(&c.fd);
  }
  printf(
      "burst: %u started, %d got an fd, p50=%lld p90=%lld p99=%lld "
      "max=%lld ms\n",
      count, got, static_cast<long long>(Percentile(times, 0.50)),
      static_cast<long long>(Percentile(times, 0.90)),
      static_cast<long long>(Percentile(times, 0.99)),
      static_cast<long long>(Percentile(times, 1.0)));
  for (const auto& [outcome, n] : rest)
    printf("rest: %d x %s\n", n, outcome.c_str());
  return got == static_cast<int>(count) ? 0 : 1;
}
