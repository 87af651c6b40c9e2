// ssh-proxy: main() only wires the pieces: the command line (cli.h), the
// address grammar (address.h), and the connector. It owns all output.

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "src/address.h"
#include "src/cli.h"
#include "src/connector.h"
#include "src/exit_codes.h"
#include "src/relay.h"
#include "src/syscalls.h"

namespace ssh_proxy {
namespace {

// WriteAll writes all of `text` to `fd`, retrying on EINTR and short writes.
// Output is best effort: a failure to print is not reported (there is nowhere
// left to report it).
void WriteAll(int fd, absl::string_view text) {
  while (!text.empty()) {
    const ssize_t n = write(fd, text.data(), text.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    text.remove_prefix(static_cast<size_t>(n));
  }
}

int Fail(const absl::Status& status) {
  WriteAll(STDERR_FILENO, absl::StrCat("ssh-proxy: ", status.message(), "\n"));
  return ExitCodeForStatus(status);
}

int Run(int argc, char** argv) {
  const std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  absl::StatusOr<Options> options = ParseCommandLine(args);
  if (!options.ok()) return Fail(options.status());
  switch (options->action) {
    case Options::Action::kHelp:
      WriteAll(STDOUT_FILENO, UsageText());
      return kExitOk;
    case Options::Action::kVersion:
      WriteAll(STDOUT_FILENO, absl::StrCat(kVersionString, "\n"));
      return kExitOk;
    case Options::Action::kRun:
      break;
  }
  absl::StatusOr<Target> target = ParseTarget(options->host, options->port);
  if (!target.ok()) return Fail(target.status());
  if (options->dry_run) {
    WriteAll(STDOUT_FILENO, absl::StrCat(DescribeTarget(*target), "\n"));
    return kExitOk;
  }
  Syscalls& sys = RealSyscalls();
  // Decided before connecting: a connection that cannot be handed over is
  // wasted on the target. --relay needs no check.
  bool relay = options->mode == Options::Mode::kRelay;
  if (!relay) {
    absl::Status fd_passable = CheckHandOffFd(STDOUT_FILENO, sys);
    if (!fd_passable.ok()) {
      if (options->mode == Options::Mode::kFdPass) return Fail(fd_passable);
      relay = true;  // kAuto: stdout cannot carry an fd.
    }
  }
  ConnectOptions connect_options;
  connect_options.timeout_ms = options->timeout_ms;
  if (options->verbose) {
    connect_options.log = [](absl::string_view line) {
      WriteAll(STDERR_FILENO, absl::StrCat("ssh-proxy: debug: ", line, "\n"));
    };
  }
  absl::StatusOr<UniqueFd> fd = Connect(*target, connect_options, sys);
  if (!fd.ok()) return Fail(fd.status());
  if (!relay) {
    absl::Status handed =
        HandOff(STDOUT_FILENO, fd->get(), options->timeout_ms, sys);
    if (!handed.ok()) return Fail(handed);
    if (connect_options.log)
      connect_options.log("passed the connection to ssh");
    return kExitOk;
  }
  if (connect_options.log) {
    connect_options.log(options->mode == Options::Mode::kRelay
                            ? "relaying (--relay)"
                            : "relaying (stdout is not a UNIX socket)");
  }
  // A reader that goes away must surface as EPIPE, not kill us: ssh usually
  // leaves SIGPIPE ignored for us, but that is not promised.
  signal(SIGPIPE, SIG_IGN);
  RelayStats stats;
  absl::Status relayed =
      Relay(STDIN_FILENO, STDOUT_FILENO, fd->get(), sys, &stats);
  if (!relayed.ok()) return Fail(relayed);
  if (connect_options.log) {
    connect_options.log(absl::StrCat("relay ended: ", stats.to_socket,
                                     " bytes to the socket, ",
                                     stats.from_socket, " bytes from it"));
  }
  return kExitOk;
}

}  // namespace
}  // namespace ssh_proxy

int main(int argc, char** argv) { return ssh_proxy::Run(argc, argv); }
