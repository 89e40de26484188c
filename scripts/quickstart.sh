#!/bin/sh
# Installs what is missing, builds imgpkg, and saves the example bundle in
# examples/bundle as an OCI image layout tarball (example-bundle.tar).
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh
# the test command reuses this build (and turns its tests on): both orders work
[ -f build/build.ninja ] || meson setup build --buildtype=release >/dev/null
ninja -C build >/dev/null
./build/src/cli/imgpkg save -b example.com/demo/bundle:v1 -f examples/bundle --to-tar example-bundle.tar
./build/src/cli/imgpkg verify --tar example-bundle.tar
