// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors

#include "tests/sandbox/test_hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "src/syscalls.h"

extern "C" [[noreturn]] void __chk_fail();

namespace ssh_proxy {
namespace test_hooks {
namespace {

int hook_stage = 0;
std::string hook_call;
bool landlock_only = false;

// Each call a test can ask for. None of them may harm the machine if it is
// (wrongly) allowed: a socket that is never connected (and never AF_VSOCK:
// that one is only ever tested with --dry-run, see below), an exec of
// /bin/true, a fork whose child exits at once, signal 0.
struct Call {
  const char* name;
  long (*make)();
};

long OpenRead() { return open("/dev/null", O_RDONLY | O_CLOEXEC); }

const Call kCalls[] = {
    {"socket-inet", [] { return long{socket(AF_INET, SOCK_STREAM, 0)}; }},
    {"socket-unix", [] { return long{socket(AF_UNIX, SOCK_STREAM, 0)}; }},
    {"socket-unix-dgram", [] { return long{socket(AF_UNIX, SOCK_DGRAM, 0)}; }},
    {"socketpair",
     [] {
       int sv[2];
       return long{socketpair(AF_UNIX, SOCK_STREAM, 0, sv)};
     }},
    {"connect",
     [] {
       struct sockaddr_un addr = {};
       addr.sun_family = AF_UNIX;
       return long{connect(-1, reinterpret_cast<struct sockaddr*>(&addr),
                           sizeof(addr))};
     }},
    {"open-read", OpenRead},
    {"open-create",
     [] {
       return long{
           open("/nonexistent-dir/x", O_WRONLY | O_CREAT | O_CLOEXEC, 0600)};
     }},
    {"pipe2",
     [] {
       int fds[2];
       return long{pipe2(fds, O_CLOEXEC)};
     }},
    {"fchdir", [] { return long{fchdir(-1)}; }},
    {"execve",
     [] {
       char* const argv[] = {const_cast<char*>("/bin/true"), nullptr};
       char* const envp[] = {nullptr};
       return long{execve("/bin/true", argv, envp)};
     }},
    {"fork",
     [] {
       const pid_t pid = fork();
       if (pid == 0) _exit(0);
       return long{pid};
     }},
    {"ptrace", [] { return ptrace(PTRACE_TRACEME, 0, nullptr, nullptr); }},
    {"kill", [] { return long{kill(getpid(), 0)}; }},
    // SIGABRT to a thread of another process: a pid above any pid_max, so
    // that a wrongly allowed call finds nobody (ESRCH).
    {"tgkill-other",
     [] { return syscall(SYS_tgkill, 0x7ffffff0, 0x7ffffff0, SIGABRT); }},
    {"mmap-exec",
     [] {
       void* p = mmap(nullptr, 4096, PROT_READ | PROT_EXEC,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
       return p == MAP_FAILED ? -1L : 0L;
     }},
    {"setsockopt-reuseaddr",
     [] {
       int one = 1;
       return long{setsockopt(STDOUT_FILENO, SOL_SOCKET, SO_REUSEADDR, &one,
                              sizeof(one))};
     }},
    {"landlock-abi",
     [] { return syscall(SYS_landlock_create_ruleset, nullptr, 0, 1U); }},
    {"seccomp-strict", [] { return syscall(SYS_seccomp, 0, 0, nullptr); }},
    // Must die by SIGABRT, not SIGSYS: abort()'s calls are allowed.
    {"abort", []() -> long { abort(); }},
    // glibc's fortify failure: a message on stderr (writev), then abort().
    {"fortify", []() -> long { __chk_fail(); }},
};

const Call* Find(const std::string& name) {
  for (const Call& call : kCalls) {
    if (name == call.name) return &call;
  }
  return nullptr;
}

}  // namespace

absl::Status TakeOptions(std::vector<std::string>* args) {
  std::vector<std::string> rest;
  for (const std::string& arg : *args) {
    if (arg == "--test-landlock-only") {
      landlock_only = true;
      continue;
    }
    if (!absl::StartsWith(arg, "--test-hook=")) {
      rest.push_back(arg);
      continue;
    }
    const std::string spec = arg.substr(std::strlen("--test-hook="));
    const size_t colon = spec.find(':');
    const std::string stage = spec.substr(0, colon);
    if ((stage != "1" && stage != "2") || colon == std::string::npos ||
        Find(spec.substr(colon + 1)) == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad test hook \"", spec, "\": want 1:CALL or 2:CALL"));
    }
    hook_stage = stage[0] - '0';
    hook_call = spec.substr(colon + 1);
  }
  *args = rest;
  return absl::OkStatus();
}

void AfterConfining(int stage) {
  if (stage != hook_stage) return;
  const long rc = Find(hook_call)->make();
  const std::string line = absl::StrCat(
      "ssh-proxy: test hook: ", hook_call, " returned ", rc,
      rc < 0 ? absl::StrCat(" (", ErrnoText(errno), ")") : "", "\n");
  (void)!write(STDERR_FILENO, line.data(), line.size());
  _exit(rc < 0 ? 1 : 0);
}

bool LandlockOnly() { return landlock_only; }

}  // namespace test_hooks
}  // namespace ssh_proxy
