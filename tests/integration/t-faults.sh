# t-faults.sh - imgpkg through tests/integration/fault_proxy.py, a proxy in
# front of the registry ($REG_ADDR) that resets connections, loses answers,
# answers 429/500/502/503, cuts bodies short and delays answers.  At a 20%
# fault rate a bundle with three images goes up, is relocated, saved to a
# tarball and relocated again through the proxy, and every result is checked
# directly on the registry; with every matching request faulted, each command
# fails with one error line within a bound and leaves no tag on an incomplete
# image and no tarball.
#
# Measured on the development machine (debugoptimized build; an ASan build
# is ~20% slower): a 20% round of five commands takes 10-18 s (delays
# included) with 30-45 faults of 8-10 kinds in ~170 requests; with every
# matching request faulted and --registry-retry-count 2 each command fails in
# 1-3 s; with the default count (5) a registry that never answers fails in
# ~4 s, a layer whose upload always fails in ~9 s and a layer whose download
# always fails in ~26 s (6 blob attempts, each a GET tried 6 times: pauses of
# 200 ms..3.2 s and 100 ms..1.6 s).  The bounds asserted below leave a wide
# margin over these.  The whole file runs in ~1.5 min (~2 min with ASan).

# ---------- helpers (names start with fa_; every t-*.sh shares one shell) ----------

# every kind but delay; "drop" and "truncate" (which resets an answer without
# a body) forward the request first, so it takes effect: FA_NOT_FORWARDED
# are the kinds with which a request never reaches the registry
FA_ALL_FAILING=reset,close,drop,429,500,502,503,truncate
FA_NOT_FORWARDED=reset,close,429,500,502,503

# fa_proxy UPSTREAM [fault_proxy.py options...]: starts a fault proxy in front
# of 127.0.0.1:PORT UPSTREAM; sets FA_ADDR, FA_PID, FA_LOG (faults) and
# FA_ACCESS (every request).  The proxy stops by itself after 240 s.
fa_proxy() {
    local up=$1 d
    shift
    d=$(mktemp -d "$T/proxy.XXXXXX")
    FA_LOG=$d/faults.log
    FA_ACCESS=$d/access.log
    : > "$FA_LOG"
    python3 "$HERE/fault_proxy.py" --upstream "$up" --port-file "$d/port" --log "$FA_LOG" \
        --access-log "$FA_ACCESS" --max-seconds 240 "$@" > "$d/out" 2>&1 &
    FA_PID=$!
    echo "$FA_PID" >> "$SUITE_TMP/pids"
    for _ in $(seq 1 100); do
        [ -s "$d/port" ] && break
        sleep 0.1
    done
    [ -s "$d/port" ] || fail "fault proxy did not start: $(cat "$d/out")"
    FA_ADDR=127.0.0.1:$(cat "$d/port")
}

fa_proxy_stop() {
    kill "$FA_PID" 2>/dev/null || true
    wait "$FA_PID" 2>/dev/null || true
}

# fa_now: seconds since the epoch, with microseconds
fa_now() { echo "$EPOCHREALTIME"; }

# fa_since START: seconds elapsed since START, as an integer (rounded up)
fa_since() { python3 -c 'import sys,time,math; print(math.ceil(time.time()-float(sys.argv[1])))' "$1"; }

# fa_timed MAX CMD...: runs CMD (which must succeed) and fails if it took MAX s or more.
fa_timed() {
    local max=$1 start secs
    shift
    start=$(fa_now)
    "$@" > cmd.out 2> cmd.err || fail "failed (${*:1:3}...): $(cat cmd.err)"
    secs=$(fa_since "$start")
    echo "ok in ${secs}s: $*"
    [ "$secs" -lt "$max" ] || fail "took ${secs}s (bound ${max}s): $*"
}

# fa_fails MAX CMD...: CMD must fail with one error on stderr, "imgpkg:
# Error: ..." (imgpkg's multi-line form), within MAX s.
fa_fails() {
    local max=$1 start secs out rc=0
    shift
    start=$(fa_now)
    out=$("$@" 2>&1 >/dev/null) || rc=$?
    secs=$(fa_since "$start")
    echo "failed in ${secs}s (rc $rc): $*"
    echo "    $out"
    [ "$rc" != 0 ] || fail "expected failure of: $*"
    error_joined "$out" > /dev/null || fail "expected one error in imgpkg's form, got: $out"
    [ "$secs" -lt "$max" ] || fail "took ${secs}s to fail (bound ${max}s): $*"
}

# fa_digest REPO:TAG|REPO@DIGEST: the digest of the raw manifest, read
# directly from $REG_ADDR (empty when there is none).
fa_digest() {
    local repo ref
    case $1 in
    *@*) repo=${1%@*} ref=${1#*@} ;;
    *) repo=${1%:*} ref=${1##*:} ;;
    esac
    curl -sf -H "Accept: $FA_ACCEPT" "http://$REG_ADDR/v2/$repo/manifests/$ref" > digest.man || return 0
    echo "sha256:$(sha256sum < digest.man | cut -c1-64)"
}
# fa_skopeo_digest REPO:TAG: the same through skopeo inspect --raw.
fa_skopeo_digest() {
    skopeo inspect --raw --tls-verify=false "docker://$REG_ADDR/$1" > skopeo.man || return 0
    echo "sha256:$(sha256sum < skopeo.man | cut -c1-64)"
}
FA_ACCEPT="application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json"

# fa_tags REPO: the tags of REPO in $REG_ADDR, space-separated (none for an unknown repository).
fa_tags() {
    curl -s "http://$REG_ADDR/v2/$1/tags/list" |
        python3 -c 'import json,sys; print(" ".join(sorted(json.load(sys.stdin).get("tags") or [])))'
}

# fa_complete REPO: every tag of REPO (directly on $REG_ADDR) is a complete
# image: its manifest and every manifest below it are there with the right
# digest, every config and layer with the right size.  Prints the number of tags.
fa_complete() {
    python3 - "$REG_ADDR" "$1" <<'EOF'
import hashlib, json, sys, urllib.error, urllib.request
reg, repo = sys.argv[1], sys.argv[2]
base = "http://%s/v2/%s" % (reg, repo)
acc = ", ".join(["application/vnd.oci.image.manifest.v1+json", "application/vnd.oci.image.index.v1+json",
                 "application/vnd.docker.distribution.manifest.v2+json",
                 "application/vnd.docker.distribution.manifest.list.v2+json"])
def get(url, method="GET", accept=None):
    req = urllib.request.Request(url, method=method, headers={"Accept": accept} if accept else {})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status, r.headers, r.read()
try:
    tags = json.loads(get(base + "/tags/list")[2]).get("tags") or []
except urllib.error.HTTPError as e:
    tags = []
def check(ref, want=None, depth=0):
    if depth > 8:
        sys.exit("too deep at " + ref)
    try:
        _, _, raw = get(base + "/manifests/" + ref, accept=acc)
    except urllib.error.HTTPError as e:
        sys.exit("%s:%s: manifest missing (%s)" % (repo, ref, e.code))
    d = "sha256:" + hashlib.sha256(raw).hexdigest()
    if want and d != want:
        sys.exit("%s@%s: content has digest %s" % (repo, want, d))
    m = json.loads(raw)
    for c in m.get("manifests", []):
        check(c["digest"], c["digest"], depth + 1)
    for b in ([m["config"]] if "config" in m else []) + m.get("layers", []):
        try:
            _, h, _ = get(base + "/blobs/" + b["digest"], method="HEAD")
        except urllib.error.HTTPError as e:
            sys.exit("%s:%s: blob %s missing (%s)" % (repo, ref, b["digest"], e.code))
        if int(h.get("Content-Length", -1)) != b["size"]:
            sys.exit("%s:%s: blob %s has size %s, not %d" % (repo, ref, b["digest"], h.get("Content-Length"), b["size"]))
for t in tags:
    check(t)
print(len(tags))
EOF
}

# fa_blob_in REPO DIGEST: the blob is in REPO (directly on $REG_ADDR).
fa_blob_in() {
    [ "$(curl -s -o /dev/null -w '%{http_code}' -I "http://$REG_ADDR/v2/$1/blobs/$2")" = 200 ]
}

# fa_fixture: once per suite, pushes directly to $REG_ADDR three images with
# 1, 2 and 3 MB random layers (fa-src/img1..3:v1), makes the bundle folder
# $FA_SRC/bundle whose .imgpkg/images.yml references them by digest, pushes it
# (fa-src/bundle:v1), relocates it (fa-src/relocated, where the images sit
# beside the bundle) and saves it to $FA_SRC/good.tar, all without faults.
# Sets FA_SRC, FA_BUNDLE (the bundle digest), FA_IMG (the three image
# digests, space-separated) and FA_LAYER1..3 (their layer digests).  Tests
# only read these through the proxy, never write them.
fa_fixture() {
    local d=$SUITE_TMP/fa-src i dg layer
    if [ -f "$d/env" ]; then
        # shellcheck disable=SC1091
        . "$d/env"
        return 0
    fi
    rm -rf "$d"
    mkdir -p "$d/bundle/.imgpkg" "$d/bundle/config"
    printf -- '---\napiVersion: imgpkg.carvel.dev/v1alpha1\nkind: ImagesLock\nimages:\n' > "$d/bundle/.imgpkg/images.yml"
    : > "$d/env.tmp"
    FA_IMG=""
    for i in 1 2 3; do
        mkdir -p "$d/img$i"
        head -c $((i * 1000000)) /dev/urandom > "$d/img$i/data.bin"
        echo "image $i" > "$d/img$i/name.txt"
        imgpkg push --tty -i "$REG_ADDR/fa-src/img$i:v1" -f "$d/img$i" > "$d/push$i.out"
        dg=$(sed -n "s|^Pushed '[^']*@\(sha256:[0-9a-f]\{64\}\)'\$|\1|p" "$d/push$i.out")
        [ -n "$dg" ] || fail "no digest pushing image $i: $(cat "$d/push$i.out")"
        FA_IMG="$FA_IMG $dg"
        layer=$(curl -sf -H "Accept: $FA_ACCEPT" "http://$REG_ADDR/v2/fa-src/img$i/manifests/v1" |
            python3 -c 'import json,sys; print(json.load(sys.stdin)["layers"][0]["digest"])')
        echo "FA_LAYER$i=$layer" >> "$d/env.tmp"
        printf -- '- image: %s/fa-src/img%d@%s\n  annotations:\n    kbld.carvel.dev/id: img%d\n' \
            "$REG_ADDR" "$i" "$dg" "$i" >> "$d/bundle/.imgpkg/images.yml"
    done
    echo "kind: ConfigMap" > "$d/bundle/config/cm.yml"
    head -c 200000 /dev/urandom | base64 > "$d/bundle/config/random.txt"
    imgpkg push -b "$REG_ADDR/fa-src/bundle:v1" -f "$d/bundle" > /dev/null
    imgpkg copy -b "$REG_ADDR/fa-src/bundle:v1" --to-repo "$REG_ADDR/fa-src/relocated" > /dev/null
    imgpkg copy -b "$REG_ADDR/fa-src/bundle:v1" --to-tar "$d/good.tar" > /dev/null
    {
        echo "FA_SRC=$d"
        echo "FA_IMG='${FA_IMG# }'"
        echo "FA_BUNDLE=$(fa_digest fa-src/bundle:v1)"
    } >> "$d/env.tmp"
    mv "$d/env.tmp" "$d/env" # complete: later tests take it as it is
    # shellcheck disable=SC1091
    . "$d/env"
}

# fa_index_digests TAR: the manifest digests listed in the tarball's index.json, sorted.
fa_index_digests() {
    tar_member "$1" index.json | python3 -c 'import json,sys; print(" ".join(sorted(m["digest"] for m in json.load(sys.stdin)["manifests"])))'
}

# fa_relocated REPO BUNDLE_DIGEST: REPO (directly on $REG_ADDR) holds the
# bundle under v1 and each of FA_IMG under its sha256-HEX.imgpkg tag, the same
# bytes as the source, and every tag is a complete image.
fa_relocated() {
    local repo=$1 want=$2 d
    assert_eq "$want" "$(fa_skopeo_digest "$repo:v1")" "bundle digest in $repo"
    for d in $FA_IMG; do
        assert_eq "$d" "$(fa_digest "$repo:sha256-${d#sha256:}.imgpkg")" "image tag in $repo"
        assert_eq "$d" "$(fa_digest "$repo@$d")" "image in $repo"
    done
    fa_complete "$repo" > n.out || fail "incomplete image in $repo"
}

# fa_no_stray_files NAME: no NAME and no dot-file beside it, but the staging
# directory .NAME.imgpkg-partial (kept for --resume), which is not a tarball.
fa_no_stray_files() {
    assert_file_absent "$1"
    local f
    for f in .[!.]* ..?*; do
        [ -e "$f" ] || continue
        [ "$f" = ".$1.imgpkg-partial" ] || fail "stray file beside the tarball: $f"
        [ -d "$f" ] || fail "$f is not a directory"
    done
}

# fa_kinds: the number of distinct fault kinds in FA_LOG.
fa_kinds() { awk '{print $2}' "$FA_LOG" | sort -u | wc -l; }

# fa_summary: one line on the faults injected
fa_summary() {
    echo "faults: $(wc -l < "$FA_LOG") of $(wc -l < "$FA_ACCESS") requests: $(awk '{print $2}' "$FA_LOG" | sort | uniq -c | tr -s ' \n' ' ')"
}

# fa_round SEED: the whole 20% scenario with one seed.
fa_round() {
    local s=$1 p=fa$1 P
    fa_fixture
    fa_proxy "$REG_ADDR" --rate 0.2 --seed "$s"
    P=$FA_ADDR
    # push the bundle through the proxy (the same files: the same digest)
    fa_timed 120 imgpkg push --tty -b "$P/$p/bundle:v1" -f "$FA_SRC/bundle"
    assert_eq "$FA_BUNDLE" "$(sed -n "s|^Pushed '[^']*@\(sha256:[0-9a-f]\{64\}\)'\$|\1|p" cmd.out)" "pushed digest"
    assert_eq "$FA_BUNDLE" "$(fa_skopeo_digest "$p/bundle:v1")" "bundle digest in $p/bundle"
    # relocate it from the registry itself into a repository behind the proxy
    fa_timed 120 imgpkg copy -b "$REG_ADDR/$p/bundle:v1" --to-repo "$P/$p/dest"
    fa_relocated "$p/dest" "$FA_BUNDLE"
    # the bundle, read through the proxy, to a tarball (its images come from
    # their own repositories, directly) ...
    fa_timed 120 imgpkg copy -b "$P/$p/bundle:v1" --to-tar out.tar
    imgpkg verify --tar out.tar > /dev/null
    assert_eq "$(echo "$FA_BUNDLE $FA_IMG" | tr ' ' '\n' | sort | tr '\n' ' ' | sed 's/ $//')" \
        "$(fa_index_digests out.tar)" "tarball index"
    # ... and the relocated one, whose images are all read through the proxy
    fa_timed 120 imgpkg copy -b "$P/$p/dest:v1" --to-tar out2.tar
    imgpkg verify --tar out2.tar > /dev/null
    assert_eq "$(fa_index_digests out.tar)" "$(fa_index_digests out2.tar)" "second tarball index"
    assert_file_absent .out.tar.imgpkg-partial
    assert_file_absent .out2.tar.imgpkg-partial
    # the tarball into another repository behind the proxy
    fa_timed 120 imgpkg copy --tar out.tar --to-repo "$P/$p/dest2"
    fa_relocated "$p/dest2" "$FA_BUNDLE"
    fa_proxy_stop
    fa_summary
    [ "$(wc -l < "$FA_LOG")" -gt 5 ] || fail "too few faults: $(cat "$FA_LOG")"
    [ "$(fa_kinds)" -ge 4 ] || fail "too few kinds of faults: $(cat "$FA_LOG")"
}

# ---------- 20% of requests faulted: everything completes through retries ----------

test_faults_rate20_seed1() {
    fa_round 1
}

test_faults_rate20_seed2() {
    fa_round 2
}

# ---------- targeted faults that must be retried ----------

test_faults_truncated_downloads_resume() {
    # every blob download is cut short after half its body, twice, then goes
    # through: each GET is taken up again where it stopped (the bytes already
    # handed on are skipped) within the registry retry count, even for the
    # blobs read with no retry above the HTTP client (configs and the bundle
    # layer holding images.yml, read while resolving the bundle)
    fa_fixture
    fa_proxy "$REG_ADDR" --rate 1 --kinds truncate --max-faults-per-request 2 \
        --match '^GET /v2/fa-src/(relocated|img3)/blobs/sha256:'
    fa_timed 120 imgpkg copy -b "$FA_ADDR/fa-src/relocated:v1" --to-tar out.tar --registry-retry-count 2
    imgpkg verify --tar out.tar > /dev/null
    assert_eq "$(echo "$FA_BUNDLE $FA_IMG" | tr ' ' '\n' | sort | tr '\n' ' ' | sed 's/ $//')" \
        "$(fa_index_digests out.tar)" "tarball index"
    # every blob was cut short exactly twice; each layer was fetched exactly
    # three times (the copy never had to start one over), a config or the
    # bundle layer once more (read whole again by the copy after resolving)
    for b in $(tar -tf out.tar | sed -n 's|^blobs/sha256/\([0-9a-f]\{64\}\)$|sha256:\1|p'); do
        n=$(grep -c "^FAULT truncate GET /v2/fa-src/relocated/blobs/$b\$" "$FA_LOG" || true)
        m=$(grep -c " GET /v2/fa-src/relocated/blobs/$b\$" "$FA_ACCESS" || true)
        case $b/$n/$m in
        */0/0) ;; # a manifest
        "$FA_LAYER1"/2/3 | "$FA_LAYER2"/2/3 | "$FA_LAYER3"/2/3) ;;
        "$FA_LAYER1"/* | "$FA_LAYER2"/* | "$FA_LAYER3"/*) fail "layer $b: cut short $n times, fetched $m times" ;;
        */2/4) ;;
        *) fail "blob $b: cut short $n times, fetched $m times" ;;
        esac
    done
    grep -q "^FAULT truncate GET /v2/fa-src/relocated/blobs/$FA_LAYER3\$" "$FA_LOG" ||
        fail "the 3 MB layer was never cut short: $(cat "$FA_LOG")"
    # registry (through the proxy) to registry (directly): the stream is verified on the way
    fa_timed 120 imgpkg copy -i "$FA_ADDR/fa-src/img3:v1" --to-repo "$REG_ADDR/ftr/back" --registry-retry-count 2
    assert_eq "$(echo "$FA_IMG" | cut -d' ' -f3)" "$(fa_digest ftr/back:v1)" "copied image"
    fa_complete ftr/back > /dev/null || fail "incomplete image in ftr/back"
    fa_proxy_stop
    fa_summary
    assert_eq 2 "$(grep -c "^FAULT truncate GET /v2/fa-src/img3/blobs/$FA_LAYER3\$" "$FA_LOG")" "cuts of the layer read for ftr/back"
}

test_faults_upload_failures_retried() {
    # uploads (POST, the monolithic PUT, the streamed PATCH of a layer over
    # 8 MiB and its closing PUT) fail 30% of the time: each blob is sent again
    fa_fixture
    mkdir big
    head -c $((9 * 1024 * 1024)) /dev/urandom > big/big.bin
    imgpkg push -i "$REG_ADDR/fup/big:v1" -f big > /dev/null
    fa_proxy "$REG_ADDR" --rate 0.3 --seed 5 --kinds reset,close,drop,500,503 \
        --match '^(POST|PUT|PATCH) /v2/[^ ]*/blobs/uploads/'
    fa_timed 120 imgpkg copy -i "$REG_ADDR/fup/big:v1" --to-repo "$FA_ADDR/fup/dest"
    assert_eq "$(fa_digest fup/big:v1)" "$(fa_digest fup/dest:v1)" "big image"
    fa_timed 120 imgpkg push -b "$FA_ADDR/fup/bundle:v1" -f "$FA_SRC/bundle"
    fa_timed 120 imgpkg copy -b "$FA_ADDR/fup/bundle:v1" --to-repo "$FA_ADDR/fup/dest"
    fa_relocated fup/dest "$FA_BUNDLE"
    fa_proxy_stop
    fa_summary
    grep -q '^FAULT [a-z0-9]* PATCH ' "$FA_LOG" || fail "no PATCH was faulted: $(cat "$FA_LOG")"
    grep -q '^FAULT [a-z0-9]* PUT ' "$FA_LOG" || fail "no PUT was faulted: $(cat "$FA_LOG")"
}

test_faults_token_server_retried() {
    # the token server (behind the proxy) fails half its requests: tokens are fetched again
    local d tport
    mkdir f
    head -c 300000 /dev/urandom > f/data.bin
    d=$(mktemp -d "$T/tok.XXXXXX")
    tport=$(free_port)
    python3 "$HERE/token_server.py" "$tport" "$d" fa-service fa-issuer "$d/scopes.log" > "$d/log" 2>&1 &
    echo $! >> "$SUITE_TMP/pids"
    for _ in $(seq 1 100); do
        [ -s "$d/cert.pem" ] && curl -s -o /dev/null "http://127.0.0.1:$tport/" && break
        sleep 0.1
    done
    fa_proxy "127.0.0.1:$tport" --rate 0.5 --seed 3 --kinds "$FA_ALL_FAILING"
    start_registry FATOK "auth:
  token:
    realm: http://$FA_ADDR/token
    service: fa-service
    issuer: fa-issuer
    rootcertbundle: $d/cert.pem" || fail "token registry did not start"
    fa_timed 120 imgpkg push --tty -i "$FATOK_ADDR/fa/tok:v1" -f f
    want=$(sed -n "s|^Pushed '[^']*@\(sha256:[0-9a-f]\{64\}\)'\$|\1|p" cmd.out)
    fa_timed 120 imgpkg copy -i "$FATOK_ADDR/fa/tok:v1" --to-tar out.tar
    imgpkg verify --tar out.tar > /dev/null
    assert_eq "$want" "$(fa_index_digests out.tar)" "tarball index"
    fa_timed 120 imgpkg copy -i "$FATOK_ADDR/fa/tok:v1" --to-repo "$FATOK_ADDR/fa/tok2"
    fa_timed 120 imgpkg copy --tar out.tar --to-repo "$FATOK_ADDR/fa/tok3"
    fa_proxy_stop
    fa_summary
    [ "$(wc -l < "$FA_LOG")" -gt 0 ] || fail "no token request was faulted"
}

# ---------- everything faulted: clean failures, nothing half-written ----------

test_faults_total_outage() {
    fa_fixture
    fa_proxy "$REG_ADDR" --rate 1 --kinds "$FA_ALL_FAILING"
    P=$FA_ADDR
    fa_fails 120 imgpkg push -b "$P/fto-dead/bundle:v1" -f "$FA_SRC/bundle" --registry-retry-count 2
    fa_fails 120 imgpkg copy -b "$REG_ADDR/fa-src/bundle:v1" --to-repo "$P/fto-dead/dest" --registry-retry-count 2
    fa_fails 120 imgpkg copy -b "$P/fa-src/bundle:v1" --to-tar out.tar --registry-retry-count 2
    fa_no_stray_files out.tar
    fa_fails 120 imgpkg copy --tar "$FA_SRC/good.tar" --to-repo "$P/fto-dead/dest2" --registry-retry-count 2
    # the default count (5): 6 pings with 100 ms .. 1.6 s between them (~5 s measured)
    fa_fails 60 imgpkg copy -b "$P/fa-src/bundle:v1" --to-tar out.tar
    fa_no_stray_files out.tar
    fa_proxy_stop
    fa_summary
    for r in fto-dead/bundle fto-dead/dest fto-dead/dest2; do
        assert_eq "" "$(fa_tags "$r")" "tags in $r"
    done
    [ "$(fa_kinds)" -ge 4 ] || fail "too few kinds of faults: $(cat "$FA_LOG")"
}

test_faults_dead_layer() {
    # one layer can never be uploaded nor downloaded (and nothing at all can be
    # uploaded to fdl-dead/bundle): every command fails half-way, yet no tag
    # points at an incomplete image and no tarball is written
    fa_fixture
    fa_proxy "$REG_ADDR" --rate 1 --kinds "$FA_NOT_FORWARDED" \
        --match "^(POST|PUT|PATCH) /v2/fdl-dead/bundle/|^PUT [^ ]*digest=$FA_LAYER2|^GET [^ ]*/blobs/$FA_LAYER2"
    P=$FA_ADDR
    fa_fails 120 imgpkg push -b "$P/fdl-dead/bundle:v1" -f "$FA_SRC/bundle" --registry-retry-count 2
    fa_fails 120 imgpkg copy -b "$REG_ADDR/fa-src/bundle:v1" --to-repo "$P/fdl-dead/dest" --registry-retry-count 2
    fa_blob_in fdl-dead/dest "$FA_LAYER3" || fail "the copy did not get half-way"
    fa_fails 120 imgpkg copy -b "$P/fa-src/relocated:v1" --to-tar out.tar --registry-retry-count 2
    fa_no_stray_files out.tar
    [ -d .out.tar.imgpkg-partial ] || fail "no staging kept for --resume"
    fa_fails 120 imgpkg copy --tar "$FA_SRC/good.tar" --to-repo "$P/fdl-dead/dest2" --registry-retry-count 2
    # the default count (5): the blob is tried 6 times with 200 ms .. 3.2 s
    # between, each attempt a GET tried 6 times with 100 ms .. 1.6 s between
    # (~26 s measured; a dead upload, whose PUT cannot be sent again by itself,
    # fails in ~9 s)
    fa_fails 90 imgpkg copy -b "$P/fa-src/relocated:v1" --to-tar out.tar --resume
    fa_no_stray_files out.tar
    fa_proxy_stop
    fa_summary
    for r in fdl-dead/bundle fdl-dead/dest fdl-dead/dest2; do
        assert_eq "" "$(fa_tags "$r")" "tags in $r"
        assert_eq 0 "$(fa_complete "$r")" "tags in $r"
    done
    grep -q "^FAULT [a-z0-9-]* PUT /v2/fdl-dead/dest/blobs/uploads/" "$FA_LOG" || fail "no upload was faulted"
    grep -q "^FAULT [a-z0-9-]* GET /v2/fa-src/relocated/blobs/$FA_LAYER2" "$FA_LOG" || fail "no download was faulted"
    # what was fetched is kept: the copy resumes without the proxy
    imgpkg copy -b "$REG_ADDR/fa-src/relocated:v1" --to-tar out.tar --resume > /dev/null
    imgpkg verify --tar out.tar > /dev/null
    assert_file_absent .out.tar.imgpkg-partial
}

test_faults_dead_tag() {
    # the bundle's tag can never be written: everything else was, and every
    # tag that exists is a complete image
    fa_fixture
    fa_proxy "$REG_ADDR" --rate 1 --kinds "$FA_NOT_FORWARDED" --match '^PUT /v2/[^ ]*/manifests/v1$'
    fa_fails 120 imgpkg copy -b "$REG_ADDR/fa-src/bundle:v1" --to-repo "$FA_ADDR/fdt-dead/dest" --registry-retry-count 2
    fa_fails 120 imgpkg push -b "$FA_ADDR/fdt-dead/bundle:v1" -f "$FA_SRC/bundle" --registry-retry-count 2
    fa_proxy_stop
    fa_summary
    case " $(fa_tags fdt-dead/dest) " in *" v1 "*) fail "v1 was tagged" ;; esac
    fa_complete fdt-dead/dest > n.out || fail "incomplete image in fdt-dead/dest"
    assert_eq "" "$(fa_tags fdt-dead/bundle)" "tags in fdt-dead/bundle"
    assert_eq "" "$(fa_digest fdt-dead/dest:v1)" "fdt-dead/dest:v1"
    assert_eq "" "$(fa_digest fdt-dead/bundle:v1)" "fdt-dead/bundle:v1"
}
