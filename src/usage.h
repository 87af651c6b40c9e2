// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// The --help text: the command line (cli.h) and the HOST forms of the grammar
// (address.h), with an ssh_config sample that names the running binary.

#ifndef SSH_PROXY_SRC_USAGE_H_
#define SSH_PROXY_SRC_USAGE_H_

#include <string>

#include "absl/strings/string_view.h"

namespace ssh_proxy {

// Where tools/install.sh puts the binary by default.
inline constexpr char kDefaultInstalledPath[] = "/usr/local/libexec/ssh-proxy";

// UsageText returns the --help text (ends with "\n"). Its ssh_config sample's
// ProxyCommand names `self_path` (the path ssh-proxy runs from), quoted for
// the shell that ssh runs it with when it holds anything but letters, digits
// and "/._+-"; a `self_path` that is empty or holds a control byte is replaced
// by kDefaultInstalledPath.
std::string UsageText(absl::string_view self_path = kDefaultInstalledPath);

}  // namespace ssh_proxy

#endif  // SSH_PROXY_SRC_USAGE_H_
