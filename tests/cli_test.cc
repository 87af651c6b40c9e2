// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// Table-driven tests of the command line (src/cli.h), written from the
// specification.

#include "src/cli.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "src/usage.h"

namespace ssh_proxy {
namespace {

using Action = Options::Action;

struct DurationCase {
  std::string text;
  int64_t ms;  // 0: refused.
};

TEST(ParseDurationTest, Table) {
  const std::vector<DurationCase> cases = {
      // Accepted: every unit, and both ends of 1ms..1h.
      {"1ms", 1},
      {"500ms", 500},
      {"999ms", 999},
      {"3600000ms", 3600000},
      {"1s", 1000},
      {"5s", 5000},
      {"10s", 10000},
      {"3600s", 3600000},
      {"1m", 60000},
      {"2m", 120000},
      {"60m", 3600000},
      {"1h", 3600000},
      // Zero is refused in every unit.
      {"0ms", 0},
      {"0s", 0},
      {"0m", 0},
      {"0h", 0},
      // Above one hour.
      {"3600001ms", 0},
      {"3601s", 0},
      {"61m", 0},
      {"2h", 0},
      {"24h", 0},
      // Values whose millisecond count overflows 64 bits must not wrap into
      // range.
      {"9223372036854775807ms", 0},
      {"9223372036854775808ms", 0},
      {"18446744073709551616ms", 0},
      {"18446744073709551617ms", 0},
      {"9223372036854776s", 0},
      {"2562047788015216h", 0},
      {"5124095576030432h", 0},  // * 3600000 wraps to a small value in 64 bits.
      {"99999999999999999999999999s", 0},
      // Missing or unknown unit.
      {"5", 0},
      {"500", 0},
      {"5x", 0},
      {"5S", 0},
      {"5MS", 0},
      {"5H", 0},
      {"5sec", 0},
      {"5ss", 0},
      {"5us", 0},
      {"5ns", 0},
      {"5d", 0},
      {"5ms5", 0},
      {"5m5s", 0},
      // Not a number.
      {"", 0},
      {"s", 0},
      {"ms", 0},
      {"-5s", 0},
      {"+5s", 0},
      {"05s", 0},
      {"00s", 0},
      {"5 s", 0},
      {" 5s", 0},
      {"5s ", 0},
      {"1.5s", 0},
      {"0x10s", 0},
      {"1e3ms", 0},
      {std::string("5s\0", 3), 0},
  };
  for (const DurationCase& c : cases) {
    const absl::StatusOr<int64_t> got = ParseDuration(c.text);
    if (c.ms > 0) {
      ASSERT_TRUE(got.ok()) << "\"" << c.text << "\": " << got.status();
      EXPECT_EQ(*got, c.ms) << c.text;
    } else {
      ASSERT_FALSE(got.ok()) << "\"" << c.text << "\" accepted as " << *got;
      EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
      EXPECT_FALSE(got.status().message().empty());
      EXPECT_FALSE(absl::StrContains(got.status().message(), "\n"));
    }
  }
}

TEST(ParseDurationTest, LimitsMatchHeader) {
  EXPECT_EQ(kDefaultTimeoutMs, 10000);
  EXPECT_EQ(kMaxTimeoutMs, 3600000);
}

absl::StatusOr<Options> Parse(std::vector<std::string> args) {
  return ParseCommandLine(args);
}

std::string Show(const std::vector<std::string>& args) {
  return absl::StrCat("[", absl::StrJoin(args, "] ["), "]");
}

struct RunCase {
  std::vector<std::string> args;
  std::string host;
  std::string port;
  bool dry_run;
  bool verbose;
  int64_t timeout_ms;
};

TEST(ParseCommandLineTest, RunTable) {
  const std::vector<RunCase> cases = {
      {{"unix/x", "22"}, "unix/x", "22", false, false, 10000},
      {{"--dry-run", "unix/x", "22"}, "unix/x", "22", true, false, 10000},
      {{"-v", "unix/x", "22"}, "unix/x", "22", false, true, 10000},
      {{"--verbose", "unix/x", "22"}, "unix/x", "22", false, true, 10000},
      {{"--timeout=5s", "unix/x", "22"}, "unix/x", "22", false, false, 5000},
      {{"--timeout", "5s", "unix/x", "22"}, "unix/x", "22", false, false, 5000},
      {{"--timeout=500ms", "unix/x", "22"}, "unix/x", "22", false, false, 500},
      {{"--timeout=1h", "unix/x", "22"}, "unix/x", "22", false, false, 3600000},
      {{"--timeout=2m", "unix/x", "22"}, "unix/x", "22", false, false, 120000},
      // Options and operands may be mixed.
      {{"unix/x", "--dry-run", "22"}, "unix/x", "22", true, false, 10000},
      {{"unix/x", "22", "-v", "--dry-run"}, "unix/x", "22", true, true, 10000},
      {{"unix/x", "22", "--timeout", "1s"}, "unix/x", "22", false, false, 1000},
      // "--" ends options: what follows is an operand even if it looks like
      // one.
      {{"--", "-x", "22"}, "-x", "22", false, false, 10000},
      {{"--dry-run", "--", "-v", "-h"}, "-v", "-h", true, false, 10000},
      {{"--", "--help", "22"}, "--help", "22", false, false, 10000},
      {{"--", "--version", "--"}, "--version", "--", false, false, 10000},
      {{"unix/x", "--", "22"}, "unix/x", "22", false, false, 10000},
      // HOST and PORT are passed through unvalidated.
      {{"not a host", "not a port"},
       "not a host",
       "not a port",
       false,
       false,
       10000},
      {{"", ""}, "", "", false, false, 10000},
  };
  for (const RunCase& c : cases) {
    const absl::StatusOr<Options> got = Parse(c.args);
    ASSERT_TRUE(got.ok()) << Show(c.args) << ": " << got.status();
    EXPECT_EQ(got->action, Action::kRun) << Show(c.args);
    EXPECT_EQ(got->host, c.host) << Show(c.args);
    EXPECT_EQ(got->port, c.port) << Show(c.args);
    EXPECT_EQ(got->dry_run, c.dry_run) << Show(c.args);
    EXPECT_EQ(got->verbose, c.verbose) << Show(c.args);
    EXPECT_EQ(got->timeout_ms, c.timeout_ms) << Show(c.args);
  }
}

struct ActionCase {
  std::vector<std::string> args;
  Action action;
};

TEST(ParseCommandLineTest, HelpAndVersion) {
  const std::vector<ActionCase> cases = {
      {{"-h"}, Action::kHelp},
      {{"--help"}, Action::kHelp},
      {{"--version"}, Action::kVersion},
      // Short flags bundle.
      {{"-vh"}, Action::kHelp},
      {{"-hv"}, Action::kHelp},
      // They return at once, ignoring what follows...
      {{"--help", "--bogus"}, Action::kHelp},
      {{"-h", "a", "b", "c"}, Action::kHelp},
      {{"--version", "x"}, Action::kVersion},
      {{"--version", "--help"}, Action::kVersion},
      {{"--help", "--version"}, Action::kHelp},
      {{"--help", "--timeout"}, Action::kHelp},
      // ...and whatever came before, if it was valid.
      {{"unix/x", "22", "--help"}, Action::kHelp},
      {{"--dry-run", "-v", "--version"}, Action::kVersion},
  };
  for (const ActionCase& c : cases) {
    const absl::StatusOr<Options> got = Parse(c.args);
    ASSERT_TRUE(got.ok()) << Show(c.args) << ": " << got.status();
    EXPECT_EQ(got->action, c.action) << Show(c.args);
  }
}

struct ErrorCase {
  std::vector<std::string> args;
  std::string named;  // Must occur in the message ("" for no particular text).
};

TEST(ParseCommandLineTest, ErrorTable) {
  const std::vector<ErrorCase> cases = {
      // Operand counts.
      {{}, ""},
      {{"unix/x"}, ""},
      {{"--dry-run", "unix/x"}, ""},
      {{"unix/x", "22", "third-operand"}, "third-operand"},
      {{"--", "unix/x", "22", "third-operand"}, "third-operand"},
      // Unknown options, long and short, and options given a value they do not
      // take.
      {{"--bogus", "unix/x", "22"}, "--bogus"},
      {{"-x", "unix/x", "22"}, "-x"},
      {{"-vx", "unix/x", "22"}, "x"},
      {{"--dry-run=yes", "unix/x", "22"}, "--dry-run"},
      {{"--verbose=1", "unix/x", "22"}, "--verbose"},
      {{"--help=1"}, "--help"},
      {{"--Help"}, "--Help"},
      {{"-V", "unix/x", "22"}, "-V"},
      {{"--dry", "unix/x", "22"}, "--dry"},       // No abbreviations.
      {{"--time=5s", "unix/x", "22"}, "--time"},  // No abbreviations.
      {{"---", "unix/x", "22"}, "---"},
      // An error before --help is still an error.
      {{"--bogus", "--help"}, "--bogus"},
      // --timeout without a value, with an empty one, a bad one, or twice.
      {{"--timeout"}, "--timeout"},
      {{"unix/x", "22", "--timeout"}, "--timeout"},
      {{"--timeout=", "unix/x", "22"}, "--timeout"},
      {{"--timeout=0s", "unix/x", "22"}, "0s"},
      {{"--timeout", "0s", "unix/x", "22"}, "0s"},
      {{"--timeout=5", "unix/x", "22"}, "5"},
      {{"--timeout=2h", "unix/x", "22"}, "2h"},
      {{"--timeout=5x", "unix/x", "22"}, "5x"},
      {{"--timeout=-5s", "unix/x", "22"}, "-5s"},
      {{"--timeout=5s", "--timeout=6s", "unix/x", "22"}, "--timeout"},
      {{"--timeout", "5s", "--timeout", "5s", "unix/x", "22"}, "--timeout"},
  };
  for (const ErrorCase& c : cases) {
    const absl::StatusOr<Options> got = Parse(c.args);
    ASSERT_FALSE(got.ok()) << Show(c.args) << " accepted";
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument)
        << Show(c.args);
    const std::string message(got.status().message());
    EXPECT_FALSE(message.empty()) << Show(c.args);
    EXPECT_FALSE(absl::StrContains(message, "\n")) << Show(c.args) << message;
    EXPECT_TRUE(absl::StrContains(message, c.named))
        << Show(c.args) << ": \"" << message << "\" does not name \"" << c.named
        << "\"";
  }
}

TEST(ParseCommandLineTest, DefaultsAreTheHeaderDefaults) {
  const absl::StatusOr<Options> got = Parse({"a", "b"});
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->timeout_ms, kDefaultTimeoutMs);
  EXPECT_FALSE(got->dry_run);
  EXPECT_FALSE(got->verbose);
  EXPECT_EQ(got->mode, Options::Mode::kAuto);
}

TEST(ParseCommandLineTest, HandOffModes) {
  EXPECT_EQ(Parse({"--fdpass", "a", "b"})->mode, Options::Mode::kFdPass);
  EXPECT_EQ(Parse({"a", "--relay", "b"})->mode, Options::Mode::kRelay);
  // Repeating the same mode is harmless; asking for both is an error naming
  // both.
  EXPECT_EQ(Parse({"--relay", "--relay", "a", "b"})->mode,
            Options::Mode::kRelay);
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--fdpass", "--relay", "a", "b"},
        std::vector<std::string>{"--relay", "a", "b", "--fdpass"}}) {
    const absl::StatusOr<Options> got = Parse(args);
    ASSERT_FALSE(got.ok());
    EXPECT_TRUE(absl::StrContains(got.status().message(), "--fdpass"));
    EXPECT_TRUE(absl::StrContains(got.status().message(), "--relay"));
  }
  EXPECT_FALSE(Parse({"--relay=yes", "a", "b"}).ok());
  EXPECT_FALSE(Parse({"--fdpass=no", "a", "b"}).ok());
}

TEST(UsageTextTest, MentionsEveryOption) {
  const std::string usage = UsageText();
  ASSERT_FALSE(usage.empty());
  EXPECT_EQ(usage.back(), '\n');
  for (const char* word :
       {"ssh-proxy", "HOST", "PORT", "--help", "--version", "--dry-run",
        "--verbose", "--timeout", "--fdpass", "--relay"}) {
    EXPECT_TRUE(absl::StrContains(usage, word)) << "usage lacks " << word;
  }
}

TEST(VersionStringTest, OneLine) {
  const std::string version(kVersionString);
  EXPECT_FALSE(version.empty());
  EXPECT_FALSE(absl::StrContains(version, "\n"));
}

}  // namespace
}  // namespace ssh_proxy
