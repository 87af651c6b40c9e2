// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// Self-confinement of the real binary (src/sandbox.h).
//
// Through the hidden --test-hook option of
// //tests/sandbox:ssh-proxy-with-test-hooks (the run with test hooks),
// each stage makes a call it must forbid, right after confining, and must die
// by SIGSYS; the calls a stage must allow are made the same way and return.
// Stage 1 exists only for machine/ (the only kind that reads someone else's
// bytes before it connects); stage 2 is checked for every kind that connects
// here: unix/, vsock-mux/, machine/ and .host (vsock/ never connects on these
// machines; stage_order_test places its stage 2 with a simulated socket). The plain //:ssh-proxy is shown to
// confine itself: its /proc/PID/status while it relays, its -v lines, and that
// it has no hook.
//
// Targets are AF_UNIX listeners in a temporary directory. machine/vm is
// resolved by a scripted systemd-machined that the child sees at machined's
// system path, and .host finds the listener at its path, in a private mount
// namespace (tests/testing/scripted_machined.h:
// needs CAP_SYS_ADMIN, else those tests are skipped, saying so). vsock is only
// ever given with --dry-run: nothing here creates an AF_VSOCK socket.

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/testing/argv.h"
#include "tests/testing/scripted_machined.h"
#include "tests/testing/unix_socket.h"

extern char** environ;

namespace {

constexpr char kProxy[] = "./ssh-proxy";
constexpr char kHooks[] = "./tests/sandbox/ssh-proxy-with-test-hooks";

// The host kernel's Landlock ABI, or 0 without Landlock.
int HostLandlockAbi() {
  const long abi = syscall(SYS_landlock_create_ruleset, nullptr, 0, 1U);
  return abi > 0 ? static_cast<int>(abi) : 0;
}

struct Result {
  bool exited = false;
  int code = -1;    // If exited.
  int signal = 0;   // If killed by a signal.
  std::string err;  // Its stderr.
  std::string Describe() const {
    return absl::StrCat(
        exited ? absl::StrCat("exit ", code)
               : absl::StrCat("signal ", signal, " (", strsignal(signal), ")"),
        "; stderr: ", err);
  }
};

// A UNIX listener that accepts every connection and, with `hold`, keeps it
// open (else closes it at once) until destroyed. A vsock-mux client waits for
// a reply that never comes.
class Listener {
 public:
  explicit Listener(const std::string& path) : path_(path) {
    fd_ = ssh_proxy::BindUnix(path, 64);
    if (fd_ < 0) {
      ADD_FAILURE() << "cannot listen on " << path << ": " << strerror(errno);
    }
    thread_ = std::thread([this] {
      while (!stop_) {
        struct pollfd pfd = {fd_, POLLIN, 0};
        if (poll(&pfd, 1, 50) <= 0) continue;
        const int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (c >= 0) held_.push_back(c);
      }
    });
  }
  ~Listener() {
    stop_ = true;
    thread_.join();
    for (int c : held_) close(c);
    close(fd_);
    unlink(path_.c_str());
  }

 private:
  std::string path_;
  int fd_ = -1;
  std::atomic<bool> stop_{false};
  std::vector<int> held_;
  std::thread thread_;
};

// RunProxy runs `binary` with `args`, stdin /dev/null, stdout a socketpair end (so
// that fd passing works) or, with `stdout_pipe`, a pipe; waits at most 10 s.
// If `between` is set, it is called with the pid while the process runs.
// `in_child`, if set, runs in the child just before execve.
Result RunProxy(const char* binary, const std::vector<std::string>& args,
                bool stdout_pipe = false,
                const std::function<void(pid_t)>& between = nullptr,
                const std::function<void()>& in_child = nullptr) {
  int out[2], err[2];
  if (stdout_pipe) {
    EXPECT_EQ(pipe2(out, O_CLOEXEC), 0);
  } else {
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, out), 0);
  }
  EXPECT_EQ(pipe2(err, O_CLOEXEC), 0);
  ssh_proxy::Argv argv(binary, args);
  const pid_t pid = fork();
  if (pid == 0) {
    const int null_fd = open("/dev/null", O_RDONLY);
    dup2(null_fd, 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    if (in_child) in_child();
    execve(binary, argv.data(), environ);
    _exit(127);
  }
  close(out[1]);
  close(err[1]);
  if (between) between(pid);
  Result r;
  char buf[4096];
  ssize_t n;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    struct pollfd pfd = {err[0], POLLIN, 0};
    if (poll(&pfd, 1, 100) > 0) {
      n = read(err[0], buf, sizeof(buf));
      if (n <= 0) break;
      r.err.append(buf, static_cast<size_t>(n));
    }
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      ADD_FAILURE() << "still running after 10 s: " << argv[1];
      break;
    }
  }
  int status = 0;
  waitpid(pid, &status, 0);
  close(out[0]);
  close(err[0]);
  r.exited = WIFEXITED(status);
  if (r.exited) r.code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  return r;
}

// CanShowMachined says whether a child can be given a private /run with the
// scripted machined in it (CAP_SYS_ADMIN); if not, *why says what failed.
bool CanShowMachined(std::string* why) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return false;
  const pid_t pid = fork();
  if (pid == 0) {
    std::string error;
    const bool ok =
        ssh_proxy::testing::ShowAsSystemMachined("/nowhere", &error);
    (void)!write(fds[1], error.data(), error.size());
    _exit(ok ? 0 : 1);
  }
  close(fds[1]);
  char buf[256];
  const ssize_t n = read(fds[0], buf, sizeof(buf));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (n > 0) why->assign(buf, static_cast<size_t>(n));
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

class SandboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ssh_proxy::MakeTempDir("sandbox");
    ASSERT_FALSE(dir_.empty());
    unix_host_ = absl::StrCat("unix", dir_, "/s.sock");
    mux_host_ = absl::StrCat("vsock-mux", dir_, "/s.sock");
    listener_ = std::make_unique<Listener>(dir_ + "/s.sock");
    machined_path_ = dir_ + "/machined.sock";
    machined_ = std::make_unique<ssh_proxy::testing::ScriptedMachined>(
        machined_path_, ssh_proxy::testing::MachineReply(
                            "vm", absl::StrCat("unix", dir_, "/s.sock")));
    ASSERT_TRUE(machined_->ok());
  }
  void TearDown() override {
    machined_.reset();
    listener_.reset();
    rmdir(dir_.c_str());
  }
  // MachineChild returns what the child must do before exec for `host`: for
  // machine/ and .host, see the scripted machined and the listener at their
  // paths under /run (exit 125 if it cannot); nothing for the other kinds.
  std::function<void()> MachineChild(const std::string& host) {
    if (!absl::StartsWith(host, "machine/") && host != ".host") return nullptr;
    const std::string machined = machined_path_;
    const std::string sshd = dir_ + "/s.sock";
    return [machined, sshd] {
      if (!ssh_proxy::testing::ShowAsSystemMachined(machined.c_str(), nullptr,
                                                    sshd.c_str())) {
        _exit(125);
      }
    };
  }
  // ExpectStage2Kills checks that stage 2 kills, for `host`, every call that
  // opens, connects or makes a process.
  void ExpectStage2Kills(const std::string& host) {
    for (const char* call :
         {"socket-unix", "socketpair", "connect", "open-read", "pipe2",
          "fchdir", "landlock-abi", "seccomp-strict", "socket-inet", "execve",
          "fork", "setsockopt-reuseaddr", "tgkill-other"}) {
      const Result r = Hook(2, call, host);
      EXPECT_TRUE(!r.exited && r.signal == SIGSYS)
          << host << " " << call << ": " << r.Describe();
      EXPECT_FALSE(absl::StrContains(r.err, "test hook:")) << host << call;
    }
  }
  // Hook runs the test binary with --test-hook=STAGE:CALL against `host`.
  Result Hook(int stage, const std::string& call, const std::string& host,
              std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {
        absl::StrCat("--test-hook=", stage, ":", call), "--timeout=2s"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(host);
    args.push_back("22");
    return RunProxy(kHooks, args, false, nullptr, MachineChild(host));
  }

  std::string dir_;
  std::string unix_host_;
  std::string mux_host_;
  const std::string machine_host_ = "machine/vm";
  std::string machined_path_;
  std::unique_ptr<Listener> listener_;
  std::unique_ptr<ssh_proxy::testing::ScriptedMachined> machined_;
};

// Skips the test (counted as skipped, with the reason) where machine/ cannot
// be run here.
#define SKIP_WITHOUT_MACHINED()                                            \
  do {                                                                     \
    std::string why;                                                       \
    if (!CanShowMachined(&why)) {                                          \
      GTEST_SKIP() << "SKIP: no private mount namespace for the scripted " \
                      "machined: "                                         \
                   << why;                                                 \
    }                                                                      \
  } while (0)

#if defined(SSH_PROXY_UNCONFINED_BINARY)

// A sanitizer or coverage build does not confine itself, and says so.
TEST_F(SandboxTest, UnconfinedBuildSaysConfinementIsOff) {
  // unix/ skips stage 1; stage 2, once connected, says so.
  const Result r = RunProxy(kProxy, {"-v", unix_host_, "22"});
  EXPECT_TRUE(r.exited && r.code == 0) << r.Describe();
  EXPECT_TRUE(absl::StrContains(r.err, "stage 2: confinement is off")) << r.err;
}

#else

void ExpectKilledBySigsys(const Result& r, const std::string& what) {
  EXPECT_TRUE(!r.exited && r.signal == SIGSYS) << what << ": " << r.Describe();
  EXPECT_FALSE(absl::StrContains(r.err, "test hook:")) << what;
}

void ExpectReturned(const Result& r, const std::string& what, bool ok) {
  EXPECT_TRUE(r.exited && r.code == (ok ? 0 : 1))
      << what << ": " << r.Describe();
  EXPECT_TRUE(absl::StrContains(r.err, "test hook: ")) << what << ": " << r.err;
}

// Stage 1, for machine/: after parsing, before machined's reply is read. What
// connecting does not need.
TEST_F(SandboxTest, Stage1KillsWhatConnectingDoesNotNeed) {
  SKIP_WITHOUT_MACHINED();
  for (const char* call :
       {"socket-inet", "socket-unix-dgram", "socketpair", "open-create",
        "execve", "fork", "ptrace", "kill", "tgkill-other", "mmap-exec",
        "setsockopt-reuseaddr", "seccomp-strict"}) {
    ExpectKilledBySigsys(Hook(1, call, machine_host_), call);
  }
  // --dry-run too: machined is asked all the same.
  ExpectKilledBySigsys(Hook(1, "execve", machine_host_, {"--dry-run"}),
                       "--dry-run execve");
}

// The controls: what stage 1 must let through returns, so the SIGSYS above
// is the filter's verdict on those calls and not on every call.
TEST_F(SandboxTest, Stage1AllowsWhatConnectingNeeds) {
  SKIP_WITHOUT_MACHINED();
  ExpectReturned(Hook(1, "socket-unix", machine_host_), "socket-unix", true);
  ExpectReturned(Hook(1, "open-read", machine_host_), "open-read", true);
  ExpectReturned(Hook(1, "pipe2", machine_host_), "pipe2", true);
  const Result connect = Hook(1, "connect", machine_host_);
  ExpectReturned(connect, "connect(-1)", false);
  EXPECT_TRUE(absl::StrContains(connect.err, "EBADF")) << connect.err;
  ExpectReturned(Hook(1, "fchdir", machine_host_), "fchdir(-1)", false);
}

// The kinds that read nothing but the command line before they connect skip
// stage 1: its hook never runs (the run ends as usual) and -v says why. vsock/
// and .host are shown with --dry-run (no socket), vsock-mux/ too (the
// listener never answers CONNECT).
TEST_F(SandboxTest, Stage1IsSkippedWhereNothingIsReadBeforeConnecting) {
  struct Case {
    std::string host;
    std::vector<std::string> extra;
  };
  const Case cases[] = {{unix_host_, {"-v"}},
                        {mux_host_, {"-v", "--dry-run"}},
                        {"vsock/4711", {"-v", "--dry-run"}},
                        {"vsock%host", {"-v", "--dry-run"}},
                        {".host", {"-v", "--dry-run"}}};
  for (const Case& c : cases) {
    // --dry-run of .host touches nothing under /run: run it without the
    // private mount namespace, which a chroot (the bzlmod check) cannot give.
    std::vector<std::string> args = {"--test-hook=1:execve", "--timeout=2s"};
    args.insert(args.end(), c.extra.begin(), c.extra.end());
    args.push_back(c.host);
    args.push_back("22");
    const Result r = c.host == ".host" ? RunProxy(kHooks, args)
                                       : Hook(1, "execve", c.host, c.extra);
    EXPECT_TRUE(r.exited && r.code == 0) << c.host << ": " << r.Describe();
    EXPECT_FALSE(absl::StrContains(r.err, "test hook:")) << c.host;
    EXPECT_TRUE(absl::StrContains(
        r.err,
        "debug: stage 1: not needed, nothing but the command line is read "
        "before connecting\n"))
        << c.host << ": " << r.err;
  }
}

// Stage 2: once connected, before a byte from the target is read, for every
// kind. Nothing that opens or connects, nothing stage 1 forbids.
TEST_F(SandboxTest, Stage2KillsEveryOpenAndConnect) {
  for (const std::string& host : {unix_host_, mux_host_}) {
    ExpectStage2Kills(host);
  }
}

// The same for machine/, where stage 2 is the second filter, and .host (its
// socket shown under a private /run, like machined's).
TEST_F(SandboxTest, Stage2KillsEveryOpenAndConnectForMachineAndHost) {
  SKIP_WITHOUT_MACHINED();
  ExpectStage2Kills(machine_host_);
  ExpectStage2Kills(".host");
}

// abort() and glibc's fatal errors still end the process by SIGABRT with
// their message, not by SIGSYS: their calls are on both lists.
TEST_F(SandboxTest, AbortStillAbortsAfterStage2) {
  const Result aborted = Hook(2, "abort", unix_host_);
  EXPECT_TRUE(!aborted.exited && aborted.signal == SIGABRT)
      << aborted.Describe();
  const Result fortify = Hook(2, "fortify", unix_host_);
  EXPECT_TRUE(!fortify.exited && fortify.signal == SIGABRT)
      << fortify.Describe();
  EXPECT_TRUE(absl::StrContains(fortify.err, "buffer overflow detected"))
      << fortify.err;
}

// Landlock alone (stage 2 without its seccomp filter) denies opening a file,
// where the kernel has it: for every kind that connects here.
TEST_F(SandboxTest, Stage2LandlockAloneDeniesTheFilesystem) {
  const int abi = HostLandlockAbi();
  std::vector<std::string> hosts = {unix_host_, mux_host_};
  std::string why;
  const bool machine = CanShowMachined(&why);
  if (machine) {
    hosts.push_back(machine_host_);
    hosts.push_back(".host");
  }
  for (const std::string& host : hosts) {
    const Result r = Hook(2, "open-read", host, {"-v", "--test-landlock-only"});
    if (abi == 0) {
      ExpectReturned(r, "open-read without Landlock", true);
      EXPECT_TRUE(absl::StrContains(r.err, "no Landlock")) << r.err;
      continue;
    }
    ExpectReturned(r, host + ": open-read under Landlock", false);
    EXPECT_TRUE(absl::StrContains(r.err, "EACCES")) << host << ": " << r.err;
    EXPECT_TRUE(absl::StrContains(r.err, absl::StrCat("Landlock ABI ", abi)))
        << host << ": " << r.err;
  }
  if (abi == 0) GTEST_SKIP() << "SKIP: this kernel has no Landlock";
  if (!machine) {
    GTEST_SKIP() << "SKIP (machine/ and .host only; unix/ and vsock-mux/ "
                    "passed): no private mount namespace: "
                 << why;
  }
}

// A poll with a timeout that SIGSTOP/SIGCONT interrupts is resumed by the
// kernel through restart_syscall (ssh suspended with ~^Z): allowed, so the
// mux reply wait times out as usual (75) instead of dying.
TEST_F(SandboxTest, StopAndContinueWhileWaitingForTheMuxReply) {
  const Result r = RunProxy(kProxy, {"--timeout=1500ms", mux_host_, "22"},
                            false, [](pid_t pid) {
                              usleep(400 * 1000);
                              kill(pid, SIGSTOP);
                              usleep(100 * 1000);
                              kill(pid, SIGCONT);
                            });
  EXPECT_TRUE(r.exited && r.code == 75) << r.Describe();
}

// RefuseInChild installs, in the child about to exec ssh-proxy, a seccomp
// filter that fails system call `nr` with `err` and allows everything else: a
// kernel without Landlock (ENOSYS), or a container runtime's profile (EPERM).
std::function<void()> RefuseInChild(int nr, int err) {
  return [nr, err] {
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<uint32_t>(nr), 0, 1),
        BPF_STMT(BPF_RET | BPF_K,
                 SECCOMP_RET_ERRNO | (static_cast<uint32_t>(err) & 0xffff)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {sizeof(filter) / sizeof(filter[0]), filter};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
      _exit(126);
    }
  };
}

// Without Landlock, stage 2 still applies its seccomp part, and -v says so.
TEST_F(SandboxTest, WithoutLandlockStage2StillKills) {
  const Result r = RunProxy(
      kHooks, {"-v", "--test-hook=2:socket-unix", unix_host_, "22"}, false,
      nullptr, RefuseInChild(SYS_landlock_create_ruleset, ENOSYS));
  ExpectKilledBySigsys(r, "socket-unix without Landlock");
  EXPECT_TRUE(absl::StrContains(
      r.err,
      "debug: stage 2: no_new_privs, RLIMIT_NPROC 0, no Landlock (the kernel "
      "has no Landlock: "
      "Function not implemented (ENOSYS)), seccomp allowlist"))
      << r.err;
}

// A caller's filter that refuses Landlock (EPERM) does not stop ssh-proxy:
// it connects and hands the connection over with seccomp alone.
TEST_F(SandboxTest, LandlockRefusedByTheCallerIsNotFatal) {
  const Result r = RunProxy(kProxy, {"-v", unix_host_, "22"}, false, nullptr,
                            RefuseInChild(SYS_landlock_create_ruleset, EPERM));
  EXPECT_TRUE(r.exited && r.code == 0) << r.Describe();
  EXPECT_TRUE(absl::StrContains(r.err,
                                "no Landlock (refused by the caller's own "
                                "seccomp filter: Operation not permitted"))
      << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "passed the connection to ssh"))
      << r.err;
}

// Without seccomp, ssh-proxy refuses to go on: exit 71 before connecting.
// For machine/, before it asks machined.
TEST_F(SandboxTest, NoSeccompIsFatalBeforeConnecting) {
  SKIP_WITHOUT_MACHINED();
  const std::function<void()> machine = MachineChild(machine_host_);
  const std::function<void()> refuse = RefuseInChild(SYS_seccomp, EINVAL);
  const Result r = RunProxy(kProxy, {machine_host_, "22"}, false, nullptr, [&] {
    machine();
    refuse();
  });
  EXPECT_TRUE(r.exited && r.code == 71) << r.Describe();
  EXPECT_EQ(r.err,
            "ssh-proxy: cannot confine the process (stage 1): "
            "seccomp(SECCOMP_SET_MODE_FILTER): Invalid argument (EINVAL)\n");
}

// For the kinds without stage 1, once connected: exit 71 before a byte is
// read or the connection handed over.
TEST_F(SandboxTest, NoSeccompIsFatalBeforeTheHandOff) {
  const Result r = RunProxy(kProxy, {unix_host_, "22"}, false, nullptr,
                            RefuseInChild(SYS_seccomp, EINVAL));
  EXPECT_TRUE(r.exited && r.code == 71) << r.Describe();
  EXPECT_EQ(r.err,
            "ssh-proxy: cannot confine the process (stage 2): "
            "seccomp(SECCOMP_SET_MODE_FILTER): Invalid argument (EINVAL)\n");
}

std::string StatusField(pid_t pid, const std::string& field) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (absl::StartsWith(line, field + ":")) {
      std::string value = line.substr(field.size() + 1);
      value.erase(0, value.find_first_not_of(" \t"));
      return value;
    }
  }
  return "";
}

// ExpectConfinedWhileRelaying runs the release binary with `host` and checks
// that, while it relays, the kernel reports no_new_privs, seccomp filter mode
// with `own_filters` filters of its own, and no processes allowed; and that -v
// says `stage1` and names stage 2's layers (starting with `stage2_prefix`),
// Landlock included where the kernel has it.
void ExpectConfinedWhileRelaying(const std::string& host,
                                 const std::function<void()>& in_child,
                                 int own_filters, const std::string& stage1,
                                 const std::string& stage2_prefix) {
  // Filters this test runs under already (a wrapper such as no-vsock) are
  // inherited: ssh-proxy adds its own to them.
  const std::string inherited = StatusField(getpid(), "Seccomp_filters");
  const std::string want = absl::StrCat(
      (inherited.empty() ? 0 : std::stoi(inherited)) + own_filters);
  std::string no_new_privs, seccomp, filters, nproc;
  const Result r = RunProxy(
      kProxy, {"-v", "--relay", host, "22"}, /*stdout_pipe=*/false,
      [&](pid_t pid) {
        // stdin is /dev/null: the relay half-closes at once and then waits
        // for the listener, which holds the connection open. Sample it there.
        for (int i = 0; i < 200 && filters != want; ++i) {
          usleep(10 * 1000);
          filters = StatusField(pid, "Seccomp_filters");
        }
        no_new_privs = StatusField(pid, "NoNewPrivs");
        seccomp = StatusField(pid, "Seccomp");
        std::ifstream limits(absl::StrCat("/proc/", pid, "/limits"));
        std::string line;
        while (std::getline(limits, line)) {
          if (absl::StartsWith(line, "Max processes")) nproc = line;
        }
        kill(pid, SIGTERM);
      },
      in_child);
  EXPECT_EQ(no_new_privs, "1") << host;
  EXPECT_EQ(seccomp, "2") << host;  // SECCOMP_MODE_FILTER
  EXPECT_EQ(filters, want) << host;
  EXPECT_TRUE(absl::StrContains(nproc, " 0 ") &&
              absl::StrContains(nproc, "processes"))
      << host << ": " << nproc;
  EXPECT_TRUE(!r.exited && r.signal == SIGTERM) << host << ": " << r.Describe();
  EXPECT_TRUE(absl::StrContains(r.err, absl::StrCat("debug: ", stage1)))
      << host << ": " << r.err;
  const int abi = HostLandlockAbi();
  EXPECT_TRUE(absl::StrContains(
      r.err, abi > 0 ? absl::StrCat("debug: ", stage2_prefix, "Landlock ABI ",
                                    abi, " (no filesystem access), seccomp")
                     : absl::StrCat("debug: ", stage2_prefix, "no Landlock")))
      << host << ": " << r.err;
}

// unix/ (like vsock/, vsock-mux/ and .host) has one filter, stage 2's, and
// stage 2 sets no_new_privs and RLIMIT_NPROC itself.
TEST_F(SandboxTest, TheBinaryConfinesItselfWhileRelaying) {
  ExpectConfinedWhileRelaying(
      unix_host_, nullptr, 1,
      "stage 1: not needed, nothing but the command line is read before "
      "connecting",
      "stage 2: no_new_privs, RLIMIT_NPROC 0, ");
}

// machine/ has both stages' filters.
TEST_F(SandboxTest, TheBinaryConfinesItselfWhileRelayingForMachine) {
  SKIP_WITHOUT_MACHINED();
  ExpectConfinedWhileRelaying(
      machine_host_, MachineChild(machine_host_), 2,
      "stage 1: no_new_privs, RLIMIT_NPROC 0, seccomp allowlist for "
      "connecting (36 system calls)",
      "stage 2: ");
}

// The first-day diagnoses of a failed unix connect (what is at the path, who
// denies it) run under stage 1 for machine/: they use only open(O_PATH) and
// fstat, which stage 1 allows, so the message arrives and nothing dies by
// SIGSYS.
TEST_F(SandboxTest, ConnectDiagnosisRunsUnderStage1) {
  SKIP_WITHOUT_MACHINED();
  const std::string file = dir_ + "/not-a-socket";
  const std::string link = dir_ + "/dangling";
  { std::ofstream(file.c_str()) << "x"; }
  ASSERT_EQ(symlink("missing", link.c_str()), 0) << std::strerror(errno);
  struct Case {
    std::string path;
    std::string says;
  };
  for (const Case& c : {Case{file, " is a regular file, not a socket"},
                        Case{dir_, " is a directory, not a socket"},
                        Case{link, " is a symlink to a missing file"}}) {
    const std::string path = c.path;
    const std::string reply =
        ssh_proxy::testing::MachineReply("vm", absl::StrCat("unix", c.path));
    ssh_proxy::testing::ScriptedMachined machined(dir_ + "/diag.sock", reply);
    ASSERT_TRUE(machined.ok());
    const std::string machined_path = dir_ + "/diag.sock";
    const Result r =
        RunProxy(kProxy, {"-v", "--timeout=2s", machine_host_, "22"}, false,
                 nullptr, [machined_path] {
                   if (!ssh_proxy::testing::ShowAsSystemMachined(
                           machined_path.c_str(), nullptr)) {
                     _exit(125);
                   }
                 });
    EXPECT_TRUE(r.exited && r.code == 69) << path << ": " << r.Describe();
    EXPECT_TRUE(absl::StrContains(r.err, "stage 1: no_new_privs")) << r.err;
    EXPECT_TRUE(absl::StrContains(r.err, absl::StrCat(path, c.says))) << r.err;
  }
  unlink(link.c_str());
  unlink(file.c_str());
  unlink((dir_ + "/diag.sock").c_str());
}

// The plain binary has no hook: the option is unknown, the text absent.
TEST_F(SandboxTest, TheBinaryHasNoTestHook) {
  const Result r = RunProxy(kProxy, {"--test-hook=1:execve", unix_host_, "22"});
  EXPECT_TRUE(r.exited && r.code == 64) << r.Describe();
  EXPECT_TRUE(absl::StrContains(r.err, "unknown option")) << r.err;
  std::ifstream in(kProxy, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  ASSERT_GT(content.str().size(), 100000u);
  EXPECT_FALSE(absl::StrContains(content.str(), "test hook"));
  std::ifstream hooks_in(kHooks, std::ios::binary);
  std::stringstream hooks_content;
  hooks_content << hooks_in.rdbuf();
  EXPECT_TRUE(absl::StrContains(hooks_content.str(), "test hook"));
}

#endif  // SSH_PROXY_UNCONFINED_BINARY

}  // namespace
