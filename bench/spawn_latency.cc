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
// through it too, interleaved with the rest, and the cost of confinement is
// printed: the difference of the medians, in microseconds, as a ratio to the
// unconfined median and as a share of the floor. (Any two builds can be
// compared this way: --proxy=A --proxy-unconfined=B prints A's cost over B.)
//
// Usage: spawn_latency [--runs=N] [--proxy=PATH] [--proxy-unconfined=PATH]
//                      [--mux-emulator=PATH]
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
#include <string>
#include <thread>
#include <vector>

#include "tests/testing/scripted_machined.h"

extern char** environ;

namespace {

double NowUs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

int Listen(const std::string& path) {
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path.c_str());
  unlink(path.c_str());
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(fd, 128) != 0) {
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
    char byte;
    struct iovec iov = {&byte, 1};
    union {
      struct cmsghdr align;
      char buf[CMSG_SPACE(sizeof(int))];
    } control;
    struct msghdr msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.buf;
    msg.msg_controllen = sizeof(control.buf);
    const ssize_t n = recvmsg(pair[0], &msg, MSG_CMSG_CLOEXEC);
    s.fd_us = NowUs() - start;
    struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
    if (n == 1 && c != nullptr && c->cmsg_type == SCM_RIGHTS) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c), sizeof(fd));
      close(fd);
      s.ok = true;
    }
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

}  // namespace

int main(int argc, char** argv) {
  int runs = 2000;
  std::string proxy = "./ssh-proxy";
  std::string emulator;
  std::string unconfined;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--runs=", 0) == 0)
      runs = std::max(10, std::atoi(a.c_str() + 7));
    if (a.rfind("--proxy=", 0) == 0) proxy = a.substr(8);
    if (a.rfind("--mux-emulator=", 0) == 0) emulator = a.substr(15);
    if (a.rfind("--proxy-unconfined=", 0) == 0) unconfined = a.substr(19);
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
  const std::vector<const char*> emu_argv = {proxy.c_str(), emu_host.c_str(),
                                             "22", nullptr};
  std::vector<double> emu_fd, emu_exit, emu_reply;

  const std::string unix_host = "unix" + unix_path;
  const std::string mux_host = "vsock-mux" + mux_path;
  const std::vector<const char*> true_argv = {"/bin/true", nullptr};
  const std::vector<const char*> unix_argv = {proxy.c_str(), unix_host.c_str(),
                                              "22", nullptr};
  const std::vector<const char*> mux_argv = {proxy.c_str(), mux_host.c_str(),
                                             "22", nullptr};

  const std::vector<const char*> unix_bare_argv = {
      unconfined.c_str(), unix_host.c_str(), "22", nullptr};
  const std::vector<const char*> mux_bare_argv = {
      unconfined.c_str(), mux_host.c_str(), "22", nullptr};
  const std::vector<const char*> machine_argv = {proxy.c_str(), "machine/vm",
                                                 "22", nullptr};
  const std::vector<const char*> machine_bare_argv = {
      unconfined.c_str(), "machine/vm", "22", nullptr};
  std::vector<double> floor_us, unix_fd, unix_exit, mux_fd, mux_exit;
  std::vector<double> unix_bare_fd, mux_bare_fd, machine_fd, machine_exit,
      machine_bare_fd;
  double load_start[3] = {0, 0, 0};
  getloadavg(load_start, 3);
  int failures = 0;
  // Interleaved, so that drift in the machine's load hits all three alike. The
  // first few runs warm the page cache and are not counted.
  for (int i = 0; i < runs + 20; ++i) {
    const Sample t = RunOnce(true_argv, false);
    const Sample u = RunOnce(unix_argv, true);
    const Sample m = RunOnce(mux_argv, true);
    if (!t.ok || !u.ok || !m.ok) ++failures;
    if (!unconfined.empty()) {
      const Sample ub = RunOnce(unix_bare_argv, true);
      const Sample mb = RunOnce(mux_bare_argv, true);
      if (!ub.ok || !mb.ok) ++failures;
      if (i >= 20) {
        unix_bare_fd.push_back(ub.fd_us);
        mux_bare_fd.push_back(mb.fd_us);
      }
    }
    if (machine) {
      const Sample ma = RunOnce(machine_argv, true);
      if (!ma.ok) ++failures;
      if (i >= 20) {
        machine_fd.push_back(ma.fd_us);
        machine_exit.push_back(ma.exit_us);
      }
      if (!unconfined.empty()) {
        const Sample mab = RunOnce(machine_bare_argv, true);
        if (!mab.ok) ++failures;
        if (i >= 20) machine_bare_fd.push_back(mab.fd_us);
      }
    }
    if (emu_pid > 0) {
      const double reply = HandshakeUs(emu_path);
      const Sample e = RunOnce(emu_argv, true);
      if (reply < 0 || !e.ok) ++failures;
      if (i >= 20) {
        emu_reply.push_back(reply);
        emu_fd.push_back(e.fd_us);
        emu_exit.push_back(e.exit_us);
      }
    }
    if (i < 20) continue;
    floor_us.push_back(t.exit_us);
    unix_fd.push_back(u.fd_us);
    unix_exit.push_back(u.exit_us);
    mux_fd.push_back(m.fd_us);
    mux_exit.push_back(m.exit_us);
  }
  if (emu_pid > 0) {
    kill(emu_pid, SIGTERM);
    waitpid(emu_pid, nullptr, 0);
    unlink(emu_ready.c_str());
  }
  double load_end[3] = {0, 0, 0};
  getloadavg(load_end, 3);
  machined.reset();
  stop = true;
  unix_server.join();
  mux_server.join();
  close(unix_listener);
  close(mux_listener);
  unlink(unix_path.c_str());
  unlink(mux_path.c_str());
  rmdir(dir.c_str());

  const Stats f = Summarize(floor_us);
  std::printf(
      "spawn latency over %d interleaved runs each (microseconds); load "
      "average (1 min) %.2f at start, %.2f at the end\n",
      runs, load_start[0], load_end[0]);
  std::printf("%-28s %9s %9s %8s\n", "", "median", "p90", "ratio");
  std::printf("%-28s %9.0f %9.0f %8s\n", "/bin/true spawn->exit", f.median,
              f.p90, "1.00");
  const struct {
    const char* name;
    const std::vector<double>* v;
  } rows[] = {{"unix/ spawn->fd", &unix_fd},
              {"unix/ spawn->exit", &unix_exit},
              {"vsock-mux/ spawn->fd", &mux_fd},
              {"vsock-mux/ spawn->exit", &mux_exit},
              {"machine/ spawn->fd", &machine_fd},
              {"machine/ spawn->exit", &machine_exit}};
  for (const auto& row : rows) {
    if (row.v->empty()) continue;
    const Stats s = Summarize(*row.v);
    std::printf("%-28s %9.0f %9.0f %8.2f\n", row.name, s.median, s.p90,
                s.median / f.median);
  }
  if (!unconfined.empty()) {
    const struct {
      const char* name;
      const std::vector<double>* bare;
      const std::vector<double>* confined;
    } pairs[] = {{"unix/", &unix_bare_fd, &unix_fd},
                 {"vsock-mux/", &mux_bare_fd, &mux_fd},
                 {"machine/", &machine_bare_fd, &machine_fd}};
    for (const auto& p : pairs) {
      if (p.bare->empty()) continue;
      const Stats bare = Summarize(*p.bare);
      const Stats confined = Summarize(*p.confined);
      const std::string name = std::string(p.name) + " spawn->fd unconfined";
      std::printf("%-28s %9.0f %9.0f %8.2f\n", name.c_str(), bare.median,
                  bare.p90, bare.median / f.median);
      const double cost = confined.median - bare.median;
      std::printf(
          "  %-10s confinement costs %.1f us: %.3fx the unconfined median, "
          "%.1f%% of the floor\n",
          p.name, cost, confined.median / bare.median, 100.0 * cost / f.median);
    }
  }
  if (emu_pid > 0) {
    const Stats reply = Summarize(emu_reply);
    const Stats fd = Summarize(emu_fd);
    const Stats ex = Summarize(emu_exit);
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
