// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// seccomp_attach: what the kernel charges for each shape of ssh-proxy's
// seccomp programs (src/seccomp_policy_gen.cc prints them all with
// --candidates), and for the Landlock ruleset, as ssh-proxy pays it: once, in
// a fresh process. Each sample forks a child that sets no_new_privs, reads the
// clock, makes the one call, reads the clock again and sends the difference
// back through a pipe. Rounds are interleaved (every candidate once per
// round), so that drift in the machine's load hits all alike; the first 10
// rounds warm up and are not counted. Reports the median, p10 and p90 in
// microseconds.
//
// Beside each program it prints how many instructions the kernel walks when
// it attaches the program as the first filter (seccomp_cache_prepare: the
// program run for every number 0..N-1 of x86_64 and of i386, stopping at an
// argument load) and how many numbers it then knows to be always allowed:
// the shape's cost in the kernel's terms, free of noise. The two floor
// programs (one instruction; the architecture check alone) show what any
// filter costs.
//
// Usage: seccomp_attach [--rounds=N]   (default 400)

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

namespace {

#include "src/seccomp_candidates.inc"
#include "src/seccomp_policy.inc"

#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#define SYS_landlock_restrict_self 446
#endif

// The numbers the kernel's cache covers for each ABI on x86_64 (Linux 6.18:
// 470 for x86_64, 470 for i386). Only used for the step count.
constexpr uint32_t kNativeNumbers = 470;
constexpr uint32_t kCompatNumbers = 470;

double NowUs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 +
         static_cast<double>(ts.tv_nsec) / 1e3;
}

std::vector<struct sock_filter> WithPid(const struct sock_filter* filter,
                                        size_t len, const int* pid_slots) {
  std::vector<struct sock_filter> copy(filter, filter + len);
  if (pid_slots != nullptr) {
    for (int i = 0; i < 2; ++i) copy[pid_slots[i]].k = getpid();
  }
  return copy;
}

long Load(std::vector<struct sock_filter> prog) {
  struct sock_fprog fprog = {static_cast<unsigned short>(prog.size()),
                             prog.data()};
  return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog);
}

// ConstAllowSteps walks `prog` for `nr` and `arch` as the kernel's
// seccomp_is_const_allow() does. Returns the instructions executed; sets
// *allowed if the walk ended in RET ALLOW without loading an argument.
int ConstAllowSteps(const struct sock_filter* prog, size_t len, uint32_t nr,
                    uint32_t arch, bool* allowed) {
  *allowed = false;
  uint32_t a = 0;
  int steps = 0;
  for (size_t pc = 0; pc < len; ++pc) {
    const struct sock_filter& f = prog[pc];
    ++steps;
    bool res;
    switch (f.code) {
      case BPF_LD | BPF_W | BPF_ABS:
        if (f.k == offsetof(struct seccomp_data, nr)) {
          a = nr;
        } else if (f.k == offsetof(struct seccomp_data, arch)) {
          a = arch;
        } else {
          return steps;  // An argument: not constant, the kernel stops.
        }
        continue;
      case BPF_RET | BPF_K:
        *allowed = f.k == SECCOMP_RET_ALLOW;
        return steps;
      case BPF_JMP | BPF_JA:
        pc += f.k;
        continue;
      case BPF_ALU | BPF_AND | BPF_K:
        a &= f.k;
        continue;
      case BPF_JMP | BPF_JEQ | BPF_K:
        res = a == f.k;
        break;
      case BPF_JMP | BPF_JGE | BPF_K:
        res = a >= f.k;
        break;
      case BPF_JMP | BPF_JGT | BPF_K:
        res = a > f.k;
        break;
      case BPF_JMP | BPF_JSET | BPF_K:
        res = (a & f.k) != 0;
        break;
      default:
        return steps;
    }
    pc += res ? f.jt : f.jf;
  }
  return steps;
}

struct Shape {
  long steps = 0;
  int always_allowed = 0;
};

Shape Walk(const struct sock_filter* prog, size_t len) {
  Shape s;
  for (uint32_t nr = 0; nr < kNativeNumbers; ++nr) {
    bool allowed;
    s.steps += ConstAllowSteps(prog, len, nr, AUDIT_ARCH_X86_64, &allowed);
    s.always_allowed += allowed;
  }
  for (uint32_t nr = 0; nr < kCompatNumbers; ++nr) {
    bool allowed;
    s.steps += ConstAllowSteps(prog, len, nr, AUDIT_ARCH_I386, &allowed);
    s.always_allowed += allowed;
  }
  return s;
}

// One thing to time in a fresh child: `setup` runs untimed first (e.g. an
// earlier filter), `timed` between the two clock readings. Each returns false
// on failure.
struct Case {
  std::string name;
  std::function<bool()> setup;
  std::function<bool()> timed;
  Shape shape;
  bool has_shape = false;
  size_t insns = 0;
  std::vector<double> us;
  int failures = 0;
};

double TimeInChild(const Case& c) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    std::perror("pipe2");
    std::exit(1);
  }
  const pid_t pid = fork();
  if (pid < 0) {
    std::perror("fork");
    std::exit(1);
  }
  if (pid == 0) {
    close(fds[0]);
    double us = -1;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
        (!c.setup || c.setup())) {
      const double start = NowUs();
      const bool ok = c.timed();
      const double end = NowUs();
      if (ok) us = end - start;
    }
    // write and exit_group are allowed by every program measured here.
    (void)!write(fds[1], &us, sizeof(us));
    _exit(0);
  }
  close(fds[1]);
  double us = -1;
  if (read(fds[0], &us, sizeof(us)) != sizeof(us)) us = -1;
  close(fds[0]);
  waitpid(pid, nullptr, 0);
  return us;
}

struct LandlockAttr {
  uint64_t handled_access_fs;
  uint64_t handled_access_net;
  uint64_t scoped;
};

// What sandbox.cc's ApplyLandlock asks of the kernel, in three parts.
int LandlockAbi() {
  return static_cast<int>(syscall(SYS_landlock_create_ruleset, nullptr, 0, 1U));
}
long LandlockCreate(int abi) {
  LandlockAttr attr = {};
  size_t size = sizeof(attr.handled_access_fs);
  attr.handled_access_fs = (1ULL << 13) - 1;
  if (abi >= 2) attr.handled_access_fs |= 1ULL << 13;
  if (abi >= 3) attr.handled_access_fs |= 1ULL << 14;
  if (abi >= 5) attr.handled_access_fs |= 1ULL << 15;
  if (abi >= 4) {
    attr.handled_access_net = 3;
    size = offsetof(LandlockAttr, scoped);
  }
  if (abi >= 6) {
    attr.scoped = 3;
    size = sizeof(attr);
  }
  return syscall(SYS_landlock_create_ruleset, &attr, size, 0);
}
bool LandlockRestrict(long fd) {
  const bool ok = syscall(SYS_landlock_restrict_self, fd, 0) == 0;
  close(static_cast<int>(fd));
  return ok;
}

Case Program(const std::string& name, const struct sock_filter* filter,
             size_t len, const int* pid_slots) {
  Case c;
  c.name = name;
  c.timed = [=] { return Load(WithPid(filter, len, pid_slots)) == 0; };
  c.shape = Walk(filter, len);
  c.has_shape = true;
  c.insns = len;
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 400;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--rounds=", 9) == 0) {
      rounds = std::max(10, std::atoi(argv[i] + 9));
    }
  }
  static const struct sock_filter kAllowOnly[] = {
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
  static const struct sock_filter kArchOnly[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kSeccompAuditArch, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
  std::vector<Case> cases;
  cases.push_back(
      Program("floor: one instruction (allow)", kAllowOnly, 1, nullptr));
  cases.push_back(
      Program("floor: the architecture check alone", kArchOnly, 4, nullptr));
  for (const SeccompCandidate& c : kSeccompCandidates) {
    cases.push_back(
        Program(std::string("stage ") + std::to_string(c.stage) + ": " + c.name,
                c.filter, c.len, c.pid_slots));
  }
  // machine/'s second filter: stage 2 on top of stage 1, as loaded.
  {
    Case c;
    c.name = "stage 2 as the second filter, on stage 1 (machine/)";
    c.setup = [] {
      return Load(WithPid(kStage1Filter, std::size(kStage1Filter),
                          kStage1FilterPidSlots)) == 0;
    };
    c.timed = [] {
      return Load(WithPid(kStage2Filter, std::size(kStage2Filter),
                          kStage2FilterPidSlots)) == 0;
    };
    cases.push_back(c);
  }
  {
    Case c;
    c.name = "no_new_privs again and RLIMIT_NPROC 0";
    c.timed = [] {
      const struct rlimit none = {0, 0};
      return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
             setrlimit(RLIMIT_NPROC, &none) == 0;
    };
    cases.push_back(c);
  }
  const bool landlock = LandlockAbi() > 0;
  if (landlock) {
    Case all;
    all.name = "Landlock: ABI, create, restrict, close (as today)";
    all.timed = [] {
      const int abi = LandlockAbi();
      const long fd = abi > 0 ? LandlockCreate(abi) : -1;
      return fd >= 0 && LandlockRestrict(fd);
    };
    cases.push_back(all);
    Case create;
    create.name = "Landlock: ABI and create only (before connect)";
    create.timed = [] {
      const int abi = LandlockAbi();
      const long fd = abi > 0 ? LandlockCreate(abi) : -1;
      if (fd < 0) return false;
      close(static_cast<int>(fd));
      return true;
    };
    cases.push_back(create);
    Case restrict;
    restrict.name = "Landlock: restrict and close only (after connect)";
    static long early_fd = -1;
    restrict.setup = [] {
      const int abi = LandlockAbi();
      early_fd = abi > 0 ? LandlockCreate(abi) : -1;
      return early_fd >= 0;
    };
    restrict.timed = [] { return LandlockRestrict(early_fd); };
    cases.push_back(restrict);
  }

  double load_start[3] = {0, 0, 0};
  getloadavg(load_start, 3);
  for (int r = 0; r < rounds + 10; ++r) {
    for (Case& c : cases) {
      const double us = TimeInChild(c);
      if (us < 0) {
        ++c.failures;
      } else if (r >= 10) {
        c.us.push_back(us);
      }
    }
  }
  double load_end[3] = {0, 0, 0};
  getloadavg(load_end, 3);

  std::printf(
      "seccomp and Landlock attach cost, %d interleaved rounds, each sample a "
      "fresh child (microseconds)\nload average (1 min) %.2f at start, %.2f at "
      "the end\n",
      rounds, load_start[0], load_end[0]);
  std::printf("%-60s %6s %8s %7s %7s %7s %7s\n", "", "insns", "steps", "cached",
              "median", "p10", "p90");
  int failures = 0;
  for (Case& c : cases) {
    failures += c.failures;
    if (c.us.empty()) {
      std::printf("%-60s FAILED every time\n", c.name.c_str());
      continue;
    }
    std::sort(c.us.begin(), c.us.end());
    const size_t n = c.us.size();
    char shape[64] = "";
    if (c.has_shape) {
      std::snprintf(shape, sizeof(shape), "%6zu %8ld %7d", c.insns,
                    c.shape.steps, c.shape.always_allowed);
    } else {
      std::snprintf(shape, sizeof(shape), "%6s %8s %7s", "", "", "");
    }
    std::printf("%-60s %s %7.1f %7.1f %7.1f\n", c.name.c_str(), shape,
                c.us[n / 2], c.us[n / 10], c.us[n * 9 / 10]);
  }
  if (!landlock) std::printf("(no Landlock on this kernel: not measured)\n");
  if (failures != 0) {
    std::printf("FAILED: %d samples did not load\n", failures);
    return 1;
  }
  return 0;
}
