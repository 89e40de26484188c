# t-registry.sh - imgpkg push and copy against a plain-HTTP registry ($REG_ADDR),
# read back by skopeo and umoci; registries that are down or never answer; a
# push that fails half-way leaves no tag.

# ---------- helpers (names start with rg_; every t-*.sh shares one shell) ----------

# rg_same_image SRC DST: two skopeo transports hold the same image: the same raw
# manifest (so the same manifest digest), config digest and layer digests.
rg_same_image() {
    skopeo inspect --raw --tls-verify=false "$1" > src.man
    skopeo inspect --raw --tls-verify=false "$2" > dst.man
    cmp -s src.man dst.man || fail "manifests differ: $1: $(cat src.man) / $2: $(cat dst.man)"
    assert_eq "$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "$1")" \
        "$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "$2")" "manifest digest"
    local want got
    want=$(json src.man "[d['config']['digest']] + [l['digest'] for l in d['layers']]")
    got=$(json dst.man "[d['config']['digest']] + [l['digest'] for l in d['layers']]")
    assert_eq "$want" "$got" "config and layer digests"
    # the config blob itself arrived intact
    skopeo inspect --config --raw --tls-verify=false "$2" > dst.cfg
    assert_eq "$(json src.man "d['config']['digest']")" "sha256:$(sha256sum < dst.cfg | cut -c1-64)" "config blob"
}

# rg_tags REPO: the tags/list of REPO in $REG_ADDR (empty when the repository is unknown).
rg_tags() {
    curl -s "http://$REG_ADDR/v2/$1/tags/list" |
        python3 -c 'import json,sys; print(" ".join(json.load(sys.stdin).get("tags") or []))'
}

# ---------- pushing files ----------

test_registry_push_files_with_tarball_and_lock() {
    make_bundle b
    head -c 40000 /dev/urandom > b/config/random.bin
    imgpkg push --tty --oci -b "$REG_ADDR/x/bundle:v1" -f b --to-oci-tar out.tar --lock-output lock.yml > out.txt
    pushed=$(sed -n "s|^Pushed '$REG_ADDR/x/bundle@\(sha256:[0-9a-f]\{64\}\)'\$|\1|p" out.txt)
    [ -n "$pushed" ] || fail "no Pushed line: $(cat out.txt)"
    reg=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$REG_ADDR/x/bundle:v1")
    tarball=$(skopeo inspect --format '{{.Digest}}' oci-archive:out.tar:v1)
    lock=$(sed -n "s|^  image: $REG_ADDR/x/bundle@\(sha256:[0-9a-f]\{64\}\)\$|\1|p" lock.yml)
    assert_eq "$pushed" "$reg" "registry digest"
    assert_eq "$reg" "$tarball" "tarball digest"
    assert_eq "$reg" "$lock" "lock digest"
    assert_eq "BundleLock" "$(sed -n 's/^kind: //p' lock.yml)" "lock kind"
    assert_eq "v1" "$(sed -n 's/^  tag: //p' lock.yml)" "lock tag"
    imgpkg verify --tar out.tar > /dev/null
    skopeo inspect --tls-verify=false "docker://$REG_ADDR/x/bundle:v1" > insp.json
    assert_eq "true" "$(json insp.json "d['Labels']['dev.carvel.imgpkg.bundle']")" "bundle label"
    # read back and unpacked: the original files
    skopeo copy -q --src-tls-verify=false "docker://$REG_ADDR/x/bundle:v1" oci:back:v1 > /dev/null
    umoci unpack --rootless --image back:v1 ub > /dev/null
    diff -r b ub/rootfs > diff.out 2>&1 || fail "unpacked tree differs: $(cat diff.out)"
    # without --tty nothing is printed on success; an image (-i) gets an ImagesLock
    make_files f
    imgpkg push -i "$REG_ADDR/x/files:v2" -f f --lock-output ilock.yml > quiet.txt
    [ ! -s quiet.txt ] || fail "output without --tty: $(cat quiet.txt)"
    assert_eq "ImagesLock" "$(sed -n 's/^kind: //p' ilock.yml)" "ImagesLock kind"
    assert_contains "$(cat ilock.yml)" \
        "$REG_ADDR/x/files@$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$REG_ADDR/x/files:v2")"
}

test_registry_push_tags_sha256_tag() {
    # as imgpkg: what push puts under REPO:TAG is also tagged sha256-<hex>.imgpkg
    make_bundle b
    imgpkg push -b "$REG_ADDR/t/bundle:v1" -f b > /dev/null
    d=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$REG_ADDR/t/bundle:v1")
    tags=$(curl -s "http://$REG_ADDR/v2/t/bundle/tags/list" | python3 -c 'import json,sys; print(" ".join(sorted(json.load(sys.stdin)["tags"])))')
    assert_eq "sha256-${d#sha256:}.imgpkg v1" "$tags" "tags of a pushed bundle"
    # an image with no tag: latest and the digest tag
    make_files f
    imgpkg push -i "$REG_ADDR/t/files" -f f > /dev/null
    d=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$REG_ADDR/t/files:latest")
    tags=$(curl -s "http://$REG_ADDR/v2/t/files/tags/list" | python3 -c 'import json,sys; print(" ".join(sorted(json.load(sys.stdin)["tags"])))')
    assert_eq "latest sha256-${d#sha256:}.imgpkg" "$tags" "tags of a pushed image"
    # a saved tarball pushed with -b gets both too
    imgpkg save -b example.com/t/saved:v2 -f b --to-tar s.tar > /dev/null
    imgpkg push --tar s.tar -b "$REG_ADDR/t/saved:v2" > /dev/null
    d=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$REG_ADDR/t/saved:v2")
    tags=$(curl -s "http://$REG_ADDR/v2/t/saved/tags/list" | python3 -c 'import json,sys; print(" ".join(sorted(json.load(sys.stdin)["tags"])))')
    assert_eq "sha256-${d#sha256:}.imgpkg v2" "$tags" "tags of a pushed tarball"
}

test_registry_push_tty_lists_layer() {
    # imgpkg's push output on a terminal: each layer entry, then Pushed
    make_bundle b
    imgpkg push --tty -b "$REG_ADDR/t/listed:v1" -f b > out.txt
    d=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$REG_ADDR/t/listed:v1")
    printf '%s\n' "dir: ." "dir: .imgpkg" "file: .imgpkg/images.yml" "dir: config" \
        "file: config/cm.yml" "dir: config/sub" "file: config/sub/values.yml" "file: run.sh" \
        "Pushed '$REG_ADDR/t/listed@$d'" "Succeeded" > want.txt
    diff want.txt out.txt > diff.out || fail "push --tty output differs from imgpkg's: $(cat diff.out)"
}

test_registry_pull_index_refused() {
    # as imgpkg: pull takes images, not indexes, and says how to name one
    umoci init --layout L > /dev/null
    umoci new --image L:amd > /dev/null
    umoci config --image L:amd --os linux --architecture amd64 > /dev/null
    python3 - <<'PY'
import hashlib, json
idx = json.load(open("L/index.json"))
m = dict(idx["manifests"][0])
m.pop("annotations", None)
m["platform"] = {"os": "linux", "architecture": "amd64"}
b = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                "manifests": [m]}, separators=(",", ":")).encode()
h = hashlib.sha256(b).hexdigest()
open("L/blobs/sha256/" + h, "wb").write(b)
idx["manifests"].append({"mediaType": "application/vnd.oci.image.index.v1+json",
                         "digest": "sha256:" + h, "size": len(b),
                         "annotations": {"org.opencontainers.image.ref.name": "multi"}})
json.dump(idx, open("L/index.json", "w"))
PY
    skopeo copy -q --all --dest-tls-verify=false oci:L:multi "docker://$REG_ADDR/t/multi:v1"
    expect_fail "^imgpkg: Error: Unable to pull non-images, such as image indexes\. \(hint: provide a specific digest to the image instead\)$" \
        imgpkg pull -i "$REG_ADDR/t/multi:v1" -o out
    assert_file_absent out
    # the image itself, by digest, pulls
    amd=$(python3 -c 'import json; print(json.load(open("L/index.json"))["manifests"][0]["digest"])')
    imgpkg pull -i "$REG_ADDR/t/multi@$amd" -o out > /dev/null
    [ -d out ] || fail "pull by digest made no output"
}

test_registry_push_large_layer_streamed() {
    # a layer over 8 MiB goes up as one streamed PATCH, then a PUT
    mkdir f
    head -c $((9 * 1024 * 1024)) /dev/urandom > f/big.bin
    echo small > f/small.txt
    imgpkg push --tty --oci -i "$REG_ADDR/rg-large/app:v1" -f f --to-oci-tar out.tar > out.txt
    pushed=$(sed -n "s|^Pushed '$REG_ADDR/rg-large/app@\(sha256:[0-9a-f]\{64\}\)'\$|\1|p" out.txt)
    assert_eq "$pushed" "$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$REG_ADDR/rg-large/app:v1")" "registry digest"
    rg_same_image oci-archive:out.tar:v1 "docker://$REG_ADDR/rg-large/app:v1"
    skopeo copy -q --src-tls-verify=false "docker://$REG_ADDR/rg-large/app:v1" oci:back:v1 > /dev/null
    imgpkg verify --oci-layout back > /dev/null
    umoci unpack --rootless --image back:v1 ub > /dev/null
    cmp f/big.bin ub/rootfs/big.bin || fail "big.bin differs after the round trip"
}

# ---------- pushing and copying layouts keeps every digest ----------

test_registry_push_tar_keeps_digests() {
    make_bundle b
    head -c 30000 /dev/urandom > b/data.bin
    imgpkg save --oci -b example.com/team/bundle:v3 -f b --to-tar bundle.tar > /dev/null
    # --to-repo: the tag is the image's ref.name in the tarball
    imgpkg push --tar bundle.tar --to-repo "$REG_ADDR/rg-tar/torepo" > /dev/null
    assert_eq "v3" "$(rg_tags rg-tar/torepo)" "tags after --to-repo"
    rg_same_image oci-archive:bundle.tar:v3 "docker://$REG_ADDR/rg-tar/torepo:v3"
    # -b REF: the tag is REF's, and a lock is written
    imgpkg push --tar bundle.tar -b "$REG_ADDR/rg-tar/named:given" --lock-output lock.yml > /dev/null
    rg_same_image oci-archive:bundle.tar:v3 "docker://$REG_ADDR/rg-tar/named:given"
    assert_contains "$(cat lock.yml)" \
        "$REG_ADDR/rg-tar/named@$(skopeo inspect --format '{{.Digest}}' oci-archive:bundle.tar:v3)"
    # a plain image with -i, from a layout directory
    make_files f
    imgpkg save --oci -i example.com/team/files:v1 -f f --to-oci-layout lay > /dev/null
    imgpkg push --oci-layout lay -i "$REG_ADDR/rg-tar/image:one" > /dev/null
    rg_same_image oci:lay:v1 "docker://$REG_ADDR/rg-tar/image:one"
    # pushing the same thing again is a no-op that succeeds
    imgpkg push --tar bundle.tar --to-repo "$REG_ADDR/rg-tar/torepo" > /dev/null
    rg_same_image oci-archive:bundle.tar:v3 "docker://$REG_ADDR/rg-tar/torepo:v3"
}

test_registry_copy_skopeo_archive_keeps_digests() {
    umoci init --layout L > /dev/null
    umoci new --image L:t1 > /dev/null
    mkdir -p content/etc
    echo "from umoci" > content/etc/hello.txt
    head -c 20000 /dev/urandom > content/blob.bin
    umoci insert --rootless --image L:t1 content/etc /etc > /dev/null
    umoci insert --rootless --image L:t1 content/blob.bin /blob.bin > /dev/null
    skopeo copy -q oci:L:t1 oci-archive:f.tar:t1 > /dev/null
    rg_same_image oci:L:t1 oci-archive:f.tar:t1
    assert_eq 2 "$(skopeo inspect --raw oci-archive:f.tar:t1 | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["layers"]))')" "layers"
    imgpkg copy --tar f.tar --to-repo "$REG_ADDR/rg-copy/app" --lock-output lock.yml > /dev/null
    # (imgpkg's copy may add tags of its own, e.g. sha256-HEX.imgpkg)
    case " $(rg_tags rg-copy/app) " in *" t1 "*) ;; *) fail "tag t1 missing: $(rg_tags rg-copy/app)" ;; esac
    rg_same_image oci-archive:f.tar:t1 "docker://$REG_ADDR/rg-copy/app:t1"
    assert_contains "$(cat lock.yml)" \
        "$REG_ADDR/rg-copy/app@$(skopeo inspect --format '{{.Digest}}' oci-archive:f.tar:t1)"
    # the registry's copy unpacks to the same files
    skopeo copy -q --src-tls-verify=false "docker://$REG_ADDR/rg-copy/app:t1" oci:back:t1 > /dev/null
    umoci unpack --rootless --image back:t1 ub > /dev/null
    assert_eq "from umoci" "$(cat ub/rootfs/etc/hello.txt)"
    cmp content/blob.bin ub/rootfs/blob.bin || fail "blob.bin differs"
}

# ---------- registries that fail ----------

test_registry_down_fails_quickly() {
    make_files f
    port=$(free_port)
    start=$(date +%s)
    expect_fail "127\.0\.0\.1:$port.*(onnect|refused)" imgpkg push -i "127.0.0.1:$port/x/app:v1" -f f
    secs=$(( $(date +%s) - start ))
    [ "$secs" -lt 10 ] || fail "took ${secs}s to notice a registry that is down"
    start=$(date +%s)
    expect_fail "127\.0\.0\.1:$port.*(onnect|refused)" imgpkg push --registry-insecure -i "127.0.0.1:$port/x/app:v1" -f f
    secs=$(( $(date +%s) - start ))
    [ "$secs" -lt 10 ] || fail "took ${secs}s to notice a registry that is down (--registry-insecure)"
}

test_registry_never_answering_times_out() {
    make_files f
    port=$(free_port)
    # accepts every connection, reads, never answers
    python3 -c '
import socket, sys, threading, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(64)
held = []
def hold(c):
    try:
        while c.recv(65536):
            pass
    except OSError:
        pass
    time.sleep(3600)
while True:
    c, _ = s.accept()
    held.append(c)
    threading.Thread(target=hold, args=(c,), daemon=True).start()
' "$port" > /dev/null 2>&1 &
    echo $! >> "$SUITE_TMP/pids"
    wait_port "$port"
    start=$(date +%s)
    expect_fail "127\.0\.0\.1:$port.*(no answer in time|[Tt]ime)" \
        imgpkg push -i "127.0.0.1:$port/x/app:v1" -f f --registry-response-header-timeout 2s
    secs=$(( $(date +%s) - start ))
    [ "$secs" -lt 20 ] || fail "took ${secs}s with --registry-response-header-timeout 2s"
}

test_registry_failed_push_leaves_no_tag() {
    mkdir f
    head -c 60000 /dev/urandom > f/random.bin
    imgpkg save --oci -i example.com/team/broken:v1 -f f --to-tar good.tar > /dev/null
    layer=$(skopeo inspect --raw oci-archive:good.tar:v1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["layers"][0]["digest"])')
    # the same tarball, one byte of the layer blob flipped
    python3 - good.tar bad.tar "blobs/sha256/${layer#sha256:}" <<'EOF'
import io, sys, tarfile
src, dst, victim = sys.argv[1:4]
with tarfile.open(src) as t, tarfile.open(dst, "w", format=tarfile.PAX_FORMAT) as o:
    for m in t.getmembers():
        data = t.extractfile(m).read() if m.isreg() else None
        if m.name == victim:
            b = bytearray(data)
            b[len(b) // 2] ^= 0x01
            data = bytes(b)
        o.addfile(m, io.BytesIO(data) if data is not None else None)
EOF
    # imgpkg finds the damage itself (the registry would refuse the blob too)
    expect_fail "${layer}.*bad\.tar.*digest" imgpkg copy --tar bad.tar --to-repo "$REG_ADDR/rg-broken/app"
    expect_fail "${layer}.*bad\.tar.*digest" imgpkg push --tar bad.tar -i "$REG_ADDR/rg-broken/other:v1"
    if skopeo inspect --tls-verify=false "docker://$REG_ADDR/rg-broken/app:v1" > insp.out 2>&1; then
        fail "a tag points at the broken image: $(cat insp.out)"
    fi
    if skopeo inspect --tls-verify=false "docker://$REG_ADDR/rg-broken/other:v1" > insp.out 2>&1; then
        fail "a tag points at the broken image: $(cat insp.out)"
    fi
    assert_eq "" "$(rg_tags rg-broken/app)" "tags of the failed push"
    assert_eq "" "$(rg_tags rg-broken/other)" "tags of the failed push"
    # the good tarball still goes through, into the same repository
    imgpkg copy --tar good.tar --to-repo "$REG_ADDR/rg-broken/app" > /dev/null
    rg_same_image oci-archive:good.tar:v1 "docker://$REG_ADDR/rg-broken/app:v1"
}

test_registry_gzip_encoded_answers() {
    # a proxy in front of the registry that gzip-encodes every answer but the
    # blobs' when asked to, and notes each request's Accept-Encoding
    cat > gz.py <<'PY'
import gzip, http.server, socketserver, sys, urllib.request
up, log = sys.argv[2], open(sys.argv[3], "a", buffering=1)
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def do_GET(self):
        log.write("%s %s\n" % (self.path, self.headers.get("Accept-Encoding", "-")))
        req = urllib.request.Request("http://" + up + self.path,
                                     headers={"Accept": self.headers.get("Accept", "*/*")})
        try:
            r = urllib.request.urlopen(req)
            code, hdrs, body = r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            code, hdrs, body = e.code, e.headers, e.read()
        enc = "/blobs/" not in self.path and "gzip" in self.headers.get("Accept-Encoding", "")
        if enc:
            body = gzip.compress(body)
        self.send_response(code)
        for k in ("Content-Type", "Docker-Content-Digest"):
            if hdrs.get(k):
                self.send_header(k, hdrs[k])
        if enc:
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    do_HEAD = do_GET
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
S(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
    make_files f
    imgpkg push -i "$REG_ADDR/rg-gz/app:v1" -f f > /dev/null
    port=$(free_port)
    python3 gz.py "$port" "$REG_ADDR" gz.log 2> gz.err &
    echo $! >> "$SUITE_TMP/pids"
    wait_port "$port" || fail "the proxy did not start: $(cat gz.err)"
    imgpkg pull -i "127.0.0.1:$port/rg-gz/app:v1" -o out > /dev/null
    diff -r f out || fail "pulled files differ"
    imgpkg tag list -i "127.0.0.1:$port/rg-gz/app" > tags.txt
    grep -q v1 tags.txt || fail "tag list through gzip: $(cat tags.txt)"
    # every request asked for gzip, blobs too (as imgpkg's), and blobs came raw
    grep -q '/manifests/v1 gzip$' gz.log || fail "manifest without gzip: $(cat gz.log)"
    grep -q '/blobs/sha256:[0-9a-f]* gzip$' gz.log || fail "blob without gzip: $(cat gz.log)"
    ! grep -v ' gzip$' gz.log || fail "a request without Accept-Encoding: gzip"
}
