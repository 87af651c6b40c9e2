// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// Helpers shared by the fuzz targets: a property check that aborts with a
// message (so libFuzzer, AFL++ and the replay test all record it as a crash),
// and the checks every error message must pass.

#ifndef SSH_PROXY_FUZZ_FUZZ_CHECK_H_
#define SSH_PROXY_FUZZ_FUZZ_CHECK_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/string_view.h"

// The entry point each fuzz target defines (libFuzzer's interface; AFL++'s
// driver and replay_main.cc call it too).
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace ssh_proxy {
namespace fuzz {

// FUZZ_CHECK(cond, what) aborts with `what` (anything streamable into a
// std::string via +) when `cond` is false. Unlike assert() it is never
// compiled out: the properties are the point of the fuzzers.
#define FUZZ_CHECK(cond, what)                                    \
  do {                                                            \
    if (!(cond)) {                                                \
      ::ssh_proxy::fuzz::Fail(__FILE__, __LINE__, #cond, (what)); \
    }                                                             \
  } while (0)

[[noreturn]] inline void Fail(const char* file, int line, const char* cond,
                              const std::string& what) {
  std::fprintf(stderr, "%s:%d: property violated: %s\n  %s\n", file, line, cond,
               what.c_str());
  std::fflush(stderr);
  std::abort();
}

// Shown returns `bytes` as C-style escaped ASCII, for FUZZ_CHECK messages. It
// is independent of src/ (EscapeForMessage is under test).
inline std::string Shown(absl::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (const char ch : bytes) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out += ch;
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out + "\"";
}

// IsPrintableLine is true if `text` is non-empty and every byte is printable
// ASCII (0x20..0x7e): no newline, no terminal escape (ESC, or a C1 control
// such as 0x9b, which some terminals read as CSI), no NUL.
inline bool IsPrintableLine(absl::string_view text) {
  if (text.empty()) return false;
  for (const char ch : text) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

}  // namespace fuzz
}  // namespace ssh_proxy

#endif  // SSH_PROXY_FUZZ_FUZZ_CHECK_H_
