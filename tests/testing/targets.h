// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// Targets for tests, one factory per kind, so that a test says what it means
// ("Unix("/run/x")") instead of filling a Target field by field. Like
// printing.h, they live in namespace ssh_proxy, so that tests use them
// unqualified.

#ifndef SSH_PROXY_TESTS_TESTING_TARGETS_H_
#define SSH_PROXY_TESTS_TESTING_TARGETS_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "src/address.h"

namespace ssh_proxy {

// MakeTarget returns a Target of `kind` with PORT `port`, its other fields empty.
inline Target MakeTarget(TargetKind kind, uint32_t port) {
  Target t;
  t.kind = kind;
  t.port = port;
  return t;
}

// Unix returns the unix target `path` (absolute) with PORT `port`.
inline Target Unix(absl::string_view path, uint32_t port = 22) {
  Target t = MakeTarget(TargetKind::kUnix, port);
  t.path = std::string(path);
  return t;
}

// Vsock returns the vsock target `cid` with PORT `port`.
inline Target Vsock(uint32_t cid, uint32_t port = 22) {
  Target t = MakeTarget(TargetKind::kVsock, port);
  t.cid = cid;
  return t;
}

// Mux returns the vsock-mux target `path` (absolute) with PORT `port`.
inline Target Mux(absl::string_view path, uint32_t port = 22) {
  Target t = Unix(path, port);
  t.kind = TargetKind::kVsockMux;
  return t;
}

// Machine returns the machine/ target `name` with PORT `port`.
inline Target Machine(absl::string_view name, uint32_t port = 22) {
  Target t = MakeTarget(TargetKind::kMachine, port);
  t.name = std::string(name);
  return t;
}

}  // namespace ssh_proxy

#endif  // SSH_PROXY_TESTS_TESTING_TARGETS_H_
