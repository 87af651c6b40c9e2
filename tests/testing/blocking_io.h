// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// Whole writes and reads to EOF on blocking descriptors, for the peers that
// tests and fuzzers put on the other end of the relay and the connector.

#ifndef SSH_PROXY_TESTS_TESTING_BLOCKING_IO_H_
#define SSH_PROXY_TESTS_TESTING_BLOCKING_IO_H_

#include <string>

#include "absl/strings/string_view.h"

namespace ssh_proxy {
namespace testing {

// WriteAll writes all of `data` to the blocking fd `fd`: send with
// MSG_NOSIGNAL on a socket, write on anything else (a pipe). Returns true once
// everything is written; false at the first error or zero-length write.
bool WriteAll(int fd, absl::string_view data);

// ReadToEof reads the blocking fd `fd` until EOF or an error and returns what
// came before it.
std::string ReadToEof(int fd);

}  // namespace testing
}  // namespace ssh_proxy

#endif  // SSH_PROXY_TESTS_TESTING_BLOCKING_IO_H_
