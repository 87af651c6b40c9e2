// Where stage 2 happens, checked call by call through FakeSyscalls: Connect's
// after_connect hook runs once, after the connect and before the first byte
// is sent or received, for every address kind (vsock simulated: no AF_VSOCK
// socket reaches the kernel); nothing that opens anything runs after it; and
// a relay prepared with PrepareRelay opens nothing while it copies.

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <map>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "src/address.h"
#include "src/connector.h"
#include "src/relay.h"
#include "tests/testing/fake_syscalls.h"

namespace ssh_proxy {
namespace {

using testing::FakeSyscalls;

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
    fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un addr = {};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path.c_str());
    unlink(path.c_str());
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(listen(fd_, 4), 0);
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
    char templ[] = "/tmp/ssh-proxy-stage-XXXXXX";
    ASSERT_NE(mkdtemp(templ), nullptr);
    dir_ = templ;
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
  Target target;
  target.kind = TargetKind::kVsockMux;
  target.path = dir_ + "/s";
  target.port = 22;
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
  Target target;
  target.kind = TargetKind::kVsockMux;
  target.path = dir_ + "/s";
  target.port = 22;
  absl::StatusOr<UniqueFd> fd =
      ConnectWithHook(target, absl::InternalError("cannot confine"));
  ASSERT_FALSE(fd.ok());
  EXPECT_EQ(fd.status().message(), "cannot confine");
  EXPECT_EQ(hook_calls_, 1);
  EXPECT_EQ(Count(sys_, "send"), 0);
  EXPECT_TRUE(sys_.open_fds().empty());
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
