// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// machine_reply_fuzzer: systemd-machined's reply to io.systemd.Machine.List,
// as the resolver reads it (MachinedReplyReader) and interprets it
// (ParseMachinedReply). machined's bytes are hostile input, like a
// multiplexer's.
//
// Input: one options byte, one split byte, then the bytes machined sends.
//   options bit 0     scope (0 system, 1 user; uid 1000)
//   options bits 1-3  the machine asked about: vm1 vm2 vm3 vm4 c1 web1 a.b x
//   options bits 4-5  PORT: 22, 1, 4294967294, 2222
//   split byte        seeds the chunk lengths the stream is fed in
//
// Properties, checked on every input:
//  1. Same result however the reply is split on the socket: fed whole, byte by
//     byte, and in the fuzzer's chunks, the reader reaches the same state with
//     the same message, and the parser the same result.
//  2. Never a target the grammar would refuse: a resolved target is not
//     kMachine, carries PORT, formats (FormatHost) to a HOST that ParseTarget
//     accepts and parses back to the same target, and is never machine/ or
//     .host's own spelling in disguise (no recursion).
//  3. Errors: only NotFound (NoSuchMachine), Unavailable (69) or DataLoss (76);
//     one printable line starting "cannot resolve machine/NAME: ".
//  4. A reply longer than kMaxMachinedReply is refused by the reader, never
//     parsed.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "fuzz/fuzz_check.h"
#include "src/address.h"
#include "src/machine.h"

namespace ssh_proxy {
namespace {

using fuzz::IsPrintableLine;
using fuzz::Shown;

// The input cap: the reader's bound and a little more, so that inputs reach
// both sides of it (a longer one only exercises the same check).
constexpr size_t kMaxInput = 2 + kMaxMachinedReply + 64;

constexpr const char* kNames[] = {"vm1", "vm2",  "vm3", "vm4",
                                  "c1",  "web1", "a.b", "x"};
constexpr uint32_t kPorts[] = {22, 1, 4294967294u, 2222};

struct Result {
  MachinedReplyReader::State state;
  std::string message;
};

Result Read(absl::string_view stream, uint8_t split, bool one_by_one) {
  MachinedReplyReader reader;
  uint32_t seed = split;
  size_t i = 0;
  while (i < stream.size() &&
         reader.state() == MachinedReplyReader::State::kNeedMore) {
    size_t n = 1;
    if (!one_by_one) {
      if (split == 0) {
        n = stream.size();
      } else {
        seed = seed * 1103515245u + 12345u;
        n = 1 + (seed >> 16) % 97;
      }
    }
    // As ReadMachinedReply does: never more than the reader has room for.
    n = std::min({n, stream.size() - i, reader.Room()});
    reader.Feed(stream.substr(i, n));
    i += n;
  }
  return Result{reader.state(), reader.message()};
}

bool SameResult(const absl::StatusOr<Target>& a,
                const absl::StatusOr<Target>& b) {
  if (a.ok() != b.ok()) return false;
  if (a.ok()) return *a == *b;
  return a.status() == b.status();
}

void CheckOne(uint8_t options, uint8_t split, absl::string_view stream) {
  const MachineScope scope =
      (options & 1) ? MachineScope::kUser : MachineScope::kSystem;
  Target machine;
  machine.kind = TargetKind::kMachine;
  machine.name = kNames[(options >> 1) & 7];
  machine.port = kPorts[(options >> 4) & 3];
  const std::string where =
      absl::StrCat("name=", machine.name, " port=", machine.port,
                   " scope=", MachineScopeName(scope),
                   " stream=", Shown(stream.substr(0, 300)));

  // 1. The reader: whole, one byte at a time, in chunks.
  const Result whole = Read(stream, 0, false);
  const Result bytes = Read(stream, 0, true);
  const Result chunks = Read(stream, split, false);
  for (const Result* r : {&bytes, &chunks}) {
    FUZZ_CHECK(r->state == whole.state && r->message == whole.message,
               where + " the reader's result depends on the split");
  }
  if (whole.state == MachinedReplyReader::State::kNeedMore) return;
  // 4. Bounded.
  FUZZ_CHECK(whole.message.size() < kMaxMachinedReply, where);
  if (whole.state == MachinedReplyReader::State::kTooLong) {
    FUZZ_CHECK(stream.substr(0, kMaxMachinedReply).find('\0') ==
                   absl::string_view::npos,
               where + " a reply with its NUL within the bound is too long");
    return;
  }
  FUZZ_CHECK(whole.message.find('\0') == std::string::npos, where);
  FUZZ_CHECK(absl::string_view(stream).substr(0, whole.message.size()) ==
                     whole.message &&
                 stream[whole.message.size()] == '\0',
             where + " the message is not the stream up to its first NUL");

  const absl::StatusOr<Target> got =
      ParseMachinedReply(whole.message, machine, scope, 1000);
  // Deterministic: the same message parses the same way again.
  FUZZ_CHECK(
      SameResult(got, ParseMachinedReply(whole.message, machine, scope, 1000)),
      where + " not deterministic");

  if (!got.ok()) {
    // 3. Errors.
    const absl::Status& s = got.status();
    const std::string message(s.message());
    FUZZ_CHECK(s.code() == absl::StatusCode::kNotFound ||
                   s.code() == absl::StatusCode::kUnavailable ||
                   s.code() == absl::StatusCode::kDataLoss,
               where + " " + s.ToString());
    FUZZ_CHECK(IsPrintableLine(message),
               where + " message not one printable line: " + Shown(message));
    const std::string start =
        absl::StrCat("cannot resolve machine/", machine.name, ": ");
    FUZZ_CHECK(message.rfind(start, 0) == 0,
               where + " message=" + Shown(message));
    FUZZ_CHECK(message.size() < 4096, where + " message too long");
    return;
  }

  // 2. Never a target the grammar would refuse.
  const Target& t = *got;
  FUZZ_CHECK(t.kind != TargetKind::kMachine, where + " unresolved");
  FUZZ_CHECK(t.name.empty(), where);
  FUZZ_CHECK(t.port == machine.port, where + " lost the port");
  const std::string host = FormatHost(t);
  const absl::StatusOr<Target> again =
      ParseTarget(host, absl::StrCat(machine.port));
  FUZZ_CHECK(again.ok(),
             where + " resolved to " + Shown(host) +
                 ", which the grammar refuses: " + again.status().ToString());
  FUZZ_CHECK(*again == t, where + " " + Shown(host) + " parses to " +
                              DescribeTarget(*again));
  // --dry-run's line: one line (paths may carry UTF-8, never controls).
  const std::string described = DescribeTarget(t);
  for (const char ch : described) {
    const unsigned char c = static_cast<unsigned char>(ch);
    FUZZ_CHECK(c >= 0x20 && c != 0x7f, where + " describe=" + Shown(described));
  }
}

}  // namespace
}  // namespace ssh_proxy

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2 || size > ssh_proxy::kMaxInput) return -1;
  ssh_proxy::CheckOne(
      data[0], data[1],
      absl::string_view(reinterpret_cast<const char*>(data + 2), size - 2));
  return 0;
}
