// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// Tests of the machine resolver (src/machine.h): the reply parser on the
// replies a real systemd-machined 257 gave (shared/notes/machined.md, pids and
// timestamps filled in), the reader on every split, and ResolveMachine against
// real AF_UNIX listeners standing in for the two scopes' sockets (connect()
// to machined's paths is redirected into a temporary directory through the
// Syscalls seam), with failures injected through FakeSyscalls.

#include "src/machine.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "src/address.h"
#include "src/connector.h"
#include "src/exit_codes.h"
#include "tests/testing/fake_syscalls.h"
#include "tests/testing/printing.h"
#include "tests/testing/targets.h"
#include "tests/testing/unix_socket.h"

namespace ssh_proxy {
namespace {

using ::ssh_proxy::testing::FakeSyscalls;

// Replies of systemd-machined 257.13 (machined.md), byte for byte but for the
// pid and the timestamps.
constexpr absl::string_view kVmWithCid =
    R"({"parameters":{"name":"vm1","class":"vm","service":"test","unit":"lead-vm1.service","leader":{"pid":294},"timestamp":{"realtime":1764680000123456,"monotonic":12345678},"vSockCid":3}})";
constexpr absl::string_view kVmUnixAddress =
    R"({"parameters":{"name":"vm2","class":"vm","service":"test","unit":"lead-vm2.service","leader":{"pid":301},"timestamp":{"realtime":1764680001123456,"monotonic":13345678},"sshAddress":"unix/run/ssh-unix-local/socket"}})";
constexpr absl::string_view kVmMuxAddress =
    R"({"parameters":{"name":"vm3","class":"vm","service":"test","unit":"lead-vm3.service","leader":{"pid":305},"timestamp":{"realtime":1764680002123456,"monotonic":14345678},"sshAddress":"vsock-mux/run/vm3.vsock"}})";
constexpr absl::string_view kVmNoAddress =
    R"({"parameters":{"name":"vm4","class":"vm","service":"test","unit":"lead-vm4.service","leader":{"pid":309},"timestamp":{"realtime":1764680003123456,"monotonic":15345678}}})";
constexpr absl::string_view kNspawn =
    R"({"parameters":{"name":"c1","class":"container","service":"systemd-nspawn","rootDirectory":"/var/lib/machines/c1","unit":"machine-c1.scope","leader":{"pid":412},"timestamp":{"realtime":1764680004123456,"monotonic":16345678}}})";
constexpr absl::string_view kNoSuchMachine =
    R"({"error":"io.systemd.Machine.NoSuchMachine","parameters":{}})";
constexpr absl::string_view kInvalidParameter =
    R"({"error":"org.varlink.service.InvalidParameter","parameters":{"parameter":"name"}})";

// ExpectError checks that `got` failed with exit `exit`, in one printable
// line that starts with the machine's name and contains each of `subs`.
void ExpectError(const absl::StatusOr<Target>& got, absl::string_view name,
                 int exit, const std::vector<std::string>& subs) {
  ASSERT_FALSE(got.ok()) << "resolved to " << ::testing::PrintToString(*got);
  EXPECT_EQ(ExitCodeForStatus(got.status()), exit) << got.status();
  const std::string message(got.status().message());
  EXPECT_TRUE(absl::StartsWith(
      message, absl::StrCat("cannot resolve machine/", name, ": ")))
      << message;
  for (unsigned char c : message) {
    ASSERT_TRUE(c >= 0x20 && c <= 0x7e) << Printable(message);
  }
  for (const std::string& sub : subs) {
    EXPECT_TRUE(absl::StrContains(message, sub))
        << message << "\n  lacks: " << sub;
  }
}

absl::StatusOr<Target> Parse(absl::string_view reply, absl::string_view name,
                             MachineScope scope = MachineScope::kSystem,
                             uint32_t port = 22) {
  return ParseMachinedReply(reply, Machine(name, port), scope, 1000);
}

// ---- The reply parser. ----

TEST(ParseMachinedReplyTest, CapturedReplies) {
  EXPECT_EQ(*Parse(kVmWithCid, "vm1"), Vsock(3));
  EXPECT_EQ(*Parse(kVmWithCid, "vm1", MachineScope::kSystem, 2222),
            Vsock(3, 2222));
  EXPECT_EQ(*Parse(kVmUnixAddress, "vm2"), Unix("/run/ssh-unix-local/socket"));
  EXPECT_EQ(*Parse(kVmMuxAddress, "vm3", MachineScope::kSystem, 2200),
            Mux("/run/vm3.vsock", 2200));
  EXPECT_EQ(*Parse(kNspawn, "c1"),
            Unix("/run/systemd/nspawn/unix-export/c1/ssh"));
  // The user scope's runtime directory is /run/user/UID.
  EXPECT_EQ(*Parse(kNspawn, "c1", MachineScope::kUser),
            Unix("/run/user/1000/systemd/nspawn/unix-export/c1/ssh"));
  ExpectError(Parse(kVmNoAddress, "vm4"), "vm4", 69,
              {"machine vm4 has no SSH address", "system scope"});
  absl::StatusOr<Target> none = Parse(kNoSuchMachine, "vm9");
  ExpectError(none, "vm9", 69, {"no machine named vm9"});
  EXPECT_EQ(none.status().code(), absl::StatusCode::kNotFound);
  absl::StatusOr<Target> invalid = Parse(kInvalidParameter, "vm9");
  ExpectError(invalid, "vm9", 69, {"org.varlink.service.InvalidParameter"});
  EXPECT_EQ(invalid.status().code(), absl::StatusCode::kUnavailable);
}

// Replies of the real systemd-machined 257.13 in tests/vm's systemd guest
// (registered with varlinkctl; its compact JSON, in the wire's "parameters").
TEST(ParseMachinedReplyTest, CapturedInTheSystemdGuest) {
  auto wire = [](absl::string_view parameters) {
    return absl::StrCat(R"({"parameters":)", parameters, "}");
  };
  EXPECT_EQ(
      *Parse(wire(R"({"name":"vm1","class":"vm","unit":"lead-vm1.service",)"
                  R"("leader":{"pid":247},"timestamp":{"realtime":)"
                  R"(1796229684469121,"monotonic":12972465},"vSockCid":3})"),
             "vm1"),
      Vsock(3));
  EXPECT_EQ(
      *Parse(wire(R"({"name":"vm2","class":"vm","unit":"lead-vm2.service",)"
                  R"("leader":{"pid":251},"timestamp":{"realtime":)"
                  R"(1796229684798199,"monotonic":13301535},)"
                  R"("sshAddress":"unix/run/ssh-unix-local/socket"})"),
             "vm2"),
      Unix("/run/ssh-unix-local/socket"));
  EXPECT_EQ(
      *Parse(wire(R"({"name":"vm3","class":"vm","unit":"lead-vm3.service",)"
                  R"("leader":{"pid":255},"timestamp":{"realtime":)"
                  R"(1796229685157395,"monotonic":13660728},)"
                  R"("sshAddress":"vsock-mux/run/vm3.vsock"})"),
             "vm3", MachineScope::kSystem, 2222),
      Mux("/run/vm3.vsock", 2222));
  ExpectError(
      Parse(wire(R"({"name":"vm4","class":"vm","unit":"lead-vm4.service",)"
                 R"("leader":{"pid":259},"timestamp":{"realtime":)"
                 R"(1796229685529696,"monotonic":14033030}})"),
            "vm4"),
      "vm4", 69, {"machine vm4 has no SSH address", "class \"vm\""});
}

TEST(ParseMachinedReplyTest, EveryAddressKindInSshAddress) {
  struct Case {
    std::string address;
    Target want;
  };
  for (const Case& c : std::vector<Case>{
           {"unix/run/vm/ssh.sock", Unix("/run/vm/ssh.sock")},
           {"unix%run/vm/ssh.sock", Unix("/run/vm/ssh.sock")},
           {"vsock/4711", Vsock(4711)},
           {"vsock%host", Vsock(2)},
           {"vsock-mux/run/vm.sock", Mux("/run/vm.sock")},
       }) {
    const std::string reply = absl::StrCat(
        R"({"parameters":{"name":"vm","class":"vm","sshAddress":")", c.address,
        R"("}})");
    absl::StatusOr<Target> got = Parse(reply, "vm");
    ASSERT_TRUE(got.ok()) << c.address << ": " << got.status();
    EXPECT_EQ(*got, c.want) << c.address;
  }
}

TEST(ParseMachinedReplyTest, VsockCidWinsOverSshAddressAndAddressOverNspawn) {
  EXPECT_EQ(
      *Parse(
          R"({"parameters":{"name":"x","vSockCid":7,"sshAddress":"unix/a"}})",
          "x"),
      Vsock(7));
  EXPECT_EQ(*Parse(R"({"parameters":{"name":"x","class":"container",)"
                   R"("service":"systemd-nspawn","sshAddress":"unix/a"}})",
                   "x"),
            Unix("/a"));
}

TEST(ParseMachinedReplyTest, IgnoresFieldsItDoesNotUseWhateverTheirType) {
  EXPECT_EQ(
      *Parse(R"({"parameters":{"leader":[1,{"a":null}],"timestamp":"now",)"
             R"("unit":7,"newField":{"x":[true,false]},"rootDirectory":)"
             R"(null,"name":"vm","vSockCid":4294967294},"continues":5,)"
             R"("extra":"x"})",
             "vm"),
      Vsock(4294967294u));
  // null is varlink's other spelling of "not set".
  EXPECT_EQ(*Parse(R"({"parameters":{"name":"vm","vSockCid":null,)"
                   R"("sshAddress":"unix/a"}})",
                   "vm"),
            Unix("/a"));
  // Whitespace between tokens is JSON.
  EXPECT_EQ(
      *Parse(" {\n\"parameters\" : {\"name\":\"vm\", \"vSockCid\" : 3 } } ",
             "vm"),
      Vsock(3));
}

TEST(ParseMachinedReplyTest, ProtocolErrorsAreExit76WithTheValueEscaped) {
  struct Case {
    std::string reply;
    std::vector<std::string> subs;
  };
  for (const Case& c : std::vector<Case>{
           {"", {"not valid JSON"}},
           {"{", {"not valid JSON"}},
           {"{\"parameters\":{\"name\":\"vm\",\"vSockCid\":3}}}",
            {"not valid JSON"}},
           {"{\"parameters\":{\"name\":\"vm\x1b[31m", {"\\x1b[31m"}},
           {"{\"parameters\":{\"name\":\"\xff\"}}", {"\\xff"}},  // Not UTF-8.
           {"[1,2]", {"an array", "not an object"}},
           {"\"vm\"", {"string", "not an object"}},
           {"{}", {"neither \"error\" nor \"parameters\""}},
           {R"({"parameters":[]})", {"\"parameters\" is an array"}},
           {R"({"error":5})", {"\"error\" is an unsigned integer"}},
           {R"({"parameters":{"vSockCid":3}})", {"no \"name\""}},
           {R"({"parameters":{"name":"vm2","vSockCid":3}})",
            {"about machine \"vm2\", not vm"}},
           {R"({"parameters":{"name":1,"vSockCid":3}})",
            {"\"name\" is an unsigned integer"}},
           {R"({"parameters":{"name":"vm","vSockCid":"3"}})",
            {"\"vSockCid\" is a string", "\"\\\"3\\\"\""}},
           {R"({"parameters":{"name":"vm","vSockCid":-1}})",
            {"negative integer"}},
           {R"({"parameters":{"name":"vm","vSockCid":3.0}})", {"number"}},
           {R"({"parameters":{"name":"vm","vSockCid":true}})", {"boolean"}},
           {R"({"parameters":{"name":"vm","vSockCid":4294967295}})",
            {"4294967295 is out of range"}},
           {R"({"parameters":{"name":"vm","vSockCid":18446744073709551615}})",
            {"out of range"}},
           {R"({"parameters":{"name":"vm","vSockCid":99999999999999999999}})",
            {"number"}},
           {R"({"parameters":{"name":"vm","sshAddress":5}})",
            {"\"sshAddress\" is an unsigned integer"}},
           {R"({"parameters":{"name":"vm","class":["vm"]}})",
            {"\"class\" is an array"}},
           {R"({"parameters":{"name":"vm","service":{}}})",
            {"\"service\" is an object"}},
           // machined does not check sshAddress: our grammar does.
           {R"({"parameters":{"name":"vm","sshAddress":"not an address"}})",
            {"\"sshAddress\" \"not an address\" is not an address ssh-proxy "
             "accepts: not an address ssh-proxy understands"}},
           {R"({"parameters":{"name":"vm","sshAddress":""}})",
            {"\"sshAddress\" \"\" is not an address"}},
           {R"({"parameters":{"name":"vm","sshAddress":"unix//run/x"}})",
            {"PATH must not start"}},
           {R"({"parameters":{"name":"vm","sshAddress":"unix/run/x\n"}})",
            {"\\n"}},
           {R"({"parameters":{"name":"vm","sshAddress":"vsock/4294967295"}})",
            {"VMADDR_CID_ANY"}},
           // No recursion: machine/ and .host are refused inside sshAddress.
           {R"({"parameters":{"name":"vm","sshAddress":"machine/vm"}})",
            {"\"machine/vm\" is not allowed"}},
           {R"({"parameters":{"name":"vm","sshAddress":"machine%other"}})",
            {"not allowed"}},
           {R"({"parameters":{"name":"vm","sshAddress":"machine/.host"}})",
            {"not allowed"}},
           {R"({"parameters":{"name":"vm","sshAddress":".host"}})",
            {"not allowed"}},
       }) {
    SCOPED_TRACE(Printable(c.reply));
    absl::StatusOr<Target> got = Parse(c.reply, "vm");
    ExpectError(got, "vm", 76, c.subs);
    if (!got.ok()) {
      EXPECT_TRUE(absl::StrContains(got.status().message(),
                                    "protocol error from systemd-machined "
                                    "(system scope)"))
          << got.status().message();
    }
  }
}

TEST(ParseMachinedReplyTest, OtherErrorsAreExit69WithTheirNameEscaped) {
  ExpectError(Parse(R"({"error":"org.varlink.service.MethodNotFound"})", "vm"),
              "vm", 69, {"\"org.varlink.service.MethodNotFound\""});
  ExpectError(
      Parse(R"({"error":"io.systemd.System","parameters":{"errno":13}})", "vm"),
      "vm", 69, {"io.systemd.System"});
  ExpectError(Parse("{\"error\":\"x\\u001b[2J\\n\"}", "vm"), "vm", 69,
              {"x\\x1b[2J\\n"});
  // A container not run by systemd-nspawn, or with no service, has no address.
  ExpectError(Parse(R"({"parameters":{"name":"vm","class":"container",)"
                    R"("service":"lxc"}})",
                    "vm"),
              "vm", 69, {"has no SSH address"});
  ExpectError(
      Parse(R"({"parameters":{"name":"vm","class":"container"}})", "vm"), "vm",
      69, {"has no SSH address"});
}

TEST(ParseMachinedReplyTest, ALongValueIsShownCut) {
  // A path the grammar refuses for its length: its message would quote all of
  // it (found by machine_reply_fuzzer: a line over 4 KiB).
  std::string controls;  // 1000 bytes 0x01, as JSON escapes.
  for (int n = 0; n < 1000; ++n) controls += "\\u0001";
  for (const std::string& address :
       {"unix/" + std::string(5000, 'a'), "unix//" + std::string(4000, 'b'),
        "unix/" + controls}) {
    absl::StatusOr<Target> got =
        Parse(absl::StrCat(R"({"parameters":{"name":"vm","sshAddress":")",
                           address, R"("}})"),
              "vm");
    ExpectError(got, "vm", 76, {"is not an address ssh-proxy accepts: "});
    EXPECT_LT(got.status().message().size(), 1500u) << got.status().message();
  }
  absl::StatusOr<Target> junk = Parse(std::string(20000, '['), "vm");
  ExpectError(junk, "vm", 76, {"20000 bytes"});
  EXPECT_LT(junk.status().message().size(), 1000u);
}

// Nesting as deep as 64 KiB allows, in a field that is ignored: nlohmann's
// parser and destructor are iterative, so this neither overflows the stack
// nor is refused.
TEST(ParseMachinedReplyTest, DeepNestingInAnIgnoredField) {
  const size_t depth = (kMaxMachinedReply - 100) / 2;
  const std::string reply = absl::StrCat(
      R"({"parameters":{"name":"vm","leader":)", std::string(depth, '['),
      std::string(depth, ']'), R"(,"vSockCid":3}})");
  ASSERT_LT(reply.size(), kMaxMachinedReply);
  absl::StatusOr<Target> got = Parse(reply, "vm");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, Vsock(3));
}

// ---- The reader. ----

TEST(MachinedReplyReaderTest, SameMessageHoweverSplit) {
  const std::string stream = absl::StrCat(kVmWithCid, std::string(1, '\0'),
                                          "trailing bytes are ignored");
  for (size_t chunk = 1; chunk <= stream.size(); ++chunk) {
    MachinedReplyReader reader;
    MachinedReplyReader::State state = MachinedReplyReader::State::kNeedMore;
    for (size_t i = 0; i < stream.size(); i += chunk) {
      state = reader.Feed(absl::string_view(stream).substr(i, chunk));
    }
    ASSERT_EQ(state, MachinedReplyReader::State::kComplete) << chunk;
    EXPECT_EQ(reader.message(), kVmWithCid) << chunk;
    EXPECT_EQ(reader.Room(), 0u);
  }
}

TEST(MachinedReplyReaderTest, At64KiB) {
  ASSERT_EQ(kMaxMachinedReply, 65536u);
  MachinedReplyReader fits;
  EXPECT_EQ(fits.Room(), 65536u);
  EXPECT_EQ(fits.Feed(std::string(65535, 'a')),
            MachinedReplyReader::State::kNeedMore);
  EXPECT_EQ(fits.Room(), 1u);
  EXPECT_EQ(fits.Feed(std::string(1, '\0')),
            MachinedReplyReader::State::kComplete);
  EXPECT_EQ(fits.message().size(), 65535u);
  MachinedReplyReader over;
  EXPECT_EQ(over.Feed(std::string(65535, 'a')),
            MachinedReplyReader::State::kNeedMore);
  EXPECT_EQ(over.Feed("a"), MachinedReplyReader::State::kTooLong);
  EXPECT_EQ(over.Room(), 0u);
  MachinedReplyReader at_once;
  EXPECT_EQ(at_once.Feed(std::string(70000, 'a') + std::string(1, '\0')),
            MachinedReplyReader::State::kTooLong);
  // An empty message is complete (and then not JSON).
  MachinedReplyReader empty;
  EXPECT_EQ(empty.Feed(std::string(1, '\0')),
            MachinedReplyReader::State::kComplete);
}

TEST(MachinedRequestTest, ExactBytes) {
  EXPECT_EQ(MachinedRequest("web1"),
            std::string("{\"method\":\"io.systemd.Machine.List\","
                        "\"parameters\":{\"name\":\"web1\"}}\0",
                        66));
  EXPECT_EQ(MachinedSocketPath(MachineScope::kUser, 1000),
            "/run/user/1000/systemd/machine/io.systemd.Machine");
  EXPECT_EQ(MachinedSocketPath(MachineScope::kSystem, 1000),
            "/run/systemd/machine/io.systemd.Machine");
}

// ---- ResolveMachine against stand-ins for machined's sockets. ----

// What a stand-in machined does with the one connection it accepts.
struct Script {
  std::vector<std::string> chunks;  // Written one by one, after the request.
  int delay_ms = 0;                 // Before each chunk.
  bool hang = false;                // Never answer (until the test ends).
};

// A machined stand-in: listens at `path`, accepts one connection, reads the
// request up to its NUL, then plays `script`.
class FakeMachined {
 public:
  FakeMachined(const std::string& path, Script script) : path_(path) {
    fd_ = BindUnix(path, 4);
    EXPECT_GE(fd_, 0) << path << ": " << strerror(errno);
    thread_ = std::thread([this, script] {
      const int conn = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (conn < 0) return;
      char c;
      while (::recv(conn, &c, 1, 0) == 1) {
        request_ += c;
        if (c == '\0') break;
      }
      accepted_ = true;
      for (const std::string& chunk : script.chunks) {
        if (script.delay_ms > 0) {
          std::this_thread::sleep_for(
              std::chrono::milliseconds(script.delay_ms));
        }
        ::send(conn, chunk.data(), chunk.size(), MSG_NOSIGNAL);
      }
      if (script.hang) {
        while (!stop_)
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      ::close(conn);
    });
  }
  ~FakeMachined() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  std::string request() {
    thread_.join();
    thread_ = std::thread([] {});
    return request_;
  }
  bool accepted() const { return accepted_; }

 private:
  std::string path_;
  int fd_ = -1;
  std::thread thread_;
  std::string request_;
  std::atomic<bool> accepted_{false};
  std::atomic<bool> stop_{false};
};

// FakeSyscalls whose connect() to machined's two paths goes to the stand-ins'
// paths instead (and records which scopes were asked).
class RedirectingSyscalls : public FakeSyscalls {
 public:
  std::map<std::string, std::string> redirect;
  std::vector<std::string> asked;
  int Connect(int fd, const struct sockaddr* addr, socklen_t len) override {
    struct sockaddr_un un;
    std::memset(&un, 0, sizeof(un));
    std::memcpy(&un, addr, std::min<size_t>(len, sizeof(un)));
    auto it = redirect.find(un.sun_path);
    if (un.sun_family == AF_UNIX && it != redirect.end()) {
      asked.push_back(un.sun_path);
      std::memset(un.sun_path, 0, sizeof(un.sun_path));
      std::memcpy(un.sun_path, it->second.data(), it->second.size());
      return FakeSyscalls::Connect(fd, reinterpret_cast<sockaddr*>(&un),
                                   sizeof(un));
    }
    return FakeSyscalls::Connect(fd, addr, len);
  }
  // open() of machined's state directory goes to `state_dir` instead (the
  // host's own /run/systemd/machines must not decide a test), and of the
  // paths in `open_redirect` to theirs.
  std::string state_dir;
  std::map<std::string, std::string> open_redirect;
  int Open(const char* path, int flags) override {
    if (std::string(path) == kMachinedStateDir) {
      asked.push_back(path);
      return FakeSyscalls::Open(state_dir.c_str(), flags);
    }
    auto it = open_redirect.find(path);
    if (it != open_redirect.end()) {
      asked.push_back(path);
      return FakeSyscalls::Open(it->second.c_str(), flags);
    }
    return FakeSyscalls::Open(path, flags);
  }
};

constexpr uint32_t kUid = 4242;

class ResolveMachineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("machine");
    ASSERT_FALSE(dir_.empty());
    user_ = dir_ + "/user";
    system_ = dir_ + "/system";
    sys_.redirect[MachinedSocketPath(MachineScope::kUser, kUid)] = user_;
    sys_.redirect[MachinedSocketPath(MachineScope::kSystem, kUid)] = system_;
    state_ = dir_ + "/machines";  // Absent unless a test makes it.
    sys_.state_dir = state_;
    marker_ = dir_ + "/systemd-ssh-proxy";  // Likewise.
    sys_.open_redirect[kSystemd256Marker] = marker_;
  }
  void TearDown() override {
    EXPECT_TRUE(sys_.open_fds().empty()) << "fd leak";
    std::filesystem::remove_all(dir_);
  }
  absl::StatusOr<Target> Resolve(absl::string_view name,
                                 int64_t timeout_ms = 5000) {
    ConnectOptions options;
    options.timeout_ms = timeout_ms;
    options.log = [this](absl::string_view line) {
      log_ += std::string(line) + "\n";
    };
    return ResolveMachine(Machine(name), kUid, options, sys_);
  }
  static Script Reply(absl::string_view reply) {
    return Script{{absl::StrCat(reply, std::string(1, '\0'))}};
  }

  std::string dir_, user_, system_, state_, marker_, log_;
  RedirectingSyscalls sys_;
};

TEST_F(ResolveMachineTest, SystemScopeWhenTheUserScopeHasNone) {
  FakeMachined system(system_, Reply(kVmWithCid));
  absl::StatusOr<Target> got = Resolve("vm1");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, Vsock(3));
  EXPECT_EQ(system.request(), MachinedRequest("vm1"));
  EXPECT_EQ(sys_.asked.size(), 2u);  // The user scope was asked first.
  EXPECT_TRUE(absl::StrContains(log_,
                                "systemd-machined (user scope) is not "
                                "running"))
      << log_;
  EXPECT_TRUE(
      absl::StrContains(log_, "systemd-machined (system scope) replied"))
      << log_;
  EXPECT_TRUE(absl::StrContains(log_, "machine/vm1 is vsock cid=3 port=22"))
      << log_;
}

TEST_F(ResolveMachineTest, UserScopeAnswersFirst) {
  FakeMachined user(user_, Reply(kNspawn));
  absl::StatusOr<Target> got = Resolve("c1");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, Unix(absl::StrCat("/run/user/", kUid,
                                    "/systemd/nspawn/unix-export/c1/ssh")));
  EXPECT_EQ(sys_.asked.size(), 1u);  // Never the system scope.
  EXPECT_EQ(user.request(), MachinedRequest("c1"));
}

// Newer systemd (262) exports a container's sshd at
// runtime/systemd/nspawn/NAME/unix-export/ssh: used when it exists (in
// either scope), 257's layout otherwise.
TEST_F(ResolveMachineTest, NspawnExportOfNewerSystemdWhenItExists) {
  const std::string newer = "/run/systemd/nspawn/c1/unix-export/ssh";
  const std::string newer_user =
      absl::StrCat("/run/user/", kUid, "/systemd/nspawn/c1/unix-export/ssh");
  const std::string present = dir_ + "/present";
  const int fd = ::open(present.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ::close(fd);
  {
    sys_.open_redirect[newer] = dir_ + "/absent";
    FakeMachined system(system_, Reply(kNspawn));
    absl::StatusOr<Target> got = Resolve("c1");
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, Unix("/run/systemd/nspawn/unix-export/c1/ssh"));
    EXPECT_TRUE(absl::StrContains(log_, newer + " is absent")) << log_;
  }
  {
    sys_.open_redirect[newer] = present;
    FakeMachined system(system_, Reply(kNspawn));
    absl::StatusOr<Target> got = Resolve("c1");
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, Unix(newer));
  }
  {
    sys_.open_redirect[newer_user] = present;
    FakeMachined user(user_, Reply(kNspawn));
    absl::StatusOr<Target> got = Resolve("c1");
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, Unix(newer_user));
  }
}

// An sshAddress that happens to name 257's export path is taken as it is.
TEST_F(ResolveMachineTest, AnSshAddressIsNeverRewritten) {
  const std::string present = dir_ + "/present";
  const int fd = ::open(present.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ::close(fd);
  sys_.open_redirect["/run/systemd/nspawn/vm2/unix-export/ssh"] = present;
  FakeMachined system(
      system_,
      Reply(R"({"parameters":{"name":"vm2","class":"container","service":)"
            R"("systemd-nspawn","sshAddress":)"
            R"("unix/run/systemd/nspawn/unix-export/vm2/ssh"}})"));
  absl::StatusOr<Target> got = Resolve("vm2");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, Unix("/run/systemd/nspawn/unix-export/vm2/ssh"));
}

TEST_F(ResolveMachineTest, NoSuchMachineInTheUserScopeAsksTheSystemScope) {
  FakeMachined user(user_, Reply(kNoSuchMachine));
  FakeMachined system(system_, Reply(kVmMuxAddress));
  absl::StatusOr<Target> got = Resolve("vm3");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, Mux("/run/vm3.vsock"));
  EXPECT_TRUE(absl::StrContains(log_, "(user scope) has no machine vm3"))
      << log_;
}

TEST_F(ResolveMachineTest, AUserScopeThatErrorsIsTheAnswer) {
  FakeMachined user(user_, Reply(kInvalidParameter));
  FakeMachined system(system_, Reply(kVmWithCid));
  absl::StatusOr<Target> got = Resolve("vm1");
  ExpectError(got, "vm1", 69,
              {"(user scope)", "\"org.varlink.service.InvalidParameter\""});
  EXPECT_EQ(sys_.asked.size(), 1u);
  EXPECT_FALSE(system.accepted());
}

TEST_F(ResolveMachineTest, AUserSocketNobodyListensOnCountsAsNone) {
  {
    // Bound and closed: the socket file stays, connect() gets ECONNREFUSED.
    const int fd = BindUnix(user_, -1);
    ASSERT_GE(fd, 0) << strerror(errno);
    ::close(fd);
  }
  FakeMachined system(system_, Reply(kVmUnixAddress));
  absl::StatusOr<Target> got = Resolve("vm2");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, Unix("/run/ssh-unix-local/socket"));
  EXPECT_TRUE(absl::StrContains(log_, "ECONNREFUSED")) << log_;
}

TEST_F(ResolveMachineTest, NotRunningInEitherScope) {
  ExpectError(Resolve("vm1"), "vm1", 69,
              {"systemd-machined is not running",
               "user scope:", "system scope:", "ENOENT"});
}

// systemd < 256 (Debian 12's 252): machined runs and keeps its state
// directory, but has no varlink socket. Same exit code as "not running", and
// the message says which it is.
TEST_F(ResolveMachineTest, StateDirectoryWithoutSocketIsSystemdOlderThan256) {
  ASSERT_EQ(::mkdir(state_.c_str(), 0755), 0);
  ExpectError(Resolve("vm1"), "vm1", 69,
              {"systemd-machined has no varlink interface here",
               "/run/systemd/machines exists",
               "/run/systemd/machine/io.systemd.Machine does not",
               "older than 256", "machine/ needs systemd 256 or later"});
  EXPECT_TRUE(absl::StrContains(
      log_, "machined's state directory /run/systemd/machines exists"))
      << log_;
}

// systemd 257 before machined first runs (it starts on demand): the state
// directory (tmpfiles makes it at boot) and no socket, as on 252, but
// systemd >= 256's own ssh proxy is installed: not running.
TEST_F(ResolveMachineTest, StateDirectoryOnSystemd256OrLaterIsNotRunning) {
  ASSERT_EQ(::mkdir(state_.c_str(), 0755), 0);
  const int fd = ::open(marker_.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0755);
  ASSERT_GE(fd, 0);
  ::close(fd);
  absl::StatusOr<Target> got = Resolve("vm1");
  ExpectError(got, "vm1", 69, {"systemd-machined is not running", "ENOENT"});
  EXPECT_FALSE(absl::StrContains(got.status().message(), "256"));
  EXPECT_TRUE(absl::StrContains(
      log_, "systemd >= 256's /usr/lib/systemd/systemd-ssh-proxy exists"))
      << log_;
}

// Neither the directory nor the socket: not running (and the state directory
// was looked at, its absence logged).
TEST_F(ResolveMachineTest, NoStateDirectoryIsNotRunning) {
  absl::StatusOr<Target> got = Resolve("vm1");
  ExpectError(got, "vm1", 69, {"systemd-machined is not running"});
  EXPECT_FALSE(absl::StrContains(got.status().message(), "256"));
  EXPECT_TRUE(absl::StrContains(log_, "/run/systemd/machines: No such file"))
      << log_;
}

// A socket file nobody listens on (machined >= 256 stopped): not running, even
// with the state directory there; the directory is not even looked at.
TEST_F(ResolveMachineTest, AStaleSystemSocketIsNotRunningWhateverTheDirectory) {
  ASSERT_EQ(::mkdir(state_.c_str(), 0755), 0);
  const int fd = BindUnix(system_, -1);
  ASSERT_GE(fd, 0) << strerror(errno);
  ::close(fd);
  absl::StatusOr<Target> got = Resolve("vm1");
  ExpectError(got, "vm1", 69,
              {"systemd-machined is not running", "ECONNREFUSED"});
  EXPECT_FALSE(absl::StrContains(got.status().message(), "256"));
  EXPECT_EQ(std::count(sys_.asked.begin(), sys_.asked.end(),
                       std::string(kMachinedStateDir)),
            0);
}

// A regular file where the directory should be is not the directory.
TEST_F(ResolveMachineTest, AStateDirectoryThatIsAFileIsNotRunning) {
  const int fd = ::open(state_.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ::close(fd);
  absl::StatusOr<Target> got = Resolve("vm1");
  ExpectError(got, "vm1", 69, {"systemd-machined is not running"});
  EXPECT_TRUE(absl::StrContains(log_, "ENOTDIR")) << log_;
}

TEST_F(ResolveMachineTest, NoSuchMachineInBothScopes) {
  FakeMachined user(user_, Reply(kNoSuchMachine));
  FakeMachined system(system_, Reply(kNoSuchMachine));
  absl::StatusOr<Target> got = Resolve("nope");
  ExpectError(got, "nope", 69,
              {"no machine named nope", "user and system scopes"});
  EXPECT_EQ(got.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(ResolveMachineTest, NoSuchMachineInTheSystemScopeAlone) {
  FakeMachined system(system_, Reply(kNoSuchMachine));
  ExpectError(
      Resolve("nope"), "nope", 69,
      {"no machine named nope", "system scope;", "not running: user scope"});
}

TEST_F(ResolveMachineTest, ARepliesSplitIntoSingleBytesIsTheSame) {
  Script script;
  const std::string stream = absl::StrCat(kVmWithCid, std::string(1, '\0'));
  for (char c : stream) script.chunks.push_back(std::string(1, c));
  FakeMachined system(system_, script);
  absl::StatusOr<Target> got = Resolve("vm1");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, Vsock(3));
}

TEST_F(ResolveMachineTest, Oversize) {
  Script script;
  for (int i = 0; i < 20; ++i) script.chunks.push_back(std::string(4096, ' '));
  FakeMachined system(system_, script);
  ExpectError(Resolve("vm1"), "vm1", 76, {"longer than 65536 bytes"});
}

TEST_F(ResolveMachineTest, ClosedWithoutAReplyAndInTheMiddleOfOne) {
  {
    FakeMachined system(system_, Script{});
    ExpectError(Resolve("vm1"), "vm1", 69, {"closed the connection without"});
  }
  {
    FakeMachined system(system_,
                        Script{{std::string(kVmWithCid.substr(0, 20))}});
    ExpectError(Resolve("vm1"), "vm1", 76, {"in the middle of the reply"});
  }
}

TEST_F(ResolveMachineTest, Timeout) {
  Script script;
  script.hang = true;
  FakeMachined system(system_, script);
  const auto start = std::chrono::steady_clock::now();
  ExpectError(Resolve("vm1", 300), "vm1", 75, {"timed out after 300ms"});
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  EXPECT_GE(ms, 250);
  EXPECT_LT(ms, 3000);
}

TEST_F(ResolveMachineTest, TimeoutOnTheFakeClockCountsTheWholeLookup) {
  sys_.fake_clock = true;
  Script script;
  script.hang = true;
  FakeMachined system(system_, script);
  ExpectError(Resolve("vm1", 2000), "vm1", 75, {"timed out after 2s"});
}

TEST_F(ResolveMachineTest, InterruptedAndSpuriousWakeupsAreRetried) {
  Script script = Reply(kVmWithCid);
  script.delay_ms = 20;
  FakeMachined system(system_, script);
  sys_.Fail("recv", EINTR);
  sys_.Fail("recv", EAGAIN);
  sys_.Fail("poll", EINTR);
  sys_.Fail("send", EINTR);
  absl::StatusOr<Target> got = Resolve("vm1");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, Vsock(3));
}

TEST_F(ResolveMachineTest, ShortSendsStillSendTheWholeRequest) {
  FakeMachined system(system_, Reply(kVmWithCid));
  for (int i = 0; i < 200; ++i)
    sys_.Inject("send", FakeSyscalls::Injection{0, false, 3});
  ASSERT_TRUE(Resolve("vm1").ok());
  EXPECT_EQ(system.request(), MachinedRequest("vm1"));
}

TEST_F(ResolveMachineTest, SystemCallFailuresAreExit71) {
  FakeMachined system(system_, Reply(kVmWithCid));
  sys_.Fail("socket", EMFILE);
  ExpectError(Resolve("vm1"), "vm1", 71, {"socket(AF_UNIX)", "EMFILE"});
  sys_.Fail("connect", EACCES);
  ExpectError(Resolve("vm1"), "vm1", 71, {"connect to", "EACCES"});
  sys_.Fail("send", EPIPE);
  ExpectError(Resolve("vm1"), "vm1", 69, {"closed the connection", "EPIPE"});
}

TEST_F(ResolveMachineTest, RecvFailureIsExit71) {
  FakeMachined system(system_, Reply(kVmWithCid));
  sys_.Fail("recv", EIO);
  ExpectError(Resolve("vm1"), "vm1", 71, {"recv", "EIO"});
}

}  // namespace
}  // namespace ssh_proxy
