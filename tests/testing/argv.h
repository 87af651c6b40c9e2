// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// The argument vector of a program that a test or benchmark starts.

#ifndef SSH_PROXY_TESTS_TESTING_ARGV_H_
#define SSH_PROXY_TESTS_TESTING_ARGV_H_

#include <string>
#include <vector>

namespace ssh_proxy {

// Argv is `binary`, then `args`, as the null-terminated array that execve and
// posix_spawn take. It owns the strings the array points into, so data() stays
// valid, without allocating, in a forked child.
class Argv {
 public:
  Argv(const std::string& binary, const std::vector<std::string>& args)
      : strings_{binary} {
    strings_.insert(strings_.end(), args.begin(), args.end());
    for (std::string& s : strings_) pointers_.push_back(s.data());
    pointers_.push_back(nullptr);
  }
  Argv(const Argv&) = delete;
  Argv& operator=(const Argv&) = delete;

  char** data() { return pointers_.data(); }
  // The i-th string (0 is the binary).
  const std::string& operator[](size_t i) const { return strings_[i]; }

 private:
  std::vector<std::string> strings_;
  std::vector<char*> pointers_;
};

}  // namespace ssh_proxy

#endif  // SSH_PROXY_TESTS_TESTING_ARGV_H_
