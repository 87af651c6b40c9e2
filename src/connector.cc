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
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "src/address.h"
#include "src/deadline.h"
#include "src/mux_reply.h"
#include "src/syscalls.h"
#include "src/unique_fd.h"

namespace ssh_proxy {
namespace {

// ErrnoStatus maps a failed system call to a status: nothing there (69),
// timeout (75), or an OS error (71).
absl::Status ErrnoStatus(int err, absl::string_view what) {
  const std::string message = absl::StrCat(what, ": ", ErrnoText(err));
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return absl::NotFoundError(message);
    case ECONNREFUSED:
    case ECONNRESET:
    case EHOSTUNREACH:
    case ENETUNREACH:
    case ENODEV:
      return absl::UnavailableError(message);
    case ETIMEDOUT:
      return absl::DeadlineExceededError(message);
    case EMFILE:
    case ENFILE:
    case ENOBUFS:
    case ENOMEM:
      return absl::ResourceExhaustedError(message);
    default:
      return absl::InternalError(message);
  }
}

// The budget of `options` (see ConnectOptions).
Deadline BudgetOf(Syscalls& sys, const ConnectOptions& options) {
  return Deadline(sys, options.start_ms, options.timeout_ms);
}

void Log(const ConnectOptions& options, absl::string_view line) {
  if (options.log) options.log(line);
}

// SleepMs waits `ms` milliseconds (or less if interrupted) on the injected
// poll.
void SleepMs(Syscalls& sys, int ms) { sys.Poll(nullptr, 0, ms); }

// ConnectSocket connects the non-blocking socket `fd` to `addr` within the
// deadline.
absl::Status ConnectSocket(Syscalls& sys, int fd, const struct sockaddr* addr,
                           socklen_t len, const Deadline& deadline,
                           absl::string_view name) {
  const std::string what = absl::StrCat("cannot connect to ", name);
  for (;;) {
    if (sys.Connect(fd, addr, len) == 0) return absl::OkStatus();
    const int err = errno;
    if (err == EAGAIN) {
      // AF_UNIX: the listener's backlog is full. Retry until it drains or time
      // is up.
      const int remaining = deadline.RemainingMs();
      if (remaining == 0) {
        return absl::DeadlineExceededError(
            absl::StrCat(what, ": the listener's backlog stayed full for ",
                         deadline.TimeoutText()));
      }
      SleepMs(sys, std::min(remaining, 5));
      continue;
    }
    if (err != EINPROGRESS && err != EALREADY && err != EINTR) {
      return ErrnoStatus(err, what);
    }
    // In progress (vsock), or interrupted: the connect goes on; wait for its
    // result.
    absl::Status ready = WaitFor(sys, fd, POLLOUT, deadline, what);
    if (!ready.ok()) return ready;
    int so_error = 0;
    socklen_t so_len = sizeof(so_error);
    if (sys.GetSockOpt(fd, SOL_SOCKET, SO_ERROR, &so_error, &so_len) != 0) {
      return ErrnoStatus(errno, absl::StrCat(what, ": getsockopt(SO_ERROR)"));
    }
    if (so_error == 0) return absl::OkStatus();
    return ErrnoStatus(so_error, what);
  }
}

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

// FillSunPath sets `addr` to the AF_UNIX address `path` (which must fit).
socklen_t FillSunPath(struct sockaddr_un* addr, absl::string_view path) {
  std::memset(addr, 0, sizeof(*addr));
  addr->sun_family = AF_UNIX;
  std::memcpy(addr->sun_path, path.data(), path.size());
  return sizeof(*addr);
}

// ConnectThroughDirectory connects `fd` to `path`, whose last component fits
// sun_path, by making the socket's directory the working directory for the
// connect and restoring the old one after it: for long paths when /proc is
// not mounted. The process is single-threaded while it connects.
absl::Status ConnectThroughDirectory(Syscalls& sys, int fd,
                                     const std::string& path,
                                     const Deadline& deadline,
                                     absl::string_view name) {
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
      sys, fd, reinterpret_cast<struct sockaddr*>(&addr), len, deadline, name);
  if (sys.Fchdir(old_cwd.get()) != 0) {
    return ErrnoStatus(errno,
                       absl::StrCat("cannot connect to ", name,
                                    ": fchdir back to the working directory"));
  }
  return status;
}

absl::StatusOr<UniqueFd> ConnectUnix(const std::string& path,
                                     const Deadline& deadline,
                                     const ConnectOptions& options,
                                     Syscalls& sys, absl::string_view name) {
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
    absl::Status status =
        ConnectSocket(sys, fd.get(), reinterpret_cast<struct sockaddr*>(&addr),
                      len, deadline, name);
    if (!status.ok()) return status;
    return fd;
  }
  // Too long for sun_path: open the socket inode with O_PATH and connect
  // through the magic link /proc/self/fd/N, which the kernel resolves to the
  // same inode at any path length.
  UniqueFd inode(&sys, sys.Open(path.c_str(), O_PATH | O_CLOEXEC));
  if (!inode.valid()) {
    return ErrnoStatus(errno, absl::StrCat("cannot open ", name, " (O_PATH)"));
  }
  const std::string proc = absl::StrCat("/proc/self/fd/", inode.get());
  Log(options,
      absl::StrCat("path is ", path.size(),
                   " bytes, longer than sun_path: connecting via ", proc));
  const socklen_t len = FillSunPath(&addr, proc);
  absl::Status status =
      ConnectSocket(sys, fd.get(), reinterpret_cast<struct sockaddr*>(&addr),
                    len, deadline, name);
  if (status.ok()) return fd;
  // The O_PATH open just found the socket, so ENOENT here means the magic link
  // is missing (/proc not mounted), not the socket: never report a live socket
  // as missing.
  if (status.code() != absl::StatusCode::kNotFound) return status;
  Log(options, absl::StrCat(proc,
                            " does not exist (/proc not mounted?): "
                            "connecting through the socket's directory"));
  status = ConnectThroughDirectory(sys, fd.get(), path, deadline, name);
  if (!status.ok()) return status;
  return fd;
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
  Log(options, absl::StrCat("connect timeout set to ", remaining, "ms"));
  absl::Status status =
      ConnectSocket(sys, fd.get(), reinterpret_cast<struct sockaddr*>(&addr),
                    sizeof(addr), deadline, name);
  if (!status.ok()) return status;
  return fd;
}

// SendAll writes `data` to the non-blocking socket `fd`, through short writes
// and EINTR/EAGAIN.
absl::Status SendAll(Syscalls& sys, int fd, absl::string_view data,
                     const Deadline& deadline, absl::string_view what) {
  while (!data.empty()) {
    const ssize_t n =
        sys.Send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN) {
      absl::Status ready = WaitFor(sys, fd, POLLOUT, deadline, what);
      if (!ready.ok()) return ready;
      continue;
    }
    if (errno == EPIPE) errno = ECONNRESET;  // The multiplexer closed on us.
    return ErrnoStatus(errno, what);
  }
  return absl::OkStatus();
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
              absl::StrCat("cannot send CONNECT to the multiplexer of ", name));
  if (!sent.ok()) return sent;
  Log(options, absl::StrCat("sent CONNECT ", target.port));

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
      return absl::Status(
          ready.code(),
          absl::StrCat(ready.message(), " (received \"",
                       EscapeForMessage(parser.received()), "\")"));
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
                       ": connection closed in the middle of the reply \"",
                       EscapeForMessage(parser.received()), "\""));
    }
    if (n < 0) return ErrnoStatus(errno, absl::StrCat(what, ": recv"));
    size_t consumed = 0;
    const MuxReplyParser::State state =
        parser.Feed(absl::string_view(buf, static_cast<size_t>(n)), &consumed);
    if (state == MuxReplyParser::State::kError) {
      return absl::DataLossError(absl::StrCat(
          "protocol error from the multiplexer of ", name, ": ", parser.error(),
          " in reply \"", EscapeForMessage(parser.received()), "\""));
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
      Log(options, absl::StrCat("multiplexer replied OK ", parser.port()));
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

// What every "cannot pass the fd" error tells the user to do.
constexpr absl::string_view kHint =
    "ssh-proxy passes the connection back to ssh, so ssh_config needs "
    "\"ProxyUseFdpass yes\"";

}  // namespace

std::string TargetName(const Target& target) {
  const std::string host = EscapeForMessage(FormatHost(target));
  switch (target.kind) {
    case TargetKind::kUnix:
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
  const Deadline deadline = BudgetOf(sys, options);
  const std::string name = TargetName(target);
  Log(options, absl::StrCat("connecting to ", name, " (timeout ",
                            deadline.TimeoutText(), ")"));
  absl::StatusOr<UniqueFd> fd =
      OpenSocket(target, deadline, options, sys, name);
  if (!fd.ok()) return fd.status();
  if (fd->get() <= STDERR_FILENO) {
    // One of fds 0-2 was closed when we started: our own output or ssh's
    // stdio would go into the connection. main() prevents it
    // (SanitizeStdFds); refuse rather than mix streams if that ever fails.
    return absl::InternalError(
        absl::StrCat("cannot connect to ", name, ": the connection got fd ",
                     fd->get(), ", a standard descriptor that was closed"));
  }
  Log(options, "connected");
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

  const Deadline deadline = BudgetOf(sys, options);
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
