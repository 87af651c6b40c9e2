// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors

#include "tests/e2e/daemon_util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <climits>
#include <set>

#include "src/text.h"

namespace e2e {
namespace {

const char* g_program = "e2e";

// The self-pipe the signal handler writes signal numbers into, and the
// listening fd; both are closed in children.
int g_signal_pipe[2] = {-1, -1};
int g_listen_fd = -1;
const int kHandledSignals[] = {SIGTERM, SIGINT, SIGCHLD, SIGHUP};

void OnSignal(int sig) {
  int saved = errno;
  unsigned char b = static_cast<unsigned char>(sig);
  // Nonblocking: if the pipe is full a wakeup is already pending.
  ssize_t ignored = write(g_signal_pipe[1], &b, 1);
  (void)ignored;
  errno = saved;
}

// UnixAddress fills *addr for `path`. For a path too long for sun_path, opens
// the parent directory with O_PATH into *dir_fd and uses
// /proc/self/fd/N/BASENAME. Returns false with errno set on failure.
bool UnixAddress(const std::string& path, sockaddr_un* addr, socklen_t* len,
                 int* dir_fd) {
  *dir_fd = -1;
  memset(addr, 0, sizeof(*addr));
  addr->sun_family = AF_UNIX;
  if (path.empty() || path.find('\0') != std::string::npos) {
    errno = EINVAL;
    return false;
  }
  std::string target = path;
  if (path.size() >= sizeof(addr->sun_path)) {
    size_t slash = path.rfind('/');
    if (slash == std::string::npos || slash + 1 == path.size()) {
      errno = ENAMETOOLONG;
      return false;
    }
    std::string dir = slash == 0 ? "/" : path.substr(0, slash);
    *dir_fd = open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (*dir_fd < 0) return false;
    target = "/proc/self/fd/" + std::to_string(*dir_fd) + path.substr(slash);
    if (target.size() >= sizeof(addr->sun_path)) {
      close(*dir_fd);
      *dir_fd = -1;
      errno = ENAMETOOLONG;
      return false;
    }
  }
  memcpy(addr->sun_path, target.data(), target.size());
  *len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) +
                                target.size() + 1);
  return true;
}

void ReapChildren(std::set<pid_t>* children) {
  for (;;) {
    int status;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid <= 0) {
      if (pid < 0 && errno == EINTR) continue;
      return;
    }
    children->erase(pid);
  }
}

}  // namespace

void SetProgramName(const char* argv0) {
  const char* slash = strrchr(argv0, '/');
  g_program = slash ? slash + 1 : argv0;
}

void Log(const std::string& message) {
  std::string line = std::string(g_program) + ": " + message + "\n";
  ssize_t ignored = write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

void Die(const std::string& message) {
  Log(message);
  _exit(2);
}

void UsageError(const char* usage, const std::string& error) {
  if (!error.empty()) Log(error);
  fputs(usage, stderr);
  _exit(2);
}

int ParseOptions(int argc, char** argv,
                 const std::function<void(const char* arg)>& option) {
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--") == 0) return i + 1;
    option(argv[i]);
  }
  return argc;
}

bool ParseFlag(const char* arg, const char* name, std::string* value) {
  size_t n = strlen(name);
  if (strncmp(arg, "--", 2) != 0 || strncmp(arg + 2, name, n) != 0 ||
      arg[2 + n] != '=') {
    return false;
  }
  *value = arg + 2 + n + 1;
  return true;
}

bool ParseDecimalU32(const std::string& text, uint32_t* value) {
  if (text.empty() || text.size() > 10) return false;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > 0xFFFFFFFFull) return false;
  *value = static_cast<uint32_t>(v);
  return true;
}

bool ParseSeconds(const std::string& text, int* seconds) {
  uint32_t v;
  if (!ParseDecimalU32(text, &v) || v == 0 || v > 86400) return false;
  *seconds = static_cast<int>(v);
  return true;
}

std::string CEscape(const std::string& data) {
  return ssh_proxy::EscapeForMessage(data);
}

int64_t MonotonicMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

int RemainingMs(int64_t deadline_ms) {
  int64_t left = deadline_ms - MonotonicMs();
  if (left < 0) return 0;
  if (left > INT_MAX) return INT_MAX;
  return static_cast<int>(left);
}

bool WriteAll(int fd, const void* data, size_t size, int64_t deadline_ms) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = send(fd, p, size, MSG_NOSIGNAL);
    if (n < 0 && errno == ENOTSOCK) n = write(fd, p, size);
    if (n > 0) {
      p += n;
      size -= static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      int left = RemainingMs(deadline_ms);
      if (left == 0) {
        errno = ETIMEDOUT;
        return false;
      }
      pollfd pfd = {fd, POLLOUT, 0};
      if (poll(&pfd, 1, left) < 0 && errno != EINTR) return false;
      continue;
    }
    if (n == 0) errno = EIO;
    return false;
  }
  return true;
}

int ListenUnix(const std::string& path, std::string* error) {
  struct stat st;
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      *error = path + " exists and is not a socket";
      return -1;
    }
    if (unlink(path.c_str()) != 0) {
      *error = "unlink " + path + ": " + strerror(errno);
      return -1;
    }
  }
  sockaddr_un addr;
  socklen_t len;
  int dir_fd;
  if (!UnixAddress(path, &addr, &len, &dir_fd)) {
    *error = "address " + path + ": " + strerror(errno);
    return -1;
  }
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = std::string("socket: ") + strerror(errno);
  } else if (bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    *error = "bind " + path + ": " + strerror(errno);
    close(fd);
    fd = -1;
  } else if (listen(fd, 64) != 0) {
    *error = "listen " + path + ": " + strerror(errno);
    close(fd);
    fd = -1;
  }
  if (dir_fd >= 0) close(dir_fd);
  return fd;
}

int ConnectUnix(const std::string& path) {
  sockaddr_un addr;
  socklen_t len;
  int dir_fd;
  if (!UnixAddress(path, &addr, &len, &dir_fd)) return -1;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0) {
    int rc;
    do {
      rc = connect(fd, reinterpret_cast<sockaddr*>(&addr), len);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) {
      int saved = errno;
      close(fd);
      fd = -1;
      errno = saved;
    }
  }
  if (dir_fd >= 0) {
    int saved = errno;
    close(dir_fd);
    errno = saved;
  }
  return fd;
}

void WriteReadyFile(const std::string& path) {
  std::string tmp = path + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) Die("open " + tmp + ": " + strerror(errno));
  std::string pid = std::to_string(getpid()) + "\n";
  ssize_t ignored = write(fd, pid.data(), pid.size());
  (void)ignored;
  close(fd);
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    Die("rename " + tmp + ": " + strerror(errno));
  }
}

void PrepareChild() {
  for (int sig : kHandledSignals) signal(sig, SIG_DFL);
  sigset_t set;
  sigemptyset(&set);
  sigprocmask(SIG_SETMASK, &set, nullptr);
  if (g_signal_pipe[0] >= 0) close(g_signal_pipe[0]);
  if (g_signal_pipe[1] >= 0) close(g_signal_pipe[1]);
  if (g_listen_fd >= 0) close(g_listen_fd);
  g_signal_pipe[0] = g_signal_pipe[1] = g_listen_fd = -1;
  pid_t parent = getppid();
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() != parent) _exit(1);  // The daemon died before prctl.
}

int RunAcceptLoop(
    int listen_fd, const std::string& socket_path, int lifetime_s,
    const std::function<int(int conn_fd, int64_t deadline_ms)>& serve) {
  g_listen_fd = listen_fd;
  struct stat bound;
  bool have_bound = stat(socket_path.c_str(), &bound) == 0;
  if (pipe2(g_signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
    Die(std::string("pipe2: ") + strerror(errno));
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  for (int sig : kHandledSignals) sigaction(sig, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);

  const int64_t deadline = MonotonicMs() + int64_t{lifetime_s} * 1000;
  std::set<pid_t> children;
  bool stop = false;
  while (!stop) {
    int left = RemainingMs(deadline);
    if (left == 0) {
      Log("lifetime of " + std::to_string(lifetime_s) + " s expired");
      break;
    }
    pollfd pfds[2] = {{g_signal_pipe[0], POLLIN, 0}, {listen_fd, POLLIN, 0}};
    int rc = poll(pfds, 2, left);
    if (rc < 0) {
      if (errno == EINTR) continue;
      Log(std::string("poll: ") + strerror(errno));
      break;
    }
    if (pfds[0].revents & POLLIN) {
      unsigned char sigs[64];
      ssize_t n;
      while ((n = read(g_signal_pipe[0], sigs, sizeof(sigs))) > 0) {
        for (ssize_t i = 0; i < n; ++i) {
          if (sigs[i] != SIGCHLD) stop = true;
        }
      }
      ReapChildren(&children);
    }
    if (stop) break;
    if (pfds[1].revents & POLLIN) {
      int conn = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (conn < 0) {
        if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED) {
          Log(std::string("accept: ") + strerror(errno));
        }
        continue;
      }
      pid_t pid = fork();
      if (pid == 0) {
        PrepareChild();
        _exit(serve(conn, deadline));
      }
      if (pid < 0) Log(std::string("fork: ") + strerror(errno));
      if (pid > 0) children.insert(pid);
      close(conn);
    }
  }

  close(listen_fd);
  g_listen_fd = -1;
  struct stat now;
  if (have_bound && lstat(socket_path.c_str(), &now) == 0 &&
      now.st_dev == bound.st_dev && now.st_ino == bound.st_ino) {
    unlink(socket_path.c_str());
  }
  ReapChildren(&children);
  for (pid_t pid : children) kill(pid, SIGTERM);
  const int64_t kill_deadline = MonotonicMs() + 2000;
  while (!children.empty() && RemainingMs(kill_deadline) > 0) {
    ReapChildren(&children);
    if (!children.empty()) usleep(10 * 1000);
  }
  for (pid_t pid : children) kill(pid, SIGKILL);
  for (pid_t pid : children) waitpid(pid, nullptr, 0);
  return 0;
}

}  // namespace e2e
