// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// seccomp_policy_gen: the seccomp allowlists of ssh-proxy's two confinement
// stages (sandbox.h), compiled to BPF when ssh-proxy is built, and printed as
// a C++ header that sandbox.cc includes.
//
// Why at build time: libseccomp compiles a filter in 50-150 us and probes the
// kernel with eight more system calls first; ssh-proxy's whole life is about
// 700 us, all of it on the path ssh waits on. Loading a program that is
// already compiled costs one seccomp(2) call.
//
// Why our own BPF and not libseccomp's: attaching a filter costs the kernel
// a fixed ~18 us (conversion, JIT), about 0.2-0.4 us more per instruction,
// and, for the first filter of a process, a walk of the program for every
// system call number (about 470 on x86_64, and as many for i386) to learn
// which calls are always allowed, 2-5 ns per instruction walked. The first
// filter is on the path ssh waits on (bench/README.md has the figures). So:
//   1. the architecture check (another ABI, x32 or i386, is killed at once);
//   2. in the loaded shape, a load of the instruction pointer that nothing
//      uses: the kernel's walk gives up at the first load of anything but the
//      number or the architecture, so it stops there, 3 instructions for
//      every number, instead of walking the tree (about 2000 instructions
//      fewer per load); the price is that each later call runs the filter
//      (tens of nanoseconds, and ssh-proxy makes a handful);
//   3. a range check: a number above the highest allowed one is killed;
//   4. a binary tree of JGE comparisons over the runs of numbers that share a
//      verdict (allow, kill, or "check the arguments"), built so that the sum
//      of path lengths over all numbers is the least possible: a run of many
//      refused numbers sits near the root, a lone allowed one deeper;
//   5. per call with conditions, its argument checks, then allow; no rule
//      matched: kill. Every argument our rules compare is an int or unsigned
//      int in the kernel's SYSCALL_DEFINE (kIntArgs), which reads its low 32
//      bits only: only that word is compared. (libseccomp compares both
//      words, 2 more instructions per condition, and kills a call whose
//      unused high word is not zero.)
// Stage 1 is 105 instructions (libseccomp: 123), stage 2 58 (64).
// libseccomp still resolves the call names, and its own programs for the same
// lists are printed with --candidates: the reference that tests/sandbox's
// policy_test compares ours with, call by call, and what bench/seccomp_attach
// measures ours against (bench/README.md has the figures).
//
// The filters are for the architecture this generator runs on (libseccomp's
// native one). sandbox.cc refuses to load a filter made for another
// architecture than the one it was compiled for.
//
// Seccomp filters stack and cannot be removed: after stage 2 every system call
// must pass both filters. So stage 1's list is stage 2's plus what connecting
// needs, and stage 2's list is what the rest of ssh-proxy's life needs. Stage
// 2's list alone holds every guarantee after connect: for the kinds that skip
// stage 1 (sandbox.h), it is the only filter.
//
// Usage: seccomp_policy_gen > seccomp_policy.inc
//        seccomp_policy_gen --candidates > seccomp_candidates.inc
// (exit 1 on any failure, e.g. a jump too far for classic BPF).

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/vm_sockets.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace {

// One allowed call, optionally with conditions on its arguments (all must
// hold; a call listed twice is allowed if either entry matches).
struct Rule {
  const char* name;
  std::vector<scmp_arg_cmp> args;
  const char* why;
};

// tgkill may signal only ssh-proxy itself, whose pid is known at run time
// only: the rule compares with this placeholder, and sandbox.cc puts its pid
// into the instructions listed in k<Filter>PidSlots. Emit checks that the
// value occurs nowhere else.
constexpr uint32_t kPidPlaceholder = 0x7eadbeef;

// Arg is libseccomp's SCMP_A<N>() without its missing-initializer warning:
// argument `arg` compared by `op` with `a` (for SCMP_CMP_MASKED_EQ: the mask,
// and `b` the value).
scmp_arg_cmp Arg(unsigned arg, scmp_compare op, scmp_datum_t a,
                 scmp_datum_t b = 0) {
  return scmp_arg_cmp{arg, op, a, b};
}

// What stage 2 needs: I/O on descriptors that are already open, memory, the
// clock, and exiting (including abort()'s way out). Both stages allow these.
std::vector<Rule> Stage2Rules() {
  return {
      {"read", {}, "the relay reads stdin and the pipe it splices through"},
      {"write", {}, "messages and -v lines on stderr; the relay's writes"},
      {"sendto", {}, "send(): CONNECT to the multiplexer; relay to a socket"},
      {"recvfrom", {}, "recv(): the multiplexer's reply; relay from a socket"},
      {"sendmsg", {}, "the hand-off of the connection to ssh (SCM_RIGHTS)"},
      {"poll", {}, "every wait (connect, reply, hand-off, relay)"},
      {"splice", {}, "the relay's zero-copy path"},
      {"shutdown", {}, "the relay half-closes a socket at EOF"},
      {"close", {}, "descriptors we own; the relay closes stdout at EOF"},
      {"fcntl",
       {Arg(1, SCMP_CMP_EQ, F_GETFL)},
       "O_NONBLOCK on our own socket (connector and relay)"},
      {"fcntl", {Arg(1, SCMP_CMP_EQ, F_SETFL)}, "(the same)"},
      {"clock_gettime", {}, "the --timeout clock when there is no vDSO"},
      {"brk", {}, "malloc"},
      {"mmap",
       {Arg(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)},
       "malloc of 128 KiB and more, or when brk fails; glibc's fatal "
       "messages; never executable memory"},
      {"munmap", {}, "free of such blocks"},
      {"mremap", {}, "realloc of such blocks (glibc malloc)"},
      {"madvise", {}, "glibc malloc returning memory to the kernel"},
      {"exit_group", {}, "exit() and _exit()"},
      {"restart_syscall",
       {},
       "the kernel resumes a poll with a timeout after SIGSTOP/SIGCONT "
       "(ssh suspended with ~^Z)"},
      {"writev", {}, "glibc's fatal messages (fortify, stack smashing)"},
      {"rt_sigprocmask", {}, "abort(): unblock SIGABRT; raise()"},
      {"gettid", {}, "abort(): raise() names its thread"},
      {"getpid",
       {},
       "abort(): raise() names its process; the pid for stage 2's tgkill rule"},
      {"tgkill",
       {Arg(0, SCMP_CMP_EQ, kPidPlaceholder),
        Arg(1, SCMP_CMP_EQ, kPidPlaceholder), Arg(2, SCMP_CMP_EQ, SIGABRT)},
       "abort(): raise(SIGABRT) to itself only (pid filled in at run time)"},
      {"rt_sigaction",
       {Arg(0, SCMP_CMP_EQ, SIGABRT)},
       "abort(): SIGABRT back to its default if a handler returned"},
  };
}

// What only stage 1 needs: making the connection and preparing the relay, and
// turning stage 2 on.
std::vector<Rule> Stage1OnlyRules() {
  // O_TMPFILE includes O_DIRECTORY, which the O_PATH opens of directories
  // use: only its own bit is refused.
  const unsigned kNoCreate = O_CREAT | O_TRUNC | (O_TMPFILE & ~O_DIRECTORY);
  return {
      {"socket",
       {Arg(0, SCMP_CMP_EQ, AF_UNIX),
        Arg(1, SCMP_CMP_MASKED_EQ, 0xf, SOCK_STREAM)},
       "the connection: AF_UNIX stream sockets"},
      {"socket",
       {Arg(0, SCMP_CMP_EQ, AF_VSOCK),
        Arg(1, SCMP_CMP_MASKED_EQ, 0xf, SOCK_STREAM)},
       "the connection: AF_VSOCK stream sockets"},
      {"connect", {}, "the connection"},
      {"setsockopt",
       {Arg(1, SCMP_CMP_EQ, AF_VSOCK),
        Arg(2, SCMP_CMP_EQ, SO_VM_SOCKETS_CONNECT_TIMEOUT)},
       "vsock's connect timeout from --timeout"},
      {"getsockopt",
       {Arg(1, SCMP_CMP_EQ, SOL_SOCKET)},
       "SO_ERROR after a connect, SO_DOMAIN of stdout"},
      {"newfstatat",
       {Arg(3, SCMP_CMP_EQ, AT_EMPTY_PATH)},
       "fstat(): is stdout a socket, what are stdin and stdout (glibc 2.36)"},
      {"fstat", {}, "fstat() as newer glibc makes it (2.43 in Debian sid)"},
      {"openat",
       {Arg(2, SCMP_CMP_MASKED_EQ, kNoCreate, 0)},
       "O_PATH opens of long socket paths, \".\" and the socket's directory; "
       "the relay's own descriptor of a terminal stdout via /proc/self/fd; "
       "never creating or truncating"},
      {"fchdir", {}, "long paths without /proc: into the socket's directory"},
      {"pipe2", {}, "the relay's splice pipes"},
      {"seccomp",
       {Arg(0, SCMP_CMP_EQ, SECCOMP_SET_MODE_FILTER), Arg(1, SCMP_CMP_EQ, 0)},
       "loading stage 2's filter"},
      {"landlock_create_ruleset", {}, "stage 2's Landlock ABI check, ruleset"},
      {"landlock_restrict_self", {}, "stage 2's Landlock ruleset"},
  };
}

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the argument offsets below are for little-endian machines");

constexpr uint32_t kNrOffset = offsetof(struct seccomp_data, nr);
constexpr uint32_t kArchOffset = offsetof(struct seccomp_data, arch);
constexpr uint32_t kIpOffset =
    offsetof(struct seccomp_data, instruction_pointer);
// The low and high word of argument `arg` (little-endian).
uint32_t ArgLow(unsigned arg) {
  return static_cast<uint32_t>(offsetof(struct seccomp_data, args) + 8 * arg);
}
uint32_t ArgHigh(unsigned arg) { return ArgLow(arg) + 4; }

// Assembler lays out classic BPF with symbolic jump targets and resolves them
// at the end: seccomp allows forward jumps only, of at most 255 instructions
// for a conditional jump.
class Assembler {
 public:
  static constexpr int kNext = -1;  // Fall through to the next instruction.

  int NewLabel() {
    labels_.push_back(-1);
    return static_cast<int>(labels_.size()) - 1;
  }
  void Bind(int label) { labels_[label] = static_cast<int>(insns_.size()); }
  void Stmt(uint16_t code, uint32_t k) {
    insns_.push_back({code, k, kNext, kNext});
  }
  void Jump(uint16_t code, uint32_t k, int jt, int jf) {
    insns_.push_back({code, k, jt, jf});
  }
  // Finish returns the program, or false with the reason on stderr.
  bool Finish(const char* what, std::vector<struct sock_filter>* out) const {
    out->clear();
    for (size_t pc = 0; pc < insns_.size(); ++pc) {
      const Insn& insn = insns_[pc];
      struct sock_filter f = {insn.code, 0, 0, insn.k};
      for (int side = 0; side < 2; ++side) {
        const int label = side == 0 ? insn.jt : insn.jf;
        if (label == kNext) continue;
        const int target = labels_[label];
        const long offset =
            static_cast<long>(target) - static_cast<long>(pc) - 1;
        if (target < 0 || offset < 0 || offset > 255) {
          std::fprintf(stderr,
                       "%s: instruction %zu cannot jump to %d (classic BPF "
                       "jumps forward, by at most 255)\n",
                       what, pc, target);
          return false;
        }
        (side == 0 ? f.jt : f.jf) = static_cast<uint8_t>(offset);
      }
      out->push_back(f);
    }
    return true;
  }

 private:
  struct Insn {
    uint16_t code;
    uint32_t k;
    int jt;
    int jf;
  };
  std::vector<Insn> insns_;
  std::vector<int> labels_;
};

// A list's calls by number: each either allowed whatever its arguments, or
// allowed when one of its rules' argument conditions all hold.
struct Call {
  bool unconditional = false;
  std::vector<const Rule*> rules;  // With conditions; ignored if unconditional.
};

bool ByNumber(const std::vector<Rule>& rules, std::map<uint32_t, Call>* calls) {
  for (const Rule& rule : rules) {
    const int nr = seccomp_syscall_resolve_name(rule.name);
    if (nr == __NR_SCMP_ERROR || nr < 0) {
      std::fprintf(stderr, "unknown system call %s\n", rule.name);
      return false;
    }
    Call& call = (*calls)[static_cast<uint32_t>(nr)];
    if (rule.args.empty()) {
      call.unconditional = true;
    } else {
      call.rules.push_back(&rule);
    }
  }
  return true;
}

// How the tree below the range check is balanced.
enum class Shape {
  kByNumbers,            // Least total path length over every number.
  kByNumbersUncachable,  // The same, but the kernel cannot pre-compute it.
  kByRuns,               // Every run of numbers weighs the same (depth).
  // No tree: one JEQ per allowed number, in order, uncachable. Measured only:
  // the fewest instructions, but a refused number walks them all.
  kLinearUncachable,
};

// One check of a condition: load a word of an argument, mask it, compare.
struct Check {
  uint32_t offset;
  uint32_t mask;
  uint32_t value;
};

// The arguments that our rules compare, each an int or unsigned int in the
// kernel's SYSCALL_DEFINE of its call (the kernel casts the register to 32
// bits): socket(int family, int type, ...), setsockopt/getsockopt(int fd, int
// level, int optname, ...), newfstatat(..., int flag), openat(..., int flags,
// ...), seccomp(unsigned int op, unsigned int flags, ...), fcntl(unsigned int
// fd, unsigned int cmd, ...), tgkill(pid_t tgid, pid_t pid, int sig),
// rt_sigaction(int sig, ...). A condition on any other argument keeps both
// words.
struct IntArg {
  const char* name;
  unsigned arg;
};
constexpr IntArg kIntArgs[] = {
    {"socket", 0},     {"socket", 1},       {"setsockopt", 1},
    {"setsockopt", 2}, {"getsockopt", 1},   {"newfstatat", 3},
    {"openat", 2},     {"seccomp", 0},      {"seccomp", 1},
    {"fcntl", 1},      {"tgkill", 0},       {"tgkill", 1},
    {"tgkill", 2},     {"rt_sigaction", 0},
};

bool IsIntArg(const char* name, unsigned arg) {
  for (const IntArg& a : kIntArgs) {
    if (a.arg == arg && std::strcmp(a.name, name) == 0) return true;
  }
  return false;
}

// Checks returns the word comparisons of `cmp` (EQ: all 64 bits, or the low
// 32 of an int argument; MASKED_EQ: the masked bits), leaving out a word whose
// mask is 0; or false for a comparison this emitter does not know or that can
// never hold.
bool Checks(const scmp_arg_cmp& cmp, const char* name,
            std::vector<Check>* checks) {
  uint64_t mask, value;
  if (cmp.op == SCMP_CMP_EQ) {
    mask = ~uint64_t{0};
    value = cmp.datum_a;
  } else if (cmp.op == SCMP_CMP_MASKED_EQ) {
    mask = cmp.datum_a;
    value = cmp.datum_b;
  } else {
    std::fprintf(stderr, "%s: only EQ and MASKED_EQ conditions are emitted\n",
                 name);
    return false;
  }
  if (IsIntArg(name, cmp.arg)) {
    if ((value >> 32) != 0) {
      std::fprintf(stderr, "%s: a 64-bit value for an int argument\n", name);
      return false;
    }
    mask &= 0xffffffffu;
  }
  if ((value & ~mask) != 0) {
    std::fprintf(stderr, "%s: a condition that can never hold\n", name);
    return false;
  }
  const uint32_t words[2][3] = {
      {ArgHigh(cmp.arg), static_cast<uint32_t>(mask >> 32),
       static_cast<uint32_t>(value >> 32)},
      {ArgLow(cmp.arg), static_cast<uint32_t>(mask),
       static_cast<uint32_t>(value)}};
  for (const auto& w : words) {
    if (w[1] != 0) checks->push_back({w[0], w[1], w[2]});
  }
  return true;
}

// TreeProgram emits the program described at the top of this file.
bool TreeProgram(const char* what, const std::vector<Rule>& rules,
                 uint32_t arch, Shape shape,
                 std::vector<struct sock_filter>* out) {
  std::map<uint32_t, Call> calls;
  if (!ByNumber(rules, &calls) || calls.empty()) return false;
  Assembler as;
  const int allow = as.NewLabel();
  const int kill = as.NewLabel();
  std::map<uint32_t, int> blocks;  // Calls with conditions: their checks.
  for (const auto& [nr, call] : calls) {
    if (!call.unconditional) blocks[nr] = as.NewLabel();
  }
  // The runs of numbers 0..max that share a verdict; each run is a leaf.
  struct Leaf {
    uint32_t first;
    uint64_t weight;
    int label;
  };
  std::vector<Leaf> leaves;
  const uint32_t max = calls.rbegin()->first;
  for (uint32_t nr = 0; nr <= max; ++nr) {
    auto it = calls.find(nr);
    const int label = it == calls.end()          ? kill
                      : it->second.unconditional ? allow
                                                 : blocks[nr];
    if (!leaves.empty() && leaves.back().label == label) {
      if (shape != Shape::kByRuns) ++leaves.back().weight;
      continue;
    }
    leaves.push_back({nr, 1, label});
  }
  // The optimal alphabetic tree over the leaves (n is below 100: O(n^3) is
  // nothing): cost[i][j] is the least sum of weight times depth of leaves
  // i..j, split[i][j] the last leaf of its left subtree.
  const size_t n = leaves.size();
  std::vector<uint64_t> prefix(n + 1, 0);
  for (size_t i = 0; i < n; ++i) prefix[i + 1] = prefix[i] + leaves[i].weight;
  std::vector<std::vector<uint64_t>> cost(n, std::vector<uint64_t>(n, 0));
  std::vector<std::vector<size_t>> split(n, std::vector<size_t>(n, 0));
  for (size_t len = 2; len <= n; ++len) {
    for (size_t i = 0; i + len <= n; ++i) {
      const size_t j = i + len - 1;
      uint64_t best = std::numeric_limits<uint64_t>::max();
      // Ties go to the middle: the tree stays shallow where weights agree.
      for (size_t k = i; k < j; ++k) {
        const uint64_t c = cost[i][k] + cost[k + 1][j];
        const bool middle = 2 * k + 1 == i + j || 2 * k == i + j;
        if (c < best || (c == best && middle)) {
          best = c;
          split[i][j] = k;
        }
      }
      cost[i][j] = best + prefix[j + 1] - prefix[i];
    }
  }

  as.Stmt(BPF_LD | BPF_W | BPF_ABS, kArchOffset);
  as.Jump(BPF_JMP | BPF_JEQ | BPF_K, arch, Assembler::kNext, kill);
  if (shape == Shape::kByNumbersUncachable ||
      shape == Shape::kLinearUncachable) {
    // The kernel pre-computes a filter only as long as it loads nothing but
    // the number and the architecture: this load makes it stop here for every
    // number, and run the filter on every call instead.
    as.Stmt(BPF_LD | BPF_W | BPF_ABS, kIpOffset);
  }
  as.Stmt(BPF_LD | BPF_W | BPF_ABS, kNrOffset);
  // The range check: above the highest allowed number (x32's numbers, which
  // have bit 30 set, included), kill.
  const int root = n == 1 ? leaves[0].label : as.NewLabel();
  as.Jump(BPF_JMP | BPF_JGT | BPF_K, max, kill, root);
  if (shape == Shape::kLinearUncachable) {
    as.Bind(root);
    for (auto it = calls.begin(); it != calls.end(); ++it) {
      const int target = it->second.unconditional ? allow : blocks[it->first];
      const bool last = std::next(it) == calls.end();
      as.Jump(BPF_JMP | BPF_JEQ | BPF_K, it->first, target,
              last ? kill : Assembler::kNext);
    }
  }
  // The tree, in preorder: each node's left subtree follows it.
  struct Node {
    size_t i, j;
    int label;
  };
  std::vector<Node> stack;
  if (n > 1 && shape != Shape::kLinearUncachable) {
    stack.push_back({0, n - 1, root});
  }
  while (!stack.empty()) {
    const Node node = stack.back();
    stack.pop_back();
    as.Bind(node.label);
    const size_t k = split[node.i][node.j];
    const int left = node.i == k ? leaves[k].label : as.NewLabel();
    const int right = k + 1 == node.j ? leaves[node.j].label : as.NewLabel();
    as.Jump(BPF_JMP | BPF_JGE | BPF_K, leaves[k + 1].first, right, left);
    if (k + 1 < node.j) stack.push_back({k + 1, node.j, right});
    if (node.i < k) stack.push_back({node.i, k, left});  // Emitted next.
  }
  // The argument checks: the rules of a call in turn; the first whose
  // conditions all hold allows it.
  for (const auto& [nr, label] : blocks) {
    const std::vector<const Rule*>& call_rules = calls[nr].rules;
    as.Bind(label);
    for (size_t r = 0; r < call_rules.size(); ++r) {
      std::vector<Check> checks;
      for (const scmp_arg_cmp& cmp : call_rules[r]->args) {
        if (!Checks(cmp, call_rules[r]->name, &checks)) return false;
      }
      if (checks.empty()) {
        std::fprintf(stderr, "%s: conditions that always hold\n",
                     call_rules[r]->name);
        return false;
      }
      const int next_rule = r + 1 < call_rules.size() ? as.NewLabel() : kill;
      for (size_t c = 0; c < checks.size(); ++c) {
        as.Stmt(BPF_LD | BPF_W | BPF_ABS, checks[c].offset);
        if (checks[c].mask != 0xffffffffu) {
          as.Stmt(BPF_ALU | BPF_AND | BPF_K, checks[c].mask);
        }
        as.Jump(BPF_JMP | BPF_JEQ | BPF_K, checks[c].value,
                c + 1 == checks.size() ? allow : Assembler::kNext, next_rule);
      }
      if (next_rule != kill) as.Bind(next_rule);
    }
  }
  as.Bind(allow);
  as.Stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  as.Bind(kill);
  as.Stmt(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
  return as.Finish(what, out);
}

// LibseccompProgram is libseccomp's program for `rules`: with `optimize` 2 a
// binary tree of its own (what ssh-proxy loaded before it emitted its own),
// with 1 the calls in the order of their priority.
bool LibseccompProgram(const char* what, const std::vector<Rule>& rules,
                       int optimize, std::vector<struct sock_filter>* out) {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
  if (ctx == nullptr) {
    std::fprintf(stderr, "seccomp_init failed\n");
    return false;
  }
  bool ok = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
                             SCMP_ACT_KILL_PROCESS) == 0 &&
            seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, optimize) == 0 &&
            // ssh-proxy sets no_new_privs itself, before loading.
            seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0) == 0;
  for (const Rule& rule : rules) {
    if (!ok) break;
    const int nr = seccomp_syscall_resolve_name(rule.name);
    if (nr == __NR_SCMP_ERROR) {
      std::fprintf(stderr, "unknown system call %s\n", rule.name);
      ok = false;
      break;
    }
    const int rc = seccomp_rule_add_array(
        ctx, SCMP_ACT_ALLOW, nr, static_cast<unsigned>(rule.args.size()),
        rule.args.empty() ? nullptr : rule.args.data());
    if (rc != 0) {
      std::fprintf(stderr, "seccomp_rule_add(%s): %s\n", rule.name,
                   std::strerror(-rc));
      ok = false;
    }
  }
  std::vector<unsigned char> bpf;
  if (ok) {
    FILE* tmp = std::tmpfile();
    ok = tmp != nullptr && seccomp_export_bpf(ctx, fileno(tmp)) == 0;
    if (ok) {
      std::rewind(tmp);
      int c;
      while ((c = std::fgetc(tmp)) != EOF)
        bpf.push_back(static_cast<unsigned char>(c));
    }
    if (tmp != nullptr) std::fclose(tmp);
  }
  seccomp_release(ctx);
  if (!ok || bpf.empty() || bpf.size() % sizeof(struct sock_filter) != 0) {
    std::fprintf(stderr, "cannot export the BPF of %s\n", what);
    return false;
  }
  out->resize(bpf.size() / sizeof(struct sock_filter));
  std::memcpy(out->data(), bpf.data(), bpf.size());
  return true;
}

// PrintProgram prints `bpf` as the array `var`, k<var>PidSlots (the two
// instructions that compare with the pid placeholder) and, with `rules`, the
// list it allows and k<var>Calls.
bool PrintProgram(const char* var, const std::vector<Rule>* rules,
                  const std::vector<struct sock_filter>& bpf, FILE* out) {
  if (rules != nullptr) {
    std::set<std::string> names;
    for (const Rule& rule : *rules) names.insert(rule.name);
    std::fprintf(out, "\n// %zu system calls allowed (%zu rules):\n",
                 names.size(), rules->size());
    for (const Rule& rule : *rules) {
      std::fprintf(out, "//   %-24s %s%s\n", rule.name,
                   rule.args.empty() ? "" : "(by argument) ", rule.why);
    }
    std::fprintf(out, "inline constexpr int %sCalls = %zu;\n", var,
                 names.size());
  }
  std::fprintf(out, "// %zu instructions.\n", bpf.size());
  std::fprintf(out, "inline constexpr struct sock_filter %s[] = {\n", var);
  std::vector<size_t> pid_slots;
  for (size_t i = 0; i < bpf.size(); ++i) {
    const struct sock_filter& f = bpf[i];
    std::fprintf(out, "    {0x%02x, %u, %u, 0x%08x},\n", f.code, f.jt, f.jf,
                 f.k);
    if (f.k == kPidPlaceholder) {
      // Only as the operand of an equality test of an argument's low word.
      if (f.code != (BPF_JMP | BPF_JEQ | BPF_K)) {
        std::fprintf(stderr, "%s: the pid placeholder in opcode 0x%x\n", var,
                     f.code);
        return false;
      }
      pid_slots.push_back(i);
    }
  }
  std::fprintf(out, "};\n");
  // tgkill's tgid and tid: one test each.
  if (pid_slots.size() != 2) {
    std::fprintf(stderr, "%s: the pid placeholder occurs %zu times, not 2\n",
                 var, pid_slots.size());
    return false;
  }
  std::fprintf(out, "inline constexpr int %sPidSlots[] = {%zu, %zu};\n", var,
               pid_slots[0], pid_slots[1]);
  return true;
}

std::vector<Rule> Stage1Rules() {
  std::vector<Rule> stage1 = Stage2Rules();
  const std::vector<Rule> only1 = Stage1OnlyRules();
  stage1.insert(stage1.end(), only1.begin(), only1.end());
  return stage1;
}

// The shape sandbox.cc loads. Measured (bench/README.md): the kernel charges
// about 0.2-0.4 us per instruction to check and compile a filter, and 2-5 ns
// per instruction it walks for each of ~940 numbers when the filter is the
// first; kByNumbers walks ~4800 (stage 2) and ~5700 (stage 1) instructions,
// kByNumbersUncachable 2820 for either, and costs each later call one run of
// the filter (tens of nanoseconds; ssh-proxy makes a handful after stage 2).
constexpr Shape kLoadedShape = Shape::kByNumbersUncachable;

// PrintPolicy prints what sandbox.cc loads: both stages, in kLoadedShape.
bool PrintPolicy(uint32_t arch, FILE* out) {
  std::fprintf(out, "inline constexpr unsigned kSeccompAuditArch = 0x%08xu;\n",
               arch);
  const std::vector<Rule> stage1 = Stage1Rules();
  const std::vector<Rule> stage2 = Stage2Rules();
  std::vector<struct sock_filter> bpf;
  return TreeProgram("stage 1", stage1, arch, kLoadedShape, &bpf) &&
         PrintProgram("kStage1Filter", &stage1, bpf, out) &&
         TreeProgram("stage 2", stage2, arch, kLoadedShape, &bpf) &&
         PrintProgram("kStage2Filter", &stage2, bpf, out);
}

// PrintCandidates prints every shape of both stages' programs and a table of
// them, kSeccompCandidates, for bench/seccomp_attach and policy_test.
bool PrintCandidates(uint32_t arch, FILE* out) {
  struct Candidate {
    const char* id;
    const char* name;
    int libseccomp_optimize;  // 0: our own TreeProgram with `shape`.
    Shape shape;
  };
  const Candidate kCandidates[] = {
      {"LibseccompTree", "libseccomp, its binary tree (until now)", 2,
       Shape::kByNumbers},
      {"LibseccompLinear", "libseccomp, rules in priority order", 1,
       Shape::kByNumbers},
      {"TreeByRuns", "range check, tree balanced by runs", 0, Shape::kByRuns},
      {"TreeByNumbers", "range check, tree balanced by numbers", 0,
       Shape::kByNumbers},
      {"TreeByNumbersUncachable", "the same, uncachable (loaded)", 0,
       Shape::kByNumbersUncachable},
      {"LinearUncachable", "range check, no tree, uncachable", 0,
       Shape::kLinearUncachable},
  };
  std::fprintf(out,
               "struct SeccompCandidate {\n"
               "  const char* name;\n"
               "  int stage;\n"
               "  const struct sock_filter* filter;\n"
               "  unsigned short len;\n"
               "  const int* pid_slots;  // Two.\n"
               "};\n");
  std::string table;
  for (int stage = 1; stage <= 2; ++stage) {
    const std::vector<Rule> rules = stage == 1 ? Stage1Rules() : Stage2Rules();
    for (const Candidate& c : kCandidates) {
      const std::string var =
          std::string("kStage") + std::to_string(stage) + c.id;
      std::vector<struct sock_filter> bpf;
      const bool ok =
          c.libseccomp_optimize != 0
              ? LibseccompProgram(var.c_str(), rules, c.libseccomp_optimize,
                                  &bpf)
              : TreeProgram(var.c_str(), rules, arch, c.shape, &bpf);
      if (!ok || !PrintProgram(var.c_str(), nullptr, bpf, out)) return false;
      table += "    {\"" + std::string(c.name) + "\", " +
               std::to_string(stage) + ", " + var + ", " +
               std::to_string(bpf.size()) + ", " + var + "PidSlots},\n";
    }
  }
  std::fprintf(
      out, "inline constexpr SeccompCandidate kSeccompCandidates[] = {\n%s};\n",
      table.c_str());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  const bool candidates =
      argc == 2 && std::strcmp(argv[1], "--candidates") == 0;
  if (argc > 2 || (argc == 2 && !candidates)) {
    std::fprintf(stderr, "usage: seccomp_policy_gen [--candidates]\n");
    return 1;
  }
  const uint32_t arch = seccomp_arch_native();
  FILE* out = stdout;
  std::fprintf(out,
               "// Generated by //src:seccomp_policy_gen%s (libseccomp "
               "%u.%u.%u) from the lists in\n// src/seccomp_policy_gen.cc. Do "
               "not edit.\n",
               candidates ? " --candidates" : "", seccomp_version()->major,
               seccomp_version()->minor, seccomp_version()->micro);
  const bool ok =
      candidates ? PrintCandidates(arch, out) : PrintPolicy(arch, out);
  if (!ok) return 1;
  return std::fflush(out) == 0 ? 0 : 1;
}
