// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// Where the stages happen, checked call by call through FakeSyscalls.
//
// The rule (src/sandbox.h): no byte from outside the command line is read
// before a filter forbids exec, open and new sockets other than the target's.
// Per kind, what Run (src/run.cc) does before the target's connect is run here (for
// machine/, asking a stand-in machined) and the bytes read before Connect's
// after_connect hook (stage 2) are counted: stage 1 (NeedsStage1) must be
// loaded exactly for the kinds that read some.
//
// Stage 2: Connect's after_connect hook runs once, after the connect and
// before the first byte is sent or received, for every address kind (vsock
// simulated: no AF_VSOCK socket reaches the kernel); nothing that opens
// anything runs after it; and a relay prepared with PrepareRelay opens nothing
// while it copies.

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "src/address.h"
#include "src/connector.h"
#include "src/machine.h"
#include "src/relay.h"
#include "src/sandbox.h"
#include "tests/testing/fake_syscalls.h"
#include "tests/testing/scripted_machined.h"
#include "tests/testing/targets.h"
#include "tests/testing/unix_socket.h"

namespace ssh_proxy {
namespace {

using testing::FakeSyscalls;
using testing::MachineReply;
using testing::ScriptedMachined;

// The calls that open something: none may happen in stage 2.
constexpr const char* kOpeningCalls[] = {"socket", "connect", "open",
                                         "fchdir", "pipe2",   "setsockopt"};

std::map<std::string, int> Opening(const FakeSyscalls& sys) {
  std::map<std::string, int> counts;
  for (const char* op : kOpeningCalls) {
    auto it = sys.calls.find(op);
    counts[op] = it == sys.calls.end() ? 0 : it->second;
  }
  return counts;
}

int Count(const FakeSyscalls& sys, const std::string& op) {
  auto it = sys.calls.find(op);
  return it == sys.calls.end() ? 0 : it->second;
}

// A listener that accepts one connection and, as a multiplexer, answers
// "CONNECT <port>\n" with "OK 5\n".
class OneShotMux {
 public:
  explicit OneShotMux(const std::string& path) {
    fd_ = BindUnix(path, 4);
    EXPECT_GE(fd_, 0) << path << ": " << strerror(errno);
    thread_ = std::thread([this] {
      const int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) return;
      char ch;
      while (recv(c, &ch, 1, 0) == 1 && ch != '\n') {
      }
      send(c, "OK 5\n", 5, MSG_NOSIGNAL);
      char drain[16];
      while (recv(c, drain, sizeof(drain), 0) > 0) {
      }
      close(c);
    });
  }
  ~OneShotMux() {
    thread_.join();
    close(fd_);
  }

 private:
  int fd_ = -1;
  std::thread thread_;
};

class StageOrderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("stage");
    ASSERT_FALSE(dir_.empty());
  }
  void TearDown() override {
    unlink((dir_ + "/s").c_str());
    rmdir(dir_.c_str());
  }

  // Connects to `target` with a hook that records the calls made so far.
  absl::StatusOr<UniqueFd> ConnectWithHook(const Target& target,
                                           absl::Status hook_result) {
    ConnectOptions options;
    options.timeout_ms = 5000;
    options.after_connect = [&, hook_result]() {
      ++hook_calls_;
      at_hook_ = sys_.calls;
      opening_at_hook_ = Opening(sys_);
      return hook_result;
    };
    return Connect(target, options, sys_);
  }

  FakeSyscalls sys_;
  std::string dir_;
  int hook_calls_ = 0;
  std::map<std::string, int> at_hook_;
  std::map<std::string, int> opening_at_hook_;
};

TEST_F(StageOrderTest, VsockMuxHookRunsAfterConnectBeforeTheHandshake) {
  OneShotMux mux(dir_ + "/s");
  const Target target = Mux(dir_ + "/s");
  absl::StatusOr<UniqueFd> fd = ConnectWithHook(target, absl::OkStatus());
  ASSERT_TRUE(fd.ok()) << fd.status();
  EXPECT_EQ(hook_calls_, 1);
  EXPECT_EQ(at_hook_["connect"], 1);
  EXPECT_EQ(at_hook_["send"], 0);  // CONNECT not yet sent,
  EXPECT_EQ(at_hook_["recv"], 0);  // and no byte of the reply read.
  EXPECT_GT(Count(sys_, "recv"), 0);
  EXPECT_EQ(Opening(sys_), opening_at_hook_) << "opened after stage 2";
}

TEST_F(StageOrderTest, UnixHookRunsOnceAfterConnect) {
  OneShotMux listener(dir_ + "/s");
  Target target;
  target.kind = TargetKind::kUnix;
  target.path = dir_ + "/s";
  target.port = 22;
  absl::StatusOr<UniqueFd> fd = ConnectWithHook(target, absl::OkStatus());
  ASSERT_TRUE(fd.ok()) << fd.status();
  EXPECT_EQ(hook_calls_, 1);
  EXPECT_EQ(at_hook_["connect"], 1);
  EXPECT_EQ(Opening(sys_), opening_at_hook_) << "opened after stage 2";
  // Let the listener's thread finish.
  fd->reset();
}

TEST_F(StageOrderTest, VsockHookRunsAfterConnect) {
  Target target;
  target.kind = TargetKind::kVsock;
  target.cid = 4711;
  target.port = 22;
  absl::StatusOr<UniqueFd> fd = ConnectWithHook(target, absl::OkStatus());
  ASSERT_TRUE(fd.ok()) << fd.status();
  EXPECT_EQ(hook_calls_, 1);
  EXPECT_EQ(sys_.vsock_connects.size(), 1u);
  EXPECT_EQ(at_hook_["connect"], 1);
  EXPECT_EQ(at_hook_["setsockopt"], 1);
  EXPECT_EQ(Opening(sys_), opening_at_hook_) << "opened after stage 2";
}

TEST_F(StageOrderTest, HookErrorIsConnectsErrorAndNothingLeaks) {
  OneShotMux mux(dir_ + "/s");
  const Target target = Mux(dir_ + "/s");
  absl::StatusOr<UniqueFd> fd =
      ConnectWithHook(target, absl::InternalError("cannot confine"));
  ASSERT_FALSE(fd.ok());
  EXPECT_EQ(fd.status().message(), "cannot confine");
  EXPECT_EQ(hook_calls_, 1);
  EXPECT_EQ(Count(sys_, "send"), 0);
  EXPECT_TRUE(sys_.open_fds().empty());
}

// FakeSyscalls whose connect() to one of `redirect`'s paths goes to its
// stand-in instead (machined's sockets, .host's sshd socket).
class RedirectingSyscalls : public FakeSyscalls {
 public:
  std::map<std::string, std::string> redirect;
  int Connect(int fd, const struct sockaddr* addr, socklen_t len) override {
    struct sockaddr_un un = {};
    std::memcpy(&un, addr, std::min<size_t>(len, sizeof(un)));
    auto it = redirect.find(un.sun_path);
    if (un.sun_family == AF_UNIX && it != redirect.end()) {
      std::memset(un.sun_path, 0, sizeof(un.sun_path));
      std::memcpy(un.sun_path, it->second.data(), it->second.size());
      return FakeSyscalls::Connect(fd, reinterpret_cast<sockaddr*>(&un),
                                   sizeof(un));
    }
    return FakeSyscalls::Connect(fd, addr, len);
  }
};

// What Run (src/run.cc) does for `host` up to the hand-off, through `sys`: parse,
// resolve a machine/, connect with stage 2's hook. Returns how many reads of
// someone else's bytes (recv, read) came before the hook, or -1 if the hook
// did not run.
int BytesReadBeforeStage2(const std::string& host, RedirectingSyscalls& sys) {
  absl::StatusOr<Target> target = ParseTarget(host, "22");
  EXPECT_TRUE(target.ok()) << host << ": " << target.status();
  if (!target.ok()) return -1;
  ConnectOptions options;
  options.timeout_ms = 5000;
  if (target->kind == TargetKind::kMachine) {
    absl::StatusOr<Target> resolved =
        ResolveMachine(*target, getuid(), options, sys);
    EXPECT_TRUE(resolved.ok()) << host << ": " << resolved.status();
    if (!resolved.ok()) return -1;
    target = *std::move(resolved);
  }
  int reads = -1;
  options.after_connect = [&] {
    reads = Count(sys, "recv") + Count(sys, "read");
    return absl::OkStatus();
  };
  absl::StatusOr<UniqueFd> fd = Connect(*target, options, sys);
  EXPECT_TRUE(fd.ok()) << host << ": " << fd.status();
  return reads;
}

// The rule, per kind: stage 1 where, and only where, bytes from outside the
// command line are read before stage 2.
class StageRuleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("rule");
    ASSERT_FALSE(dir_.empty());
    sys_.redirect["/run/ssh-unix-local/socket"] = dir_ + "/s";
    sys_.redirect[MachinedSocketPath(MachineScope::kSystem, getuid())] =
        dir_ + "/machined";
  }
  void TearDown() override {
    unlink((dir_ + "/s").c_str());
    rmdir(dir_.c_str());
  }
  void ExpectRule(const std::string& host, TargetKind kind) {
    const int reads = BytesReadBeforeStage2(host, sys_);
    ASSERT_GE(reads, 0) << host << ": stage 2's hook did not run";
    EXPECT_EQ(NeedsStage1(kind), reads > 0)
        << host << ": " << reads << " reads before stage 2";
  }

  std::string dir_;
  RedirectingSyscalls sys_;
};

TEST_F(StageRuleTest, UnixReadsNothingBeforeStage2AndSkipsStage1) {
  OneShotMux listener(dir_ + "/s");
  ExpectRule("unix" + dir_ + "/s", TargetKind::kUnix);
  EXPECT_FALSE(NeedsStage1(TargetKind::kUnix));
}

TEST_F(StageRuleTest, LocalHostReadsNothingBeforeStage2AndSkipsStage1) {
  OneShotMux listener(dir_ + "/s");
  ExpectRule(".host", TargetKind::kUnix);
}

TEST_F(StageRuleTest, VsockMuxReadsNothingBeforeStage2AndSkipsStage1) {
  OneShotMux mux(dir_ + "/s");
  ExpectRule("vsock-mux" + dir_ + "/s", TargetKind::kVsockMux);
  EXPECT_FALSE(NeedsStage1(TargetKind::kVsockMux));
}

TEST_F(StageRuleTest, VsockReadsNothingBeforeStage2AndSkipsStage1) {
  ExpectRule("vsock/4711", TargetKind::kVsock);  // Simulated: no AF_VSOCK.
  EXPECT_FALSE(NeedsStage1(TargetKind::kVsock));
}

// machined's reply is read before the target's connect: stage 1 first.
TEST_F(StageRuleTest, MachineReadsMachinedsReplyAndNeedsStage1) {
  OneShotMux listener(dir_ + "/s");
  ScriptedMachined machined(dir_ + "/machined",
                            MachineReply("vm", "unix" + dir_ + "/s"));
  ASSERT_TRUE(machined.ok());
  ExpectRule("machine/vm", TargetKind::kMachine);
  EXPECT_TRUE(NeedsStage1(TargetKind::kMachine));
  unlink((dir_ + "/machined").c_str());
}

// Everything the relay opens, PrepareRelay opens: copying opens nothing.
TEST(PrepareRelayTest, CopyingOpensNothing) {
  FakeSyscalls sys;
  int in[2], out[2], conn[2];
  ASSERT_EQ(pipe2(in, O_CLOEXEC), 0);
  ASSERT_EQ(pipe2(out, O_CLOEXEC), 0);
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, conn), 0);
  ASSERT_EQ(write(in[1], "up", 2), 2);
  close(in[1]);
  ASSERT_EQ(write(conn[1], "down", 4), 4);
  shutdown(conn[1], SHUT_WR);
  RelayEnds ends = PrepareRelay(in[0], out[1], sys);
  EXPECT_EQ(Count(sys, "pipe2"), 2);  // One per direction.
  const std::map<std::string, int> prepared = Opening(sys);
  RelayStats stats;
  absl::Status status = Relay(std::move(ends), conn[0], "unix/x", sys, &stats);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(Opening(sys), prepared);
  EXPECT_EQ(stats.to_socket, 2u);
  EXPECT_EQ(stats.from_socket, 4u);
  char buf[8] = {};
  EXPECT_EQ(read(conn[1], buf, sizeof(buf)), 2);
  EXPECT_EQ(std::string(buf, 2), "up");
  EXPECT_EQ(read(out[0], buf, sizeof(buf)), 4);
  EXPECT_EQ(std::string(buf, 4), "down");
  for (int fd : {in[0], out[0], conn[0], conn[1]}) close(fd);
}

}  // namespace
}  // namespace ssh_proxy
