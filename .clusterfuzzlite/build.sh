#!/bin/bash -eu
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The ssh-proxy Authors
#
# ClusterFuzzLite runs $SRC/build.sh from $SRC/ssh-proxy: the same build as OSS-Fuzz.
exec "$SRC/ssh-proxy/fuzz/oss-fuzz/build.sh"
