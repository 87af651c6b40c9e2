// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// Printing for test failure messages: bytes escaped independently of the code
// under test (EscapeForMessage), and gtest's PrintTo for a Target.

#ifndef SSH_PROXY_TESTS_TESTING_PRINTING_H_
#define SSH_PROXY_TESTS_TESTING_PRINTING_H_

#include <ostream>
#include <string>

#include "absl/strings/string_view.h"
#include "src/address.h"

namespace ssh_proxy {

// Printable returns `s` with every byte outside printable ASCII, and '\',
// written as \xHH.
std::string Printable(absl::string_view s);

// PrintTo prints a Target as {kind path="..." cid=N port=N}; gtest finds it by
// argument-dependent lookup.
void PrintTo(const Target& t, std::ostream* os);

}  // namespace ssh_proxy

#endif  // SSH_PROXY_TESTS_TESTING_PRINTING_H_
