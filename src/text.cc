// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors

#include "src/text.h"

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace ssh_proxy {
namespace {

// GetDigit reads one decimal digit from the front of `*text`, in the style of
// BoringSSL's CBS: if there is one, it sets `*digit`, consumes it and returns
// true; otherwise it consumes nothing and returns false.

bool GetDigit(absl::string_view* text, uint32_t* digit) {
  if (text->empty() ||
      !absl::ascii_isdigit(static_cast<unsigned char>(text->front()))) {
    return false;
  }
  *digit = static_cast<uint32_t>(text->front() - '0');
  text->remove_prefix(1);
  return true;
}

}  // namespace

absl::StatusOr<uint32_t> ParseU32(absl::string_view text) {
  if (text.empty()) {
    return absl::InvalidArgumentError("is empty");
  }
  // One pass: a byte that is not a digit is reported before a leading zero,
  // which is reported before a value that is too large.
  absl::string_view rest = text;
  uint32_t value = 0;
  bool too_large = false;
  uint32_t digit = 0;
  while (GetDigit(&rest, &digit)) {
    // Checked before it happens: value * 10 + digit must not exceed UINT32_MAX.
    if (value > (UINT32_MAX - digit) / 10) {
      too_large = true;
    } else {
      value = value * 10 + digit;
    }
  }
  if (!rest.empty()) {
    const size_t offset = text.size() - rest.size();
    return absl::InvalidArgumentError(absl::StrCat(
        "has \"", EscapeForMessage(rest.substr(0, 1)), "\" at offset ", offset,
        ": only decimal digits are allowed (no sign, no whitespace)"));
  }
  if (text.size() > 1 && text.front() == '0') {
    // systemd reads "010" as octal 8; a leading zero is refused rather than
    // guessed at.
    return absl::InvalidArgumentError(
        "has a leading zero (only \"0\" itself may start with 0)");
  }
  if (too_large) return absl::InvalidArgumentError(kU32TooLarge);
  return value;
}

std::string EscapeForMessage(absl::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size());
  for (const char ch : bytes) {
    const unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c >= 0x7f) {
          out += "\\x";
          out += kHex[c >> 4];
          out += kHex[c & 0xf];
        } else {
          out += ch;
        }
    }
  }
  return out;
}

std::string Quoted(absl::string_view bytes, size_t max_bytes) {
  if (bytes.size() <= max_bytes) {
    return absl::StrCat("\"", EscapeForMessage(bytes), "\"");
  }
  return absl::StrCat("\"", EscapeForMessage(bytes.substr(0, max_bytes)),
                      "...\" (", bytes.size(), " bytes)");
}

}  // namespace ssh_proxy
