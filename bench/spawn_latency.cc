// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// spawn_latency: how long ssh waits for ssh-proxy. For each run it does what
// ssh does: makes a socketpair, spawns `ssh-proxy HOST PORT` with one end as
// stdin and stdout, receives the fd (spawn -> fd received), and waits for the
// exit (spawn -> exit). The same is measured for /bin/true (spawn -> exit) as
// the floor that no program can beat.
//
// Targets are served in this process, on threads, so their own time stays out
// of the figure as far as possible: a UNIX listener that accepts, and a
// multiplexer that answers "OK 1073741824\n" at once. With --mux-emulator=PATH
// the test tree's Firecracker-compatible emulator (tests/e2e/mux_emulator,
// echo scenario, guest port 22 bridged to the UNIX listener) is measured too;
// its own reply time (connect, CONNECT, OK: measured directly, in the same
// run) is then subtracted from the proxy's figure.
//
// machine/vm is measured too, resolved by a scripted systemd-machined (one
// fixed reply naming the UNIX listener as the machine's sshAddress,
// tests/testing/scripted_machined.h) that this process and its children see
// at machined's system path, in a private mount namespace with its own /run
// (needs CAP_SYS_ADMIN; without it the machine/ rows are skipped, saying so).
//
// With --proxy-unconfined=PATH (bench:ssh-proxy-unconfined, the same binary
// with confinement compiled out), unix/, vsock-mux/ and machine/ are measured
// through it too, and the cost of confinement is printed: the difference of
// the medians, in microseconds, as a ratio to the unconfined median and as a
// share of the floor. Each --compare=LABEL=PATH (repeatable) adds another
// build, measured the same way in the same run (e.g. an earlier commit's
// binary: before and after in one interleaved run).
//
// Every case runs once per round, in a new (seeded) order each round: drift
// in the machine's load hits all alike, and no case always follows the same
// one (a fixed order showed up to 20 us of bias between two slots holding the
// same binary on a loaded machine).
//
// Usage: spawn_latency [--runs=N] [--proxy=PATH] [--proxy-unconfined=PATH]
//                      [--compare=LABEL=PATH]... [--mux-emulator=PATH]
//        (default 2000 runs, ./ssh-proxy, no baseline, no emulator)

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/testing/fd_passing.h"
#include "tests/testing/scripted_machined.h"
#include "tests/testing/unix_socket.h"

extern char** environ;

namespace {

double NowUs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

int Listen(const std::string& path) {
  const int fd = ssh_proxy::BindUnix(path, 128);
  if (fd < 0) {
    std::perror("bind/listen");
    std::exit(1);
  }
  return fd;
}

// Serve accepts until `stop`; with `mux`, answers each CONNECT line with
// Firecracker's reply.
void Serve(int listener, bool mux, const std::atomic<bool>* stop) {
  while (!stop->load()) {
    struct pollfd pfd = {listener, POLLIN, 0};
    if (poll(&pfd, 1, 100) <= 0) continue;
    const int conn = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0) continue;
    if (mux) {
      char c;
      while (recv(conn, &c, 1, 0) == 1 && c != '\n') {
      }
      static const char kReply[] = "OK 1073741824\n";
      send(conn, kReply, sizeof(kReply) - 1, MSG_NOSIGNAL);
    }
    close(conn);
  }
}

struct Sample {
  double fd_us = 0;
  double exit_us = 0;
  bool ok = false;
};

// RunOnce spawns argv with a socketpair end on fds 0 and 1 and measures it.
Sample RunOnce(const std::vector<const char*>& argv, bool expect_fd) {
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
    std::perror("socketpair");
    std::exit(1);
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pair[1], 0);
  posix_spawn_file_actions_adddup2(&actions, pair[1], 1);
  Sample s;
  const double start = NowUs();
  pid_t pid;
  if (posix_spawn(&pid, argv[0], &actions, nullptr,
                  const_cast<char* const*>(argv.data()), environ) != 0) {
    std::perror("posix_spawn");
    std::exit(1);
  }
  posix_spawn_file_actions_destroy(&actions);
  close(pair[1]);
  if (expect_fd) {
    const ssh_proxy::testing::Received r = ssh_proxy::testing::ReceiveFd(
        pair[0], true, ssh_proxy::testing::Room::kAsSsh);
    s.fd_us = NowUs() - start;
    if (r.fd >= 0) close(r.fd);
    s.ok = r.n == 1 && r.fd >= 0;
  }
  int status = 0;
  waitpid(pid, &status, 0);
  s.exit_us = NowUs() - start;
  if (!expect_fd) s.ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  if (expect_fd && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
    s.ok = false;
  close(pair[0]);
  return s;
}

// StartEmulator runs the mux emulator on `listen` (echo scenario, guest port 22
// -> `backend`) and waits (at most 10 s) until it is ready. Returns its pid.
pid_t StartEmulator(const std::string& emulator, const std::string& listen,
                    const std::string& backend, const std::string& ready) {
  const std::string a1 = "--listen=" + listen;
  const std::string a2 = "--backend=22:" + backend;
  const std::string a3 = "--ready=" + ready;
  const char* argv[] = {emulator.c_str(), a1.c_str(), "--scenario=echo",
                        a2.c_str(),       a3.c_str(), "--lifetime=600",
                        nullptr};
  pid_t pid;
  if (posix_spawn(&pid, argv[0], nullptr, nullptr,
                  const_cast<char* const*>(argv), environ) != 0) {
    std::perror("posix_spawn mux_emulator");
    std::exit(1);
  }
  struct stat st;
  for (int i = 0; i < 1000 && stat(ready.c_str(), &st) != 0; ++i) usleep(10000);
  if (stat(ready.c_str(), &st) != 0) {
    std::fprintf(stderr, "mux_emulator did not get ready\n");
    kill(pid, SIGTERM);
    std::exit(1);
  }
  return pid;
}

// HandshakeUs measures the emulator alone: connect, "CONNECT 22\n", read
// through "\n". Returns -1 if it did not reply.
double HandshakeUs(const std::string& path) {
  const double start = NowUs();
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path.c_str());
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  static const char kCommand[] = "CONNECT 22\n";
  send(fd, kCommand, sizeof(kCommand) - 1, MSG_NOSIGNAL);
  char c = 0;
  while (recv(fd, &c, 1, 0) == 1 && c != '\n') {
  }
  const double us = NowUs() - start;
  close(fd);
  return c == '\n' ? us : -1;
}

struct Stats {
  double median = 0;
  double p90 = 0;
};

Stats Summarize(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return Stats{v[v.size() / 2], v[v.size() * 9 / 10]};
}

// One thing spawned each round, and what it measured.
struct Case {
  std::string name;   // "unix/", "vsock-mux/", "machine/", "mux_emulator".
  std::string build;  // "" for --proxy, "unconfined", or a --compare label.
  std::vector<const char*> argv;
  bool floor = false;     // /bin/true: spawn -> exit, no fd.
  bool emulator = false;  // Its handshake is measured alone first.
  std::vector<double> fd_us, exit_us, reply_us;
};

}  // namespace

int main(int argc, char** argv) {
  int runs = 2000;
  std::string proxy = "./ssh-proxy";
  std::string emulator;
  std::string unconfined;
  std::vector<std::pair<std::string, std::string>> compare;  // label, path
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--runs=", 0) == 0)
      runs = std::max(10, std::atoi(a.c_str() + 7));
    if (a.rfind("--proxy=", 0) == 0) proxy = a.substr(8);
    if (a.rfind("--mux-emulator=", 0) == 0) emulator = a.substr(15);
    if (a.rfind("--proxy-unconfined=", 0) == 0) unconfined = a.substr(19);
    if (a.rfind("--compare=", 0) == 0) {
      const std::string spec = a.substr(10);
      const size_t eq = spec.find('=');
      if (eq == std::string::npos || eq == 0) {
        std::fprintf(stderr, "--compare wants LABEL=PATH\n");
        return 2;
      }
      compare.emplace_back(spec.substr(0, eq), spec.substr(eq + 1));
    }
  }
  char dir_template[] = "/tmp/ssh-proxy-bench-XXXXXX";
  const std::string dir = mkdtemp(dir_template);
  const std::string unix_path = dir + "/unix.sock";
  const std::string mux_path = dir + "/mux.sock";
  // Before any thread starts: a new mount namespace needs a single thread.
  const std::string machined_path = dir + "/machined.sock";
  std::string no_machine;
  const bool machine = ssh_proxy::testing::ShowAsSystemMachined(
      machined_path.c_str(), &no_machine);
  if (!machine) {
    std::printf(
        "SKIP machine/: no private /run for the scripted machined: %s\n",
        no_machine.c_str());
  }
  const int unix_listener = Listen(unix_path);
  const int mux_listener = Listen(mux_path);
  std::atomic<bool> stop{false};
  std::thread unix_server(Serve, unix_listener, false, &stop);
  std::thread mux_server(Serve, mux_listener, true, &stop);
  std::unique_ptr<ssh_proxy::testing::ScriptedMachined> machined;
  if (machine) {
    machined = std::make_unique<ssh_proxy::testing::ScriptedMachined>(
        machined_path,
        ssh_proxy::testing::MachineReply("vm", "unix" + unix_path));
  }
  const std::string emu_path = dir + "/emu.sock";
  const std::string emu_ready = dir + "/emu.ready";
  const pid_t emu_pid = emulator.empty() ? -1
                                         : StartEmulator(emulator, emu_path,
                                                         unix_path, emu_ready);
  const std::string emu_host = "vsock-mux" + emu_path;
  const std::string unix_host = "unix" + unix_path;
  const std::string mux_host = "vsock-mux" + mux_path;

  // Every build measured: --proxy, then the baseline, then --compare's.
  std::vector<std::pair<std::string, std::string>> builds = {{"", proxy}};
  if (!unconfined.empty()) builds.emplace_back("unconfined", unconfined);
  builds.insert(builds.end(), compare.begin(), compare.end());
  std::vector<Case> cases;
  {
    Case floor;
    floor.name = "/bin/true";
    floor.argv = {"/bin/true", nullptr};
    floor.floor = true;
    cases.push_back(floor);
  }
  for (const auto& [label, path] : builds) {
    const struct {
      const char* name;
      const std::string* host;
      bool wanted;
    } kinds[] = {{"unix/", &unix_host, true},
                 {"vsock-mux/", &mux_host, true},
                 {"machine/", nullptr, machine}};
    for (const auto& kind : kinds) {
      if (!kind.wanted) continue;
      Case c;
      c.name = kind.name;
      c.build = label;
      c.argv = {path.c_str(),
                kind.host != nullptr ? kind.host->c_str() : "machine/vm", "22",
                nullptr};
      cases.push_back(c);
    }
  }
  if (emu_pid > 0) {
    Case c;
    c.name = "mux_emulator";
    c.argv = {proxy.c_str(), emu_host.c_str(), "22", nullptr};
    c.emulator = true;
    cases.push_back(c);
  }

  double load_start[3] = {0, 0, 0};
  getloadavg(load_start, 3);
  int failures = 0;
  // Interleaved, so that drift in the machine's load hits every case alike,
  // and in a new order each round (a fixed seed: runs are repeatable), so
  // that no case always follows the same one. The first 20 rounds warm the
  // page cache and are not counted.
  std::mt19937 shuffle(12345);
  std::vector<size_t> order(cases.size());
  for (size_t k = 0; k < order.size(); ++k) order[k] = k;
  for (int i = 0; i < runs + 20; ++i) {
    std::shuffle(order.begin(), order.end(), shuffle);
    for (size_t k : order) {
      Case& c = cases[k];
      const double reply = c.emulator ? HandshakeUs(emu_path) : 0;
      const Sample s = RunOnce(c.argv, !c.floor);
      if (!s.ok || reply < 0) ++failures;
      if (i < 20) continue;
      c.fd_us.push_back(s.fd_us);
      c.exit_us.push_back(s.exit_us);
      c.reply_us.push_back(reply);
    }
  }
  double load_end[3] = {0, 0, 0};
  getloadavg(load_end, 3);
  if (emu_pid > 0) {
    kill(emu_pid, SIGTERM);
    waitpid(emu_pid, nullptr, 0);
    unlink(emu_ready.c_str());
  }
  machined.reset();
  stop = true;
  unix_server.join();
  mux_server.join();
  close(unix_listener);
  close(mux_listener);
  unlink(unix_path.c_str());
  unlink(mux_path.c_str());
  rmdir(dir.c_str());

  auto find = [&](const std::string& name, const std::string& build) {
    for (const Case& c : cases) {
      if (c.name == name && c.build == build) return &c;
    }
    return static_cast<const Case*>(nullptr);
  };
  const Stats f = Summarize(cases[0].exit_us);
  std::printf(
      "spawn latency over %d interleaved runs each, in a new order each round "
      "(microseconds); load average (1 min) %.2f at start, %.2f at the end\n",
      runs, load_start[0], load_end[0]);
  std::printf("%-28s %9s %9s %8s\n", "", "median", "p90", "ratio");
  std::printf("%-28s %9.0f %9.0f %8s\n", "/bin/true spawn->exit", f.median,
              f.p90, "1.00");
  for (const char* name : {"unix/", "vsock-mux/", "machine/"}) {
    const Case* c = find(name, "");
    if (c == nullptr) continue;
    for (int exit = 0; exit < 2; ++exit) {
      const Stats s = Summarize(exit ? c->exit_us : c->fd_us);
      const std::string row =
          std::string(name) + (exit ? " spawn->exit" : " spawn->fd");
      std::printf("%-28s %9.0f %9.0f %8.2f\n", row.c_str(), s.median, s.p90,
                  s.median / f.median);
    }
  }
  // Each other build's spawn->fd; then, with a baseline, what --proxy and each
  // --compare build cost over it.
  for (size_t b = 1; b < builds.size(); ++b) {
    const std::string& label = builds[b].first;
    for (const char* name : {"unix/", "vsock-mux/", "machine/"}) {
      const Case* c = find(name, label);
      if (c == nullptr) continue;
      const Stats s = Summarize(c->fd_us);
      const std::string row = std::string(name) + " spawn->fd " + label;
      std::printf("%-28s %9.0f %9.0f %8.2f\n", row.c_str(), s.median, s.p90,
                  s.median / f.median);
    }
  }
  if (!unconfined.empty()) {
    for (size_t b = 0; b < builds.size(); ++b) {
      if (builds[b].first == "unconfined") continue;
      const std::string& label = builds[b].first;
      for (const char* name : {"unix/", "vsock-mux/", "machine/"}) {
        const Case* confined = find(name, label);
        const Case* bare = find(name, "unconfined");
        if (confined == nullptr || bare == nullptr) continue;
        const Stats cs = Summarize(confined->fd_us);
        const Stats bs = Summarize(bare->fd_us);
        const double cost = cs.median - bs.median;
        std::printf(
            "  %-10s %sconfinement costs %.1f us: %.3fx the unconfined "
            "median, %.1f%% of the floor\n",
            name, label.empty() ? "" : (label + ": ").c_str(), cost,
            cs.median / bs.median, 100.0 * cost / f.median);
      }
    }
  }
  if (emu_pid > 0) {
    const Case& e = cases.back();
    const Stats reply = Summarize(e.reply_us);
    const Stats fd = Summarize(e.fd_us);
    const Stats ex = Summarize(e.exit_us);
    std::printf("%-28s %9.0f %9.0f %8s\n", "emulator's own reply", reply.median,
                reply.p90, "");
    std::printf("%-28s %9.0f %9.0f %8.2f\n", "mux_emulator spawn->fd",
                fd.median, fd.p90, fd.median / f.median);
    std::printf("%-28s %9.0f %9s %8.2f\n", "  less the emulator's reply",
                fd.median - reply.median, "",
                (fd.median - reply.median) / f.median);
    std::printf("%-28s %9.0f %9.0f %8.2f\n", "mux_emulator spawn->exit",
                ex.median, ex.p90, ex.median / f.median);
  }
  if (failures != 0) {
    std::printf("FAILED: %d runs did not hand over an fd and exit 0\n",
                failures);
    return 1;
  }
  return 0;
}
