// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors

/* preload_canary: a shared library that announces itself if it is ever loaded into ssh-proxy.
 * environment_test.py names it in LD_PRELOAD and LD_AUDIT: a dynamic ssh-proxy would load it and
 * exit 99 with "HIJACKED" on stderr; the static ssh-proxy has no dynamic loader and must not.
 * In any other program (the dynamic test harness, env) it does nothing. */

#include <string.h>
#include <unistd.h>

static int is_ssh_proxy(void) {
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n <= 0) return 0;
  exe[n] = '\0';
  const char* base = strrchr(exe, '/');
  base = base ? base + 1 : exe;
  return strcmp(base, "ssh-proxy") == 0;
}

__attribute__((constructor)) static void canary(void) {
  if (!is_ssh_proxy()) return;
  static const char kMsg[] = "HIJACKED: preload_canary was loaded into ssh-proxy\n";
  (void)!write(2, kMsg, sizeof(kMsg) - 1);
  _exit(99);
}

/* Makes the library acceptable as an LD_AUDIT module too (rtld-audit(7)). */
unsigned int la_version(unsigned int version);
unsigned int la_version(unsigned int version) { return version; }
