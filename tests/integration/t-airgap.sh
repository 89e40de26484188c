# t-airgap.sh - a bundle with all its images (two umoci images, a multi-platform
# index, a nested bundle with its own image, a cosign signature) taken out of
# registry A into an air-gap tarball and relocated into registry B after A is
# gone; pull and describe of the relocated bundle; registry-to-registry copies
# (cross-repository mounts, repository-based tags, OCI layouts); damaged
# tarballs and layers that escape the output directory refused; an interrupted
# copy to a tarball resumed without fetching again what it had.

# ---------- helpers (names start with ag_; every t-*.sh shares one shell) ----------

# ag_layout: prints the path of an OCI layout made by umoci once per suite:
# plain images one, two, nimg (the nested bundle's image) and sig (a stand-in
# cosign signature); amd and arm (linux/amd64, linux/arm64) and the image index
# "multi" listing both with their platforms.
ag_layout() {
    local L=$SUITE_TMP/ag-layout
    if [ -f "$L/index.json" ]; then
        echo "$L"
        return 0
    fi
    local tmp=$SUITE_TMP/ag-layout.tmp
    rm -rf "$tmp" "$SUITE_TMP/ag-content"
    (
        set -e
        umoci init --layout "$tmp"
        for t in one two amd arm nimg sig; do
            umoci new --image "$tmp:$t"
            mkdir -p "$SUITE_TMP/ag-content/$t"
            echo "content of $t" > "$SUITE_TMP/ag-content/$t/$t.txt"
            umoci insert --rootless --image "$tmp:$t" "$SUITE_TMP/ag-content/$t/$t.txt" "/$t.txt"
        done
        umoci config --image "$tmp:amd" --os linux --architecture amd64
        umoci config --image "$tmp:arm" --os linux --architecture arm64
        # the index: written by hand, added to the layout under the tag "multi"
        python3 - "$tmp" <<'EOF'
import hashlib, json, sys
L = sys.argv[1]
idx = json.load(open(L + "/index.json"))
def entry(tag):
    for m in idx["manifests"]:
        if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag:
            return m
    raise SystemExit("no " + tag)
children = []
for tag, arch in (("amd", "amd64"), ("arm", "arm64")):
    m = entry(tag)
    children.append({"mediaType": m["mediaType"], "digest": m["digest"], "size": m["size"],
                     "platform": {"architecture": arch, "os": "linux"}})
body = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                   "manifests": children}, separators=(",", ":")).encode()
d = hashlib.sha256(body).hexdigest()
open(L + "/blobs/sha256/" + d, "wb").write(body)
idx["manifests"].append({"mediaType": "application/vnd.oci.image.index.v1+json",
                         "digest": "sha256:" + d, "size": len(body),
                         "annotations": {"org.opencontainers.image.ref.name": "multi"}})
json.dump(idx, open(L + "/index.json", "w"))
with open(L + ".digests", "w") as f:
    for m in idx["manifests"]:
        f.write("%s %s\n" % (m["annotations"]["org.opencontainers.image.ref.name"], m["digest"]))
EOF
    ) > "$SUITE_TMP/ag-layout.log" 2>&1 || fail "building the umoci layout: $(cat "$SUITE_TMP/ag-layout.log")"
    mv "$tmp.digests" "$L.digests"
    mv "$tmp" "$L"
    echo "$L"
}

# ag_layout_digest TAG: the digest of TAG in the umoci layout.
ag_layout_digest() {
    sed -n "s/^$1 //p" "$(ag_layout).digests"
}

# ag_digest TRANSPORT-REF: sha256 of the raw manifest skopeo reads.
ag_digest() {
    echo "sha256:$(skopeo inspect --raw --tls-verify=false "$1" | sha256sum | cut -c1-64)"
}

# ag_hex DIGEST
ag_hex() { echo "${1#sha256:}"; }

# ag_tags ADDR REPO: the tags/list of REPO, one a line (nothing when unknown).
ag_tags() {
    curl -s "http://$1/v2/$2/tags/list" | sed -n 's/.*"tags":\[\([^]]*\)\].*/\1/p' | tr ',' '\n' | tr -d '" '
}

# ag_has_tag ADDR REPO TAG / ag_lacks_tag ADDR REPO TAG
ag_has_tag() {
    local tags
    tags=$(ag_tags "$1" "$2")
    printf '%s\n' "$tags" | grep -qxF "$3" || fail "$1/$2 lacks tag $3: ${tags//$'\n'/ }"
}
ag_lacks_tag() {
    local tags
    tags=$(ag_tags "$1" "$2")
    if printf '%s\n' "$tags" | grep -qxF "$3"; then fail "$1/$2 has tag $3"; fi
}

# ag_cleanup: stops the registries of the test (run on exit; never fails).
ag_cleanup() {
    if [ -n "${A_PID:-}" ]; then kill "$A_PID" 2> /dev/null || true; fi
    if [ -n "${B_PID:-}" ]; then kill "$B_PID" 2> /dev/null || true; fi
}

# ag_stop_a: stops registry A and waits until it no longer answers.
ag_stop_a() {
    kill "$A_PID"
    wait "$A_PID" 2> /dev/null || true
    for _ in $(seq 1 50); do
        curl -s -o /dev/null "http://$A_ADDR/v2/" || return 0
        sleep 0.1
    done
    fail "registry A still answers"
}

# ag_setup [B]: starts registry A (and B), pushes the umoci images with skopeo
# (one, two, nimg; multi with --all) into A/ag/*, pushes the nested bundle
# A/ag/inner:v1 (images.yml: nimg) and the bundle A/ag/bundle:v1 (images.yml:
# one, two, multi, inner; the files in ./outer) with imgpkg. Sets AG_ONE,
# AG_TWO, AG_MULTI, AG_AMD, AG_ARM, AG_NIMG, AG_INNER, AG_BUNDLE (digests),
# AG_LAYOUT; the images.yml as written is outer/.imgpkg/images.yml.
ag_setup() {
    AG_LAYOUT=$(ag_layout)
    trap ag_cleanup EXIT
    start_registry A || fail "registry A did not start"
    if [ "${1:-}" = B ]; then start_registry B || fail "registry B did not start"; fi
    for t in one two nimg; do
        skopeo copy -q --dest-tls-verify=false "oci:$AG_LAYOUT:$t" "docker://$A_ADDR/ag/$t:v1" > /dev/null
    done
    skopeo copy -q --all --dest-tls-verify=false "oci:$AG_LAYOUT:multi" "docker://$A_ADDR/ag/multi:v1" > /dev/null
    AG_ONE=$(ag_digest "docker://$A_ADDR/ag/one:v1")
    AG_TWO=$(ag_digest "docker://$A_ADDR/ag/two:v1")
    AG_NIMG=$(ag_digest "docker://$A_ADDR/ag/nimg:v1")
    AG_MULTI=$(ag_digest "docker://$A_ADDR/ag/multi:v1")
    AG_AMD=$(ag_layout_digest amd)
    AG_ARM=$(ag_layout_digest arm)
    # skopeo pushed the index as it is
    assert_eq "$(ag_layout_digest multi)" "$AG_MULTI" "index digest in A"
    assert_eq "$AG_ONE" "$(ag_layout_digest one)" "image digest in A"
    mkdir -p inner/.imgpkg
    echo "the inner bundle" > inner/inner.txt
    cat > inner/.imgpkg/images.yml <<YAML
---
apiVersion: imgpkg.carvel.dev/v1alpha1
kind: ImagesLock
images:
- image: $A_ADDR/ag/nimg@$AG_NIMG
YAML
    imgpkg push --oci -b "$A_ADDR/ag/inner:v1" -f inner > /dev/null
    AG_INNER=$(ag_digest "docker://$A_ADDR/ag/inner:v1")
    mkdir -p outer/.imgpkg outer/config/sub
    echo "kind: ConfigMap" > outer/config/cm.yml
    echo "a: 1" > outer/config/sub/values.yml
    printf '#!/bin/sh\necho hi\n' > outer/run.sh
    chmod 755 outer/run.sh
    cat > outer/.imgpkg/images.yml <<YAML
---
apiVersion: imgpkg.carvel.dev/v1alpha1
kind: ImagesLock
images:
- image: $A_ADDR/ag/one@$AG_ONE
  annotations:
    kbld.carvel.dev/id: one
- image: $A_ADDR/ag/two@$AG_TWO
- image: $A_ADDR/ag/multi@$AG_MULTI
  annotations:
    kbld.carvel.dev/id: multi
- image: $A_ADDR/ag/inner@$AG_INNER
YAML
    imgpkg push --oci -b "$A_ADDR/ag/bundle:v1" -f outer > /dev/null
    AG_BUNDLE=$(ag_digest "docker://$A_ADDR/ag/bundle:v1")
}

# ag_sign: a stand-in cosign signature of image one: any small image pushed to
# A/ag/one under sha256-<hex of one>.sig. Sets AG_SIG (its digest), AG_SIG_TAG.
ag_sign() {
    AG_SIG_TAG="sha256-$(ag_hex "$AG_ONE").sig"
    skopeo copy -q --dest-tls-verify=false "oci:$AG_LAYOUT:sig" "docker://$A_ADDR/ag/one:$AG_SIG_TAG" > /dev/null
    AG_SIG=$(ag_digest "docker://$A_ADDR/ag/one:$AG_SIG_TAG")
}

# ag_lock_items FILE: "image|kbld id" per item of an ImagesLock, in order
# (key order and indentation free).
ag_lock_items() {
    python3 - "$1" <<'EOF'
import re, sys
items = []
for line in open(sys.argv[1]):
    m = re.match(r'^(\s*)(- )?(.*)$', line.rstrip("\n"))
    if m.group(2) and len(m.group(1)) == 0:
        items.append({"image": "", "id": ""})
        rest = m.group(3)
    elif items and len(m.group(1)) > 0:
        rest = m.group(3)
    else:
        continue
    k = re.match(r'^(image|kbld\.carvel\.dev/id):\s*(.*)$', rest.strip())
    if k:
        items[-1]["image" if k.group(1) == "image" else "id"] = k.group(2)
for i in items:
    print(i["image"] + "|" + i["id"])
EOF
}

# ag_blobs_of TRANSPORT-REF: config and layer digests of an image manifest.
ag_blobs_of() {
    skopeo inspect --raw --tls-verify=false "$1" | grep -o 'sha256:[0-9a-f]\{64\}'
}

# ag_layers_of TRANSPORT-REF: the layer digests of an image manifest.
ag_layers_of() {
    skopeo inspect --raw --tls-verify=false "$1" | sed 's/.*"layers"//' | grep -o 'sha256:[0-9a-f]\{64\}'
}

# ---------- the air gap: registry A -> tarball -> registry B ----------

test_airgap_tar_relocated_to_other_registry() {
    ag_setup B
    ag_sign
    # what A holds, kept to compare with B once A is gone
    for spec in "bundle $AG_BUNDLE" "one $AG_ONE" "two $AG_TWO" "multi $AG_MULTI" "multi $AG_AMD" \
        "multi $AG_ARM" "inner $AG_INNER" "nimg $AG_NIMG" "one $AG_SIG"; do
        read -r repo dg <<< "$spec"
        skopeo inspect --raw --tls-verify=false "docker://$A_ADDR/ag/$repo@$dg" > "a-$(ag_hex "$dg").man"
    done

    imgpkg copy -b "$A_ADDR/ag/bundle:v1" --cosign-signatures --to-tar airgap.tar > copy1.out
    [ ! -s copy1.out ] || fail "output without --tty: $(cat copy1.out)"
    assert_file_absent ".airgap.tar.imgpkg-partial"
    ag_stop_a

    # the tarball alone: skopeo reads the bundle, verify finds nothing wrong
    assert_eq "$AG_BUNDLE" "$(skopeo inspect --format '{{.Digest}}' oci-archive:airgap.tar:v1)" "bundle in the tarball"
    imgpkg verify --tar airgap.tar > verify.out
    # its index.json: the root bundle tagged v1 and annotated, every other image by digest
    tar_member airgap.tar index.json > tar-index.json
    python3 - tar-index.json "$AG_BUNDLE" "$AG_INNER" "$AG_ONE" "$AG_TWO" "$AG_MULTI" "$AG_NIMG" \
        "$AG_SIG" "$AG_SIG_TAG" "$A_ADDR" <<'EOF' || fail "index.json of the tarball: $(cat tar-index.json)"
import json, sys
path, bundle, inner, one, two, multi, nimg, sig, sig_tag, a = sys.argv[1:11]
d = json.load(open(path))
by = {m["digest"]: m for m in d["manifests"]}
ann = lambda dg: by[dg].get("annotations", {})
bad = []
def want(what, got, exp):
    if got != exp:
        bad.append("%s: expected %r, got %r" % (what, exp, got))
want("entries", sorted(by), sorted([bundle, inner, one, two, multi, nimg, sig]))
want("root tag", ann(bundle).get("org.opencontainers.image.ref.name"), "v1")
want("root-bundle", ann(bundle).get("dev.carvel.imgpkg.copy.root-bundle"), "")
want("roots", sum("dev.carvel.imgpkg.copy.root-bundle" in ann(x) for x in by), 1)
want("root original-ref", ann(bundle).get("dev.carvel.imgpkg.copy.original-ref"), a + "/ag/bundle@" + bundle)
for dg, is_bundle in ((bundle, "true"), (inner, "true"), (one, "false"), (two, "false"),
                      (multi, "false"), (nimg, "false"), (sig, "false")):
    want("is-bundle of " + dg, ann(dg).get("dev.carvel.imgpkg.copy.is-bundle"), is_bundle)
for dg, repo in ((one, "one"), (two, "two"), (multi, "multi"), (inner, "inner"), (nimg, "nimg")):
    want("original-ref of " + repo, ann(dg).get("dev.carvel.imgpkg.copy.original-ref"), "%s/ag/%s@%s" % (a, repo, dg))
    want("no tag on " + repo, ann(dg).get("org.opencontainers.image.ref.name"), None)
want("signature tag", ann(sig).get("org.opencontainers.image.ref.name"), sig_tag)
want("index entry", by[multi]["mediaType"], "application/vnd.oci.image.index.v1+json")
if bad:
    sys.exit("\n".join(bad))
EOF

    # registry A is gone: everything comes from the tarball
    imgpkg copy --tar airgap.tar --to-repo "$B_ADDR/reloc" --lock-output lock.yml > copy2.out
    for spec in "$AG_BUNDLE" "$AG_ONE" "$AG_TWO" "$AG_MULTI" "$AG_AMD" "$AG_ARM" "$AG_INNER" "$AG_NIMG" "$AG_SIG"; do
        skopeo inspect --raw --tls-verify=false "docker://$B_ADDR/reloc@$spec" > b.man ||
            fail "B/reloc lacks $spec"
        assert_eq "$spec" "sha256:$(sha256sum < b.man | cut -c1-64)" "digest in B"
        cmp -s b.man "a-$(ag_hex "$spec").man" || fail "manifest $spec differs between A and B"
    done
    assert_eq "$AG_BUNDLE" "$(ag_digest "docker://$B_ADDR/reloc:v1")" "B/reloc:v1"
    # every blob arrived intact: skopeo copies all of it back out, verify checks it
    skopeo copy -q --all --src-tls-verify=false "docker://$B_ADDR/reloc@$AG_MULTI" oci:back:multi > /dev/null
    skopeo copy -q --src-tls-verify=false "docker://$B_ADDR/reloc:v1" oci:back:v1 > /dev/null
    skopeo copy -q --src-tls-verify=false "docker://$B_ADDR/reloc@$AG_INNER" oci:back:inner > /dev/null
    imgpkg verify --oci-layout back > /dev/null
    # imgpkg's tags
    for d in "$AG_BUNDLE" "$AG_ONE" "$AG_TWO" "$AG_MULTI" "$AG_INNER" "$AG_NIMG"; do
        ag_has_tag "$B_ADDR" reloc "sha256-$(ag_hex "$d").imgpkg"
    done
    ag_has_tag "$B_ADDR" reloc v1
    ag_has_tag "$B_ADDR" reloc "sha256-$(ag_hex "$AG_BUNDLE").image-locations.imgpkg"
    ag_has_tag "$B_ADDR" reloc "sha256-$(ag_hex "$AG_INNER").image-locations.imgpkg"
    # the signature, under its own tag
    ag_has_tag "$B_ADDR" reloc "$AG_SIG_TAG"
    assert_eq "$AG_SIG" "$(ag_digest "docker://$B_ADDR/reloc:$AG_SIG_TAG")" "signature in B"
    # the lock
    assert_eq "BundleLock" "$(sed -n 's/^kind: //p' lock.yml)" "lock kind"
    assert_eq "$B_ADDR/reloc@$AG_BUNDLE" "$(sed -n 's/^  image: //p' lock.yml)" "lock image"
    assert_eq "v1" "$(sed -n 's/^  tag: //p' lock.yml)" "lock tag"
    # the locations record: an image whose one file lists the bundle's images
    # (made as imgpkg makes it: Docker media types, a config with no os, which
    # umoci refuses to unpack; skopeo reads it and our pull takes its file)
    skopeo inspect --tls-verify=false \
        "docker://$B_ADDR/reloc:sha256-$(ag_hex "$AG_BUNDLE").image-locations.imgpkg" > /dev/null
    imgpkg pull -i "$B_ADDR/reloc:sha256-$(ag_hex "$AG_BUNDLE").image-locations.imgpkg" -o locu > /dev/null
    loc=$(cat locu/image-locations.yml)
    assert_contains "$loc" "kind: ImageLocations"
    for d in "$AG_ONE" "$AG_TWO" "$AG_MULTI" "$AG_INNER"; do assert_contains "$loc" "$d"; done
}

test_airgap_pull_relocated_bundle() {
    ag_setup B
    imgpkg copy -b "$A_ADDR/ag/bundle:v1" --to-tar airgap.tar > /dev/null
    imgpkg copy --tar airgap.tar --to-repo "$B_ADDR/reloc" > /dev/null
    ag_stop_a # pull needs nothing from A

    imgpkg pull --tty -b "$B_ADDR/reloc:v1" -o out > pull.out
    assert_contains "$(cat pull.out)" "Locating image lock file images..."
    assert_contains "$(cat pull.out)" "The bundle repo ($B_ADDR/reloc) is hosting every image"
    # the files as pushed, with images.yml rewritten to B/reloc, annotations kept
    diff -r -x .imgpkg outer out > diff.out || fail "pulled files differ: $(cat diff.out)"
    assert_eq "$(stat -c %a outer/run.sh)" "$(stat -c %a out/run.sh)" "mode of run.sh"
    assert_eq "ImagesLock" "$(sed -n 's/^kind: //p' out/.imgpkg/images.yml)" "images.yml kind"
    want="$B_ADDR/reloc@$AG_ONE|one
$B_ADDR/reloc@$AG_TWO|
$B_ADDR/reloc@$AG_MULTI|multi
$B_ADDR/reloc@$AG_INNER|"
    assert_eq "$want" "$(ag_lock_items out/.imgpkg/images.yml)" "relocated images.yml"
    if grep -q "$A_ADDR" out/.imgpkg/images.yml; then fail "images.yml still names A: $(cat out/.imgpkg/images.yml)"; fi
    [ ! -d out/.imgpkg/bundles ] || fail "nested bundles pulled without -r"

    # the tarball: the same files, images.yml as originally written
    imgpkg pull --tar airgap.tar -o out2 > /dev/null
    diff -r outer out2 > diff.out || fail "files pulled from the tarball differ: $(cat diff.out)"

    # -r: the nested bundle under .imgpkg/bundles/sha256-<hex>/, its images.yml relocated too
    imgpkg pull -r -b "$B_ADDR/reloc:v1" -o out3 > /dev/null
    nested=out3/.imgpkg/bundles/sha256-$(ag_hex "$AG_INNER")
    [ -d "$nested" ] || fail "no nested bundle: $(find out3 | sort)"
    diff -r -x .imgpkg inner "$nested" > diff.out || fail "nested bundle differs: $(cat diff.out)"
    assert_eq "$B_ADDR/reloc@$AG_NIMG|" "$(ag_lock_items "$nested/.imgpkg/images.yml")" "nested images.yml"
    assert_eq "1" "$(find out3/.imgpkg/bundles -mindepth 1 -maxdepth 1 | wc -l)" "nested bundles"
    diff -r -x .imgpkg outer out3 > diff.out || fail "files of -r differ: $(cat diff.out)"

    # the wrong flag is refused, and nothing is written
    expect_fail "Expected bundle flag when pulling a bundle" imgpkg pull -i "$B_ADDR/reloc:v1" -o wrong1
    assert_file_absent wrong1
    expect_fail "Expected bundle image but found plain image" imgpkg pull -b "$B_ADDR/reloc@$AG_ONE" -o wrong2
    assert_file_absent wrong2
    # (a plain image pulls with -i)
    imgpkg pull -i "$B_ADDR/reloc@$AG_ONE" -o one > /dev/null
    assert_eq "content of one" "$(cat one/one.txt)" "image one"
}

test_airgap_pull_bundle_with_unreachable_images() {
    # pull -b reads the bundle alone: images.yml may name images nobody can
    # reach (nothing listens on that port); the lock stays as it is
    port=$(free_port)
    mkdir -p b/.imgpkg
    echo "files" > b/f.txt
    cat > b/.imgpkg/images.yml <<YAML
---
apiVersion: imgpkg.carvel.dev/v1alpha1
kind: ImagesLock
images:
- image: 127.0.0.1:$port/gone/app@sha256:5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270
YAML
    imgpkg push -b "$REG_ADDR/ag-unreach/bundle:v1" -f b > /dev/null
    imgpkg pull --tty -b "$REG_ADDR/ag-unreach/bundle:v1" -o out > pull.out
    assert_contains "$(cat pull.out)" "One or more images not found in bundle repo; skipping lock file update"
    diff -r b out > diff.out || fail "pulled bundle differs: $(cat diff.out)"
}

# ag_tar OUT NAME=CONTENT...: an uncompressed ustar archive of regular files.
ag_tar() {
    python3 - "$@" <<'EOF'
import io, sys, tarfile
out = sys.argv[1]
with tarfile.open(out, "w", format=tarfile.USTAR_FORMAT) as t:
    for spec in sys.argv[2:]:
        name, data = spec.split("=", 1)
        i = tarfile.TarInfo(name)
        i.size = len(data.encode())
        i.mode = 0o644
        t.addfile(i, io.BytesIO(data.encode()))
EOF
}

# ag_layout_of DIR TAG RAWTAR: an OCI layout DIR holding one image tagged TAG
# whose one layer is RAWTAR gzipped (whatever RAWTAR holds, well formed or not).
ag_layout_of() {
    python3 - "$@" <<'EOF'
import gzip, hashlib, json, os, sys
out, name, rawtar = sys.argv[1:4]
os.makedirs(out + "/blobs/sha256")
def blob(b):
    d = hashlib.sha256(b).hexdigest()
    open(out + "/blobs/sha256/" + d, "wb").write(b)
    return "sha256:" + d
rawb = open(rawtar, "rb").read()
gz = gzip.compress(rawb, mtime=0)
layer = blob(gz)
cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                  "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(rawb).hexdigest()]}}).encode()
man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                  "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": blob(cfg), "size": len(cfg)},
                  "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer, "size": len(gz)}]}).encode()
m = blob(man)
json.dump({"imageLayoutVersion": "1.0.0"}, open(out + "/oci-layout", "w"))
json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
           "digest": m, "size": len(man), "annotations": {"org.opencontainers.image.ref.name": name}}]},
          open(out + "/index.json", "w"))
EOF
}

test_airgap_pull_refuses_escaping_layer() {
    # layouts made by hand: one image whose layer holds ok.txt and an entry
    # that climbs out of the output directory
    mkdir -p work/deep
    for bad in "../escape" "sub/../../escape"; do
        rm -rf lay
        ag_tar layer.tar "ok.txt=ok" "$bad=escaped"
        ag_layout_of lay v1 layer.tar
        # a well-formed layout: only the extraction may refuse it
        imgpkg verify --oci-layout lay > /dev/null
        tar -cf evil.tar -C lay oci-layout index.json blobs
        imgpkg push --tar evil.tar -i "$REG_ADDR/ag-evil/app:v1" > /dev/null
        expect_fail "\.\." imgpkg pull --oci-layout lay -o work/deep/out
        expect_fail "\.\." imgpkg pull --tar evil.tar -o work/deep/out
        expect_fail "\.\." imgpkg pull -i "$REG_ADDR/ag-evil/app:v1" -o work/deep/out
        # nothing written anywhere: no output directory, no temporary left, no escape
        assert_eq "" "$(ls -A work/deep)" "work/deep after refused pulls"
        assert_eq "deep" "$(ls -A work)" "work after refused pulls"
        assert_eq "" "$(find . -name 'escape*' -o -name ok.txt)" "escaped files"
    done
}

test_airgap_pull_layer_without_tar_padding() {
    # umoci before 0.4.8 ends an inserted layer right after the last file's
    # data (no padding to 512 bytes, no end-of-archive blocks; umoci#436); Go
    # readers, imgpkg among them, take it. Two ustar entries: a.txt (12 bytes)
    # at 0, b.txt (5 bytes) whose data ends at 512 + 512 + 512 + 5.
    ag_tar full.tar "a.txt=hello world!" "b.txt=bbbbb"
    head -c 1541 full.tar > cut-after-data.tar
    ag_layout_of lay-ok v1 cut-after-data.tar
    imgpkg pull --oci-layout lay-ok -o out > /dev/null
    assert_eq "hello world!" "$(cat out/a.txt)" "a.txt"
    assert_eq "bbbbb" "$(cat out/b.txt)" "b.txt"
    # the same through a registry
    tar -cf ok.tar -C lay-ok oci-layout index.json blobs
    imgpkg push --tar ok.tar -i "$REG_ADDR/ag-nopad/app:v1" > /dev/null
    imgpkg pull -i "$REG_ADDR/ag-nopad/app:v1" -o out2 > /dev/null
    diff -r out out2 > diff.out || fail "pulled from the registry: $(cat diff.out)"
    # an image made by umoci insert, as it is
    L=$(ag_layout)
    imgpkg pull --oci-layout "$L" -i umoci:one -o one > /dev/null
    assert_eq "content of one" "$(cat one/one.txt)" "umoci's layer"
    # data cut short, or padding cut short, is still refused (and nothing written)
    head -c 1538 full.tar > cut-in-data.tar
    head -c 1600 full.tar > cut-in-padding.tar
    for t in cut-in-data cut-in-padding; do
        ag_layout_of "lay-$t" v1 "$t.tar"
        expect_fail "runcat" imgpkg pull --oci-layout "lay-$t" -o "out-$t"
        assert_file_absent "out-$t"
    done
}

# ---------- registry to registry ----------

test_airgap_registry_to_registry() {
    ag_setup B
    # every config and layer of the bundle's graph
    for spec in "bundle $AG_BUNDLE" "one $AG_ONE" "two $AG_TWO" "multi $AG_AMD" "multi $AG_ARM" \
        "inner $AG_INNER" "nimg $AG_NIMG"; do
        read -r repo dg <<< "$spec"
        ag_blobs_of "docker://$A_ADDR/ag/$repo@$dg"
    done | sort -u > blobs.txt
    nblobs=$(wc -l < blobs.txt)

    # the same registry: every blob mounted across repositories, none uploaded again
    imgpkg copy --debug -b "$A_ADDR/ag/bundle:v1" --to-repo "$A_ADDR/ag/other" > other.out 2> debug.log
    mounts=$(grep -c "<-- 201 http://$A_ADDR/v2/ag/other/blobs/uploads/?mount=[^ ]* (" debug.log || true)
    assert_eq "$nblobs" "$mounts" "blobs mounted"
    # uploaded the usual way: no more than the two image-locations images (config + layer each)
    uploads=$(grep -c -- "--> PUT http://$A_ADDR/v2/ag/other/blobs/uploads/" debug.log || true)
    [ "$uploads" -le 4 ] || fail "$uploads blobs uploaded instead of mounted: $(grep PUT debug.log)"
    for d in "$AG_BUNDLE" "$AG_ONE" "$AG_TWO" "$AG_MULTI" "$AG_AMD" "$AG_ARM" "$AG_INNER" "$AG_NIMG"; do
        assert_eq "$d" "$(ag_digest "docker://$A_ADDR/ag/other@$d")" "digest in A/ag/other"
    done
    ag_has_tag "$A_ADDR" ag/other v1
    ag_has_tag "$A_ADDR" ag/other "sha256-$(ag_hex "$AG_ONE").imgpkg"
    ag_has_tag "$A_ADDR" ag/other "sha256-$(ag_hex "$AG_BUNDLE").image-locations.imgpkg"
    # each tag is put once
    assert_eq "1" "$(grep -c -- "--> PUT http://$A_ADDR/v2/ag/other/manifests/v1\$" debug.log)" "PUTs of tag v1"

    # --repo-based-tags: <repository path>-sha256-<hex>.imgpkg
    imgpkg copy -b "$A_ADDR/ag/bundle:v1" --to-repo "$B_ADDR/rb" --repo-based-tags > /dev/null
    for spec in "bundle $AG_BUNDLE" "one $AG_ONE" "two $AG_TWO" "multi $AG_MULTI" "inner $AG_INNER" \
        "nimg $AG_NIMG"; do
        read -r repo dg <<< "$spec"
        ag_has_tag "$B_ADDR" rb "ag-$repo-sha256-$(ag_hex "$dg").imgpkg"
        ag_lacks_tag "$B_ADDR" rb "sha256-$(ag_hex "$dg").imgpkg"
        assert_eq "$dg" "$(ag_digest "docker://$B_ADDR/rb:ag-$repo-sha256-$(ag_hex "$dg").imgpkg")" "repo-based tag of $repo"
    done
    ag_has_tag "$B_ADDR" rb v1
    ag_has_tag "$B_ADDR" rb "sha256-$(ag_hex "$AG_BUNDLE").image-locations.imgpkg"
    ag_has_tag "$B_ADDR" rb "sha256-$(ag_hex "$AG_INNER").image-locations.imgpkg"

    # --to-oci-layout: a layout holding the whole graph
    imgpkg copy -b "$A_ADDR/ag/bundle:v1" --to-oci-layout lay > /dev/null
    imgpkg verify --oci-layout lay > /dev/null
    assert_eq "$AG_BUNDLE" "$(skopeo inspect --format '{{.Digest}}' oci:lay:v1)" "bundle in the layout"
    for d in "$AG_BUNDLE" "$AG_ONE" "$AG_TWO" "$AG_MULTI" "$AG_INNER" "$AG_NIMG"; do
        grep -q "\"digest\": *\"$d\"" lay/index.json || fail "$d not in index.json: $(cat lay/index.json)"
    done
    for d in "$AG_AMD" "$AG_ARM" $(cat blobs.txt); do
        [ -f "lay/blobs/sha256/$(ag_hex "$d")" ] || fail "blob $d missing from the layout"
    done
    # oci-image-tool (Debian's 1.0.0~rc1 build) reports "not unique" for any
    # --ref of an index.json with more than two entries, umoci's own layouts
    # included, so it validates a view holding the v1 entry alone (the same
    # blobs, index.json reduced)
    cp -r lay lay-v1
    python3 - lay-v1/index.json <<'EOF'
import json, sys
p = sys.argv[1]
d = json.load(open(p))
d["manifests"] = [m for m in d["manifests"] if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == "v1"]
json.dump(d, open(p, "w"))
EOF
    oci-image-tool validate --type image --ref name=v1 lay-v1 > validate.out 2>&1 ||
        fail "oci-image-tool validate: $(cat validate.out)"
    # the layout, tarred, goes on to a registry like copy's own tarball
    tar -cf lay.tar -C lay oci-layout index.json blobs
    imgpkg copy --tar lay.tar --to-repo "$B_ADDR/fromlayout" > /dev/null
    assert_eq "$AG_BUNDLE" "$(ag_digest "docker://$B_ADDR/fromlayout:v1")" "bundle copied from the layout"
    assert_eq "$AG_MULTI" "$(ag_digest "docker://$B_ADDR/fromlayout@$AG_MULTI")" "index copied from the layout"
}

# ---------- damage and interruption ----------

test_airgap_damaged_tarball_refused() {
    ag_setup B
    imgpkg copy -b "$A_ADDR/ag/bundle:v1" --to-tar good.tar > /dev/null
    # one byte flipped in the layer of the arm64 image, reachable only through the index
    layer=$(ag_layers_of "docker://$A_ADDR/ag/multi@$AG_ARM")
    cp good.tar bad.tar
    python3 - bad.tar "blobs/sha256/$(ag_hex "$layer")" <<'EOF'
import sys, tarfile
path, member = sys.argv[1:3]
with tarfile.open(path) as t:
    m = t.getmember(member)
    off = m.offset_data + m.size // 2
with open(path, "r+b") as f:
    f.seek(off)
    b = f.read(1)
    f.seek(off)
    f.write(bytes([b[0] ^ 0x01]))
EOF
    cmp -s good.tar bad.tar && fail "the tarball was not damaged"
    if imgpkg verify --tar bad.tar > verify.out 2>&1; then fail "verify accepted the damaged tarball"; fi
    assert_contains "$(cat verify.out)" "$layer"
    expect_fail "$layer.*digest" imgpkg copy --tar bad.tar --to-repo "$B_ADDR/damaged"
    # nothing tagged: the repository is unknown, or has no tag at all
    assert_eq "" "$(ag_tags "$B_ADDR" damaged)" "tags after the refused copy"
    if skopeo inspect --raw --tls-verify=false "docker://$B_ADDR/damaged:v1" > /dev/null 2>&1; then
        fail "v1 exists after the refused copy"
    fi
    # the intact tarball still goes through
    imgpkg copy --tar good.tar --to-repo "$B_ADDR/damaged" > /dev/null
    assert_eq "$AG_BUNDLE" "$(ag_digest "docker://$B_ADDR/damaged:v1")" "bundle after the good copy"
}

# ag_progress FILE KIND: the digest prefixes of the progress lines (--tty) of
# KIND "fetched" or "present", sorted, each once (a failed run streams into the
# tarball first, then fetches again into the staging directory it keeps).
ag_progress() {
    case $2 in
    fetched) sed -n 's/^\(sha256:[0-9a-f]\{12\}\)\.\.\. .* in .*s (.*$/\1/p' "$1" | sort -u ;;
    present) sed -n 's/^\(sha256:[0-9a-f]\{12\}\)\.\.\. .* already present$/\1/p' "$1" | sort -u ;;
    esac
}

test_airgap_interrupted_copy_resumes() {
    ag_setup
    # the layer of the nested bundle's image: gone from A's storage for a while
    victim=$(ag_layers_of "docker://$A_ADDR/ag/nimg@$AG_NIMG")
    vfile=$A_DIR/data/docker/registry/v2/blobs/sha256/$(ag_hex "$victim" | cut -c1-2)/$(ag_hex "$victim")/data
    [ -f "$vfile" ] || fail "no blob file $vfile"
    mv "$vfile" victim.blob

    # one blob at a time: the copy fails on the victim, after fetching others
    if imgpkg copy --tty --concurrency 1 -b "$A_ADDR/ag/bundle:v1" --to-tar airgap.tar > run1.out 2> run1.err; then
        fail "the copy succeeded without blob $victim"
    fi
    assert_contains "$(cat run1.err)" "$victim"
    assert_contains "$(cat run1.err)" "--resume"
    assert_file_absent airgap.tar
    staging=.airgap.tar.imgpkg-partial
    [ -d "$staging" ] || fail "no staging directory beside the tarball: $(ls -A)"
    ag_progress run1.out fetched > fetched1
    [ -s fetched1 ] || fail "nothing fetched before the failure: $(cat run1.out)"
    # what was fetched is in the staging layout, verified
    while read -r p; do
        ls "$staging/blobs/sha256/${p#sha256:}"* > /dev/null 2>&1 || fail "$p not staged"
    done < fetched1
    if grep -qx "${victim:0:19}" fetched1; then fail "the victim was fetched"; fi
    assert_file_absent "$staging/blobs/sha256/$(ag_hex "$victim")"

    # the blob is back: --resume fetches only what is missing
    mv victim.blob "$vfile"
    imgpkg copy --tty --concurrency 1 -b "$A_ADDR/ag/bundle:v1" --to-tar airgap.tar --resume > run2.out
    ag_progress run2.out present > present2
    ag_progress run2.out fetched > fetched2
    assert_eq "$(cat fetched1)" "$(cat present2)" "blobs already present on --resume"
    comm -12 fetched1 fetched2 > again
    [ ! -s again ] || fail "fetched again on --resume: $(cat again)"
    grep -qx "${victim:0:19}" fetched2 || fail "the victim was not fetched on --resume: $(cat run2.out)"
    assert_file_absent "$staging"
    imgpkg verify --tar airgap.tar > /dev/null
    assert_eq "$AG_BUNDLE" "$(skopeo inspect --format '{{.Digest}}' oci-archive:airgap.tar:v1)" "bundle in the resumed tarball"

    # without --resume a copy starts over: an interrupted run, then a plain one
    mv "$vfile" victim.blob
    if imgpkg copy --concurrency 1 -b "$A_ADDR/ag/bundle:v1" --to-tar again.tar > /dev/null 2>&1; then
        fail "the copy succeeded without blob $victim"
    fi
    [ -d .again.tar.imgpkg-partial ] || fail "no staging directory for again.tar"
    mv victim.blob "$vfile"
    imgpkg copy --tty --concurrency 1 -b "$A_ADDR/ag/bundle:v1" --to-tar again.tar > run3.out
    assert_eq "" "$(ag_progress run3.out present)" "blobs reused without --resume"
    assert_eq "$(cat fetched2 fetched1 | sort)" "$(ag_progress run3.out fetched)" "blobs fetched by the plain copy"
    assert_file_absent .again.tar.imgpkg-partial
    # both ways give the same tarball
    cmp airgap.tar again.tar || fail "the resumed tarball differs from a plain one"
    # --resume with nothing to resume is a plain copy
    imgpkg copy --concurrency 1 -b "$A_ADDR/ag/bundle:v1" --to-tar third.tar --resume > /dev/null
    cmp airgap.tar third.tar || fail "--resume without a staging directory differs"
}

# ---------- describe and tags of the relocated bundle ----------

test_airgap_describe_and_tags() {
    ag_setup B
    ag_sign
    imgpkg copy -b "$A_ADDR/ag/bundle:v1" --cosign-signatures --to-repo "$B_ADDR/reloc" > /dev/null
    ag_has_tag "$B_ADDR" reloc "$AG_SIG_TAG"
    ag_stop_a

    # text: status lines, printed on a TTY only (as imgpkg)
    imgpkg describe -b "$B_ADDR/reloc:v1" --tty > desc.txt
    assert_eq "Bundle SHA: $AG_BUNDLE" "$(head -1 desc.txt)" "first line"
    d=$(cat desc.txt)
    for x in "$AG_ONE" "$AG_TWO" "$AG_MULTI" "$AG_INNER" "$AG_NIMG" "$AG_SIG"; do
        assert_contains "$d" "- Image: $B_ADDR/reloc@$x"
    done
    assert_contains "$d" "Origin: $A_ADDR/ag/one@$AG_ONE"
    assert_contains "$d" "Origin: $A_ADDR/ag/nimg@$AG_NIMG"
    for t in Image Bundle Signature Internal; do assert_contains "$d" "Type: $t"; done
    assert_contains "$d" "kbld.carvel.dev/id: one"
    assert_eq 4 "$(grep -c 'Type: Image$' desc.txt)" "images (one, two, multi, nimg)"
    assert_eq 1 "$(grep -c 'Type: Bundle$' desc.txt)" "nested bundles"

    imgpkg describe -b "$B_ADDR/reloc:v1" -o yaml > desc.yml
    assert_eq "sha: $AG_BUNDLE" "$(head -1 desc.yml)" "yaml first line"
    for k in '^content:' '^  images:' '^  bundles:' '^image: ' '^origin: ' '^metadata: ' \
        '^    sha256:[0-9a-f]{64}:$' '^      image: ' '^      imageType: Image$' '^      origin: '; do
        grep -Eq "$k" desc.yml || fail "describe -o yaml lacks '$k': $(cat desc.yml)"
    done
    if python3 -c 'import yaml' 2> /dev/null; then
        python3 - desc.yml "$AG_BUNDLE" "$AG_ONE" "$AG_INNER" "$AG_NIMG" "$B_ADDR" "$A_ADDR" <<'EOF'
import sys, yaml
path, bundle, one, inner, nimg, b, a = sys.argv[1:8]
d = yaml.safe_load(open(path))
assert d["sha"] == bundle, d["sha"]
assert d["image"] == f"{b}/reloc@{bundle}", d["image"]
imgs = d["content"]["images"]
assert imgs[one]["image"] == f"{b}/reloc@{one}", imgs[one]
assert imgs[one]["imageType"] == "Image"
assert imgs[one]["origin"] == f"{a}/ag/one@{one}"
assert imgs[one]["annotations"]["kbld.carvel.dev/id"] == "one"
assert sum(1 for v in imgs.values() if v["imageType"] == "Signature") == 1
nested = d["content"]["bundles"][inner]
assert nested["image"] == f"{b}/reloc@{inner}"
assert nested["content"]["images"][nimg]["origin"] == f"{a}/ag/nimg@{nimg}"
EOF
    fi

    # tag list: v1 only; internal tags on request; digests; JSON (the table
    # on a TTY: values followed by two spaces; otherwise tab-separated rows)
    imgpkg tag list -i "$B_ADDR/reloc" --tty > tags.txt
    assert_contains "$(cat tags.txt)" "Tags"
    grep -qx "v1  " tags.txt || fail "no v1 in: $(cat tags.txt)"
    if grep -q '\.imgpkg  $' tags.txt; then fail "internal tags listed: $(cat tags.txt)"; fi
    imgpkg tag list -i "$B_ADDR/reloc" --imgpkg-internal-tags > itags.txt
    grep -qx "sha256-$(ag_hex "$AG_ONE").imgpkg	" itags.txt || fail "no internal tag: $(cat itags.txt)"
    grep -qx "sha256-$(ag_hex "$AG_BUNDLE").image-locations.imgpkg	" itags.txt || fail "no locations tag: $(cat itags.txt)"
    grep -qx "v1	" itags.txt || fail "no v1 with internal tags"
    imgpkg tag list -i "$B_ADDR/reloc" --digests --tty > dtags.txt
    grep -Eq "^v1 +$AG_BUNDLE  \$" dtags.txt || fail "no 'v1 DIGEST' row: $(cat dtags.txt)"
    grep -Eq "^$AG_SIG_TAG +$AG_SIG  \$" dtags.txt || fail "no signature row: $(cat dtags.txt)"
    imgpkg tag list -i "$B_ADDR/reloc" --digests --json > tags.json
    assert_eq "$AG_BUNDLE" "$(json tags.json "[r['digest'] for r in d['Tables'][0]['Rows'] if r['name']=='v1'][0]")" "JSON row of v1"
    assert_eq "False" "$(json tags.json "any(r['name'].endswith('.imgpkg') for r in d['Tables'][0]['Rows'])")" "JSON internal tags"
    # tag resolve
    assert_eq "$B_ADDR/reloc@$AG_BUNDLE" "$(imgpkg tag resolve -i "$B_ADDR/reloc:v1")" "tag resolve"
    assert_eq "$B_ADDR/reloc@$AG_SIG" "$(imgpkg tag resolve -i "$B_ADDR/reloc:$AG_SIG_TAG")" "tag resolve of the signature"
}
