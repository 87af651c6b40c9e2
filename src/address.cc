// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors

#include "src/address.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "src/text.h"

namespace ssh_proxy {
namespace {

// One row per TargetKind: the prefix HOST starts with, what follows SEP, and
// the --help line. Parsing, FormatHost, DescribeTarget, the suggestions and
// the help text all read this table; a new kind is a row here and the switch
// cases the compiler then asks for.
struct KindSpelling {
  TargetKind kind;
  absl::string_view prefix;
  absl::string_view operand;  // What follows SEP: "PATH" or "CID".
  absl::string_view help;     // The rest of its --help line.
};
constexpr KindSpelling kKinds[] = {
    {TargetKind::kUnix, "unix", "PATH", "AF_UNIX stream socket at /PATH"},
    {TargetKind::kVsock, "vsock", "CID",
     "AF_VSOCK CID (a number, or hypervisor, local, host)"},
    {TargetKind::kVsockMux, "vsock-mux", "PATH",
     "Firecracker/cloud-hypervisor vsock multiplexer at /PATH"},
    {TargetKind::kMachine, "machine", "NAME",
     "a VM or container registered with systemd-machined"},
};

constexpr absl::string_view kLocalHost = kLocalHostName;

// Prefix returns the prefix of `kind`, or "" for a value outside TargetKind.
absl::string_view Prefix(TargetKind kind) {
  for (const KindSpelling& row : kKinds) {
    if (row.kind == kind) return row.prefix;
  }
  return "";
}

// AcceptedForms is the tail of every "what is this HOST" message: "expected
// unix/PATH, vsock/CID, vsock-mux/PATH, machine/NAME (or % instead of /) or
// .host".
const std::string& AcceptedForms() {
  static const std::string* const forms = [] {
    std::string text = "expected ";
    for (const KindSpelling& row : kKinds) {
      absl::StrAppend(&text, row.prefix, "/", row.operand, ", ");
    }
    text.resize(text.size() - 2);
    absl::StrAppend(&text, " (or % instead of /) or ", kLocalHost);
    return new std::string(std::move(text));
  }();
  return *forms;
}

struct CidName {
  absl::string_view name;
  uint32_t cid;
};
constexpr CidName kCidNames[] = {{"hypervisor", 0}, {"local", 1}, {"host", 2}};

// Bytes refused anywhere in PATH: control characters, space and DEL. They are
// never part of a real socket path, and ssh's %n would carry them into log
// lines and error messages.
bool IsRefusedPathByte(unsigned char c) { return c < 0x21 || c == 0x7f; }

// FindSlashOrRefusedByte returns the offset of the first "/" or refused byte
// of `text` at or after `from`, or text.size() if there is none. It reads eight
// bytes at a time: for each byte b of a word, (b - n) & ~b has its top bit set
// when b < n (for n <= 0x80), so with x = b ^ c, (x - 1) & ~x flags b == c, and
// (b - 0x21) & ~b flags b < 0x21. A flag can be false only in a byte above a
// true one, so the lowest flag is exact.
size_t FindSlashOrRefusedByte(absl::string_view text, size_t from) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHighs = 0x8080808080808080ULL;
  size_t i = from;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  for (; i + 8 <= text.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, text.data() + i, sizeof(w));
    const uint64_t del = w ^ (kOnes * 0x7f);
    const uint64_t slash = w ^ (kOnes * '/');
    const uint64_t flags = ((w - kOnes * 0x21) & ~w) | ((del - kOnes) & ~del) |
                           ((slash - kOnes) & ~slash);
    if ((flags & kHighs) != 0) {
      return i + static_cast<size_t>(__builtin_ctzll(flags & kHighs)) / 8;
    }
  }
#endif
  for (; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '/' || IsRefusedPathByte(c)) return i;
  }
  return text.size();
}

// PathCursor is PATH being read from front to back, in the style of
// BoringSSL's CBS.
struct PathCursor {
  absl::string_view path;
  size_t offset = 0;  // Where the unread rest starts; path.size() + 1 at the
                      // end (past the "/" the last component does not have).
  bool empty() const { return offset > path.size(); }
};

// GetComponent reads the next component of `*cursor`. On success it sets
// `*component`, consumes it and the "/" after it (if any), and returns true.
// If the component has a refused byte, it sets `*bad_byte` to that byte's
// offset in PATH, consumes nothing and returns false.
bool GetComponent(PathCursor* cursor, absl::string_view* component,
                  size_t* bad_byte) {
  const size_t end = FindSlashOrRefusedByte(cursor->path, cursor->offset);
  if (end < cursor->path.size() && cursor->path[end] != '/') {
    *bad_byte = end;
    return false;
  }
  *component = cursor->path.substr(cursor->offset, end - cursor->offset);
  cursor->offset = end + 1;
  return true;
}

// CheckPath checks R, the text after SEP, against the PATH rules, in one pass.
// Returns OK or InvalidArgument whose message names the broken rule (without
// the HOST prefix). A refused byte anywhere is reported before a leading or
// trailing "/", which is reported before a bad component.
absl::Status CheckPath(absl::string_view rest) {
  if (rest.empty()) {
    return absl::InvalidArgumentError("PATH is empty");
  }
  absl::string_view bad_component;
  bool has_bad_component = false;
  PathCursor cursor{rest};
  while (!cursor.empty()) {
    absl::string_view component;
    size_t bad_byte = 0;
    if (!GetComponent(&cursor, &component, &bad_byte)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "PATH has byte ", Quoted(rest.substr(bad_byte, 1)), " at offset ",
          bad_byte, ": control characters, space and DEL are not allowed"));
    }
    if (!has_bad_component &&
        (component.empty() || component == "." || component == "..")) {
      has_bad_component = true;
      bad_component = component;
    }
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

// HostError returns the message for a bad HOST: `HOST "<escaped host>": what`.
std::string HostError(absl::string_view host, absl::string_view what) {
  return absl::StrCat("HOST ", Quoted(host), ": ", what);
}

// ParsePath checks `rest`, the text after SEP, as PATH. On success returns the
// target path "/" + rest; on failure InvalidArgument naming the broken rule and,
// where it is unambiguous, the canonical spelling.
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

// IsAllDigits says whether `text` is non-empty and only ASCII digits.
bool IsAllDigits(absl::string_view text) {
  if (text.empty()) return false;
  for (const char c : text) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// LeadingZeroHint returns the hint for a CID `digits` with a leading zero: the
// number without its zeros when decimal and octal agree on it ("03", "09"),
// else both readings, since systemd takes "010" for octal 8 and a guess could
// reach the wrong VM.
std::string LeadingZeroHint(absl::string_view prefix_and_sep,
                            absl::string_view digits) {
  absl::string_view stripped = digits;
  while (stripped.size() > 1 && stripped.front() == '0') {
    stripped.remove_prefix(1);
  }
  absl::StatusOr<uint32_t> decimal = ParseU32(stripped);
  if (!decimal.ok() || *decimal == kVsockCidAny) {
    // Too large either way: no CID to suggest.
    return " (write the CID in decimal, without leading zeros)";
  }
  const bool octal = stripped.find_first_of("89") == absl::string_view::npos;
  if (stripped.size() == 1 || !octal) {
    return absl::StrCat(" (did you mean ", prefix_and_sep, stripped, "?)");
  }
  uint64_t octal_value = 0;
  for (const char c : stripped) {
    octal_value = octal_value * 8 + static_cast<uint64_t>(c - '0');
  }
  return absl::StrCat(" (decimal ", stripped, ", or octal ", octal_value,
                      " as systemd reads it? write the CID in decimal)");
}

// EditDistance is the optimal string alignment distance of `a` and `b`
// (insertions, deletions, substitutions and swaps of two neighbours each cost
// 1), ASCII case ignored. Only called on short words.
size_t EditDistance(absl::string_view a, absl::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1,
                                     std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      const bool same =
          absl::ascii_tolower(static_cast<unsigned char>(a[i - 1])) ==
          absl::ascii_tolower(static_cast<unsigned char>(b[j - 1]));
      d[i][j] = std::min(
          {d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (same ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

// NearestCidName returns the CID name `text` is a near miss of ("hots",
// "locl", "hypervsior"), or "" when there is none: one edit from "host" or
// "local", two from "hypervisor". The names are at least four edits apart, so
// no text is a near miss of two of them: the suggestion is the one plausible
// fix.
absl::string_view NearestCidName(absl::string_view text) {
  // Longer text is no typo of a name of at most 10 bytes.
  if (text.empty() || text.size() > 12) return "";
  for (const CidName& name : kCidNames) {
    const size_t distance = EditDistance(text, name.name);
    const size_t allowed = name.name.size() < 6 ? 1 : 2;
    if (distance > 0 && distance <= allowed) return name.name;
  }
  return "";
}

// PortInHostError returns InvalidArgument for a CID operand that carries a
// port ("vsock/3:22", QEMU's and socat's habit), with the fix: the port is
// ssh's -p, or the ProxyCommand's second argument. Returns OK when `text` is
// not CID:PORT.
absl::Status PortInHostError(absl::string_view host,
                             absl::string_view prefix_and_sep,
                             absl::string_view text) {
  const size_t colon = text.find(':');
  if (colon == absl::string_view::npos) return absl::OkStatus();
  const absl::string_view cid = text.substr(0, colon);
  const absl::string_view port = text.substr(colon + 1);
  bool cid_ok = false;
  for (const CidName& name : kCidNames) cid_ok = cid_ok || cid == name.name;
  absl::StatusOr<uint32_t> number = ParseU32(cid);
  cid_ok = cid_ok || (number.ok() && *number != kVsockCidAny);
  if (!cid_ok || !ParsePort(port).ok()) return absl::OkStatus();
  return absl::InvalidArgumentError(HostError(
      host, absl::StrCat("the port does not belong in HOST: give it to ssh "
                         "(ssh -p ",
                         port, " ", prefix_and_sep, cid,
                         ") or as the ProxyCommand's second argument (did you "
                         "mean ",
                         prefix_and_sep, cid, "?)")));
}

// ParseCid parses `text`, the text after SEP, as CID: a name of kCidNames or a
// U32 other than VMADDR_CID_ANY. On success returns the CID; on failure
// InvalidArgument naming the broken rule, with a hint where one helps.
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
    absl::Status port_in_host = PortInHostError(host, prefix_and_sep, text);
    if (!port_in_host.ok()) return port_in_host;
    std::string message = HostError(
        host, absl::StrCat("CID ", Quoted(text), " ", cid.status().message()));
    if (cid.status().message() == kU32TooLarge) {
      absl::StrAppend(&message, " (the highest CID is 4294967294)");
    } else if (absl::StartsWith(text, "0x") || absl::StartsWith(text, "0X")) {
      absl::StrAppend(&message, " (write the CID in decimal)");
    } else if (IsAllDigits(text)) {
      absl::StrAppend(&message, LeadingZeroHint(prefix_and_sep, text));
    } else if (text.empty() || !absl::ascii_isdigit(text.front())) {
      const absl::string_view near = NearestCidName(text);
      if (!near.empty()) {
        absl::StrAppend(&message, " (did you mean ", prefix_and_sep, near,
                        "?)");
      } else {
        absl::StrAppend(&message,
                        " (a CID is a decimal number or one of hypervisor, "
                        "local, host)");
      }
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

// ParseOperand parses `rest`, the text after SEP, as the operand of `kind`.
absl::StatusOr<Target> ParseOperand(absl::string_view host, TargetKind kind,
                                    absl::string_view prefix_and_sep,
                                    absl::string_view rest) {
  Target target;
  target.kind = kind;
  switch (kind) {
    case TargetKind::kUnix:
    case TargetKind::kVsockMux: {
      absl::StatusOr<std::string> path = ParsePath(host, prefix_and_sep, rest);
      if (!path.ok()) return path.status();
      target.path = *std::move(path);
      break;
    }
    case TargetKind::kVsock: {
      absl::StatusOr<uint32_t> cid = ParseCid(host, prefix_and_sep, rest);
      if (!cid.ok()) return cid.status();
      target.cid = *cid;
      break;
    }
    case TargetKind::kMachine: {
      if (rest == kLocalHost) {
        // machined's own name for the host (VALID_HOSTNAME_DOT_HOST): the
        // same target as ".host", with no lookup.
        target.kind = TargetKind::kUnix;
        target.path = kLocalHostSocketPath;
        break;
      }
      absl::Status name = CheckMachineName(rest);
      if (!name.ok())
        return absl::InvalidArgumentError(HostError(host, name.message()));
      target.name = std::string(rest);
      break;
    }
  }
  return target;
}

// Other tools' spellings of our prefixes: socat's and QEMU's "unix:/run/x" and
// "vsock:3", socat's UNIX-CONNECT: and VSOCK-CONNECT:.
struct ForeignPrefix {
  absl::string_view spelling;  // Compared ignoring ASCII case.
  TargetKind kind;
};
constexpr ForeignPrefix kForeignPrefixes[] = {
    {"unix", TargetKind::kUnix},           {"unix-connect", TargetKind::kUnix},
    {"unix-client", TargetKind::kUnix},    {"vsock", TargetKind::kVsock},
    {"vsock-connect", TargetKind::kVsock}, {"vsock-mux", TargetKind::kVsockMux},
    {"machine", TargetKind::kMachine},
};

// ForeignSpellingOf explains `host`, whose text before `colon` is another
// tool's spelling of the prefix of `spelling` (see ForeignSpellingError).
absl::Status ForeignSpellingOf(absl::string_view host, size_t colon,
                               const KindSpelling& spelling) {
  const TargetKind kind = spelling.kind;
  absl::string_view rest = host.substr(colon + 1);
  if (kind == TargetKind::kUnix || kind == TargetKind::kVsockMux) {
    while (absl::ConsumePrefix(&rest, "/")) {
    }
  }
  const std::string what = absl::StrCat(
      "a \":\" after the prefix is socat's and QEMU's spelling; "
      "ssh-proxy writes ",
      spelling.prefix, "/", spelling.operand);
  const std::string slash = absl::StrCat(spelling.prefix, "/");
  const std::string candidate = absl::StrCat(slash, rest);
  if (ParseHost(candidate).ok()) {
    return absl::InvalidArgumentError(
        HostError(host, absl::StrCat(what, " (did you mean ",
                                     EscapeForMessage(candidate), "?)")));
  }
  if (kind == TargetKind::kVsock) {
    absl::Status port = PortInHostError(host, slash, rest);
    if (!port.ok()) return port;
  }
  return absl::InvalidArgumentError(HostError(host, what));
}

// ForeignSpellingError returns InvalidArgument for a HOST written the way
// socat, QEMU or libvirt write addresses ("vsock:3", "unix:/tmp/x"): a
// known prefix, then ":" before any "/" or "%". It suggests our spelling when
// that parses, and points a "CID:PORT" operand at ssh's -p. Returns OK for any
// other HOST.
absl::Status ForeignSpellingError(absl::string_view host) {
  const size_t colon = host.find(':');
  if (colon == absl::string_view::npos ||
      host.substr(0, colon).find_first_of("/%") != absl::string_view::npos) {
    return absl::OkStatus();
  }
  const absl::string_view foreign = host.substr(0, colon);
  for (const ForeignPrefix& row : kForeignPrefixes) {
    for (const KindSpelling& spelling : kKinds) {
      if (spelling.kind == row.kind &&
          absl::EqualsIgnoreCase(foreign, row.spelling)) {
        return ForeignSpellingOf(host, colon, spelling);
      }
    }
  }
  return absl::OkStatus();
}

// NoSeparatorError explains a HOST that has neither "/" nor "%" and is not
// ".host".
absl::Status NoSeparatorError(absl::string_view host) {
  absl::Status foreign = ForeignSpellingError(host);
  if (!foreign.ok()) return foreign;
  if (absl::EqualsIgnoreCase(host, kLocalHost)) {
    return absl::InvalidArgumentError(HostError(
        host, absl::StrCat("prefixes are lowercase (did you mean .host?); ",
                           AcceptedForms())));
  }
  for (const KindSpelling& row : kKinds) {
    if (absl::EqualsIgnoreCase(host, row.prefix)) {
      return absl::InvalidArgumentError(HostError(
          host, absl::StrCat("missing \"/\" or \"%\" and the address after the "
                             "prefix; ",
                             AcceptedForms())));
    }
  }
  return absl::InvalidArgumentError(HostError(
      host,
      absl::StrCat("not an address ssh-proxy understands; ", AcceptedForms())));
}

// UnknownPrefixError explains a HOST whose text before SEP (at `sep`) is no
// prefix of kKinds, with a suggestion where the fix is unambiguous.
absl::Status UnknownPrefixError(absl::string_view host, size_t sep) {
  absl::Status foreign = ForeignSpellingError(host);
  if (!foreign.ok()) return foreign;
  const absl::string_view prefix = host.substr(0, sep);
  for (const KindSpelling& row : kKinds) {
    if (absl::EqualsIgnoreCase(prefix, row.prefix)) {
      // Suggest the lowercase spelling only if it is then a valid address.
      const std::string candidate = absl::StrCat(row.prefix, host.substr(sep));
      const std::string suggestion =
          ParseHost(candidate).ok()
              ? absl::StrCat(" (did you mean ", EscapeForMessage(candidate),
                             "?)")
              : "";
      return absl::InvalidArgumentError(
          HostError(host, absl::StrCat("prefixes are lowercase", suggestion,
                                       "; ", AcceptedForms())));
    }
  }
  if (prefix == kLocalHost) {
    return absl::InvalidArgumentError(
        HostError(host, ".host takes no path; write .host alone"));
  }
  if (prefix.empty() && host.front() == '/') {
    // A bare path: the user most likely meant a UNIX socket.
    std::string message =
        HostError(host, absl::StrCat("missing prefix; ", AcceptedForms()));
    if (CheckPath(host.substr(1)).ok()) {
      absl::StrAppend(&message, " (did you mean ", Prefix(TargetKind::kUnix),
                      EscapeForMessage(host), "?)");
    }
    return absl::InvalidArgumentError(message);
  }
  return absl::InvalidArgumentError(HostError(
      host,
      absl::StrCat("unknown prefix ", Quoted(prefix), "; ", AcceptedForms())));
}

// ParseHost parses HOST alone. On success returns the target (port not set); on
// failure InvalidArgument whose message starts with `HOST "<escaped host>"`,
// names what is wrong and suggests the canonical spelling where it is
// unambiguous.
absl::StatusOr<Target> ParseHost(absl::string_view host) {
  if (host == kLocalHost) {
    Target target;
    target.kind = TargetKind::kUnix;
    target.path = kLocalHostSocketPath;
    return target;
  }
  const size_t sep = host.find_first_of("/%");
  if (sep == absl::string_view::npos) return NoSeparatorError(host);
  const absl::string_view prefix = host.substr(0, sep);
  for (const KindSpelling& row : kKinds) {
    if (prefix == row.prefix) {
      return ParseOperand(host, row.kind, host.substr(0, sep + 1),
                          host.substr(sep + 1));
    }
  }
  return UnknownPrefixError(host, sep);
}

}  // namespace

absl::Status CheckMachineName(absl::string_view name) {
  // systemd's hostname_is_valid(name, VALID_HOSTNAME_DOT_HOST)
  // (src/basic/hostname-util.c), which machined applies to every name it is
  // asked about (machine-varlink.c, lookup_machine_by_name), ".host" aside:
  // valid_ldh_char() bytes, "." and "-"; a "." neither first nor after "."
  // or "-"; a "-" neither first nor after "."; not ending in "." (no
  // VALID_HOSTNAME_TRAILING_DOT) or "-"; then at most HOST_NAME_MAX (64)
  // bytes.
  if (name.empty()) return absl::InvalidArgumentError("NAME is empty");
  char previous = '.';  // The start counts as after a ".".
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool ldh = absl::ascii_isalnum(static_cast<unsigned char>(c));
    if (c == '.' && (previous == '.' || previous == '-')) {
      return absl::InvalidArgumentError(
          absl::StrCat("NAME has \".\" at offset ", i,
                       i == 0 ? ": a machine name does not start with \".\""
                              : absl::StrCat(": a machine name has no \"",
                                             name.substr(i - 1, 1), ".\"")));
    }
    if (c == '-' && previous == '.') {
      return absl::InvalidArgumentError(absl::StrCat(
          "NAME has \"-\" at offset ", i,
          ": a label of a machine name does not start with \"-\""));
    }
    if (c != '.' && c != '-' && !ldh) {
      return absl::InvalidArgumentError(absl::StrCat(
          "NAME has byte ", Quoted(name.substr(i, 1)), " at offset ", i,
          ": machine names are letters, digits, \"-\" and \".\" (systemd's "
          "host name rules)"));
    }
    previous = c;
  }
  if (previous == '.') {
    return absl::InvalidArgumentError(
        "NAME ends with \".\": a machine name does not");
  }
  if (previous == '-') {
    return absl::InvalidArgumentError(
        "NAME ends with \"-\": a label of a machine name does not");
  }
  if (name.size() > kMaxMachineNameLength) {
    return absl::InvalidArgumentError(absl::StrCat(
        "NAME is ", name.size(), " bytes long; machine names are at most ",
        kMaxMachineNameLength));
  }
  return absl::OkStatus();
}

absl::StatusOr<uint32_t> ParsePort(absl::string_view port) {
  absl::StatusOr<uint32_t> value = ParseU32(port);
  // Only the error paths build the message.
  auto error = [port](absl::string_view what) {
    return absl::InvalidArgumentError(
        absl::StrCat("PORT ", Quoted(port), " ", what));
  };
  if (!value.ok()) {
    return error(absl::StrCat(value.status().message(),
                              value.status().message() == kU32TooLarge
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

absl::StatusOr<Target> ParseHostOfKinds(absl::string_view host, uint32_t port,
                                        absl::Span<const TargetKind> allowed) {
  // The kind the HOST spells, by its prefix; ".host" is machine/.host.
  const size_t sep = host.find_first_of("/%");
  bool known = host == kLocalHost;
  TargetKind spelled = TargetKind::kMachine;
  for (const KindSpelling& row : kKinds) {
    if (!known && sep != absl::string_view::npos &&
        host.substr(0, sep) == row.prefix) {
      known = true;
      spelled = row.kind;
    }
  }
  if (known &&
      std::find(allowed.begin(), allowed.end(), spelled) == allowed.end()) {
    std::vector<std::string> forms;
    for (const TargetKind kind : allowed) {
      forms.push_back(absl::StrCat(Prefix(kind), "/"));
    }
    std::string list = absl::StrJoin(forms, ", ");
    const size_t last = list.rfind(", ");
    if (last != std::string::npos) list.replace(last, 2, " or ");
    return absl::InvalidArgumentError(
        absl::StrCat("is not allowed there: it must be a ", list, " address"));
  }
  absl::StatusOr<Target> target = ParseHost(host);
  if (!target.ok()) {
    // ParseHost's messages all start with HostError's prefix.
    absl::string_view rule = target.status().message();
    absl::ConsumePrefix(&rule, HostError(host, ""));
    return absl::InvalidArgumentError(
        absl::StrCat("is not an address ssh-proxy accepts: ", rule));
  }
  target->port = port;
  return target;
}

std::string FormatHost(const Target& target) {
  const absl::string_view prefix = Prefix(target.kind);
  switch (target.kind) {
    case TargetKind::kUnix:
    case TargetKind::kVsockMux:
      return absl::StrCat(prefix, target.path);
    case TargetKind::kVsock:
      return absl::StrCat(prefix, "/", target.cid);
    case TargetKind::kMachine:
      return absl::StrCat(prefix, "/", target.name);
  }
  return "";  // Not a TargetKind.
}

std::string DescribeTarget(const Target& target) {
  const absl::string_view prefix = Prefix(target.kind);
  switch (target.kind) {
    case TargetKind::kUnix:
      return absl::StrCat(prefix, " path=", target.path);
    case TargetKind::kVsock:
      return absl::StrCat(prefix, " cid=", target.cid, " port=", target.port);
    case TargetKind::kVsockMux:
      return absl::StrCat(prefix, " path=", target.path, " port=", target.port);
    case TargetKind::kMachine:
      return absl::StrCat(prefix, " name=", target.name, " port=", target.port);
  }
  return "";  // Not a TargetKind.
}

std::string HostHelp() {
  std::string text;
  auto line = [&text](absl::string_view form, absl::string_view help) {
    constexpr size_t kColumn = 18;
    const size_t pad = form.size() < kColumn ? kColumn - form.size() : 1;
    absl::StrAppend(&text, "  ", form, std::string(pad, ' '), help, "\n");
  };
  for (const KindSpelling& row : kKinds) {
    line(absl::StrCat(row.prefix, "/", row.operand), row.help);
  }
  line(kLocalHost,
       absl::StrCat("the local host's sshd (", Prefix(TargetKind::kUnix),
                    kLocalHostSocketPath, ")"));
  absl::StrAppend(&text,
                  "  \"%\" may replace the \"/\" after the prefix (for scp and "
                  "rsync).\n");
  return text;
}

std::string SshConfigHostPatterns() {
  std::string text;
  for (const KindSpelling& row : kKinds) {
    absl::StrAppend(&text, row.prefix, "/* ", row.prefix, "%* ");
  }
  absl::StrAppend(&text, kLocalHost);
  return text;
}

}  // namespace ssh_proxy
