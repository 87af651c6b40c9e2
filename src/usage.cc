// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors

#include "src/usage.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "src/address.h"

namespace ssh_proxy {
namespace {

// ProxyCommandPath returns `path` as a ProxyCommand's first word (see
// UsageText).
std::string ProxyCommandPath(absl::string_view path) {
  bool plain = !path.empty();
  for (const char c : path) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return kDefaultInstalledPath;
    plain = plain && (absl::ascii_isalnum(u) || c == '/' || c == '.' ||
                      c == '_' || c == '+' || c == '-');
  }
  if (path.empty()) return kDefaultInstalledPath;
  if (plain) return std::string(path);
  // Single quotes for the shell; a quote inside becomes '\''.
  return absl::StrCat("'", absl::StrReplaceAll(path, {{"'", "'\\''"}}), "'");
}

}  // namespace

std::string UsageText(absl::string_view self_path) {
  // The HOST forms come from the grammar's own table (address.cc).
  return absl::StrCat(
      R"(Usage: ssh-proxy [OPTIONS] HOST PORT

Connects to HOST and hands the connected socket to ssh (ProxyUseFdpass yes),
or, when stdout is not a socket, relays stdin and stdout to it.

HOST:
)",
      HostHelp(),
      R"(PORT: the vsock port, 1..4294967294 (checked for every form, unused by unix).

Options:
  -h, --help            show this help and exit
      --version         show the version and exit
      --dry-run         print the parsed target and exit without connecting
                        (machine/NAME: the target systemd-machined gives)
  -v, --verbose         print each step on stderr
      --fdpass          always pass the connection to ssh (ProxyUseFdpass yes)
      --relay           always relay stdin/stdout to the connection instead
                        (default: pass it if stdout is a UNIX socket, else relay)
      --timeout=DURATION  give up if asking systemd-machined, connecting and
                        handing the connection over take longer than DURATION
                        (500ms, 5s, 2m, 1h; default 10s, at most 1h)
  --                    end of options

ssh_config:
  Host )",
      SshConfigHostPatterns(), R"(
      ProxyCommand )",
      ProxyCommandPath(self_path), R"( '%n' %p
      ProxyUseFdpass yes
      CheckHostIP no

machine/NAME asks systemd-machined (user scope, then system scope) for the
machine's vSockCid, else its sshAddress, else an nspawn container's socket.

Exit status: 0 ok, 64 bad usage/HOST/PORT, 69 unavailable, 71 OS error,
75 timeout, 76 protocol error.
)");
}

}  // namespace ssh_proxy
