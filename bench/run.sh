#!/bin/bash
# bench/run.sh - times imgpkg (this project, release build) against baselines
# and the real tools on deterministic data, and prints a Markdown report on
# stdout (progress goes to stderr).  From a fresh clone:
#   bash bench/run.sh > report.md
#   IMGPKG_PEER=/path/to/imgpkg bash bench/run.sh > report.md   (+ the rows against imgpkg)
#
#   BENCH_RUNS=5                  timed runs of each pair (medians reported)
#   BENCH_DATASETS="small many large bins"
#   BENCH_DIR=/tmp/imgpkg-bench   data cache (kept) and scratch (removed at exit)
#   BENCH_BUILD_DIR=build-bench   release build directory (in the repository)
#   IMGPKG_PEER                   an imgpkg binary (the real one) to compare with
#
# Rows, each on every selected dataset (REG: a docker-registry started here on
# 127.0.0.1; REG2: a second one):
#   save --to-tar                 vs  tar -cf - DIR | gzip -1 | sha256sum
#   save --to-tar                 vs  dd of as many bytes, conv=fsync (the disk floor)
#   save -i --to-tar              vs  imgpkg push -i + imgpkg copy -i --to-tar   (peer)
#   save --to-oci-layout          vs  umoci init + new + insert                  (umoci)
#   push --tar --to-repo          vs  skopeo copy oci-archive:FILE docker://REG/REPO
#   push -i -f                    vs  imgpkg push -i -f                          (peer)
#   copy -i --to-tar              vs  skopeo copy docker://REG/REPO oci-archive:FILE
#   copy -i --to-tar              vs  imgpkg copy -i --to-tar                    (peer)
#   copy --tar --to-repo REG2     vs  imgpkg, each from its own tarball          (peer)
#   copy --tar --to-repo REG      vs  imgpkg, each from its own tarball          (peer)
#   pull -i -o                    vs  imgpkg pull -i -o                          (peer)
# Rows marked (peer) run when IMGPKG_PEER is set, (umoci) when umoci is
# installed; otherwise they say they did not run.  Each pair runs once untimed
# (warm-up: both sides then read from a warm page cache), then N times
# alternating which side goes first (A B, B A, ...); the ratio reported is the
# median of the N per-run ratios ours/baseline.  A command of ours that fails
# with "not supported" gives a "not available" row.
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."
ROOT=$PWD

RUNS=${BENCH_RUNS:-5}
ALL_DATASETS="small many large bins"
DATASETS=${BENCH_DATASETS:-$ALL_DATASETS}
BENCH_DIR=${BENCH_DIR:-/tmp/imgpkg-bench}
BUILD_DIR=${BENCH_BUILD_DIR:-build-bench}
PEER=${IMGPKG_PEER:-}
TAG=v1

die() { echo "bench: $*" >&2; exit 1; }
note() { echo "bench: $*" >&2; }

case $RUNS in '' | *[!0-9]* | 0) die "BENCH_RUNS must be a positive integer, not '$RUNS'" ;; esac
for d in $DATASETS; do
    case " $ALL_DATASETS " in *" $d "*) ;; *) die "unknown dataset '$d' in BENCH_DATASETS ($ALL_DATASETS)" ;; esac
done
[ -n "$DATASETS" ] || die "BENCH_DATASETS is empty"
if [ -n "$PEER" ]; then
    case $PEER in /*) ;; *) PEER=$ROOT/$PEER ;; esac
    [ -x "$PEER" ] && [ -f "$PEER" ] || die "IMGPKG_PEER=$IMGPKG_PEER is not an executable file"
    PEER_VERSION=$("$PEER" version 2>/dev/null | sed -n 's/^imgpkg version //p' | head -n 1)
    [ -n "$PEER_VERSION" ] || die "IMGPKG_PEER=$IMGPKG_PEER does not answer 'imgpkg version'"
fi

# --- what we need -------------------------------------------------------------
sh scripts/install-deps.sh --test >&2 || die "installing dependencies failed"
if ! /usr/bin/time --version 2>&1 | grep -q GNU; then
    if [ "$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi
    note "installing GNU time"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends time >&2 ||
        die "cannot install GNU time (apt-get install time)"
fi
UMOCI=$(command -v umoci || true)
UMOCI_FLAGS=()
[ "$(id -u)" = 0 ] || UMOCI_FLAGS=(--rootless)
# nothing here may leave the machine: keep any proxy away from the registries
export no_proxy="127.0.0.1,localhost${no_proxy:+,$no_proxy}" NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}"

START_DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
START_LOAD=$(cut -d ' ' -f 1-3 /proc/loadavg)
mkdir -p "$BENCH_DIR"
BENCH_DIR=$(cd "$BENCH_DIR" && pwd)
SCRATCH=$(mktemp -d "$BENCH_DIR/run.XXXXXX")
REG_PIDS=()
cleanup() {
    local pid
    for pid in "${REG_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$SCRATCH"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
OUT=$SCRATCH/out        # outputs of the timed commands
LOGS=$SCRATCH/logs
export TMPDIR=$SCRATCH/tmp   # skopeo unpacks and packs oci-archives here
PEER_HOME=$SCRATCH/peer-home # imgpkg's HOME: no credentials of the user
mkdir -p "$OUT" "$LOGS" "$TMPDIR" "$PEER_HOME"

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

# --- registries ---------------------------------------------------------------
# start_registry NAME: a docker-registry on a free 127.0.0.1 port; sets ADDR
start_registry() {
    local name=$1 port
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
    ADDR=127.0.0.1:$port
    mkdir -p "$SCRATCH/registry-$name"
    cat > "$SCRATCH/registry-$name/config.yml" <<YAML
version: 0.1
log: {level: error}
storage:
  filesystem: {rootdirectory: $SCRATCH/registry-$name/data}
  maintenance: {uploadpurging: {enabled: false}}
http:
  addr: $ADDR
YAML
    docker-registry serve "$SCRATCH/registry-$name/config.yml" > "$LOGS/registry-$name.log" 2>&1 &
    REG_PIDS+=($!)
    for _ in $(seq 1 100); do
        curl -s -o /dev/null -w '%{http_code}' "http://$ADDR/v2/" 2>/dev/null | grep -q '^2' && break
        sleep 0.1
    done
    curl -s -o /dev/null "http://$ADDR/v2/" || { cat "$LOGS/registry-$name.log" >&2; die "docker-registry $name did not start"; }
    note "docker-registry $name on $ADDR"
}
start_registry origin
REG=$ADDR
start_registry other
REG2=$ADDR

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

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
maxof() { printf '%s\n' "$@" | sort -g | tail -n 1; }
secs() { awk -v u="$1" 'BEGIN {printf "%.3f", u / 1e6}'; }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.6f", (b > 0) ? a / b : 0}'; }
r2() { awk -v r="$1" 'BEGIN {printf ((r >= 10) ? "%.0f" : "%.2f"), r}'; }

# Results, by "ID DATASET": STATE (ok, na, notrun, failed, basefailed), OURS and
# BASE (median microseconds), RATIO (median of the per-run ratios), ORSS and
# BRSS (highest peak RSS over the timed runs, KiB).
declare -A LABEL STATE OURS BASE RATIO ORSS BRSS
IDS=()       # row ids, in report order
NA_NOTE=
FAILED=0
row() { # row ID LABEL: declares a row (once)
    [ -n "${LABEL[$1]:-}" ] || IDS+=("$1")
    LABEL[$1]=$2
}
not_run() { # not_run ID LABEL DATASET
    row "$1" "$2"
    STATE["$1 $3"]=notrun
    note "$2 [$3]: not run"
}

# pair ID LABEL DATASET CLEAN OURS BASE: CLEAN (a function) runs before every
# command; OURS and BASE are functions that prepare a run (outside the timing)
# and set CMD, the command to time.  Warm-up first, then RUNS timed runs,
# alternating which side goes first.  $CHECK, if set, checks our warm-up output.
pair() {
    local id=$1 label=$2 ds=$3 clean=$4 ours=$5 base=$6 r side
    local -a ou=() bu=() orss=() brss=() rt=()
    row "$id" "$label"
    note "$label [$ds]: warm-up"
    $clean
    $ours
    timed "$LOGS/ours.log" "${CMD[@]}"
    if [ "$RC" != 0 ]; then
        if grep -q "not supported" "$LOGS/ours.log"; then
            note "$label [$ds]: ours is not available: $(tail -n 1 "$LOGS/ours.log")"
            STATE["$id $ds"]=na
            NA_NOTE="not available: this build answers \"$(tail -n 1 "$LOGS/ours.log" | sed 's/^imgpkg: Error: //')\"; the row fills in by itself once the command works."
        else
            note "$label [$ds]: ours FAILED:"; tail -n 20 "$LOGS/ours.log" >&2
            STATE["$id $ds"]=failed
            FAILED=1
        fi
        return 0
    fi
    if [ -n "${CHECK:-}" ] && ! $CHECK; then
        STATE["$id $ds"]=failed
        FAILED=1
        return 0
    fi
    $clean
    $base
    timed "$LOGS/base.log" "${CMD[@]}"
    if [ "$RC" != 0 ]; then
        note "$label [$ds]: baseline FAILED:"; tail -n 20 "$LOGS/base.log" >&2
        STATE["$id $ds"]=basefailed
        FAILED=1
        return 0
    fi
    for r in $(seq 1 "$RUNS"); do
        for side in $( ((r % 2)) && echo ours base || echo base ours); do
            $clean
            if [ "$side" = ours ]; then
                $ours
                timed "$LOGS/ours.log" "${CMD[@]}"
                [ "$RC" = 0 ] || { note "$label [$ds] run $r: ours FAILED"; tail -n 20 "$LOGS/ours.log" >&2; FAILED=1; STATE["$id $ds"]=failed; return 0; }
                ou+=("$US"); orss+=("$RSS")
            else
                $base
                timed "$LOGS/base.log" "${CMD[@]}"
                [ "$RC" = 0 ] || { note "$label [$ds] run $r: baseline FAILED"; tail -n 20 "$LOGS/base.log" >&2; FAILED=1; STATE["$id $ds"]=basefailed; return 0; }
                bu+=("$US"); brss+=("$RSS")
            fi
        done
        rt+=("$(ratio "${ou[-1]}" "${bu[-1]}")")
        note "$label [$ds] run $r/$RUNS: ours $(secs "${ou[-1]}") s, baseline $(secs "${bu[-1]}") s, ratio $(r2 "${rt[-1]}")"
    done
    $clean
    STATE["$id $ds"]=ok
    OURS["$id $ds"]=$(median "${ou[@]}")
    BASE["$id $ds"]=$(median "${bu[@]}")
    RATIO["$id $ds"]=$(median "${rt[@]}")
    ORSS["$id $ds"]=$(maxof "${orss[@]}")
    BRSS["$id $ds"]=$(maxof "${brss[@]}")
}

clean_out() { rm -rf "${OUT:?}"/* "${TMPDIR:?}"/*; }

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
peer_env=(env HOME="$PEER_HOME" DOCKER_CONFIG="$PEER_HOME/.docker")
peer_cmd() { CMD=("${peer_env[@]}" "$PEER" "$@"); } # sets CMD to the real imgpkg ARGS...
SEQ=0
next_repo() { SEQ=$((SEQ + 1)); REPO="bench/$1-$SEQ-$$"; }

# --- the rows -----------------------------------------------------------------
L_GZIP="\`save --to-tar\` vs \`tar \\| gzip -1 \\| sha256sum\`"
L_FLOOR="\`save --to-tar\` vs disk floor (\`dd conv=fsync\`, as many bytes)"
L_SAVE_PEER="\`save -i --to-tar\` vs imgpkg \`push\` + \`copy --to-tar\`"
L_OCI="\`save --to-oci-layout\` vs \`umoci new\` + \`umoci insert\`"
L_PUSH_SKOPEO="\`push --tar --to-repo\` vs \`skopeo copy\`"
L_PUSH_PEER="\`push -i -f\` vs imgpkg \`push\` (fresh repository)"
L_COPY_SKOPEO="\`copy -i --to-tar\` vs \`skopeo copy\`"
L_COPY_PEER="\`copy -i REF --to-tar\` vs imgpkg"
L_OTHER="\`copy --tar --to-repo\` into another registry vs imgpkg"
L_ORIGIN="\`copy --tar --to-repo\` back into the origin's registry vs imgpkg"
L_PULL="\`pull -i -o\` vs imgpkg"
# the report's order
for id in save-gzip save-floor save-peer save-oci push-peer push-skopeo copy-peer copy-skopeo copy-other copy-origin pull-peer; do
    IDS+=("$id")
done
LABEL=([save-gzip]=$L_GZIP [save-floor]=$L_FLOOR [save-peer]=$L_SAVE_PEER [save-oci]=$L_OCI
       [push-peer]=$L_PUSH_PEER [push-skopeo]=$L_PUSH_SKOPEO [copy-peer]=$L_COPY_PEER [copy-skopeo]=$L_COPY_SKOPEO
       [copy-other]=$L_OTHER [copy-origin]=$L_ORIGIN [pull-peer]=$L_PULL)

declare -A DS_FILES DS_BYTES DS_TAR
kind_flag() { case $1 in many) echo -i ;; *) echo -b ;; esac; }
for ds in $DATASETS; do
    DS_FILES[$ds]=$(find "$DATA/$ds" -type f | wc -l)
    DS_BYTES[$ds]=$(du -sb "$DATA/$ds" | cut -f1)
    kind=$(kind_flag "$ds")
    # The files as an image (an image may not hold .imgpkg/): of a bundle
    # folder, each top-level entry but .imgpkg/ is given with -f (its contents
    # land at the layer root).
    img_files=(-f "$DATA/$ds")
    if [ -d "$DATA/$ds/.imgpkg" ]; then
        img_files=()
        while IFS= read -r e; do img_files+=(-f "$e"); done < <(find "$DATA/$ds" -mindepth 1 -maxdepth 1 ! -name .imgpkg | sort)
    fi

    # save --to-tar vs tar | gzip -1 | sha256sum
    save_ours() { CMD=("$IMGPKG" save "$kind" "registry.example.com/bench/$ds:$TAG" -f "$DATA/$ds" --to-tar "$OUT/save.tar"); }
    save_base() { CMD=(bash -c 'tar -C "$1" -cf - . | gzip -1 | sha256sum' _ "$DATA/$ds"); }
    save_check() {
        DS_TAR[$ds]=$(stat -c %s "$OUT/save.tar")
        "$IMGPKG" verify --tar "$OUT/save.tar" > "$LOGS/verify.log" 2>&1 ||
            { note "imgpkg verify of our save output failed:"; cat "$LOGS/verify.log" >&2; return 1; }
    }
    CHECK=save_check pair save-gzip "$L_GZIP" "$ds" clean_out save_ours save_base
    CHECK=

    # the disk floor: dd of as many bytes as our tarball, flushed to the disk
    if [ -n "${DS_TAR[$ds]:-}" ]; then
        floor_base() { CMD=(dd if=/dev/zero of="$OUT/floor" bs=1M count="${DS_TAR[$ds]}" iflag=count_bytes conv=fsync status=none); }
        pair save-floor "$L_FLOOR" "$ds" clean_out save_ours floor_base
    fi

    # save -i --to-tar vs imgpkg push -i + imgpkg copy -i --to-tar (fresh repository)
    if [ -n "$PEER" ]; then
        save_i_ours() { CMD=("$IMGPKG" save -i "$REG/bench/$ds-save:$TAG" "${img_files[@]}" --to-tar "$OUT/save.tar"); }
        save_i_peer() {
            next_repo "$ds-save-peer"
            CMD=("${peer_env[@]}" bash -c '"$1" push -i "$2" "${@:4}" && "$1" copy -i "$2" --to-tar "$3"' _ \
                 "$PEER" "$REG/$REPO:$TAG" "$OUT/peer.tar" "${img_files[@]}")
        }
        pair save-peer "$L_SAVE_PEER" "$ds" clean_out save_i_ours save_i_peer
    else
        not_run save-peer "$L_SAVE_PEER" "$ds"
    fi

    # save --to-oci-layout vs umoci
    if [ -n "$UMOCI" ]; then
        oci_ours() { CMD=("$IMGPKG" save "$kind" "registry.example.com/bench/$ds:$TAG" -f "$DATA/$ds" --to-oci-layout "$OUT/layout"); }
        oci_base() {
            CMD=(bash -c 'u=$1 l=$2 d=$3; shift 3
                          "$u" "$@" init --layout "$l" && "$u" "$@" new --image "$l:v1" && "$u" "$@" insert --image "$l:v1" "$d" /' _ \
                 "$UMOCI" "$OUT/layout" "$DATA/$ds" "${UMOCI_FLAGS[@]}")
        }
        pair save-oci "$L_OCI" "$ds" clean_out oci_ours oci_base
    else
        not_run save-oci "$L_OCI" "$ds"
    fi

    # push: vs imgpkg push -i -f (the files), vs skopeo (the tarball our save makes)
    if [ -n "$PEER" ]; then
        push_i_ours() { next_repo "$ds-push-ours"; CMD=("$IMGPKG" push -i "$REG/$REPO:$TAG" "${img_files[@]}"); }
        push_i_peer() { next_repo "$ds-push-peer"; peer_cmd push -i "$REG/$REPO:$TAG" "${img_files[@]}"; }
        pair push-peer "$L_PUSH_PEER" "$ds" clean_out push_i_ours push_i_peer
    else
        not_run push-peer "$L_PUSH_PEER" "$ds"
    fi
    # (with OCI media types: skopeo's oci-archive: takes no others)
    "$IMGPKG" save "$kind" "registry.example.com/bench/$ds:$TAG" -f "$DATA/$ds" --oci \
        --to-tar "$SCRATCH/$ds-push.tar" > "$LOGS/prep.log" 2>&1 || { cat "$LOGS/prep.log" >&2; die "save failed"; }
    push_ours() { next_repo "$ds-ours"; CMD=("$IMGPKG" push --tar "$SCRATCH/$ds-push.tar" --to-repo "$REG/$REPO"); }
    push_base() {
        next_repo "$ds-skopeo"
        skopeo_cmd copy --dest-tls-verify=false "oci-archive:$SCRATCH/$ds-push.tar:$TAG" "docker://$REG/$REPO:$TAG"
    }
    pair push-skopeo "$L_PUSH_SKOPEO" "$ds" clean_out push_ours push_base
    rm -f "$SCRATCH/$ds-push.tar"

    # copy -i --to-tar: the files as an image, pushed once (by us)
    SRC=$REG/bench/$ds-copy-src-$$:$TAG
    "$IMGPKG" push -i "$SRC" "${img_files[@]}" > "$LOGS/prep.log" 2>&1 ||
        { cat "$LOGS/prep.log" >&2; die "push of the copy source failed"; }
    copy_ours() { CMD=("$IMGPKG" copy -i "$SRC" --to-tar "$OUT/copy.tar"); }
    copy_check() {
        "$IMGPKG" verify --tar "$OUT/copy.tar" > "$LOGS/verify.log" 2>&1 ||
            { note "imgpkg verify of our copy output failed:"; cat "$LOGS/verify.log" >&2; return 1; }
    }
    if [ -n "$PEER" ]; then
        copy_peer() { peer_cmd copy -i "$SRC" --to-tar "$OUT/copy.tar"; }
        CHECK=copy_check pair copy-peer "$L_COPY_PEER" "$ds" clean_out copy_ours copy_peer
        CHECK=
    else
        not_run copy-peer "$L_COPY_PEER" "$ds"
    fi
    copy_skopeo() { skopeo_cmd copy --src-tls-verify=false "docker://$SRC" "oci-archive:$OUT/copy.tar:$TAG"; }
    CHECK=copy_check pair copy-skopeo "$L_COPY_SKOPEO" "$ds" clean_out copy_ours copy_skopeo
    CHECK=

    # copy --tar --to-repo, each side from the tarball it made of SRC: into
    # another registry (everything uploaded), then back into SRC's registry
    # (where the blobs can be mounted from SRC's repository)
    if [ -n "$PEER" ]; then
        "$IMGPKG" copy -i "$SRC" --to-tar "$SCRATCH/$ds-ours.tar" > "$LOGS/prep.log" 2>&1 ||
            { cat "$LOGS/prep.log" >&2; die "copy --to-tar of the copy source failed"; }
        "${peer_env[@]}" "$PEER" copy -i "$SRC" --to-tar "$SCRATCH/$ds-peer.tar" > "$LOGS/prep.log" 2>&1 ||
            { cat "$LOGS/prep.log" >&2; die "imgpkg copy --to-tar of the copy source failed"; }
        other_ours() { next_repo "$ds-other-ours"; CMD=("$IMGPKG" copy --tar "$SCRATCH/$ds-ours.tar" --to-repo "$REG2/$REPO"); }
        other_peer() { next_repo "$ds-other-peer"; peer_cmd copy --tar "$SCRATCH/$ds-peer.tar" --to-repo "$REG2/$REPO"; }
        pair copy-other "$L_OTHER" "$ds" clean_out other_ours other_peer
        origin_ours() { next_repo "$ds-origin-ours"; CMD=("$IMGPKG" copy --tar "$SCRATCH/$ds-ours.tar" --to-repo "$REG/$REPO"); }
        origin_peer() { next_repo "$ds-origin-peer"; peer_cmd copy --tar "$SCRATCH/$ds-peer.tar" --to-repo "$REG/$REPO"; }
        pair copy-origin "$L_ORIGIN" "$ds" clean_out origin_ours origin_peer
        rm -f "$SCRATCH/$ds-ours.tar" "$SCRATCH/$ds-peer.tar"

        # pull -i -o
        pull_ours() { CMD=("$IMGPKG" pull -i "$SRC" -o "$OUT/pulled"); }
        pull_peer() { peer_cmd pull -i "$SRC" -o "$OUT/pulled"; }
        pair pull-peer "$L_PULL" "$ds" clean_out pull_ours pull_peer
    else
        not_run copy-other "$L_OTHER" "$ds"
        not_run copy-origin "$L_ORIGIN" "$ds"
        not_run pull-peer "$L_PULL" "$ds"
    fi
done

# --- report -------------------------------------------------------------------
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
[ -n "$cpu" ] || cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1)
mem=$(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
engine=$("$IMGPKG" version | sed -n 's/^deflate engine: //p')
fs=$(df -PT "$BENCH_DIR" | awk 'NR == 2 {print $2}')
peers="imgpkg: not run (IMGPKG_PEER not set)"
[ -z "$PEER" ] || peers="imgpkg $PEER_VERSION"
if [ -n "$UMOCI" ]; then peers="$peers, $("$UMOCI" --version)"; else peers="$peers, umoci: not installed"; fi

# the command that makes this report again (the peer's path left out: it is the user's)
REPRO="bash bench/run.sh"
[ "$DATASETS" = "$ALL_DATASETS" ] || REPRO="BENCH_DATASETS=\"$DATASETS\" $REPRO"
[ "$RUNS" = 5 ] || REPRO="BENCH_RUNS=$RUNS $REPRO"
[ -z "$PEER" ] || REPRO="IMGPKG_PEER=/path/to/imgpkg-$PEER_VERSION $REPRO"

# cell ID DATASET: the ratio, or why there is none
cell() {
    case ${STATE["$1 $2"]:-} in
        ok) r2 "${RATIO["$1 $2"]}" ;;
        na) echo "not available" ;;
        notrun) echo "not run" ;;
        failed) echo "FAILED" ;;
        basefailed) echo "baseline FAILED" ;;
        *) echo "–" ;;
    esac
}
# floor_multiple ID DATASET: our median time of row ID over the disk floor's median
floor_multiple() {
    if [ "${STATE["$1 $2"]:-}" = ok ] && [ "${STATE["save-floor $2"]:-}" = ok ]; then
        awk -v a="${OURS["$1 $2"]}" -v b="${BASE["save-floor $2"]}" 'BEGIN {printf ((a / b >= 10) ? "%.0f" : "%.2f"), a / b}'
    else
        echo "–"
    fi
}

cat <<EOF
# imgpkg (C) benchmark

- date: $START_DATE (start) to $(date -u '+%H:%M UTC')
- machine: $(nproc) CPUs, ${cpu:-unknown CPU}, $mem RAM, Linux $(uname -r), $fs filesystem under $BENCH_DIR;
  load average $START_LOAD at the start, $(cut -d ' ' -f 1-3 /proc/loadavg) at the end
- imgpkg (C): $("$IMGPKG" version | head -n 1 | sed 's/^imgpkg version //'), commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown) ($BUILD_DIR, release), deflate engine: $engine
- peers: $peers
- baselines: $(tar --version | head -n 1), $(gzip --version | head -n 1), $(skopeo --version), $(docker-registry --version | awk '{print "docker-registry " $NF}')
- reproduce: \`$REPRO\`
- runs: $RUNS timed runs per pair after one warm-up, sides alternating (A B, B A, ...); ratio: the median of the
  $RUNS per-run ratios ours/baseline (< 1: ours is faster)

## Ratios (ours / baseline)

EOF
hdr="| command |"; sep="|---|"
for ds in $DATASETS; do hdr="$hdr $ds |"; sep="$sep---:|"; done
echo "$hdr"; echo "$sep"
for id in "${IDS[@]}"; do
    line="| ${LABEL[$id]} |"
    for ds in $DATASETS; do line="$line $(cell "$id" "$ds") |"; done
    echo "$line"
done
for m in "save-peer:\`save -i --to-tar\`" "save-oci:\`save --to-oci-layout\`"; do
    line="| ${m#*:} ÷ disk floor (medians) |"
    for ds in $DATASETS; do line="$line $(floor_multiple "${m%%:*}" "$ds") |"; done
    echo "$line"
done
line="| ours: highest peak RSS of any command (MiB) |"
for ds in $DATASETS; do
    k=
    for id in "${IDS[@]}"; do
        [ "${STATE["$id $ds"]:-}" = ok ] && k="$k ${ORSS["$id $ds"]}"
    done
    # shellcheck disable=SC2086
    if [ -n "$k" ]; then line="$line $(mib "$(maxof $k)") |"; else line="$line – |"; fi
done
echo "$line"

cat <<EOF

## Times and peak RSS

| benchmark | dataset | ours (s) | baseline (s) | ours/baseline | ours peak RSS (MiB) | baseline peak RSS (MiB) |
|---|---|---:|---:|---:|---:|---:|
EOF
for id in "${IDS[@]}"; do
    for ds in $DATASETS; do
        k="$id $ds"
        [ -n "${STATE[$k]:-}" ] || continue
        if [ "${STATE[$k]}" = ok ]; then
            printf '| %s | %s | %s | %s | **%s** | %s | %s |\n' "${LABEL[$id]}" "$ds" "$(secs "${OURS[$k]}")" "$(secs "${BASE[$k]}")" \
                "$(r2 "${RATIO[$k]}")" "$(mib "${ORSS[$k]}")" "$(mib "${BRSS[$k]}")"
        else
            printf '| %s | %s | %s | – | – | – | – |\n' "${LABEL[$id]}" "$ds" "$(cell "$id" "$ds")"
        fi
    done
done
echo
if printf '%s\n' "${STATE[@]}" | grep -qx notrun; then
    echo '"not run": the row needs an imgpkg binary named by IMGPKG_PEER, or umoci, and this run had none.'
    echo
fi
[ -z "$NA_NOTE" ] || printf '%s\n\n' "$NA_NOTE"
cat <<EOF
What each row runs (REG, REG2: two docker-registry instances on 127.0.0.1; a fresh repository for every run of a
command that writes to a registry; "the files": the dataset without \`.imgpkg/\`, each top-level entry given with
\`-f\`, as an image may not hold \`.imgpkg/\`):

- \`save --to-tar\`: ours \`save -b\` (\`-i\` for many) \`-f DIR --to-tar FILE\`; baselines
  \`tar -cf - DIR | gzip -1 | sha256sum\` (no file written) and
  \`dd if=/dev/zero of=FILE bs=1M count=BYTES iflag=count_bytes conv=fsync\` with BYTES the size of our tarball
  (the disk floor: that row's ratio is \`save --to-tar\` as a multiple of it; the "÷ disk floor" lines divide our
  median of another \`save\` row by the floor's median);
- \`save -i --to-tar\` of the files vs imgpkg \`push -i REG/REPO:$TAG\` + \`copy -i REG/REPO:$TAG --to-tar FILE\`
  (imgpkg makes tarballs only from a registry);
- \`save --to-oci-layout DIR\` (as the first row) vs \`umoci init --layout DIR\` + \`umoci new --image DIR:$TAG\` +
  \`umoci insert --image DIR:$TAG DATASET /\`;
- \`push -i REG/REPO:$TAG\` the files, ours vs imgpkg's;
- \`push --tar FILE --to-repo REG/REPO\` (the tarball of the first row, made with \`--oci\`) vs
  \`skopeo copy --dest-tls-verify=false oci-archive:FILE:$TAG docker://REG/REPO:$TAG\` (a throw-away HOME,
  skopeo's blob-info cache emptied every run);
- \`copy -i SRC --to-tar FILE\`, SRC being the files pushed once as an image into REG, ours vs imgpkg's, and vs
  \`skopeo copy --src-tls-verify=false docker://SRC oci-archive:FILE:$TAG\`;
- \`copy --tar FILE --to-repo\`, each from the tarball it made of SRC: into REG2 (nothing to mount there), and into
  REG (the origin's registry, where imgpkg mounts the blobs from SRC's repository);
- \`pull -i SRC -o DIR\`, ours vs imgpkg's.

Peak RSS: GNU time's maximum resident set over the timed runs (for a pipeline or a sequence, of its largest
process).

| dataset | files | input (MB) | our tarball (MB) |
|---|---:|---:|---:|
EOF
for ds in $DATASETS; do
    printf '| %s | %s | %s | %s |\n' "$ds" "${DS_FILES[$ds]}" \
        "$(awk -v b="${DS_BYTES[$ds]}" 'BEGIN {printf "%.1f", b / 1e6}')" \
        "$(awk -v b="${DS_TAR[$ds]:-0}" 'BEGIN {printf "%.1f", b / 1e6}')"
done
exit "$FAILED"
