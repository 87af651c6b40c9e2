// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors

#include "src/connector.h"

#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "src/address.h"
#include "src/deadline.h"
#include "src/mux_reply.h"
#include "src/socket_io.h"
#include "src/syscalls.h"
#include "src/text.h"
#include "src/unique_fd.h"

namespace ssh_proxy {
namespace {

// SetBlocking clears O_NONBLOCK: ssh gets a socket as a plain connect() would
// have made it.
absl::Status SetBlocking(Syscalls& sys, int fd, absl::string_view name) {
  const int flags = sys.Fcntl(fd, F_GETFL, 0);
  if (flags < 0 || sys.Fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) {
    return ErrnoStatus(
        errno, absl::StrCat("cannot connect to ", name, ": fcntl(O_NONBLOCK)"));
  }
  return absl::OkStatus();
}

// ConnectThroughDirectory connects `fd` to `path`, whose last component fits
// sun_path, by making the socket's directory the working directory for the
// connect and restoring the old one after it: for long paths when /proc is
// not mounted. The process is single-threaded while it connects.
absl::Status ConnectThroughDirectory(Syscalls& sys, int fd,
                                     const std::string& path,
                                     const Deadline& deadline,
                                     absl::string_view name,
                                     int* failed_errno) {
  const size_t slash = path.rfind('/');  // The grammar's paths are absolute.
  const std::string dir = slash == 0 ? "/" : path.substr(0, slash);
  const std::string base = path.substr(slash + 1);
  struct sockaddr_un addr;
  if (base.empty() || base.size() >= sizeof(addr.sun_path)) {
    return absl::InternalError(absl::StrCat(
        "cannot connect to ", name, ": the path is ", path.size(),
        " bytes, longer than sun_path, and /proc is not mounted: connecting "
        "to it needs /proc/self/fd (or a last component under ",
        sizeof(addr.sun_path), " bytes)"));
  }
  UniqueFd old_cwd(&sys, sys.Open(".", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!old_cwd.valid()) {
    return ErrnoStatus(errno, absl::StrCat("cannot connect to ", name,
                                           ": open of the working directory"));
  }
  UniqueFd dir_fd(&sys,
                  sys.Open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd.valid()) {
    return ErrnoStatus(errno, absl::StrCat("cannot connect to ", name,
                                           ": open of its directory"));
  }
  if (sys.Fchdir(dir_fd.get()) != 0) {
    return ErrnoStatus(errno, absl::StrCat("cannot connect to ", name,
                                           ": fchdir to its directory"));
  }
  const socklen_t len = FillSunPath(&addr, base);
  absl::Status status = ConnectSocket(
      sys, fd, reinterpret_cast<struct sockaddr*>(&addr), len, deadline,
      absl::StrCat("cannot connect to ", name), failed_errno);
  if (sys.Fchdir(old_cwd.get()) != 0) {
    return ErrnoStatus(errno,
                       absl::StrCat("cannot connect to ", name,
                                    ": fchdir back to the working directory"));
  }
  return status;
}

// ConnectUnixPath connects an AF_UNIX socket to `path` (see Connect). When a
// connect itself fails, its errno is stored in `*failed_errno`.
absl::StatusOr<UniqueFd> ConnectUnixPath(const std::string& path,
                                         const Deadline& deadline,
                                         const ConnectOptions& options,
                                         Syscalls& sys, absl::string_view name,
                                         int* failed_errno) {
  UniqueFd fd(
      &sys, sys.Socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) {
    return ErrnoStatus(
        errno, absl::StrCat("cannot connect to ", name, ": socket(AF_UNIX)"));
  }
  // The grammar guarantees an absolute, non-empty path, so it can never become
  // an abstract one.
  struct sockaddr_un addr;
  if (path.size() < sizeof(addr.sun_path)) {
    const socklen_t len = FillSunPath(&addr, path);
    absl::Status status = ConnectSocket(
        sys, fd.get(), reinterpret_cast<struct sockaddr*>(&addr), len, deadline,
        absl::StrCat("cannot connect to ", name), failed_errno);
    if (!status.ok()) return status;
    return fd;
  }
  // Too long for sun_path: open the socket inode with O_PATH and connect
  // through the magic link /proc/self/fd/N, which the kernel resolves to the
  // same inode at any path length.
  UniqueFd inode(&sys, sys.Open(path.c_str(), O_PATH | O_CLOEXEC));
  if (!inode.valid()) {
    // Reported as a short path's connect would report it.
    *failed_errno = errno;
    return ErrnoStatus(*failed_errno, absl::StrCat("cannot connect to ", name,
                                                   ": open(O_PATH)"));
  }
  const std::string proc = absl::StrCat("/proc/self/fd/", inode.get());
  options.Log(absl::StrCat("path is ", path.size(),
                           " bytes, longer than sun_path: connecting via ",
                           proc));
  const socklen_t len = FillSunPath(&addr, proc);
  absl::Status status = ConnectSocket(
      sys, fd.get(), reinterpret_cast<struct sockaddr*>(&addr), len, deadline,
      absl::StrCat("cannot connect to ", name), failed_errno);
  if (status.ok()) return fd;
  // The O_PATH open just found the socket, so ENOENT here means the magic link
  // is missing (/proc not mounted), not the socket: never report a live socket
  // as missing.
  if (status.code() != absl::StatusCode::kNotFound) return status;
  options.Log(absl::StrCat(proc,
                           " does not exist (/proc not mounted?): "
                           "connecting through the socket's directory"));
  *failed_errno = 0;
  status = ConnectThroughDirectory(sys, fd.get(), path, deadline, name,
                                   failed_errno);
  if (!status.ok()) return status;
  return fd;
}

// FileTypeName names the type of a file that is not a socket ("a regular
// file"), or returns "" for a socket.
absl::string_view FileTypeName(mode_t mode) {
  if (S_ISSOCK(mode)) return "";
  if (S_ISREG(mode)) return "a regular file";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISLNK(mode)) return "a symlink";
  return "not a socket";
}

// StatPath opens `path` with O_PATH (plus `extra_flags`) and fstats it: the
// two calls the connect stage may make (sandbox.h), where stat(2) is not.
// Returns 0, or -1 with errno set.
int StatPath(Syscalls& sys, const std::string& path, int extra_flags,
             struct stat* st) {
  UniqueFd fd(&sys, sys.Open(path.c_str(), O_PATH | O_CLOEXEC | extra_flags));
  if (!fd.valid()) return -1;
  return sys.Fstat(fd.get(), st);
}

// OwnerText is " (owner uid U, gid G, mode 0MMM)", for a permission hint.
std::string OwnerText(const struct stat& st) {
  const unsigned mode = st.st_mode & 07777;
  const std::string special = (mode >> 9) != 0 ? absl::StrCat(mode >> 9) : "";
  return absl::StrCat(" (owner uid ", st.st_uid, ", gid ", st.st_gid,
                      ", mode 0", special, (mode >> 6) & 7, (mode >> 3) & 7,
                      mode & 7, ")");
}

// WhatIsThere returns, for a unix `path` whose connect failed with
// ECONNREFUSED or ENOENT, what is at `path` when that explains the failure
// better than the errno: "/x is a regular file, not a socket", "/x is a
// symlink to a directory, not a socket", "/x is a symlink to a missing file".
// Returns "" when `path` is a socket (or a symlink to one) or does not exist.
std::string WhatIsThere(Syscalls& sys, const std::string& path) {
  struct stat st;
  if (StatPath(sys, path, O_NOFOLLOW, &st) != 0) return "";
  if (!S_ISLNK(st.st_mode)) {
    const absl::string_view type = FileTypeName(st.st_mode);
    if (type.empty()) return "";
    return absl::StrCat(EscapeForMessage(path), " is ", type, ", not a socket");
  }
  if (StatPath(sys, path, 0, &st) != 0) {
    const int err = errno;
    if (err == ENOENT) {
      return absl::StrCat(EscapeForMessage(path),
                          " is a symlink to a missing file");
    }
    return absl::StrCat(
        EscapeForMessage(path),
        " is a symlink that cannot be followed: ", ErrnoText(err));
  }
  const absl::string_view type = FileTypeName(st.st_mode);
  if (type.empty()) return "";
  return absl::StrCat(EscapeForMessage(path), " is a symlink to ", type,
                      ", not a socket");
}

// WhoDenies returns, for a unix `path` whose connect failed with EACCES, what
// denies it: the first directory on the way without search permission, or the
// socket itself (no write permission), with its owner and mode. Each prefix is
// opened with O_PATH, which needs search permission on the directories above
// it only. Returns "" if no prefix is denied (the cause is elsewhere, such as
// an LSM), or if the path is deeper than kMaxDiagnosedDepth directories: the
// walk costs three system calls a level, and a 4095-byte path can have 2047.
constexpr int kMaxDiagnosedDepth = 64;
std::string WhoDenies(Syscalls& sys, const std::string& path) {
  if (std::count(path.begin(), path.end(), '/') > kMaxDiagnosedDepth) {
    return "";
  }
  std::string parent = "/";
  size_t at = 1;
  for (;;) {
    const size_t slash = path.find('/', at);
    const std::string prefix =
        slash == std::string::npos ? path : path.substr(0, slash);
    struct stat st;
    if (StatPath(sys, prefix, 0, &st) != 0) {
      if (errno != EACCES) return "";
      struct stat parent_st;
      const std::string owner =
          StatPath(sys, parent, 0, &parent_st) == 0 ? OwnerText(parent_st) : "";
      return absl::StrCat("no search permission on the directory ",
                          EscapeForMessage(parent), owner);
    }
    if (slash == std::string::npos) {
      return absl::StrCat("no write permission on the socket ",
                          EscapeForMessage(path), OwnerText(st));
    }
    parent = prefix;
    at = slash + 1;
  }
}

// ConnectUnix is ConnectUnixPath with a diagnosis of the first-day failures: a
// path that is no socket (a file, a directory, a FIFO, a symlink to one), and
// a permission denied on the socket or on a directory on the way. The status
// code (so the exit code) stays the errno's.
absl::StatusOr<UniqueFd> ConnectUnix(const std::string& path,
                                     const Deadline& deadline,
                                     const ConnectOptions& options,
                                     Syscalls& sys, absl::string_view name) {
  int failed = 0;
  absl::StatusOr<UniqueFd> fd =
      ConnectUnixPath(path, deadline, options, sys, name, &failed);
  if (fd.ok()) return fd;
  std::string why;
  if (failed == ECONNREFUSED || failed == ENOENT) {
    why = WhatIsThere(sys, path);
  } else if (failed == EACCES) {
    const std::string who = WhoDenies(sys, path);
    if (!who.empty()) why = absl::StrCat("permission denied: ", who);
  }
  if (why.empty()) return fd.status();
  return absl::Status(fd.status().code(),
                      absl::StrCat("cannot connect to ", name, ": ", why));
}

absl::StatusOr<UniqueFd> ConnectVsock(const Target& target,
                                      const Deadline& deadline,
                                      const ConnectOptions& options,
                                      Syscalls& sys, absl::string_view name) {
  UniqueFd fd(&sys, sys.Socket(AF_VSOCK,
                               SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) {
    const int err = errno;
    if (err == EAFNOSUPPORT) {
      return absl::UnavailableError(absl::StrCat(
          "cannot connect to ", name, ": ", ErrnoText(err),
          "; this kernel has no AF_VSOCK (load vhost_vsock or vmw_vsock)"));
    }
    return ErrnoStatus(
        err, absl::StrCat("cannot connect to ", name, ": socket(AF_VSOCK)"));
  }
  // The kernel's own connect timeout (2 s by default) would cut a slow VM short
  // of --timeout.
  const int64_t remaining = deadline.RemainingMs();
  struct timeval tv;
  tv.tv_sec = remaining / 1000;
  tv.tv_usec = (remaining % 1000) * 1000;
  if (sys.SetSockOpt(fd.get(), AF_VSOCK, SO_VM_SOCKETS_CONNECT_TIMEOUT, &tv,
                     sizeof(tv)) != 0) {
    return ErrnoStatus(
        errno, absl::StrCat("cannot connect to ", name,
                            ": setsockopt(SO_VM_SOCKETS_CONNECT_TIMEOUT)"));
  }
  struct sockaddr_vm addr;
  std::memset(&addr, 0, sizeof(addr));
  addr.svm_family = AF_VSOCK;
  addr.svm_cid = target.cid;
  addr.svm_port = target.port;
  options.Log(absl::StrCat("connect timeout set to ", remaining, "ms"));
  absl::Status status = ConnectSocket(
      sys, fd.get(), reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr),
      deadline, absl::StrCat("cannot connect to ", name), nullptr);
  if (!status.ok()) return status;
  return fd;
}

// MuxHandshake sends "CONNECT <port>\n" and reads the reply exactly through its
// "\n".
absl::Status MuxHandshake(Syscalls& sys, int fd, const Target& target,
                          const Deadline& deadline,
                          const ConnectOptions& options,
                          absl::string_view name) {
  // Built from the validated u32, never from the text the user typed.
  const std::string command = absl::StrCat("CONNECT ", target.port, "\n");
  absl::Status sent =
      SendAll(sys, fd, command, deadline,
              absl::StrCat("cannot send CONNECT to the multiplexer of ", name),
              "the multiplexer");
  if (!sent.ok()) return sent;
  options.Log(absl::StrCat("sent CONNECT ", target.port));

  const std::string what =
      absl::StrCat("no reply from the multiplexer of ", name);
  MuxReplyParser parser;
  char buf[MuxReplyParser::kMaxReplyLength];
  for (;;) {
    absl::Status ready = WaitFor(sys, fd, POLLIN, deadline, what);
    if (!ready.ok()) {
      if (parser.received().empty()) return ready;
      // Show what did arrive, keeping the code: a timeout stays a timeout (75),
      // a failed poll an OS error (71).
      return absl::Status(ready.code(),
                          absl::StrCat(ready.message(), " (received ",
                                       Quoted(parser.received()), ")"));
    }
    // Peek, let the parser decide how many bytes belong to the reply, then
    // consume exactly those: the guest's first bytes (sshd's banner) often
    // share the segment and must stay for ssh.
    const size_t want = sizeof(buf) - parser.received().size();
    if (want == 0) {
      // Unreachable: the parser decides by kMaxReplyLength bytes. Never spin on
      // it.
      return absl::InternalError(absl::StrCat(what, ": reply parser stalled"));
    }
    ssize_t n = sys.Recv(fd, buf, want, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n == 0 || (n < 0 && errno == ECONNRESET)) {
      if (parser.received().empty()) {
        // The guest resets a connection its listener has no room for (a
        // burst beyond its listen backlog) exactly as one to a port with no
        // listener, and the multiplexer turns both into this EOF. A retry
        // short enough to keep a real refusal fast does not make bursts
        // reliable, and a long one makes every refusal slow (measured through
        // vhost-device-vsock: bench/README.md), so name both causes at once.
        return absl::UnavailableError(absl::StrCat(
            "cannot connect to ", name, ": nothing listening on guest port ",
            target.port, ", or its listen backlog is full",
            ": the multiplexer closed the connection without a reply"));
      }
      return absl::DataLossError(
          absl::StrCat("protocol error from the multiplexer of ", name,
                       ": connection closed in the middle of the reply ",
                       Quoted(parser.received())));
    }
    if (n < 0) return ErrnoStatus(errno, absl::StrCat(what, ": recv"));
    size_t consumed = 0;
    const MuxReplyParser::State state =
        parser.Feed(absl::string_view(buf, static_cast<size_t>(n)), &consumed);
    if (state == MuxReplyParser::State::kError) {
      const absl::string_view segment(buf, static_cast<size_t>(n));
      if (absl::StartsWith(segment, "SSH-")) {
        // vsock-mux/ pointed at an sshd's own socket: a first-day mistake.
        // Peek again for more of the banner than the reply's 14 bytes.
        char line[80];
        const ssize_t got =
            sys.Recv(fd, line, sizeof(line), MSG_PEEK | MSG_DONTWAIT);
        absl::string_view banner =
            got > n ? absl::string_view(line, static_cast<size_t>(got))
                    : segment;
        banner = banner.substr(0, banner.find_first_of("\r\n"));
        return absl::DataLossError(absl::StrCat(
            "protocol error from the multiplexer of ", name,
            ": it answered with an SSH banner (", Quoted(banner),
            "): this looks like an sshd, not a multiplexer (for an sshd on a "
            "UNIX socket, write unix/",
            EscapeForMessage(absl::string_view(target.path).substr(1)), ")"));
      }
      return absl::DataLossError(absl::StrCat(
          "protocol error from the multiplexer of ", name, ": ", parser.error(),
          " in reply ", Quoted(parser.received())));
    }
    // Consume what the parser took. These bytes were just peeked, so they are
    // queued: a short read here would mean another reader on our socket.
    size_t done = 0;
    while (done < consumed) {
      const ssize_t r = sys.Recv(fd, buf + done, consumed - done, MSG_DONTWAIT);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        return r == 0 ? absl::InternalError(absl::StrCat(
                            what, ": peeked bytes vanished from the socket"))
                      : ErrnoStatus(errno, absl::StrCat(what, ": recv"));
      }
      done += static_cast<size_t>(r);
    }
    if (state == MuxReplyParser::State::kOk) {
      options.Log(absl::StrCat("multiplexer replied OK ", parser.port()));
      return absl::OkStatus();
    }
  }
}

// OpenSocket makes the connected socket for `target`'s kind (before any
// handshake).
absl::StatusOr<UniqueFd> OpenSocket(const Target& target,
                                    const Deadline& deadline,
                                    const ConnectOptions& options,
                                    Syscalls& sys, absl::string_view name) {
  switch (target.kind) {
    case TargetKind::kUnix:
    case TargetKind::kVsockMux:
      return ConnectUnix(target.path, deadline, options, sys, name);
    case TargetKind::kVsock:
      return ConnectVsock(target, deadline, options, sys, name);
    case TargetKind::kMachine:
      // ResolveMachine (src/machine.h) turns it into one of the others first.
      return absl::InternalError(absl::StrCat(
          "cannot connect to ", name,
          ": a machine name must be resolved through systemd-machined first"));
  }
  // Not a TargetKind (the switch names every kind; -Werror=switch).
  return absl::InternalError(
      absl::StrCat("cannot connect to ", name, ": unknown kind of target"));
}

// IsLocalHost says whether `target` is this host's own sshd socket, which
// ".host" and "machine/.host" name.
bool IsLocalHost(const Target& target) {
  return target.kind == TargetKind::kUnix &&
         target.path == kLocalHostSocketPath;
}

// Where .host's socket comes from, for when it is not there.
constexpr absl::string_view kLocalHostHint =
    "this host's sshd listens there only through systemd's "
    "sshd-unix-local.socket (made by systemd-ssh-generator, systemd 256 and "
    "later; Debian 12 has 252)";

// What every "cannot pass the fd" error tells the user to do.
constexpr absl::string_view kHint =
    "ssh-proxy passes the connection back to ssh, so ssh_config needs "
    "\"ProxyUseFdpass yes\"";

}  // namespace

std::string TargetName(const Target& target) {
  const std::string host = EscapeForMessage(FormatHost(target));
  switch (target.kind) {
    case TargetKind::kUnix:
      if (IsLocalHost(target))
        return absl::StrCat(kLocalHostName, " (", host, ")");
      return host;
    case TargetKind::kMachine:
      return host;
    case TargetKind::kVsock:
    case TargetKind::kVsockMux:
      return absl::StrCat(host, " port ", target.port);
  }
  return host;  // Not a TargetKind: FormatHost made it "".
}

absl::StatusOr<UniqueFd> Connect(const Target& target,
                                 const ConnectOptions& options, Syscalls& sys) {
  const Deadline deadline = options.Budget(sys);
  const std::string name = TargetName(target);
  options.Log(absl::StrCat("connecting to ", name, " (timeout ",
                           deadline.TimeoutText(), ")"));
  absl::StatusOr<UniqueFd> fd =
      OpenSocket(target, deadline, options, sys, name);
  if (!fd.ok()) {
    const absl::StatusCode code = fd.status().code();
    if (IsLocalHost(target) && (code == absl::StatusCode::kNotFound ||
                                code == absl::StatusCode::kUnavailable)) {
      // The first thing a user of .host meets on a system without it.
      return absl::Status(
          code, absl::StrCat(fd.status().message(), "; ", kLocalHostHint));
    }
    return fd.status();
  }
  if (fd->get() <= STDERR_FILENO) {
    // One of fds 0-2 was closed when we started: our own output or ssh's
    // stdio would go into the connection. main() prevents it
    // (SanitizeStdFds); refuse rather than mix streams if that ever fails.
    return absl::InternalError(
        absl::StrCat("cannot connect to ", name, ": the connection got fd ",
                     fd->get(), ", a standard descriptor that was closed"));
  }
  options.Log("connected");
  if (options.after_connect) {
    absl::Status after = options.after_connect();
    if (!after.ok()) return after;
  }
  if (target.kind == TargetKind::kVsockMux) {
    absl::Status handshake =
        MuxHandshake(sys, fd->get(), target, deadline, options, name);
    if (!handshake.ok()) return handshake;
  }
  absl::Status blocking = SetBlocking(sys, fd->get(), name);
  if (!blocking.ok()) return blocking;
  return fd;
}

absl::Status CheckHandOffFd(int out_fd, const Target& target, Syscalls& sys) {
  const std::string what = absl::StrCat("cannot pass the connection to ",
                                        TargetName(target), " back to ssh: ");
  struct stat st;
  if (sys.Fstat(out_fd, &st) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        what, "stdout is not usable (", ErrnoText(errno), "); ", kHint));
  }
  if (!S_ISSOCK(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, "stdout is not a socket; ", kHint));
  }
  int domain = 0;
  socklen_t len = sizeof(domain);
  if (sys.GetSockOpt(out_fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0 ||
      domain != AF_UNIX) {
    return absl::FailedPreconditionError(absl::StrCat(
        what,
        "stdout is not a UNIX socket and cannot carry a file descriptor; ",
        kHint));
  }
  return absl::OkStatus();
}

absl::Status HandOff(int out_fd, int fd, const Target& target,
                     const ConnectOptions& options, Syscalls& sys) {
  const std::string what = absl::StrCat("cannot pass the connection to ",
                                        TargetName(target), " back to ssh");
  if (fd == out_fd) {
    return absl::InternalError(
        absl::StrCat(what, ": the connection is stdout itself"));
  }
  // ssh requires exactly one data byte (its value is not checked) and one
  // SCM_RIGHTS fd.
  char byte = '\0';
  struct iovec iov = {&byte, 1};
  union {
    struct cmsghdr align;
    char buf[CMSG_SPACE(sizeof(int))];
  } control;
  std::memset(&control, 0, sizeof(control));
  struct msghdr msg;
  std::memset(&msg, 0, sizeof(msg));
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.buf;
  msg.msg_controllen = sizeof(control.buf);
  struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));

  const Deadline deadline = options.Budget(sys);
  for (;;) {
    // MSG_DONTWAIT, not O_NONBLOCK: stdout's file status flags are shared with
    // ssh. A blocking sendmsg on a full socket nobody reads would never end.
    const ssize_t n = sys.SendMsg(out_fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n == 1) return absl::OkStatus();
    if (n >= 0) {
      // A stream socket never sends 0 of 1 byte; refuse to spin if it does.
      return absl::InternalError(absl::StrCat(what, ": sendmsg sent no byte"));
    }
    const int err = errno;
    if (err == EINTR) continue;
    if (err == EAGAIN) {
      absl::Status ready = WaitFor(sys, out_fd, POLLOUT, deadline, what);
      if (!ready.ok()) return ready;
      continue;
    }
    if (err == ENOTSOCK) {
      return absl::FailedPreconditionError(
          absl::StrCat(what, ": stdout is not a socket; ", kHint));
    }
    if (err == EPIPE || err == ECONNRESET) {
      return absl::UnavailableError(
          absl::StrCat(what, ": ", ErrnoText(err), " (ssh went away)"));
    }
    return ErrnoStatus(err, absl::StrCat(what, ": sendmsg"));
  }
}

}  // namespace ssh_proxy
