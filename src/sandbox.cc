// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors

#include "src/sandbox.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "src/syscalls.h"

#if !defined(SSH_PROXY_NO_CONFINEMENT)
#include "src/seccomp_policy.inc"
#endif

namespace ssh_proxy {

bool NeedsStage1(TargetKind kind) {
  switch (kind) {
    case TargetKind::kMachine:
      // systemd-machined's reply is read before the target's connect.
      return true;
    case TargetKind::kUnix:  // .host too.
    case TargetKind::kVsock:
    case TargetKind::kVsockMux:
      // argv is parsed already; vsock-mux's reply is read after stage 2.
      return false;
  }
  return true;  // Not reached: every kind is named above.
}

#if defined(SSH_PROXY_NO_CONFINEMENT)

namespace {
Confinement Off(int stage) {
  Confinement c;
  c.landlock_missing = "not built in";
  c.summary = absl::StrCat("stage ", stage,
                           ": confinement is off in this build (sanitizer, "
                           "fuzzing, coverage or benchmark baseline)");
  return c;
}
}  // namespace

absl::StatusOr<Confinement> ConfineForConnecting() { return Off(1); }
absl::StatusOr<Confinement> ConfineToOpenDescriptors() { return Off(2); }
absl::StatusOr<Confinement> ConfineFilesystemWithLandlock() { return Off(2); }

#else  // Confinement built in.

namespace {

#if defined(__x86_64__)
constexpr unsigned kCompiledArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
constexpr unsigned kCompiledArch = AUDIT_ARCH_AARCH64;
#else
#error "ssh-proxy's seccomp filters know x86_64 and aarch64 only"
#endif

#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#define SYS_landlock_restrict_self 446
#endif

// The Landlock ABI as the kernel documents it (linux/landlock.h), spelled out
// here so that an older linux-libc-dev does not cap what we can ask for.
constexpr uint32_t kLandlockCreateRulesetVersion = 1U << 0;
// The ruleset attribute; each ABI reads a longer prefix of it.
struct LandlockRulesetAttr {
  uint64_t handled_access_fs;   // ABI 1
  uint64_t handled_access_net;  // ABI 4
  uint64_t scoped;              // ABI 6
};
// Filesystem access rights: ABI 1 has bits 0-12 (EXECUTE .. MAKE_SYM), ABI 2
// adds REFER, ABI 3 TRUNCATE, ABI 5 IOCTL_DEV; ABI 4, 6 and 7 add none.
uint64_t LandlockFsRights(int abi) {
  uint64_t rights = (1ULL << 13) - 1;
  if (abi >= 2) rights |= 1ULL << 13;  // LANDLOCK_ACCESS_FS_REFER
  if (abi >= 3) rights |= 1ULL << 14;  // LANDLOCK_ACCESS_FS_TRUNCATE
  if (abi >= 5) rights |= 1ULL << 15;  // LANDLOCK_ACCESS_FS_IOCTL_DEV
  return rights;
}

// Whether ConfineForConnecting has set no_new_privs and RLIMIT_NPROC (the
// process is single-threaded while it confines itself).
bool stage1_on = false;

absl::Status CallFailed(int stage, absl::string_view call) {
  return absl::InternalError(absl::StrCat("cannot confine the process (stage ",
                                          stage, "): ", call, ": ",
                                          ErrnoText(errno)));
}

// LoadFilter loads a copy of `filter` with this process's pid in the
// instructions `pid_slots` lists (tgkill may signal only ourselves).
template <size_t N>
absl::Status LoadFilter(int stage, const struct sock_filter (&filter)[N],
                        const int (&pid_slots)[2]) {
  if (kSeccompAuditArch != kCompiledArch) {
    return absl::InternalError(absl::StrCat(
        "cannot confine the process (stage ", stage,
        "): the seccomp filters were generated for another architecture"));
  }
  struct sock_filter copy[N];
  std::memcpy(copy, filter, sizeof(copy));
  const uint32_t pid = static_cast<uint32_t>(getpid());
  for (int slot : pid_slots) copy[slot].k = pid;
  struct sock_fprog prog;
  prog.len = static_cast<unsigned short>(N);
  prog.filter = copy;
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
    return CallFailed(stage, "seccomp(SECCOMP_SET_MODE_FILTER)");
  }
  return absl::OkStatus();
}

// ApplyLandlock sets c->landlock_abi (or c->landlock_missing).
absl::Status ApplyLandlock(Confinement* c) {
  const long abi = syscall(SYS_landlock_create_ruleset, nullptr, 0,
                           kLandlockCreateRulesetVersion);
  if (abi < 0) {
    if (errno == ENOSYS || errno == EOPNOTSUPP) {
      c->landlock_missing =
          absl::StrCat("the kernel has no Landlock: ", ErrnoText(errno));
      return absl::OkStatus();
    }
    if (errno == EPERM) {
      // Not a Landlock error: a seccomp filter of whoever started us (a
      // container runtime's default profile) refuses the call.
      c->landlock_missing = absl::StrCat(
          "refused by the caller's own seccomp filter: ", ErrnoText(errno));
      return absl::OkStatus();
    }
    return CallFailed(2, "landlock_create_ruleset(VERSION)");
  }
  LandlockRulesetAttr attr = {};
  size_t size = sizeof(attr.handled_access_fs);
  attr.handled_access_fs = LandlockFsRights(static_cast<int>(abi));
  if (abi >= 4) {
    // No TCP bind or connect either (LANDLOCK_ACCESS_NET_BIND_TCP,
    // _CONNECT_TCP); seccomp already forbids sockets.
    attr.handled_access_net = 3;
    size = offsetof(LandlockRulesetAttr, scoped);
  }
  if (abi >= 6) {
    // No abstract UNIX socket or signal beyond this domain
    // (LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET, _SIGNAL).
    attr.scoped = 3;
    size = sizeof(attr);
  }
  const long fd = syscall(SYS_landlock_create_ruleset, &attr, size, 0);
  if (fd < 0 && (errno == EMFILE || errno == ENFILE)) {
    // The ruleset is a descriptor, and the caller's RLIMIT_NOFILE left none
    // (the relay copes the same way without its pipes). Only the invoker can
    // cause this, not the target: nothing has been read from it yet. Stage 2's
    // seccomp filter still forbids every open.
    c->landlock_missing =
        absl::StrCat("no descriptor free for its ruleset: ", ErrnoText(errno));
    return absl::OkStatus();
  }
  if (fd < 0) return CallFailed(2, "landlock_create_ruleset");
  const long rc = syscall(SYS_landlock_restrict_self, fd, 0);
  const int err = errno;
  close(static_cast<int>(fd));
  if (rc != 0) {
    errno = err;
    return CallFailed(2, "landlock_restrict_self");
  }
  c->landlock_abi = static_cast<int>(abi);
  return absl::OkStatus();
}

std::string LandlockText(const Confinement& c) {
  if (c.landlock_abi > 0) {
    return absl::StrCat("Landlock ABI ", c.landlock_abi,
                        " (no filesystem access)");
  }
  return absl::StrCat("no Landlock (", c.landlock_missing, ")");
}

// NoNewPrivsNoProcesses sets no_new_privs (which seccomp and Landlock need
// without CAP_SYS_ADMIN) and RLIMIT_NPROC 0 (no fork, even if a filter
// allowed one).
absl::Status NoNewPrivsNoProcesses(int stage) {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    return CallFailed(stage, "prctl(PR_SET_NO_NEW_PRIVS)");
  }
  const struct rlimit none = {0, 0};
  if (setrlimit(RLIMIT_NPROC, &none) != 0) {
    return CallFailed(stage, "setrlimit(RLIMIT_NPROC, 0)");
  }
  return absl::OkStatus();
}

// BeginStage2WithLandlock sets no_new_privs and RLIMIT_NPROC 0 unless stage 1
// did (landlock_restrict_self needs no_new_privs without CAP_SYS_ADMIN), then
// applies Landlock to *c. On success returns the start of stage 2's summary
// ("stage 2: ", what it set, the Landlock text); on failure the failing call's
// Status.
absl::StatusOr<std::string> BeginStage2WithLandlock(Confinement* c) {
  std::string summary = "stage 2: ";
  if (!stage1_on) {
    absl::Status status = NoNewPrivsNoProcesses(2);
    if (!status.ok()) return status;
    summary += "no_new_privs, RLIMIT_NPROC 0, ";
  }
  absl::Status landlock = ApplyLandlock(c);
  if (!landlock.ok()) return landlock;
  return summary + LandlockText(*c);
}

}  // namespace

absl::StatusOr<Confinement> ConfineForConnecting() {
  absl::Status status = NoNewPrivsNoProcesses(1);
  if (!status.ok()) return status;
  stage1_on = true;
  absl::Status loaded = LoadFilter(1, kStage1Filter, kStage1FilterPidSlots);
  if (!loaded.ok()) return loaded;
  Confinement c;
  c.summary = absl::StrCat(
      "stage 1: no_new_privs, RLIMIT_NPROC 0, seccomp allowlist for "
      "connecting (",
      kStage1FilterCalls, " system calls)");
  return c;
}

absl::StatusOr<Confinement> ConfineFilesystemWithLandlock() {
  Confinement c;
  absl::StatusOr<std::string> summary = BeginStage2WithLandlock(&c);
  if (!summary.ok()) return summary.status();
  c.summary = *std::move(summary);
  return c;
}

absl::StatusOr<Confinement> ConfineToOpenDescriptors() {
  // Landlock first: its calls are on stage 1's list, not on stage 2's.
  Confinement c;
  absl::StatusOr<std::string> summary = BeginStage2WithLandlock(&c);
  if (!summary.ok()) return summary.status();
  absl::Status loaded = LoadFilter(2, kStage2Filter, kStage2FilterPidSlots);
  if (!loaded.ok()) return loaded;
  c.summary = absl::StrCat(*summary,
                           ", seccomp allowlist for I/O on open descriptors (",
                           kStage2FilterCalls, " system calls)");
  return c;
}

#endif  // SSH_PROXY_NO_CONFINEMENT

}  // namespace ssh_proxy
