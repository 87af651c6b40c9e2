// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// Printing for test and fuzzer failure messages: bytes escaped independently of
// the code under test (EscapeForMessage), gtest's PrintTo for a Target, and the
// multiplexer reply parser's states by name.

#ifndef SSH_PROXY_TESTS_TESTING_PRINTING_H_
#define SSH_PROXY_TESTS_TESTING_PRINTING_H_

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>

#include "absl/strings/string_view.h"
#include "src/address.h"
#include "src/mux_reply.h"

namespace ssh_proxy {

// Printable returns `s` with every byte outside printable ASCII, and '\',
// written as \xHH.
std::string Printable(absl::string_view s);

// StateName returns the enumerator's name ("kNeedMore", "kOk", "kError").
const char* StateName(MuxReplyParser::State s);

// MuxOutcome is everything observable about a MuxReplyParser after a stream
// was fed to it, for the parser's test and fuzzer.
struct MuxOutcome {
  MuxReplyParser::State state = MuxReplyParser::State::kNeedMore;
  uint32_t port = 0;
  size_t consumed = 0;  // What the Feed calls consumed, in all.
  std::string error;
  std::string received;

  // Of returns `parser`'s outcome after Feed calls that consumed `consumed`.
  static MuxOutcome Of(const MuxReplyParser& parser, size_t consumed);

  friend bool operator==(const MuxOutcome& a, const MuxOutcome& b) {
    return a.state == b.state && a.port == b.port && a.consumed == b.consumed &&
           a.error == b.error && a.received == b.received;
  }
};

// Describe returns the outcome on one line, bytes made Printable:
// {kOk port=22 consumed=6 error="" received="OK 22\x0a"}.
std::string Describe(const MuxOutcome& o);
std::ostream& operator<<(std::ostream& os, const MuxOutcome& o);

// PrintTo prints a Target as {kind path="..." cid=N port=N}; gtest finds it by
// argument-dependent lookup.
void PrintTo(const Target& t, std::ostream* os);

}  // namespace ssh_proxy

#endif  // SSH_PROXY_TESTS_TESTING_PRINTING_H_
