// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// Text shared by the grammar (address.h), the command line (cli.h), the
// connector and the machined resolver: strict decimal numbers, and bytes from
// outside shown in a one-line message. No sockets, no I/O.

#ifndef SSH_PROXY_SRC_TEXT_H_
#define SSH_PROXY_SRC_TEXT_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ssh_proxy {

// ParseU32 parses `text` as U32: non-empty ASCII digits only, no leading zero
// unless `text` is "0", value at most 4294967295. On success returns the
// value; on failure returns InvalidArgument whose message says which rule
// `text` broke, the first of: empty, a byte that is not a digit (and its
// offset), a leading zero, too large (exactly kU32TooLarge). The message does
// not name the field, so callers can prefix it.
absl::StatusOr<uint32_t> ParseU32(absl::string_view text);

// ParseU32's message for a value above UINT32_MAX; callers add the field's own
// range.
inline constexpr absl::string_view kU32TooLarge = "is larger than 4294967295";

// EscapeForMessage returns `bytes` with every byte outside 0x20..0x7e, and '"'
// and '\\', escaped C-style, so that hostile input stays on one printable line
// in an error message.
std::string EscapeForMessage(absl::string_view bytes);

// Quoted returns `bytes` escaped (EscapeForMessage) between double quotes. When
// `bytes` is longer than `max_bytes`, only its first `max_bytes` are shown, then
// `..." (N bytes)`: a hostile reply of 64 KiB stays a short line.
std::string Quoted(absl::string_view bytes, size_t max_bytes = SIZE_MAX);

}  // namespace ssh_proxy

#endif  // SSH_PROXY_SRC_TEXT_H_
