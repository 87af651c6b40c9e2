// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The ssh-proxy Authors

#include "canonical.h"

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"

namespace bazel_consumer {
namespace {

TEST(CanonicalTest, EverySpellingOfATargetHasOneCanonicalForm) {
  EXPECT_EQ(*Canonical("vsock%host", "22"), "vsock/2\tvsock cid=2 port=22");
  EXPECT_EQ(*Canonical("vsock/2", "22"), "vsock/2\tvsock cid=2 port=22");
  EXPECT_EQ(
      *Canonical(".host", "22"),
      "unix/run/ssh-unix-local/socket\tunix path=/run/ssh-unix-local/socket");
  EXPECT_EQ(*Canonical("vsock-mux%run/vm.sock", "22"),
            "vsock-mux/run/vm.sock\tvsock-mux path=/run/vm.sock port=22");
}

TEST(CanonicalTest, TheGrammarsErrorsComeThrough) {
  absl::StatusOr<std::string> bad = Canonical("vsock/0x10", "22");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("HOST \"vsock/0x10\""),
            absl::string_view::npos)
      << bad.status();
  EXPECT_FALSE(Canonical("vsock/4711", "0").ok());
}

}  // namespace
}  // namespace bazel_consumer
