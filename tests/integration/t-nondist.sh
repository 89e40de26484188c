# t-nondist.sh - non-distributable (foreign) layers and mounts from a
# tarball's recorded origins.  Images with Docker foreign layers whose `urls`
# point at a small HTTP server on 127.0.0.1 are pushed with curl into a
# registry configured to accept such URLs.  Checked: imgpkg's grouped warning
# for the layers left out, the fetch of a layer the registry lacks from its
# urls (never with the registry's credentials), `copy --tar` into the origin's
# registry mounting every blob from the origin (a proxy's access log shows the
# requests), a layer the tarball lacks taken from the origin when it holds it,
# else imgpkg's error and hint before anything is pushed, a refused mount
# falling back to an upload, and no request at all to an origin on another
# registry.

ND_MT_FOREIGN=application/vnd.docker.image.rootfs.foreign.diff.tar.gzip
ND_WARN="copy | Warning: Skipped the followings layer(s) due to it being non-distributable. If you would like to include non-distributable layers, use the --include-non-distributable-layers flag"
ND_HINT="(hint: This may be because when copying to a tarball, the --include-non-distributable-layers flag should have been provided.)"

# nd_registry NAME [EXTRA_YAML]: a registry that accepts layers with http(s) urls.
nd_registry() {
    start_registry "$1" "validation: {manifests: {urls: {allow: ['^https?://']}}}
${2:-}"
}

# nd_url_server DIR: serves the files of DIR over plain HTTP on 127.0.0.1;
# sets ND_URL (http://127.0.0.1:PORT) and ND_URL_LOG (one line per request:
# "METHOD PATH AUTHORIZATION-or--").
nd_url_server() {
    local dir=$1 d
    d=$(mktemp -d "$T/urlsrv.XXXXXX")
    ND_URL_LOG=$d/requests.log
    : > "$ND_URL_LOG"
    cat > "$d/server.py" <<'EOF'
import http.server, os, sys
root, log, portfile = sys.argv[1:4]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with open(log, "a") as f:
            f.write("%s %s %s\n" % (self.command, self.path, self.headers.get("Authorization", "-")))
        p = os.path.join(root, os.path.basename(self.path))
        if not os.path.isfile(p):
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        data = open(p, "rb").read()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def log_message(self, *a):
        pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
s.timeout = 1
open(portfile + ".tmp", "w").write(str(s.server_address[1]))
os.rename(portfile + ".tmp", portfile)
import threading, time
threading.Timer(240, lambda: os._exit(0)).start()
s.serve_forever()
EOF
    python3 "$d/server.py" "$dir" "$ND_URL_LOG" "$d/port" > "$d/out" 2>&1 &
    echo "$!" >> "$SUITE_TMP/pids"
    for _ in $(seq 1 100); do
        [ -s "$d/port" ] && break
        sleep 0.1
    done
    [ -s "$d/port" ] || fail "url server did not start: $(cat "$d/out")"
    ND_URL=http://127.0.0.1:$(cat "$d/port")
}

# nd_proxy UPSTREAM: a fault-free fault_proxy.py in front of 127.0.0.1:PORT;
# sets ND_PROXY (host:port) and ND_PROXY_LOG (one line per request).
nd_proxy() {
    local d
    d=$(mktemp -d "$T/proxy.XXXXXX")
    ND_PROXY_LOG=$d/access.log
    python3 "$HERE/fault_proxy.py" --upstream "$1" --port-file "$d/port" --rate 0 \
        --access-log "$ND_PROXY_LOG" --log-query --max-seconds 240 > "$d/out" 2>&1 &
    echo "$!" >> "$SUITE_TMP/pids"
    for _ in $(seq 1 100); do
        [ -s "$d/port" ] && break
        sleep 0.1
    done
    [ -s "$d/port" ] || fail "proxy did not start: $(cat "$d/out")"
    ND_PROXY=127.0.0.1:$(cat "$d/port")
    : > "$ND_PROXY_LOG"
}

nd_digest() { echo "sha256:$(sha256sum < "$1" | cut -c1-64)"; }

# nd_upload REG REPO FILE: uploads FILE as a blob (monolithic POST + PUT).
nd_upload() {
    local loc sep
    loc=$(curl -sf ${ND_CURL_AUTH:+-u "$ND_CURL_AUTH"} -X POST -D - -o /dev/null \
        "http://$1/v2/$2/blobs/uploads/" | tr -d '\r' | awk -F': ' 'tolower($1)=="location"{print $2}')
    [ -n "$loc" ] || fail "no upload location from $1/$2"
    case $loc in http*) ;; *) loc=http://$1$loc ;; esac
    case $loc in *\?*) sep='&' ;; *) sep='?' ;; esac
    curl -sf ${ND_CURL_AUTH:+-u "$ND_CURL_AUTH"} -X PUT -H 'Content-Type: application/octet-stream' \
        --data-binary "@$3" "$loc${sep}digest=$(nd_digest "$3")" -o /dev/null || fail "uploading $3 to $1/$2"
}

# nd_layer FILE: a small gzip layer with random content.
nd_layer() {
    head -c 2000 /dev/urandom > "$1.raw"
    gzip -n < "$1.raw" > "$1"
    rm -f "$1.raw"
}

# nd_push_image REG REPO TAG FOREIGN=URL...: pushes a Docker image with one
# ordinary layer (uploaded) and a foreign layer per FOREIGN=URL (not uploaded;
# its descriptor carries the URL); prints the manifest digest.  With ND_OCI=1,
# an OCI image whose such layers are application/vnd.oci.image.layer.nondistributable.v1.tar+gzip.
nd_push_image() {
    local reg=$1 repo=$2 tag=$3 w layers diffs f u
    local mt_m=application/vnd.docker.distribution.manifest.v2+json
    local mt_c=application/vnd.docker.container.image.v1+json
    local mt_l=application/vnd.docker.image.rootfs.diff.tar.gzip mt_f=$ND_MT_FOREIGN
    if [ "${ND_OCI:-}" = 1 ]; then
        mt_m=application/vnd.oci.image.manifest.v1+json
        mt_c=application/vnd.oci.image.config.v1+json
        mt_l=application/vnd.oci.image.layer.v1.tar+gzip
        mt_f=application/vnd.oci.image.layer.nondistributable.v1.tar+gzip
    fi
    shift 3
    w=$(mktemp -d "$T/img.XXXXXX")
    nd_layer "$w/l1"
    layers="{\"mediaType\":\"$mt_l\",\"size\":$(stat -c%s "$w/l1"),\"digest\":\"$(nd_digest "$w/l1")\"}"
    diffs="\"sha256:$(gunzip < "$w/l1" | sha256sum | cut -c1-64)\""
    for spec in "$@"; do
        f=${spec%%=*}
        u=${spec#*=}
        layers="$layers,{\"mediaType\":\"$mt_f\",\"size\":$(stat -c%s "$f"),\"digest\":\"$(nd_digest "$f")\",\"urls\":[\"$u\"]}"
        diffs="$diffs,\"sha256:$(gunzip < "$f" | sha256sum | cut -c1-64)\""
    done
    printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[%s]},"config":{}}' \
        "$diffs" > "$w/cfg"
    nd_upload "$reg" "$repo" "$w/cfg"
    nd_upload "$reg" "$repo" "$w/l1"
    printf '{"schemaVersion":2,"mediaType":"%s","config":{"mediaType":"%s","size":%s,"digest":"%s"},"layers":[%s]}' \
        "$mt_m" "$mt_c" "$(stat -c%s "$w/cfg")" "$(nd_digest "$w/cfg")" "$layers" > "$w/m"
    curl -sf ${ND_CURL_AUTH:+-u "$ND_CURL_AUTH"} -X PUT -H "Content-Type: $mt_m" \
        --data-binary "@$w/m" "http://$reg/v2/$repo/manifests/$tag" -o /dev/null ||
        fail "registry $reg refused the manifest of $repo:$tag"
    nd_digest "$w/m"
}

# nd_blob_status REG REPO DIGEST: the HTTP status of a HEAD on the blob.
nd_blob_status() {
    curl -s ${ND_CURL_AUTH:+-u "$ND_CURL_AUTH"} -o /dev/null -w '%{http_code}' -I "http://$1/v2/$2/blobs/$3"
}

# nd_warning_block FILE: the lines of imgpkg's skipped-layers warning in FILE.
nd_warning_block() {
    awk '/^copy \| Warning: Skipped/{on=1; print; next} on && /^copy \|  /{print; next} {on=0}' "$1"
}

test_nondist_to_tar_warning_grouped_per_image() {
    nd_registry NDW
    mkdir www
    nd_layer www/f1
    nd_layer www/f2
    nd_url_server www
    F1=$(nd_digest www/f1)
    F2=$(nd_digest www/f2)
    D1=$(nd_push_image "$NDW_ADDR" src/one v1 "www/f1=$ND_URL/f1")
    D2=$(nd_push_image "$NDW_ADDR" src/two v1 "www/f1=$ND_URL/f1" "www/f2=$ND_URL/f2")
    mkdir -p b/.imgpkg
    printf -- '---\napiVersion: imgpkg.carvel.dev/v1alpha1\nkind: ImagesLock\nimages:\n- image: %s\n- image: %s\n' \
        "$NDW_ADDR/src/one@$D1" "$NDW_ADDR/src/two@$D2" > b/.imgpkg/images.yml
    imgpkg push -b "$NDW_ADDR/src/bundle:v1" -f b > /dev/null

    imgpkg copy -b "$NDW_ADDR/src/bundle:v1" --to-tar b.tar --tty > out.txt
    cat > want.txt <<EOF
$ND_WARN
copy |  - Image: $NDW_ADDR/src/one@$D1
copy |    Layers:
copy |      - $F1
copy |  - Image: $NDW_ADDR/src/two@$D2
copy |    Layers:
copy |      - $F1
copy |      - $F2
EOF
    nd_warning_block out.txt > got.txt
    diff want.txt got.txt || fail "warning: $(cat out.txt)"
    # the layers are not in the tarball, the manifests still name them
    ! tar -tf b.tar | grep -q "$(echo "$F1" | cut -c8-)" || fail "f1 is in the tarball"
    ! tar -tf b.tar | grep -q "$(echo "$F2" | cut -c8-)" || fail "f2 is in the tarball"
    [ ! -s "$ND_URL_LOG" ] || fail "the urls were fetched without the flag: $(cat "$ND_URL_LOG")"
    # without a terminal nothing is printed, as imgpkg
    imgpkg copy -i "$NDW_ADDR/src/two:v1" --to-tar two.tar > out2.txt 2> err2.txt
    [ ! -s out2.txt ] && [ ! -s err2.txt ] || fail "printed without --tty: $(cat out2.txt err2.txt)"
    # through the staging directory too (--resume), the layers left out are not looked for
    imgpkg copy -i "$NDW_ADDR/src/two:v1" --to-tar staged.tar --resume > /dev/null
    assert_eq 3 "$(tar -tf staged.tar | grep -c '^blobs/sha256/.')" "blobs in staged.tar (manifest, config, one layer)"
    ! tar -tf staged.tar | grep -q "$(echo "$F2" | cut -c8-)" || fail "f2 is in staged.tar"
    # OCI's non-distributable media type is left out the same way
    nd_layer www/f3
    F3=$(nd_digest www/f3)
    D3=$(ND_OCI=1 nd_push_image "$NDW_ADDR" src/oci v1 "www/f3=$ND_URL/f3")
    imgpkg copy -i "$NDW_ADDR/src/oci:v1" --to-tar oci.tar --tty > out4.txt
    printf '%s\ncopy |  - Image: %s\ncopy |    Layers:\ncopy |      - %s\n' "$ND_WARN" \
        "$NDW_ADDR/src/oci@$D3" "$F3" > want4.txt
    nd_warning_block out4.txt > got4.txt
    diff want4.txt got4.txt || fail "warning (OCI): $(cat out4.txt)"
    ! tar -tf oci.tar | grep -q "$(echo "$F3" | cut -c8-)" || fail "f3 is in oci.tar"
    # the flag on images without such layers
    mkdir plain && echo hi > plain/a
    imgpkg push -i "$NDW_ADDR/src/plain:v1" -f plain > /dev/null
    imgpkg copy -i "$NDW_ADDR/src/plain:v1" --to-tar p.tar --include-non-distributable-layers --tty > out3.txt
    assert_contains "$(cat out3.txt)" "copy | Warning: '--include-non-distributable-layers' flag provided, but no images contained a non-distributable layer."
    if [ -n "${IMGPKG_PEER:-}" ]; then
        "$IMGPKG_PEER" copy -i "$NDW_ADDR/src/two:v1" --to-tar peer.tar --tty > peer.txt
        imgpkg copy -i "$NDW_ADDR/src/two:v1" --to-tar ours.tar --tty > ours.txt
        nd_warning_block peer.txt > peer-w.txt
        nd_warning_block ours.txt > ours-w.txt
        [ -s peer-w.txt ] || fail "no warning from imgpkg: $(cat peer.txt)"
        diff peer-w.txt ours-w.txt || fail "warning differs from imgpkg's"
    fi
}

test_nondist_to_tar_fetches_layer_from_urls() {
    # basic auth on the registry: its credentials must never reach the urls
    htpasswd -Bbn nduser ndpass > "$T/users.htpasswd"
    nd_registry NDU "auth: {htpasswd: {realm: test, path: $T/users.htpasswd}}"
    ND_CURL_AUTH=nduser:ndpass
    mkdir www
    nd_layer www/f1
    cp www/f1 www/wrong
    nd_layer www/f1
    F1=$(nd_digest www/f1)
    nd_url_server www
    D=$(nd_push_image "$NDU_ADDR" src/img v1 "www/f1=$ND_URL/f1")
    export IMGPKG_REGISTRY_HOSTNAME=$NDU_ADDR IMGPKG_REGISTRY_USERNAME=nduser IMGPKG_REGISTRY_PASSWORD=ndpass

    imgpkg copy -i "$NDU_ADDR/src/img:v1" --to-tar t.tar --include-non-distributable-layers --tty > out.txt
    ! grep -q Warning out.txt || fail "a warning with the flag: $(cat out.txt)"
    tar -xOf t.tar "blobs/sha256/$(echo "$F1" | cut -c8-)" > got
    cmp -s got www/f1 || fail "the layer in the tarball is not the one at its url"
    assert_eq "GET /f1 -" "$(cat "$ND_URL_LOG")" "requests to the url server"
    imgpkg verify --tar t.tar > /dev/null

    # registry to registry: the layer goes up from its url
    : > "$ND_URL_LOG"
    imgpkg copy -i "$NDU_ADDR/src/img:v1" --to-repo "$NDU_ADDR/dst/img" --include-non-distributable-layers
    assert_eq 200 "$(nd_blob_status "$NDU_ADDR" dst/img "$F1")" "foreign layer in dst/img"
    assert_eq "GET /f1 -" "$(cat "$ND_URL_LOG")" "requests to the url server"

    # content that is not the layer is refused, and no tarball is left
    D2=$(nd_push_image "$NDU_ADDR" src/bad v1 "www/f1=$ND_URL/wrong")
    rc=0
    imgpkg copy -i "$NDU_ADDR/src/bad:v1" --to-tar bad.tar --include-non-distributable-layers --registry-retry-count 0 \
        > /dev/null 2> err.txt || rc=$?
    [ "$rc" != 0 ] || fail "a layer with the wrong content was accepted"
    assert_contains "$(cat err.txt)" "$F1"
    assert_file_absent bad.tar
    : "$D$D2"
}

test_nondist_tar_into_origin_registry_mounts() {
    nd_registry NDM
    nd_proxy "$NDM_ADDR"
    mkdir www
    nd_layer www/f1
    F1=$(nd_digest www/f1)
    nd_url_server www
    D=$(nd_push_image "$NDM_ADDR" src/img v1 "www/f1=$ND_URL/f1")
    # the origin repository holds the foreign layer too
    nd_upload "$NDM_ADDR" src/img www/f1
    # the tarball records the origin under the proxy's address
    imgpkg copy -i "$ND_PROXY/src/img:v1" --to-tar t.tar
    n_blobs=$(tar -tf t.tar | grep -c '^blobs/sha256/.')
    assert_eq 3 "$n_blobs" "blobs in the tarball (manifest, config, one layer)"

    : > "$ND_PROXY_LOG"
    imgpkg copy --tar t.tar --to-repo "$ND_PROXY/dst/a" --include-non-distributable-layers
    # every blob is mounted from the origin, none uploaded
    for b in $(python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print(m["config"]["digest"]); [print(l["digest"]) for l in m["layers"]]' \
        <(curl -sf -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' "http://$NDM_ADDR/v2/src/img/manifests/$D")); do
        grep -q " 201 POST /v2/dst/a/blobs/uploads/?mount=$b&from=src/img\$" "$ND_PROXY_LOG" ||
            fail "no mount of $b: $(cat "$ND_PROXY_LOG")"
        assert_eq 200 "$(nd_blob_status "$NDM_ADDR" dst/a "$b")" "$b in dst/a"
    done
    ! grep -Eq "(PATCH|PUT) /v2/dst/a/blobs/uploads/" "$ND_PROXY_LOG" || fail "blobs were uploaded: $(cat "$ND_PROXY_LOG")"
    # the origin's repository is reached through the destination's client: one probe of the registry
    assert_eq 1 "$(grep -c " GET /v2/\$" "$ND_PROXY_LOG")" "probes of the registry"
    [ ! -s "$ND_URL_LOG" ] || fail "the url was fetched: $(cat "$ND_URL_LOG")"
    assert_eq "$D" "sha256:$(curl -sf -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' "http://$NDM_ADDR/v2/dst/a/manifests/v1" | sha256sum | cut -c1-64)" "dst/a:v1"

    # without the flag the foreign layer stays out, the others are mounted
    : > "$ND_PROXY_LOG"
    imgpkg copy --tar t.tar --to-repo "$ND_PROXY/dst/b" --tty > out.txt
    assert_eq 2 "$(grep -c " 201 POST /v2/dst/b/blobs/uploads/?mount=.*&from=src/img\$" "$ND_PROXY_LOG")" "mounts into dst/b"
    assert_eq 404 "$(nd_blob_status "$NDM_ADDR" dst/b "$F1")" "foreign layer in dst/b"
    cat > want.txt <<EOF
$ND_WARN
copy |  - Image: $ND_PROXY/dst/b@$D
copy |    Layers:
copy |      - $F1
EOF
    nd_warning_block out.txt > got.txt
    diff want.txt got.txt || fail "warning: $(cat out.txt)"
}

test_nondist_tar_lacking_layer_fails_with_hint() {
    nd_registry NDF
    nd_proxy "$NDF_ADDR"
    mkdir www
    nd_layer www/f1
    F1=$(nd_digest www/f1)
    nd_url_server www
    nd_push_image "$NDF_ADDR" src/img v1 "www/f1=$ND_URL/f1" > /dev/null
    imgpkg copy -i "$ND_PROXY/src/img:v1" --to-tar t.tar
    # the origin, on the destination's registry, lacks the layer: imgpkg's
    # error and hint, and nothing is pushed
    : > "$ND_PROXY_LOG"
    rc=0
    imgpkg copy --tar t.tar --to-repo "$ND_PROXY/dst/a" --include-non-distributable-layers \
        > out.txt 2> err.txt || rc=$?
    assert_eq 1 "$rc" "exit status"
    assert_eq "imgpkg: Error: file blobs/sha256/$(echo "$F1" | cut -c8-) not found in tar $ND_HINT" \
        "$(cat err.txt)" "error"
    ! grep -q "/v2/dst/a/blobs/uploads/\|PUT /v2/dst/a/" "$ND_PROXY_LOG" || fail "something was pushed: $(cat "$ND_PROXY_LOG")"
    grep -q "HEAD /v2/src/img/blobs/$F1" "$ND_PROXY_LOG" || fail "the origin was not asked: $(cat "$ND_PROXY_LOG")"
    [ ! -s "$ND_URL_LOG" ] || fail "the url was fetched: $(cat "$ND_URL_LOG")"
    assert_eq 404 "$(curl -s -o /dev/null -w '%{http_code}' "http://$NDF_ADDR/v2/dst/a/tags/list")" "tags of dst/a"
    # imgpkg's own tarball: its member name, word for word
    if [ -n "${IMGPKG_PEER:-}" ]; then
        "$IMGPKG_PEER" copy -i "$ND_PROXY/src/img:v1" --to-tar legacy.tar > /dev/null
        rc=0
        imgpkg copy --tar legacy.tar --to-repo "$ND_PROXY/dst/b" --include-non-distributable-layers \
            2> err2.txt || rc=$?
        assert_eq 1 "$rc" "exit status (imgpkg's tarball)"
        assert_eq "imgpkg: Error: file sha256-$(echo "$F1" | cut -c8-).tar.gz not found in tar $ND_HINT" \
            "$(cat err2.txt)" "error (imgpkg's tarball)"
        rc=0
        "$IMGPKG_PEER" copy --tar legacy.tar --to-repo "$NDF_ADDR/dst/c" --include-non-distributable-layers \
            2> err3.txt || rc=$?
        assert_eq "$(cat err3.txt)" "$(cat err2.txt)" "our error against imgpkg's"
    fi
}

test_nondist_other_registry_never_contacted() {
    nd_registry NDA
    nd_registry NDB
    nd_proxy "$NDA_ADDR"
    mkdir www
    nd_layer www/f1
    F1=$(nd_digest www/f1)
    nd_url_server www
    D=$(nd_push_image "$NDA_ADDR" src/img v1 "www/f1=$ND_URL/f1")
    nd_upload "$NDA_ADDR" src/img www/f1
    imgpkg copy -i "$ND_PROXY/src/img:v1" --to-tar t.tar
    : > "$ND_PROXY_LOG"
    # into another registry: the origin (through the proxy) is never asked
    rc=0
    imgpkg copy --tar t.tar --to-repo "$NDB_ADDR/dst/a" --include-non-distributable-layers \
        2> err.txt || rc=$?
    assert_eq 1 "$rc" "exit status"
    assert_eq "imgpkg: Error: file blobs/sha256/$(echo "$F1" | cut -c8-) not found in tar $ND_HINT" \
        "$(cat err.txt)" "error"
    imgpkg copy --tar t.tar --to-repo "$NDB_ADDR/dst/b"
    assert_eq "$D" "$(curl -sf -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' "http://$NDB_ADDR/v2/dst/b/manifests/v1" | sha256sum | sed 's/^/sha256:/; s/ .*//')" "dst/b:v1"
    [ ! -s "$ND_PROXY_LOG" ] || fail "the origin's registry was contacted: $(cat "$ND_PROXY_LOG")"
    [ ! -s "$ND_URL_LOG" ] || fail "the url was fetched: $(cat "$ND_URL_LOG")"
}

test_nondist_refused_mount_falls_back_to_upload() {
    nd_registry NDR
    nd_proxy "$NDR_ADDR"
    mkdir www
    nd_layer www/f1
    nd_url_server www
    D=$(nd_push_image "$NDR_ADDR" src/img v1 "www/f1=$ND_URL/f1")
    imgpkg copy -i "$ND_PROXY/src/img:v1" --to-tar t.tar
    L1=$(curl -sf -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
        "http://$NDR_ADDR/v2/src/img/manifests/$D" | python3 -c 'import json,sys; print(json.load(sys.stdin)["layers"][0]["digest"])')
    # the origin no longer holds one layer: its mount is declined (202)
    curl -sf -X DELETE "http://$NDR_ADDR/v2/src/img/blobs/$L1" -o /dev/null || fail "deleting $L1"
    assert_eq 404 "$(nd_blob_status "$NDR_ADDR" src/img "$L1")" "deleted layer"
    : > "$ND_PROXY_LOG"
    imgpkg copy --tar t.tar --to-repo "$ND_PROXY/dst/a"
    grep -q " 202 POST /v2/dst/a/blobs/uploads/?mount=$L1&from=src/img\$" "$ND_PROXY_LOG" ||
        fail "no declined mount of $L1: $(cat "$ND_PROXY_LOG")"
    grep -Eq "(PUT|PATCH) /v2/dst/a/blobs/uploads/.*" "$ND_PROXY_LOG" || fail "$L1 was not uploaded: $(cat "$ND_PROXY_LOG")"
    curl -sf "http://$NDR_ADDR/v2/dst/a/blobs/$L1" -o got || fail "dst/a lacks $L1"
    assert_eq "$L1" "$(nd_digest got)" "uploaded layer"
    assert_eq "$D" "sha256:$(curl -sf -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' "http://$NDR_ADDR/v2/dst/a/manifests/v1" | sha256sum | cut -c1-64)" "dst/a:v1"
}
