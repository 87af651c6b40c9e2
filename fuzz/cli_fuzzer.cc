// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// cli_fuzzer: argv vectors built from the input through ParseCommandLine, and
// --timeout values through ParseDuration. No sockets, no output: it stops
// after parsing, as main() would before acting.
//
// Input: the arguments after argv[0], separated by NUL bytes (the one byte an
// argv string cannot contain). "" is an empty input, one empty argument is not
// expressible and not needed ("a\0\0b" has one in the middle).
//
// Properties, checked on every input:
//  1. Differential: a reference model of the documented option grammar
//     (cli.h), written independently below, gives the same action, flags,
//     timeout, HOST and PORT, or fails where ParseCommandLine fails. So no
//     combination is misreported: an operand is never taken for an option nor
//     the reverse, "--" ends options, a --timeout value is never also an
//     operand, -h/--help/--version win only if reached before an error,
//     --fdpass and --relay may repeat but not meet.
//  2. Errors are InvalidArgument and one printable line that ends with
//     "(see ssh-proxy --help)".
//  3. ParseDuration on every argument: accepted values are 1..kMaxTimeoutMs
//     and agree with a reference; "<ms>ms" re-parses to the same value.
//  4. Every long option an accepted command line used is documented in the
//     --help text, which ends with "\n".

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "fuzz/fuzz_check.h"
#include "src/cli.h"
#include "src/usage.h"

namespace ssh_proxy {
namespace {

using fuzz::IsPrintableLine;
using fuzz::Shown;

// The input cap: ssh passes two short arguments; 64 arguments and 1 KiB reach
// every option combination (repeats, bundles, "--" anywhere) while keeping
// each execution fast. Argument length does not change the parser's path
// except through ParseDuration, whose longest accepted value is 10 digits.
constexpr size_t kMaxInput = 1024;
constexpr size_t kMaxArgs = 64;

// ---- Reference model of the documented grammar. ----

// RefDuration: digits (no sign, no leading zero except "0", at most
// 4294967295) immediately followed by ms|s|m|h; the result 1..kMaxTimeoutMs.
bool RefDuration(const std::string& text, int64_t* ms) {
  size_t i = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  const std::string digits = text.substr(0, i);
  const std::string unit = text.substr(i);
  if (digits.empty() || digits.size() > 10) return false;
  if (digits.size() > 1 && digits[0] == '0') return false;
  const uint64_t n = std::stoull(digits);
  if (n > 0xFFFFFFFFull) return false;
  int64_t scale = 0;
  if (unit == "ms") scale = 1;
  if (unit == "s") scale = 1000;
  if (unit == "m") scale = 60000;
  if (unit == "h") scale = 3600000;
  if (scale == 0) return false;
  const int64_t value = static_cast<int64_t>(n) * scale;
  if (value < 1 || value > kMaxTimeoutMs) return false;
  *ms = value;
  return true;
}

// RefParse returns false on a usage error.
bool RefParse(const std::vector<std::string>& args, Options* out) {
  Options o;
  std::vector<std::string> operands;
  bool timeout_seen = false;
  bool only_operands = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    const bool is_option = !only_operands && a.size() >= 2 && a[0] == '-';
    if (!is_option) {
      operands.push_back(a);
      continue;
    }
    if (a == "--") {
      only_operands = true;
    } else if (a[1] != '-') {
      for (size_t j = 1; j < a.size(); ++j) {
        if (a[j] == 'h') {
          o.action = Options::Action::kHelp;
          *out = o;
          return true;
        }
        if (a[j] != 'v') return false;
        o.verbose = true;
      }
    } else if (a == "--help") {
      o.action = Options::Action::kHelp;
      *out = o;
      return true;
    } else if (a == "--version") {
      o.action = Options::Action::kVersion;
      *out = o;
      return true;
    } else if (a == "--dry-run") {
      o.dry_run = true;
    } else if (a == "--verbose") {
      o.verbose = true;
    } else if (a == "--fdpass" || a == "--relay") {
      // Either may repeat; together they conflict.
      const Options::Mode m =
          a == "--fdpass" ? Options::Mode::kFdPass : Options::Mode::kRelay;
      if (o.mode != Options::Mode::kAuto && o.mode != m) return false;
      o.mode = m;
    } else if (a == "--timeout" || a.rfind("--timeout=", 0) == 0) {
      if (timeout_seen) return false;
      timeout_seen = true;
      std::string value;
      if (a == "--timeout") {
        if (i + 1 == args.size()) return false;
        value = args[++i];
      } else {
        value = a.substr(10);
      }
      if (!RefDuration(value, &o.timeout_ms)) return false;
    } else {
      return false;  // Unknown, or a flag given a value.
    }
  }
  if (operands.size() != 2) return false;
  o.host = operands[0];
  o.port = operands[1];
  *out = o;
  return true;
}

std::string Describe(const Options& o) {
  return absl::StrCat("action=", static_cast<int>(o.action),
                      " mode=", static_cast<int>(o.mode),
                      " dry_run=", o.dry_run, " verbose=", o.verbose,
                      " timeout_ms=", o.timeout_ms, " host=", Shown(o.host),
                      " port=", Shown(o.port));
}

bool Same(const Options& a, const Options& b) {
  if (a.action != b.action) return false;
  // Help and version ignore everything else.
  if (a.action != Options::Action::kRun) return true;
  return a.mode == b.mode && a.dry_run == b.dry_run && a.verbose == b.verbose &&
         a.timeout_ms == b.timeout_ms && a.host == b.host && a.port == b.port;
}

void CheckDuration(const std::string& text) {
  absl::StatusOr<int64_t> ms = ParseDuration(text);
  int64_t ref = 0;
  const bool ref_ok = RefDuration(text, &ref);
  FUZZ_CHECK(ms.ok() == ref_ok && (!ref_ok || *ms == ref),
             "duration " + Shown(text) + " parser=" +
                 (ms.ok() ? std::to_string(*ms) : ms.status().ToString()) +
                 " reference=" + (ref_ok ? std::to_string(ref) : "refuses"));
  if (ms.ok()) {
    FUZZ_CHECK(*ms >= 1 && *ms <= kMaxTimeoutMs, Shown(text));
    absl::StatusOr<int64_t> again = ParseDuration(absl::StrCat(*ms, "ms"));
    FUZZ_CHECK(again.ok() && *again == *ms, Shown(text));
  } else {
    FUZZ_CHECK(ms.status().code() == absl::StatusCode::kInvalidArgument &&
                   IsPrintableLine(ms.status().message()),
               "duration " + Shown(text) + " " + ms.status().ToString());
  }
}

}  // namespace
}  // namespace ssh_proxy

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ssh_proxy;
  if (size > kMaxInput) return -1;
  std::vector<std::string> args;
  if (size > 0) {
    const std::string input(reinterpret_cast<const char*>(data), size);
    size_t from = 0;
    while (true) {
      const size_t nul = input.find('\0', from);
      args.push_back(input.substr(from, nul - from));
      if (nul == std::string::npos) break;
      from = nul + 1;
    }
  }
  if (args.size() > kMaxArgs) return -1;

  std::string where = "argv:";
  for (const std::string& a : args) where += " " + fuzz::Shown(a);

  absl::StatusOr<Options> parsed = ParseCommandLine(args);
  Options ref;
  const bool ref_ok = RefParse(args, &ref);
  FUZZ_CHECK(
      parsed.ok() == ref_ok,
      where + " parser=" +
          (parsed.ok() ? Describe(*parsed) : parsed.status().ToString()) +
          " reference=" + (ref_ok ? Describe(ref) : "usage error"));
  if (parsed.ok()) {
    FUZZ_CHECK(Same(*parsed, ref), where + " parser=" + Describe(*parsed) +
                                       " reference=" + Describe(ref));
    if (parsed->action == Options::Action::kHelp) {
      // What main() prints for it: one text ending in "\n".
      const std::string usage = UsageText();
      FUZZ_CHECK(!usage.empty() && usage.back() == '\n', "usage text");
    }
    if (parsed->action == Options::Action::kVersion) {
      FUZZ_CHECK(kVersionString[0] != '\0', "empty version");
    }
    // No undocumented option: every long option of an accepted command line
    // (all of it parsed: not cut short by -h or --version) is in --help.
    if (parsed->action == Options::Action::kRun) {
      const std::string usage = UsageText();
      for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--") break;
        if (a.rfind("--", 0) != 0) continue;
        const std::string name = a.substr(0, a.find('='));
        FUZZ_CHECK(
            usage.find(name) != std::string::npos,
            where + " option " + fuzz::Shown(name) + " is not in --help");
        if (a == "--timeout") ++i;  // Its value.
      }
    }
  } else {
    const absl::Status& s = parsed.status();
    const absl::string_view message = s.message();
    FUZZ_CHECK(s.code() == absl::StatusCode::kInvalidArgument,
               where + " " + s.ToString());
    FUZZ_CHECK(
        IsPrintableLine(message),
        where + " message not one printable line: " + fuzz::Shown(message));
    static constexpr absl::string_view kTail = "(see ssh-proxy --help)";
    FUZZ_CHECK(message.size() >= kTail.size() &&
                   message.substr(message.size() - kTail.size()) == kTail,
               where + " " + fuzz::Shown(message));
  }
  for (const std::string& a : args) {
    // Arguments shaped like durations (and the rest too: it is cheap).
    CheckDuration(a);
    if (a.rfind("--timeout=", 0) == 0) CheckDuration(a.substr(10));
  }
  return 0;
}
