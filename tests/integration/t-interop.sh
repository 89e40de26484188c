# t-interop.sh - side by side with the real imgpkg, named by the environment
# variable IMGPKG_PEER (absent: every test here is counted as skipped).
# - our --help lists every flag of imgpkg's, command by command;
# - the uncompressed layer of our `push -i` lists the same tar entries, in the
#   same order, with the same header fields as imgpkg's `push -i` of the same
#   folder and flags;
# - what we push and save (bundles referencing images in the registry, plain
#   images; default media types and --oci) the real imgpkg pulls, copies to a
#   tarball and to another repository with every image, and describes;
# - nested bundles, copied by either, to a repository and through a tarball;
# - what the real imgpkg pushes and copies to its legacy tarball, we pull,
#   copy and relocate with every digest intact.

# ---------- helpers (names start with ip_; every t-*.sh shares one shell) ----------

# ip_need_peer: skips the test when IMGPKG_PEER is not set; fails when it
# names nothing runnable.
ip_need_peer() {
    [ -n "${IMGPKG_PEER:-}" ] || skip "IMGPKG_PEER names no imgpkg binary to compare with"
    [ -x "$IMGPKG_PEER" ] || fail "IMGPKG_PEER=$IMGPKG_PEER is not an executable"
}

# peer ARGS...: the real imgpkg
peer() { "$IMGPKG_PEER" "$@"; }

# ip_digest REF: the registry's digest of the manifest REF names (skopeo).
ip_digest() {
    skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$1"
}

# ip_has REPO@DIGEST: the registry serves that manifest.
ip_has() {
    local code
    code=$(curl -s -o /dev/null -w '%{http_code}' \
        -H 'Accept: application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json' \
        "http://${1%%/*}/v2/$(ip_path "$1")/manifests/${1##*@}")
    [ "$code" = 200 ] || fail "the registry has no manifest $1 (HTTP $code)"
}

# ip_path HOST/REPO[@DIGEST|:TAG]: REPO
ip_path() {
    local p=${1#*/}
    p=${p%@*}
    case $p in *:*) p=${p%:*} ;; esac
    echo "$p"
}

# ip_layer_listing HOST/REPO:TAG: every entry of every layer of that image,
# one line each, read from the raw tar blocks (Python's tarfile would strip a
# trailing / from directory names): type, name (prefix joined; a pax path
# record wins), mode, uid, gid, uname, gname, mtime, size, linkname, and the
# keys of the pax records that came before it.  Global pax headers and GNU
# long names get lines of their own.
ip_layer_listing() {
    python3 - "$1" <<'EOF'
import gzip, json, sys, urllib.request
ref = sys.argv[1]
host, rest = ref.split("/", 1)
repo, tag = rest.rsplit(":", 1)
def get(path, accept=None):
    r = urllib.request.Request("http://%s/v2/%s/%s" % (host, repo, path))
    if accept:
        r.add_header("Accept", accept)
    return urllib.request.urlopen(r).read()
m = json.loads(get("manifests/" + tag, "application/vnd.docker.distribution.manifest.v2+json, "
                   "application/vnd.oci.image.manifest.v1+json"))
def field(h, a, b):
    return h[a:b].split(b"\0", 1)[0].decode("utf-8", "backslashreplace")
def num(h, a, b):
    s = h[a:b].replace(b"\0", b" ").strip()
    return int(s, 8) if s else 0
def records(data):
    out = {}
    while data:
        n = int(data.split(b" ", 1)[0])
        key, _, value = data[:n].split(b" ", 1)[1].rstrip(b"\n").partition(b"=")
        out[key.decode()] = value.decode("utf-8", "backslashreplace")
        data = data[n:]
    return out
for i, layer in enumerate(m["layers"]):
    print("layer %d" % i)
    b = gzip.decompress(get("blobs/" + layer["digest"]))
    off = 0
    pax = {}
    longname = None
    while True:
        h = b[off:off + 512]
        if len(h) < 512:
            print("truncated tar (no end-of-archive blocks)")
            break
        if h == b"\0" * 512:
            break
        typ = h[156:157].decode() or "0"
        size = num(h, 124, 136)
        data = b[off + 512:off + 512 + size]
        off += 512 + (size + 511) // 512 * 512
        if typ == "x":
            pax.update(records(data))
            continue
        if typ == "g":
            print("global pax %r" % sorted(records(data).items()))
            continue
        if typ == "L":
            longname = data.rstrip(b"\0").decode("utf-8", "backslashreplace")
            continue
        name = field(h, 0, 100)
        prefix = field(h, 345, 500) if h[257:262] == b"ustar" else ""
        if prefix:
            name = prefix + "/" + name
        if longname is not None:
            name = longname + " (GNU long name)"
        name = pax.get("path", name)
        print("%s %r mode=%o uid=%d gid=%d uname=%r gname=%r mtime=%d size=%d link=%r pax=%s" % (
            typ, name, num(h, 100, 108), num(h, 108, 116), num(h, 116, 124),
            field(h, 265, 297), field(h, 297, 329), num(h, 136, 148), size,
            pax.get("linkpath", field(h, 157, 257)), ",".join(sorted(pax))))
        pax = {}
        longname = None
EOF
}

# ip_same_layer NAME ARGS...: pushes `-i` with ARGS (-f ..., flags) with both
# binaries into REG/ip-layer/NAME-{peer,ours}:v1 and compares the listings.
ip_same_layer() {
    local name=$1
    shift
    peer push -i "$REG_ADDR/ip-layer/$name-peer:v1" "$@" > peer-push.log 2>&1 || fail "imgpkg push: $(cat peer-push.log)"
    imgpkg push -i "$REG_ADDR/ip-layer/$name-ours:v1" "$@" > ours-push.log 2>&1 || fail "our push: $(cat ours-push.log)"
    ip_layer_listing "$REG_ADDR/ip-layer/$name-peer:v1" > "$name.peer.list"
    ip_layer_listing "$REG_ADDR/ip-layer/$name-ours:v1" > "$name.ours.list"
    [ "$(wc -l < "$name.peer.list")" -gt 1 ] || fail "imgpkg's layer lists nothing"
    diff -u "$name.peer.list" "$name.ours.list" > "$name.diff" ||
        fail "layer of push -i $* differs from imgpkg's (- imgpkg, + ours):
$(cat "$name.diff")"
    # the same headers and contents in Go's header form, pax records
    # included: the same bytes
    assert_eq "$(ip_diff_ids "$REG_ADDR/ip-layer/$name-peer:v1")" "$(ip_diff_ids "$REG_ADDR/ip-layer/$name-ours:v1")" \
        "diff_ids (uncompressed layer digests) of push -i $*"
}

# ip_diff_ids HOST/REPO:TAG: the config's rootfs.diff_ids
ip_diff_ids() {
    skopeo inspect --tls-verify=false --config "docker://$1" > config.json
    json config.json '" ".join(d["rootfs"]["diff_ids"])'
}

# ip_tree DIR: a folder with nested dirs whose names sort around '/' (a, a-b,
# a.txt), an empty dir, executables, a read-only file, setuid and setgid
# bits, a file owned by another uid/gid, a group-writable dir, dot files and
# a .git (left out by default).
ip_tree() {
    local d=$1
    mkdir -p "$d/a/x/y" "$d/a-b" "$d/empty" "$d/bin" "$d/.git" "$d/shared"
    echo one > "$d/a.txt"
    echo deep > "$d/a/x/y/deep.txt"
    echo two > "$d/a/x/two.txt"
    echo c > "$d/a-b/c"
    printf '#!/bin/sh\necho run\n' > "$d/bin/run.sh"
    chmod 755 "$d/bin/run.sh"
    printf '#!/bin/sh\n' > "$d/bin/suid"
    chmod 4750 "$d/bin/suid"
    echo ro > "$d/readonly.txt"
    chmod 444 "$d/readonly.txt"
    echo g > "$d/shared/g.txt"
    chmod 2775 "$d/shared"
    echo owned > "$d/owned.txt"
    chown 1234:4321 "$d/owned.txt" 2> /dev/null || true
    echo hidden > "$d/.hidden"
    echo ref > "$d/.git/HEAD"
    echo x > "$d/x"
}

# ip_images NAME: pushes two plain images with OUR push -i (or with imgpkg's
# when NAME starts with "peer") into REG/ip-NAME/img{1,2} and writes an
# images.yml referencing both by digest into DIR bundle-NAME/.imgpkg/, with a
# few other files beside it.  Prints nothing; digests in img1.digest and
# img2.digest.
ip_images() {
    local name=$1 i bin=imgpkg
    case $name in peer*) bin=peer ;; esac
    for i in 1 2; do
        mkdir -p "img$i-src/sub"
        echo "image $i of $name" > "img$i-src/content.txt"
        echo "nested $i" > "img$i-src/sub/n.txt"
        $bin push -i "$REG_ADDR/ip-$name/img$i:v1" -f "img$i-src" > /dev/null 2>&1 ||
            fail "$bin push -i img$i failed"
        ip_digest "$REG_ADDR/ip-$name/img$i:v1" > "img$i.digest"
    done
    mkdir -p "bundle-$name/.imgpkg" "bundle-$name/config/sub" "bundle-$name/empty"
    cat > "bundle-$name/.imgpkg/images.yml" <<YAML
---
apiVersion: imgpkg.carvel.dev/v1alpha1
kind: ImagesLock
images:
- image: $REG_ADDR/ip-$name/img1@$(cat img1.digest)
  annotations:
    kbld.carvel.dev/id: app1
- image: $REG_ADDR/ip-$name/img2@$(cat img2.digest)
  annotations:
    kbld.carvel.dev/id: app2
YAML
    echo "kind: ConfigMap" > "bundle-$name/config/cm.yml"
    echo "a: 1" > "bundle-$name/config/sub/values.yml"
    printf '#!/bin/sh\necho hi\n' > "bundle-$name/run.sh"
    chmod 755 "bundle-$name/run.sh"
}

# ip_images_yml FILE: the images of an ImagesLock as "image annotations" lines
# (sorted), to compare by meaning.
ip_images_yml() {
    python3 - "$1" <<'EOF'
import json, sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
assert d["apiVersion"] == "imgpkg.carvel.dev/v1alpha1" and d["kind"] == "ImagesLock", d
for i in sorted(d.get("images") or [], key=lambda i: i["image"]):
    print(i["image"], json.dumps(i.get("annotations") or {}, sort_keys=True))
EOF
}

# ip_same_files SRC PULLED: byte-identical trees, .imgpkg/images.yml apart
# (imgpkg rewrites it on pull: compared by meaning by the callers).
ip_same_files() {
    diff -r -x images.yml "$1" "$2" > files.diff || fail "pulled files differ: $(cat files.diff)"
    tree_listing "$1" | grep -v images.yml > src.tree
    tree_listing "$2" | grep -v images.yml > pulled.tree
    diff -u src.tree pulled.tree > tree.diff || fail "pulled tree differs: $(cat tree.diff)"
}

# ip_manifest_types HOST/REPO:TAG: "manifest config layer..." media types.
ip_manifest_types() {
    skopeo inspect --tls-verify=false --raw "docker://$1" > m.json
    json m.json '" ".join([d.get("mediaType", "-"), d["config"]["mediaType"]] + [l["mediaType"] for l in d["layers"]])'
}

IP_DOCKER_TYPES="application/vnd.docker.distribution.manifest.v2+json application/vnd.docker.container.image.v1+json application/vnd.docker.image.rootfs.diff.tar.gzip"
IP_OCI_TYPES="application/vnd.oci.image.manifest.v1+json application/vnd.oci.image.config.v1+json application/vnd.oci.image.layer.v1.tar+gzip"

# ip_peer_reads_bundle NAME REF MODE: what we made at REF (a bundle made from
# bundle-NAME referencing REG/ip-NAME/img{1,2}), MODE docker or oci.
#  docker: imgpkg pulls it (files byte-identical, images.yml same meaning),
#   describes it (every image), copies it to a tarball (bundle and both images
#   in it, then back to a repository) and to another repository with every
#   image, digests intact; pulled from there its images.yml points there.
#  oci: imgpkg pulls it; its copy and describe refuse a bundle whose layer is
#   not Docker-typed (v0.36 and later), with that message.
ip_peer_reads_bundle() {
    local name=$1 ref=$2 mode=$3 bd d1 d2 dst
    bd=$(ip_digest "$ref")
    d1=$(cat img1.digest)
    d2=$(cat img2.digest)
    if [ "$mode" = docker ]; then
        assert_eq "$IP_DOCKER_TYPES" "$(ip_manifest_types "$ref")" "media types of our bundle"
    else
        assert_eq "$IP_OCI_TYPES" "$(ip_manifest_types "$ref")" "media types of our --oci bundle"
    fi
    peer pull -b "$ref" -o pulled > pull.log 2>&1 || fail "imgpkg pull -b: $(cat pull.log)"
    ip_same_files "bundle-$name" pulled
    assert_eq "$(ip_images_yml "bundle-$name/.imgpkg/images.yml")" "$(ip_images_yml pulled/.imgpkg/images.yml)" \
        "images.yml pulled by imgpkg"
    if [ "$mode" = oci ]; then
        for cmd in "describe -b $ref" "copy -b $ref --to-tar x.tar" "copy -b $ref --to-repo $REG_ADDR/ip-$name/dst"; do
            # shellcheck disable=SC2086
            if peer $cmd > refuse.log 2>&1; then
                fail "imgpkg $cmd took a bundle with an OCI layer"
            fi
            grep -q 'Expected layer to have docker layer media type, was application/vnd.oci.image.layer.v1.tar+gzip' refuse.log ||
                fail "imgpkg $cmd: $(cat refuse.log)"
        done
        return 0
    fi
    peer describe -b "$ref" --tty > describe.log 2>&1 || fail "imgpkg describe: $(cat describe.log)"
    assert_contains "$(cat describe.log)" "Bundle SHA: $bd"
    assert_contains "$(cat describe.log)" "- Image: $REG_ADDR/ip-$name/img1@$d1"
    assert_contains "$(cat describe.log)" "- Image: $REG_ADDR/ip-$name/img2@$d2"
    assert_contains "$(cat describe.log)" "kbld.carvel.dev/id: app2"
    # to a tarball: the bundle and both images, then back into a repository
    peer copy -b "$ref" --to-tar peer.tar > copy-tar.log 2>&1 || fail "imgpkg copy --to-tar: $(cat copy-tar.log)"
    tar -xOf peer.tar manifest.json > peer-manifest.json
    assert_eq "$(printf '%s\n' "$bd" "$d1" "$d2" | sort)" \
        "$(json peer-manifest.json '"\n".join(sorted(e["Image"]["Manifest"]["Digest"] for e in d))')" \
        "manifests in imgpkg's tarball"
    dst=$REG_ADDR/ip-$name/from-tar
    peer copy --tar peer.tar --to-repo "$dst" > copy-back.log 2>&1 || fail "imgpkg copy --tar: $(cat copy-back.log)"
    ip_has "$dst@$bd"
    ip_has "$dst@$d1"
    ip_has "$dst@$d2"
    # to another repository with every image
    dst=$REG_ADDR/ip-$name/copied
    peer copy -b "$ref" --to-repo "$dst" > copy-repo.log 2>&1 || fail "imgpkg copy --to-repo: $(cat copy-repo.log)"
    ip_has "$dst@$bd"
    ip_has "$dst@$d1"
    ip_has "$dst@$d2"
    peer pull -b "$dst@$bd" -o pulled-copy > pull2.log 2>&1 || fail "imgpkg pull of the copy: $(cat pull2.log)"
    ip_same_files "bundle-$name" pulled-copy
    assert_eq "$(printf '%s {"kbld.carvel.dev/id": "app%s"}\n' "$dst@$d1" 1 "$dst@$d2" 2 | sort)" \
        "$(ip_images_yml pulled-copy/.imgpkg/images.yml)" "images.yml of the copy, pulled by imgpkg"
}

# ip_peer_reads_image REF SRC MODE: imgpkg pulls the plain image we made at
# REF from SRC (files byte-identical), copies it to a tarball and back, and
# to another repository, digest intact.
ip_peer_reads_image() {
    local ref=$1 src=$2 mode=$3 d repo
    d=$(ip_digest "$ref")
    repo=$(ip_path "$ref")
    if [ "$mode" = docker ]; then
        assert_eq "$IP_DOCKER_TYPES" "$(ip_manifest_types "$ref")" "media types of our image"
    else
        assert_eq "$IP_OCI_TYPES" "$(ip_manifest_types "$ref")" "media types of our --oci image"
    fi
    peer pull -i "$ref" -o pulled-img > pull.log 2>&1 || fail "imgpkg pull -i: $(cat pull.log)"
    ip_same_files "$src" pulled-img
    peer copy -i "$ref" --to-tar img.tar > copy-tar.log 2>&1 || fail "imgpkg copy -i --to-tar: $(cat copy-tar.log)"
    tar -xOf img.tar manifest.json > img-manifest.json
    assert_eq "$d" "$(json img-manifest.json '"\n".join(e["Image"]["Manifest"]["Digest"] for e in d)')" \
        "manifest in imgpkg's tarball"
    peer copy --tar img.tar --to-repo "$REG_ADDR/$repo-from-tar" > copy-back.log 2>&1 ||
        fail "imgpkg copy --tar: $(cat copy-back.log)"
    ip_has "$REG_ADDR/$repo-from-tar@$d"
    peer copy -i "$ref" --to-repo "$REG_ADDR/$repo-copied" > copy-repo.log 2>&1 ||
        fail "imgpkg copy -i --to-repo: $(cat copy-repo.log)"
    ip_has "$REG_ADDR/$repo-copied@$d"
}

# ip_flags BINARY ARGS...: "-s --long" or "--long" for each flag its help lists
ip_flags() {
    "$@" --help 2>&1 | sed -n -E 's/^ +(-([a-zA-Z0-9]), )?--([a-z0-9-]+).*/\2 --\3/p' |
        sed -E 's/^([a-zA-Z0-9]) /-\1 /; s/^ //' | LC_ALL=C sort -u
}

# ---------- --help ----------

# Every command of imgpkg's (completion, a shell-completion generator, is not
# part of this issue) and each of its flags, with the same short letter.
test_interop_help_flags() {
    ip_need_peer
    local c missing="" n
    peer --help > peer-help.txt 2>&1
    for c in copy describe pull push tag version; do
        grep -Eq "^  $c " peer-help.txt || fail "imgpkg's help lists no command $c"
    done
    for c in "" copy describe pull push tag "tag list" "tag resolve" version; do
        # shellcheck disable=SC2086
        ip_flags peer $c > peer.flags
        # shellcheck disable=SC2086
        ip_flags imgpkg $c > ours.flags
        n=$(wc -l < peer.flags)
        [ "$n" -ge 2 ] || fail "no flags found in imgpkg $c --help"
        # shellcheck disable=SC2086
        imgpkg $c --help > /dev/null 2>&1 || fail "imgpkg $c --help fails"
        while read -r f; do
            missing="$missing
  imgpkg $c: $f"
        done < <(LC_ALL=C comm -23 peer.flags ours.flags)
    done
    [ -z "$missing" ] || fail "flags of imgpkg's missing from our --help:$missing"
}

# ---------- the layer ----------

test_interop_layer_nested() {
    ip_need_peer
    ip_tree tree
    ip_same_layer nested -f tree
}

test_interop_layer_empty_dir() {
    ip_need_peer
    mkdir -p only-empty/nothing
    ip_same_layer empty -f only-empty
    mkdir -p bare
    ip_same_layer bare -f bare
}

# a file given directly, two directories, in that order and the other way
test_interop_layer_several_inputs() {
    ip_need_peer
    ip_tree tree
    # imgpkg refuses inputs that share a path (even a directory): none here
    mkdir -p other/sub other/b-dir
    echo o > other/o.txt
    echo s > other/sub/s.txt
    echo single > single.yml
    chmod 750 single.yml
    ip_same_layer file -f single.yml
    ip_same_layer dirs -f tree -f other
    ip_same_layer mixed -f other -f single.yml -f tree
    # two inputs that share a path (a directory too): both refuse, same words
    mkdir -p dup/a
    echo d > dup/a/d.txt
    peer push -i "$REG_ADDR/ip-layer/dup-peer:v1" -f tree -f dup > dup-peer.log 2>&1 && fail "imgpkg took duplicate paths"
    expect_fail "^imgpkg: Error: $(sed -n 's/^imgpkg: Error: //p' dup-peer.log)\$" \
        imgpkg push -i "$REG_ADDR/ip-layer/dup-ours:v1" -f tree -f dup
    assert_contains "$(cat dup-peer.log)" "Found duplicate paths: tree/a, dup/a"
}

# names past ustar's 100 bytes (pax records), past 255, with spaces,
# non-ASCII letters and a byte that is not UTF-8, in the C and a UTF-8 locale
test_interop_layer_names() {
    ip_need_peer
    local d60 f90 g120
    d60=$(printf 'd%.0s' $(seq 60))
    f90=$(printf 'f%.0s' $(seq 90))
    g120=$(printf 'g%.0s' $(seq 120))
    mkdir -p "names/$d60/$d60/$d60/$d60" "names/with space"
    echo deep > "names/$d60/$d60/$d60/$d60/$f90.txt"
    echo long > "names/$g120"
    echo sp > "names/with space/a b.txt"
    echo u > "names/ünï cødé.txt"
    echo j > "names/日本.yml"
    echo r > "names/raw-$(printf '\377')-byte.txt" # not UTF-8
    LC_ALL=C ip_same_layer names -f names
    LC_ALL=C.UTF-8 ip_same_layer names-utf8 -f names
}

test_interop_layer_exclusion() {
    ip_need_peer
    ip_tree tree
    # the first --file-exclusion replaces the default .git
    ip_same_layer excl -f tree --file-exclusion a/x/two.txt --file-exclusion a-b
    ip_same_layer excl-nested -f tree --file-exclusion a/x
    ip_same_layer excl-git -f tree --file-exclusion .git,x
}

# imgpkg v0.36 has no --preserve-permissions: ours keeps mode & 07777 and is
# otherwise imgpkg's layer.
test_interop_layer_preserve_permissions() {
    ip_need_peer
    ip_tree tree
    if peer push -i "$REG_ADDR/ip-layer/pp-peer:v1" -f tree --preserve-permissions > pp.log 2>&1; then
        fail "imgpkg took --preserve-permissions: compare the layers with it"
    fi
    assert_contains "$(cat pp.log)" "unknown flag: --preserve-permissions"
    peer push -i "$REG_ADDR/ip-layer/pp-peer:v1" -f tree > pp.log 2>&1 || fail "imgpkg push: $(cat pp.log)"
    imgpkg push -i "$REG_ADDR/ip-layer/pp-ours:v1" -f tree --preserve-permissions > pp.log 2>&1 ||
        fail "our push: $(cat pp.log)"
    ip_layer_listing "$REG_ADDR/ip-layer/pp-peer:v1" > peer.list
    ip_layer_listing "$REG_ADDR/ip-layer/pp-ours:v1" > ours.list
    # imgpkg's listing with each mode replaced by the source's mode & 07777
    python3 -c '
import os, re, sys
root = sys.argv[1]
for line in sys.stdin:
    m = re.match(r"^[05] \x27([^\x27]*)\x27 mode=([0-7]+) ", line)
    if m:
        st = os.lstat(os.path.join(root, m.group(1).rstrip("/")))
        line = line.replace("mode=%s " % m.group(2), "mode=%o " % (st.st_mode & 0o7777), 1)
    sys.stdout.write(line)
' tree < peer.list > expected.list
    grep -q "'bin/suid' mode=4750 " expected.list || fail "expected listing lacks the setuid file: $(cat expected.list)"
    diff -u expected.list ours.list > pp.diff ||
        fail "layer of push -i --preserve-permissions differs from imgpkg's with the files' modes:
$(cat pp.diff)"
}

# ---------- what we make, the real imgpkg reads ----------

test_interop_our_bundle_push() {
    ip_need_peer
    ip_images ours-push
    imgpkg push -b "$REG_ADDR/ip-ours-push/bundle:v1" -f bundle-ours-push > push.log 2>&1 || fail "push -b: $(cat push.log)"
    ip_peer_reads_bundle ours-push "$REG_ADDR/ip-ours-push/bundle:v1" docker
}

test_interop_our_bundle_push_oci() {
    ip_need_peer
    ip_images ours-push-oci
    imgpkg push -b "$REG_ADDR/ip-ours-push-oci/bundle:v1" -f bundle-ours-push-oci --oci > push.log 2>&1 ||
        fail "push -b --oci: $(cat push.log)"
    ip_peer_reads_bundle ours-push-oci "$REG_ADDR/ip-ours-push-oci/bundle:v1" oci
}

test_interop_our_bundle_save() {
    ip_need_peer
    ip_images ours-save
    imgpkg save -b ip-ours-save/bundle:v1 -f bundle-ours-save --to-tar b.tar > save.log 2>&1 || fail "save -b: $(cat save.log)"
    imgpkg push --tar b.tar --to-repo "$REG_ADDR/ip-ours-save/bundle" > push.log 2>&1 || fail "push --tar: $(cat push.log)"
    ip_peer_reads_bundle ours-save "$REG_ADDR/ip-ours-save/bundle:v1" docker
}

test_interop_our_bundle_save_oci() {
    ip_need_peer
    ip_images ours-save-oci
    imgpkg save -b ip-ours-save-oci/bundle:v1 -f bundle-ours-save-oci --oci --to-tar b.tar > save.log 2>&1 ||
        fail "save -b --oci: $(cat save.log)"
    imgpkg push --tar b.tar --to-repo "$REG_ADDR/ip-ours-save-oci/bundle" > push.log 2>&1 ||
        fail "push --tar: $(cat push.log)"
    ip_peer_reads_bundle ours-save-oci "$REG_ADDR/ip-ours-save-oci/bundle:v1" oci
}

test_interop_our_image_push() {
    ip_need_peer
    ip_tree tree
    imgpkg push -i "$REG_ADDR/ip-ours-img/plain:v1" -f tree > push.log 2>&1 || fail "push -i: $(cat push.log)"
    rm -rf tree/.git # left out by default
    ip_peer_reads_image "$REG_ADDR/ip-ours-img/plain:v1" tree docker
    mkdir oci && cd oci || exit 1
    imgpkg push -i "$REG_ADDR/ip-ours-img/plain-oci:v1" -f ../tree --oci > push.log 2>&1 || fail "push -i --oci: $(cat push.log)"
    ip_peer_reads_image "$REG_ADDR/ip-ours-img/plain-oci:v1" ../tree oci
}

test_interop_our_image_save() {
    ip_need_peer
    ip_tree tree
    rm -rf tree/.git
    imgpkg save -i ip-ours-img-save/plain:v1 -f tree --to-tar i.tar > save.log 2>&1 || fail "save -i: $(cat save.log)"
    imgpkg push --tar i.tar --to-repo "$REG_ADDR/ip-ours-img-save/plain" > push.log 2>&1 || fail "push --tar: $(cat push.log)"
    ip_peer_reads_image "$REG_ADDR/ip-ours-img-save/plain:v1" tree docker
    mkdir oci && cd oci || exit 1
    imgpkg save -i ip-ours-img-save/plain-oci:v1 -f ../tree --oci --to-tar i.tar > save.log 2>&1 ||
        fail "save -i --oci: $(cat save.log)"
    imgpkg push --tar i.tar --to-repo "$REG_ADDR/ip-ours-img-save/plain-oci" > push.log 2>&1 ||
        fail "push --tar: $(cat push.log)"
    ip_peer_reads_image "$REG_ADDR/ip-ours-img-save/plain-oci:v1" ../tree oci
}

# ---------- what the real imgpkg makes, we read ----------

# imgpkg's bundle and images: we pull them (byte-identical files), copy them
# to another repository and, from imgpkg's legacy tarball, relocate them,
# every digest intact; pulled from the relocation, images.yml points there.
test_interop_peer_bundle() {
    ip_need_peer
    local ref=$REG_ADDR/ip-peer/bundle:v1 bd d1 d2 dst
    ip_images peer
    d1=$(cat img1.digest)
    d2=$(cat img2.digest)
    peer push -b "$ref" -f bundle-peer > push.log 2>&1 || fail "imgpkg push -b: $(cat push.log)"
    bd=$(ip_digest "$ref")
    imgpkg pull -b "$ref" -o pulled > pull.log 2>&1 || fail "pull -b: $(cat pull.log)"
    ip_same_files bundle-peer pulled
    assert_eq "$(ip_images_yml bundle-peer/.imgpkg/images.yml)" "$(ip_images_yml pulled/.imgpkg/images.yml)" "images.yml pulled"
    imgpkg describe -b "$ref" --tty > describe.log 2>&1 || fail "describe: $(cat describe.log)"
    assert_contains "$(cat describe.log)" "$d1"
    assert_contains "$(cat describe.log)" "$d2"

    dst=$REG_ADDR/ip-peer/copied
    imgpkg copy -b "$ref" --to-repo "$dst" > copy.log 2>&1 || fail "copy -b --to-repo: $(cat copy.log)"
    assert_eq "$bd" "$(ip_digest "$dst:v1")" "bundle digest after our copy"
    ip_has "$dst@$d1"
    ip_has "$dst@$d2"

    peer copy -b "$ref" --to-tar legacy.tar > copy-tar.log 2>&1 || fail "imgpkg copy --to-tar: $(cat copy-tar.log)"
    dst=$REG_ADDR/ip-peer/relocated
    imgpkg copy --tar legacy.tar --to-repo "$dst" --lock-output lock.yml > reloc.log 2>&1 ||
        fail "copy --tar (imgpkg's tarball): $(cat reloc.log)"
    assert_eq "$bd" "$(ip_digest "$dst:v1")" "bundle digest after relocation"
    ip_has "$dst@$d1"
    ip_has "$dst@$d2"
    assert_contains "$(cat lock.yml)" "image: $dst@$bd"
    imgpkg pull -b "$dst:v1" -o pulled-reloc > pull2.log 2>&1 || fail "pull -b of the relocation: $(cat pull2.log)"
    ip_same_files bundle-peer pulled-reloc
    assert_eq "$(printf '%s {"kbld.carvel.dev/id": "app%s"}\n' "$dst@$d1" 1 "$dst@$d2" 2 | sort)" \
        "$(ip_images_yml pulled-reloc/.imgpkg/images.yml)" "images.yml pulled from the relocation"
    # and imgpkg itself still reads what we relocated
    peer pull -b "$dst:v1" -o peer-pulled > pull3.log 2>&1 || fail "imgpkg pull of our relocation: $(cat pull3.log)"
    ip_same_files bundle-peer peer-pulled
}

test_interop_peer_image() {
    ip_need_peer
    local ref=$REG_ADDR/ip-peer-img/plain:v1 d dst
    ip_tree tree
    rm -rf tree/.git
    peer push -i "$ref" -f tree > push.log 2>&1 || fail "imgpkg push -i: $(cat push.log)"
    d=$(ip_digest "$ref")
    assert_eq "$IP_DOCKER_TYPES" "$(ip_manifest_types "$ref")" "media types of imgpkg's image"
    imgpkg pull -i "$ref" -o pulled > pull.log 2>&1 || fail "pull -i: $(cat pull.log)"
    ip_same_files tree pulled
    imgpkg copy -i "$ref" --to-repo "$REG_ADDR/ip-peer-img/copied" > copy.log 2>&1 || fail "copy -i: $(cat copy.log)"
    assert_eq "$d" "$(ip_digest "$REG_ADDR/ip-peer-img/copied:v1")" "digest after our copy"
    peer copy -i "$ref" --to-tar legacy.tar > copy-tar.log 2>&1 || fail "imgpkg copy --to-tar: $(cat copy-tar.log)"
    dst=$REG_ADDR/ip-peer-img/relocated
    imgpkg copy --tar legacy.tar --to-repo "$dst" > reloc.log 2>&1 || fail "copy --tar: $(cat reloc.log)"
    assert_eq "$d" "$(ip_digest "$dst:v1")" "digest after relocation"
    imgpkg pull -i "$dst:v1" -o pulled-reloc > pull2.log 2>&1 || fail "pull -i of the relocation: $(cat pull2.log)"
    ip_same_files tree pulled-reloc
}

# ---------- nested bundles, both ways (default media types) ----------

# ip_nested BIN NAME: with BIN (imgpkg or peer), an image, a bundle "inner"
# referencing it and a bundle "outer" referencing inner, in REG/ip-NAME;
# digests in img.digest, inner.digest, outer.digest.
ip_nested() {
    local bin=$1 name=$2 r=$REG_ADDR/ip-$2
    mkdir -p img inner/.imgpkg outer/.imgpkg
    echo "image of $name" > img/i.txt
    $bin push -i "$r/img:v1" -f img > push.log 2>&1 || fail "$bin push -i: $(cat push.log)"
    ip_digest "$r/img:v1" > img.digest
    echo inner > inner/inner.txt
    printf -- '---\napiVersion: imgpkg.carvel.dev/v1alpha1\nkind: ImagesLock\nimages:\n- image: %s\n' \
        "$r/img@$(cat img.digest)" > inner/.imgpkg/images.yml
    $bin push -b "$r/inner:v1" -f inner > push.log 2>&1 || fail "$bin push -b inner: $(cat push.log)"
    ip_digest "$r/inner:v1" > inner.digest
    echo outer > outer/outer.txt
    printf -- '---\napiVersion: imgpkg.carvel.dev/v1alpha1\nkind: ImagesLock\nimages:\n- image: %s\n' \
        "$r/inner@$(cat inner.digest)" > outer/.imgpkg/images.yml
    $bin push -b "$r/outer:v1" -f outer > push.log 2>&1 || fail "$bin push -b outer: $(cat push.log)"
    ip_digest "$r/outer:v1" > outer.digest
}

# ip_nested_copied DST: the outer and inner bundles and the image at DST
ip_nested_copied() {
    ip_has "$1@$(cat outer.digest)"
    ip_has "$1@$(cat inner.digest)"
    ip_has "$1@$(cat img.digest)"
}

test_interop_our_nested_bundle() {
    ip_need_peer
    local r=$REG_ADDR/ip-ours-nested
    ip_nested imgpkg ours-nested
    peer describe -b "$r/outer:v1" --tty > describe.log 2>&1 || fail "imgpkg describe: $(cat describe.log)"
    assert_contains "$(cat describe.log)" "- Image: $r/inner@$(cat inner.digest)
    Type: Bundle"
    assert_contains "$(cat describe.log)" "- Image: $r/img@$(cat img.digest)
      Type: Image"
    peer copy -b "$r/outer:v1" --to-repo "$r/copied" > copy.log 2>&1 || fail "imgpkg copy: $(cat copy.log)"
    ip_nested_copied "$r/copied"
    peer copy -b "$r/outer:v1" --to-tar nested.tar > copy.log 2>&1 || fail "imgpkg copy --to-tar: $(cat copy.log)"
    peer copy --tar nested.tar --to-repo "$r/from-tar" > copy.log 2>&1 || fail "imgpkg copy --tar: $(cat copy.log)"
    ip_nested_copied "$r/from-tar"
}

test_interop_peer_nested_bundle() {
    ip_need_peer
    local r=$REG_ADDR/ip-peer-nested
    ip_nested peer peer-nested
    imgpkg copy -b "$r/outer:v1" --to-repo "$r/copied" > copy.log 2>&1 || fail "copy: $(cat copy.log)"
    ip_nested_copied "$r/copied"
    assert_eq "$(cat outer.digest)" "$(ip_digest "$r/copied:v1")" "outer bundle after our copy"
    peer copy -b "$r/outer:v1" --to-tar legacy.tar > copy.log 2>&1 || fail "imgpkg copy --to-tar: $(cat copy.log)"
    imgpkg copy --tar legacy.tar --to-repo "$r/relocated" > copy.log 2>&1 || fail "copy --tar: $(cat copy.log)"
    ip_nested_copied "$r/relocated"
    # what we relocated, imgpkg copies on
    peer copy -b "$r/relocated:v1" --to-repo "$r/again" > copy.log 2>&1 || fail "imgpkg copy of our relocation: $(cat copy.log)"
    ip_nested_copied "$r/again"
}
