#include "src/relay.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "src/syscalls.h"
#include "src/unique_fd.h"

namespace ssh_proxy {
namespace {

// One pipe's default capacity: the most either direction holds at once.
constexpr size_t kChunk = 64 * 1024;

bool IsSocket(Syscalls& sys, int fd) {
  struct stat st;
  return sys.Fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

// One direction of the relay: src -> (pipe or buffer) -> dst.
class Pump {
 public:
  Pump(Syscalls& sys, const char* name, int src, int dst, bool dst_is_socket,
       uint64_t* counter)
      : sys_(sys),
        name_(name),
        src_(src),
        dst_(dst),
        dst_is_socket_(dst_is_socket),
        counter_(counter) {
    int fds[2];
    if (sys_.Pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0) {
      pipe_r_ = UniqueFd(&sys_, fds[0]);
      pipe_w_ = UniqueFd(&sys_, fds[1]);
    } else {
      SwitchToCopy();  // No pipe to spare (EMFILE): copying works without one.
    }
  }

  bool done() const { return done_; }
  // The fd and event to wait for before the next Step.
  struct pollfd PollFd() const {
    if (pending_ > 0) return {dst_, POLLOUT, 0};
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
    if (errno == ECONNRESET) {
      return absl::UnavailableError(absl::StrCat(
          "relay ", name_, ": the connection was reset: ", ErrnoText(errno)));
    }
    return absl::InternalError(
        absl::StrCat("relay ", name_, ": read: ", ErrnoText(errno)));
  }

  absl::Status Drain() {
    ssize_t n;
    if (use_splice_) {
      n = sys_.Splice(pipe_r_.get(), dst_, pending_,
                      SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (n < 0 && errno == EINVAL) {
        // dst cannot take a splice (O_APPEND file, terminal): take the bytes
        // back out of the pipe into the buffer (they fit: a pipe holds kChunk)
        // and copy from now on.
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
        return Drain();
      }
    } else {
      n = sys_.Write(dst_, buf_.get() + off_, pending_);
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
      done_ = true;
      return absl::OkStatus();
    }
    if (errno == ECONNRESET) {
      return absl::UnavailableError(absl::StrCat(
          "relay ", name_, ": the connection was reset: ", ErrnoText(errno)));
    }
    return absl::InternalError(
        absl::StrCat("relay ", name_, ": write: ", ErrnoText(errno)));
  }

  // Finish passes the end on: a half-close towards the remote, or EOF to our
  // reader.
  void Finish() {
    done_ = true;
    pipe_r_.reset();
    pipe_w_.reset();
    if (dst_is_socket_) {
      sys_.Shutdown(dst_, SHUT_WR);
    } else {
      sys_.Close(dst_);
    }
  }

  Syscalls& sys_;
  const char* const name_;
  const int src_;
  const int dst_;
  const bool dst_is_socket_;
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

absl::Status Relay(int in_fd, int out_fd, int sock, Syscalls& sys,
                   RelayStats* stats) {
  RelayStats local;
  if (stats == nullptr) stats = &local;
  // The socket is ours: make it non-blocking so that neither direction can
  // stall the other.
  const int flags = sys.Fcntl(sock, F_GETFL, 0);
  if (flags < 0 || sys.Fcntl(sock, F_SETFL, flags | O_NONBLOCK) < 0) {
    return absl::InternalError(
        absl::StrCat("relay: fcntl(O_NONBLOCK): ", ErrnoText(errno)));
  }
  Pump up(sys, "stdin -> socket", in_fd, sock, /*dst_is_socket=*/true,
          &stats->to_socket);
  Pump down(sys, "socket -> stdout", sock, out_fd, IsSocket(sys, out_fd),
            &stats->from_socket);
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
          absl::StrCat("relay: poll: ", ErrnoText(errno)));
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
