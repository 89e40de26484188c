#!/bin/bash
# valgrind.sh [FILTER] - memory checks with valgrind memcheck, outside CI (slow).
# Builds a plain debug build (build-valgrind: no sanitizers, buildtype debug,
# the zlib deflate engine: ISA-L's igzip branches on memory it never
# initialised, and memcheck then flags its correct output as undefined) and
# runs the integration suite (tests/integration/run.sh, FILTER as there) with
# every imgpkg run wrapped by
#   valgrind --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99
# ("possibly lost" thread stacks of a run that kills itself at a test crash
# point are not shown).
# Reports go to build-valgrind/valgrind-logs/ (one file per process, kept only
# when memcheck found an error); they are printed at the end.  Exits non-zero
# when a test failed or memcheck found an error.  Tests that cap the peak RSS of
# a run (some test_hostile_*) fail under valgrind's own memory overhead; the
# memcheck reports are what counts.
set -u
cd "$(dirname "$0")/.."
root=$PWD
sh scripts/install-deps.sh --test || exit 1
dir=build-valgrind
if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" -Db_sanitize=none -Dbuildtype=debug -Ddeflate=zlib -Dtests=false \
        > /tmp/imgpkg-valgrind-setup.log 2>&1 ||
        { cat /tmp/imgpkg-valgrind-setup.log; exit 1; }
fi
ninja -C "$dir" > "$dir/ninja.log" 2>&1 || { cat "$dir/ninja.log"; exit 1; }

logs=$root/$dir/valgrind-logs
rm -rf "$logs"
mkdir -p "$logs"
wrapper=$root/$dir/imgpkg-valgrind
cat > "$wrapper" <<WRAP
#!/bin/sh
exec valgrind -q --tool=memcheck --leak-check=full --errors-for-leak-kinds=definite \\
    --show-leak-kinds=definite --error-exitcode=99 --log-file="$logs/vg.%p.log" \\
    "$root/$dir/src/cli/imgpkg" "\$@"
WRAP
chmod +x "$wrapper"

bash tests/integration/run.sh "$wrapper" "${1:-}"
rc=$?
# with -q a log holds only what memcheck found
found=0
for f in "$logs"/vg.*.log; do
    [ -s "$f" ] || { rm -f "$f"; continue; }
    found=$((found + 1))
    echo "== $f"
    cat "$f"
done
echo "valgrind: $found process(es) with memcheck errors"
[ $rc = 0 ] && [ $found = 0 ]
