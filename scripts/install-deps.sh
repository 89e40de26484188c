#!/bin/sh
# Installs what building (and, with --test, testing) imgpkg needs, from Debian's
# packages.  Does nothing when everything is already there.
set -eu
BUILD_PKGS="gcc meson ninja-build pkg-config libarchive-dev libcurl4-openssl-dev libyajl-dev
libyaml-dev libssl-dev zlib1g-dev check libisal-dev"
TEST_PKGS="docker-registry skopeo umoci oci-image-tool apache2-utils python3 python3-cryptography
openssl curl ca-certificates tar gzip valgrind clang libclang-rt-14-dev clang-format time
podman buildah containerd docker.io crun runc"
pkgs="$BUILD_PKGS"
[ "${1:-}" = "--test" ] && pkgs="$pkgs $TEST_PKGS"
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi
echo "installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >&2
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing >&2
