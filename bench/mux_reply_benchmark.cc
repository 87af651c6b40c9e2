// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors
//
// Benchmarks of MuxReplyParser on the two replies seen in the wild.

#include <string>

#include "benchmark/benchmark.h"
#include "src/mux_reply.h"

namespace ssh_proxy {
namespace {

void ParseReply(benchmark::State& state, const std::string& reply) {
  for (auto _ : state) {
    MuxReplyParser parser;
    size_t consumed = 0;
    benchmark::DoNotOptimize(parser.Feed(reply, &consumed));
    benchmark::DoNotOptimize(parser.port());
    benchmark::DoNotOptimize(consumed);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(reply.size()));
}

// Firecracker and cloud-hypervisor: the longest accepted reply.
void BM_MuxReplyFirecracker(benchmark::State& state) {
  ParseReply(state, "OK 1073741824\n");
}
BENCHMARK(BM_MuxReplyFirecracker);

// vhost-device-vsock echoes the guest port.
void BM_MuxReplyVhostDeviceVsock(benchmark::State& state) {
  ParseReply(state, "OK 22\n");
}
BENCHMARK(BM_MuxReplyVhostDeviceVsock);

// The reply followed by the guest's banner in the same read, as the proxy
// usually sees it.
void BM_MuxReplyWithBanner(benchmark::State& state) {
  ParseReply(state, "OK 1073741824\nSSH-2.0-OpenSSH_9.2\r\n");
}
BENCHMARK(BM_MuxReplyWithBanner);

}  // namespace
}  // namespace ssh_proxy
