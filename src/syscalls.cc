#include "src/syscalls.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <string>

namespace ssh_proxy {
namespace {

class KernelSyscalls final : public Syscalls {
 public:
  int Socket(int domain, int type, int protocol) override {
    return ::socket(domain, type, protocol);
  }
  int Connect(int fd, const struct sockaddr* addr, socklen_t len) override {
    return ::connect(fd, addr, len);
  }
  int SetSockOpt(int fd, int level, int name, const void* value,
                 socklen_t len) override {
    return ::setsockopt(fd, level, name, value, len);
  }
  int GetSockOpt(int fd, int level, int name, void* value,
                 socklen_t* len) override {
    return ::getsockopt(fd, level, name, value, len);
  }
  int Open(const char* path, int flags) override { return ::open(path, flags); }
  int Fchdir(int fd) override { return ::fchdir(fd); }
  int Close(int fd) override { return ::close(fd); }
  int Fcntl(int fd, int cmd, int arg) override { return ::fcntl(fd, cmd, arg); }
  int Fstat(int fd, struct stat* st) override { return ::fstat(fd, st); }
  ssize_t Send(int fd, const void* buf, size_t len, int flags) override {
    return ::send(fd, buf, len, flags);
  }
  ssize_t Recv(int fd, void* buf, size_t len, int flags) override {
    return ::recv(fd, buf, len, flags);
  }
  ssize_t SendMsg(int fd, const struct msghdr* msg, int flags) override {
    return ::sendmsg(fd, msg, flags);
  }
  int Poll(struct pollfd* fds, nfds_t nfds, int timeout_ms) override {
    return ::poll(fds, nfds, timeout_ms);
  }
  ssize_t Read(int fd, void* buf, size_t len) override {
    return ::read(fd, buf, len);
  }
  ssize_t Write(int fd, const void* buf, size_t len) override {
    return ::write(fd, buf, len);
  }
  ssize_t Splice(int fd_in, int fd_out, size_t len,
                 unsigned int flags) override {
    return ::splice(fd_in, nullptr, fd_out, nullptr, len, flags);
  }
  int Pipe2(int fds[2], int flags) override { return ::pipe2(fds, flags); }
  int Shutdown(int fd, int how) override { return ::shutdown(fd, how); }
  int64_t NowMs() override {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
  }
};

}  // namespace

std::string ErrnoText(int err) {
  const char* name = strerrorname_np(err);
  std::string text = strerror(err);
  text += " (";
  text += name != nullptr ? name : "errno " + std::to_string(err);
  text += ")";
  return text;
}

Syscalls& RealSyscalls() {
  // Constructed on first use and never destroyed: no static initialiser or
  // destructor runs.
  static KernelSyscalls* const kernel = new KernelSyscalls();
  return *kernel;
}

}  // namespace ssh_proxy
