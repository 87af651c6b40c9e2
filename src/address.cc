#include "src/address.h"

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace ssh_proxy {
namespace {

constexpr absl::string_view kAcceptedForms =
    "expected unix/PATH, vsock/CID, vsock-mux/PATH (or % instead of /) or "
    ".host";

// ParseU32's message for a value above UINT32_MAX; callers add the field's own
// range.
constexpr absl::string_view kTooLarge = "is larger than 4294967295";

constexpr absl::string_view kUnixPrefix = "unix";
constexpr absl::string_view kVsockPrefix = "vsock";
constexpr absl::string_view kVsockMuxPrefix = "vsock-mux";
constexpr absl::string_view kLocalHost = ".host";

struct CidName {
  absl::string_view name;
  uint32_t cid;
};
constexpr CidName kCidNames[] = {{"hypervisor", 0}, {"local", 1}, {"host", 2}};

// Bytes refused anywhere in PATH: control characters, space and DEL. They are
// never part of a real socket path, and ssh's %n would carry them into log
// lines and error messages.
bool IsRefusedPathByte(unsigned char c) { return c < 0x21 || c == 0x7f; }

// HasRefusedPathByte says whether `text` has a byte IsRefusedPathByte refuses,
// eight bytes at a time: for each byte b of a word, (b - 0x21) borrows into the
// top bit exactly when b < 0x21, and b ^ 0x7f is zero exactly when b is DEL; "&
// ~w" drops bytes >= 0x80, which are allowed.
bool HasRefusedPathByte(absl::string_view text) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHighs = 0x8080808080808080ULL;
  size_t i = 0;
  for (; i + 8 <= text.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, text.data() + i, sizeof(w));
    const uint64_t below = (w - kOnes * 0x21) & ~w & kHighs;
    const uint64_t del = w ^ (kOnes * 0x7f);
    const uint64_t is_del = (del - kOnes) & ~del & kHighs;
    if ((below | is_del) != 0) return true;
  }
  for (; i < text.size(); ++i) {
    if (IsRefusedPathByte(static_cast<unsigned char>(text[i]))) return true;
  }
  return false;
}

// CheckPath checks R, the text after SEP, against the PATH rules. Returns OK or
// InvalidArgument whose message names the broken rule (without the HOST
// prefix).
absl::Status CheckPath(absl::string_view rest) {
  if (rest.empty()) {
    return absl::InvalidArgumentError("PATH is empty");
  }
  // This runs on every connection, so both scans are cheap per byte: a
  // branch-free pass that the compiler vectorises finds whether any byte is
  // refused (and only then where), and the components are found with memchr
  // (string_view::find).
  bool any_bad = HasRefusedPathByte(rest);
  size_t bad_byte = absl::string_view::npos;
  if (any_bad) {
    for (size_t i = 0; i < rest.size(); ++i) {
      if (IsRefusedPathByte(static_cast<unsigned char>(rest[i]))) {
        bad_byte = i;
        break;
      }
    }
  }
  absl::string_view bad_component;
  bool has_bad_component = false;
  for (size_t start = 0; start <= rest.size();) {
    size_t slash = rest.find('/', start);
    if (slash == absl::string_view::npos) slash = rest.size();
    const absl::string_view component = rest.substr(start, slash - start);
    if (component.empty() || component == "." || component == "..") {
      has_bad_component = true;
      bad_component = component;
      break;
    }
    start = slash + 1;
  }
  if (bad_byte != absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "PATH has byte \"", EscapeForMessage(rest.substr(bad_byte, 1)),
        "\" at offset ", bad_byte,
        ": control characters, space and DEL are not allowed"));
  }
  if (rest.front() == '/') {
    return absl::InvalidArgumentError(
        "PATH must not start with \"/\" (it is always below \"/\")");
  }
  if (rest.back() == '/') {
    return absl::InvalidArgumentError("PATH must not end with \"/\"");
  }
  if (has_bad_component) {
    if (bad_component.empty()) {
      return absl::InvalidArgumentError("PATH has an empty component (\"//\")");
    }
    return absl::InvalidArgumentError(
        absl::StrCat("PATH has a \"", bad_component, "\" component"));
  }
  // The target path is "/" + rest.
  if (rest.size() + 1 > kMaxPathLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("path is ", rest.size() + 1,
                     " bytes long; the longest allowed is ", kMaxPathLength));
  }
  return absl::OkStatus();
}

// CanonicalPathSuggestion returns the canonical spelling of `rest` when it is
// unambiguous: empty and "." components (and so leading and trailing "/")
// dropped. Returns "" when there is none:
// ".." cannot be resolved without the file system (symlinks), and bad bytes or
// lengths have no fix.
std::string CanonicalPathSuggestion(absl::string_view rest) {
  std::vector<absl::string_view> kept;
  for (absl::string_view component : absl::StrSplit(rest, '/')) {
    if (component.empty() || component == ".") continue;
    if (component == "..") return "";
    kept.push_back(component);
  }
  std::string candidate = absl::StrJoin(kept, "/");
  if (candidate == rest || !CheckPath(candidate).ok()) return "";
  return candidate;
}

absl::StatusOr<Target> ParseHost(absl::string_view host);

std::string HostError(absl::string_view host, absl::string_view what) {
  return absl::StrCat("HOST \"", EscapeForMessage(host), "\": ", what);
}

absl::StatusOr<std::string> ParsePath(absl::string_view host,
                                      absl::string_view prefix_and_sep,
                                      absl::string_view rest) {
  absl::Status status = CheckPath(rest);
  if (!status.ok()) {
    std::string message = HostError(host, status.message());
    std::string suggestion = CanonicalPathSuggestion(rest);
    if (!suggestion.empty()) {
      // Escaped like the rest of the line: the suggestion may carry bytes >=
      // 0x80.
      absl::StrAppend(&message, " (did you mean ", prefix_and_sep,
                      EscapeForMessage(suggestion), "?)");
    }
    return absl::InvalidArgumentError(message);
  }
  return absl::StrCat("/", rest);
}

absl::StatusOr<uint32_t> ParseCid(absl::string_view host,
                                  absl::string_view prefix_and_sep,
                                  absl::string_view text) {
  for (const CidName& name : kCidNames) {
    if (text == name.name) return name.cid;
  }
  for (const CidName& name : kCidNames) {
    if (absl::EqualsIgnoreCase(text, name.name)) {
      return absl::InvalidArgumentError(
          HostError(host, absl::StrCat("CID names are lowercase (did you mean ",
                                       prefix_and_sep, name.name, "?)")));
    }
  }
  absl::StatusOr<uint32_t> cid = ParseU32(text);
  if (!cid.ok()) {
    std::string message =
        HostError(host, absl::StrCat("CID \"", EscapeForMessage(text), "\" ",
                                     cid.status().message()));
    if (cid.status().message() == kTooLarge) {
      absl::StrAppend(&message, " (the highest CID is 4294967294)");
    } else if (absl::StartsWith(text, "0x") || absl::StartsWith(text, "0X")) {
      absl::StrAppend(&message, " (write the CID in decimal)");
    } else if (text.empty() || !absl::ascii_isdigit(text.front())) {
      absl::StrAppend(&message,
                      " (a CID is a decimal number or one of hypervisor, "
                      "local, host)");
    }
    return absl::InvalidArgumentError(message);
  }
  if (*cid == kVsockCidAny) {
    return absl::InvalidArgumentError(HostError(
        host,
        "CID 4294967295 is VMADDR_CID_ANY, which cannot be connected to (the "
        "highest CID is 4294967294)"));
  }
  return *cid;
}

absl::StatusOr<Target> ParseHost(absl::string_view host) {
  if (host == kLocalHost) {
    Target target;
    target.kind = TargetKind::kUnix;
    target.path = kLocalHostSocketPath;
    return target;
  }
  const size_t sep = host.find_first_of("/%");
  const absl::string_view prefix = host.substr(0, sep);
  if (sep == absl::string_view::npos) {
    if (absl::EqualsIgnoreCase(host, kLocalHost)) {
      return absl::InvalidArgumentError(HostError(
          host, absl::StrCat("prefixes are lowercase (did you mean .host?); ",
                             kAcceptedForms)));
    }
    if (absl::EqualsIgnoreCase(host, kUnixPrefix) ||
        absl::EqualsIgnoreCase(host, kVsockPrefix) ||
        absl::EqualsIgnoreCase(host, kVsockMuxPrefix)) {
      return absl::InvalidArgumentError(HostError(
          host, absl::StrCat("missing \"/\" or \"%\" and the address after the "
                             "prefix; ",
                             kAcceptedForms)));
    }
    return absl::InvalidArgumentError(
        HostError(host, absl::StrCat("not an address ssh-proxy understands; ",
                                     kAcceptedForms)));
  }
  const absl::string_view prefix_and_sep = host.substr(0, sep + 1);
  const absl::string_view rest = host.substr(sep + 1);

  Target target;
  if (prefix == kUnixPrefix || prefix == kVsockMuxPrefix) {
    target.kind =
        prefix == kUnixPrefix ? TargetKind::kUnix : TargetKind::kVsockMux;
    absl::StatusOr<std::string> path = ParsePath(host, prefix_and_sep, rest);
    if (!path.ok()) return path.status();
    target.path = *std::move(path);
    return target;
  }
  if (prefix == kVsockPrefix) {
    target.kind = TargetKind::kVsock;
    absl::StatusOr<uint32_t> cid = ParseCid(host, prefix_and_sep, rest);
    if (!cid.ok()) return cid.status();
    target.cid = *cid;
    return target;
  }

  for (absl::string_view known : {kUnixPrefix, kVsockPrefix, kVsockMuxPrefix}) {
    if (absl::EqualsIgnoreCase(prefix, known)) {
      // Suggest the lowercase spelling only if it is then a valid address.
      const std::string candidate = absl::StrCat(known, host.substr(sep));
      const std::string suggestion =
          ParseHost(candidate).ok()
              ? absl::StrCat(" (did you mean ", EscapeForMessage(candidate),
                             "?)")
              : "";
      return absl::InvalidArgumentError(
          HostError(host, absl::StrCat("prefixes are lowercase", suggestion,
                                       "; ", kAcceptedForms)));
    }
  }
  if (prefix == kLocalHost) {
    return absl::InvalidArgumentError(
        HostError(host, ".host takes no path; write .host alone"));
  }
  if (prefix.empty() && host.front() == '/') {
    // A bare path: the user most likely meant a UNIX socket.
    std::string message =
        HostError(host, absl::StrCat("missing prefix; ", kAcceptedForms));
    if (CheckPath(host.substr(1)).ok()) {
      absl::StrAppend(&message, " (did you mean unix", EscapeForMessage(host),
                      "?)");
    }
    return absl::InvalidArgumentError(message);
  }
  if (prefix == "machine") {
    return absl::InvalidArgumentError(HostError(
        host, absl::StrCat("machine/ (systemd's machined lookup) is not "
                           "supported; ",
                           kAcceptedForms)));
  }
  return absl::InvalidArgumentError(HostError(
      host, absl::StrCat("unknown prefix \"", EscapeForMessage(prefix), "\"; ",
                         kAcceptedForms)));
}

}  // namespace

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

absl::StatusOr<uint32_t> ParseU32(absl::string_view text) {
  if (text.empty()) {
    return absl::InvalidArgumentError("is empty");
  }
  for (size_t i = 0; i < text.size(); ++i) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(text[i]))) {
      return absl::InvalidArgumentError(absl::StrCat(
          "has \"", EscapeForMessage(text.substr(i, 1)), "\" at offset ", i,
          ": only decimal digits are allowed (no sign, no whitespace)"));
    }
  }
  if (text.size() > 1 && text.front() == '0') {
    // systemd reads "010" as octal 8; a leading zero is refused rather than
    // guessed at.
    return absl::InvalidArgumentError(
        "has a leading zero (only \"0\" itself may start with 0)");
  }
  uint32_t value = 0;
  for (const char c : text) {
    const uint32_t digit = static_cast<uint32_t>(c - '0');
    // Checked before it happens: value * 10 + digit must not exceed UINT32_MAX.
    if (value > (UINT32_MAX - digit) / 10) {
      return absl::InvalidArgumentError(kTooLarge);
    }
    value = value * 10 + digit;
  }
  return value;
}

absl::StatusOr<uint32_t> ParsePort(absl::string_view port) {
  absl::StatusOr<uint32_t> value = ParseU32(port);
  // Only the error paths build the message.
  auto error = [port](absl::string_view what) {
    return absl::InvalidArgumentError(
        absl::StrCat("PORT \"", EscapeForMessage(port), "\" ", what));
  };
  if (!value.ok()) {
    return error(absl::StrCat(value.status().message(),
                              value.status().message() == kTooLarge
                                  ? ": ports are 1..4294967294"
                                  : ""));
  }
  if (*value == 0) {
    return error("is out of range: ports are 1..4294967294");
  }
  if (*value == kVsockPortAny) {
    return error(
        "is VMADDR_PORT_ANY, which cannot be connected to: ports are "
        "1..4294967294");
  }
  return *value;
}

absl::StatusOr<Target> ParseTarget(absl::string_view host,
                                   absl::string_view port) {
  absl::StatusOr<Target> target = ParseHost(host);
  if (!target.ok()) return target.status();
  absl::StatusOr<uint32_t> port_value = ParsePort(port);
  if (!port_value.ok()) return port_value.status();
  target->port = *port_value;
  return target;
}

std::string FormatHost(const Target& target) {
  switch (target.kind) {
    case TargetKind::kUnix:
      return absl::StrCat(kUnixPrefix, target.path);
    case TargetKind::kVsock:
      return absl::StrCat(kVsockPrefix, "/", target.cid);
    case TargetKind::kVsockMux:
      break;
  }
  return absl::StrCat(kVsockMuxPrefix, target.path);
}

std::string DescribeTarget(const Target& target) {
  switch (target.kind) {
    case TargetKind::kUnix:
      return absl::StrCat("unix path=", target.path);
    case TargetKind::kVsock:
      return absl::StrCat("vsock cid=", target.cid, " port=", target.port);
    case TargetKind::kVsockMux:
      break;
  }
  return absl::StrCat("vsock-mux path=", target.path, " port=", target.port);
}

}  // namespace ssh_proxy
