// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors

#include "tests/testing/unix_socket.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>

namespace ssh_proxy {
namespace {

// BindHere binds `fd` to `name`, which fits sun_path, relative to the working
// directory. Returns bind's result.
int BindHere(int fd, const std::string& name) {
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, name.data(), name.size());
  return bind(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr));
}

}  // namespace

std::string MakeTempDir(const std::string& what) {
  std::string templ = "/tmp/ssh-proxy-" + what + "-XXXXXX";
  if (mkdtemp(templ.data()) == nullptr) return "";
  return templ;
}

int BindUnix(const std::string& path, int backlog) {
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  unlink(path.c_str());
  int rc;
  if (path.size() < sizeof(sockaddr_un::sun_path)) {
    rc = BindHere(fd, path);
  } else {
    // Too long for sun_path: bind the last component from inside its
    // directory, then go back.
    const size_t slash = path.rfind('/');
    const std::string dir = path.substr(0, slash);
    const int cwd = open(".", O_PATH | O_CLOEXEC);
    rc = cwd >= 0 && chdir(dir.c_str()) == 0
             ? BindHere(fd, path.substr(slash + 1))
             : -1;
    const int err = errno;
    if (cwd >= 0) {
      if (fchdir(cwd) != 0) rc = -1;
      close(cwd);
    }
    errno = err;
  }
  if (rc == 0 && backlog >= 0) rc = listen(fd, backlog);
  if (rc != 0) {
    const int err = errno;
    close(fd);
    errno = err;
    return -1;
  }
  return fd;
}

}  // namespace ssh_proxy
