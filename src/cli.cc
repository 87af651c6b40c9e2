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

absl::StatusOr<Options> ParseCommandLine(const std::vector<std::string>& args) {
  Options options;
  std::vector<const std::string*> operands;
  bool timeout_seen = false;
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
    if (arg[1] != '-') {
      // Bundled short flags: "-v", "-vh".
      for (size_t j = 1; j < arg.size(); ++j) {
        if (arg[j] == 'h') {
          options.action = Options::Action::kHelp;
          return options;
        }
        if (arg[j] != 'v') {
          return UsageError(absl::StrCat("unknown option \"-",
                                         EscapeForMessage(arg.substr(j, 1)),
                                         "\" in ", Quoted(arg)));
        }
        options.verbose = true;
      }
      continue;
    }
    const absl::string_view body = absl::string_view(arg).substr(2);
    const size_t eq = body.find('=');
    const absl::string_view name = body.substr(0, eq);
    const bool has_value = eq != absl::string_view::npos;
    if (name == "timeout") {
      if (timeout_seen) {
        return UsageError("option --timeout given more than once");
      }
      timeout_seen = true;
      absl::string_view value;
      if (has_value) {
        value = body.substr(eq + 1);
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return UsageError("option --timeout needs a value, like --timeout=5s");
      }
      absl::StatusOr<int64_t> ms = ParseDuration(value);
      if (!ms.ok()) {
        return UsageError(
            absl::StrCat("option --timeout: ", ms.status().message()));
      }
      options.timeout_ms = *ms;
      continue;
    }
    const bool is_flag = name == "help" || name == "version" ||
                         name == "dry-run" || name == "verbose" ||
                         name == "fdpass" || name == "relay";
    if (!is_flag) {
      return UsageError(absl::StrCat("unknown option ", Quoted(arg)));
    }
    if (has_value) {
      return UsageError(
          absl::StrCat("option --", name, " takes no value: ", Quoted(arg)));
    }
    if (name == "help") {
      options.action = Options::Action::kHelp;
      return options;
    }
    if (name == "version") {
      options.action = Options::Action::kVersion;
      return options;
    }
    if (name == "fdpass" || name == "relay") {
      const Options::Mode mode =
          name == "fdpass" ? Options::Mode::kFdPass : Options::Mode::kRelay;
      if (options.mode != Options::Mode::kAuto && options.mode != mode) {
        return UsageError("options --fdpass and --relay exclude each other");
      }
      options.mode = mode;
    }
    if (name == "dry-run") options.dry_run = true;
    if (name == "verbose") options.verbose = true;
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
  options.host = *operands[0];
  options.port = *operands[1];
  return options;
}

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
