// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// Table-driven tests of the address grammar (src/address.h), written from the
// specification and not from the implementation: every rule has an entry that
// fails if the rule is removed.

#include "src/address.h"

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "tests/testing/printing.h"
#include "tests/testing/targets.h"

namespace ssh_proxy {
namespace {

// Show renders a Target for failure messages (PrintTo, tests/testing).
std::string Show(const Target& t) { return ::testing::PrintToString(t); }

// Machine names systemd's hostname_is_valid(name, VALID_HOSTNAME_DOT_HOST)
// accepts (src/basic/hostname-util.c), written from its rules.
std::vector<std::string> AcceptedNames() {
  return {"web1",
          "a",
          "A",
          "0",
          "9x",
          "vm-1",
          "a--b",
          "a-b-c",
          "a.b",
          "a.b.c",
          "Web1.Example",
          "1.2.3.4",
          "x-1.y-2",
          std::string(64, 'a'),  // HOST_NAME_MAX bytes,
          std::string(31, 'a') + "." + std::string(32, 'b'),  // with a dot.
          "host",
          "local",
          "machine",
          "unix",
          "vsock-mux"};
}

// PathOfLength returns R such that "/" + R is `total` bytes long, made of
// 99-byte components (no component anywhere near NAME_MAX, so only the
// 4095-byte rule can refuse it).
std::string PathOfLength(size_t total) {
  std::string r(total - 1, 'a');
  for (size_t i = 99; i < r.size(); i += 100) r[i] = '/';
  if (r.back() == '/') r.back() = 'b';
  return r;
}

struct AcceptCase {
  std::string host;
  std::string port;
  Target want;
};

// The two path-taking kinds, under both separators.
struct PathKind {
  const char* prefix;
  TargetKind kind;
};
constexpr PathKind kPathKinds[] = {
    {"unix", TargetKind::kUnix},
    {"vsock-mux", TargetKind::kVsockMux},
};
constexpr char kSeps[] = {'/', '%'};

Target PathTarget(TargetKind kind, absl::string_view path, uint32_t port) {
  return kind == TargetKind::kUnix ? Unix(path, port) : Mux(path, port);
}

// Paths below "/" that every path-taking kind accepts, with nothing else to say
// about them.
std::vector<std::string> AcceptedRs() {
  std::vector<std::string> rs = {
      "run/x.sock", "run/vm.sock", "x", "run/ssh-unix-local/socket",
      ".hidden",  // A component that starts with "." is fine...
      "..x",      // ...and one that only starts with "..",
      "x..",
      "...",  // and "..." is not "..".
      "a/.b/..c/d.",
      "run/a%b",  // "%" inside the path is an ordinary byte.
      "%x",       // So is "%" right after the separator.
      "a:b@c,d=e+f",
      "tmp/tmp.hFeSc",  // Mixed case survives.
      // Bytes >= 0x80 are allowed, whether or not they form valid UTF-8.
      "run/\x80", "run/\xff",
      "run/caf\xc3\xa9.sock",  // "café.sock"
      "\xe2\x98\x83",          // U+2603
      "run/\xc3",              // A truncated UTF-8 sequence.
      PathOfLength(107),       // sun_path holds 107 bytes and a NUL,
      PathOfLength(108),       // longer paths are still accepted:
      PathOfLength(200),
      PathOfLength(4095),     // the longest accepted path,
      std::string(300, 'c'),  // a long single component (no NAME_MAX rule).
  };
  // Every printable ASCII byte other than "/" (0x21..0x7e).
  for (int c = 0x21; c <= 0x7e; ++c) {
    if (c != '/') rs.push_back(absl::StrCat("x", std::string(1, c), "y"));
  }
  for (int c = 0x21; c <= 0x7e; ++c) {
    if (c != '/' && c != '.') rs.push_back(std::string(1, c));
  }
  return rs;
}

std::vector<AcceptCase> AcceptCases() {
  std::vector<AcceptCase> cases;
  for (const PathKind& k : kPathKinds) {
    for (char sep : kSeps) {
      for (const std::string& r : AcceptedRs()) {
        cases.push_back({absl::StrCat(k.prefix, std::string(1, sep), r), "22",
                         PathTarget(k.kind, "/" + r, 22)});
      }
    }
  }
  struct Cid {
    const char* text;
    uint32_t value;
  };
  for (const Cid& c :
       {Cid{"0", 0}, Cid{"1", 1}, Cid{"2", 2}, Cid{"3", 3}, Cid{"10", 10},
        Cid{"4711", 4711}, Cid{"4294967294", 4294967294u}, Cid{"hypervisor", 0},
        Cid{"local", 1}, Cid{"host", 2}}) {
    for (char sep : kSeps) {
      cases.push_back({absl::StrCat("vsock", std::string(1, sep), c.text), "22",
                       Vsock(c.value, 22)});
    }
  }
  // PORT boundaries, for every kind (unix ignores the port but keeps it).
  struct Port {
    const char* text;
    uint32_t value;
  };
  for (const Port& p :
       {Port{"1", 1}, Port{"9", 9}, Port{"10", 10}, Port{"22", 22},
        Port{"65535", 65535}, Port{"65536", 65536},
        Port{"4294967294", 4294967294u}}) {
    cases.push_back({"unix/run/x.sock", p.text, Unix("/run/x.sock", p.value)});
    cases.push_back({"vsock/4711", p.text, Vsock(4711, p.value)});
    cases.push_back(
        {"vsock-mux/run/vm.sock", p.text, Mux("/run/vm.sock", p.value)});
    cases.push_back({".host", p.text, Unix(kLocalHostSocketPath, p.value)});
  }
  cases.push_back({".host", "22", Unix("/run/ssh-unix-local/socket", 22)});
  cases.push_back({"vsock/host", "22", Vsock(2, 22)});
  for (const std::string& name : AcceptedNames()) {
    for (char sep : kSeps) {
      cases.push_back({absl::StrCat("machine", std::string(1, sep), name), "22",
                       Machine(name, 22)});
    }
  }
  // machined's name for the host is ".host" itself.
  cases.push_back({"machine/.host", "22", Unix(kLocalHostSocketPath, 22)});
  cases.push_back({"machine%.host", "2222", Unix(kLocalHostSocketPath, 2222)});
  cases.push_back({"machine/web1", "4294967294", Machine("web1", 4294967294u)});
  return cases;
}

TEST(ParseTargetTest, AcceptedTable) {
  const std::vector<AcceptCase> cases = AcceptCases();
  EXPECT_GT(cases.size(), 500u);
  for (const AcceptCase& c : cases) {
    const absl::StatusOr<Target> got = ParseTarget(c.host, c.port);
    ASSERT_TRUE(got.ok()) << "HOST " << Printable(c.host) << " PORT "
                          << Printable(c.port) << ": " << got.status();
    EXPECT_EQ(*got, c.want)
        << "HOST " << Printable(c.host) << " PORT " << Printable(c.port);
  }
}

TEST(ParseTargetTest, FullPathOf4095BytesIsAcceptedAnd4096Refused) {
  const std::string r4095 = PathOfLength(4095);
  ASSERT_EQ(r4095.size() + 1, 4095u);
  ASSERT_EQ(kMaxPathLength, 4095u);
  for (const PathKind& k : kPathKinds) {
    absl::StatusOr<Target> ok =
        ParseTarget(absl::StrCat(k.prefix, "/", r4095), "22");
    ASSERT_TRUE(ok.ok()) << ok.status();
    EXPECT_EQ(ok->path.size(), 4095u);
    const std::string r4096 = PathOfLength(4096);
    ASSERT_EQ(r4096.size() + 1, 4096u);
    absl::StatusOr<Target> bad =
        ParseTarget(absl::StrCat(k.prefix, "/", r4096), "22");
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StrContains(bad.status().message(), "4095"))
        << bad.status().message();
    // Far longer input is refused the same way.
    EXPECT_FALSE(
        ParseTarget(absl::StrCat(k.prefix, "/", PathOfLength(100000)), "22")
            .ok());
  }
}

enum class Field { kHost, kPort };

struct RefuseCase {
  std::string host;
  std::string port;
  Field field;  // Which argument the message must start with.
  std::vector<std::string> substrings;  // Each must occur in the message.
};

const char kAcceptedFormsWord1[] = "vsock-mux";
const char kAcceptedFormsWord2[] = ".host";

std::vector<RefuseCase> RefuseCases() {
  std::vector<RefuseCase> cases;
  auto host = [&](std::string h, std::vector<std::string> subs) {
    cases.push_back({std::move(h), "22", Field::kHost, std::move(subs)});
  };
  auto port = [&](std::string h, std::string p, std::vector<std::string> subs) {
    cases.push_back(
        {std::move(h), std::move(p), Field::kPort, std::move(subs)});
  };

  // Prefixes: lowercase, exact, followed by a separator; anything else names
  // the accepted forms.
  for (const char* h :
       {"machines/x", "tcp/x", "unixx/x", "vsockmux/run/x", "vsock_mux/run/x",
        "vsock-muxx/run/x", "xunix/x", " unix/x", "localhost", "example.com",
        "host", "unix\\run\\x", "/run/x", "./x", "x", "%run/x", "-unix/x"}) {
    host(h, {kAcceptedFormsWord1, kAcceptedFormsWord2});
  }
  host("", {kAcceptedFormsWord1, kAcceptedFormsWord2});
  // Other tools' spellings (socat, QEMU): ":" after the prefix. The one fix is
  // named when it parses; a CID:PORT operand points at ssh's -p.
  struct Foreign {
    const char* host;
    const char* says;
  };
  for (const Foreign& f :
       {Foreign{"unix:/run/x", "did you mean unix/run/x?"},
        Foreign{"unix:run/x", "did you mean unix/run/x?"},
        Foreign{"unix:///run/x", "did you mean unix/run/x?"},
        Foreign{"UNIX-CONNECT:/run/x", "did you mean unix/run/x?"},
        Foreign{"unix-client:/run/x", "did you mean unix/run/x?"},
        Foreign{"vsock:3", "did you mean vsock/3?"},
        Foreign{"VSOCK:host", "did you mean vsock/host?"},
        Foreign{"vsock-connect:3:22", "ssh -p 22 vsock/3"},
        Foreign{"vsock:3:22", "did you mean vsock/3?"},
        Foreign{"vsock-mux:/run/v.sock", "did you mean vsock-mux/run/v.sock?"},
        Foreign{"machine:web1", "did you mean machine/web1?"},
        Foreign{"unix:", "ssh-proxy writes unix/PATH"},
        Foreign{"vsock:x", "ssh-proxy writes vsock/CID"},
        Foreign{"vsock:3:0", "ssh-proxy writes vsock/CID"}}) {
    host(f.host, {f.says});
  }
  for (const char* h : {"unix:", "vsock:x", "vsock:3:0", "tcp:x", "ssh:x"}) {
    const absl::StatusOr<Target> t = ParseTarget(h, "22");
    EXPECT_FALSE(t.ok()) << h;
    if (t.ok()) continue;
    EXPECT_FALSE(absl::StrContains(t.status().message(), "did you mean"))
        << t.status().message();
  }
  // A CID with a port in it, leading zeros, and near-miss names.
  for (const Foreign& f :
       {Foreign{"vsock/3:22", "(did you mean vsock/3?)"},
        Foreign{"vsock/3:22", "ssh -p 22 vsock/3"},
        Foreign{"vsock%local:2222", "(did you mean vsock%local?)"},
        Foreign{"vsock/03", "(did you mean vsock/3?)"},
        Foreign{"vsock/00", "(did you mean vsock/0?)"},
        Foreign{"vsock/0009", "(did you mean vsock/9?)"},
        Foreign{"vsock/0123456789", "(did you mean vsock/123456789?)"},
        Foreign{"vsock/010", "decimal 10, or octal 8 as systemd reads it?"},
        Foreign{"vsock/hots", "(did you mean vsock/host?)"},
        Foreign{"vsock/hst", "(did you mean vsock/host?)"},
        Foreign{"vsock/locl", "(did you mean vsock/local?)"},
        Foreign{"vsock/lokal", "(did you mean vsock/local?)"},
        Foreign{"vsock/hypervsior", "(did you mean vsock/hypervisor?)"},
        Foreign{"vsock/hypervisr", "(did you mean vsock/hypervisor?)"}}) {
    host(f.host, {f.says});
  }
  // No guess where none is near. (No text is near two names: they are at
  // least four edits apart, and a near miss is at most one edit from "host"
  // or "local" and two from "hypervisor".)
  for (const char* h :
       {"vsock/lo", "vsock/guest", "vsock/any", "vsock/3:0", "vsock/3:x"}) {
    const absl::StatusOr<Target> t = ParseTarget(h, "22");
    EXPECT_FALSE(t.ok()) << h;
    if (t.ok()) continue;
    EXPECT_FALSE(absl::StrContains(t.status().message(), "did you mean"))
        << t.status().message();
  }
  // An uppercase prefix is refused; the one fix is unambiguous, so it is
  // suggested.
  struct Upper {
    const char* host;
    const char* fix;
  };
  for (const Upper& u :
       {Upper{"UNIX/run/x", "unix/run/x"}, Upper{"Unix/run/x", "unix/run/x"},
        Upper{"VSOCK/2", "vsock/2"}, Upper{"Vsock/2", "vsock/2"},
        Upper{"VSOCK-MUX/run/x", "vsock-mux/run/x"},
        Upper{"Vsock-Mux/run/x", "vsock-mux/run/x"},
        Upper{"vsock-MUX/run/x", "vsock-mux/run/x"}, Upper{".HOST", ".host"},
        Upper{".Host", ".host"}, Upper{"MACHINE/web1", "machine/web1"},
        Upper{"Machine%web1", "machine%web1"}}) {
    host(u.host, {absl::StrCat("did you mean ", u.fix)});
  }
  // A prefix without its separator.
  for (const char* h : {"unix", "vsock", "vsock-mux", "machine"}) host(h, {});
  // ".host" is matched exactly.
  for (const char* h : {".host/x", ".host/", ".host%", ".host ", " .host",
                        "..host", "host.", ".hostx", ".host\n"}) {
    host(h, {});
  }

  for (const PathKind& k : kPathKinds) {
    for (char sep : kSeps) {
      const std::string pre = absl::StrCat(k.prefix, std::string(1, sep));
      // R is non-empty.
      host(pre, {"empty"});
      // R does not start with "/": the canonical spelling is suggested.
      host(pre + "/run/x", {"start with", "did you mean"});
      host(pre + "//run/x", {});
      host(pre + "/", {});
      // No empty, "." or ".." component, no trailing "/".
      for (const char* r : {"run//x", "run///x", "a//b"})
        host(pre + r, {"empty"});
      host(pre + "a//", {});  // Both an empty component and a trailing "/".
      for (const char* r : {".", "./x", "run/.", "run/./x", "a/b/./c"}) {
        host(pre + r, {"\".\""});
      }
      for (const char* r : {"..", "../x", "run/..", "run/../x", "a/b/../c"}) {
        host(pre + r, {"\"..\""});
      }
      for (const char* r : {"run/x/", "x/", "run/x.sock/"})
        host(pre + r, {"end with \"/\""});
      // No byte below 0x21, and no 0x7f: anywhere in R.
      for (int c = 0x00; c <= 0x20; ++c) {
        const std::string b(1, static_cast<char>(c));
        host(pre + "run/a" + b + "b", {"byte"});
        host(pre + b + "run", {"byte"});
        host(pre + "run" + b, {"byte"});
      }
      host(pre +
               "run/a\x7f"
               "b",
           {"byte"});
      host(pre + "\x7f", {"byte"});
      // An escape sequence for a terminal is just refused bytes.
      host(pre + "run/\x1b[31mred", {"byte"});
    }
  }
  // The suggestion is the canonical spelling, exactly.
  host("unix//run/x", {"did you mean unix/run/x"});
  host("vsock-mux//run/vm.sock", {"did you mean vsock-mux/run/vm.sock"});

  // CID: U32 without sign, whitespace or leading zero; at most 4294967294;
  // three names.
  for (const char* v : {"vsock/", "vsock%"}) host(v, {"empty"});
  host("vsock/4294967295", {"VMADDR_CID_ANY"});
  host("vsock%4294967295", {"VMADDR_CID_ANY"});
  for (const char* h :
       {"vsock/4294967296", "vsock/9999999999", "vsock/42949672950",
        "vsock/18446744073709551616",  // 2^64: wraps to 0 in 64 bits.
        "vsock/18446744073709551618",  // 2^64 + 2: wraps to "host".
        "vsock/99999999999999999999999999"}) {
    host(h, {});
  }
  for (const char* h : {"vsock/03", "vsock/00", "vsock/0022", "vsock%01"}) {
    host(h, {"leading zero"});
  }
  for (const std::string& h :
       std::vector<std::string>{"vsock/+1",
                                "vsock/-1",
                                "vsock/ 1",
                                "vsock/1 ",
                                "vsock/\t1",
                                "vsock/1\n",
                                "vsock/0x16",
                                "vsock/0X16",
                                "vsock/1e3",
                                "vsock/1.0",
                                "vsock/1_000",
                                "vsock/\xef\xbc\x91",  // FULLWIDTH DIGIT ONE
                                "vsock/2/x",
                                "vsock/2/",
                                "vsock//2",
                                "vsock/2%",
                                "vsock/any",
                                "vsock/HOST",
                                "vsock/Host",
                                "vsock/LOCAL",
                                "vsock/Local",
                                "vsock/HYPERVISOR",
                                "vsock/Hypervisor",
                                "vsock/hostx",
                                "vsock/host ",
                                "vsock/localhost",
                                "vsock/guest",
                                std::string("vsock/2\0", 8),
                                std::string("vsock/\0"
                                            "2",
                                            8)}) {
    host(h, {});
  }

  // NAME: systemd's hostname_is_valid(name, VALID_HOSTNAME_DOT_HOST).
  for (const char* sep : {"/", "%"}) {
    const std::string pre = absl::StrCat("machine", sep);
    host(pre, {"empty"});
    for (const char* n : {".a", ".", "..", ".host.", ".hostx", "..host"}) {
      host(pre + n, {"start with \".\""});
    }
    for (const char* n : {"a..b", "a-.b", "a.b..c"}) host(pre + n, {"has no"});
    for (const char* n : {"-a", "a.-b", "-"})
      host(pre + n, {"start with \"-\""});
    host(pre + "a.", {"ends with \".\""});
    host(pre + "a.b.", {"ends with \".\""});  // No trailing dot, ever.
    for (const char* n : {"a-", "a-.", "a.b-"}) {
      host(pre + n, {});
    }
    host(pre + "a-", {"ends with \"-\""});
    // Only letters, digits, "-" and ".": "_" too is refused (the issue's
    // "[A-Za-z0-9._-]" is wider than systemd's rule).
    for (const char* n : {"web_1", "a b", "a/b", "a%b", "a:b", "a@b", "*", "a*",
                          "\xc3\xa9", "a\x7f", "a\n", "a\x1b[31m"}) {
      host(pre + n, {"byte"});
    }
    host(pre + std::string(65, 'a'), {"65 bytes", "64"});
    host(pre + std::string(32, 'a') + "." + std::string(32, 'b'), {"65 bytes"});
    host(pre + ".HOST", {});
    host(pre + ".Host", {});
    host(pre + std::string("web1\0", 5), {"byte"});
  }

  // PORT: 1..4294967294, same digit rules; validated for every kind.
  for (const char* h :
       {"unix/run/x.sock", "vsock/4711", "vsock-mux/run/vm.sock",
        "machine/web1", "machine/.host", ".host"}) {
    port(h, "0", {});
    port(h, "4294967295", {"VMADDR_PORT_ANY"});
    port(h, "4294967296", {});
    port(h, "18446744073709551638", {});  // 2^64 + 22: wraps to 22 in 64 bits.
    port(h, "", {"empty"});
    port(h, "022", {"leading zero"});
    port(h, "00", {"leading zero"});
    for (const char* p : {"+22", "-22", " 22", "22 ", "\t22", "22\n", "0x16",
                          "2 2", "22/", "ssh", "22a"}) {
      port(h, p, {});
    }
    port(h, std::string("22\0", 3), {});
    port(h,
         std::string("\0"
                     "22",
                     3),
         {});
  }
  // HOST is checked before PORT.
  cases.push_back({"tcp/x", "0", Field::kHost, {}});
  cases.push_back({"unix//x", "", Field::kHost, {}});
  return cases;
}

TEST(ParseTargetTest, RefusedTable) {
  const std::vector<RefuseCase> cases = RefuseCases();
  EXPECT_GT(cases.size(), 300u);
  for (const RefuseCase& c : cases) {
    SCOPED_TRACE(absl::StrCat("HOST \"", Printable(c.host), "\" PORT \"",
                              Printable(c.port), "\""));
    const absl::StatusOr<Target> got = ParseTarget(c.host, c.port);
    ASSERT_FALSE(got.ok()) << "accepted as " << Show(*got);
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
    const std::string message(got.status().message());
    const std::string start =
        c.field == Field::kHost
            ? absl::StrCat("HOST \"", EscapeForMessage(c.host), "\"")
            : absl::StrCat("PORT \"", EscapeForMessage(c.port), "\"");
    EXPECT_TRUE(absl::StartsWith(message, start))
        << "message: " << message << "\nexpected start: " << start;
    // What follows the quoted argument names the rule.
    EXPECT_GT(message.size(), start.size() + 3) << message;
    for (const std::string& sub : c.substrings) {
      EXPECT_TRUE(absl::StrContains(message.substr(start.size()), sub))
          << "message: " << message << "\nexpected to contain: " << sub;
    }
    // One printable line, whatever the input.
    for (unsigned char b : message) {
      ASSERT_TRUE(b >= 0x20 && b <= 0x7e)
          << "byte " << static_cast<int>(b)
          << " in message: " << Printable(message);
    }
  }
}

TEST(ParseTargetTest, UnknownPrefixNamesEveryAcceptedForm) {
  for (const char* h :
       {"machines/x", "tcp/x", "unixx/x", "localhost", "", "/run/x"}) {
    const absl::StatusOr<Target> got = ParseTarget(h, "22");
    ASSERT_FALSE(got.ok()) << h;
    const std::string message(got.status().message());
    // Skip the quoted HOST so that it cannot supply the words itself.
    const std::string rest = message.substr(message.find('"', 6) + 1);
    for (const char* form : {"unix/PATH", "vsock/CID", "vsock-mux/PATH",
                             "machine/NAME", ".host"}) {
      EXPECT_TRUE(absl::StrContains(rest, form))
          << message << " lacks " << form;
    }
  }
}

TEST(ParseTargetTest, CidAnyHasItsOwnMessage) {
  const absl::StatusOr<Target> any = ParseTarget("vsock/4294967295", "22");
  const absl::StatusOr<Target> over = ParseTarget("vsock/4294967296", "22");
  ASSERT_FALSE(any.ok());
  ASSERT_FALSE(over.ok());
  // Strip the quoted HOST: the rest must differ.
  auto rule = [](const absl::Status& s) {
    const std::string m(s.message());
    return m.substr(m.find('"', 6) + 1);
  };
  EXPECT_NE(rule(any.status()), rule(over.status()));
}

TEST(ParseTargetTest, PortAnyIsRefusedForEveryKind) {
  for (const char* h :
       {"unix/x", "vsock/3", "vsock-mux/x", "machine/x", ".host"}) {
    EXPECT_FALSE(ParseTarget(h, "4294967295").ok()) << h;
    EXPECT_TRUE(ParseTarget(h, "4294967294").ok()) << h;
    EXPECT_FALSE(ParseTarget(h, "0").ok()) << h;
    EXPECT_TRUE(ParseTarget(h, "1").ok()) << h;
  }
}

TEST(ParseTargetTest, HostIsCheckedBeforePort) {
  const absl::StatusOr<Target> got = ParseTarget("tcp/x", "0");
  ASSERT_FALSE(got.ok());
  EXPECT_TRUE(absl::StartsWith(got.status().message(), "HOST \"tcp/x\""))
      << got.status().message();
  const absl::StatusOr<Target> port = ParseTarget("unix/x", "0");
  ASSERT_FALSE(port.ok());
  EXPECT_TRUE(absl::StartsWith(port.status().message(), "PORT \"0\""))
      << port.status().message();
}

TEST(ParseTargetTest, LocalHostIsTheLocalSocket) {
  absl::StatusOr<Target> local = ParseTarget(".host", "22");
  absl::StatusOr<Target> spelled =
      ParseTarget("unix/run/ssh-unix-local/socket", "22");
  ASSERT_TRUE(local.ok());
  ASSERT_TRUE(spelled.ok());
  EXPECT_EQ(*local, *spelled);
  EXPECT_EQ(local->path, "/run/ssh-unix-local/socket");
  EXPECT_EQ(std::string(kLocalHostSocketPath), "/run/ssh-unix-local/socket");
  absl::StatusOr<Target> machine_host = ParseTarget("machine/.host", "22");
  ASSERT_TRUE(machine_host.ok());
  EXPECT_EQ(*machine_host, *local);
}

TEST(ParseTargetTest, EmbeddedNulIsNotATerminator) {
  // A string_view with a NUL must not parse as its prefix.
  EXPECT_FALSE(ParseTarget(std::string("unix/run/x\0y", 12), "22").ok());
  EXPECT_FALSE(ParseTarget(std::string("unix/run/x\0", 11), "22").ok());
  EXPECT_FALSE(ParseTarget(std::string(".host\0", 6), "22").ok());
  EXPECT_FALSE(ParseTarget("unix/run/x", std::string("22\0", 3)).ok());
}

TEST(FormatHostTest, CanonicalSpellings) {
  EXPECT_EQ(FormatHost(Unix("/run/x.sock", 22)), "unix/run/x.sock");
  EXPECT_EQ(FormatHost(Mux("/run/vm.sock", 22)), "vsock-mux/run/vm.sock");
  EXPECT_EQ(FormatHost(Vsock(4711, 22)), "vsock/4711");
  EXPECT_EQ(FormatHost(Vsock(0, 22)), "vsock/0");
  EXPECT_EQ(FormatHost(Vsock(4294967294u, 22)), "vsock/4294967294");

  struct Case {
    const char* host;
    const char* canonical;
  };
  for (const Case& c :
       {Case{".host", "unix/run/ssh-unix-local/socket"},
        Case{"vsock/host", "vsock/2"}, Case{"vsock/local", "vsock/1"},
        Case{"vsock/hypervisor", "vsock/0"}, Case{"vsock%4711", "vsock/4711"},
        Case{"unix%run/x", "unix/run/x"}, Case{"unix/%x", "unix/%x"},
        Case{"vsock-mux%run/vm.sock", "vsock-mux/run/vm.sock"},
        Case{"machine%web1", "machine/web1"},
        Case{"machine/A.b", "machine/A.b"},
        Case{"machine/.host", "unix/run/ssh-unix-local/socket"}}) {
    absl::StatusOr<Target> t = ParseTarget(c.host, "22");
    ASSERT_TRUE(t.ok()) << c.host << ": " << t.status();
    EXPECT_EQ(FormatHost(*t), c.canonical) << c.host;
  }
}

// Round trip: for every accepted HOST, FormatHost(parse(HOST)) parses to the
// same target, and formatting is idempotent.
TEST(FormatHostTest, RoundTripOverAcceptedTable) {
  for (const AcceptCase& c : AcceptCases()) {
    const absl::StatusOr<Target> t = ParseTarget(c.host, c.port);
    ASSERT_TRUE(t.ok()) << Printable(c.host);
    const std::string canonical = FormatHost(*t);
    const absl::StatusOr<Target> again = ParseTarget(canonical, c.port);
    ASSERT_TRUE(again.ok()) << Printable(c.host) << " -> "
                            << Printable(canonical) << ": " << again.status();
    EXPECT_EQ(*again, *t) << Printable(c.host) << " -> "
                          << Printable(canonical);
    EXPECT_EQ(FormatHost(*again), canonical) << Printable(c.host);
  }
}

TEST(DescribeTargetTest, DryRunLines) {
  EXPECT_EQ(DescribeTarget(Unix("/run/x.sock", 22)), "unix path=/run/x.sock");
  EXPECT_EQ(DescribeTarget(Vsock(4711, 22)), "vsock cid=4711 port=22");
  EXPECT_EQ(DescribeTarget(Mux("/run/vm.sock", 22)),
            "vsock-mux path=/run/vm.sock port=22");
  absl::StatusOr<Target> host = ParseTarget("vsock/host", "22");
  ASSERT_TRUE(host.ok());
  EXPECT_EQ(DescribeTarget(*host), "vsock cid=2 port=22");
  absl::StatusOr<Target> local = ParseTarget(".host", "22");
  ASSERT_TRUE(local.ok());
  EXPECT_EQ(DescribeTarget(*local), "unix path=/run/ssh-unix-local/socket");
  EXPECT_EQ(DescribeTarget(Vsock(4294967294u, 4294967294u)),
            "vsock cid=4294967294 port=4294967294");
  EXPECT_EQ(DescribeTarget(Machine("web1", 22)), "machine name=web1 port=22");
}

// A Target whose kind is not a TargetKind (only a bug or memory corruption
// makes one) formats and describes as "", which no HOST is.
TEST(FormatHostTest, KindOutsideTheEnumIsEmpty) {
  Target t = Unix("/run/x.sock", 22);
  t.kind = static_cast<TargetKind>(99);
  EXPECT_EQ(FormatHost(t), "");
  EXPECT_EQ(DescribeTarget(t), "");
  EXPECT_FALSE(ParseTarget(FormatHost(t), "22").ok());
}

TEST(HostHelpTest, ListsEveryForm) {
  EXPECT_EQ(
      HostHelp(),
      "  unix/PATH         AF_UNIX stream socket at /PATH\n"
      "  vsock/CID         AF_VSOCK CID (a number, or hypervisor, local, "
      "host)\n"
      "  vsock-mux/PATH    Firecracker/cloud-hypervisor vsock multiplexer "
      "at /PATH\n"
      "  machine/NAME      a VM or container registered with "
      "systemd-machined\n"
      "  .host             the local host's sshd "
      "(unix/run/ssh-unix-local/socket)\n"
      "  \"%\" may replace the \"/\" after the prefix (for scp and "
      "rsync).\n");
}

TEST(SshConfigHostPatternsTest, MatchEveryForm) {
  EXPECT_EQ(SshConfigHostPatterns(),
            "unix/* unix%* vsock/* vsock%* vsock-mux/* vsock-mux%* machine/* "
            "machine%* .host");
}

struct U32Case {
  std::string text;
  bool ok;
  uint32_t value;
};

TEST(ParseU32Test, Table) {
  const std::vector<U32Case> cases = {
      {"0", true, 0},
      {"1", true, 1},
      {"22", true, 22},
      {"4294967294", true, 4294967294u},
      {"4294967295", true, 4294967295u},
      {"4294967296", false, 0},
      {"9999999999", false, 0},
      {"10000000000", false, 0},
      {"18446744073709551616", false, 0},
      {"18446744073709551617", false, 0},
      {"", false, 0},
      {"00", false, 0},
      {"01", false, 0},
      {"+1", false, 0},
      {"-1", false, 0},
      {"-0", false, 0},
      {" 1", false, 0},
      {"1 ", false, 0},
      {"0x16", false, 0},
      {"1a", false, 0},
      {std::string("1\0", 2), false, 0},
  };
  for (const U32Case& c : cases) {
    const absl::StatusOr<uint32_t> got = ParseU32(c.text);
    EXPECT_EQ(got.ok(), c.ok) << Printable(c.text);
    if (got.ok() && c.ok) {
      EXPECT_EQ(*got, c.value) << c.text;
    }
    if (!got.ok()) {
      EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
      EXPECT_FALSE(got.status().message().empty());
      // The field is named by the caller, not here.
      EXPECT_FALSE(absl::StrContains(got.status().message(), "PORT"))
          << got.status().message();
      EXPECT_FALSE(absl::StrContains(got.status().message(), "CID"))
          << got.status().message();
    }
  }
}

TEST(ParseU32Test, EveryValueWithFewDigitsRoundTrips) {
  for (uint32_t v = 0; v < 100000; ++v) {
    const absl::StatusOr<uint32_t> got = ParseU32(absl::StrCat(v));
    ASSERT_TRUE(got.ok()) << v;
    ASSERT_EQ(*got, v);
  }
}

TEST(ParsePortTest, Table) {
  for (const U32Case& c : std::vector<U32Case>{
           {"1", true, 1},
           {"22", true, 22},
           {"65535", true, 65535},
           {"4294967294", true, 4294967294u},
           {"0", false, 0},
           {"4294967295", false, 0},
           {"", false, 0},
           {"022", false, 0},
           {"+22", false, 0},
           {" 22", false, 0},
           {"22 ", false, 0},
       }) {
    const absl::StatusOr<uint32_t> got = ParsePort(c.text);
    EXPECT_EQ(got.ok(), c.ok) << Printable(c.text);
    if (got.ok() && c.ok) {
      EXPECT_EQ(*got, c.value);
    }
    if (!got.ok()) {
      EXPECT_TRUE(absl::StartsWith(
          got.status().message(),
          absl::StrCat("PORT \"", EscapeForMessage(c.text), "\"")))
          << got.status().message();
    }
  }
}

TEST(EscapeForMessageTest, PrintableAsciiIsKept) {
  EXPECT_EQ(EscapeForMessage("unix/run/x.sock"), "unix/run/x.sock");
  EXPECT_EQ(EscapeForMessage(""), "");
  std::string printable;
  for (int c = 0x20; c <= 0x7e; ++c) {
    if (c != '"' && c != '\\') printable += static_cast<char>(c);
  }
  EXPECT_EQ(EscapeForMessage(printable), printable);
}

TEST(EscapeForMessageTest, QuoteAndBackslashAreEscaped) {
  EXPECT_EQ(EscapeForMessage("\""), "\\\"");
  EXPECT_EQ(EscapeForMessage("\\"), "\\\\");
}

TEST(EscapeForMessageTest, EveryByteBecomesPrintableAndDistinct) {
  std::set<std::string> seen;
  for (int c = 0; c < 256; ++c) {
    const std::string out =
        EscapeForMessage(std::string(1, static_cast<char>(c)));
    for (unsigned char b : out) {
      ASSERT_TRUE(b >= 0x20 && b <= 0x7e) << "byte " << c;
    }
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
      EXPECT_EQ(out[0], '\\') << "byte " << c << " -> " << out;
    }
    EXPECT_TRUE(seen.insert(out).second) << "byte " << c << " -> " << out;
  }
}

// Escaping is injective on short strings, so a message cannot make two inputs
// look alike (e.g. a real "\x01" byte followed by "1", and the text "\x011").
TEST(EscapeForMessageTest, InjectiveOnShortStrings) {
  const std::string alphabet(
      "\x01"
      "1\\x\"0a\xff\n",
      9);
  std::vector<std::string> inputs = {""};
  for (int len = 1; len <= 3; ++len) {
    std::vector<std::string> next;
    for (const std::string& s : inputs) {
      if (static_cast<int>(s.size()) != len - 1) continue;
      for (char c : alphabet) next.push_back(s + c);
    }
    inputs.insert(inputs.end(), next.begin(), next.end());
  }
  std::set<std::string> outputs;
  for (const std::string& s : inputs) {
    EXPECT_TRUE(outputs.insert(EscapeForMessage(s)).second)
        << Printable(s) << " -> " << EscapeForMessage(s);
  }
}

// ParseHostOfKinds: only the kinds given, ".host" counted as machine/, and a
// message written to follow the value (no HOST "..." prefix).
TEST(ParseHostOfKindsTest, AllowsOnlyTheKindsGiven) {
  constexpr TargetKind kDirect[] = {TargetKind::kUnix, TargetKind::kVsock,
                                    TargetKind::kVsockMux};
  absl::StatusOr<Target> unix_target =
      ParseHostOfKinds("unix/run/x", 2222, kDirect);
  ASSERT_TRUE(unix_target.ok()) << unix_target.status();
  EXPECT_EQ(unix_target->path, "/run/x");
  EXPECT_EQ(unix_target->port, 2222u);
  ASSERT_TRUE(ParseHostOfKinds("vsock%3", 22, kDirect).ok());
  for (const char* host :
       {"machine/web1", "machine%web1", ".host", "machine/.host"}) {
    absl::StatusOr<Target> t = ParseHostOfKinds(host, 22, kDirect);
    ASSERT_FALSE(t.ok()) << host;
    EXPECT_EQ(t.status().message(),
              "is not allowed there: it must be a unix/, vsock/ or vsock-mux/ "
              "address")
        << host;
  }
  absl::StatusOr<Target> bad = ParseHostOfKinds("unix//run/x", 22, kDirect);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "is not an address ssh-proxy accepts: PATH must not start with "
            "\"/\" (it is always below \"/\") (did you mean unix/run/x?)");
  constexpr TargetKind kUnixOnly[] = {TargetKind::kUnix};
  absl::StatusOr<Target> vsock = ParseHostOfKinds("vsock/3", 22, kUnixOnly);
  ASSERT_FALSE(vsock.ok());
  EXPECT_EQ(vsock.status().message(),
            "is not allowed there: it must be a unix/ address");
}

}  // namespace

}  // namespace ssh_proxy
