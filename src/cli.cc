// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors

#include "src/cli.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "src/text.h"
#include "src/version.h"

namespace ssh_proxy {

// SSH_PROXY_VERSION comes from debian/changelog (src/BUILD.bazel, //src:version_h).
const char kVersionString[] = "ssh-proxy " SSH_PROXY_VERSION;

namespace {

struct Unit {
  absl::string_view name;
  int64_t ms;
};
constexpr Unit kUnits[] = {
    {"ms", 1}, {"s", 1000}, {"m", 60 * 1000}, {"h", 60 * 60 * 1000}};

absl::Status UsageError(absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat(what, " (see ssh-proxy --help)"));
}

}  // namespace

absl::StatusOr<int64_t> ParseDuration(absl::string_view text) {
  size_t digits_end = 0;
  while (digits_end < text.size() &&
         absl::ascii_isdigit(static_cast<unsigned char>(text[digits_end]))) {
    ++digits_end;
  }
  const absl::string_view digits = text.substr(0, digits_end);
  const absl::string_view unit = text.substr(digits_end);
  if (digits.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(Quoted(text),
                     " is not a duration: expected a number and a unit, like "
                     "500ms or 5s"));
  }
  if (unit.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        Quoted(text), " has no unit: write ", digits, "s or ", digits, "ms"));
  }
  int64_t unit_ms = 0;
  for (const Unit& u : kUnits) {
    if (unit == u.name) unit_ms = u.ms;
  }
  if (unit_ms == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(Quoted(text), " has unknown unit ", Quoted(unit),
                     ": use ms, s, m or h"));
  }
  absl::StatusOr<uint32_t> number = ParseU32(digits);
  if (!number.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(Quoted(text), ": the number ", number.status().message()));
  }
  // At most 4294967295 * 3600000 < 2^63: no overflow.
  const int64_t ms = static_cast<int64_t>(*number) * unit_ms;
  if (ms == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(Quoted(text), " must be positive"));
  }
  if (ms > kMaxTimeoutMs) {
    return absl::InvalidArgumentError(
        absl::StrCat(Quoted(text), " is longer than the maximum of 1h"));
  }
  return ms;
}

namespace {

// The options, one row each: ParseCommandLine reads every name from here.
enum class Flag {
  kHelp,
  kVersion,
  kDryRun,
  kVerbose,
  kFdPass,
  kRelay,
  kTimeout
};
struct OptionSpec {
  absl::string_view name;  // After "--".
  char short_name;         // After "-", or 0 for none.
  bool takes_value;        // "--name=VALUE" or "--name VALUE".
  Flag flag;
};
constexpr OptionSpec kOptionSpecs[] = {
    {"help", 'h', false, Flag::kHelp},
    {"version", 0, false, Flag::kVersion},
    {"dry-run", 0, false, Flag::kDryRun},
    {"verbose", 'v', false, Flag::kVerbose},
    {"fdpass", 0, false, Flag::kFdPass},
    {"relay", 0, false, Flag::kRelay},
    {"timeout", 0, true, Flag::kTimeout},
};

const OptionSpec* FindLong(absl::string_view name) {
  for (const OptionSpec& spec : kOptionSpecs) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

const OptionSpec* FindShort(char name) {
  for (const OptionSpec& spec : kOptionSpecs) {
    if (spec.short_name != 0 && spec.short_name == name) return &spec;
  }
  return nullptr;
}

// The parser's state between arguments.
struct ParseState {
  Options options;
  bool timeout_seen = false;
};

// ApplyFlag records `spec` (with `value` for --timeout) in `state`. Returns
// InvalidArgument for a repeated --timeout, a bad duration or --fdpass with
// --relay.
absl::Status ApplyFlag(const OptionSpec& spec, absl::string_view value,
                       ParseState* state) {
  Options& options = state->options;
  switch (spec.flag) {
    case Flag::kHelp:
      options.action = Options::Action::kHelp;
      return absl::OkStatus();
    case Flag::kVersion:
      options.action = Options::Action::kVersion;
      return absl::OkStatus();
    case Flag::kDryRun:
      options.dry_run = true;
      return absl::OkStatus();
    case Flag::kVerbose:
      options.verbose = true;
      return absl::OkStatus();
    case Flag::kFdPass:
    case Flag::kRelay: {
      const Options::Mode mode = spec.flag == Flag::kFdPass
                                     ? Options::Mode::kFdPass
                                     : Options::Mode::kRelay;
      if (options.mode != Options::Mode::kAuto && options.mode != mode) {
        return UsageError("options --fdpass and --relay exclude each other");
      }
      options.mode = mode;
      return absl::OkStatus();
    }
    case Flag::kTimeout: {
      absl::StatusOr<int64_t> ms = ParseDuration(value);
      if (!ms.ok()) {
        return UsageError(
            absl::StrCat("option --timeout: ", ms.status().message()));
      }
      options.timeout_ms = *ms;
      return absl::OkStatus();
    }
  }
  return absl::InternalError("not a Flag");  // -Werror=switch names them all.
}

// ParseShortFlags applies the bundled short flags of `arg` ("-v", "-vh").
absl::Status ParseShortFlags(const std::string& arg, ParseState* state) {
  for (size_t j = 1; j < arg.size(); ++j) {
    const OptionSpec* spec = FindShort(arg[j]);
    if (spec == nullptr) {
      return UsageError(absl::StrCat("unknown option \"-",
                                     EscapeForMessage(arg.substr(j, 1)),
                                     "\" in ", Quoted(arg)));
    }
    absl::Status applied = ApplyFlag(*spec, "", state);
    if (!applied.ok()) return applied;
    // -h ends parsing: what follows is ignored.
    if (state->options.action != Options::Action::kRun) break;
  }
  return absl::OkStatus();
}

// ParseLongOption applies `args[*i]`, a "--name" or "--name=value"; a value
// given as the next argument advances `*i`.
absl::Status ParseLongOption(const std::vector<std::string>& args, size_t* i,
                             ParseState* state) {
  const std::string& arg = args[*i];
  const absl::string_view body = absl::string_view(arg).substr(2);
  const size_t eq = body.find('=');
  const absl::string_view name = body.substr(0, eq);
  const bool has_value = eq != absl::string_view::npos;
  const OptionSpec* spec = FindLong(name);
  if (spec == nullptr) {
    return UsageError(absl::StrCat("unknown option ", Quoted(arg)));
  }
  if (!spec->takes_value) {
    if (has_value) {
      return UsageError(
          absl::StrCat("option --", name, " takes no value: ", Quoted(arg)));
    }
    return ApplyFlag(*spec, "", state);
  }
  if (state->timeout_seen) {
    return UsageError("option --timeout given more than once");
  }
  state->timeout_seen = true;
  if (has_value) return ApplyFlag(*spec, body.substr(eq + 1), state);
  if (*i + 1 >= args.size()) {
    return UsageError("option --timeout needs a value, like --timeout=5s");
  }
  return ApplyFlag(*spec, args[++*i], state);
}

}  // namespace

absl::StatusOr<Options> ParseCommandLine(const std::vector<std::string>& args) {
  ParseState state;
  std::vector<const std::string*> operands;
  bool options_ended = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (options_ended || arg.size() < 2 || arg[0] != '-') {
      operands.push_back(&arg);  // Includes "-" and "" (refused later).
      continue;
    }
    if (arg == "--") {
      options_ended = true;
      continue;
    }
    absl::Status parsed = arg[1] != '-' ? ParseShortFlags(arg, &state)
                                        : ParseLongOption(args, &i, &state);
    if (!parsed.ok()) return parsed;
    // -h, --help and --version return at once, ignoring what follows.
    if (state.options.action != Options::Action::kRun) return state.options;
  }
  if (operands.empty()) {
    return UsageError("missing HOST and PORT");
  }
  if (operands.size() == 1) {
    return UsageError(
        absl::StrCat("missing PORT after HOST ", Quoted(*operands[0])));
  }
  if (operands.size() > 2) {
    return UsageError(absl::StrCat("unexpected argument ", Quoted(*operands[2]),
                                   " after HOST and PORT"));
  }
  state.options.host = *operands[0];
  state.options.port = *operands[1];
  return state.options;
}

}  // namespace ssh_proxy
