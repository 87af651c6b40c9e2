// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// Self-confinement of ssh-proxy, in up to two stages, each a one-way door.
//
// The rule for where confinement starts: no byte from outside the command
// line is read before a filter forbids exec, open and new sockets other than
// the target's. Loading a filter costs the kernel 20-40 us, as much as 3-6%
// of ssh-proxy's life, so it is paid only where it protects something:
//
//   stage 1 (ConfineForConnecting), once the command line and the address are
//   parsed, only for the kinds that read bytes from someone else before they
//   connect (NeedsStage1: today machine/, which reads systemd-machined's
//   reply): no_new_privs, RLIMIT_NPROC 0, and a seccomp allowlist of what
//   connecting needs (socket() for AF_UNIX and AF_VSOCK stream sockets only,
//   connect, the O_PATH and /proc/self/fd opens, fchdir, fstat, pipe2, the
//   socket options we set) plus everything stage 2 allows. No fork, clone,
//   exec or ptrace, no other socket family, no open that creates a file.
//   unix/, vsock/, vsock-mux/ and .host read nothing before they connect
//   (argv is parsed; the multiplexer's reply is read after stage 2) and skip
//   it.
//
//   stage 2 (ConfineToOpenDescriptors), once connected and before the first
//   byte from the target is read, for every kind: no_new_privs and
//   RLIMIT_NPROC 0 if stage 1 did not set them; where the kernel has
//   Landlock, a ruleset that handles every filesystem access right of the
//   kernel's ABI with no rule (no filesystem access at all); then a seccomp
//   allowlist of I/O on descriptors already open: no socket, connect, open or
//   pipe of any kind, no exec, fork or clone. Stage 1's list holds all of
//   stage 2's, so after connect every kind is held to stage 2's list alone,
//   with or without stage 1's filter under it.
//
// A call outside the allowlist kills the process with SIGSYS
// (SECCOMP_RET_KILL_PROCESS). The allowlists, and why each call is on them,
// are in seccomp_policy_gen.cc, which compiles them to BPF at build time,
// shaped so that the kernel's walk of the first filter is short.
//
// Builds with --define=ssh_proxy_sanitizer=1 (--config=asan, --config=fuzz)
// skip confinement: the sanitizer runtimes need many more system calls; so do
// builds with --define=ssh_proxy_confinement=off (tools/coverage.sh: the
// profile runtime writes its file at exit). Every other build confines.

#ifndef SSH_PROXY_SRC_SANDBOX_H_
#define SSH_PROXY_SRC_SANDBOX_H_

#include <string>

#include "absl/status/statusor.h"
#include "src/address.h"

namespace ssh_proxy {

// What a stage turned on.
struct Confinement {
  // Stage 2: the Landlock ABI version whose ruleset was applied, or 0 with the
  // reason in landlock_missing (the kernel has none).
  int landlock_abi = 0;
  std::string landlock_missing;
  // One line for -v: "stage 1: no_new_privs, RLIMIT_NPROC 0, seccomp
  // allowlist for connecting (36 system calls)", "stage 2: [no_new_privs,
  // RLIMIT_NPROC 0, ]Landlock ABI 7 (no filesystem access), seccomp allowlist
  // for I/O on open descriptors (24 system calls)", or, in a sanitizer build,
  // that confinement is off.
  std::string summary;
};

// NeedsStage1 says whether a target of `kind` reads a byte from outside the
// command line before it connects, and so must be confined by stage 1 first
// (the rule at the top of this file): true for kMachine only. The same in
// every build.
bool NeedsStage1(TargetKind kind);

// ConfineForConnecting applies stage 1 to the calling process, which must be
// single-threaded. Returns what it turned on; or Internal (exit 71) naming the
// call that failed with its errno text (prctl, setrlimit, seccomp; e.g. a
// kernel without seccomp filters), in which case the process may be partly
// confined and must exit.
absl::StatusOr<Confinement> ConfineForConnecting();

// ConfineToOpenDescriptors applies stage 2 to the calling process, which must
// be single-threaded, with or without stage 1 on; without it, it first sets
// no_new_privs and RLIMIT_NPROC 0 itself (and the summary says so). Landlock
// is applied where the kernel has it: ENOSYS or EOPNOTSUPP from
// landlock_create_ruleset (no Landlock, or Landlock disabled at boot) is not an
// error, and only the seccomp part applies; nor is EPERM (a seccomp filter of
// the caller, such as a container runtime's, refuses the call), nor EMFILE or
// ENFILE for the ruleset's descriptor (an RLIMIT_NOFILE that left none free),
// which the summary says. Returns what it turned on; or Internal (exit 71)
// naming the failed call with its errno text (e.g. a kernel without seccomp
// filters: for a kind without stage 1 that shows only here, after the
// connect, and the connection is closed unused).
absl::StatusOr<Confinement> ConfineToOpenDescriptors();

// ConfineFilesystemWithLandlock applies stage 2's Landlock part alone (test
// hooks use it to show what Landlock denies on its own). Same contract as
// ConfineToOpenDescriptors, seccomp aside.
absl::StatusOr<Confinement> ConfineFilesystemWithLandlock();

}  // namespace ssh_proxy

#endif  // SSH_PROXY_SRC_SANDBOX_H_
