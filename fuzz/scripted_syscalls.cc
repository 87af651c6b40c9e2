// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors

#include "fuzz/scripted_syscalls.h"

#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "fuzz/fuzz_check.h"

namespace ssh_proxy {
namespace fuzz {
namespace {

// Every decision takes one script byte, and a correct connector makes a
// bounded number of calls per decision plus a bounded number once the script
// is exhausted (see the header). More than this is a spin.
size_t MaxCalls(size_t script_size) { return 8 * script_size + 4096; }

}  // namespace

ScriptedSyscalls::ScriptedSyscalls(Script* script, const Target& target,
                                   std::string incoming, PeerEnd end)
    : script_(script),
      target_(target),
      incoming_(std::move(incoming)),
      end_(end),
      command_(absl::StrCat("CONNECT ", target.port, "\n")) {}

ScriptedSyscalls::~ScriptedSyscalls() {
  // The fuzzer checks for leaks before this; close for real so that a
  // reported leak does not also exhaust the process's fds.
  for (int fd : open_) ::close(fd);
}

void ScriptedSyscalls::Call(const char* op) {
  ++calls_;
  if (script_->trace) {
    std::fprintf(stderr, "\n  %zu t+%lld %s", calls_,
                 static_cast<long long>(now_ms_ - 1'000'000), op);
  }
  FUZZ_CHECK(calls_ <= MaxCalls(script_->size()),
             absl::StrCat("the connector spins: ", calls_,
                          " system calls for a script of ", script_->size(),
                          " bytes"));
}

void ScriptedSyscalls::CheckOpen(int fd, const char* op) const {
  FUZZ_CHECK(open_.count(fd) == 1,
             absl::StrCat(op, " on fd ", fd, ", which is not open"));
}

void ScriptedSyscalls::CheckSocket(int fd, const char* op) const {
  CheckOpen(fd, op);
  FUZZ_CHECK(fd == socket_fd_,
             absl::StrCat(op, " on fd ", fd, ", which is not the socket"));
}

int ScriptedSyscalls::NewFd() {
  const int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  FUZZ_CHECK(fd >= 0, absl::StrCat("eventfd failed: ", std::strerror(errno),
                                   " (fds leaked by an earlier input?)"));
  FUZZ_CHECK(open_.insert(fd).second, "eventfd returned an open fd");
  return fd;
}

bool ScriptedSyscalls::ReadableNow() const {
  return delivered_ > consumed_ ||
         (delivered_ == incoming_.size() && end_ != PeerEnd::kSilent);
}

void ScriptedSyscalls::Advance(int64_t ms, int timeout_ms) {
  now_ms_ += std::min<int64_t>(ms, timeout_ms);
}

int ScriptedSyscalls::Socket(int domain, int type, int protocol) {
  Call("socket");
  FUZZ_CHECK(socket_fd_ < 0 || open_.count(socket_fd_) == 0,
             "a second socket while the first is open");
  FUZZ_CHECK(socket_fd_ < 0, "a second socket for one Connect");
  const int want = target_.kind == TargetKind::kVsock ? AF_VSOCK : AF_UNIX;
  FUZZ_CHECK(domain == want, absl::StrCat("socket domain ", domain));
  FUZZ_CHECK((type & SOCK_CLOEXEC) != 0,
             "socket without SOCK_CLOEXEC leaks into children");
  FUZZ_CHECK((type & ~(SOCK_CLOEXEC | SOCK_NONBLOCK)) == SOCK_STREAM,
             absl::StrCat("socket type ", type));
  FUZZ_CHECK(protocol == 0, "socket protocol");
  switch (script_->Next() % 16) {
    case 12:
      return Fail(EMFILE);
    case 13:
      return Fail(ENFILE);
    case 14:
      return Fail(EAFNOSUPPORT);
    case 15:
      return Fail(ENOMEM);
    default:
      socket_fd_ = NewFd();
      socket_flags_ = O_RDWR | ((type & SOCK_NONBLOCK) ? O_NONBLOCK : 0);
      return socket_fd_;
  }
}

int ScriptedSyscalls::Connect(int fd, const struct sockaddr* addr,
                              socklen_t len) {
  Call("connect");
  CheckSocket(fd, "connect");
  FUZZ_CHECK(addr != nullptr, "connect without address");
  if (target_.kind == TargetKind::kVsock) {
    FUZZ_CHECK(len == sizeof(struct sockaddr_vm), "vsock address length");
    struct sockaddr_vm vm;
    std::memcpy(&vm, addr, sizeof(vm));
    FUZZ_CHECK(
        vm.svm_family == AF_VSOCK && vm.svm_cid == target_.cid &&
            vm.svm_port == target_.port,
        absl::StrCat("vsock address cid=", vm.svm_cid, " port=", vm.svm_port));
  } else {
    FUZZ_CHECK(len <= sizeof(struct sockaddr_un) &&
                   len > offsetof(struct sockaddr_un, sun_path),
               absl::StrCat("unix address length ", len));
    struct sockaddr_un un;
    std::memset(&un, 0, sizeof(un));
    std::memcpy(&un, addr, len);
    FUZZ_CHECK(un.sun_family == AF_UNIX, "unix address family");
    const size_t max = len - offsetof(struct sockaddr_un, sun_path);
    const size_t n = strnlen(un.sun_path, max);
    // NUL-terminated inside the address, never abstract (sun_path[0] != 0).
    FUZZ_CHECK(n < max && n > 0, "sun_path not NUL-terminated or empty");
    const std::string path(un.sun_path, n);
    if (target_.path.size() < sizeof(un.sun_path)) {
      FUZZ_CHECK(path == target_.path,
                 "connect to " + Shown(path) + " for " + Shown(target_.path));
    } else if (cwd_ == Cwd::kTargetDir) {
      // The fallback without /proc: relative to the socket's directory.
      const std::string base = target_.path.substr(target_.path.rfind('/') + 1);
      FUZZ_CHECK(path == base, "connect to " + Shown(path) +
                                   " in the directory of " +
                                   Shown(target_.path));
    } else {
      FUZZ_CHECK(cwd_ == Cwd::kOriginal, "connect from a wrong directory");
      FUZZ_CHECK(inode_fd_ >= 0 && open_.count(inode_fd_) == 1,
                 "a long path connected without its O_PATH fd");
      FUZZ_CHECK(path == absl::StrCat("/proc/self/fd/", inode_fd_),
                 "connect to " + Shown(path) + " for a long path");
    }
  }
  const uint8_t b = script_->Next();
  switch (b % 16) {
    case 6: {
      const bool already = connecting_;
      connecting_ = true;
      return Fail(already ? EALREADY : EINPROGRESS);
    }
    case 7:
      connecting_ = true;
      return Fail(EINTR);
    case 8:
      return Fail(EAGAIN);
    case 9:
      return Fail(ECONNREFUSED);
    case 10:
      return Fail(ENOENT);
    case 11:
      timed_out_ = true;
      return Fail(ETIMEDOUT);
    case 12:
      return Fail(EACCES);
    case 13:
      return Fail(ECONNRESET);
    case 14:
      return Fail(target_.kind == TargetKind::kVsock ? EHOSTUNREACH : ENOTDIR);
    case 15:
      return Fail(target_.kind == TargetKind::kVsock ? ENODEV : EPROTOTYPE);
    default:
      connecting_ = false;
      return 0;
  }
}

int ScriptedSyscalls::SetSockOpt(int fd, int level, int name, const void* value,
                                 socklen_t len) {
  Call("setsockopt");
  CheckSocket(fd, "setsockopt");
  FUZZ_CHECK(target_.kind == TargetKind::kVsock && level == AF_VSOCK &&
                 name == SO_VM_SOCKETS_CONNECT_TIMEOUT &&
                 len == sizeof(struct timeval),
             "unexpected setsockopt");
  struct timeval tv;
  std::memcpy(&tv, value, sizeof(tv));
  const int64_t ms = static_cast<int64_t>(tv.tv_sec) * 1000 + tv.tv_usec / 1000;
  FUZZ_CHECK(tv.tv_sec >= 0 && tv.tv_usec >= 0 && tv.tv_usec < 1000000 &&
                 now_ms_ + ms <= deadline_ms_,
             absl::StrCat("vsock connect timeout ", tv.tv_sec, "s ", tv.tv_usec,
                          "us past the deadline"));
  if (script_->Next() % 8 == 7) return Fail(ENOPROTOOPT);
  return 0;
}

int ScriptedSyscalls::GetSockOpt(int fd, int level, int name, void* value,
                                 socklen_t* len) {
  Call("getsockopt");
  FUZZ_CHECK(level == SOL_SOCKET && len != nullptr && *len == sizeof(int),
             "unexpected getsockopt");
  const uint8_t b = script_->Next();
  int result = 0;
  if (name == SO_ERROR) {
    CheckSocket(fd, "getsockopt(SO_ERROR)");
    FUZZ_CHECK(connecting_, "SO_ERROR read without a connect in progress");
    static constexpr int kErrors[] = {0,         0,          0, 0, ECONNREFUSED,
                                      ETIMEDOUT, ECONNRESET, -1};
    result = kErrors[b % 8];
    if (result < 0) return Fail(EBADF);
    if (result == ETIMEDOUT) timed_out_ = true;
    connecting_ = false;
  } else {
    FUZZ_CHECK(name == SO_DOMAIN && fd == kHandOffFd,
               absl::StrCat("getsockopt ", name, " on fd ", fd));
    switch (b % 4) {
      case 1:
        result = AF_INET;
        break;
      case 2:
        return Fail(ENOTSOCK);
      default:
        result = AF_UNIX;
    }
  }
  std::memcpy(value, &result, sizeof(result));
  return 0;
}

int ScriptedSyscalls::Open(const char* path, int flags) {
  Call("open");
  FUZZ_CHECK(path != nullptr, "open of a null path");
  if (flags & O_DIRECTORY) {
    // The long-path fallback: the working directory, then the socket's.
    FUZZ_CHECK((flags & O_PATH) && (flags & O_CLOEXEC),
               absl::StrCat("directory open flags ", flags));
    FUZZ_CHECK(target_.kind != TargetKind::kVsock &&
                   target_.path.size() >= sizeof(sockaddr_un::sun_path),
               "a directory open for a short path");
    const size_t slash = target_.path.rfind('/');
    const std::string dir = slash == 0 ? "/" : target_.path.substr(0, slash);
    const bool is_cwd = std::string(path) == ".";
    FUZZ_CHECK(is_cwd ? cwd_fd_ < 0 : (path == dir && dir_fd_ < 0),
               "open of the directory " + Shown(path));
    switch (script_->Next() % 8) {
      case 6:
        return Fail(EACCES);
      case 7:
        return Fail(EMFILE);
      default:
        return (is_cwd ? cwd_fd_ : dir_fd_) = NewFd();
    }
  }
  // The target itself (the long-path route, or the diagnosis of a failed
  // connect), or a directory above it (the diagnosis of EACCES).
  const std::string opened(path);
  const bool above =
      opened == "/" || (opened.size() < target_.path.size() &&
                        target_.path.compare(0, opened.size(), opened) == 0 &&
                        target_.path[opened.size()] == '/');
  FUZZ_CHECK(opened == target_.path || above,
             "open of a path that is neither the target's nor above it");
  FUZZ_CHECK((flags & O_PATH) && (flags & O_CLOEXEC),
             absl::StrCat("open flags ", flags));
  FUZZ_CHECK(inode_fd_ < 0, "a second O_PATH open");
  switch (script_->Next() % 8) {
    case 4:
      return Fail(ENOENT);
    case 5:
      return Fail(EACCES);
    case 6:
      return Fail(ELOOP);
    case 7:
      return Fail(EMFILE);
    default:
      inode_fd_ = NewFd();
      return inode_fd_;
  }
}

int ScriptedSyscalls::Fchdir(int fd) {
  Call("fchdir");
  CheckOpen(fd, "fchdir");
  FUZZ_CHECK(fd == cwd_fd_ || fd == dir_fd_,
             absl::StrCat("fchdir to fd ", fd, ", not a directory fd"));
  if (script_->Next() % 8 == 7) return Fail(EACCES);
  cwd_ = fd == cwd_fd_ ? Cwd::kOriginal : Cwd::kTargetDir;
  return 0;
}

int ScriptedSyscalls::Close(int fd) {
  Call("close");
  FUZZ_CHECK(open_.count(fd) == 1,
             absl::StrCat("close of fd ", fd,
                          ", which is not open or not the connector's"));
  open_.erase(fd);
  if (fd == inode_fd_) inode_fd_ = -1;
  if (fd == cwd_fd_) cwd_fd_ = -1;
  if (fd == dir_fd_) dir_fd_ = -1;
  ::close(fd);
  return 0;
}

int ScriptedSyscalls::Fcntl(int fd, int cmd, int arg) {
  Call("fcntl");
  CheckSocket(fd, "fcntl");
  const bool fail = script_->Next() % 8 == 7;
  if (cmd == F_GETFL) {
    if (fail) return Fail(EBADF);
    return socket_flags_;
  }
  FUZZ_CHECK(cmd == F_SETFL, absl::StrCat("fcntl cmd ", cmd));
  FUZZ_CHECK((arg & ~O_NONBLOCK) == (socket_flags_ & ~O_NONBLOCK),
             "F_SETFL changed flags other than O_NONBLOCK");
  if (fail) return Fail(EBADF);
  socket_flags_ = arg;
  return 0;
}

int ScriptedSyscalls::Fstat(int fd, struct stat* st) {
  Call("fstat");
  std::memset(st, 0, sizeof(*st));
  if (fd == inode_fd_ && fd >= 0) {
    // What the diagnosis of a failed connect finds at the path.
    constexpr mode_t kTypes[] = {S_IFSOCK, S_IFREG, S_IFDIR, S_IFIFO,
                                 S_IFLNK,  S_IFCHR, S_IFBLK};
    const uint8_t pick = script_->Next() % 8;
    if (pick == 7) return Fail(EBADF);
    st->st_mode = kTypes[pick] | 0640;
    return 0;
  }
  FUZZ_CHECK(fd == kHandOffFd, absl::StrCat("fstat of fd ", fd));
  switch (script_->Next() % 4) {
    case 1:
      st->st_mode = S_IFIFO | 0600;
      return 0;
    case 2:
      st->st_mode = S_IFREG | 0600;
      return 0;
    case 3:
      return Fail(EBADF);
    default:
      st->st_mode = S_IFSOCK | 0777;
      return 0;
  }
}

ssize_t ScriptedSyscalls::Send(int fd, const void* buf, size_t len, int flags) {
  Call("send");
  CheckSocket(fd, "send");
  FUZZ_CHECK(target_.kind == TargetKind::kVsockMux, "send on a non-mux target");
  FUZZ_CHECK(flags & MSG_NOSIGNAL, "send without MSG_NOSIGNAL (SIGPIPE)");
  FUZZ_CHECK(len > 0, "send of 0 bytes");
  FUZZ_CHECK(sent_.size() < command_.size(),
             "send after the whole command was sent");
  const std::string bytes(static_cast<const char*>(buf), len);
  FUZZ_CHECK(command_.compare(sent_.size(), std::string::npos, bytes) == 0,
             "send of " + Shown(bytes) + " after " + Shown(sent_) +
                 ": not the rest of " + Shown(command_));
  const uint8_t b = script_->Next();
  size_t n = len;
  switch (b % 8) {
    case 1:
      n = 1 + (b >> 3) % len;  // A short write.
      break;
    case 2:
      return Fail(EINTR);
    case 3:
      return Fail(EAGAIN);
    case 4:
      return Fail(EPIPE);
    case 5:
      return Fail(ECONNRESET);
    case 6:
      return Fail(ENOBUFS);
    default:
      break;
  }
  sent_ += bytes.substr(0, n);
  return static_cast<ssize_t>(n);
}

ssize_t ScriptedSyscalls::Recv(int fd, void* buf, size_t len, int flags) {
  Call("recv");
  CheckSocket(fd, "recv");
  FUZZ_CHECK(target_.kind == TargetKind::kVsockMux, "recv on a non-mux target");
  FUZZ_CHECK(len > 0 && len <= 4096, absl::StrCat("recv of ", len, " bytes"));
  FUZZ_CHECK((flags & ~(MSG_PEEK | MSG_DONTWAIT)) == 0,
             absl::StrCat("recv flags ", flags));
  FUZZ_CHECK((flags & MSG_DONTWAIT) || (socket_flags_ & O_NONBLOCK),
             "a blocking recv");
  const uint8_t b = script_->Next();
  switch (b % 16) {
    case 12:
      return Fail(ENOMEM);
    case 13:
      // Beyond the kernel: a recv of bytes just peeked cannot return 0 (the
      // connector defends against it: "peeked bytes vanished").
      if (!(flags & MSG_PEEK)) return 0;
      return Fail(EINTR);
    case 14:
      return Fail(EINTR);
    case 15:
      return Fail((flags & MSG_PEEK) ? EAGAIN : EINTR);
    default:
      break;
  }
  const size_t available = delivered_ - consumed_;
  if (available == 0) {
    if (delivered_ == incoming_.size() && end_ == PeerEnd::kEof) return 0;
    if (delivered_ == incoming_.size() && end_ == PeerEnd::kReset) {
      return Fail(ECONNRESET);
    }
    return Fail(EAGAIN);
  }
  const size_t n = std::min(len, available);
  std::memcpy(buf, incoming_.data() + consumed_, n);
  if (!(flags & MSG_PEEK)) consumed_ += n;
  return static_cast<ssize_t>(n);
}

ssize_t ScriptedSyscalls::SendMsg(int fd, const struct msghdr* msg, int flags) {
  Call("sendmsg");
  FUZZ_CHECK(fd == kHandOffFd, absl::StrCat("sendmsg on fd ", fd));
  FUZZ_CHECK(flags & MSG_NOSIGNAL, "sendmsg without MSG_NOSIGNAL (SIGPIPE)");
  // stdout is ssh's: blocking or not is its choice, so only MSG_DONTWAIT keeps
  // the hand-off within --timeout.
  FUZZ_CHECK(flags & MSG_DONTWAIT, "a blocking sendmsg on ssh's socket");
  // ssh wants exactly one data byte and one SCM_RIGHTS fd.
  FUZZ_CHECK(msg->msg_iovlen == 1 && msg->msg_iov[0].iov_len == 1,
             "sendmsg must carry exactly one data byte");
  const struct cmsghdr* cmsg = CMSG_FIRSTHDR(msg);
  FUZZ_CHECK(cmsg != nullptr && cmsg->cmsg_level == SOL_SOCKET &&
                 cmsg->cmsg_type == SCM_RIGHTS &&
                 cmsg->cmsg_len == CMSG_LEN(sizeof(int)) &&
                 CMSG_NXTHDR(const_cast<struct msghdr*>(msg),
                             const_cast<struct cmsghdr*>(cmsg)) == nullptr,
             "sendmsg must carry one SCM_RIGHTS fd");
  int passed = -1;
  std::memcpy(&passed, CMSG_DATA(cmsg), sizeof(passed));
  CheckSocket(passed, "sendmsg SCM_RIGHTS");
  switch (script_->Next() % 16) {
    case 1:
      return Fail(EINTR);
    case 2:
    case 3:
      return Fail(EAGAIN);
    case 4:
      return Fail(ENOTSOCK);
    case 5:
      return Fail(EPIPE);
    case 6:
      return Fail(ECONNRESET);
    case 7:
      return Fail(ENOBUFS);
    case 8:
      return Fail(EBADF);
    case 9:
      // Beyond the kernel: sendmsg of 1 byte on a stream socket never returns
      // 0 (the connector defends against it rather than spin).
      return 0;
    default:
      handoff_fd_sent_ = passed;
      return 1;
  }
}

int ScriptedSyscalls::Poll(struct pollfd* fds, nfds_t nfds, int timeout_ms) {
  Call("poll");
  FUZZ_CHECK(timeout_ms >= 0, "poll without a timeout blocks forever");
  FUZZ_CHECK(now_ms_ + timeout_ms <= deadline_ms_,
             absl::StrCat("poll for ", timeout_ms, "ms at ",
                          deadline_ms_ - now_ms_, "ms before the deadline"));
  if (nfds == 0) {
    // A sleep.
    const uint8_t b = script_->Next();
    const int64_t delay = static_cast<int64_t>(b >> 3) * 53;
    if (b % 8 == 1) {
      Advance(delay, timeout_ms);
      return Fail(EINTR);
    }
    Advance(timeout_ms, timeout_ms);
    return 0;
  }
  FUZZ_CHECK(nfds == 1 && fds != nullptr, "poll of several fds");
  struct pollfd& p = fds[0];
  p.revents = 0;
  if (p.fd == kHandOffFd) {
    FUZZ_CHECK(p.events == POLLOUT, "poll of stdout for other than POLLOUT");
  } else {
    CheckSocket(p.fd, "poll");
    FUZZ_CHECK(p.events == POLLIN || p.events == POLLOUT,
               absl::StrCat("poll events ", p.events));
  }
  if (p.events == POLLIN && ReadableNow()) {
    // A real poll returns at once when data (or EOF) is queued.
    p.revents = POLLIN;
    if (delivered_ == incoming_.size() && end_ != PeerEnd::kSilent) {
      p.revents |= POLLHUP;
    }
    return 1;
  }
  // One decision: what happens while the connector waits, and when.
  const uint8_t b = script_->Next();
  const int64_t delay = static_cast<int64_t>(b >> 3) * 53;
  switch (b % 8) {
    case 0:  // Nothing happens: the full timeout passes.
      Advance(timeout_ms, timeout_ms);
      return 0;
    case 1:
      Advance(delay, timeout_ms);
      // The largest delay stands for a failing poll instead.
      return Fail(b == 0xf9 ? ENOMEM : EINTR);
    default:
      break;
  }
  if (p.events == POLLOUT) {
    Advance(delay, timeout_ms);
    p.revents = POLLOUT;
    return 1;
  }
  // POLLIN: a piece of the reply (or the end) arrives after `delay`.
  if (delivered_ == incoming_.size()) {
    // Everything arrived and the peer is silent: nothing more will come.
    Advance(timeout_ms, timeout_ms);
    return 0;
  }
  if (delay > timeout_ms) {
    Advance(timeout_ms, timeout_ms);
    return 0;
  }
  Advance(delay, timeout_ms);
  const size_t piece = b % 8 == 7 ? incoming_.size() : 1 + script_->Next() % 16;
  delivered_ = std::min(incoming_.size(), delivered_ + piece);
  p.revents = POLLIN;
  if (delivered_ == incoming_.size() && end_ != PeerEnd::kSilent) {
    p.revents |= POLLHUP;
  }
  return 1;
}

int64_t ScriptedSyscalls::NowMs() { return now_ms_; }

ssize_t ScriptedSyscalls::Read(int fd, void*, size_t) {
  FUZZ_CHECK(false, absl::StrCat("unexpected read(", fd,
                                 "): not modelled by ScriptedSyscalls"));
}

ssize_t ScriptedSyscalls::Write(int fd, const void*, size_t) {
  FUZZ_CHECK(false, absl::StrCat("unexpected write(", fd,
                                 "): not modelled by ScriptedSyscalls"));
}

ssize_t ScriptedSyscalls::Splice(int fd_in, int fd_out, size_t, unsigned int) {
  FUZZ_CHECK(false, absl::StrCat("unexpected splice(", fd_in, ", ", fd_out,
                                 "): not modelled by ScriptedSyscalls"));
}

int ScriptedSyscalls::Pipe2(int*, int) {
  FUZZ_CHECK(false, "unexpected pipe2: not modelled by ScriptedSyscalls");
}

int ScriptedSyscalls::Shutdown(int fd, int) {
  FUZZ_CHECK(false, absl::StrCat("unexpected shutdown(", fd,
                                 "): not modelled by ScriptedSyscalls"));
}

}  // namespace fuzz
}  // namespace ssh_proxy
