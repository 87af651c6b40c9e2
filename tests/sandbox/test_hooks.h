// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// Test hooks of //tests/sandbox:ssh-proxy-with-test-hooks, whose main
// (main_with_test_hooks.cc) passes them to Run (src/run.h) as RunHooks.
// //:ssh-proxy never contains them (and reads no environment variable): they
// are hidden options of this binary only.
//
//   --test-hook=STAGE:CALL   right after confinement stage STAGE (1 or 2) is
//                            on, make the system call CALL (see kCalls in
//                            test_hooks.cc). If the process survives, print
//                            "test hook: CALL returned R (errno text)" on
//                            stderr and exit 0 if it succeeded, 1 if it
//                            failed. A forbidden call dies by SIGSYS instead.
//   --test-landlock-only     apply only stage 2's Landlock ruleset, not its
//                            seccomp filter: shows what Landlock denies alone.

#ifndef SSH_PROXY_TESTS_SANDBOX_TEST_HOOKS_H_
#define SSH_PROXY_TESTS_SANDBOX_TEST_HOOKS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace ssh_proxy {
namespace test_hooks {

// TakeOptions removes the hook options from `args`. Returns InvalidArgument
// (exit 64) for an unknown stage or call.
absl::Status TakeOptions(std::vector<std::string>* args);

// AfterConfining makes the configured call if it is for `stage`, and exits.
// Does nothing otherwise.
void AfterConfining(int stage);

// LandlockOnly says whether --test-landlock-only was given.
bool LandlockOnly();

}  // namespace test_hooks
}  // namespace ssh_proxy

#endif  // SSH_PROXY_TESTS_SANDBOX_TEST_HOOKS_H_
