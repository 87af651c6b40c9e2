#!/bin/bash -eu
# ClusterFuzzLite runs $SRC/build.sh from $SRC/ssh-proxy: the same build as OSS-Fuzz.
exec "$SRC/ssh-proxy/fuzz/oss-fuzz/build.sh"
