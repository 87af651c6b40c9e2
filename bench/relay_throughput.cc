// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// relay_throughput: moves 1 GiB (--mib=N to change) between this process and a
// UNIX-socket server in this process, eight ways, and prints the rate of each:
//   direct       this process connects and reads the socket itself (the
//                ceiling);
//   fdpass       ssh-proxy connects and passes the fd; this process reads it
//                (proxy out of the path);
//   relay down   ssh-proxy --relay copies socket -> its stdout (a pipe this
//                process reads); socat down: `socat - UNIX-CONNECT:` doing the
//                same job;
//   relay up     this process writes the data into the proxy's stdin (a pipe)
//                and the server counts what arrives; socat up likewise;
//   ... sock     the download again with stdout a blocking AF_UNIX socket
//                (ssh-proxy writes it with MSG_DONTWAIT, not splice).
// Each is run --rounds=N times (default 3) and the best is kept. Exits 1 if the
// relay is slower than socat in any direction, or if any byte count is wrong.
//
// Usage: relay_throughput [--proxy=PATH] [--socat=PATH] [--mib=N] [--rounds=N]

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

#include "tests/testing/fd_passing.h"

namespace {

constexpr size_t kBuf = 1 << 20;

double NowSec() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

void Die(const char* what) {
  std::perror(what);
  std::exit(2);
}

sockaddr_un Addr(const std::string& path) {
  sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path.c_str());
  return addr;
}

// The server: for each connection, either sends `bytes` and closes (download)
// or reads until EOF and records the count (upload). One connection at a time.
struct Server {
  std::string path;
  int listener = -1;
  size_t bytes = 0;
  std::atomic<bool> upload{false};
  std::atomic<size_t> received{0};
  std::atomic<bool> stop{false};
  std::thread thread;

  void Start() {
    listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr = Addr(path);
    unlink(path.c_str());
    if (bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        listen(listener, 8) != 0) {
      Die("server bind/listen");
    }
    thread = std::thread([this] { Loop(); });
  }
  void Loop() {
    std::vector<char> buf(kBuf, 'x');
    while (!stop) {
      pollfd pfd = {listener, POLLIN, 0};
      if (poll(&pfd, 1, 100) <= 0) continue;
      const int c = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      if (upload) {
        size_t total = 0;
        for (;;) {
          const ssize_t n = read(c, buf.data(), buf.size());
          if (n <= 0) break;
          total += static_cast<size_t>(n);
        }
        received = total;
      } else {
        size_t left = bytes;
        while (left > 0) {
          const ssize_t n =
              send(c, buf.data(), std::min(left, buf.size()), MSG_NOSIGNAL);
          if (n <= 0) break;
          left -= static_cast<size_t>(n);
        }
      }
      close(c);
    }
  }
  void Stop() {
    stop = true;
    thread.join();
    close(listener);
    unlink(path.c_str());
  }
};

size_t DrainFd(int fd) {
  std::vector<char> buf(kBuf);
  size_t total = 0;
  for (;;) {
    const ssize_t n = read(fd, buf.data(), buf.size());
    if (n <= 0) break;
    total += static_cast<size_t>(n);
  }
  return total;
}

pid_t Spawn(const std::vector<std::string>& args, int in, int out) {
  std::vector<char*> argv;
  for (const std::string& a : args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in, 0);
  posix_spawn_file_actions_adddup2(&actions, out, 1);
  pid_t pid;
  if (posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ) !=
      0) {
    Die("posix_spawn");
  }
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

bool WaitOk(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// Download through a relay program (ssh-proxy --relay or socat): its stdout is
// a pipe we drain (or, with `socket_out`, a blocking AF_UNIX socket, which
// ssh-proxy must write with MSG_DONTWAIT instead of splice); its stdin is a
// pipe we keep open until the download is over, so neither tool stops early.
double Download(Server& server, const std::vector<std::string>& args,
                bool socket_out = false) {
  server.upload = false;
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) != 0) Die("pipe");
  if ((socket_out ? socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, out)
                  : pipe2(out, O_CLOEXEC)) != 0)
    Die("pipe");
  const double start = NowSec();
  const pid_t pid = Spawn(args, in[0], out[1]);
  close(in[0]);
  close(out[1]);
  const size_t got = DrainFd(out[0]);
  const double elapsed = NowSec() - start;
  close(in[1]);
  close(out[0]);
  const bool ok = WaitOk(pid);
  if (got != server.bytes || !ok) {
    std::fprintf(stderr, "%s: got %zu bytes of %zu, exit ok=%d\n",
                 args[0].c_str(), got, server.bytes, ok);
    return 0;
  }
  return elapsed;
}

// Upload through a relay program: we write the data into its stdin; done when
// it exits (after the server saw EOF and closed).
double Upload(Server& server, const std::vector<std::string>& args) {
  server.upload = true;
  server.received = 0;
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) Die("pipe");
  const double start = NowSec();
  const pid_t pid = Spawn(args, in[0], out[1]);
  close(in[0]);
  close(out[1]);
  std::thread drain([&] { DrainFd(out[0]); });
  std::vector<char> buf(kBuf, 'y');
  size_t left = server.bytes;
  while (left > 0) {
    const ssize_t n = write(in[1], buf.data(), std::min(left, buf.size()));
    if (n <= 0) break;
    left -= static_cast<size_t>(n);
  }
  close(in[1]);
  const bool ok = WaitOk(pid);
  drain.join();
  const double elapsed = NowSec() - start;
  close(out[0]);
  // The server records the count just after the proxy's connection closes.
  for (int i = 0; i < 200 && server.received != server.bytes; ++i) usleep(5000);
  if (server.received != server.bytes || !ok) {
    std::fprintf(stderr, "%s: server got %zu bytes of %zu, exit ok=%d\n",
                 args[0].c_str(), server.received.load(), server.bytes, ok);
    return 0;
  }
  return elapsed;
}

// ReceiveFd takes what ssh would from `sock` (one byte, one fd) and returns
// the fd, or -1.
int ReceiveFd(int sock) {
  const ssh_proxy::testing::Received r = ssh_proxy::testing::ReceiveFd(
      sock, true, ssh_proxy::testing::Room::kAsSsh);
  if (r.n == 1) return r.fd;
  if (r.fd >= 0) close(r.fd);
  return -1;
}

double FdPass(Server& server, const std::string& proxy) {
  server.upload = false;
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0)
    Die("socketpair");
  const double start = NowSec();
  const pid_t pid =
      Spawn({proxy, "unix" + server.path, "22"}, pair[1], pair[1]);
  close(pair[1]);
  const int fd = ReceiveFd(pair[0]);
  const bool ok = WaitOk(pid);
  close(pair[0]);
  if (fd < 0 || !ok) return 0;
  const size_t got = DrainFd(fd);
  const double elapsed = NowSec() - start;
  close(fd);
  return got == server.bytes ? elapsed : 0;
}

double Direct(Server& server) {
  server.upload = false;
  const double start = NowSec();
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr = Addr(server.path);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0)
    Die("connect");
  const size_t got = DrainFd(fd);
  const double elapsed = NowSec() - start;
  close(fd);
  return got == server.bytes ? elapsed : 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string proxy = "./ssh-proxy";
  std::string socat = "/usr/bin/socat";
  size_t mib = 1024;
  int rounds = 3;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--proxy=", 0) == 0) proxy = a.substr(8);
    if (a.rfind("--socat=", 0) == 0) socat = a.substr(8);
    if (a.rfind("--mib=", 0) == 0) mib = std::max(1, std::atoi(a.c_str() + 6));
    if (a.rfind("--rounds=", 0) == 0)
      rounds = std::max(1, std::atoi(a.c_str() + 9));
  }
  char dir_template[] = "/tmp/ssh-proxy-tput-XXXXXX";
  const std::string dir = mkdtemp(dir_template);
  Server server;
  server.path = dir + "/server.sock";
  server.bytes = mib << 20;
  server.Start();

  const std::string host = "unix" + server.path;
  const std::vector<std::string> relay = {proxy, "--relay", host, "22"};
  // socat's default -t 0.5 ends it half a second after one direction's EOF;
  // ours keeps stdin open for the whole download, so both tools get the same
  // job.
  const std::vector<std::string> socat_args = {socat, "-b", "65536", "-",
                                               "UNIX-CONNECT:" + server.path};
  struct Row {
    const char* name;
    double best = 0;
  };
  Row rows[] = {
      {"direct socket (ceiling)"},      {"fd pass, then direct"},
      {"relay  socket -> stdout"},      {"socat  socket -> stdout"},
      {"relay  stdin -> socket"},       {"socat  stdin -> socket"},
      {"relay  socket -> stdout sock"}, {"socat  socket -> stdout sock"}};
  constexpr size_t kRows = sizeof(rows) / sizeof(rows[0]);
  bool failed = false;
  for (int r = 0; r < rounds; ++r) {
    const double t[kRows] = {Direct(server),
                             FdPass(server, proxy),
                             Download(server, relay),
                             Download(server, socat_args),
                             Upload(server, relay),
                             Upload(server, socat_args),
                             Download(server, relay, /*socket_out=*/true),
                             Download(server, socat_args, /*socket_out=*/true)};
    for (size_t i = 0; i < kRows; ++i) {
      if (t[i] == 0) failed = true;
      if (t[i] > 0 && (rows[i].best == 0 || t[i] < rows[i].best))
        rows[i].best = t[i];
    }
  }
  server.Stop();
  rmdir(dir.c_str());

  auto rate = [&](const Row& row) {
    return row.best > 0 ? static_cast<double>(mib) / 1024.0 / row.best : 0.0;
  };
  std::printf("%zu MiB each, best of %d (GiB/s)\n", mib, rounds);
  for (const Row& row : rows)
    std::printf("  %-26s %6.2f\n", row.name, rate(row));
  const double down = rate(rows[2]) / rate(rows[3]);
  const double up = rate(rows[4]) / rate(rows[5]);
  const double down_sock = rate(rows[6]) / rate(rows[7]);
  const double pass = rate(rows[1]) / rate(rows[0]);
  std::printf(
      "relay / socat: %.2fx down, %.2fx up, %.2fx down to a socket stdout; "
      "fd pass / direct: %.2fx\n",
      down, up, down_sock, pass);
  if (failed) {
    std::printf("FAILED: a transfer lost bytes or a tool failed\n");
    return 1;
  }
  if (down < 1.0 || up < 1.0 || down_sock < 1.0) {
    std::printf("FAILED: the relay is slower than socat\n");
    return 1;
  }
  return 0;
}
