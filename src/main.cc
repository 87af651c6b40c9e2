// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// ssh-proxy's main: the run (src/run.h) without hooks; the binary that links it
// chooses the confinement (//src:sandbox, or //src:sandbox_off).

#include "src/run.h"

int main(int argc, char** argv) { return ssh_proxy::Run(argc, argv, {}); }
