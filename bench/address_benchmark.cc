// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// Benchmarks of ParseTarget: one per address kind, and unix paths of growing
// length (10, 100, 1000, 4000 bytes) to show that the cost is linear in the
// path.

#include <cstddef>
#include <string>

#include "benchmark/benchmark.h"
#include "src/address.h"

namespace ssh_proxy {
namespace {

void Parse(benchmark::State& state, const std::string& host,
           const std::string& port) {
  for (auto _ : state) {
    auto target = ParseTarget(host, port);
    benchmark::DoNotOptimize(target);
    if (!target.ok()) state.SkipWithError("refused");
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(host.size() + port.size()));
}

// One per address kind: BM_Parse/Unix, BM_Parse/Vsock, ...
void BM_Parse(benchmark::State& state, const char* host) {
  Parse(state, host, "22");
}
BENCHMARK_CAPTURE(BM_Parse, Unix, "unix/run/x.sock");
BENCHMARK_CAPTURE(BM_Parse, Vsock, "vsock/4711");
BENCHMARK_CAPTURE(BM_Parse, VsockName, "vsock/host");
BENCHMARK_CAPTURE(BM_Parse, VsockMux, "vsock-mux/run/vm.sock");
BENCHMARK_CAPTURE(BM_Parse, LocalHost, ".host");

// The full target path ("/" + R) is state.range(0) bytes, in 50-byte
// components.
void BM_ParseUnixPathLength(benchmark::State& state) {
  const size_t total = static_cast<size_t>(state.range(0));
  std::string r(total - 1, 'p');
  for (size_t i = 49; i < r.size(); i += 50) r[i] = '/';
  if (r.back() == '/') r.back() = 'q';
  Parse(state, "unix/" + r, "22");
  state.SetComplexityN(state.range(0));
}
BENCHMARK(BM_ParseUnixPathLength)
    ->Arg(10)
    ->Arg(100)
    ->Arg(1000)
    ->Arg(4000)
    ->Complexity(benchmark::oN);

}  // namespace
}  // namespace ssh_proxy
