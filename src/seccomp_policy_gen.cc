// seccomp_policy_gen: the seccomp allowlists of ssh-proxy's two confinement
// stages (sandbox.h), compiled to BPF with Debian's libseccomp when ssh-proxy
// is built, and printed as a C++ header that sandbox.cc includes.
//
// Why at build time: libseccomp compiles a filter in 50-150 us and probes the
// kernel with eight more system calls first; ssh-proxy's whole life is about
// 500 us, and confinement may cost at most 3% of it. The BPF that libseccomp
// emits here is the same program it would load at run time; loading it costs
// one seccomp(2) call.
//
// The filters are for the architecture this generator runs on (libseccomp's
// native one): every program starts by checking seccomp_data.arch and kills a
// process that calls in through another ABI (x32, i386). sandbox.cc refuses to
// load a filter made for another architecture than the one it was compiled
// for.
//
// Seccomp filters stack and cannot be removed: after stage 2 every system call
// must pass both filters. So stage 1's list is stage 2's plus what connecting
// needs, and stage 2's list is what the rest of ssh-proxy's life needs.
//
// Usage: seccomp_policy_gen > seccomp_policy.inc (exit 1 on any failure).

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

#include <cstdio>
#include <cstring>
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

bool Emit(const char* var, const std::vector<Rule>& rules, FILE* out) {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
  if (ctx == nullptr) {
    std::fprintf(stderr, "seccomp_init failed\n");
    return false;
  }
  bool ok = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
                             SCMP_ACT_KILL_PROCESS) == 0 &&
            // A binary tree of system call numbers: fewer comparisons per call.
            seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2) == 0 &&
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
    std::fprintf(stderr, "cannot export the BPF of %s\n", var);
    return false;
  }
  std::set<std::string> names;
  for (const Rule& rule : rules) names.insert(rule.name);
  std::fprintf(out, "\n// %zu system calls allowed (%zu rules):\n",
               names.size(), rules.size());
  for (const Rule& rule : rules) {
    std::fprintf(out, "//   %-24s %s%s\n", rule.name,
                 rule.args.empty() ? "" : "(by argument) ", rule.why);
  }
  std::fprintf(out, "inline constexpr int %sCalls = %zu;\n", var, names.size());
  std::fprintf(out, "inline constexpr struct sock_filter %s[] = {\n", var);
  std::vector<size_t> pid_slots;
  for (size_t i = 0; i < bpf.size(); i += sizeof(struct sock_filter)) {
    struct sock_filter f;
    std::memcpy(&f, &bpf[i], sizeof(f));
    std::fprintf(out, "    {0x%02x, %u, %u, 0x%08x},\n", f.code, f.jt, f.jf,
                 f.k);
    if (f.k == kPidPlaceholder) {
      // Only as the operand of an equality test of an argument's low word.
      if (f.code != (BPF_JMP | BPF_JEQ | BPF_K)) {
        std::fprintf(stderr, "%s: the pid placeholder in opcode 0x%x\n", var,
                     f.code);
        return false;
      }
      pid_slots.push_back(i / sizeof(struct sock_filter));
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

}  // namespace

int main() {
  const uint32_t arch = seccomp_arch_native();
  std::vector<Rule> stage1 = Stage2Rules();
  const std::vector<Rule> only1 = Stage1OnlyRules();
  stage1.insert(stage1.end(), only1.begin(), only1.end());
  FILE* out = stdout;
  std::fprintf(out,
               "// Generated by //src:seccomp_policy_gen (libseccomp %u.%u.%u) "
               "from the lists in\n// src/seccomp_policy_gen.cc. Do not "
               "edit.\n",
               seccomp_version()->major, seccomp_version()->minor,
               seccomp_version()->micro);
  std::fprintf(out, "inline constexpr unsigned kSeccompAuditArch = 0x%08xu;\n",
               arch);
  if (!Emit("kStage1Filter", stage1, out)) return 1;
  if (!Emit("kStage2Filter", Stage2Rules(), out)) return 1;
  return std::fflush(out) == 0 ? 0 : 1;
}
