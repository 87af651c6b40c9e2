#include "src/cli.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "src/address.h"

namespace ssh_proxy {

const char kVersionString[] = "ssh-proxy 0.1.0";

namespace {

struct Unit {
  absl::string_view name;
  int64_t ms;
};
constexpr Unit kUnits[] = {
    {"ms", 1}, {"s", 1000}, {"m", 60 * 1000}, {"h", 60 * 60 * 1000}};

std::string Quoted(absl::string_view arg) {
  return absl::StrCat("\"", EscapeForMessage(arg), "\"");
}

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

namespace {

// ProxyCommandPath returns `path` as a ProxyCommand's first word (see
// UsageText).
std::string ProxyCommandPath(absl::string_view path) {
  bool plain = !path.empty();
  for (const char c : path) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return kDefaultInstalledPath;
    plain = plain && (absl::ascii_isalnum(u) || c == '/' || c == '.' ||
                      c == '_' || c == '+' || c == '-');
  }
  if (path.empty()) return kDefaultInstalledPath;
  if (plain) return std::string(path);
  // Single quotes for the shell; a quote inside becomes '\''.
  return absl::StrCat("'", absl::StrReplaceAll(path, {{"'", "'\\''"}}), "'");
}

}  // namespace

std::string UsageText(absl::string_view self_path) {
  // The HOST forms come from the grammar's own table (address.cc).
  return absl::StrCat(
      R"(Usage: ssh-proxy [OPTIONS] HOST PORT

Connects to HOST and hands the connected socket to ssh (ProxyUseFdpass yes),
or, when stdout is not a socket, relays stdin and stdout to it.

HOST:
)",
      HostHelp(),
      R"(PORT: the vsock port, 1..4294967294 (checked for every form, unused by unix).

Options:
  -h, --help            show this help and exit
      --version         show the version and exit
      --dry-run         print the parsed target and exit without connecting
                        (machine/NAME: the target systemd-machined gives)
  -v, --verbose         print each step on stderr
      --fdpass          always pass the connection to ssh (ProxyUseFdpass yes)
      --relay           always relay stdin/stdout to the connection instead
                        (default: pass it if stdout is a UNIX socket, else relay)
      --timeout=DURATION  give up if asking systemd-machined, connecting and
                        handing the connection over take longer than DURATION
                        (500ms, 5s, 2m, 1h; default 10s, at most 1h)
  --                    end of options

ssh_config:
  Host )",
      SshConfigHostPatterns(), R"(
      ProxyCommand )",
      ProxyCommandPath(self_path), R"( '%n' %p
      ProxyUseFdpass yes
      CheckHostIP no

machine/NAME asks systemd-machined (user scope, then system scope) for the
machine's vSockCid, else its sshAddress, else an nspawn container's socket.

Exit status: 0 ok, 64 bad usage/HOST/PORT, 69 unavailable, 71 OS error,
75 timeout, 76 protocol error.
)");
}

}  // namespace ssh_proxy
