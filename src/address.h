// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// The address grammar: the two arguments ssh passes to a ProxyCommand (HOST
// from %n, PORT from %p) turned into a typed target, or a precise error. Knows
// nothing of sockets.
//
// Strict on purpose: one spelling per target, so that one target is one
// known_hosts entry.
//
//   HOST := "unix" SEP PATH | "vsock" SEP CID | "vsock-mux" SEP PATH
//           | "machine" SEP NAME | ".host"
//   SEP  := "/" | "%"   ("%" because scp and rsync read "/" in a host as a
//                        local path)
//   PATH := R, the text after SEP; the target path is "/" + R. R is non-empty,
//           does not start with "/", has no empty, "." or ".." component, no
//           trailing "/", no byte below 0x21 and no 0x7f; bytes >= 0x80 are
//           allowed (UTF-8). "/" + R is at most 4095 bytes.
//   CID  := U32 at most 4294967294 | "hypervisor" (0) | "local" (1)
//           | "host" (2)
//   NAME := a machine name as systemd-machined checks it (machine-varlink.c,
//           lookup_machine_by_name: hostname_is_valid(name,
//           VALID_HOSTNAME_DOT_HOST), src/basic/hostname-util.c): 1..64 bytes
//           (HOST_NAME_MAX) of [A-Za-z0-9.-]; labels separated by single "."
//           (no leading or trailing ".", no ".."); no label starts or ends
//           with "-" ("a-b" and "a--b" are fine). Or ".host", which is the
//           same target as ".host" itself. ("_" is not allowed.)
//   PORT := U32 in 1..4294967294, checked for every kind (unix ignores it).
//   U32  := decimal digits: no sign, no whitespace, no leading zero except
//           "0" itself.
//
// ".host" is the local host's sshd: the same target as
// "unix/run/ssh-unix-local/socket". "machine/NAME" is parsed here and resolved
// to one of the other kinds by asking systemd-machined (src/machine.h).

#ifndef SSH_PROXY_SRC_ADDRESS_H_
#define SSH_PROXY_SRC_ADDRESS_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "src/text.h"

namespace ssh_proxy {

// The kinds of target. A new kind is a row of kKinds in address.cc (its prefix,
// what follows SEP, its --help line) and the case that each switch on
// TargetKind then asks for: those switches have no default, and //:copts.bzl
// makes a missing case a build error.
enum class TargetKind {
  kUnix,      // AF_UNIX stream socket at `path`.
  kVsock,     // AF_VSOCK (cid, port).
  kVsockMux,  // Firecracker/cloud-hypervisor multiplexer at `path`, guest
              // `port`.
  kMachine,   // A machine systemd-machined knows as `name`; resolved to one
              // of the kinds above before connecting (src/machine.h).
};

struct Target {
  TargetKind kind = TargetKind::kUnix;
  // Absolute path; set for kUnix and kVsockMux, empty for kVsock.
  std::string path;
  uint32_t cid = 0;   // Set for kVsock, 0 otherwise.
  uint32_t port = 0;  // The validated PORT, for every kind (unix ignores it).
  // The machine name; set for kMachine (never ".host"), empty otherwise.
  std::string name;

  friend bool operator==(const Target& a, const Target& b) {
    return a.kind == b.kind && a.path == b.path && a.cid == b.cid &&
           a.port == b.port && a.name == b.name;
  }
  friend bool operator!=(const Target& a, const Target& b) { return !(a == b); }
};

// ".host": this host's own sshd, at kLocalHostSocketPath.
inline constexpr char kLocalHostName[] = ".host";
// The path `.host` stands for.
inline constexpr char kLocalHostSocketPath[] = "/run/ssh-unix-local/socket";
// The longest machine name in bytes (HOST_NAME_MAX on Linux).
inline constexpr size_t kMaxMachineNameLength = 64;
// The longest accepted target path in bytes (PATH_MAX less its NUL).
inline constexpr size_t kMaxPathLength = 4095;
// VMADDR_CID_ANY and VMADDR_PORT_ANY: wildcards that cannot be connected to.
inline constexpr uint32_t kVsockCidAny = 0xFFFFFFFFu;
inline constexpr uint32_t kVsockPortAny = 0xFFFFFFFFu;

// ParsePort parses PORT. On success returns a value in 1..4294967294. On
// failure returns InvalidArgument with a one-line message that starts with
// `PORT "<escaped text>"` and says which rule was broken.
absl::StatusOr<uint32_t> ParsePort(absl::string_view port);

// ParseTarget parses HOST and PORT. On success returns the target (port set for
// every kind). On failure returns InvalidArgument with a one-line, printable
// message that starts with `HOST "<escaped text>"` or `PORT "<escaped text>"`,
// names the broken rule, and where the fix is unambiguous suggests the
// canonical spelling ("did you mean unix/run/x?"). HOST is checked first.
absl::StatusOr<Target> ParseTarget(absl::string_view host,
                                   absl::string_view port);

// ParseHostOfKinds parses `host` as HOST for a place that allows only the
// kinds in `allowed` (".host" counts as kMachine: it is machined's name for
// the host), with `port` as the target's PORT. On success returns the target.
// On failure returns InvalidArgument whose message is written to follow the
// value, which the caller shows its own way (no `HOST "..."` prefix): "is not
// allowed there: it must be a unix/, vsock/ or vsock-mux/ address" for a kind
// outside `allowed`, else "is not an address ssh-proxy accepts: " and the
// rule the grammar says was broken.
absl::StatusOr<Target> ParseHostOfKinds(absl::string_view host, uint32_t port,
                                        absl::Span<const TargetKind> allowed);

// FormatHost returns the canonical HOST string of `target` (always with "/" as
// SEP, CIDs as numbers, ".host" as its unix/ form). For any target returned by
// ParseTarget(h, p), ParseTarget(FormatHost(t), p) returns the same target. A
// kind outside TargetKind formats as "", which no HOST is.
std::string FormatHost(const Target& target);

// DescribeTarget returns the one line (without "\n") that --dry-run prints:
//   "unix path=/run/x.sock", "vsock cid=4711 port=22", "vsock-mux
//   path=/run/vm.sock port=22"; "machine name=web1 port=22" for a machine not
//   yet resolved (--dry-run prints the resolved target instead); "" for a kind
//   outside TargetKind.
std::string DescribeTarget(const Target& target);

// HostHelp returns the HOST part of --help: a line for each form
// ("  unix/PATH         AF_UNIX stream socket at /PATH\n"), one for ".host",
// and one about "%".
std::string HostHelp();

// SshConfigHostPatterns returns the ssh_config Host patterns that match every
// HOST form: "unix/* unix%* vsock/* vsock%* vsock-mux/* vsock-mux%* machine/*
// machine%* .host".
std::string SshConfigHostPatterns();

// CheckMachineName checks `name` against NAME's rules (see the grammar above)
// other than ".host". Returns OK, or InvalidArgument whose message (without
// a HOST prefix) names the first rule broken, reading from the left, with the
// length checked last as systemd does.
absl::Status CheckMachineName(absl::string_view name);

}  // namespace ssh_proxy

#endif  // SSH_PROXY_SRC_ADDRESS_H_
