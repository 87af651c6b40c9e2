// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// Tests of MuxReplyParser: every accepted reply under every way of splitting
// the stream, the guest's bytes after the reply left alone, each refused form
// with the exact byte that decided it, and a differential check against an
// independent reference on random streams.

#include "src/mux_reply.h"

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "tests/testing/printing.h"

namespace ssh_proxy {
namespace {

using State = MuxReplyParser::State;

using Outcome = MuxOutcome;

std::string Describe(absl::string_view stream,
                     const std::vector<size_t>& cuts) {
  std::string s = absl::StrCat("stream \"", Printable(stream), "\" cut at [");
  for (size_t c : cuts) absl::StrAppend(&s, c, " ");
  return s + "]";
}

// FeedInChunks feeds `stream` cut at the ascending offsets `cuts` (each
// in 1..size-1) and checks the per-call contract on the way: a call consumes
// its whole chunk unless it decides the verdict, and once decided further calls
// consume nothing.
Outcome FeedInChunks(absl::string_view stream,
                     const std::vector<size_t>& cuts) {
  MuxReplyParser parser;
  size_t consumed_in_all = 0;
  size_t start = 0;
  for (size_t i = 0; i <= cuts.size(); ++i) {
    const size_t end = i < cuts.size() ? cuts[i] : stream.size();
    const absl::string_view chunk = stream.substr(start, end - start);
    const State before = parser.state();
    size_t consumed = 12345;
    const State after = parser.Feed(chunk, &consumed);
    EXPECT_EQ(after, parser.state()) << Describe(stream, cuts);
    EXPECT_LE(consumed, chunk.size()) << Describe(stream, cuts);
    if (before != State::kNeedMore) {
      EXPECT_EQ(consumed, 0u)
          << "consumed after the verdict; " << Describe(stream, cuts);
      EXPECT_EQ(after, before) << Describe(stream, cuts);
    } else if (consumed < chunk.size()) {
      EXPECT_NE(after, State::kNeedMore)
          << "left bytes without deciding; " << Describe(stream, cuts);
    }
    consumed_in_all += consumed;
    start = end;
  }
  return MuxOutcome::Of(parser, consumed_in_all);
}

Outcome FeedAtOnce(absl::string_view stream) {
  return FeedInChunks(stream, {});
}

// ForEachSplit calls `f` with every set of cut offsets for streams of up to
// kAllSplitsMax bytes (all 2^(n-1) of them), and otherwise with every single
// cut, every pair of cuts and the byte-at-a-time split.
constexpr size_t kAllSplitsMax = 16;

template <typename F>
void ForEachSplit(size_t n, F f) {
  if (n <= 1) {
    f(std::vector<size_t>{});
    return;
  }
  if (n <= kAllSplitsMax) {
    for (uint32_t mask = 0; mask < (uint32_t{1} << (n - 1)); ++mask) {
      std::vector<size_t> cuts;
      for (size_t bit = 0; bit + 1 < n; ++bit) {
        if (mask & (uint32_t{1} << bit)) cuts.push_back(bit + 1);
      }
      f(cuts);
    }
    return;
  }
  f(std::vector<size_t>{});
  for (size_t a = 1; a < n; ++a) {
    f(std::vector<size_t>{a});
    for (size_t b = a + 1; b < n; ++b) f(std::vector<size_t>{a, b});
  }
  std::vector<size_t> every;
  for (size_t a = 1; a < n; ++a) every.push_back(a);
  f(every);
}

// ExpectSameUnderEverySplit checks that every split of `stream` gives
// `expected`; returns the number of splits tried.
size_t ExpectSameUnderEverySplit(absl::string_view stream,
                                 const Outcome& expected) {
  size_t splits = 0;
  ForEachSplit(stream.size(), [&](const std::vector<size_t>& cuts) {
    ++splits;
    const Outcome got = FeedInChunks(stream, cuts);
    // One failure per stream is enough to read; the rest repeat it.
    if (!(got == expected)) {
      ADD_FAILURE() << Describe(stream, cuts) << "\n  got      " << got
                    << "\n  expected " << expected;
    }
  });
  return splits;
}

struct Accepted {
  std::string reply;
  uint32_t port;
};

const std::vector<Accepted>& AcceptedReplies() {
  static const auto* const kReplies = new std::vector<Accepted>{
      {"OK 1073741824\n", 1073741824u},  // Firecracker, cloud-hypervisor.
      {"OK 22\n", 22u},                  // vhost-device-vsock echoes the port.
      {"OK 0\n", 0u},                    // The lower boundary.
      {"OK 4294967295\n", 4294967295u},  // The upper boundary (14 bytes).
      {"OK 4294967294\n", 4294967294u},
      {"OK 1\n", 1u},
      {"OK 9\n", 9u},
      {"OK 10\n", 10u},
      {"OK 65535\n", 65535u},
      {"OK 65536\n", 65536u},
      {"OK 999999999\n", 999999999u},
      {"OK 1000000000\n", 1000000000u},
      {"OK 1073741825\n", 1073741825u},
  };
  return *kReplies;
}

Outcome OkOutcome(const Accepted& a) {
  Outcome o;
  o.state = State::kOk;
  o.port = a.port;
  o.consumed = a.reply.size();
  o.received = a.reply;
  return o;
}

TEST(MuxReplyParserTest, MaxReplyLengthFitsTheLongestReply) {
  EXPECT_EQ(MuxReplyParser::kMaxReplyLength,
            std::string("OK 4294967295\n").size());
}

TEST(MuxReplyParserTest, FreshParserNeedsMore) {
  MuxReplyParser parser;
  EXPECT_EQ(parser.state(), State::kNeedMore);
  EXPECT_EQ(parser.port(), 0u);
  EXPECT_EQ(parser.received(), "");
  EXPECT_EQ(parser.error(), "");
  size_t consumed = 99;
  EXPECT_EQ(parser.Feed("", &consumed), State::kNeedMore);
  EXPECT_EQ(consumed, 0u);
}

TEST(MuxReplyParserTest, AcceptsFirecrackerReply) {
  EXPECT_EQ(FeedAtOnce("OK 1073741824\n"),
            (Outcome{State::kOk, 1073741824u, 14, "", "OK 1073741824\n"}));
}

TEST(MuxReplyParserTest, AcceptsVhostDeviceVsockReply) {
  EXPECT_EQ(FeedAtOnce("OK 22\n"),
            (Outcome{State::kOk, 22u, 6, "", "OK 22\n"}));
}

TEST(MuxReplyParserTest, Boundaries) {
  MuxReplyParser zero;
  EXPECT_EQ(zero.Feed("OK 0\n", nullptr), State::kOk);
  EXPECT_EQ(zero.port(), 0u);
  MuxReplyParser max;
  EXPECT_EQ(max.Feed("OK 4294967295\n", nullptr), State::kOk);
  EXPECT_EQ(max.port(), 4294967295u);
  MuxReplyParser over;
  EXPECT_EQ(over.Feed("OK 4294967296\n", nullptr), State::kError);
  EXPECT_EQ(over.port(), 0u);
}

TEST(MuxReplyParserTest, NullConsumedIsAllowed) {
  MuxReplyParser parser;
  EXPECT_EQ(parser.Feed("OK 2", nullptr), State::kNeedMore);
  EXPECT_EQ(parser.Feed("2\nSSH", nullptr), State::kOk);
  EXPECT_EQ(parser.port(), 22u);
  EXPECT_EQ(parser.received(), "OK 22\n");
}

TEST(MuxReplyParserTest, EveryAcceptedReplyUnderEverySplit) {
  size_t splits = 0;
  for (const Accepted& a : AcceptedReplies()) {
    SCOPED_TRACE(Printable(a.reply));
    splits += ExpectSameUnderEverySplit(a.reply, OkOutcome(a));
  }
  // "OK 1073741824\n" alone has 2^13 splits.
  EXPECT_GE(splits, 8192u);
}

TEST(MuxReplyParserTest, TrailingGuestBytesAreNeverConsumed) {
  const std::vector<std::string> trailers = {
      std::string("SSH-2.0-OpenSSH_9.2\r\n"),
      std::string("S"),
      std::string("\n"),
      std::string("OK 22\n"),  // A second reply is the guest's business.
      std::string("0"),  // Would extend the port if the '\n' were skipped.
      std::string("\0", 1),
      std::string("\xff"),
  };
  for (const Accepted& a : AcceptedReplies()) {
    for (const std::string& trailer : trailers) {
      const std::string stream = a.reply + trailer;
      SCOPED_TRACE(Printable(stream));
      ExpectSameUnderEverySplit(stream, OkOutcome(a));
    }
  }
}

TEST(MuxReplyParserTest, DecidedParserConsumesNothingMore) {
  MuxReplyParser ok;
  size_t consumed = 0;
  ASSERT_EQ(ok.Feed("OK 22\n", &consumed), State::kOk);
  EXPECT_EQ(ok.Feed("SSH-2.0-x\r\n", &consumed), State::kOk);
  EXPECT_EQ(consumed, 0u);
  EXPECT_EQ(ok.port(), 22u);

  MuxReplyParser bad;
  ASSERT_EQ(bad.Feed("NO", &consumed), State::kError);
  EXPECT_EQ(consumed, 1u);
  const std::string error = bad.error();
  EXPECT_EQ(bad.Feed("OK 22\n", &consumed), State::kError);
  EXPECT_EQ(consumed, 0u);
  EXPECT_EQ(bad.error(), error);
  EXPECT_EQ(bad.port(), 0u);
}

struct Refused {
  std::string name;
  std::string stream;
  size_t consumed;  // Up to and including the deciding byte.
  std::string error;
};

const std::vector<Refused>& RefusedReplies() {
  static const auto* const kRefused = new std::vector<Refused>{
      {"lowercase ok", "ok 22\n", 1, "expected \"OK \" at byte 0"},
      {"lowercase k", "Ok 22\n", 2, "expected \"OK \" at byte 1"},
      {"missing space", "OK22\n", 3, "expected \"OK \" at byte 2"},
      {"bare OK", "OK\n", 3, "expected \"OK \" at byte 2"},
      {"tab for space", "OK\t22\n", 3, "expected \"OK \" at byte 2"},
      {"two spaces", "OK  22\n", 4, "expected digit at byte 3"},
      {"plus sign", "OK +22\n", 4, "expected digit at byte 3"},
      {"minus sign", "OK -1\n", 4, "expected digit at byte 3"},
      {"leading zero", "OK 022\n", 5, "leading zero in port at byte 3"},
      {"double zero", "OK 00\n", 5, "leading zero in port at byte 3"},
      {"hex", "OK 0x16\n", 5, "expected digit or \"\\n\" at byte 4"},
      {"just above u32", "OK 4294967296\n", 13, "port exceeds 4294967295"},
      {"ten nines", "OK 9999999999\n", 13, "port exceeds 4294967295"},
      {"11 digits", "OK 10000000000\n", 14, "port exceeds 4294967295"},
      {"11 digits after max", "OK 42949672950\n", 14,
       "port exceeds 4294967295"},
      {"crlf", "OK 22\r\n", 6, "expected digit or \"\\n\" at byte 5"},
      {"trailing space", "OK 22 \n", 6, "expected digit or \"\\n\" at byte 5"},
      {"letter after port", "OK 22x\n", 6,
       "expected digit or \"\\n\" at byte 5"},
      {"space at byte 13", "OK 1073741824 \n", 14,
       "expected digit or \"\\n\" at byte 13"},
      {"empty port", "OK \n", 4, "empty port"},
      {"nul at start", std::string("\0OK 22\n", 7), 1,
       "expected \"OK \" at byte 0"},
      {"nul in prefix", std::string("OK\0 22\n", 7), 3,
       "expected \"OK \" at byte 2"},
      {"nul in port",
       std::string("OK 2\0"
                   "2\n",
                   7),
       5, "expected digit or \"\\n\" at byte 4"},
      {"nul as port", std::string("OK \0\n", 5), 4, "expected digit at byte 3"},
      {"garbage", "\xff\xfe garbage", 1, "expected \"OK \" at byte 0"},
      {"guest banner", "SSH-2.0-OpenSSH_9.2\r\n", 1,
       "expected \"OK \" at byte 0"},
      {"ERR", "ERR\n", 1, "expected \"OK \" at byte 0"},
      {"ERROR text", "ERROR no listener\n", 1, "expected \"OK \" at byte 0"},
      {"leading space", " OK 22\n", 1, "expected \"OK \" at byte 0"},
      {"echoed command", "CONNECT 22\n", 1, "expected \"OK \" at byte 0"},
      {"bare newline", "\n", 1, "expected \"OK \" at byte 0"},
  };
  return *kRefused;
}

TEST(MuxReplyParserTest, EveryRefusedReplyUnderEverySplit) {
  for (const Refused& r : RefusedReplies()) {
    SCOPED_TRACE(r.name);
    Outcome expected;
    expected.state = State::kError;
    expected.consumed = r.consumed;
    expected.error = r.error;
    expected.received = r.stream.substr(0, r.consumed);
    ExpectSameUnderEverySplit(r.stream, expected);
    // Whatever follows the deciding byte is left alone too.
    ExpectSameUnderEverySplit(r.stream + "SSH-2.0-x\r\n", expected);
  }
}

TEST(MuxReplyParserTest, IncompleteRepliesNeedMore) {
  for (const std::string& partial :
       {std::string(""), std::string("O"), std::string("OK"),
        std::string("OK "), std::string("OK 0"), std::string("OK 2"),
        std::string("OK 22"), std::string("OK 1073741824"),
        std::string("OK 4294967295")}) {
    SCOPED_TRACE(Printable(partial));
    Outcome expected;
    expected.consumed = partial.size();
    expected.received = partial;
    ExpectSameUnderEverySplit(partial, expected);
  }
}

TEST(MuxReplyParserTest, ReceivedNeverExceedsMaxReplyLength) {
  // The longest undecided prefix is 13 bytes, so the 14th byte always decides.
  for (char c = 0; c < 127; ++c) {
    MuxReplyParser parser;
    size_t consumed = 0;
    const std::string stream = std::string("OK 1073741824") + c + "tail";
    EXPECT_NE(parser.Feed(stream, &consumed), State::kNeedMore);
    EXPECT_EQ(consumed, 14u);
    EXPECT_LE(parser.received().size(), MuxReplyParser::kMaxReplyLength);
  }
}

// Reference is an independent definition of the verdict: the first prefix of
// `stream` that cannot begin an accepted reply decides kError, the first that
// is a whole accepted reply decides kOk.
Outcome Reference(absl::string_view stream) {
  Outcome o;
  for (size_t k = 1; k <= stream.size(); ++k) {
    const absl::string_view p = stream.substr(0, k);
    o.consumed = k;
    o.received = std::string(p.substr(0, MuxReplyParser::kMaxReplyLength));
    if (k <= 3) {
      if (p != absl::string_view("OK ").substr(0, k)) {
        o.state = State::kError;
        return o;
      }
      continue;
    }
    absl::string_view digits = p.substr(3);
    const bool complete = digits.back() == '\n';
    if (complete) digits.remove_suffix(1);
    bool viable = !digits.empty() || !complete;
    for (char c : digits) viable = viable && c >= '0' && c <= '9';
    viable = viable && !(digits.size() > 1 && digits[0] == '0');
    viable =
        viable && digits.size() <= 10 &&
        (digits.empty() || std::stoull(std::string(digits)) <= 4294967295u);
    if (!viable) {
      o.state = State::kError;
      return o;
    }
    if (complete) {
      o.state = State::kOk;
      o.port = static_cast<uint32_t>(std::stoull(std::string(digits)));
      return o;
    }
  }
  return o;
}

TEST(MuxReplyParserTest, AgreesWithReferenceOnRandomStreams) {
  std::mt19937 rng(20240611);  // Fixed: a failure must reproduce.
  const std::string alphabet("OK 0123456789\n\r\0xo+-", 21);
  std::uniform_int_distribution<size_t> pick(0, alphabet.size() - 1);
  std::uniform_int_distribution<size_t> length(0, 18);
  int decided_ok = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string stream;
    // Half the streams start from a valid reply and get one byte mutated, so
    // deep states are hit.
    if (i % 2 == 0) {
      const auto& replies = AcceptedReplies();
      stream = replies[i / 2 % replies.size()].reply + "SSH";
      stream[std::uniform_int_distribution<size_t>(0, stream.size() - 1)(rng)] =
          alphabet[pick(rng)];
    } else {
      const size_t n = length(rng);
      for (size_t j = 0; j < n; ++j) stream += alphabet[pick(rng)];
      if (i % 4 == 1) stream = "OK " + stream;
    }
    const Outcome ref = Reference(stream);
    const Outcome once = FeedAtOnce(stream);
    ASSERT_EQ(once.state, ref.state) << Printable(stream);
    ASSERT_EQ(once.port, ref.port) << Printable(stream);
    ASSERT_EQ(once.consumed, ref.consumed) << Printable(stream);
    ASSERT_EQ(once.received, ref.received) << Printable(stream);
    ASSERT_EQ(once.error.empty(), once.state != State::kError);
    if (once.state == State::kOk) ++decided_ok;
    // Random cuts give the same outcome, error text included.
    std::vector<size_t> cuts;
    for (size_t c = 1; c < stream.size(); ++c) {
      if (rng() % 3 == 0) cuts.push_back(c);
    }
    ASSERT_EQ(FeedInChunks(stream, cuts), once) << Describe(stream, cuts);
  }
  EXPECT_GT(decided_ok, 100);  // The generator really reaches kOk.
}

}  // namespace
}  // namespace ssh_proxy
