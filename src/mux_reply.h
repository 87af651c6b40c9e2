// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// The reply of a Firecracker / cloud-hypervisor vsock multiplexer to `CONNECT
// <port>\n`, parsed incrementally: bytes in, need-more / ok(port) / error out.
// A pure parser: no sockets, no clock.
//
// Accepted reply: "OK " U32 "\n", where U32 is decimal (no sign, no leading
// zero except "0" itself, at most 4294967295). The whole reply is at most
// kMaxReplyLength (14) bytes: "OK 1073741824\n" (Firecracker, cloud-hypervisor)
// and "OK 22\n" (vhost-device-vsock) both pass.

#ifndef SSH_PROXY_SRC_MUX_REPLY_H_
#define SSH_PROXY_SRC_MUX_REPLY_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace ssh_proxy {

class MuxReplyParser {
 public:
  static constexpr size_t kMaxReplyLength = 14;  // "OK 4294967295\n"

  enum class State { kNeedMore, kOk, kError };

  // Feed offers the next `data` bytes of the stream. It consumes bytes one at a
  // time up to and including the byte that decides the verdict: the reply's
  // '\n' (kOk) or the first byte that breaks the grammar (kError); it never
  // consumes a byte after that, so the guest's first bytes stay with the
  // caller. Sets *consumed (if non-null) to the number of bytes of `data`
  // consumed and returns the state. Once the state is kOk or kError, further
  // calls consume nothing and return it again. The verdict and the total
  // consumed do not depend on how the stream is split.
  State Feed(absl::string_view data, size_t* consumed);

  State state() const { return state_; }
  // The port of an accepted reply; 0 unless state() is kOk.
  uint32_t port() const {
    return state_ == State::kOk ? static_cast<uint32_t>(value_) : 0;
  }
  // The bytes consumed so far (at most kMaxReplyLength), for error messages.
  absl::string_view received() const { return absl::string_view(buf_, len_); }
  // What was wrong, e.g. `expected "OK " at byte 0`; empty unless state() is
  // kError.
  const std::string& error() const { return error_; }

 private:
  State state_ = State::kNeedMore;
  char buf_[kMaxReplyLength] = {};
  size_t len_ = 0;
  uint64_t value_ = 0;
  std::string error_;
};

}  // namespace ssh_proxy

#endif  // SSH_PROXY_SRC_MUX_REPLY_H_
