#!/bin/bash
# The whole test suite: installs what is missing, builds a release build and an
# ASan+UBSan build, runs the Check unit tests and the integration tests (which
# start their own registries on 127.0.0.1) against both, and prints one summary
# line last: "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh --test || { echo "0 passed, 1 failed"; exit 1; }

total_pass=0
total_fail=0
count() { # label log: adds the counts found in a log
    local p f
    case $1 in
    unit)
        p=$(sed -n 's/.*Checks: \([0-9]*\), Failures: \([0-9]*\), Errors: \([0-9]*\).*/\1 \2 \3/p' "$2" | tail -1)
        if [ -z "$p" ]; then total_fail=$((total_fail + 1)); return; fi
        set -- $p
        total_pass=$((total_pass + $1 - $2 - $3))
        total_fail=$((total_fail + $2 + $3))
        ;;
    integration)
        p=$(sed -n 's/^integration: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$2" | tail -1)
        if [ -z "$p" ]; then total_fail=$((total_fail + 1)); return; fi
        set -- $p
        total_pass=$((total_pass + $1))
        total_fail=$((total_fail + $2))
        ;;
    esac
}

build() { # dir [meson options]
    local dir=$1
    shift
    if [ ! -f "$dir/build.ninja" ]; then
        meson setup "$dir" "$@" > "$dir.setup.log" 2>&1 || { cat "$dir.setup.log"; return 1; }
    fi
    ninja -C "$dir" > "$dir.build.log" 2>&1 || { cat "$dir.build.log"; return 1; }
}

logs=$(mktemp -d /tmp/imgpkg-test-logs.XXXXXX)
trap 'rm -rf "$logs"' EXIT

# The release build uses the default deflate engine; the sanitizer build uses
# the zlib fallback, so both engines run the whole suite.
for dir in build build-asan; do
    opts=()
    [ "$dir" = build-asan ] && opts=(-Db_sanitize=address,undefined -Db_lundef=false -Ddeflate=zlib -Dbuildtype=debug)
    echo "== $dir: building"
    if ! build "$dir" "${opts[@]}"; then
        total_fail=$((total_fail + 1))
        continue
    fi
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
    export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    echo "== $dir: unit tests"
    "$dir/tests/unit/unit-tests" > "$logs/$dir-unit.log" 2>&1
    cat "$logs/$dir-unit.log"
    count unit "$logs/$dir-unit.log"
    echo "== $dir: integration tests"
    bash tests/integration/run.sh "$dir/src/cli/imgpkg" 2>&1 | tee "$logs/$dir-it.log"
    count integration "$logs/$dir-it.log"
done

echo "$total_pass passed, $total_fail failed"
[ "$total_fail" = 0 ]
