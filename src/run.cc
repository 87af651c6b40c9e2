// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// Run: wires the pieces: the command line (cli.h), the address grammar
// (address.h), the machine resolver (machine.h), the connector and the relay.
// It owns all output.

#include "src/run.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "src/address.h"
#include "src/cli.h"
#include "src/connector.h"
#include "src/exit_codes.h"
#include "src/machine.h"
#include "src/relay.h"
#include "src/sandbox.h"
#include "src/syscalls.h"
#include "src/usage.h"

namespace ssh_proxy {
namespace {

// SanitizeStdFds does for ssh-proxy what OpenSSH's sanitise_stdfd() does for
// its own programs, and must run before anything else opens a descriptor: each
// of fds 0-2 that is closed gets /dev/null, so that no socket we open can
// become stdin, stdout or stderr (our messages would go into the connection,
// a relay would copy the connection onto itself). Returns a bit mask of the
// fds that were closed (bit N for fd N), or -1 with errno set if /dev/null
// cannot be opened.
int SanitizeStdFds() {
  int closed = 0;
  for (int fd = STDIN_FILENO; fd <= STDERR_FILENO; ++fd) {
    if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) closed |= 1 << fd;
  }
  for (int fd = STDIN_FILENO; fd <= STDERR_FILENO; ++fd) {
    if (!(closed & (1 << fd))) continue;
    // open() returns the lowest free descriptor, which is `fd`: lower ones
    // are open by now.
    const int null_fd = open("/dev/null", O_RDWR);
    if (null_fd < 0) return -1;
    if (null_fd != fd) {
      const int err = dup2(null_fd, fd) < 0 ? errno : 0;
      close(null_fd);
      if (err != 0) {
        errno = err;
        return -1;
      }
    }
  }
  return closed;
}

// WriteAll writes all of `text` to `fd`, retrying on EINTR and short writes.
// Returns 0, or the errno of the write that failed (ENOSPC for a write that
// made no progress).
int WriteAll(int fd, absl::string_view text) {
  while (!text.empty()) {
    const ssize_t n = write(fd, text.data(), text.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return ENOSPC;
    text.remove_prefix(static_cast<size_t>(n));
  }
  return 0;
}

int Fail(const absl::Status& status) {
  // Best effort: if stderr itself fails there is nowhere left to say so; the
  // exit code still does.
  WriteAll(STDERR_FILENO, absl::StrCat("ssh-proxy: ", status.message(), "\n"));
  return ExitCodeForStatus(status);
}

// Print writes what --help, --version and --dry-run print to stdout and
// reports a failed or short write like GNU tools do (exit 71): a caller that
// reads our output must not mistake nothing for an answer. A stdout that was
// closed when we started counts as a failed write (EBADF), although
// SanitizeStdFds put /dev/null there.
int Print(absl::string_view text, bool stdout_was_closed) {
  const int err = stdout_was_closed ? EBADF : WriteAll(STDOUT_FILENO, text);
  if (err == 0) return kExitOk;
  return Fail(absl::InternalError(
      absl::StrCat("cannot write to stdout: ", ErrnoText(err))));
}

// MakeRunContext sets the one --timeout budget for every step (asking
// machined, connecting, the handshake and the hand-off), starting now, and
// with -v the debug log on stderr, which first says which standard
// descriptors were closed at start.
RunContext MakeRunContext(const Options& options, int closed_std_fds,
                          Syscalls& sys) {
  RunContext context;
  context.timeout_ms = options.timeout_ms;
  context.start_ms = sys.NowMs();
  if (options.verbose) {
    context.log = [](absl::string_view line) {
      WriteAll(STDERR_FILENO, absl::StrCat("ssh-proxy: debug: ", line, "\n"));
    };
    if (closed_std_fds != 0) {
      context.log(
          absl::StrCat("standard descriptor(s) closed at start, now /dev/null:",
                       (closed_std_fds & 1) ? " stdin" : "",
                       (closed_std_fds & 2) ? " stdout" : "",
                       (closed_std_fds & 4) ? " stderr" : ""));
    }
  }
  return context;
}

// ConnectAndDeliver connects to `target` and hands the connection to ssh, or
// relays it (--relay, or a stdout that cannot carry a descriptor); stage 2 of
// the confinement starts as soon as the socket is connected. Returns the exit
// code.
int ConnectAndDeliver(const Target& target, const Options& options,
                      const RunContext& context, Syscalls& sys,
                      const RunHooks& hooks) {
  // Decided before connecting: a connection that cannot be handed over is
  // wasted on the target. --relay needs no check.
  bool relay = options.mode == Options::Mode::kRelay;
  if (!relay) {
    absl::Status fd_passable = CheckHandOffFd(STDOUT_FILENO, target, sys);
    if (!fd_passable.ok()) {
      if (options.mode == Options::Mode::kFdPass) return Fail(fd_passable);
      relay = true;  // kAuto: stdout cannot carry an fd.
    }
  }
  // The relay opens what it needs (a terminal's own descriptor, its pipes)
  // now: stage 2 forbids opening anything.
  RelayEnds relay_ends;
  if (relay) relay_ends = PrepareRelay(STDIN_FILENO, STDOUT_FILENO, sys);
  // Stage 2, once connected and before a byte from the target is read: I/O on
  // the descriptors we hold, nothing else.
  ConnectOptions connect_options;
  static_cast<RunContext&>(connect_options) = context;
  connect_options.after_connect = [&connect_options, &hooks]() -> absl::Status {
    absl::StatusOr<Confinement> stage2 =
        hooks.stage2 ? hooks.stage2() : ConfineToOpenDescriptors();
    if (!stage2.ok()) return stage2.status();
    connect_options.Log(stage2->summary);
    if (hooks.after_confining) hooks.after_confining(2);
    return absl::OkStatus();
  };
  absl::StatusOr<UniqueFd> fd = Connect(target, connect_options, sys);
  if (!fd.ok()) return Fail(fd.status());
  if (!relay) {
    absl::Status handed =
        HandOff(STDOUT_FILENO, fd->get(), target, connect_options, sys);
    if (!handed.ok()) return Fail(handed);
    connect_options.Log("passed the connection to ssh");
    return kExitOk;
  }
  connect_options.Log(options.mode == Options::Mode::kRelay
                          ? "relaying (--relay)"
                          : "relaying (stdout is not a UNIX socket)");
  RelayStats stats;
  absl::Status relayed =
      Relay(std::move(relay_ends), fd->get(), TargetName(target), sys, &stats);
  if (!relayed.ok()) return Fail(relayed);
  connect_options.Log(absl::StrCat("relay ended: ", stats.to_socket,
                                   " bytes to the socket, ", stats.from_socket,
                                   " bytes from it"));
  return kExitOk;
}

// SelfPath returns the path this binary runs from, for --help's ssh_config
// sample: /proc/self/exe, else `argv0` when it is absolute, else "" (UsageText
// then names the default install path).
std::string SelfPath(const char* argv0) {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf));
  if (n > 0 && static_cast<size_t>(n) < sizeof(buf)) {
    absl::string_view path(buf, static_cast<size_t>(n));
    // A binary replaced under a running process (an upgrade) reads
    // "PATH (deleted)"; the new binary is at PATH.
    absl::ConsumeSuffix(&path, " (deleted)");
    return std::string(path);
  }
  if (argv0 != nullptr && argv0[0] == '/') return argv0;
  return "";
}

// ConfineStage1 applies stage 1 only where a byte from outside the command line
// is read before connecting (sandbox.h): from then on, only what connecting
// needs. The other kinds are confined by stage 2 alone, right after the
// connect. Returns stage 1's error, if any.
absl::Status ConfineStage1(TargetKind kind, const RunContext& context,
                           const RunHooks& hooks) {
  if (!NeedsStage1(kind)) {
    context.Log(
        "stage 1: not needed, nothing but the command line is read before "
        "connecting");
    return absl::OkStatus();
  }
  absl::StatusOr<Confinement> stage1 = ConfineForConnecting();
  if (!stage1.ok()) return stage1.status();
  context.Log(stage1->summary);
  if (hooks.after_confining) hooks.after_confining(1);
  return absl::OkStatus();
}

}  // namespace

int Run(int argc, char** argv, const RunHooks& hooks) {
  const int closed_std_fds = SanitizeStdFds();
  if (closed_std_fds < 0) {
    return Fail(absl::InternalError(
        absl::StrCat("cannot open /dev/null for a closed standard descriptor: ",
                     ErrnoText(errno))));
  }
  const bool stdout_was_closed = closed_std_fds & (1 << STDOUT_FILENO);
  std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  if (hooks.take_options) {
    absl::Status taken = hooks.take_options(&args);
    if (!taken.ok()) return Fail(taken);
  }
  absl::StatusOr<Options> options = ParseCommandLine(args);
  if (!options.ok()) return Fail(options.status());
  switch (options->action) {
    case Options::Action::kHelp:
      return Print(UsageText(SelfPath(argc > 0 ? argv[0] : nullptr)),
                   stdout_was_closed);
    case Options::Action::kVersion:
      return Print(absl::StrCat(kVersionString, "\n"), stdout_was_closed);
    case Options::Action::kRun:
      break;
  }
  absl::StatusOr<Target> target = ParseTarget(options->host, options->port);
  if (!target.ok()) return Fail(target.status());
  Syscalls& sys = RealSyscalls();
  const RunContext context = MakeRunContext(*options, closed_std_fds, sys);
  // A reader that goes away must surface as EPIPE, not kill us: ssh usually
  // leaves SIGPIPE ignored for us, but that is not promised. Set before
  // confining: rt_sigaction is on the allowlists for SIGABRT only.
  signal(SIGPIPE, SIG_IGN);
  // Asked before confining: getuid is on neither allowlist.
  const uid_t uid = target->kind == TargetKind::kMachine ? getuid() : 0;
  absl::Status stage1 = ConfineStage1(target->kind, context, hooks);
  if (!stage1.ok()) return Fail(stage1);
  if (target->kind == TargetKind::kMachine) {
    // A local lookup, also for --dry-run: it never touches the target itself.
    // Under stage 1 only: the target's socket and connect still follow.
    absl::StatusOr<Target> resolved =
        ResolveMachine(*target, uid, context, sys);
    if (!resolved.ok()) return Fail(resolved.status());
    target = *std::move(resolved);
  }
  if (options->dry_run) {
    return Print(absl::StrCat(DescribeTarget(*target), "\n"),
                 stdout_was_closed);
  }
  return ConnectAndDeliver(*target, *options, context, sys, hooks);
}

}  // namespace ssh_proxy
