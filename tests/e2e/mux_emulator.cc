// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// mux_emulator: a Firecracker-compatible vsock multiplexer ("vsock-mux") on an
// AF_UNIX socket, for end-to-end tests of ssh-proxy. A client connects, sends
// `CONNECT <port>\n`, gets a reply chosen by --scenario and (for the scenarios
// that accept) is bridged to the UNIX socket of the "guest" service registered
// for that port with --backend.
//
//   mux_emulator --listen=PATH [--scenario=NAME] [--backend=PORT:PATH ...]
//   [--log=FILE]
//                [--ready=FILE] [--lifetime=SECONDS]
//
// Scenarios (see kUsage). The command is read like a VMM reads it: at most 32
// bytes up to '\n'; verb CONNECT in any case, one space, decimal port. A
// malformed command, or a port without a backend, closes the connection without
// a reply, as Firecracker does when nothing listens. Every received command
// (exact bytes, C-escaped) is appended to --log as one line before the reply is
// sent.

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <map>
#include <new>
#include <string>

#include "tests/e2e/daemon_util.h"

namespace {

constexpr char kUsage[] =
    "usage: mux_emulator --listen=PATH [--scenario=NAME] "
    "[--backend=PORT:PATH]...\n"
    "                    [--log=FILE] [--ready=FILE] [--lifetime=SECONDS]\n"
    "scenarios:\n"
    "  firecracker  OK <n>\\n (n from 1073741824 up) in one write with the "
    "guest's banner\n"
    "  echo         OK <guest port>\\n, then bridge (vhost-device-vsock)\n"
    "  trickle      OK <guest port>\\n one byte per write, 20 ms apart, then "
    "bridge\n"
    "  close        close without a reply\n"
    "  reset        close with unread data and SO_LINGER 0 (ECONNRESET)\n"
    "  garbage      HELLO\\n, then close\n"
    "  midclose     OK 10 (no newline), then close\n"
    "  overlong     OK 123456789012345\\n, then wait for the client to close\n"
    "  badport      OK 01\\n, then wait for the client to close\n"
    "  silent       no reply; wait for the client to close\n";

constexpr size_t kMaxCommand = 32;  // Firecracker and cloud-hypervisor cap.
constexpr int kCommandTimeoutMs = 5000;
constexpr int kBannerWaitMs = 2000;
constexpr uint32_t kFirstHostPort = 1u << 30;

struct Config {
  std::string listen;
  std::string scenario = "firecracker";
  std::map<uint32_t, std::string> backends;
  std::string log;
  std::string ready;
  int lifetime_s = 600;
};

Config g_config;
// The next host port of the firecracker scenario, shared by all connection
// processes.
std::atomic<uint32_t>* g_next_port = nullptr;

bool KnownScenario(const std::string& s) {
  for (const char* name :
       {"firecracker", "echo", "trickle", "close", "reset", "garbage",
        "midclose", "overlong", "badport", "silent"}) {
    if (s == name) return true;
  }
  return false;
}

void AppendLog(const std::string& command) {
  if (g_config.log.empty()) return;
  int fd = open(g_config.log.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
                0644);
  if (fd < 0) {
    e2e::Log("open " + g_config.log + ": " + strerror(errno));
    return;
  }
  std::string line = e2e::CEscape(command) + "\n";
  ssize_t ignored = write(fd, line.data(), line.size());
  (void)ignored;
  close(fd);
}

void SleepMs(int ms) {
  timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

// ReadCommand reads the command without ever reading past its '\n': it peeks
// until a '\n' is seen, 32 bytes are buffered, the peer stops sending or the
// time is up; then (unless `consume` is false) consumes exactly the bytes of
// the command. Returns the bytes (possibly partial).
std::string ReadCommand(int fd, bool consume, int64_t deadline_ms) {
  const int64_t deadline =
      std::min(deadline_ms, e2e::MonotonicMs() + kCommandTimeoutMs);
  char buf[kMaxCommand];
  size_t have = 0;
  size_t want = 0;
  for (;;) {
    pollfd pfd = {fd, POLLIN | POLLRDHUP, 0};
    int rc = poll(&pfd, 1, e2e::RemainingMs(deadline));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) break;
    ssize_t n = recv(fd, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) break;  // EOF or error: whatever was peeked is the command.
    have = static_cast<size_t>(n);
    const void* nl = memchr(buf, '\n', have);
    if (nl != nullptr) {
      want = static_cast<size_t>(static_cast<const char*>(nl) - buf) + 1;
      break;
    }
    if (have == sizeof(buf)) break;
    // The peer shut down its side: nothing more will come.
    if (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR)) break;
    // Partial command: data is pending, so poll would return at once; wait for
    // more.
    SleepMs(5);
  }
  if (want == 0) want = have;
  if (consume && want > 0) {
    size_t got = 0;
    while (got < want) {
      ssize_t n = recv(fd, buf + got, want - got, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    want = got;
  }
  return std::string(buf, want);
}

// ParseCommand accepts "CONNECT <port>\n" with the verb in any case and a
// decimal port.
bool ParseCommand(const std::string& cmd, uint32_t* port) {
  static const char kVerb[] = "connect ";
  const size_t verb_len = sizeof(kVerb) - 1;
  if (cmd.size() < verb_len + 2 || cmd.back() != '\n') return false;
  if (strncasecmp(cmd.data(), kVerb, verb_len) != 0) return false;
  return e2e::ParseDecimalU32(cmd.substr(verb_len, cmd.size() - verb_len - 1),
                              port);
}

// WaitForClientClose reads and discards from `fd` until EOF, an error or the
// deadline.
void WaitForClientClose(int fd, int64_t deadline_ms) {
  char buf[4096];
  for (;;) {
    pollfd pfd = {fd, POLLIN, 0};
    int rc = poll(&pfd, 1, e2e::RemainingMs(deadline_ms));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) return;
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
  }
}

// ReadBanner reads from the backend until the first '\n', EOF, 4 KiB or 2 s.
std::string ReadBanner(int fd, bool* eof, int64_t deadline_ms) {
  const int64_t deadline =
      std::min(deadline_ms, e2e::MonotonicMs() + kBannerWaitMs);
  std::string banner;
  *eof = false;
  while (banner.find('\n') == std::string::npos && banner.size() < 4096) {
    pollfd pfd = {fd, POLLIN, 0};
    int rc = poll(&pfd, 1, e2e::RemainingMs(deadline));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) break;
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof(buf) - banner.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      *eof = true;
      break;
    }
    banner.append(buf, static_cast<size_t>(n));
  }
  return banner;
}

// Bridge copies bytes both ways between `a` and `b` until both directions have
// ended. When one side ends (EOF), the pending bytes are flushed and the other
// side gets shutdown(SHUT_WR). A read or write error on a side ends both
// directions, and so does the deadline. `b_eof_already` says b has already
// reached EOF (the banner read saw it).
void Bridge(int a, int b, bool b_eof_already, int64_t deadline_ms) {
  fcntl(a, F_SETFL, fcntl(a, F_GETFL) | O_NONBLOCK);
  fcntl(b, F_SETFL, fcntl(b, F_GETFL) | O_NONBLOCK);
  struct Direction {
    int from, to;
    std::string buf;
    size_t off = 0;
    bool eof = false;   // `from` reached EOF.
    bool done = false;  // EOF seen, buffer flushed and `to` shut down.
  };
  Direction dirs[2];
  dirs[0].from = a;
  dirs[0].to = b;
  dirs[1].from = b;
  dirs[1].to = a;
  dirs[1].eof = b_eof_already;
  bool failed = false;
  while (!failed && !(dirs[0].done && dirs[1].done)) {
    for (Direction& d : dirs) {
      if (!d.done && d.eof && d.off == d.buf.size()) {
        shutdown(d.to, SHUT_WR);
        d.done = true;
      }
    }
    if (dirs[0].done && dirs[1].done) break;
    pollfd pfds[2] = {{a, 0, 0}, {b, 0, 0}};
    for (Direction& d : dirs) {
      pollfd& from = d.from == a ? pfds[0] : pfds[1];
      pollfd& to = d.to == a ? pfds[0] : pfds[1];
      if (d.done) continue;
      if (d.off < d.buf.size()) {
        to.events |= POLLOUT;
      } else if (!d.eof) {
        from.events |= POLLIN;
      }
    }
    int rc = poll(pfds, 2, e2e::RemainingMs(deadline_ms));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) break;  // Lifetime over (or poll failed): give up.
    for (Direction& d : dirs) {
      if (d.done) continue;
      const pollfd& from = d.from == a ? pfds[0] : pfds[1];
      const pollfd& to = d.to == a ? pfds[0] : pfds[1];
      if (d.off < d.buf.size() &&
          (to.revents & (POLLOUT | POLLERR | POLLHUP))) {
        ssize_t n = send(d.to, d.buf.data() + d.off, d.buf.size() - d.off,
                         MSG_NOSIGNAL);
        if (n > 0) {
          d.off += static_cast<size_t>(n);
          if (d.off == d.buf.size()) {
            d.buf.clear();
            d.off = 0;
          }
        } else if (n < 0 && errno != EINTR && errno != EAGAIN) {
          failed = true;  // EPIPE/ECONNRESET: the receiver is gone.
        }
      } else if (d.off == d.buf.size() && !d.eof &&
                 (from.revents & (POLLIN | POLLERR | POLLHUP))) {
        char tmp[65536];
        ssize_t n = read(d.from, tmp, sizeof(tmp));
        if (n > 0) {
          d.buf.assign(tmp, static_cast<size_t>(n));
          d.off = 0;
        } else if (n == 0) {
          d.eof = true;
        } else if (errno != EINTR && errno != EAGAIN) {
          failed = true;
        }
      }
    }
  }
}

int Serve(int conn, int64_t deadline_ms) {
  const std::string& s = g_config.scenario;
  // For "reset" the command stays unread: closing a UNIX socket with unread
  // data is what makes the peer's next read fail with ECONNRESET (AF_UNIX has
  // no RST; SO_LINGER 0 is kept for form).
  const bool reset = s == "reset";
  std::string cmd = ReadCommand(conn, !reset, deadline_ms);
  AppendLog(cmd);
  uint32_t port = 0;
  if (!ParseCommand(cmd, &port)) return 0;  // Malformed: close, no reply.

  if (s == "close") return 0;
  if (reset) {
    linger l = {1, 0};
    setsockopt(conn, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
    close(conn);
    return 0;
  }
  const int64_t reply_deadline =
      std::min(deadline_ms, e2e::MonotonicMs() + 5000);
  auto reply_and = [&](const std::string& reply, bool wait) {
    e2e::WriteAll(conn, reply.data(), reply.size(), reply_deadline);
    if (wait) WaitForClientClose(conn, deadline_ms);
    return 0;
  };
  if (s == "garbage") return reply_and("HELLO\n", false);
  if (s == "midclose") return reply_and("OK 10", false);
  if (s == "overlong") return reply_and("OK 123456789012345\n", true);
  if (s == "badport") return reply_and("OK 01\n", true);
  if (s == "silent") {
    WaitForClientClose(conn, deadline_ms);
    return 0;
  }

  // firecracker, echo, trickle: need a guest service on that port.
  auto it = g_config.backends.find(port);
  if (it == g_config.backends.end()) return 0;  // Nothing listening.
  int backend = e2e::ConnectUnix(it->second);
  if (backend < 0) {
    e2e::Log("connect backend " + it->second + ": " + strerror(errno));
    return 0;
  }
  bool backend_eof = false;
  if (s == "firecracker") {
    std::string banner = ReadBanner(backend, &backend_eof, deadline_ms);
    uint32_t host_port = g_next_port->fetch_add(1);
    std::string out = "OK " + std::to_string(host_port) + "\n" + banner;
    if (!e2e::WriteAll(conn, out.data(), out.size(), reply_deadline)) return 1;
  } else if (s == "echo") {
    std::string out = "OK " + std::to_string(port) + "\n";
    if (!e2e::WriteAll(conn, out.data(), out.size(), reply_deadline)) return 1;
  } else {  // trickle
    std::string out = "OK " + std::to_string(port) + "\n";
    for (size_t i = 0; i < out.size(); ++i) {
      if (i > 0) SleepMs(20);
      if (!e2e::WriteAll(conn, &out[i], 1, reply_deadline)) return 1;
    }
  }
  Bridge(conn, backend, backend_eof, deadline_ms);
  close(backend);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  e2e::SetProgramName(argv[0]);
  for (int i = 1; i < argc; ++i) {
    std::string v;
    if (e2e::ParseFlag(argv[i], "listen", &v)) {
      g_config.listen = v;
    } else if (e2e::ParseFlag(argv[i], "scenario", &v)) {
      if (!KnownScenario(v)) e2e::UsageError(kUsage, "unknown scenario: " + v);
      g_config.scenario = v;
    } else if (e2e::ParseFlag(argv[i], "backend", &v)) {
      size_t colon = v.find(':');
      uint32_t port;
      if (colon == std::string::npos ||
          !e2e::ParseDecimalU32(v.substr(0, colon), &port) ||
          colon + 1 == v.size()) {
        e2e::UsageError(kUsage, "bad --backend (want PORT:PATH): " + v);
      }
      g_config.backends[port] = v.substr(colon + 1);
    } else if (e2e::ParseFlag(argv[i], "log", &v)) {
      g_config.log = v;
    } else if (e2e::ParseFlag(argv[i], "ready", &v)) {
      g_config.ready = v;
    } else if (e2e::ParseFlag(argv[i], "lifetime", &v)) {
      if (!e2e::ParseSeconds(v, &g_config.lifetime_s)) {
        e2e::UsageError(kUsage, "bad --lifetime: " + v);
      }
    } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      fputs(kUsage, stdout);
      return 0;
    } else {
      e2e::UsageError(kUsage, std::string("unknown argument: ") + argv[i]);
    }
  }
  if (g_config.listen.empty())
    e2e::UsageError(kUsage, "--listen=PATH is required");

  void* shared =
      mmap(nullptr, sizeof(std::atomic<uint32_t>), PROT_READ | PROT_WRITE,
           MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (shared == MAP_FAILED) e2e::Die(std::string("mmap: ") + strerror(errno));
  g_next_port = new (shared) std::atomic<uint32_t>(kFirstHostPort);

  std::string error;
  int listen_fd = e2e::ListenUnix(g_config.listen, &error);
  if (listen_fd < 0) e2e::Die(error);
  if (!g_config.ready.empty()) e2e::WriteReadyFile(g_config.ready);
  return e2e::RunAcceptLoop(listen_fd, g_config.listen, g_config.lifetime_s,
                            Serve);
}
