#!/bin/bash
# bench/run.sh - times imgpkg (this project, release build) against baselines
# on deterministic data, and prints a Markdown report on stdout (progress goes
# to stderr).  From a fresh clone:   bash bench/run.sh > report.md
#
#   BENCH_RUNS=5                  timed runs of each pair (median reported)
#   BENCH_DATASETS="small large many"
#   BENCH_DIR=/tmp/imgpkg-bench   data cache (kept) and scratch (removed at exit)
#   BENCH_BUILD_DIR=build-bench   release build directory (in the repository)
#
# Rows, each on every selected dataset:
#   save --to-tar         vs  tar -cf - DIR | gzip -1 | sha256sum
#   push --tar --to-repo  vs  skopeo copy oci-archive:FILE:TAG docker://REG/REPO:TAG
#   copy -i --to-tar      vs  skopeo copy docker://REG/REPO:TAG oci-archive:FILE:TAG
# against a docker-registry started here on 127.0.0.1.  Each pair runs once
# untimed (warm-up: both sides then read from a warm page cache), then N times
# alternating which side goes first.  A command of ours that fails with "not
# supported" gives a "not available" row.
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."
ROOT=$PWD

RUNS=${BENCH_RUNS:-5}
DATASETS=${BENCH_DATASETS:-small large many}
BENCH_DIR=${BENCH_DIR:-/tmp/imgpkg-bench}
BUILD_DIR=${BENCH_BUILD_DIR:-build-bench}
TAG=v1

die() { echo "bench: $*" >&2; exit 1; }
note() { echo "bench: $*" >&2; }

case $RUNS in '' | *[!0-9]* | 0) die "BENCH_RUNS must be a positive integer, not '$RUNS'" ;; esac
for d in $DATASETS; do
    case $d in small | large | many) ;; *) die "unknown dataset '$d' in BENCH_DATASETS (small, large, many)" ;; esac
done
[ -n "$DATASETS" ] || die "BENCH_DATASETS is empty"

# --- what we need -------------------------------------------------------------
sh scripts/install-deps.sh --test >&2 || die "installing dependencies failed"
if ! /usr/bin/time --version 2>&1 | grep -q GNU; then
    if [ "$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi
    note "installing GNU time"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends time >&2 ||
        die "cannot install GNU time (apt-get install time)"
fi
# nothing here may leave the machine: keep any proxy away from the registry
export no_proxy="127.0.0.1,localhost${no_proxy:+,$no_proxy}" NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}"

START_DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
START_LOAD=$(cut -d ' ' -f 1-3 /proc/loadavg)
mkdir -p "$BENCH_DIR"
BENCH_DIR=$(cd "$BENCH_DIR" && pwd)
SCRATCH=$(mktemp -d "$BENCH_DIR/run.XXXXXX")
REG_PID=
cleanup() {
    if [ -n "$REG_PID" ]; then
        kill "$REG_PID" 2>/dev/null || true
        wait "$REG_PID" 2>/dev/null || true
    fi
    rm -rf "$SCRATCH"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
OUT=$SCRATCH/out        # outputs of the timed commands
LOGS=$SCRATCH/logs
export TMPDIR=$SCRATCH/tmp   # skopeo unpacks and packs oci-archives here
mkdir -p "$OUT" "$LOGS" "$TMPDIR"

note "building $BUILD_DIR (release)"
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
    meson setup "$BUILD_DIR" --buildtype=release -Dtests=false > "$LOGS/setup.log" 2>&1 ||
        { cat "$LOGS/setup.log" >&2; die "meson setup failed"; }
else
    meson configure "$BUILD_DIR" -Dbuildtype=release -Dtests=false > "$LOGS/setup.log" 2>&1 ||
        { cat "$LOGS/setup.log" >&2; die "meson configure failed"; }
fi
ninja -C "$BUILD_DIR" > "$LOGS/build.log" 2>&1 || { cat "$LOGS/build.log" >&2; die "build failed"; }
IMGPKG=$ROOT/$BUILD_DIR/src/cli/imgpkg
[ -x "$IMGPKG" ] || die "no binary at $IMGPKG"

note "datasets ($DATASETS) in $BENCH_DIR/data"
# shellcheck disable=SC2086
python3 bench/mkdata.py "$BENCH_DIR/data" $DATASETS || die "generating the datasets failed"
DATA=$BENCH_DIR/data

# --- timing -------------------------------------------------------------------
# timed LOG CMD...: runs CMD under GNU time; sets US (wall time, microseconds),
# RSS (peak resident set of the largest process, KiB) and RC.
timed() {
    local log=$1 t0 t1
    shift
    sync
    t0=$EPOCHREALTIME
    RC=0
    /usr/bin/time -f %M -o "$SCRATCH/rss" "$@" > "$log" 2>&1 || RC=$?
    t1=$EPOCHREALTIME
    US=$((${t1/./} - ${t0/./}))
    RSS=$(tail -n 1 "$SCRATCH/rss")
}

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : int((a[NR / 2] + a[NR / 2 + 1]) / 2)}'; }
maxof() { printf '%s\n' "$@" | sort -n | tail -n 1; }
secs() { awk -v u="$1" 'BEGIN {printf "%.3f", u / 1e6}'; }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b > 0) ? a / b : 0}'; }

ROWS=()      # Markdown table rows, in order
FAILED=0
NA_NOTE=

# pair LABEL DATASET CLEAN OURS BASE: CLEAN (a function) runs before every
# command; OURS and BASE are functions that prepare a run (outside the timing)
# and set CMD, the command to time.  Warm-up first, then RUNS timed runs,
# alternating which side goes first.  $CHECK, if set, checks our warm-up output.
pair() {
    local label=$1 ds=$2 clean=$3 ours=$4 base=$5 r side
    local -a ou=() bu=() orss=() brss=()
    note "$label [$ds]: warm-up"
    $clean
    $ours
    timed "$LOGS/ours.log" "${CMD[@]}"
    if [ "$RC" != 0 ]; then
        if grep -q "not supported" "$LOGS/ours.log"; then
            note "$label [$ds]: ours is not available: $(tail -n 1 "$LOGS/ours.log")"
            ROWS+=("| $label | $ds | not available¹ | – | – | – | – |")
            NA_NOTE="¹ not available: this build answers \"$(tail -n 1 "$LOGS/ours.log" | sed 's/^imgpkg: Error: //')\"; the row fills in by itself once the command works."
        else
            note "$label [$ds]: ours FAILED:"; tail -n 20 "$LOGS/ours.log" >&2
            ROWS+=("| $label | $ds | FAILED | – | – | – | – |")
            FAILED=1
        fi
        return 0
    fi
    [ -z "${CHECK:-}" ] || $CHECK || { ROWS+=("| $label | $ds | FAILED (check) | – | – | – | – |"); FAILED=1; return 0; }
    $clean
    $base
    timed "$LOGS/base.log" "${CMD[@]}"
    if [ "$RC" != 0 ]; then
        note "$label [$ds]: baseline FAILED:"; tail -n 20 "$LOGS/base.log" >&2
        ROWS+=("| $label | $ds | – | FAILED | – | – | – |")
        FAILED=1
        return 0
    fi
    for r in $(seq 1 "$RUNS"); do
        for side in $( ((r % 2)) && echo ours base || echo base ours); do
            $clean
            if [ "$side" = ours ]; then
                $ours
                timed "$LOGS/ours.log" "${CMD[@]}"
                [ "$RC" = 0 ] || { note "$label [$ds] run $r: ours FAILED"; tail -n 20 "$LOGS/ours.log" >&2; FAILED=1; ROWS+=("| $label | $ds | FAILED | – | – | – | – |"); return 0; }
                ou+=("$US"); orss+=("$RSS")
            else
                $base
                timed "$LOGS/base.log" "${CMD[@]}"
                [ "$RC" = 0 ] || { note "$label [$ds] run $r: baseline FAILED"; tail -n 20 "$LOGS/base.log" >&2; FAILED=1; ROWS+=("| $label | $ds | – | FAILED | – | – | – |"); return 0; }
                bu+=("$US"); brss+=("$RSS")
            fi
        done
        note "$label [$ds] run $r/$RUNS: ours $(secs "${ou[-1]}") s, baseline $(secs "${bu[-1]}") s"
    done
    $clean
    local om bm
    om=$(median "${ou[@]}")
    bm=$(median "${bu[@]}")
    ROWS+=("| $label | $ds | $(secs "$om") | $(secs "$bm") | **$(ratio "$om" "$bm")** | $(mib "$(maxof "${orss[@]}")") | $(mib "$(maxof "${brss[@]}")") |")
}

clean_out() { rm -rf "${OUT:?}"/* "${TMPDIR:?}"/*; }

# --- save ---------------------------------------------------------------------
declare -A DS_FILES DS_BYTES DS_TAR
kind_flag() { [ "$1" = many ] && echo -i || echo -b; }
for ds in $DATASETS; do
    DS_FILES[$ds]=$(find "$DATA/$ds" -type f | wc -l)
    DS_BYTES[$ds]=$(du -sb "$DATA/$ds" | cut -f1)
    save_ours() { CMD=("$IMGPKG" save "$(kind_flag "$ds")" "registry.example.com/bench/$ds:$TAG" -f "$DATA/$ds" --to-tar "$OUT/save.tar"); }
    save_base() { CMD=(bash -c 'tar -C "$1" -cf - . | gzip -1 | sha256sum' _ "$DATA/$ds"); }
    save_check() {
        DS_TAR[$ds]=$(stat -c %s "$OUT/save.tar")
        "$IMGPKG" verify --tar "$OUT/save.tar" > "$LOGS/verify.log" 2>&1 ||
            { note "imgpkg verify of our save output failed:"; cat "$LOGS/verify.log" >&2; return 1; }
    }
    what=bundle
    [ "$ds" = many ] && what=image
    CHECK=save_check pair "\`save $(kind_flag "$ds") --to-tar\` ($what)" "$ds" clean_out save_ours save_base
done
CHECK=

# --- registry -----------------------------------------------------------------
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
REG=127.0.0.1:$PORT
mkdir -p "$SCRATCH/registry"
cat > "$SCRATCH/registry/config.yml" <<YAML
version: 0.1
log: {level: error}
storage:
  filesystem: {rootdirectory: $SCRATCH/registry/data}
  maintenance: {uploadpurging: {enabled: false}}
http:
  addr: $REG
YAML
docker-registry serve "$SCRATCH/registry/config.yml" > "$LOGS/registry.log" 2>&1 &
REG_PID=$!
for _ in $(seq 1 100); do
    curl -s -o /dev/null -w '%{http_code}' "http://$REG/v2/" 2>/dev/null | grep -q '^2' && break
    sleep 0.1
done
curl -s -o /dev/null "http://$REG/v2/" || { cat "$LOGS/registry.log" >&2; die "docker-registry did not start"; }
note "docker-registry on $REG"

# skopeo: a throw-away HOME, and its blob-info cache (which would let it skip
# or mount blobs it has seen) kept there too, even as root, and removed before
# every run.
# (containers/image keeps it in /var/lib/containers/cache for root, in
# $HOME/.local/share/containers/cache otherwise; _CONTAINERS_ROOTLESS_UID is how
# it is told the latter.)
SKOPEO_HOME=$SCRATCH/skopeo-home
SKOPEO_UID=$(id -u)
[ "$SKOPEO_UID" != 0 ] || SKOPEO_UID=65534
skopeo_cmd() { # sets CMD to skopeo ARGS... with a fresh HOME and no blob-info cache
    rm -rf "$SKOPEO_HOME" "${HOME:?}/.local/share/containers/cache"
    mkdir -p "$SKOPEO_HOME"
    CMD=(env HOME="$SKOPEO_HOME" XDG_DATA_HOME="$SKOPEO_HOME/.local/share" XDG_CONFIG_HOME="$SKOPEO_HOME/.config"
         _CONTAINERS_ROOTLESS_UID="$SKOPEO_UID" skopeo "$@")
}
SEQ=0
next_repo() { SEQ=$((SEQ + 1)); REPO="bench/$1-$SEQ-$$"; }

for ds in $DATASETS; do
    # push: the tarball our save makes (a bundle, or an image for many)
    "$IMGPKG" save "$(kind_flag "$ds")" "registry.example.com/bench/$ds:$TAG" -f "$DATA/$ds" \
        --to-tar "$SCRATCH/$ds-push.tar" > "$LOGS/prep.log" 2>&1 || { cat "$LOGS/prep.log" >&2; die "save failed"; }
    push_ours() { next_repo "$ds-ours"; CMD=("$IMGPKG" push --tar "$SCRATCH/$ds-push.tar" --to-repo "$REG/$REPO"); }
    push_base() {
        next_repo "$ds-skopeo"
        skopeo_cmd copy --dest-tls-verify=false "oci-archive:$SCRATCH/$ds-push.tar:$TAG" "docker://$REG/$REPO:$TAG"
    }
    pair "\`push --tar --to-repo\`" "$ds" clean_out push_ours push_base
    rm -f "$SCRATCH/$ds-push.tar"

    # copy: the same files as an image (copy -i is for images, and an image
    # may not hold .imgpkg/), pushed once.  Of a bundle folder, each top-level
    # entry but .imgpkg/ is given with -f (its contents land at the layer root).
    img_files=(-f "$DATA/$ds")
    if [ -d "$DATA/$ds/.imgpkg" ]; then
        img_files=()
        while IFS= read -r e; do img_files+=(-f "$e"); done < <(find "$DATA/$ds" -mindepth 1 -maxdepth 1 ! -name .imgpkg | sort)
    fi
    "$IMGPKG" save -i "registry.example.com/bench/$ds:$TAG" "${img_files[@]}" --to-tar "$SCRATCH/$ds-img.tar" \
        > "$LOGS/prep.log" 2>&1 || { cat "$LOGS/prep.log" >&2; die "save failed"; }
    SRC_REPO=bench/$ds-copy-src-$$
    "$IMGPKG" push --tar "$SCRATCH/$ds-img.tar" --to-repo "$REG/$SRC_REPO" > "$LOGS/prep.log" 2>&1 ||
        { cat "$LOGS/prep.log" >&2; die "push of the copy source failed"; }
    rm -f "$SCRATCH/$ds-img.tar"
    copy_ours() { CMD=("$IMGPKG" copy -i "$REG/$SRC_REPO:$TAG" --to-tar "$OUT/copy.tar"); }
    copy_base() { skopeo_cmd copy --src-tls-verify=false "docker://$REG/$SRC_REPO:$TAG" "oci-archive:$OUT/copy.tar:$TAG"; }
    copy_check() {
        "$IMGPKG" verify --tar "$OUT/copy.tar" > "$LOGS/verify.log" 2>&1 ||
            { note "imgpkg verify of our copy output failed:"; cat "$LOGS/verify.log" >&2; return 1; }
    }
    CHECK=copy_check pair "\`copy -i --to-tar\`" "$ds" clean_out copy_ours copy_base
    CHECK=
done

# --- report -------------------------------------------------------------------
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
[ -n "$cpu" ] || cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1)
mem=$(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
engine=$("$IMGPKG" version | sed -n 's/^deflate engine: //p')
fs=$(df -PT "$BENCH_DIR" | awk 'NR == 2 {print $2}')

cat <<EOF
# imgpkg (C) benchmark

- date: $START_DATE (start) to $(date -u '+%H:%M UTC')
- machine: $(nproc) CPUs, ${cpu:-unknown CPU}, $mem RAM, Linux $(uname -r), $fs filesystem under $BENCH_DIR;
  load average $START_LOAD at the start, $(cut -d ' ' -f 1-3 /proc/loadavg) at the end
- imgpkg: $("$IMGPKG" version | head -n 1 | sed 's/^imgpkg version //'), commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown) ($BUILD_DIR, release), deflate engine: $engine
- baselines: $(tar --version | head -n 1), $(gzip --version | head -n 1), $(skopeo --version), $(docker-registry --version | awk '{print "docker-registry " $NF}')
- runs: $RUNS timed runs per pair after one warm-up, sides alternating; medians of wall-clock time

| benchmark | dataset | ours (s) | baseline (s) | ours/baseline | ours peak RSS (MiB) | baseline peak RSS (MiB) |
|---|---|---:|---:|---:|---:|---:|
EOF
for group in '`save' '`push' '`copy'; do
    printf '%s\n' "${ROWS[@]}" | grep -F "| $group" || true
done
[ -z "$NA_NOTE" ] || printf '\n%s\n' "$NA_NOTE"
cat <<EOF

Baselines: \`save\` vs \`tar -cf - DIR | gzip -1 | sha256sum\` (no file written);
\`push\` vs \`skopeo copy --dest-tls-verify=false oci-archive:FILE:$TAG docker://127.0.0.1:PORT/REPO:$TAG\`
(the tarball our \`save\` made, a fresh repository every run, skopeo's blob-info cache emptied);
\`copy\` vs \`skopeo copy --src-tls-verify=false docker://127.0.0.1:PORT/REPO:$TAG oci-archive:FILE:$TAG\`
(the dataset, without \`.imgpkg/\`, pushed once as an image). Ratio < 1: ours is faster. Peak RSS: GNU time's maximum
resident set over the timed runs (for a pipeline, of its largest process).

| dataset | files | input (MB) | our tarball (MB) |
|---|---:|---:|---:|
EOF
for ds in $DATASETS; do
    printf '| %s | %s | %s | %s |\n' "$ds" "${DS_FILES[$ds]}" \
        "$(awk -v b="${DS_BYTES[$ds]}" 'BEGIN {printf "%.1f", b / 1e6}')" \
        "$(awk -v b="${DS_TAR[$ds]:-0}" 'BEGIN {printf "%.1f", b / 1e6}')"
done
exit "$FAILED"
