# t-legacy-tar.sh - Go imgpkg's own tarball format (what `imgpkg copy --to-tar`
# writes: manifest.json of image descriptors with the raw manifests and configs,
# one sha256-<hex>.tar.gz member per layer) as a source of copy --tar and
# push --tar; fixtures built with python3 from the documented format.

# ---------- helpers (names start with lt_; every t-*.sh shares one shell) ----------

# lt_make_legacy OUT MODE: writes an imgpkg legacy tarball OUT holding image one
# (Tag v1), image two (Tag v2) and an index over two (Tag multi), and
# OUT.json with their digests (one is labelled as the root), OUT.{one,two,index}.raw with their raw manifests.  MODE: good, corrupt (a layer
# member with other bytes of the same size) or missing (a layer member left out).
lt_make_legacy() {
    python3 - "$1" "$2" <<'PY'
import gzip, hashlib, io, json, sys, tarfile

out, mode = sys.argv[1], sys.argv[2]

def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()

def gz_layer(files):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data in files:
            ti = tarfile.TarInfo(name)
            ti.size, ti.mode, ti.mtime = len(data), 0o644, 0
            t.addfile(ti, io.BytesIO(data))
    plain = raw.getvalue()
    comp = io.BytesIO()
    with gzip.GzipFile(fileobj=comp, mode="wb", mtime=0) as g:
        g.write(plain)
    return comp.getvalue(), sha(plain)

def image(name, files):
    layer, diff_id = gz_layer(files)
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "config": {"Labels": {"name": name, "note": "a<b>&c \u00e9"}},
                         "rootfs": {"type": "layers", "diff_ids": [diff_id]}},
                        ensure_ascii=False).encode()
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                   "size": len(config), "digest": sha(config)},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": len(layer), "digest": sha(layer)}]}, indent=3).encode()
    return {"layer": layer, "diff_id": diff_id, "config": config, "manifest": manifest}

def image_desc(im, tag, ref, labels=None):
    # ImageDescriptor: Go field names, no omitempty, Raw as a string of the bytes
    return {"Refs": [ref],
            "Layers": [{"MediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                        "Digest": sha(im["layer"]), "DiffID": im["diff_id"],
                        "Size": len(im["layer"])}],
            "Config": {"Digest": sha(im["config"]), "Raw": im["config"].decode()},
            "Manifest": {"MediaType": "application/vnd.docker.distribution.manifest.v2+json",
                         "Digest": sha(im["manifest"]), "Raw": im["manifest"].decode()},
            "Tag": tag, "OrigRef": ref if tag == "v1" else "", "Labels": labels}

one = image("one", [("hello.txt", b"hello from one\n")])
two = image("two", [("data/two.txt", b"two " * 3000)])
index = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                    "manifests": [{"mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                                   "size": len(two["manifest"]), "digest": sha(two["manifest"]),
                                   "platform": {"architecture": "amd64", "os": "linux"}}]}).encode()
descs = [
    {"ImageIndex": None, "Image": image_desc(one, "v1", "example.com/src/one:v1",
                                             {"dev.carvel.imgpkg.copy.root-bundle": ""})},
    {"ImageIndex": None, "Image": image_desc(two, "v2", "example.com/src/two@" + sha(two["manifest"]))},
    {"ImageIndex": {"Refs": ["example.com/src/multi"],
                    "Images": [image_desc(two, "multi", "example.com/src/multi@" + sha(two["manifest"]))],
                    "Indexes": None,
                    "MediaType": "application/vnd.oci.image.index.v1+json",
                    "Digest": sha(index), "Raw": index.decode(), "Tag": "multi",
                    "OrigRef": "", "Labels": None},
     "Image": None},
]
# compact, and HTML characters escaped, as Go's encoding/json writes
doc = json.dumps(descs, separators=(",", ":"))
doc = doc.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").encode()

layers = {sha(one["layer"]): one["layer"], sha(two["layer"]): two["layer"]}
with tarfile.open(out, "w", format=tarfile.USTAR_FORMAT) as t:
    def add(name, data):
        ti = tarfile.TarInfo(name)
        ti.size, ti.mode = len(data), 0o644
        t.addfile(ti, io.BytesIO(data))
    add("manifest.json", doc)
    for d in sorted(layers):
        data = layers[d]
        if d == sha(one["layer"]) and mode == "corrupt":
            data = bytearray(data)
            data[len(data) // 2] ^= 0xff
            data = bytes(data)
        if d == sha(one["layer"]) and mode == "missing":
            continue
        add(d.replace(":", "-") + ".tar.gz", data)

with open(out + ".json", "w") as f:
    json.dump({"one": sha(one["manifest"]), "two": sha(two["manifest"]), "index": sha(index),
               "one_layer": sha(one["layer"]), "one_config": sha(one["config"])}, f)
for key, raw in (("one", one["manifest"]), ("two", two["manifest"]), ("index", index)):
    with open(out + "." + key + ".raw", "wb") as f:
        f.write(raw)
PY
}

# lt_fx KEY: a value of the fixture description legacy.tar.json.
lt_fx() {
    json legacy.tar.json "d['$1']"
}

# lt_same_manifest REF KEY: the registry serves the exact manifest bytes of
# fixture KEY (one, two, index) at REF, and they hash to the fixture's digest.
lt_same_manifest() {
    skopeo inspect --tls-verify=false --raw "docker://$1" > got.man
    cmp -s "legacy.tar.$2.raw" got.man || fail "manifest at $1 differs: $(cat got.man)"
    assert_eq "$(lt_fx "$2")" "sha256:$(sha256sum < got.man | cut -c1-64)" "digest of $1"
}

# ---------- tests ----------

test_legacy_tar_copy_to_repo_keeps_digests() {
    lt_make_legacy legacy.tar good
    imgpkg copy --tar legacy.tar --to-repo "$REG_ADDR/legacy" > out.txt
    repo="$REG_ADDR/legacy"
    # every manifest and the index arrive byte for byte, by digest and by tag
    lt_same_manifest "$repo@$(lt_fx one)" one
    lt_same_manifest "$repo@$(lt_fx two)" two
    lt_same_manifest "$repo@$(lt_fx index)" index
    lt_same_manifest "$repo:v1" one # the root keeps its tag
    assert_eq "$(lt_fx one)" \
        "$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$repo@$(lt_fx one)")" \
        "digest of one"
    assert_eq "$(lt_fx one)" \
        "$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$repo:v1")" \
        "digest of tag v1"
    assert_eq "$(lt_fx two)" \
        "$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$repo@$(lt_fx two)")" \
        "digest of two"
    # the config came from manifest.json's Raw string, escapes undone exactly
    skopeo inspect --tls-verify=false --config --raw "docker://$repo@$(lt_fx one)" > cfg.json
    assert_eq "$(lt_fx one_config)" "sha256:$(sha256sum < cfg.json | cut -c1-64)" "config digest"
    assert_eq "a<b>&c é" "$(json cfg.json "d['config']['Labels']['note']")" "config label"
    # the layer is the member's bytes, readable as an image
    skopeo copy -q --src-tls-verify=false "docker://$repo:v1" oci:back:v1 > /dev/null
    umoci unpack --rootless --image back:v1 ub > /dev/null
    assert_eq "hello from one" "$(cat ub/rootfs/hello.txt)" "unpacked file"

    # push --tar takes the same tarball, every entry under its Tag
    imgpkg push --tar legacy.tar --to-repo "$REG_ADDR/legacy-push" > /dev/null
    lt_same_manifest "$REG_ADDR/legacy-push:v1" one
    lt_same_manifest "$REG_ADDR/legacy-push:v2" two
    lt_same_manifest "$REG_ADDR/legacy-push:multi" index
}

test_legacy_tar_corrupted_layer_refused() {
    lt_make_legacy legacy.tar corrupt
    expect_fail "$(lt_fx one_layer)" imgpkg copy --tar legacy.tar --to-repo "$REG_ADDR/legacy-bad"
    # nothing was tagged with the bad image
    code=$(curl -s -o /dev/null -w '%{http_code}' \
        -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
        "http://$REG_ADDR/v2/legacy-bad/manifests/v1")
    assert_eq 404 "$code" "v1 in legacy-bad"

    # a layer member left out: refused before anything moves, naming the layer
    lt_make_legacy missing.tar missing
    expect_fail "$(json missing.tar.json "d['one_layer']").*missing" \
        imgpkg copy --tar missing.tar --to-repo "$REG_ADDR/legacy-missing"

    # manifest.json that is not JSON, and a tar that is neither kind
    printf 'not json' > manifest.json
    tar -cf badjson.tar manifest.json
    expect_fail "'badjson.tar' is neither an OCI image layout tarball nor an imgpkg tarball" \
        imgpkg copy --tar badjson.tar --to-repo "$REG_ADDR/legacy-x"
    echo hi > hello.txt
    tar -cf other.tar hello.txt
    expect_fail "'other.tar' is neither an OCI image layout tarball nor an imgpkg tarball" \
        imgpkg copy --tar other.tar --to-repo "$REG_ADDR/legacy-x"
    expect_fail "'other.tar' is neither an OCI image layout tarball nor an imgpkg tarball" \
        imgpkg push --tar other.tar --to-repo "$REG_ADDR/legacy-x"
}
