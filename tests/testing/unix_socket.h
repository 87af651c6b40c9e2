// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// AF_UNIX stand-ins for the tests and benchmarks: a short scratch directory to
// put sockets in, and a bound (and listening) socket at a path of any length.

#ifndef SSH_PROXY_TESTS_TESTING_UNIX_SOCKET_H_
#define SSH_PROXY_TESTS_TESTING_UNIX_SOCKET_H_

#include <string>

namespace ssh_proxy {

// MakeTempDir creates a new, empty directory /tmp/ssh-proxy-<what>-XXXXXX and
// returns its path; "" (errno set) if it cannot. Under /tmp rather than
// $TEST_TMPDIR, which under Bazel is too long for a socket path in it to fit
// sun_path (the long-path tests make long paths on purpose).
std::string MakeTempDir(const std::string& what);

// BindUnix makes a SOCK_STREAM AF_UNIX socket (close-on-exec), removes any
// file at `path`, binds the socket there (a path too long for sun_path from
// inside its directory, which changes the working directory for that moment)
// and, if `backlog` >= 0, listens. A socket only bound refuses connections.
// Returns the socket; -1 with errno set on failure (nothing left open).
int BindUnix(const std::string& path, int backlog);

}  // namespace ssh_proxy

#endif  // SSH_PROXY_TESTS_TESTING_UNIX_SOCKET_H_
