# t-save.sh - imgpkg save, read back by the peers (skopeo, umoci, oci-image-tool,
# the registry), the shape of what it writes, and its determinism.

# ---------- helpers (names start with ts_; every t-*.sh shares one shell) ----------

# ts_digest_of OUTFILE: the digest from save's "Saved ... '<name>@sha256:...' to ..." line.
ts_digest_of() {
    sed -n "s/^Saved [a-z]* '[^']*@\(sha256:[0-9a-f]\{64\}\)' to .*/\1/p" "$1"
}

# ts_img LAYOUT TAG EXPR: evaluates EXPR with, for the image tagged TAG in the
# layout, idx (index.json), entry (its index entry), man (manifest), cfg (config),
# blob(digest) (a blob's path) and layer_members() ("type mode uid gid mtime name"
# of each entry of the single layer, in tar order).  One python3 run per query.
ts_img() {
    python3 -c '
import json, os, sys, tarfile
lay, tag, expr = sys.argv[1:4]
def blob(dg): return os.path.join(lay, "blobs", "sha256", dg.split(":", 1)[1])
def load(dg): return json.load(open(blob(dg)))
idx = json.load(open(os.path.join(lay, "index.json")))
entry = [m for m in idx["manifests"]
         if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag][0]
man = load(entry["digest"])
cfg = load(man["config"]["digest"])
def layer_members():
    assert len(man["layers"]) == 1, man["layers"]
    out = []
    with tarfile.open(blob(man["layers"][0]["digest"]), "r:gz") as t:
        for m in t.getmembers():
            kind = "d" if m.isdir() else "f" if m.isreg() else "?"
            out.append("%s %04o %d %d %d %s" % (kind, m.mode, m.uid, m.gid, int(m.mtime), m.name))
    return "\n".join(out)
r = eval(expr)
print(r)
' "$@"
}

# ts_manifest_digest LAYOUT TAG: digest of the index.json entry whose ref.name is TAG.
ts_manifest_digest() {
    ts_img "$1" "$2" "entry['digest']"
}

# ts_blob LAYOUT DIGEST: path of a blob.
ts_blob() {
    echo "$1/blobs/sha256/${2#sha256:}"
}

# ts_layer_members LAYOUT TAG: "type mode uid gid mtime name" of each layer entry.
ts_layer_members() {
    ts_img "$1" "$2" "layer_members()"
}

# ts_labels LAYOUT TAG: the config labels, sorted, as a Python list of pairs.
ts_labels() {
    ts_img "$1" "$2" "sorted((cfg['config'].get('Labels') or {}).items())"
}

# ts_same_tree A B: names and contents equal (modes are not compared).
ts_same_tree() {
    diff -r "$1" "$2" > diff.out 2>&1 || fail "trees $1 and $2 differ: $(cat diff.out)"
}

# ---------- peers read what we write ----------

test_save_bundle_tarball_read_by_skopeo() {
    make_bundle b
    imgpkg save --oci -b example.com/team/bundle:v1 -f b --to-tar out.tar > out.txt
    assert_contains "$(cat out.txt)" "Saved bundle 'example.com/team/bundle:v1@sha256:"
    assert_contains "$(cat out.txt)" "' to out.tar"
    ours=$(ts_digest_of out.txt)
    [ -n "$ours" ] || fail "no digest in: $(cat out.txt)"
    skopeo inspect oci-archive:out.tar:v1 > insp.json
    assert_eq "true" "$(json insp.json "d['Labels']['dev.carvel.imgpkg.bundle']")" "bundle label"
    assert_eq "$ours" "$(json insp.json "d['Digest']")" "digest seen by skopeo"
    # the Docker view of the same tarball (manifest.json)
    skopeo inspect docker-archive:out.tar > dinsp.json
    assert_eq "true" "$(json dinsp.json "d['Labels']['dev.carvel.imgpkg.bundle']")" "docker-archive label"
    imgpkg verify --tar out.tar > /dev/null
    # the default (Docker media types, as imgpkg): skopeo reads it as a Docker archive
    imgpkg save -b example.com/team/bundle:v1 -f b --to-tar docker.tar > out2.txt
    skopeo inspect docker-archive:docker.tar > dinsp2.json
    assert_eq "true" "$(json dinsp2.json "d['Labels']['dev.carvel.imgpkg.bundle']")" "docker-archive label (default)"
    imgpkg verify --tar docker.tar > /dev/null
}

test_save_layout_read_by_peers() {
    make_bundle b
    imgpkg save --oci -b example.com/team/bundle:v1 -f b --to-oci-layout lay > out.txt
    ours=$(ts_digest_of out.txt)
    skopeo inspect oci:lay:v1 > insp.json
    assert_eq "true" "$(json insp.json "d['Labels']['dev.carvel.imgpkg.bundle']")" "bundle label"
    assert_eq "$ours" "$(json insp.json "d['Digest']")" "digest seen by skopeo"
    oci-image-tool validate --type image --ref name=v1 lay > validate.out 2>&1 ||
        fail "oci-image-tool validate: $(cat validate.out)"
    umoci stat --image lay:v1 > stat.out 2>&1 || fail "umoci stat: $(cat stat.out)"
    layer=$(json "$(ts_blob lay "$ours")" "d['layers'][0]['digest']")
    assert_contains "$(cat stat.out)" "$layer" "umoci stat"
    umoci unpack --rootless --image lay:v1 ub > /dev/null
    ts_same_tree b ub/rootfs
    imgpkg verify --oci-layout lay > /dev/null
}

test_save_registry_round_trip() {
    make_bundle b
    mkdir -p b/config/empty-dir
    head -c 70000 /dev/urandom > b/config/random.bin
    imgpkg save --oci -b example.com/team/rt:v3 -f b --to-tar out.tar > out.txt
    ours=$(ts_digest_of out.txt)
    skopeo copy -q --dest-tls-verify=false oci-archive:out.tar:v3 "docker://$REG_ADDR/it/roundtrip:v3" > /dev/null
    theirs=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$REG_ADDR/it/roundtrip:v3")
    assert_eq "$ours" "$theirs" "registry digest"
    skopeo copy -q --src-tls-verify=false "docker://$REG_ADDR/it/roundtrip:v3" oci:back:v3 > /dev/null
    assert_eq "$ours" "$(ts_manifest_digest back v3)" "digest after the round trip"
    umoci unpack --rootless --image back:v3 ub > /dev/null
    ts_same_tree b ub/rootfs
    [ -d ub/rootfs/config/empty-dir ] || fail "empty directory lost"
    imgpkg verify --oci-layout back > /dev/null
}

test_save_image_with_i() {
    make_files f
    imgpkg save --oci -i example.com/team/files:v2 -f f --to-tar out.tar > out.txt
    assert_contains "$(cat out.txt)" "Saved image 'example.com/team/files:v2@sha256:"
    skopeo inspect oci-archive:out.tar:v2 > insp.json
    assert_eq "-" "$(json insp.json "(d['Labels'] or {}).get('dev.carvel.imgpkg.bundle', '-')")" "bundle label on an image"
    mkdir x && tar -xf out.tar -C x
    assert_eq "example.com/team/files:v2" \
        "$(json x/index.json "d['manifests'][0]['annotations']['io.containerd.image.name']")"
    umoci unpack --rootless --image x:v2 ub > /dev/null
    ts_same_tree f ub/rootfs
}

test_save_unnamed_is_latest() {
    make_files f
    imgpkg save --oci -f f --to-oci-layout lay > out.txt
    assert_contains "$(cat out.txt)" "Saved image 'latest@sha256:"
    assert_eq 1 "$(json lay/index.json "len(d['manifests'])")" "entries"
    assert_eq "{'org.opencontainers.image.ref.name': 'latest'}" \
        "$(json lay/index.json "d['manifests'][0]['annotations']")" "annotations of an unnamed save"
    skopeo inspect oci:lay:latest > /dev/null
    # an unnamed folder with .imgpkg is a bundle; the tarball has no RepoTags
    make_bundle b
    imgpkg save -f b --to-tar out.tar > out2.txt
    assert_contains "$(cat out2.txt)" "Saved bundle 'latest@sha256:"
    mkdir x && tar -xf out.tar -C x
    assert_eq "[]" "$(json x/manifest.json "d[0]['RepoTags']")" "RepoTags of an unnamed save"
    assert_eq "-" "$(json x/index.json "d['manifests'][0]['annotations'].get('io.containerd.image.name', '-')")"
    assert_eq "[('dev.carvel.imgpkg.bundle', 'true')]" "$(ts_labels x latest)" "bundle label"
}

test_save_labels_in_config() {
    make_bundle b
    imgpkg save --oci -b example.com/l:v1 -l team=core -l "owner=a b" --labels x.y/z=1 -f b --to-oci-layout lay > /dev/null
    want="[('dev.carvel.imgpkg.bundle', 'true'), ('owner', 'a b'), ('team', 'core'), ('x.y/z', '1')]"
    assert_eq "$want" "$(ts_labels lay v1)" "labels in the config"
    labels=$(skopeo inspect oci:lay:v1 | python3 -c 'import json,sys; print(sorted(json.load(sys.stdin)["Labels"].items()))')
    assert_eq "$want" "$labels" "labels seen by skopeo"
    # an image (-i) gets the labels but not the bundle label
    make_files f
    imgpkg save -i example.com/l:v2 -l team=core -f f --to-oci-layout lay > /dev/null
    assert_eq "[('team', 'core')]" "$(ts_labels lay v2)" "labels of an image"
}

test_save_file_exclusion() {
    make_bundle b
    mkdir -p b/.git b/config/drop
    echo ref > b/.git/HEAD
    echo x > b/config/drop/x.yml
    echo y > b/config/keep.yml
    # default: .git is left out
    imgpkg save -b example.com/e:v1 -f b --to-oci-layout lay > /dev/null
    names=$(ts_layer_members lay v1 | awk '{print $6}')
    case "$names" in *.git*) fail "default exclusion kept .git: $names" ;; esac
    assert_contains "$names" "config/drop/x.yml"
    # explicit: a relative path (a directory drops its contents too)
    imgpkg save -b example.com/e:v2 -f b --file-exclusion .git --file-exclusion config/drop \
        --to-oci-layout lay > /dev/null
    names=$(ts_layer_members lay v2 | awk '{print $6}')
    case "$names" in *config/drop*|*.git*) fail "exclusion not applied: $names" ;; esac
    assert_contains "$names" "config/keep.yml"
    assert_contains "$names" "config/sub/values.yml"
}

test_save_multiple_inputs_in_order() {
    # imgpkg's layer: the inputs in the order given, each directory behind an
    # entry "." of its own, a file under its base name
    mkdir -p one/etc/a two/var/b
    echo 1 > one/etc/a/x
    echo 2 > two/var/b/y
    echo top > two/top.txt
    echo solo > lone.txt
    mkdir -p deep/down && echo d > deep/down/file.cfg
    imgpkg save -i example.com/m:v1 -f one -f two -f lone.txt -f deep/down/file.cfg --oci --to-oci-layout lay > /dev/null
    got=$(ts_layer_members lay v1 | awk '{print $1, $6}' | tr '\n' ' ')
    assert_eq "d . d etc d etc/a f etc/a/x d . f top.txt d var d var/b f var/b/y f lone.txt f file.cfg " "$got" "layer of several inputs"
    umoci unpack --rootless --image lay:v1 ub > /dev/null
    assert_eq "d" "$(cat ub/rootfs/file.cfg)" "file given with -f keeps its base name"
    assert_eq "solo" "$(cat ub/rootfs/lone.txt)"
    assert_eq "1" "$(cat ub/rootfs/etc/a/x)"
    assert_eq "2" "$(cat ub/rootfs/var/b/y)"
}

test_save_overlapping_inputs_refused() {
    # as imgpkg: a path two inputs both give is refused, directories too
    mkdir -p one/etc/a two/etc/b
    echo 1 > one/etc/a/x
    echo 2 > two/etc/b/y
    expect_fail "^imgpkg: Error: Found duplicate paths: one/etc, two/etc$" \
        imgpkg save -i example.com/m:v1 -f one -f two --to-tar out.tar
    assert_file_absent out.tar
}

test_save_permissions() {
    mkdir -p f/bin f/etc
    printf '#!/bin/sh\n' > f/bin/tool
    echo conf > f/etc/conf
    chmod 755 f/bin f/bin/tool
    chmod 644 f/etc/conf
    chmod 750 f/etc
    imgpkg save -i example.com/p:v1 -f f --to-oci-layout lay > /dev/null
    imgpkg save -i example.com/p:v2 -f f --preserve-permissions --to-oci-layout lay > /dev/null
    got=$(ts_layer_members lay v1 | awk '{print $2, $6}' | tr '\n' ' ')
    assert_eq "0700 . 0700 bin 0700 bin/tool 0700 etc 0600 etc/conf " "$got" "default modes (user bits)"
    got=$(ts_layer_members lay v2 | awk '{print $2, $6}' | tr '\n' ' ')
    assert_eq "$(stat -c %04a f) . 0755 bin 0755 bin/tool 0750 etc 0644 etc/conf " "$got" "--preserve-permissions"
    # layer headers are deterministic too
    ts_layer_members lay v2 | awk '$3 != 0 || $4 != 0 || $5 != 0 { exit 1 }' ||
        fail "layer entries not uid/gid/mtime 0: $(ts_layer_members lay v2)"
}

# ---------- index.json and tarball shape ----------

test_save_index_json_shape() {
    make_files f
    imgpkg save -i localhost:5000/team/app:v7 -f f --to-oci-layout lay > /dev/null
    assert_eq 2 "$(json lay/index.json "d['schemaVersion']")" "schemaVersion"
    assert_eq "application/vnd.oci.image.index.v1+json" "$(json lay/index.json "d['mediaType']")"
    assert_eq 1 "$(json lay/index.json "len(d['manifests'])")"
    e="d['manifests'][0]"
    # imgpkg's media types by default (Docker schema 2), in an OCI index
    assert_eq "application/vnd.docker.distribution.manifest.v2+json" "$(json lay/index.json "${e}['mediaType']")"
    assert_eq "v7" "$(json lay/index.json "${e}['annotations']['org.opencontainers.image.ref.name']")" "ref.name"
    assert_eq "localhost:5000/team/app:v7" \
        "$(json lay/index.json "${e}['annotations']['io.containerd.image.name']")" "containerd name"
    m=$(json lay/index.json "${e}['digest']")
    assert_eq "$(json lay/index.json "${e}['size']")" "$(stat -c %s "$(ts_blob lay "$m")")" "manifest size"
    assert_eq "$m" "sha256:$(sha256sum < "$(ts_blob lay "$m")" | cut -c1-64)" "manifest digest"
    assert_eq '{"imageLayoutVersion":"1.0.0"}' "$(tr -d ' \n' < lay/oci-layout)" "oci-layout"
    # a Docker Hub name: the containerd name is fully qualified
    imgpkg save -i team/app:v8 -f f --to-oci-layout lay > /dev/null
    assert_eq "docker.io/team/app:v8" \
        "$(json lay/index.json "[m['annotations']['io.containerd.image.name'] for m in d['manifests'] if m['annotations']['org.opencontainers.image.ref.name'] == 'v8'][0]")"
    # --oci: OCI media types for the manifest, config and layer
    imgpkg save --oci -i team/app:v9 -f f --to-oci-layout lay > /dev/null
    e="[m for m in d['manifests'] if m['annotations']['org.opencontainers.image.ref.name'] == 'v9'][0]"
    assert_eq "application/vnd.oci.image.manifest.v1+json" "$(json lay/index.json "${e}['mediaType']")" "--oci manifest"
    m=$(json lay/index.json "${e}['digest']")
    assert_eq "application/vnd.oci.image.config.v1+json" "$(json "$(ts_blob lay "$m")" "d['config']['mediaType']")" "--oci config"
    assert_eq "application/vnd.oci.image.layer.v1.tar+gzip" "$(json "$(ts_blob lay "$m")" "d['layers'][0]['mediaType']")" "--oci layer"
    e="[m for m in d['manifests'] if m['annotations']['org.opencontainers.image.ref.name'] == 'v8'][0]"
    m=$(json lay/index.json "${e}['digest']")
    assert_eq "application/vnd.docker.container.image.v1+json" "$(json "$(ts_blob lay "$m")" "d['config']['mediaType']")" "default config"
    assert_eq "application/vnd.docker.image.rootfs.diff.tar.gzip" "$(json "$(ts_blob lay "$m")" "d['layers'][0]['mediaType']")" "default layer"
}

test_save_adds_to_existing_layout() {
    mkdir a b c
    echo one > a/f
    echo two > b/f
    echo three > c/f
    imgpkg save --oci -i example.com/app:v1 -f a --to-oci-layout lay > out1.txt
    d1=$(ts_digest_of out1.txt)
    imgpkg save --oci -i example.com/other:v2 -f b --to-oci-layout lay > out2.txt
    d2=$(ts_digest_of out2.txt)
    assert_eq 2 "$(json lay/index.json "len(d['manifests'])")" "entries after the second save"
    assert_eq "$d1" "$(ts_manifest_digest lay v1)"
    assert_eq "$d2" "$(ts_manifest_digest lay v2)"
    find lay/blobs -type f | sort > blobs.before
    while read -r p; do echo "$p $(sha256sum < "$p" | cut -c1-64)"; done < blobs.before > sums.before
    entry2_before=$(json lay/index.json "[m for m in d['manifests'] if m['digest'] == '$d2']")

    # v1 moves to new content: the old entry loses the tag (and its name)
    imgpkg save --oci -i example.com/app:v1 -f c --to-oci-layout lay > out3.txt
    d3=$(ts_digest_of out3.txt)
    [ "$d3" != "$d1" ] || fail "different content, same digest"
    assert_eq 3 "$(json lay/index.json "len(d['manifests'])")" "entries after moving v1"
    assert_eq "$d3" "$(ts_manifest_digest lay v1)" "v1 now"
    assert_eq "{}" "$(json lay/index.json "[m.get('annotations', {}) for m in d['manifests'] if m['digest'] == '$d1'][0]")" \
        "annotations left on the old v1 entry"
    assert_eq "$entry2_before" "$(json lay/index.json "[m for m in d['manifests'] if m['digest'] == '$d2']")" "v2 entry"
    assert_eq 1 "$(json lay/index.json "sum(1 for m in d['manifests'] if m.get('annotations', {}).get('org.opencontainers.image.ref.name') == 'v1')")" "entries tagged v1"
    # every earlier blob is still there, unchanged
    while read -r p; do echo "$p $(sha256sum < "$p" | cut -c1-64)"; done < blobs.before > sums.after
    cmp sums.before sums.after || fail "blobs changed"
    assert_eq "blobs index.json oci-layout" "$(find lay -mindepth 1 -maxdepth 1 -printf '%f\n' | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//')" "top of the layout"
    [ -z "$(find lay -name '.*')" ] || fail "temporary files left in the layout: $(find lay -name '.*')"

    imgpkg verify --oci-layout lay > /dev/null
    assert_eq "$d3" "$(skopeo inspect --format '{{.Digest}}' oci:lay:v1)" "skopeo reads moved v1"
    assert_eq "$d2" "$(skopeo inspect --format '{{.Digest}}' oci:lay:v2)" "skopeo reads v2"
    oci-image-tool validate --type image --ref name=v2 lay > /dev/null 2>&1 || fail "oci-image-tool on v2"
    umoci stat --image lay:v1 > /dev/null
}

test_save_tarball_shape() {
    make_bundle b
    imgpkg save -b example.com/team/bundle:v1 -f b --to-tar out.tar > out.txt
    ours=$(ts_digest_of out.txt)
    tar -tf out.tar > names
    # the layer is written straight into the tarball as it is built: the
    # members that do not depend on it first, then the layer, index.json,
    # manifest.json, the config and the manifest
    ! grep -q '^\./\|^/' names || fail "names with ./ or /: $(cat names)"
    layer=$(json "$(mkdir -p xs && tar -xf out.tar -C xs && ts_blob xs "$ours")" "d['layers'][0]['digest'][7:]")
    config=$(json "$(ts_blob xs "$ours")" "d['config']['digest'][7:]")
    printf '%s\n' oci-layout blobs/ blobs/sha256/ "blobs/sha256/$layer" index.json manifest.json \
        "blobs/sha256/$config" "blobs/sha256/${ours#sha256:}" > want-names
    diff want-names names > names.diff || fail "tarball members: $(cat names.diff)"
    python3 - out.tar 0 <<'EOF'
import sys, tarfile
want_mtime = int(sys.argv[2])
with tarfile.open(sys.argv[1]) as t:
    for m in t.getmembers():
        assert m.uid == 0 and m.gid == 0, (m.name, m.uid, m.gid)
        assert int(m.mtime) == want_mtime, (m.name, m.mtime)
        if m.isdir():
            assert m.mode == 0o755, (m.name, oct(m.mode))
        else:
            assert m.isreg(), m.name
            assert m.mode == 0o644, (m.name, oct(m.mode))
EOF
    mkdir x && tar -xf out.tar -C x
    assert_eq "$ours" "$(ts_manifest_digest x v1)"
    man=$(ts_blob x "$ours")
    assert_eq 1 "$(json x/manifest.json "len(d)")" "manifest.json entries"
    assert_eq "['Config', 'Layers', 'RepoTags']" "$(json x/manifest.json "sorted(d[0].keys())")"
    assert_eq "blobs/sha256/$(json "$man" "d['config']['digest'][7:]")" "$(json x/manifest.json "d[0]['Config']")" "Config"
    assert_eq "['blobs/sha256/$(json "$man" "d['layers'][0]['digest'][7:]")']" "$(json x/manifest.json "d[0]['Layers']")" "Layers"
    assert_eq "['example.com/team/bundle:v1']" "$(json x/manifest.json "d[0]['RepoTags']")" "RepoTags"
    # SOURCE_DATE_EPOCH sets the tarball's mtimes, and nothing else
    SOURCE_DATE_EPOCH=1700000000 imgpkg save -b example.com/team/bundle:v1 -f b --to-tar sde.tar > sde.txt
    assert_eq "$ours" "$(ts_digest_of sde.txt)" "digest with SOURCE_DATE_EPOCH"
    python3 - sde.tar 1700000000 <<'EOF'
import sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    for m in t.getmembers():
        assert int(m.mtime) == int(sys.argv[2]), (m.name, m.mtime)
EOF
    assert_eq "$(tar -tf out.tar)" "$(tar -tf sde.tar)" "members with SOURCE_DATE_EPOCH"
}

# ---------- determinism ----------

# ts_make_tree DIR ORDER: the same files, created in ORDER (fwd|rev)
ts_make_tree() {
    local d=$1 files="a.txt dir/b.txt dir/sub/c.txt dir/z.txt zz/.hidden top.bin"
    [ "$2" = rev ] && files=$(echo "$files" | tr ' ' '\n' | sort -r | tr '\n' ' ')
    [ "$2" = rev ] && mkdir -p "$d/zz" "$d/dir/sub" "$d/.imgpkg"
    [ "$2" = fwd ] && mkdir -p "$d/.imgpkg" "$d/dir/sub" "$d/zz"
    for f in $files; do
        mkdir -p "$d/$(dirname "$f")"
        case $f in
        top.bin) printf 'bin\000\001\002' > "$d/$f" ;;
        *) echo "content of $f" > "$d/$f" ;;
        esac
    done
    chmod 755 "$d/dir/z.txt"
    cat > "$d/.imgpkg/images.yml" <<'YAML'
apiVersion: imgpkg.carvel.dev/v1alpha1
kind: ImagesLock
images: []
YAML
}

test_save_deterministic() {
    ts_make_tree src fwd
    imgpkg save -b example.com/det:v1 -f src --to-tar one.tar > one.txt
    imgpkg save -b example.com/det:v1 -f src --to-oci-layout lay1 > /dev/null
    # new mtimes, then the same files created again in another order, another umask
    find src -exec touch -d '2011-11-11 11:11:11' {} +
    imgpkg save -b example.com/det:v1 -f src --to-tar two.tar > two.txt
    cmp one.tar two.tar || fail "touching files changed the tarball"
    rm -rf src
    (umask 077 && ts_make_tree src rev)
    chmod 700 src/dir/z.txt
    find src -exec touch -d '1999-01-02 03:04:05' {} +
    imgpkg save -b example.com/det:v1 -f src --to-tar three.tar > three.txt
    cmp one.tar three.tar || fail "recreating files changed the tarball"
    imgpkg save -b example.com/det:v1 -f src --to-oci-layout lay2 > /dev/null
    assert_eq "$(tree_listing lay1)" "$(tree_listing lay2)" "layouts"
    assert_eq "$(ts_digest_of one.txt)" "$(ts_digest_of three.txt)" "digests"
}
