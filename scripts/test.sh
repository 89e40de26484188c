#!/bin/bash
# The whole test suite: installs what is missing, builds a release build and an
# ASan+UBSan build, runs the Check unit tests and the integration tests (which
# start their own registries on 127.0.0.1) against both, runs each libFuzzer
# target for a minute (build-fuzz, clang), and prints one summary line last:
# "N passed, N failed" (", N skipped" added when tests were skipped: the
# interop tests skip when IMGPKG_PEER names no imgpkg binary to compare with).
# The interop and container-engine tests (t-interop.sh, t-engines.sh) run
# against the release build only.  Before anything is built, every tracked C
# file is checked against .clang-format (one test).  Each stage prints its time.
set -u
cd "$(dirname "$0")/.."
total_pass=0
total_fail=0
total_skip=0
suite_start=$(date +%s)
stage_start=$suite_start
stage_done() { # label: prints how long the stage took
    local now
    now=$(date +%s)
    echo "== $1: $((now - stage_start))s"
    stage_start=$now
}
sh scripts/install-deps.sh --test || { echo "0 passed, 1 failed"; exit 1; }
stage_done "installing test dependencies"
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
        p=$(sed -n 's/^integration: \([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$/\1 \2 \3/p' "$2" | tail -1)
        if [ -z "$p" ]; then total_fail=$((total_fail + 1)); return; fi
        set -- $p
        total_pass=$((total_pass + $1))
        total_fail=$((total_fail + $2))
        total_skip=$((total_skip + $3))
        ;;
    esac
}

logs=$(mktemp -d /tmp/imgpkg-test-logs.XXXXXX)
trap 'rm -rf "$logs"' EXIT

# The format check: clang-format --dry-run --Werror over the tracked C files,
# one test (a failure lists the first differences; `clang-format -i FILE` fixes them).
echo "== format: clang-format over the tracked C files"
if git ls-files -z -- '*.c' '*.h' > "$logs/c-files" 2> "$logs/format.log" &&
    xargs -0 clang-format --dry-run --Werror < "$logs/c-files" >> "$logs/format.log" 2>&1; then
    echo "PASS format ($(tr -cd '\0' < "$logs/c-files" | wc -c) files)"
    total_pass=$((total_pass + 1))
else
    echo "FAIL format"
    head -60 "$logs/format.log"
    total_fail=$((total_fail + 1))
fi
stage_done "format"

build() { # dir [meson options]: the build's own logs stay out of the tree
    local dir=$1
    shift
    if [ ! -f "$dir/build.ninja" ]; then
        meson setup "$dir" "$@" > "$logs/$dir.setup.log" 2>&1 || { cat "$logs/$dir.setup.log"; return 1; }
    else # made by someone else (the quick start): make sure it has what we need
        meson configure "$dir" "$@" > "$logs/$dir.setup.log" 2>&1 || { cat "$logs/$dir.setup.log"; return 1; }
    fi
    ninja -C "$dir" > "$dir/ninja.log" 2>&1 || { cat "$dir/ninja.log"; return 1; }
}

# The release build uses the default deflate engine; the sanitizer build uses
# the zlib fallback, so both engines run the whole suite.
for dir in build build-asan; do
    # the release build is what the quick start builds (-O3 warns about more)
    opts=(-Dbuildtype=release -Dtests=true)
    [ "$dir" = build-asan ] && opts=(-Db_sanitize=address,undefined -Db_lundef=false -Ddeflate=zlib -Dbuildtype=debug)
    # the interop and engine tests judge what we write, not how the code
    # behaves under sanitizers: once, against the release build
    exclude=
    [ "$dir" = build-asan ] && exclude='^test_(interop|engines)_'
    echo "== $dir: building"
    stage_start=$(date +%s)
    if ! build "$dir" "${opts[@]}"; then
        total_fail=$((total_fail + 1))
        stage_done "$dir: build"
        continue
    fi
    stage_done "$dir: build"
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
    export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    echo "== $dir: unit tests"
    "$dir/tests/unit/unit-tests" > "$logs/$dir-unit.log" 2>&1
    cat "$logs/$dir-unit.log"
    count unit "$logs/$dir-unit.log"
    stage_done "$dir: unit tests"
    echo "== $dir: integration tests"
    TEST_EXCLUDE=$exclude bash tests/integration/run.sh "$dir/src/cli/imgpkg" 2>&1 | tee "$logs/$dir-it.log"
    count integration "$logs/$dir-it.log"
    stage_done "$dir: integration tests"
done

# Fuzz stage: the libFuzzer targets of tests/fuzz (clang, ASan+UBSan) replay
# their regression inputs and seed corpus, then each fuzzes for FUZZ_SECONDS
# (two at a time); each target is one test.  Without clang or libFuzzer (which
# install-deps installs) every target fails: the stage is never skipped.
fuzz_targets="manifest index lock ref www-auth tar"
fuzz_one() { # target: exits 0 when replay and fuzzing found nothing
    local t=$1 bin=build-fuzz/tests/fuzz/fuzz-$1 work=$logs/fuzz-$1
    local dirs=("tests/fuzz/corpus/$t")
    local opts=(-rss_limit_mb=512 -timeout=10 -artifact_prefix="$work/")
    [ -d "tests/fuzz/regressions/$t" ] && dirs+=("tests/fuzz/regressions/$t")
    mkdir -p "$work/corpus"
    "$bin" "${opts[@]}" -runs=0 "${dirs[@]}" > "$work/replay.log" 2>&1 || return 1
    "$bin" "${opts[@]}" -max_total_time="${FUZZ_SECONDS:-60}" -print_final_stats=1 \
        "$work/corpus" "${dirs[@]}" > "$work/fuzz.log" 2>&1
}
fuzz_done() { # target pid
    local runs
    if wait "$2"; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$logs/fuzz-$1/fuzz.log")
        echo "PASS fuzz-$1 (${runs:-?} runs)"
        total_pass=$((total_pass + 1))
    else
        echo "FAIL fuzz-$1"
        cat "$logs/fuzz-$1/replay.log" "$logs/fuzz-$1/fuzz.log" 2>/dev/null | grep -v '^#' | tail -60
        total_fail=$((total_fail + 1))
    fi
}
echo "== build-fuzz: building (clang, ASan+UBSan, libFuzzer)"
stage_start=$(date +%s)
if command -v clang > /dev/null &&
    CC=clang build build-fuzz -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false -Dtests=false; then
    stage_done "build-fuzz: build"
    echo "== build-fuzz: fuzzing"
    export ASAN_OPTIONS=detect_leaks=1:quarantine_size_mb=64
    export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    set -- $fuzz_targets
    while [ $# -gt 0 ]; do
        fuzz_one "$1" & p1=$!
        if [ $# -gt 1 ]; then
            fuzz_one "$2" & p2=$!
            fuzz_done "$1" $p1
            fuzz_done "$2" $p2
            shift 2
        else
            fuzz_done "$1" $p1
            shift
        fi
    done
    stage_done "build-fuzz: fuzzing"
else
    echo "FAIL fuzz: clang with libFuzzer is needed (-Dfuzz=true)"
    for t in $fuzz_targets; do total_fail=$((total_fail + 1)); done
fi

echo "== total: $(($(date +%s) - suite_start))s"
if [ "$total_skip" != 0 ]; then
    echo "$total_pass passed, $total_fail failed, $total_skip skipped"
else
    echo "$total_pass passed, $total_fail failed"
fi
[ "$total_fail" = 0 ]
