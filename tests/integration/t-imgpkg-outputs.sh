# t-imgpkg-outputs.sh - what users and tools read, byte for byte as the real
# imgpkg v0.36.0 writes it: lock files (YAML quoting, empty locks, ImagesLock
# sources of copy), bundle detection, describe and tag output, modes of pulled
# files, --json.  The expected texts were captured once from the real imgpkg on
# the same inputs; registry addresses and digests are put back in by the test.

# ---------- helpers (names start with op_) ----------

# op_digest REPO TAG: the manifest digest of REPO:TAG in $REG_ADDR.
op_digest() {
    curl -s -I -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
        -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
        "http://$REG_ADDR/v2/$1/manifests/$2" | tr -d '\r' |
        sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p'
}

# op_push_image REPO:TAG: pushes a one-file image, prints its digest.
op_push_image() {
    mkdir -p "img-$$-$RANDOM" && local d
    d=$(ls -d img-$$-* | tail -1)
    echo "content of $1" > "$d/file.txt"
    imgpkg push -i "$REG_ADDR/$1" -f "$d" > /dev/null
    op_digest "${1%%:*}" "${1##*:}"
}

# op_blob REPO FILE: uploads FILE as a blob of REPO, prints its digest.
op_blob() {
    local dg loc
    dg="sha256:$(sha256sum < "$2" | cut -c1-64)"
    loc=$(curl -s -o /dev/null -D - -X POST "http://$REG_ADDR/v2/$1/blobs/uploads/" |
        tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
    case $loc in http*) ;; *) loc="http://$REG_ADDR$loc" ;; esac
    case $loc in *\?*) loc="$loc&digest=$dg" ;; *) loc="$loc?digest=$dg" ;; esac
    curl -sf -X PUT -H 'Content-Type: application/octet-stream' --data-binary "@$2" "$loc" > /dev/null ||
        fail "uploading $2 to $1"
    echo "$dg"
}

# op_push_labelled REPO:TAG LABELS_JSON: an OCI image of one layer (a.txt)
# whose config has the given labels (e.g. {"dev.carvel.imgpkg.bundle":""}).
op_push_labelled() {
    local repo=${1%%:*} tag=${1##*:} cfg layer
    mkdir -p lay && echo "labelled" > lay/a.txt
    tar -C lay -cf - a.txt | gzip -n > layer.tgz
    layer=$(op_blob "$repo" layer.tgz)
    local diff_id
    diff_id="sha256:$(gzip -dc layer.tgz | sha256sum | cut -c1-64)"
    printf '{"architecture":"amd64","config":{"Labels":%s},"os":"linux","rootfs":{"type":"layers","diff_ids":["%s"]}}' \
        "$2" "$diff_id" > config.json
    cfg=$(op_blob "$repo" config.json)
    printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"%s","size":%s}]}' \
        "$cfg" "$(stat -c %s config.json)" "$layer" "$(stat -c %s layer.tgz)" > manifest.json
    curl -sf -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
        --data-binary @manifest.json "http://$REG_ADDR/v2/$repo/manifests/$tag" > /dev/null ||
        fail "pushing the manifest of $1"
}

# op_same FILE EXPECTED_TEXT: the file holds exactly the text.
op_same() {
    printf '%s' "$2" > expected.out
    cmp -s "$1" expected.out || fail "$1 differs from imgpkg's: $(diff expected.out "$1")"
}

# ---------- lock files ----------

test_outputs_empty_images_lock_round_trips() {
    mkdir -p b/.imgpkg && echo hi > b/a.txt
    # what imgpkg writes for a lock without images: no "images: []"
    printf -- '---\napiVersion: imgpkg.carvel.dev/v1alpha1\nkind: ImagesLock\n' > b/.imgpkg/images.yml
    imgpkg push -b "$REG_ADDR/op/empty:v1" -f b > /dev/null
    imgpkg pull -b "$REG_ADDR/op/empty:v1" -o out > /dev/null
    cmp b/.imgpkg/images.yml out/.imgpkg/images.yml ||
        fail "images.yml changed: $(cat out/.imgpkg/images.yml)"
    # a lock written without the marker is rewritten as imgpkg writes it
    printf 'apiVersion: imgpkg.carvel.dev/v1alpha1\nkind: ImagesLock\nimages: []\n' > b/.imgpkg/images.yml
    imgpkg push -b "$REG_ADDR/op/empty:v2" -f b > /dev/null
    imgpkg pull -b "$REG_ADDR/op/empty:v2" -o out2 > /dev/null
    op_same out2/.imgpkg/images.yml $'---\napiVersion: imgpkg.carvel.dev/v1alpha1\nkind: ImagesLock\n'
}

test_outputs_lock_strings_quoted_as_imgpkg() {
    local dg
    dg=$(op_push_image op/q-img:v1)
    mkdir -p b/.imgpkg && echo x > b/f
    cat > b/.imgpkg/images.yml <<YAML
apiVersion: imgpkg.carvel.dev/v1alpha1
kind: ImagesLock
images:
- image: $REG_ADDR/op/q-img@$dg
  annotations:
    z-version: "1.0"
    bool: "true"
    none: "null"
    hex: "0x1f"
    exp: "1e3"
    tilde: "~"
    "yes": "yes"
    sexagesimal: "12:30"
    date: "2001-12-14"
    empty: ""
    colon: "a: b"
    word: tRue
    lines: "a\nb"
    "1": one
YAML
    imgpkg push -b "$REG_ADDR/op/q-bundle:1.0" -f b --lock-output bundle.lock.yml > /dev/null
    op_same bundle.lock.yml "---
apiVersion: imgpkg.carvel.dev/v1alpha1
bundle:
  image: $REG_ADDR/op/q-bundle@$(op_digest op/q-bundle 1.0)
  tag: \"1.0\"
kind: BundleLock
"
    # relocated, the lock is rewritten by pull
    imgpkg copy -b "$REG_ADDR/op/q-bundle:1.0" --to-repo "$REG_ADDR/op/q-moved" \
        --lock-output moved.lock.yml > /dev/null
    op_same moved.lock.yml "---
apiVersion: imgpkg.carvel.dev/v1alpha1
bundle:
  image: $REG_ADDR/op/q-moved@$(op_digest op/q-bundle 1.0)
  tag: \"1.0\"
kind: BundleLock
"
    imgpkg pull -b "$REG_ADDR/op/q-moved:1.0" -o out > /dev/null
    op_same out/.imgpkg/images.yml "---
apiVersion: imgpkg.carvel.dev/v1alpha1
images:
- annotations:
    \"1\": one
    bool: \"true\"
    colon: 'a: b'
    date: \"2001-12-14\"
    empty: \"\"
    exp: \"1e3\"
    hex: \"0x1f\"
    lines: |-
      a
      b
    none: \"null\"
    sexagesimal: \"12:30\"
    tilde: \"~\"
    word: tRue
    \"yes\": \"yes\"
    z-version: \"1.0\"
  image: $REG_ADDR/op/q-moved@$dg
kind: ImagesLock
"
    # and read back by the YAML parser: pulling by that BundleLock works
    imgpkg pull --lock moved.lock.yml -o out-lock > /dev/null
    cmp out/.imgpkg/images.yml out-lock/.imgpkg/images.yml
}

test_outputs_bundle_lock_read_as_yaml() {
    mkdir -p b/.imgpkg && echo hi > b/a.txt
    printf -- '---\napiVersion: imgpkg.carvel.dev/v1alpha1\nkind: ImagesLock\n' > b/.imgpkg/images.yml
    imgpkg push -b "$REG_ADDR/op/yl:v1" -f b > /dev/null
    local dg
    dg=$(op_digest op/yl v1)
    # flow style, keys in another order, quoted values, a comment: still YAML
    cat > flow.lock.yml <<YAML
# kind: ImagesLock would not fool a parser
{kind: "BundleLock", bundle: {tag: 'v1', image: "$REG_ADDR/op/yl@$dg"},
 apiVersion: imgpkg.carvel.dev/v1alpha1}
YAML
    imgpkg pull --lock flow.lock.yml -o out > /dev/null
    [ -f out/a.txt ] || fail "nothing pulled"
    imgpkg copy --lock flow.lock.yml --to-repo "$REG_ADDR/op/yl-copy" --lock-output copied.yml > /dev/null
    op_same copied.yml "---
apiVersion: imgpkg.carvel.dev/v1alpha1
bundle:
  image: $REG_ADDR/op/yl-copy@$dg
  tag: v1
kind: BundleLock
"
    assert_eq "$dg" "$(op_digest op/yl-copy v1)" "the lock's tag goes with the copy"
    # a lock whose text merely mentions BundleLock is not one
    printf 'apiVersion: imgpkg.carvel.dev/v1alpha1\nkind: ImagesLock # not a BundleLock\n' > il.yml
    expect_fail 'Validating bundle lock: Validating kind: Unknown kind \(known: BundleLock\)$' \
        imgpkg pull --lock il.yml -o out2
    printf 'apiVersion: imgpkg.carvel.dev/v1alpha1\nkind: BundleLock\nbundle:\n  image: %s\n' \
        "$REG_ADDR/op/yl:v1" > tagged.yml
    expect_fail "Expected ref to be in digest form, got '$REG_ADDR/op/yl:v1'\$" \
        imgpkg copy --lock tagged.yml --to-repo "$REG_ADDR/op/yl-x"
    printf 'apiVersion: imgpkg.carvel.dev/v1alpha1\nkind: Other\n' > other.yml
    expect_fail '^imgpkg: Error: Trying to read bundle or images lock file: .*Validating images lock: Validating kind: Unknown kind \(known: ImagesLock\)$' \
        imgpkg copy --lock other.yml --to-repo "$REG_ADDR/op/yl-x"
    assert_file_absent out2
}

test_outputs_copy_images_lock() {
    local d1 d2
    d1=$(op_push_image op/il-one:v1)
    d2=$(op_push_image op/il-two:v1)
    cat > images.yml <<YAML
apiVersion: imgpkg.carvel.dev/v1alpha1
kind: ImagesLock
images:
- image: $REG_ADDR/op/il-one@$d1
  annotations:
    z: a
    kbld.carvel.dev/id: "1.0"
- image: $REG_ADDR/op/il-two@$d2
YAML
    # to a repository: the new lock keeps each image's annotations (sorted)
    imgpkg copy --lock images.yml --to-repo "$REG_ADDR/op/il-dest" --lock-output out.yml > /dev/null
    op_same out.yml "---
apiVersion: imgpkg.carvel.dev/v1alpha1
images:
- annotations:
    kbld.carvel.dev/id: \"1.0\"
    z: a
  image: $REG_ADDR/op/il-dest@$d1
- image: $REG_ADDR/op/il-dest@$d2
kind: ImagesLock
"
    for dg in "$d1" "$d2"; do
        curl -sf -o /dev/null -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
            -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
            "http://$REG_ADDR/v2/op/il-dest/manifests/$dg" || fail "$dg not in op/il-dest"
    done
    # to a tarball, and from it to another repository
    imgpkg copy --lock images.yml --to-tar il.tar > /dev/null
    imgpkg copy --tar il.tar --to-repo "$REG_ADDR/op/il-dest2" --lock-output out2.yml > /dev/null
    grep -q "^- image: $REG_ADDR/op/il-dest2@$d1\$" out2.yml || fail "$(cat out2.yml)"
    grep -q "^- image: $REG_ADDR/op/il-dest2@$d2\$" out2.yml || fail "$(cat out2.yml)"
    assert_eq 2 "$(grep -c 'image:' out2.yml)" "images in the lock"
}

# ---------- bundle detection ----------

test_outputs_bundle_label_any_value() {
    # the key makes a bundle whatever its value; this one has no images.yml
    op_push_labelled op/labelled:v1 '{"dev.carvel.imgpkg.bundle":""}'
    expect_fail '^imgpkg: Error: Expected bundle flag when pulling a bundle \(hint: Use -b instead of -i for bundles\)$' \
        imgpkg pull -i "$REG_ADDR/op/labelled:v1" -o out
    assert_file_absent out
    imgpkg pull -i "$REG_ADDR/op/labelled:v1" --image-is-bundle-check=false -o out > /dev/null
    assert_eq labelled "$(cat out/a.txt)" "pulled as an image"
    op_push_labelled op/labelled:v2 '{"dev.carvel.imgpkg.bundle":"false"}'
    expect_fail 'Expected bundle flag when pulling a bundle' \
        imgpkg pull -i "$REG_ADDR/op/labelled:v2" -o out2
    # another label does not
    op_push_labelled op/labelled:v3 '{"dev.carvel.imgpkg.bundlex":"true"}'
    imgpkg pull -i "$REG_ADDR/op/labelled:v3" -o out3 > /dev/null
    expect_fail 'Expected bundle image but found plain image' \
        imgpkg pull -b "$REG_ADDR/op/labelled:v3" -o out4
}
