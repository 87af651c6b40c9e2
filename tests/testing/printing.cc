// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors

#include "tests/testing/printing.h"

#include <cstddef>
#include <ostream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "src/address.h"
#include "src/mux_reply.h"

namespace ssh_proxy {
namespace {

// The kind's name, spelled here rather than taken from the grammar under test.
const char* KindName(TargetKind kind) {
  switch (kind) {
    case TargetKind::kUnix:
      return "unix";
    case TargetKind::kVsock:
      return "vsock";
    case TargetKind::kVsockMux:
      return "vsock-mux";
    case TargetKind::kMachine:
      return "machine";
  }
  return "?";  // Not a TargetKind at all.
}

}  // namespace

std::string Printable(absl::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += absl::StrCat("\\x", absl::Hex(c, absl::kZeroPad2));
    }
  }
  return out;
}

const char* StateName(MuxReplyParser::State s) {
  switch (s) {
    case MuxReplyParser::State::kNeedMore:
      return "kNeedMore";
    case MuxReplyParser::State::kOk:
      return "kOk";
    case MuxReplyParser::State::kError:
      return "kError";
  }
  return "?";  // Not a State at all.
}

MuxOutcome MuxOutcome::Of(const MuxReplyParser& parser, size_t consumed) {
  MuxOutcome o;
  o.state = parser.state();
  o.port = parser.port();
  o.consumed = consumed;
  o.error = parser.error();
  o.received = std::string(parser.received());
  return o;
}

std::string Describe(const MuxOutcome& o) {
  return absl::StrCat("{", StateName(o.state), " port=", o.port,
                      " consumed=", o.consumed, " error=\"", Printable(o.error),
                      "\" received=\"", Printable(o.received), "\"}");
}

std::ostream& operator<<(std::ostream& os, const MuxOutcome& o) {
  return os << Describe(o);
}

void PrintTo(const Target& t, std::ostream* os) {
  *os << "{" << KindName(t.kind) << " path=\"" << Printable(t.path)
      << "\" cid=" << t.cid << " port=" << t.port << " name=\""
      << Printable(t.name) << "\"}";
}

}  // namespace ssh_proxy
