// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// The command line of ssh-proxy: `ssh-proxy [OPTIONS] HOST PORT`. Parsing only:
// no sockets, no output. main() turns the result into actions.

#ifndef SSH_PROXY_SRC_CLI_H_
#define SSH_PROXY_SRC_CLI_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "src/timeouts.h"

namespace ssh_proxy {

struct Options {
  enum class Action {
    kRun,      // Connect (or, with dry_run, only parse and describe) HOST PORT.
    kHelp,     // -h / --help: print the usage text and exit 0.
    kVersion,  // --version: print the version and exit 0.
  };
  Action action = Action::kRun;
  enum class Mode {
    kAuto,    // Pass the fd if stdout is a UNIX socket, relay otherwise.
    kFdPass,  // --fdpass: pass the fd; fail (64) if stdout cannot carry one.
    kRelay,   // --relay: relay stdin/stdout <-> the connection.
  };
  Mode mode = Mode::kAuto;
  bool dry_run = false;
  bool verbose = false;
  int64_t timeout_ms = kDefaultTimeoutMs;
  std::string host;  // Raw HOST, not yet parsed (see address.h); set for kRun.
  std::string port;  // Raw PORT, not yet parsed; set for kRun.
};

// ParseDuration parses a --timeout value: decimal digits (no sign, no leading
// zero) immediately followed by a unit, one of "ms", "s", "m", "h" ("500ms",
// "5s", "2m", "1h"). On success returns milliseconds in 1..kMaxTimeoutMs. On
// failure returns InvalidArgument saying what is wrong (missing unit, unknown
// unit, zero, above 1h, not a number).
absl::StatusOr<int64_t> ParseDuration(absl::string_view text);

// ParseCommandLine parses the arguments after argv[0]. Options: -h/--help,
// --version, --dry-run, -v/--verbose, --fdpass and --relay (the Mode; either
// may be repeated, but not both given), --timeout=DURATION (or --timeout
// DURATION), and "--" to end options; short flags may be bundled ("-vh").
// Options and operands may be mixed; exactly two operands (HOST PORT) are
// required for kRun. -h/--help or --version return at once with that action,
// ignoring what follows. On failure returns InvalidArgument with a one-line
// message naming the offending argument (unknown option, a value given to a
// flag, missing or repeated --timeout value, bad duration, --fdpass with
// --relay, wrong operand count). HOST and PORT are not validated here.
absl::StatusOr<Options> ParseCommandLine(const std::vector<std::string>& args);

// kVersionString is what --version prints (without "\n").
extern const char kVersionString[];

}  // namespace ssh_proxy

#endif  // SSH_PROXY_SRC_CLI_H_
