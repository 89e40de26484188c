# t-verify.sh - imgpkg verify passes on what save writes and catches damage:
# flipped bytes, missing blobs, wrong sizes, diff_id mismatches, each reported
# as a "problem: ..." line naming the blob, with exit status 1.

# ---------- helpers (names start with tv_) ----------

# tv_save DIR: a small image saved as layout DIR (tag v1); sets TV_MANIFEST,
# TV_CONFIG and TV_LAYER (digests).
tv_save() {
    mkdir -p tv-src/sub
    echo "hello" > tv-src/hello.txt
    head -c 3000 /dev/urandom > tv-src/sub/random.bin
    imgpkg save -i example.com/v:v1 -f tv-src --to-oci-layout "$1" > /dev/null
    read -r TV_MANIFEST TV_CONFIG TV_LAYER < <(python3 -c '
import json, sys
lay = sys.argv[1]
idx = json.load(open(lay + "/index.json"))
m = idx["manifests"][0]["digest"]
man = json.load(open(lay + "/blobs/sha256/" + m[7:]))
print(m, man["config"]["digest"], man["layers"][0]["digest"])
' "$1")
}

# tv_flip FILE: flips one bit in the middle of FILE.
tv_flip() {
    python3 -c '
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[len(b) // 2] ^= 1
open(p, "wb").write(b)
' "$1"
}

# tv_tar_edit IN OUT MODE DIGEST: copies the tarball keeping member order and
# headers, with the blob DIGEST flipped (MODE=flip) or left out (MODE=drop).
tv_tar_edit() {
    python3 -c '
import io, sys, tarfile
src, dst, mode, digest = sys.argv[1:5]
name = "blobs/sha256/" + digest.split(":", 1)[1]
found = False
with tarfile.open(src) as i, tarfile.open(dst, "w", format=tarfile.PAX_FORMAT) as o:
    for m in i.getmembers():
        if m.name == name:
            found = True
            if mode == "drop":
                continue
            data = bytearray(i.extractfile(m).read())
            data[len(data) // 2] ^= 1
            o.addfile(m, io.BytesIO(bytes(data)))
        elif m.isreg():
            o.addfile(m, i.extractfile(m))
        else:
            o.addfile(m)
assert found, name
' "$@"
}

# tv_rewrite LAYOUT MODE: rewrites the image of the layout so that exactly one
# thing is wrong, re-hashing every document above it so nothing else is:
#   size    - the layer descriptor in the manifest says one byte more
#   diff_id - the config lists another diff_id for the layer
tv_rewrite() {
    python3 -c '
import hashlib, json, os, sys
lay, mode = sys.argv[1:3]
def path(dg): return os.path.join(lay, "blobs", "sha256", dg.split(":", 1)[1])
def put(data):
    dg = "sha256:" + hashlib.sha256(data).hexdigest()
    open(path(dg), "wb").write(data)
    return dg, len(data)
idx = json.load(open(os.path.join(lay, "index.json")))
entry = idx["manifests"][0]
man = json.load(open(path(entry["digest"])))
if mode == "size":
    man["layers"][0]["size"] += 1
elif mode == "diff_id":
    cfg = json.load(open(path(man["config"]["digest"])))
    cfg["rootfs"]["diff_ids"][0] = "sha256:" + hashlib.sha256(b"something else").hexdigest()
    man["config"]["digest"], man["config"]["size"] = put(json.dumps(cfg).encode())
else:
    raise SystemExit("unknown mode " + mode)
entry["digest"], entry["size"] = put(json.dumps(man).encode())
open(os.path.join(lay, "index.json"), "w").write(json.dumps(idx))
print(entry["digest"])
' "$@"
}

# tv_bad KIND PATH DIGEST...: verify --KIND PATH exits 1, prints a problem line
# naming every DIGEST on stdout, and one error line on stderr.
tv_bad() {
    local kind=$1 path=$2 rc=0
    shift 2
    imgpkg verify "--$kind" "$path" > verify.out 2> verify.err || rc=$?
    assert_eq 1 "$rc" "exit status of verify on damaged $path"
    grep -q '^problem: ' verify.out || fail "no problem line: $(cat verify.out)"
    for dg in "$@"; do
        grep '^problem: ' verify.out | grep -qF "$dg" || fail "no problem line names $dg: $(cat verify.out)"
    done
    error_joined "$(cat verify.err)" > verify.msg || fail "stderr: $(cat verify.err)"
    grep -q "^imgpkg: Error: .*problem" verify.msg || fail "stderr: $(cat verify.err)"
}

# ---------- good output ----------

test_verify_good_output() {
    tv_save lay
    make_bundle b
    imgpkg save --oci -b example.com/v/bundle:b1 -f b --to-oci-layout lay > /dev/null
    imgpkg save --oci -b example.com/v/bundle:b1 -f b --to-tar out.tar > /dev/null
    imgpkg verify --oci-layout lay > ok1.out
    assert_contains "$(cat ok1.out)" "Verified lay: 2 manifests, 4 blobs, no problems"
    imgpkg verify --tar out.tar > ok2.out
    assert_contains "$(cat ok2.out)" "Verified out.tar: 1 manifest, 2 blobs, no problems"
    # and what skopeo writes from ours
    skopeo copy -q oci:lay:b1 oci-archive:peer.tar:b1 > /dev/null
    imgpkg verify --tar peer.tar > /dev/null
    # verify opens read-only: it changes nothing
    before=$(tree_listing lay)
    imgpkg verify --oci-layout lay > /dev/null
    assert_eq "$before" "$(tree_listing lay)" "layout after verify"
}

# ---------- damage ----------

test_verify_flipped_byte_in_layout() {
    tv_save lay
    tv_flip "lay/blobs/sha256/${TV_LAYER#sha256:}"
    tv_bad oci-layout lay "$TV_LAYER"
    # a flipped config is caught too
    tv_save lay2
    tv_flip "lay2/blobs/sha256/${TV_CONFIG#sha256:}"
    tv_bad oci-layout lay2 "$TV_CONFIG"
}

test_verify_flipped_byte_in_tarball() {
    tv_save lay
    imgpkg save -i example.com/v:v1 -f tv-src --to-tar good.tar > /dev/null
    imgpkg verify --tar good.tar > /dev/null
    tv_tar_edit good.tar bad.tar flip "$TV_LAYER"
    # the rebuilt tarball has the same members in the same order
    assert_eq "$(tar -tf good.tar)" "$(tar -tf bad.tar)" "members of the rebuilt tarball"
    tv_bad tar bad.tar "$TV_LAYER"
}

test_verify_missing_blob() {
    tv_save lay
    rm "lay/blobs/sha256/${TV_LAYER#sha256:}"
    tv_bad oci-layout lay "$TV_LAYER"
    grep '^problem: ' verify.out | grep -q 'missing' || fail "problem does not say missing: $(cat verify.out)"
    imgpkg save -i example.com/v:v1 -f tv-src --to-tar good.tar > /dev/null
    tv_tar_edit good.tar bad.tar drop "$TV_CONFIG"
    tv_bad tar bad.tar "$TV_CONFIG"
}

test_verify_wrong_size_in_manifest() {
    tv_save lay
    new_manifest=$(tv_rewrite lay size)
    # only the size is wrong: the manifest itself is consistent with index.json
    tv_bad oci-layout lay "$TV_LAYER"
    assert_eq 1 "$(grep -c '^problem: ' verify.out)" "problem lines"
    ! grep -q "blob $new_manifest" verify.out || fail "the manifest itself was blamed: $(cat verify.out)"
    grep '^problem: ' verify.out | grep -qi 'size' || fail "problem does not mention the size: $(cat verify.out)"
    # the same in a tarball
    tar -cf bad.tar -C lay oci-layout index.json blobs
    tv_bad tar bad.tar "$TV_LAYER"
    assert_eq 1 "$(grep -c '^problem: ' verify.out)" "problem lines in the tarball"
}

test_verify_diff_id_mismatch() {
    tv_save lay
    tv_rewrite lay diff_id > /dev/null
    tv_bad oci-layout lay "$TV_LAYER"
    assert_eq 1 "$(grep -c '^problem: ' verify.out)" "problem lines"
    grep '^problem: ' verify.out | grep -q 'diff_id' || fail "problem does not mention the diff_id: $(cat verify.out)"
}
