// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// mux_reply_fuzzer: arbitrary bytes from a vsock multiplexer fed to the
// incremental reply parser (MuxReplyParser), split at points the fuzzer
// chooses.
//
// Input: two bytes of split mask, then the stream. Bit i of the mask
// (little-endian) splits the stream after its byte i (i < 16); a split also
// feeds an empty chunk, which must consume nothing. The parser decides within
// 14 bytes, so splits further out would not reach new states.
//
// Properties, checked on every input:
//  1. Split independence: the state, port, total bytes consumed, error text
//     and received() are the same fed in one piece, byte by byte and in the
//     fuzzer's chunks. No Feed consumes more than it was offered; once
//     decided, later Feeds consume nothing and return the same state.
//  2. An accepted reply is consumed exactly through its '\n': the last byte
//     consumed is the first '\n' of the stream; the guest's bytes after it are
//     left alone. Nothing past kMaxReplyLength is ever consumed.
//  3. Differential: a reference check written from the grammar in
//     mux_reply.h ("OK " U32 "\n", whole-prefix checks, not a byte-at-a-time
//     state machine) gives the same verdict, port and bytes consumed.
//  4. error() is non-empty and one printable line exactly when the state is
//     kError; port() is 0 unless kOk.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "fuzz/fuzz_check.h"
#include "src/mux_reply.h"
#include "tests/testing/printing.h"

namespace ssh_proxy {
namespace {

using fuzz::IsPrintableLine;
using fuzz::Shown;
using State = MuxReplyParser::State;

// The input cap: 2 mask bytes, the longest reply (14 bytes), and room for the
// guest's first bytes behind it, which must be left alone. Longer streams
// only repeat "bytes after the verdict are not consumed".
constexpr size_t kMaxStream = 64;
constexpr size_t kMaskBytes = 2;

using Outcome = MuxOutcome;

// Feeds `stream` in the chunks that `cut_after` (offsets after which to cut)
// describes, checking the per-call contract, and returns the outcome.
Outcome Run(absl::string_view stream, const std::vector<size_t>& cut_after,
            bool empty_chunks, const std::string& where) {
  MuxReplyParser parser;
  size_t consumed_in_all = 0;
  size_t from = 0;
  std::vector<size_t> ends = cut_after;
  ends.push_back(stream.size());
  for (size_t end : ends) {
    if (end < from || end > stream.size()) continue;
    const absl::string_view chunk = stream.substr(from, end - from);
    const State before = parser.state();
    size_t consumed = 12345;
    const State after = parser.Feed(chunk, &consumed);
    FUZZ_CHECK(consumed <= chunk.size(), where);
    FUZZ_CHECK(after == parser.state(), where);
    if (before != State::kNeedMore) {
      FUZZ_CHECK(consumed == 0 && after == before,
                 where + " a decided parser consumed or changed");
    }
    if (after == State::kNeedMore) {
      FUZZ_CHECK(consumed == chunk.size(),
                 where + " need-more without consuming the whole chunk");
    }
    consumed_in_all += consumed;
    if (empty_chunks) {
      size_t none = 12345;
      FUZZ_CHECK(parser.Feed(absl::string_view(), &none) == after && none == 0,
                 where + " an empty Feed changed something");
      // A null `consumed` is allowed.
      FUZZ_CHECK(parser.Feed(absl::string_view(), nullptr) == after, where);
    }
    from = end;
  }
  return MuxOutcome::Of(parser, consumed_in_all);
}

// ---- The reference: whole-prefix checks against the grammar. ----

// Complete(p): p is exactly "OK " U32 "\n".
bool Complete(const std::string& p, uint32_t* port) {
  if (p.size() < 5 || p.compare(0, 3, "OK ") != 0 || p.back() != '\n') {
    return false;
  }
  const std::string digits = p.substr(3, p.size() - 4);
  if (digits.empty() || digits.size() > 10) return false;
  if (digits.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  if (digits.size() > 1 && digits[0] == '0') return false;
  const unsigned long long v = std::stoull(digits);
  if (v > 0xFFFFFFFFull) return false;
  *port = static_cast<uint32_t>(v);
  return true;
}

// Viable(p): some continuation of p is a complete reply, i.e. Complete(p +
// "\n") or p + "<digit>" is viable; decided directly: p is a prefix of "OK ",
// or "OK " followed by digits that are "0" or free of a leading zero and still
// at most 4294967295.
bool Viable(const std::string& p) {
  const std::string ok = "OK ";
  if (p.size() <= 3) return ok.compare(0, p.size(), p) == 0;
  uint32_t unused = 0;
  return Complete(p + "\n", &unused);
}

Outcome Reference(absl::string_view stream) {
  Outcome o;
  std::string prefix;
  for (char c : stream) {
    prefix += c;
    uint32_t port = 0;
    if (Complete(prefix, &port)) {
      o.state = State::kOk;
      o.port = port;
      o.consumed = prefix.size();
      return o;
    }
    if (!Viable(prefix)) {
      o.state = State::kError;
      o.consumed = prefix.size();
      return o;
    }
  }
  o.consumed = stream.size();
  return o;
}

void CheckOne(absl::string_view mask_bytes, absl::string_view stream) {
  const std::string where = "stream=" + Shown(stream);
  uint32_t mask = 0;
  for (size_t i = 0; i < mask_bytes.size(); ++i) {
    mask |= static_cast<uint32_t>(static_cast<unsigned char>(mask_bytes[i]))
            << (8 * i);
  }
  std::vector<size_t> chosen, every;
  for (size_t i = 0; i < 16; ++i) {
    if (mask & (1u << i)) chosen.push_back(i + 1);
  }
  for (size_t i = 1; i < stream.size(); ++i) every.push_back(i);

  const Outcome whole = Run(stream, {}, false, where + " whole");
  const Outcome bytes = Run(stream, every, false, where + " bytewise");
  const Outcome split = Run(stream, chosen, true, where + " split");

  for (const Outcome* other : {&bytes, &split}) {
    FUZZ_CHECK(*other == whole, where + " whole: " + Describe(whole) +
                                    " vs split: " + Describe(*other));
  }

  FUZZ_CHECK(whole.consumed <= MuxReplyParser::kMaxReplyLength,
             where + " " + Describe(whole));
  FUZZ_CHECK(
      whole.received == stream.substr(0, whole.consumed),
      where + " received() is not the consumed bytes: " + Describe(whole));
  switch (whole.state) {
    case State::kOk:
      FUZZ_CHECK(
          whole.consumed >= 5 && stream.find('\n') == whole.consumed - 1,
          where + " ok not ending at the first newline: " + Describe(whole));
      FUZZ_CHECK(whole.error.empty(), where + " " + Describe(whole));
      break;
    case State::kError:
      FUZZ_CHECK(IsPrintableLine(whole.error),
                 where + " error not one printable line: " + Describe(whole));
      FUZZ_CHECK(whole.port == 0, where + " " + Describe(whole));
      break;
    case State::kNeedMore:
      FUZZ_CHECK(whole.consumed == stream.size() && whole.error.empty() &&
                     whole.port == 0,
                 where + " " + Describe(whole));
      break;
  }

  const Outcome ref = Reference(stream);
  FUZZ_CHECK(
      ref.state == whole.state && ref.port == whole.port &&
          ref.consumed == whole.consumed,
      where + " parser: " + Describe(whole) + " reference: " + Describe(ref));
}

}  // namespace
}  // namespace ssh_proxy

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > ssh_proxy::kMaskBytes + ssh_proxy::kMaxStream) return -1;
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t mask_size = std::min(size, ssh_proxy::kMaskBytes);
  ssh_proxy::CheckOne(input.substr(0, mask_size), input.substr(mask_size));
  return 0;
}
