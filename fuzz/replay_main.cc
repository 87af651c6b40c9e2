// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// replay_main: a main() for builds without a fuzzing engine. It runs
// LLVMFuzzerTestOneInput once on every regular file found (recursively) in the
// files and directories named on the command line, so that a fuzz target
// doubles as an ordinary test that keeps every corpus entry, and so every past
// crash, fixed.
//
// Exits 0 after the last input. Exits 1 if an argument does not exist or if no
// input was found at all (a misconfigured test must not pass silently). A
// crash, an abort from a property check or a sanitizer report ends the process
// with that signal or sanitizer's exit code; the input is printed before it
// runs, so the log names the offender.

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int* argc,
                                                          char*** argv);

namespace {

// CollectFiles appends the regular files under `path` (or `path` itself) to
// `out`, sorted per directory so the order is stable. Returns false if `path`
// cannot be read.
bool CollectFiles(const std::string& path, std::vector<std::string>* out) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    std::fprintf(stderr, "replay: cannot stat %s: %s\n", path.c_str(),
                 std::strerror(errno));
    return false;
  }
  if (S_ISREG(st.st_mode)) {
    out->push_back(path);
    return true;
  }
  if (!S_ISDIR(st.st_mode)) return true;
  DIR* dir = opendir(path.c_str());
  if (dir == nullptr) {
    std::fprintf(stderr, "replay: cannot open %s: %s\n", path.c_str(),
                 std::strerror(errno));
    return false;
  }
  std::vector<std::string> names;
  while (struct dirent* entry = readdir(dir)) {
    const std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    names.push_back(name);
  }
  closedir(dir);
  std::sort(names.begin(), names.end());
  bool ok = true;
  for (const std::string& name : names) {
    ok = CollectFiles(path + "/" + name, out) && ok;
  }
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (LLVMFuzzerInitialize != nullptr) LLVMFuzzerInitialize(&argc, &argv);
  std::vector<std::string> files;
  bool ok = true;
  for (int i = 1; i < argc; ++i) ok = CollectFiles(argv[i], &files) && ok;
  if (!ok) return 1;
  if (files.empty()) {
    std::fprintf(stderr, "replay: no inputs found in the arguments\n");
    return 1;
  }
  for (const std::string& file : files) {
    std::ifstream in(file, std::ios::binary);
    const std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                                  std::istreambuf_iterator<char>());
    if (!in.eof() && in.fail()) {
      std::fprintf(stderr, "replay: cannot read %s\n", file.c_str());
      return 1;
    }
    std::fprintf(stderr, "replay: %s (%zu bytes)\n", file.c_str(),
                 bytes.size());
    // A fresh heap copy of exactly the input's size, as libFuzzer does, so
    // that ASan catches a read past the end.
    std::unique_ptr<uint8_t[]> copy(new uint8_t[bytes.size()]);
    std::copy(bytes.begin(), bytes.end(), copy.get());
    LLVMFuzzerTestOneInput(copy.get(), bytes.size());
  }
  std::fprintf(stderr, "replay: %zu inputs, all passed\n", files.size());
  return 0;
}
