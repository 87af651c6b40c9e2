// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// address_fuzzer: HOST and PORT (the two arguments ssh passes, %n and %p) from
// the input, through ParseTarget.
//
// Input: HOST, then a NUL byte, then PORT. argv strings cannot contain NUL, so
// NUL is the one byte that can separate them without hiding a HOST or PORT
// byte. Without a NUL the whole input is HOST and PORT is "22"; bytes after a
// second NUL stay in PORT (ParsePort must refuse them).
//
// Properties, checked on every input:
//  1. Round trip (Chromium url/, BoringSSL der_roundtrip): every accepted
//     input formats (FormatHost) to a canonical HOST that re-parses to the same
//     Target, and formatting that again gives the same string (idempotent).
//  2. Differential: an independent reference implementation of the grammar in
//     address.h, written from the grammar comment alone (ReferenceParse
//     below), accepts exactly what ParseTarget accepts, with the same Target.
//  3. Errors: InvalidArgument, one printable ASCII line, starting with
//     `HOST "<HOST escaped>": ` when HOST is bad (HOST is checked first) and
//     `PORT "<PORT escaped>" ` otherwise. Every "did you mean X?" parses.
//  One spelling per target: an accepted HOST with "/" after the prefix is
//  its own canonical form (except .host and the CID names).
//  4. Bounds: HOST and PORT are copied into their own heap buffers of exactly
//     their size, so ASan reports any read past either (the fuzzer's own
//     buffer would hide an over-read of HOST into the NUL and PORT).

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "fuzz/fuzz_check.h"
#include "src/address.h"

namespace ssh_proxy {
namespace {

using fuzz::IsPrintableLine;
using fuzz::Shown;

// The input cap. PATH is at most 4095 bytes, so 4096 bytes of HOST reach the
// length limit from both sides ("unix/" + 4094 bytes is the longest accepted
// path, one more byte the shortest refused); 8 more cover PORT. Anything
// longer only exercises the same length check more slowly.
constexpr size_t kMaxInput = 4096 + 1 + 16;

// ---- The reference grammar: independent of src/address.cc on purpose. ----

// RefU32 reads U32: digits only, no leading zero except "0", at most
// 4294967295 (checked on the full value in 64 bits, at most 10 digits).
bool RefU32(const std::string& s, uint64_t* value) {
  if (s.empty() || s.size() > 10) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  if (s[0] == '0' && s.size() != 1) return false;
  uint64_t v = 0;
  for (char c : s) v = v * 10 + static_cast<uint64_t>(c - '0');
  if (v > 0xFFFFFFFFull) return false;
  *value = v;
  return true;
}

bool RefPath(const std::string& r, std::string* path) {
  if (r.empty() || r[0] == '/') return false;
  for (unsigned char c : r) {
    if (c < 0x21 || c == 0x7f) return false;
  }
  std::string component;
  for (size_t i = 0; i <= r.size(); ++i) {
    if (i == r.size() || r[i] == '/') {
      if (component.empty() || component == "." || component == "..") {
        return false;
      }
      component.clear();
    } else {
      component += r[i];
    }
  }
  *path = "/" + r;
  return path->size() <= 4095;
}

// RefName is systemd's hostname_is_valid(name, VALID_HOSTNAME_DOT_HOST) for
// names other than ".host", restated: split on ".", every label is non-empty,
// made of [A-Za-z0-9-], and neither starts nor ends with "-"; the whole name
// is at most 64 bytes.
bool RefName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  std::vector<std::string> labels(1);
  for (char c : name) {
    if (c == '.') {
      labels.emplace_back();
    } else {
      labels.back() += c;
    }
  }
  for (const std::string& label : labels) {
    if (label.empty() || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      (c >= '0' && c <= '9') || c == '-';
      if (!ok) return false;
    }
  }
  return true;
}

bool RefHost(const std::string& host, Target* t) {
  if (host == ".host" || host == "machine/.host" || host == "machine%.host") {
    t->kind = TargetKind::kUnix;
    t->path = "/run/ssh-unix-local/socket";
    return true;
  }
  struct Prefix {
    const char* name;
    TargetKind kind;
  };
  static const Prefix kPrefixes[] = {{"unix", TargetKind::kUnix},
                                     {"vsock", TargetKind::kVsock},
                                     {"vsock-mux", TargetKind::kVsockMux},
                                     {"machine", TargetKind::kMachine}};
  for (const Prefix& p : kPrefixes) {
    const size_t n = std::strlen(p.name);
    if (host.size() <= n || host.compare(0, n, p.name) != 0 ||
        (host[n] != '/' && host[n] != '%')) {
      continue;
    }
    const std::string rest = host.substr(n + 1);
    t->kind = p.kind;
    if (p.kind == TargetKind::kVsock) {
      if (rest == "hypervisor") return t->cid = 0, true;
      if (rest == "local") return t->cid = 1, true;
      if (rest == "host") return t->cid = 2, true;
      uint64_t cid = 0;
      if (!RefU32(rest, &cid) || cid == 0xFFFFFFFFull) return false;
      t->cid = static_cast<uint32_t>(cid);
      return true;
    }
    if (p.kind == TargetKind::kMachine) {
      if (!RefName(rest)) return false;
      t->name = rest;
      return true;
    }
    return RefPath(rest, &t->path);
  }
  return false;
}

// ReferenceParse returns whether (host, port) is in the grammar, and the
// target if so. *host_ok says whether HOST alone was accepted.
bool ReferenceParse(const std::string& host, const std::string& port, Target* t,
                    bool* host_ok) {
  *host_ok = RefHost(host, t);
  if (!*host_ok) return false;
  uint64_t p = 0;
  if (!RefU32(port, &p) || p == 0 || p == 0xFFFFFFFFull) return false;
  t->port = static_cast<uint32_t>(p);
  return true;
}

// ---- Properties. ----

void CheckTargetInvariants(const Target& t, const std::string& where) {
  FUZZ_CHECK(t.port >= 1 && t.port <= 4294967294u, where);
  if (t.kind == TargetKind::kVsock) {
    FUZZ_CHECK(t.path.empty(), where);
    FUZZ_CHECK(t.cid != kVsockCidAny, where);
  } else if (t.kind == TargetKind::kMachine) {
    FUZZ_CHECK(t.path.empty() && t.cid == 0, where);
    FUZZ_CHECK(!t.name.empty() && t.name.size() <= kMaxMachineNameLength &&
                   t.name != ".host",
               where);
  } else {
    FUZZ_CHECK(t.name.empty(), where);
    FUZZ_CHECK(t.cid == 0, where);
    FUZZ_CHECK(!t.path.empty() && t.path[0] == '/', where);
    FUZZ_CHECK(t.path.size() <= kMaxPathLength, where);
  }
  const std::string described = DescribeTarget(t);
  FUZZ_CHECK(!described.empty() && described.find('\n') == std::string::npos,
             where + " describe=" + Shown(described));
}

// Unquoted returns `text` without its "..." segments (the escaped user input a
// message quotes), so that what remains is the parser's own words.
std::string Unquoted(absl::string_view text) {
  std::string out;
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\\' && i + 1 < text.size()) {
      if (!quoted) {
        out += c;
        out += text[i + 1];
      }
      ++i;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (!quoted) {
      out += c;
    }
  }
  return out;
}

// The text between "(did you mean " and the last "?)" of `words`, or "" (the
// suggestion itself may contain "?)").
std::string Suggestion(const std::string& words) {
  static constexpr absl::string_view kOpen = "(did you mean ";
  const size_t at = words.find(std::string(kOpen));
  if (at == std::string::npos) return "";
  const size_t from = at + kOpen.size();
  const size_t to = words.rfind("?)");
  if (to == std::string::npos || to < from) return "";
  return words.substr(from, to - from);
}

void CheckOne(const std::string& host, const std::string& port) {
  // Exactly-sized heap copies: an over-read of either is an ASan report.
  std::unique_ptr<char[]> host_buf(new char[host.size()]);
  std::unique_ptr<char[]> port_buf(new char[port.size()]);
  std::memcpy(host_buf.get(), host.data(), host.size());
  std::memcpy(port_buf.get(), port.data(), port.size());
  const absl::string_view host_view(host_buf.get(), host.size());
  const absl::string_view port_view(port_buf.get(), port.size());

  const std::string where = "HOST=" + Shown(host) + " PORT=" + Shown(port);
  absl::StatusOr<Target> parsed = ParseTarget(host_view, port_view);

  Target ref;
  bool ref_host_ok = false;
  const bool ref_ok = ReferenceParse(host, port, &ref, &ref_host_ok);
  FUZZ_CHECK(parsed.ok() == ref_ok,
             where + " parser=" + parsed.status().ToString() +
                 " reference=" + (ref_ok ? "accepts" : "refuses"));

  if (!parsed.ok()) {
    const absl::Status& s = parsed.status();
    const std::string message(s.message());
    FUZZ_CHECK(s.code() == absl::StatusCode::kInvalidArgument,
               where + " " + s.ToString());
    FUZZ_CHECK(IsPrintableLine(message),
               where + " message not one printable line: " + Shown(message));
    // HOST is checked first; the message quotes the offending argument whole.
    const std::string expected_start =
        ref_host_ok ? "PORT \"" + EscapeForMessage(port) + "\" "
                    : "HOST \"" + EscapeForMessage(host) + "\": ";
    FUZZ_CHECK(message.rfind(expected_start, 0) == 0,
               where + " message=" + Shown(message) + " should start with " +
                   Shown(expected_start));
    const std::string suggestion =
        Suggestion(Unquoted(message.substr(expected_start.size())));
    // (A suggestion with a backslash may be escaped text; it is only shown.)
    if (!suggestion.empty() && message.rfind("HOST \"", 0) == 0 &&
        suggestion.find('\\') == std::string::npos) {
      absl::StatusOr<Target> again = ParseTarget(suggestion, "22");
      // A suggestion fixes HOST: it must parse.
      FUZZ_CHECK(again.ok(),
                 where + " suggestion " + Shown(suggestion) +
                     " does not parse: " + again.status().ToString());
    }
    return;
  }

  const Target& t = *parsed;
  CheckTargetInvariants(t, where);
  FUZZ_CHECK(t == ref, where + " reference target differs: " +
                           DescribeTarget(t) + " vs " + DescribeTarget(ref));

  // Round trip: canonical HOST re-parses to the same target, idempotently.
  const std::string canonical = FormatHost(t);
  absl::StatusOr<Target> reparsed = ParseTarget(canonical, port_view);
  FUZZ_CHECK(reparsed.ok(), where + " canonical " + Shown(canonical) +
                                " refused: " + reparsed.status().ToString());
  FUZZ_CHECK(*reparsed == t, where + " canonical " + Shown(canonical) +
                                 " parses to " + DescribeTarget(*reparsed));
  FUZZ_CHECK(FormatHost(*reparsed) == canonical,
             where + " FormatHost not idempotent: " + Shown(canonical));
  // One spelling per target: an accepted HOST with "/" as SEP is already
  // canonical, except ".host" and the named CIDs, whose canonical forms are
  // unix/run/ssh-unix-local/socket and vsock/0, vsock/1, vsock/2 (and
  // machine/.host, which is .host).
  const bool named = host == ".host" || host == "machine/.host" ||
                     host == "vsock/hypervisor" || host == "vsock/local" ||
                     host == "vsock/host";
  const size_t sep = host.find_first_of("/%");
  if (sep != std::string::npos && host[sep] == '/' && !named) {
    FUZZ_CHECK(canonical == host,
               where + " accepted non-canonical " + Shown(canonical));
  }

  // ParsePort agrees with the port of the target.
  absl::StatusOr<uint32_t> p = ParsePort(port_view);
  FUZZ_CHECK(p.ok() && *p == t.port, where);
}

}  // namespace
}  // namespace ssh_proxy

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > ssh_proxy::kMaxInput) return -1;  // -1: not added to the corpus.
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t nul = input.find('\0');
  std::string host, port;
  if (nul == absl::string_view::npos) {
    host = std::string(input);
    port = "22";
  } else {
    host = std::string(input.substr(0, nul));
    port = std::string(input.substr(nul + 1));
  }
  ssh_proxy::CheckOne(host, port);
  return 0;
}
