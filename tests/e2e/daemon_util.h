// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// Small pieces shared by the end-to-end test daemons (mux_emulator, unix_inetd)
// and helpers: flag parsing, AF_UNIX listen/connect (long paths included), a
// fork-per-connection accept loop with signal handling, child reaping and a
// lifetime watchdog. Test-only code: plain POSIX, and src/text.h's escaping.
// Never opens anything but AF_UNIX sockets.

#ifndef SSH_PROXY_TESTS_E2E_DAEMON_UTIL_H_
#define SSH_PROXY_TESTS_E2E_DAEMON_UTIL_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace e2e {

// SetProgramName sets the prefix of Log() lines.
void SetProgramName(const char* argv0);

// Log prints "<program>: <message>\n" to stderr, in one write.
void Log(const std::string& message);

// Die logs `message` and exits with status 2.
[[noreturn]] void Die(const std::string& message);

// UsageError logs `error` (unless it is empty), prints `usage` to stderr and
// exits with status 2.
[[noreturn]] void UsageError(const char* usage, const std::string& error);

// ParseOptions calls `option` on each of argv[1..] up to a "--" or the end,
// and returns the index of the first argument after the "--" (argc when there
// is none). `option` deals with an argument it does not know (UsageError).
int ParseOptions(int argc, char** argv,
                 const std::function<void(const char* arg)>& option);

// ParseFlag matches `arg` against "--<name>=VALUE". On a match stores VALUE in
// *value and returns true; otherwise returns false and leaves *value alone.
bool ParseFlag(const char* arg, const char* name, std::string* value);

// ParseSeconds parses a positive decimal number of seconds (at most one day).
// On success stores it in *seconds and returns true; on failure returns false.
bool ParseSeconds(const std::string& text, int* seconds);

// ParseDecimalU32 parses non-empty decimal digits with a value of at most
// 4294967295. On success stores it in *value and returns true; on failure
// returns false.
bool ParseDecimalU32(const std::string& text, uint32_t* value);

// CEscape returns `data` with backslash, double quote and every byte outside
// 0x20..0x7e escaped as in C (\n, \r, \t, \\, \", otherwise \xHH): the
// escaping of ssh-proxy's own messages (src/text.h's EscapeForMessage).
std::string CEscape(const std::string& data);

// MonotonicMs returns CLOCK_MONOTONIC in milliseconds.
int64_t MonotonicMs();

// RemainingMs returns the milliseconds until `deadline_ms` (MonotonicMs()
// time), at least 0 and at most INT32_MAX, in the form poll() takes.
int RemainingMs(int64_t deadline_ms);

// WriteAll writes all of `data` to `fd` (blocking or not: waits with poll on
// EAGAIN), retrying on EINTR, giving up at `deadline_ms`. Returns true on
// success; false with errno set on failure (ETIMEDOUT at the deadline).
bool WriteAll(int fd, const void* data, size_t size, int64_t deadline_ms);

// ListenUnix binds a SOCK_STREAM AF_UNIX socket to `path` and listens. A stale
// socket at `path` is removed first; any other existing file is an error. Paths
// too long for sockaddr_un go through the parent directory's /proc/self/fd/N
// link. Returns the CLOEXEC listening fd, or -1 with *error set.
int ListenUnix(const std::string& path, std::string* error);

// ConnectUnix connects a SOCK_STREAM AF_UNIX socket to `path` (long paths as
// for ListenUnix). Returns the CLOEXEC connected fd, or -1 with errno set.
int ConnectUnix(const std::string& path);

// WriteReadyFile creates `path` (atomically, through a rename) containing our
// pid. Dies on failure.
void WriteReadyFile(const std::string& path);

// PrepareChild is called first in every forked child: restores default
// dispositions of the signals the loop handles, unblocks them, closes the
// loop's own fds and asks for SIGTERM when the parent dies (so nothing outlives
// the daemon).
void PrepareChild();

// RunAcceptLoop accepts connections on `listen_fd` until SIGTERM/SIGINT or
// `lifetime_s` seconds. For each connection it forks; the child calls
// PrepareChild() and then `serve(conn_fd, deadline_ms)`, and exits with its
// return value. The parent closes the connection, reaps children as they exit,
// and at the end sends SIGTERM to the children still running (SIGKILL after 2
// s), closes `listen_fd` and unlinks `socket_path`. Returns the daemon's exit
// status (0 on SIGTERM, SIGINT or lifetime expiry).
int RunAcceptLoop(
    int listen_fd, const std::string& socket_path, int lifetime_s,
    const std::function<int(int conn_fd, int64_t deadline_ms)>& serve);

}  // namespace e2e

#endif  // SSH_PROXY_TESTS_E2E_DAEMON_UTIL_H_
