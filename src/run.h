// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// The whole of ssh-proxy's run, for the three small mains that link it: the
// release binary (src/main.cc with //src:sandbox), the benchmark's unconfined
// baseline (the same main with //src:sandbox_off) and the test build with
// hooks (tests/sandbox/main_with_test_hooks.cc). Which confinement a binary
// has is chosen when it is linked; the hooks are the only other difference.

#ifndef SSH_PROXY_SRC_RUN_H_
#define SSH_PROXY_SRC_RUN_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "src/sandbox.h"

namespace ssh_proxy {

// What a test build adds to a run; every member may be empty (//:ssh-proxy
// passes none).
struct RunHooks {
  // Takes options of its own out of the arguments before they are parsed; an
  // error ends the run with its exit code.
  std::function<absl::Status(std::vector<std::string>*)> take_options;
  // Called right after confinement stage 1 or 2 is on (the stage's number).
  std::function<void(int)> after_confining;
  // Applied instead of ConfineToOpenDescriptors as stage 2.
  std::function<absl::StatusOr<Confinement>()> stage2;
};

// Run is ssh-proxy: `argv` as main() got it. Puts /dev/null on closed fds 0-2
// first, parses the command line, prints --help, --version or --dry-run's
// line, or resolves, connects (confining itself, sandbox.h) and hands the
// connection to ssh or relays it. Every error is one line on stderr. Returns
// the exit code (exit_codes.h).
int Run(int argc, char** argv, const RunHooks& hooks);

}  // namespace ssh_proxy

#endif  // SSH_PROXY_SRC_RUN_H_
