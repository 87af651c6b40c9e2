// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors

#include "src/relay.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "src/syscalls.h"
#include "src/unique_fd.h"

namespace ssh_proxy {
namespace {

// One pipe's default capacity: the most either direction holds at once.
constexpr size_t kChunk = 64 * 1024;

// How a direction's destination can be written without blocking, given that
// only `sock` is ours to make non-blocking.
enum class Sink {
  kNonBlocking,  // Never blocks: our socket, our own descriptor of a
                 // terminal, a regular file or a block device.
  kSocket,       // A socket shared with ssh: send with MSG_DONTWAIT.
  kPipe,         // A pipe or FIFO shared with ssh: splice with
                 // SPLICE_F_NONBLOCK, or poll and write at most PIPE_BUF.
};

// One end of a direction as the relay found it.
struct End {
  int fd = -1;
  bool is_socket = false;
  Sink sink = Sink::kNonBlocking;
};

// Classify finds out how to use a descriptor shared with ssh. A terminal (or
// other character device) gets a non-blocking descriptor of its own, opened
// through /proc/self/fd, held in `reopened`; failing that it is treated like
// a pipe: polled, and written at most PIPE_BUF bytes at a time.
End Classify(Syscalls& sys, int fd, bool for_writing, UniqueFd* reopened) {
  End end;
  end.fd = fd;
  struct stat st;
  if (sys.Fstat(fd, &st) != 0) {
    end.sink = Sink::kPipe;  // Unknown: the careful way.
    return end;
  }
  if (S_ISSOCK(st.st_mode)) {
    end.is_socket = true;
    end.sink = Sink::kSocket;
  } else if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)) {
    end.sink = Sink::kNonBlocking;
  } else if (S_ISCHR(st.st_mode) && for_writing) {
    *reopened =
        UniqueFd(&sys, sys.Open(absl::StrCat("/proc/self/fd/", fd).c_str(),
                                O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
    if (reopened->valid()) {
      end.fd = reopened->get();
      end.sink = Sink::kNonBlocking;
    } else {
      end.sink = Sink::kPipe;
    }
  } else {
    end.sink = Sink::kPipe;
  }
  return end;
}

// The pipe a direction splices through.
struct SplicePipe {
  UniqueFd r;
  UniqueFd w;
};

// MakePipe returns the pipe for a direction whose destination is `sink`, or
// none (the direction then copies).
SplicePipe MakePipe(Syscalls& sys, Sink sink) {
  SplicePipe pipe;
  // splice into a socket blocks if the socket does (SPLICE_F_NONBLOCK covers
  // only the pipe), and a shared socket's flags are ssh's: copy with
  // send(MSG_DONTWAIT) instead.
  if (sink == Sink::kSocket) return pipe;
  int fds[2];
  // No pipe to spare (EMFILE): copying works without one.
  if (sys.Pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return pipe;
  pipe.r = UniqueFd(&sys, fds[0]);
  pipe.w = UniqueFd(&sys, fds[1]);
  return pipe;
}

// One direction of the relay: src -> (pipe or buffer) -> dst.
// One direction of the relay, as Pump takes it.
struct Direction {
  std::string name;  // For messages: "stdin -> unix/run/x".
  int src = -1;
  bool src_is_shared_socket = false;  // A socket ssh shares with us.
  End dst;                            // As Classify found it.
  // The descriptor to close at the end if dst is not a socket (the one we
  // were given, not our own reopened one).
  int dst_fd_to_close = -1;
  uint64_t* counter = nullptr;  // Bytes moved; the caller's.
  SplicePipe pipe;  // The pipe to splice through; without one, it copies.
};

class Pump {
 public:
  Pump(Syscalls& sys, Direction d)
      : sys_(sys),
        name_(std::move(d.name)),
        src_(d.src),
        src_is_shared_socket_(d.src_is_shared_socket),
        dst_(d.dst),
        dst_fd_to_close_(d.dst_fd_to_close),
        counter_(d.counter),
        pipe_r_(std::move(d.pipe.r)),
        pipe_w_(std::move(d.pipe.w)) {
    if (!pipe_r_.valid()) SwitchToCopy();
  }

  bool done() const { return done_; }
  // The fd and event to wait for before the next Step.
  struct pollfd PollFd() const {
    if (pending_ > 0) return {dst_.fd, POLLOUT, 0};
    return {src_, POLLIN, 0};
  }

  // Step moves what it can without blocking. Returns OK (the direction may now
  // be done) or the error that ends the relay.
  absl::Status Step() {
    if (pending_ == 0 && !src_eof_) {
      absl::Status filled = Fill();
      if (!filled.ok()) return filled;
    }
    if (pending_ > 0) {
      // Most of the time dst can take the bytes at once: try before polling for
      // it.
      absl::Status drained = Drain();
      if (!drained.ok()) return drained;
    }
    if (src_eof_ && pending_ == 0 && !done_) Finish();
    return absl::OkStatus();
  }

 private:
  void SwitchToCopy() {
    use_splice_ = false;
    if (!buf_) buf_ = std::make_unique<char[]>(kChunk);
  }

  // Fill takes what src has, into the pipe or the buffer. Called only once
  // poll said src is readable (or hung up), so a read cannot block.
  absl::Status Fill() {
    ssize_t n;
    if (use_splice_) {
      n = sys_.Splice(src_, pipe_w_.get(), kChunk,
                      SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (n < 0 && errno == EINVAL) {
        // src cannot splice (a terminal, say): copy instead, from now on.
        SwitchToCopy();
        return Fill();
      }
    } else if (src_is_shared_socket_) {
      n = sys_.Recv(src_, buf_.get(), kChunk, MSG_DONTWAIT);
      off_ = 0;
    } else {
      n = sys_.Read(src_, buf_.get(), kChunk);
      off_ = 0;
    }
    if (n > 0) {
      pending_ = static_cast<size_t>(n);
      return absl::OkStatus();
    }
    if (n == 0) {
      src_eof_ = true;
      return absl::OkStatus();
    }
    if (errno == EAGAIN || errno == EINTR) return absl::OkStatus();
    return Failure("read");
  }

  // RecoverFromPipe takes the pending bytes back out of the pipe into the
  // buffer (they fit: a pipe holds kChunk) so that copying can go on.
  absl::Status RecoverFromPipe() {
    SwitchToCopy();
    size_t back = 0;
    while (back < pending_) {
      const ssize_t r =
          sys_.Read(pipe_r_.get(), buf_.get() + back, pending_ - back);
      if (r > 0) {
        back += static_cast<size_t>(r);
      } else if (r < 0 && (errno == EINTR || errno == EAGAIN)) {
        continue;  // The bytes are in the pipe: they will come.
      } else {
        return absl::InternalError(absl::StrCat(
            "relay ", name_, ": cannot recover bytes from its pipe"));
      }
    }
    off_ = 0;
    return absl::OkStatus();
  }

  // Write writes from the buffer to dst without blocking.
  ssize_t Write() {
    switch (dst_.sink) {
      case Sink::kSocket:
        return sys_.Send(dst_.fd, buf_.get() + off_, pending_,
                         MSG_DONTWAIT | MSG_NOSIGNAL);
      case Sink::kPipe: {
        // A blocking pipe takes a write of up to PIPE_BUF bytes at once when
        // poll says it has room; a larger one would wait for the reader.
        struct pollfd pfd = {dst_.fd, POLLOUT, 0};
        const int ready = sys_.Poll(&pfd, 1, 0);
        if (ready <= 0) {
          if (ready == 0) errno = EAGAIN;
          return -1;
        }
        if ((pfd.revents & POLLOUT) == 0) {
          // POLLERR or POLLHUP: the write reports why.
          return sys_.Write(dst_.fd, buf_.get() + off_, 1);
        }
        return sys_.Write(dst_.fd, buf_.get() + off_,
                          std::min<size_t>(pending_, PIPE_BUF));
      }
      case Sink::kNonBlocking:
        return sys_.Write(dst_.fd, buf_.get() + off_, pending_);
    }
    return -1;  // Unreachable: every Sink returns above.
  }

  absl::Status Drain() {
    ssize_t n;
    if (use_splice_) {
      // Non-blocking both ways: dst is a pipe (SPLICE_F_NONBLOCK covers it)
      // or never blocks.
      n = sys_.Splice(pipe_r_.get(), dst_.fd, pending_,
                      SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (n < 0 && errno == EINVAL) {
        // dst cannot take a splice (O_APPEND file, terminal): copy from now on.
        absl::Status recovered = RecoverFromPipe();
        if (!recovered.ok()) return recovered;
        return Drain();
      }
    } else {
      n = Write();
    }
    if (n > 0) {
      pending_ -= static_cast<size_t>(n);
      off_ += static_cast<size_t>(n);
      *counter_ += static_cast<uint64_t>(n);
      return absl::OkStatus();
    }
    if (n == 0 || errno == EAGAIN || errno == EINTR) return absl::OkStatus();
    if (errno == EPIPE) {
      // The reader on dst has gone (our stdout's reader, or the remote end that
      // closed): nothing more can be delivered this way, which ends this
      // direction, not the relay.
      pending_ = 0;
      src_eof_ = true;
      Finish();
      return absl::OkStatus();
    }
    return Failure("write");
  }

  absl::Status Failure(absl::string_view call) const {
    const int err = errno;
    if (err == ECONNRESET) {
      return absl::UnavailableError(absl::StrCat(
          "relay ", name_, ": the connection was reset: ", ErrnoText(err)));
    }
    return absl::InternalError(
        absl::StrCat("relay ", name_, ": ", call, ": ", ErrnoText(err)));
  }

  // Finish passes the end on: a half-close towards the remote, or EOF to our
  // reader.
  void Finish() {
    done_ = true;
    pipe_r_.reset();
    pipe_w_.reset();
    if (dst_.is_socket) {
      sys_.Shutdown(dst_.fd, SHUT_WR);
    } else {
      sys_.Close(dst_fd_to_close_);
    }
  }

  Syscalls& sys_;
  const std::string name_;
  const int src_;
  const bool src_is_shared_socket_;
  const End dst_;
  const int dst_fd_to_close_;
  uint64_t* const counter_;
  UniqueFd pipe_r_;
  UniqueFd pipe_w_;
  bool use_splice_ = true;
  std::unique_ptr<char[]> buf_;
  size_t off_ = 0;
  size_t pending_ = 0;
  bool src_eof_ = false;
  bool done_ = false;
};

}  // namespace

struct RelayEnds::State {
  int in_fd = -1;
  int out_fd = -1;
  End in;
  End out;
  UniqueFd reopened_out;  // Our own descriptor of a terminal out_fd.
  SplicePipe up_pipe;     // in_fd -> sock (sock never blocks: always tried).
  SplicePipe down_pipe;   // sock -> out_fd.
};

RelayEnds::RelayEnds() = default;
RelayEnds::RelayEnds(std::unique_ptr<State> state) : state_(std::move(state)) {}
RelayEnds::RelayEnds(RelayEnds&&) noexcept = default;
RelayEnds& RelayEnds::operator=(RelayEnds&&) noexcept = default;
RelayEnds::~RelayEnds() = default;

RelayEnds PrepareRelay(int in_fd, int out_fd, Syscalls& sys) {
  auto state = std::make_unique<RelayEnds::State>();
  state->in_fd = in_fd;
  state->out_fd = out_fd;
  state->in = Classify(sys, in_fd, /*for_writing=*/false, nullptr);
  state->out =
      Classify(sys, out_fd, /*for_writing=*/true, &state->reopened_out);
  state->up_pipe = MakePipe(sys, Sink::kNonBlocking);
  state->down_pipe = MakePipe(sys, state->out.sink);
  return RelayEnds(std::move(state));
}

absl::Status Relay(int in_fd, int out_fd, int sock, absl::string_view name,
                   Syscalls& sys, RelayStats* stats) {
  if (sock == in_fd || sock == out_fd) {
    // Refused before anything is opened or read.
    return absl::InternalError(
        absl::StrCat("relay ", name, ": the connection is fd ", sock,
                     ", which is also ", sock == in_fd ? "stdin" : "stdout"));
  }
  return Relay(PrepareRelay(in_fd, out_fd, sys), sock, name, sys, stats);
}

absl::Status Relay(RelayEnds ends, int sock, absl::string_view name,
                   Syscalls& sys, RelayStats* stats) {
  RelayStats local;
  if (stats == nullptr) stats = &local;
  RelayEnds::State& e = *ends.state();
  const int in_fd = e.in_fd;
  const int out_fd = e.out_fd;
  if (sock == in_fd || sock == out_fd) {
    // The connection would be copied onto itself (a standard descriptor was
    // closed when the connection was made).
    return absl::InternalError(
        absl::StrCat("relay ", name, ": the connection is fd ", sock,
                     ", which is also ", sock == in_fd ? "stdin" : "stdout"));
  }
  // The socket is ours: make it non-blocking so that neither direction can
  // stall the other.
  const int flags = sys.Fcntl(sock, F_GETFL, 0);
  if (flags < 0 || sys.Fcntl(sock, F_SETFL, flags | O_NONBLOCK) < 0) {
    return absl::InternalError(absl::StrCat(
        "relay ", name, ": fcntl(O_NONBLOCK): ", ErrnoText(errno)));
  }
  End to_sock;
  to_sock.fd = sock;
  to_sock.is_socket = true;
  to_sock.sink = Sink::kNonBlocking;
  Direction to_target;
  to_target.name = absl::StrCat("stdin -> ", name);
  to_target.src = in_fd;
  to_target.src_is_shared_socket = e.in.is_socket;
  to_target.dst = to_sock;
  to_target.dst_fd_to_close = sock;
  to_target.counter = &stats->to_socket;
  to_target.pipe = std::move(e.up_pipe);
  Direction from_target;
  from_target.name = absl::StrCat(name, " -> stdout");
  from_target.src = sock;
  from_target.dst = e.out;
  from_target.dst_fd_to_close = out_fd;
  from_target.counter = &stats->from_socket;
  from_target.pipe = std::move(e.down_pipe);
  Pump up(sys, std::move(to_target));
  Pump down(sys, std::move(from_target));
  Pump* const pumps[2] = {&up, &down};
  while (!up.done() || !down.done()) {
    struct pollfd fds[2];
    Pump* owners[2];
    nfds_t n = 0;
    for (Pump* p : pumps) {
      if (p->done()) continue;
      fds[n] = p->PollFd();
      owners[n++] = p;
    }
    // No timeout: a session may be idle for hours; the peers bound its life.
    const int ready = sys.Poll(fds, n, -1);
    if (ready < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(
          absl::StrCat("relay ", name, ": poll: ", ErrnoText(errno)));
    }
    for (nfds_t i = 0; i < n; ++i) {
      if (fds[i].revents == 0) continue;
      absl::Status status = owners[i]->Step();
      if (!status.ok()) return status;
    }
  }
  return absl::OkStatus();
}

}  // namespace ssh_proxy
