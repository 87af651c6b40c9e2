// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors

#include "tests/testing/printing.h"

#include <ostream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "src/address.h"

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

void PrintTo(const Target& t, std::ostream* os) {
  *os << "{" << KindName(t.kind) << " path=\"" << Printable(t.path)
      << "\" cid=" << t.cid << " port=" << t.port << " name=\""
      << Printable(t.name) << "\"}";
}

}  // namespace ssh_proxy
