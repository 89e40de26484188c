#!/bin/bash
# run.sh IMGPKG_BINARY [FILTER] - runs every test_* function of tests/integration/t-*.sh
# against the given binary, each in its own temporary directory, and prints
# "integration: N passed, N failed" last.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
IMGPKG=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
FILTER=${2:-${TEST_FILTER:-}}
export IMGPKG
SUITE_TMP=$(mktemp -d /tmp/imgpkg-it.XXXXXX)
export SUITE_TMP
# tests must not touch the user's registry credentials or skopeo caches
export HOME=$SUITE_TMP/home
mkdir -p "$HOME"
unset DOCKER_CONFIG IMGPKG_REGISTRY_HOSTNAME IMGPKG_REGISTRY_USERNAME IMGPKG_REGISTRY_PASSWORD

cleanup() {
    if [ -f "$SUITE_TMP/pids" ]; then
        while read -r pid; do kill "$pid" 2>/dev/null; done < "$SUITE_TMP/pids"
        wait 2>/dev/null
    fi
    rm -rf "$SUITE_TMP"
}
trap cleanup EXIT

# shellcheck source=lib.sh
. "$HERE/lib.sh"
for f in "$HERE"/t-*.sh; do
    # shellcheck disable=SC1090
    . "$f"
done

imgpkg() { "$IMGPKG" "$@"; }

start_registry REG || { echo "integration: 0 passed, 1 failed"; exit 1; }

passed=0
failed=0
failed_names=""
for t in $(declare -F | awk '{print $3}' | grep '^test_' | sort); do
    if [ -n "$FILTER" ] && ! echo "$t" | grep -Eq "$FILTER"; then
        continue
    fi
    T=$(mktemp -d "$SUITE_TMP/$t.XXXXXX")
    export T
    start=$(date +%s)
    ( cd "$T" && set -e && "$t" ) > "$T.log" 2>&1
    rc=$?
    secs=$(( $(date +%s) - start ))
    if [ $rc = 0 ]; then
        passed=$((passed + 1))
        echo "PASS $t (${secs}s)"
    else
        failed=$((failed + 1))
        failed_names="$failed_names $t"
        echo "FAIL $t (${secs}s)"
        sed 's/^/    /' "$T.log" | tail -40
    fi
    rm -rf "$T"
done
[ -n "$failed_names" ] && echo "failed:$failed_names"
echo "integration: $passed passed, $failed failed"
[ $failed = 0 ]
