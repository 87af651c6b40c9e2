// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors

#include "src/mux_reply.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

namespace ssh_proxy {
namespace {

constexpr char kPrefix[] = "OK ";
constexpr size_t kPrefixLength = sizeof(kPrefix) - 1;
constexpr uint64_t kMaxPort = 0xFFFFFFFFu;

}  // namespace

// A cursor over `data`: each iteration takes exactly one byte and either keeps
// the state kNeedMore or decides it. `at` is the byte's offset in the whole
// reply, so messages do not depend on how the stream was split.
MuxReplyParser::State MuxReplyParser::Feed(absl::string_view data,
                                           size_t* consumed) {
  size_t n = 0;
  // The grammar decides by the 14th byte at the latest (the longest prefix still
  // undecided is "OK " + 10 digits, 13 bytes); the bound on len_ is there so
  // that buf_ can never overflow, whatever the grammar code below does.
  while (state_ == State::kNeedMore && n < data.size() &&
         len_ < kMaxReplyLength) {
    const char c = data[n++];
    const size_t at = len_;
    auto fail = [this](std::string message) {
      error_ = std::move(message);
      state_ = State::kError;
    };
    buf_[len_++] = c;

    if (at < kPrefixLength) {
      if (c != kPrefix[at]) fail(absl::StrCat("expected \"OK \" at byte ", at));
    } else if (c == '\n') {
      if (at == kPrefixLength) {
        fail("empty port");
      } else {
        state_ = State::kOk;
      }
    } else if (c < '0' || c > '9') {
      fail(at == kPrefixLength
               ? absl::StrCat("expected digit at byte ", at)
               : absl::StrCat("expected digit or \"\\n\" at byte ", at));
    } else if (at == kPrefixLength + 1 && buf_[kPrefixLength] == '0') {
      fail(absl::StrCat("leading zero in port at byte ", kPrefixLength));
    } else {
      // value_ <= kMaxPort before this step, so the 64-bit product cannot wrap.
      value_ = value_ * 10 + static_cast<uint64_t>(c - '0');
      if (value_ > kMaxPort) fail(absl::StrCat("port exceeds ", kMaxPort));
    }
  }
  if (consumed != nullptr) *consumed = n;
  return state_;
}

}  // namespace ssh_proxy
