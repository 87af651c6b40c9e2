// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// The two seccomp programs that src/seccomp_policy_gen.cc emits at build time
// (src/seccomp_policy.inc), and every other shape of them that it prints for
// bench/seccomp_attach (src/seccomp_candidates.inc, libseccomp's own
// included), run in a small classic-BPF interpreter over synthetic system
// calls: what each stage allows and kills, argument by argument; and, number
// by number over 0..1023 of each ABI with arguments around every value a rule
// compares, that the loaded programs decide exactly as libseccomp's programs
// for the same lists do. This covers what the real binary cannot be made to do
// on these machines: the AF_VSOCK calls (socket, the connect timeout) are
// never made here, only judged.

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/vm_sockets.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace {

#include "src/seccomp_candidates.inc"
#include "src/seccomp_policy.inc"

// The pid that Patched() puts into the programs, as sandbox.cc puts its own.
constexpr uint32_t kPid = 4242;

// Patched returns `prog` with kPid in `slots`, as sandbox.cc loads it.
std::vector<struct sock_filter> Patched(const struct sock_filter* prog,
                                        size_t n, const int* slots) {
  std::vector<struct sock_filter> copy(prog, prog + n);
  for (int i = 0; i < 2; ++i) copy[slots[i]].k = kPid;
  return copy;
}
template <size_t N>
std::vector<struct sock_filter> Patched(const struct sock_filter (&prog)[N],
                                        const int (&slots)[2]) {
  return Patched(prog, N, slots);
}
std::vector<struct sock_filter> Patched(const SeccompCandidate& c) {
  return Patched(c.filter, c.len, c.pid_slots);
}

// RunFilter evaluates `prog` on `data` as the kernel does for the opcodes
// libseccomp and src/seccomp_policy_gen.cc emit (a test failure for any
// other). Returns the action.
uint32_t RunFilter(const std::vector<struct sock_filter>& prog,
                   const struct seccomp_data& data) {
  const size_t N = prog.size();
  unsigned char bytes[sizeof(data)];
  std::memcpy(bytes, &data, sizeof(data));
  uint32_t a = 0;
  for (size_t pc = 0; pc < N; ++pc) {
    const struct sock_filter& f = prog[pc];
    switch (f.code) {
      case BPF_LD | BPF_W | BPF_ABS:
        if (f.k + 4 > sizeof(bytes)) {
          ADD_FAILURE() << "load beyond seccomp_data at " << pc;
          return 0;
        }
        std::memcpy(&a, bytes + f.k, 4);
        break;
      case BPF_ALU | BPF_AND | BPF_K:
        a &= f.k;
        break;
      case BPF_JMP | BPF_JA:  // libseccomp's long jumps, if it needs any.
        pc += f.k;
        break;
      case BPF_JMP | BPF_JEQ | BPF_K:
        pc += a == f.k ? f.jt : f.jf;
        break;
      case BPF_JMP | BPF_JGT | BPF_K:
        pc += a > f.k ? f.jt : f.jf;
        break;
      case BPF_JMP | BPF_JGE | BPF_K:
        pc += a >= f.k ? f.jt : f.jf;
        break;
      case BPF_JMP | BPF_JSET | BPF_K:
        pc += (a & f.k) != 0 ? f.jt : f.jf;
        break;
      case BPF_RET | BPF_K:
        return f.k;
      default:
        ADD_FAILURE() << "opcode 0x" << std::hex << f.code << " at " << pc;
        return 0;
    }
  }
  ADD_FAILURE() << "fell off the end of the program";
  return 0;
}

struct Call {
  std::string name;
  seccomp_data data;
};

Call Make(const std::string& name, int nr,
          std::initializer_list<uint64_t> args = {},
          uint32_t arch = AUDIT_ARCH_X86_64) {
  Call c{name, {}};
  c.data.nr = nr;
  c.data.arch = arch;
  int i = 0;
  for (uint64_t a : args) c.data.args[i++] = a;
  return c;
}

constexpr uint64_t kStreamFlags = SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK;

// What stage 2 (and so stage 1 too) must allow: what the connector, the
// hand-off, the relay, malloc, exit and abort() call.
std::vector<Call> Stage2Allowed() {
  static const Call calls[] = {
      Make("read", SYS_read, {0, 0, 65536}),
      Make("write", SYS_write, {2, 0, 10}),
      Make("sendto (send)", SYS_sendto,
           {3, 0, 11, MSG_NOSIGNAL | MSG_DONTWAIT}),
      Make("recvfrom (recv)", SYS_recvfrom,
           {3, 0, 14, MSG_PEEK | MSG_DONTWAIT}),
      Make("sendmsg", SYS_sendmsg, {1, 0, MSG_NOSIGNAL | MSG_DONTWAIT}),
      Make("poll", SYS_poll, {0, 1, 1000}),
      Make("splice", SYS_splice, {0, 0, 4, 0, 65536, 3}),
      Make("shutdown", SYS_shutdown, {3, SHUT_WR}),
      Make("close", SYS_close, {3}),
      Make("fcntl F_GETFL", SYS_fcntl, {3, F_GETFL}),
      Make("fcntl F_SETFL", SYS_fcntl, {3, F_SETFL, O_NONBLOCK}),
      Make("clock_gettime", SYS_clock_gettime, {CLOCK_MONOTONIC}),
      Make("brk", SYS_brk, {0}),
      Make("mmap rw", SYS_mmap,
           {0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS}),
      Make("munmap", SYS_munmap, {0, 4096}),
      Make("mremap", SYS_mremap, {0, 4096, 8192, 1}),
      Make("madvise", SYS_madvise, {0, 4096, MADV_DONTNEED}),
      Make("exit_group", SYS_exit_group, {0}),
      Make("restart_syscall", SYS_restart_syscall),
      Make("writev", SYS_writev, {2, 0, 3}),
      Make("rt_sigprocmask", SYS_rt_sigprocmask, {SIG_UNBLOCK}),
      Make("gettid", SYS_gettid),
      Make("getpid", SYS_getpid),
      Make("tgkill SIGABRT to itself", SYS_tgkill, {kPid, kPid, SIGABRT}),
      Make("rt_sigaction SIGABRT", SYS_rt_sigaction, {SIGABRT}),
  };
  return std::vector<Call>(std::begin(calls), std::end(calls));
}

// What stage 1 allows beyond stage 2: connecting (vsock included), the long
// path fallbacks, the relay's preparation, and turning stage 2 on.
std::vector<Call> Stage1OnlyAllowed() {
  static const Call calls[] = {
      Make("socket AF_UNIX stream", SYS_socket, {AF_UNIX, kStreamFlags, 0}),
      Make("socket AF_VSOCK stream", SYS_socket, {AF_VSOCK, kStreamFlags, 0}),
      Make("connect", SYS_connect, {3, 0, 110}),
      Make("setsockopt vsock connect timeout", SYS_setsockopt,
           {3, AF_VSOCK, SO_VM_SOCKETS_CONNECT_TIMEOUT, 0, 16}),
      Make("getsockopt SO_ERROR", SYS_getsockopt, {3, SOL_SOCKET, SO_ERROR}),
      Make("getsockopt SO_DOMAIN", SYS_getsockopt, {1, SOL_SOCKET, SO_DOMAIN}),
      Make("fstat", SYS_newfstatat, {1, 0, 0, AT_EMPTY_PATH}),
      Make("fstat (newer glibc)", SYS_fstat, {1, 0}),
      Make("openat O_PATH", SYS_openat,
           {static_cast<uint64_t>(AT_FDCWD), 0, O_PATH | O_CLOEXEC}),
      Make("openat O_PATH|O_DIRECTORY", SYS_openat,
           {static_cast<uint64_t>(AT_FDCWD), 0,
            O_PATH | O_DIRECTORY | O_CLOEXEC}),
      Make("openat terminal", SYS_openat,
           {static_cast<uint64_t>(AT_FDCWD), 0,
            O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC}),
      Make("fchdir", SYS_fchdir, {4}),
      Make("pipe2", SYS_pipe2, {0, O_CLOEXEC | O_NONBLOCK}),
      Make("seccomp filter", SYS_seccomp, {SECCOMP_SET_MODE_FILTER, 0, 0}),
      Make("landlock_create_ruleset", SYS_landlock_create_ruleset, {0, 0, 1}),
      Make("landlock_restrict_self", SYS_landlock_restrict_self, {5, 0}),
  };
  return std::vector<Call>(std::begin(calls), std::end(calls));
}

// What neither stage allows.
std::vector<Call> NeverAllowed() {
  static const Call calls[] = {
      Make("socket AF_INET", SYS_socket, {AF_INET, kStreamFlags, 0}),
      Make("socket AF_INET6", SYS_socket, {AF_INET6, SOCK_STREAM, 0}),
      Make("socket AF_NETLINK", SYS_socket, {AF_NETLINK, SOCK_RAW, 0}),
      Make("socket AF_UNIX dgram", SYS_socket, {AF_UNIX, SOCK_DGRAM, 0}),
      Make("socket AF_VSOCK dgram", SYS_socket, {AF_VSOCK, SOCK_DGRAM, 0}),
      Make("socket AF_VSOCK seqpacket", SYS_socket,
           {AF_VSOCK, SOCK_SEQPACKET, 0}),
      Make("socketpair", SYS_socketpair, {AF_UNIX, SOCK_STREAM, 0}),
      Make("bind", SYS_bind, {3}),
      Make("listen", SYS_listen, {3}),
      Make("accept4", SYS_accept4, {3}),
      Make("setsockopt SO_REUSEADDR", SYS_setsockopt,
           {3, SOL_SOCKET, SO_REUSEADDR}),
      Make("setsockopt vsock buffer size", SYS_setsockopt,
           {3, AF_VSOCK, SO_VM_SOCKETS_BUFFER_SIZE}),
      Make("getsockopt vsock", SYS_getsockopt, {3, AF_VSOCK, 0}),
      Make("openat O_CREAT", SYS_openat,
           {static_cast<uint64_t>(AT_FDCWD), 0, O_WRONLY | O_CREAT}),
      Make("openat O_TRUNC", SYS_openat,
           {static_cast<uint64_t>(AT_FDCWD), 0, O_WRONLY | O_TRUNC}),
      Make("openat O_TMPFILE", SYS_openat,
           {static_cast<uint64_t>(AT_FDCWD), 0, O_RDWR | O_TMPFILE}),
      Make("open", SYS_open, {0, O_RDONLY}),
      Make("newfstatat of a path", SYS_newfstatat,
           {static_cast<uint64_t>(AT_FDCWD), 0, 0, 0}),
      Make("chdir", SYS_chdir, {0}),
      Make("execve", SYS_execve),
      Make("execveat", SYS_execveat),
      Make("fork", SYS_fork),
      Make("vfork", SYS_vfork),
      Make("clone", SYS_clone),
      Make("clone3", SYS_clone3),
      Make("ptrace", SYS_ptrace),
      Make("kill", SYS_kill, {1, SIGKILL}),
      Make("tgkill SIGKILL to itself", SYS_tgkill, {kPid, kPid, SIGKILL}),
      Make("tgkill SIGABRT to another process", SYS_tgkill,
           {kPid + 1, kPid + 1, SIGABRT}),
      Make("tgkill SIGABRT to another thread", SYS_tgkill,
           {kPid, kPid + 1, SIGABRT}),
      Make("rt_sigaction SIGPIPE", SYS_rt_sigaction, {SIGPIPE}),
      Make("mmap exec", SYS_mmap,
           {0, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS}),
      Make("mprotect", SYS_mprotect, {0, 4096, PROT_READ | PROT_EXEC}),
      Make("prctl", SYS_prctl, {PR_SET_NO_NEW_PRIVS}),
      Make("seccomp strict", SYS_seccomp, {SECCOMP_SET_MODE_STRICT, 0, 0}),
      Make("seccomp filter with flags", SYS_seccomp,
           {SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, 0}),
      Make("fcntl F_DUPFD", SYS_fcntl, {3, F_DUPFD, 10}),
      Make("fcntl F_SETFD", SYS_fcntl, {3, F_SETFD, 0}),
      Make("ioctl", SYS_ioctl, {1, 0x5401}),
      Make("setrlimit", SYS_prlimit64, {0, RLIMIT_NPROC}),
      Make("x32 socket", SYS_socket | 0x40000000, {AF_UNIX, kStreamFlags}),
      Make("i386 socketcall", 102, {1}, AUDIT_ARCH_I386),
      Make("i386 read", 3, {0}, AUDIT_ARCH_I386),
  };
  return std::vector<Call>(std::begin(calls), std::end(calls));
}

void Expect(const std::vector<struct sock_filter>& prog, const char* stage,
            std::vector<Call> calls, uint32_t action) {
  for (const Call& c : calls) {
    EXPECT_EQ(RunFilter(prog, c.data), action)
        << stage << ": " << c.name
        << (action == SECCOMP_RET_ALLOW ? " must be allowed"
                                        : " must kill the process");
  }
}

TEST(PolicyTest, GeneratedForThisArchitecture) {
#if defined(__x86_64__)
  EXPECT_EQ(kSeccompAuditArch, AUDIT_ARCH_X86_64);
#else
  GTEST_SKIP() << "the expectations below use x86_64's system calls";
#endif
}

#if defined(__x86_64__)

// ExpectLoaded checks `calls` against the loaded program of `stage` (1 or 2),
// as sandbox.cc patches and loads it.
void ExpectLoaded(int stage, std::vector<Call> calls, uint32_t action) {
  if (stage == 1) {
    Expect(Patched(kStage1Filter, kStage1FilterPidSlots), "stage 1",
           std::move(calls), action);
  } else {
    Expect(Patched(kStage2Filter, kStage2FilterPidSlots), "stage 2",
           std::move(calls), action);
  }
}

TEST(PolicyTest, Stage1AllowsConnectingAndEverythingStage2Allows) {
  ExpectLoaded(1, Stage1OnlyAllowed(), SECCOMP_RET_ALLOW);
  ExpectLoaded(1, Stage2Allowed(), SECCOMP_RET_ALLOW);
}

TEST(PolicyTest, Stage1KillsTheRest) {
  ExpectLoaded(1, NeverAllowed(), SECCOMP_RET_KILL_PROCESS);
}

TEST(PolicyTest, Stage2AllowsIoOnOpenDescriptors) {
  ExpectLoaded(2, Stage2Allowed(), SECCOMP_RET_ALLOW);
}

TEST(PolicyTest, Stage2KillsEveryOpenSocketAndConnect) {
  ExpectLoaded(2, Stage1OnlyAllowed(), SECCOMP_RET_KILL_PROCESS);
  ExpectLoaded(2, NeverAllowed(), SECCOMP_RET_KILL_PROCESS);
}

// The counts -v prints are the distinct calls on each list.
TEST(PolicyTest, CallCounts) {
  EXPECT_EQ(kStage2FilterCalls, 24);
  EXPECT_EQ(kStage1FilterCalls, kStage2FilterCalls + 12);
}

// Every shape that bench/seccomp_attach measures allows and kills what its
// stage must, like the loaded one.
TEST(PolicyTest, EveryCandidateShapeKeepsItsStagesLists) {
  ASSERT_EQ(std::size(kSeccompCandidates), 12u);
  for (const SeccompCandidate& c : kSeccompCandidates) {
    const std::string name =
        std::string("stage ") + std::to_string(c.stage) + ", " + c.name;
    const std::vector<struct sock_filter> prog = Patched(c);
    Expect(prog, name.c_str(), Stage2Allowed(), SECCOMP_RET_ALLOW);
    Expect(prog, name.c_str(), Stage1OnlyAllowed(),
           c.stage == 1 ? SECCOMP_RET_ALLOW : SECCOMP_RET_KILL_PROCESS);
    Expect(prog, name.c_str(), NeverAllowed(), SECCOMP_RET_KILL_PROCESS);
  }
}

// The loaded programs are src/seccomp_policy_gen.cc's "balanced by numbers"
// candidates.
TEST(PolicyTest, TheLoadedProgramsAreTheMeasuredShape) {
  int found = 0;
  for (const SeccompCandidate& c : kSeccompCandidates) {
    const bool stage1 = c.stage == 1;
    const struct sock_filter* loaded = stage1 ? kStage1Filter : kStage2Filter;
    const size_t len =
        stage1 ? std::size(kStage1Filter) : std::size(kStage2Filter);
    if (c.len == len && std::memcmp(c.filter, loaded, len * 8) == 0) {
      ++found;
      EXPECT_TRUE(std::string(c.name).find("(loaded)") != std::string::npos)
          << c.name;
    }
  }
  EXPECT_EQ(found, 2);
}

// ArgValues returns, for each of the six arguments, the values to try: 0, all
// ones, and around every value a rule of `prog_nr` compares that argument
// with (the value, its neighbours, with the high word set, with the bits of
// O_CREAT, O_TRUNC, O_TMPFILE, SOCK_CLOEXEC|SOCK_NONBLOCK and PROT_EXEC).
std::vector<std::set<uint64_t>> ArgValues(int nr) {
  std::vector<std::set<uint64_t>> values(6, std::set<uint64_t>{0});
  const std::vector<Call> lists[] = {Stage2Allowed(), Stage1OnlyAllowed(),
                                     NeverAllowed()};
  for (const std::vector<Call>& list : lists) {
    for (const Call& c : list) {
      if (static_cast<int>(c.data.nr) != nr) continue;
      for (int a = 0; a < 4; ++a) {
        const uint64_t v = c.data.args[a];
        for (uint64_t w :
             {v, v ^ 1, v + 1, v | (uint64_t{1} << 32), v | O_CREAT,
              v | O_TRUNC, v | (O_TMPFILE & ~O_DIRECTORY),
              v | SOCK_CLOEXEC | SOCK_NONBLOCK, v | PROT_EXEC, ~uint64_t{0}}) {
          values[a].insert(w);
        }
      }
    }
  }
  return values;
}

// KernelView returns `data` as the kernel's system call reads it: the
// arguments that are int or unsigned int in its SYSCALL_DEFINE (those our
// rules compare; the kernel casts the register to 32 bits) without their
// high word.
struct seccomp_data KernelView(struct seccomp_data data) {
  static const struct {
    int nr;
    std::initializer_list<int> args;
  } kIntArgs[] = {
      {SYS_socket, {0, 1, 2}},     {SYS_setsockopt, {0, 1, 2}},
      {SYS_getsockopt, {0, 1, 2}}, {SYS_newfstatat, {0, 3}},
      {SYS_openat, {0, 2}},        {SYS_seccomp, {0, 1}},
      {SYS_fcntl, {0, 1}},         {SYS_tgkill, {0, 1, 2}},
      {SYS_rt_sigaction, {0}},
  };
  if (data.arch != AUDIT_ARCH_X86_64) return data;
  for (const auto& call : kIntArgs) {
    if (call.nr != data.nr) continue;
    for (int a : call.args) data.args[a] &= 0xffffffffu;
  }
  return data;
}

// The high word of an int argument is ignored by the kernel, and by the
// loaded programs: a call is judged on what the kernel will do.
TEST(PolicyTest, TheHighWordOfAnIntArgumentIsNotCompared) {
  const uint64_t high = uint64_t{1} << 32;
  ExpectLoaded(
      2,
      {Make("fcntl F_GETFL, high word set", SYS_fcntl, {3, F_GETFL | high}),
       Make("tgkill SIGABRT to itself, high words set", SYS_tgkill,
            {kPid | high, kPid | high, SIGABRT | high})},
      SECCOMP_RET_ALLOW);
  ExpectLoaded(
      2,
      {Make("fcntl F_DUPFD, high word set", SYS_fcntl, {3, F_DUPFD | high}),
       Make("tgkill SIGKILL, high word set", SYS_tgkill,
            {kPid, kPid, SIGKILL | high})},
      SECCOMP_RET_KILL_PROCESS);
  ExpectLoaded(1,
               {Make("socket AF_UNIX, high word set", SYS_socket,
                     {AF_UNIX | high, SOCK_STREAM | high, 0})},
               SECCOMP_RET_ALLOW);
  ExpectLoaded(1,
               {Make("socket AF_INET, high word set", SYS_socket,
                     {AF_INET | high, SOCK_STREAM, 0})},
               SECCOMP_RET_KILL_PROCESS);
}

// The loaded programs, and every other shape, decide as libseccomp's own
// program for the same list does: every number 0..1023 of x86_64, i386 and
// x32 (and the numbers just below and at 2^32), with every combination of the
// first four arguments' values above (the rules compare no other). Ours are
// compared on what the kernel reads (KernelView), libseccomp's other shape as
// they are.
TEST(PolicyTest, EveryShapeDecidesAsLibseccompDoes) {
  const std::vector<struct sock_filter> reference[2] = {
      Patched(kStage1LibseccompTree, kStage1LibseccompTreePidSlots),
      Patched(kStage2LibseccompTree, kStage2LibseccompTreePidSlots)};
  std::vector<std::pair<std::string, std::vector<struct sock_filter>>> progs[2];
  progs[0].push_back(
      {"loaded stage 1", Patched(kStage1Filter, kStage1FilterPidSlots)});
  progs[1].push_back(
      {"loaded stage 2", Patched(kStage2Filter, kStage2FilterPidSlots)});
  for (const SeccompCandidate& c : kSeccompCandidates) {
    progs[c.stage - 1].push_back({c.name, Patched(c)});
  }
  std::vector<uint32_t> numbers;
  for (uint32_t nr = 0; nr < 1024; ++nr) numbers.push_back(nr);
  for (uint32_t nr : {0x3fffffffu, 0x7fffffffu, 0xfffffffeu, 0xffffffffu}) {
    numbers.push_back(nr);
  }
  long compared = 0;
  int mismatches = 0;
  for (uint32_t arch : {static_cast<uint32_t>(AUDIT_ARCH_X86_64),
                        static_cast<uint32_t>(AUDIT_ARCH_I386), 0u}) {
    for (uint32_t base : numbers) {
      // arch 0 stands for x32: x86_64's arch with bit 30 in the number.
      const uint32_t nr = arch == 0 ? (base | 0x40000000u) : base;
      const std::vector<std::set<uint64_t>> values =
          ArgValues(static_cast<int>(nr));
      struct seccomp_data data = {};
      data.nr = static_cast<int>(nr);
      data.arch = arch == 0 ? AUDIT_ARCH_X86_64 : arch;
      for (uint64_t a0 : values[0]) {
        for (uint64_t a1 : values[1]) {
          for (uint64_t a2 : values[2]) {
            for (uint64_t a3 : values[3]) {
              data.args[0] = a0;
              data.args[1] = a1;
              data.args[2] = a2;
              data.args[3] = a3;
              for (int stage = 0; stage < 2; ++stage) {
                const uint32_t raw = RunFilter(reference[stage], data);
                const uint32_t kernel =
                    RunFilter(reference[stage], KernelView(data));
                for (const auto& [name, prog] : progs[stage]) {
                  ++compared;
                  const uint32_t want =
                      name.rfind("libseccomp", 0) == 0 ? raw : kernel;
                  if (RunFilter(prog, data) == want) continue;
                  if (++mismatches <= 20) {
                    ADD_FAILURE()
                        << name << ": nr " << nr << " arch 0x" << std::hex
                        << data.arch << " args " << a0 << " " << a1 << " " << a2
                        << " " << a3 << ": 0x" << RunFilter(prog, data)
                        << ", libseccomp 0x" << want;
                  }
                }
              }
            }
          }
        }
      }
    }
  }
  EXPECT_EQ(mismatches, 0);
  EXPECT_GT(compared, 100000);
}

#endif

}  // namespace
