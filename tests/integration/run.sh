#!/bin/bash
# run.sh IMGPKG_BINARY [FILTER] - runs every test_* function of tests/integration/t-*.sh
# against the given binary, each in its own temporary directory, and prints
# "integration: N passed, N failed, N skipped" last.  A test that calls `skip`
# (lib.sh) counts as skipped, never as passed.  TEST_EXCLUDE (a regex) names
# tests not run at all against this binary (scripts/test.sh runs the interop
# and engine tests against the release build only); they are listed, not counted.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
IMGPKG=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
FILTER=${2:-${TEST_FILTER:-}}
export IMGPKG
# IMGPKG_PEER: the real imgpkg for the interop tests (t-interop.sh); made
# absolute, since each test runs in its own directory
if [ -n "${IMGPKG_PEER:-}" ] && [ "${IMGPKG_PEER#/}" = "$IMGPKG_PEER" ]; then
    IMGPKG_PEER=$(pwd)/$IMGPKG_PEER
fi
export IMGPKG_PEER=${IMGPKG_PEER:-}
SUITE_TMP=$(mktemp -d /tmp/imgpkg-it.XXXXXX)
export SUITE_TMP
# tests must not touch the user's registry credentials or skopeo caches
export HOME=$SUITE_TMP/home
mkdir -p "$HOME"
unset DOCKER_CONFIG IMGPKG_REGISTRY_HOSTNAME IMGPKG_REGISTRY_USERNAME IMGPKG_REGISTRY_PASSWORD

# run_hooks FILE: the commands of on_file_done (lib.sh), the last first
run_hooks() {
    local hook
    while read -r hook; do eval "$hook" > /dev/null 2>&1; done < <(tac "$1")
    rm -f "$1"
}

cleanup() {
    trap '' INT TERM # finish stopping everything, whatever comes
    # hooks of on_file_done not run yet (daemons that need an orderly stop)
    local f
    for f in "$SUITE_TMP"/on-done.*; do
        [ -f "$f" ] && run_hooks "$f"
    done
    if [ -f "$SUITE_TMP/pids" ]; then
        while read -r pid; do kill "$pid" 2>/dev/null; done < "$SUITE_TMP/pids"
        wait 2>/dev/null
    fi
    rm -rf "$SUITE_TMP"
}
trap cleanup EXIT
# a signal ends the suite through the EXIT trap: daemons and registries stop
trap "exit 130" INT
trap "exit 143" TERM

# shellcheck source=lib.sh
. "$HERE/lib.sh"
for f in "$HERE"/t-*.sh; do
    # shellcheck disable=SC1090
    . "$f"
done

imgpkg() { "$IMGPKG" "$@"; }

start_registry REG || { echo "integration: 0 passed, 1 failed, 0 skipped"; exit 1; }

passed=0
failed=0
skipped=0
failed_names=""
excluded=""
suite_start=$(date +%s)
prev_file=
for t in $(declare -F | awk '{print $3}' | grep '^test_' | sort); do
    if [ -n "$FILTER" ] && ! echo "$t" | grep -Eq "$FILTER"; then
        continue
    fi
    if [ -n "${TEST_EXCLUDE:-}" ] && echo "$t" | grep -Eq "$TEST_EXCLUDE"; then
        excluded="$excluded $t"
        continue
    fi
    # the file defining the test; when it changes, the previous file's
    # on_file_done hooks run
    TEST_FILE=$(shopt -s extdebug && declare -F "$t" | awk '{print $3}')
    TEST_FILE=$(basename "$TEST_FILE" .sh)
    export TEST_FILE
    if [ -n "$prev_file" ] && [ "$prev_file" != "$TEST_FILE" ] && [ -f "$SUITE_TMP/on-done.$prev_file" ]; then
        run_hooks "$SUITE_TMP/on-done.$prev_file"
    fi
    prev_file=$TEST_FILE
    T=$(mktemp -d "$SUITE_TMP/$t.XXXXXX")
    export T
    start=$(date +%s)
    ( cd "$T" && set -e && "$t" ) > "$T.log" 2>&1
    rc=$?
    secs=$(( $(date +%s) - start ))
    if [ $rc = 0 ]; then
        passed=$((passed + 1))
        echo "PASS $t (${secs}s)"
    elif [ $rc = 77 ]; then
        skipped=$((skipped + 1))
        echo "SKIP $t: $(sed -n 's/^SKIPPED: //p' "$T.log" | tail -1)"
    else
        failed=$((failed + 1))
        failed_names="$failed_names $t"
        echo "FAIL $t (${secs}s)"
        sed 's/^/    /' "$T.log" | tail -40
    fi
    rm -rf "$T"
done
[ -n "$excluded" ] && echo "not run against this build (TEST_EXCLUDE):$excluded"
[ -n "$failed_names" ] && echo "failed:$failed_names"
[ "$skipped" != 0 ] && echo "skipped: $skipped tests did not run (see SKIP lines above)"
echo "integration time: $(( $(date +%s) - suite_start ))s"
echo "integration: $passed passed, $failed failed, $skipped skipped"
[ $failed = 0 ]
