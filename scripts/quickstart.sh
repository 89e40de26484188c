#!/bin/sh
# Installs what is missing, builds imgpkg, and saves the example bundle in
# examples/bundle as an OCI image layout tarball (example-bundle.tar).
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh
[ -d build ] || meson setup build --buildtype=release -Dtests=false >/dev/null
ninja -C build >/dev/null
./build/src/cli/imgpkg save -b example.com/demo/bundle:v1 -f examples/bundle --to-tar example-bundle.tar
./build/src/cli/imgpkg verify --tar example-bundle.tar
