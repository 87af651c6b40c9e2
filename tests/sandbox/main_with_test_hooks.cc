// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// The main of //tests/sandbox:ssh-proxy-with-test-hooks: the run with the
// hidden --test-hook and --test-landlock-only options (test_hooks.h).

#include "src/run.h"
#include "src/sandbox.h"
#include "tests/sandbox/test_hooks.h"

int main(int argc, char** argv) {
  ssh_proxy::RunHooks hooks;
  hooks.take_options = ssh_proxy::test_hooks::TakeOptions;
  hooks.after_confining = ssh_proxy::test_hooks::AfterConfining;
  hooks.stage2 = []() -> absl::StatusOr<ssh_proxy::Confinement> {
    if (ssh_proxy::test_hooks::LandlockOnly()) {
      return ssh_proxy::ConfineFilesystemWithLandlock();
    }
    return ssh_proxy::ConfineToOpenDescriptors();
  };
  return ssh_proxy::Run(argc, argv, hooks);
}
