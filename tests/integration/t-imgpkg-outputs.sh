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
    # in the order of the references they came from (il-one before il-two)
    op_same out2.yml "---
apiVersion: imgpkg.carvel.dev/v1alpha1
images:
- image: $REG_ADDR/op/il-dest2@$d1
- image: $REG_ADDR/op/il-dest2@$d2
kind: ImagesLock
"
    # an image and its signature: both in the lock, by the references they came from
    mkdir -p sig && echo sig > sig/s
    imgpkg push -i "$REG_ADDR/op/il-one:sha256-${d1#sha256:}.sig" -f sig > /dev/null
    local ds
    ds=$(op_digest op/il-one "sha256-${d1#sha256:}.sig")
    imgpkg copy -i "$REG_ADDR/op/il-one:v1" --cosign-signatures --to-repo "$REG_ADDR/op/il-dest3" \
        --lock-output out3.yml > /dev/null
    op_same out3.yml "---
apiVersion: imgpkg.carvel.dev/v1alpha1
images:
$(printf '%s\n' "$ds" "$d1" | LC_ALL=C sort | sed "s|^|- image: $REG_ADDR/op/il-dest3@|")
kind: ImagesLock
"
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

# ---------- describe ----------

# op_describe_setup: $REG_ADDR/op/outer:v1, a bundle of one image (annotated)
# and one nested bundle of one image; sets OP_IMG1 OP_IMG2 OP_NESTED OP_OUTER.
op_describe_setup() {
    OP_IMG1=$(op_push_image op/d-img1:v1)
    OP_IMG2=$(op_push_image op/d-img2:v1)
    mkdir -p nb/.imgpkg ob/.imgpkg
    echo n > nb/n.txt
    echo o > ob/o.txt
    cat > nb/.imgpkg/images.yml <<YAML
apiVersion: imgpkg.carvel.dev/v1alpha1
kind: ImagesLock
images:
- image: $REG_ADDR/op/d-img2@$OP_IMG2
  annotations:
    kbld.carvel.dev/id: inner
YAML
    imgpkg push -b "$REG_ADDR/op/nested:v1" -f nb > /dev/null
    OP_NESTED=$(op_digest op/nested v1)
    cat > ob/.imgpkg/images.yml <<YAML
apiVersion: imgpkg.carvel.dev/v1alpha1
kind: ImagesLock
images:
- image: $REG_ADDR/op/nested@$OP_NESTED
  annotations:
    kbld.carvel.dev/id: nested
- image: $REG_ADDR/op/d-img1@$OP_IMG1
  annotations:
    z: a
    kbld.carvel.dev/id: "1.0"
YAML
    imgpkg push -b "$REG_ADDR/op/outer:v1" -f ob > /dev/null
    OP_OUTER=$(op_digest op/outer v1)
}

test_outputs_describe_text() {
    op_describe_setup
    local r=$REG_ADDR/op
    imgpkg describe -b "$r/outer:v1" --tty > out.txt
    op_same out.txt "Bundle SHA: $OP_OUTER

Images:
  - Image: $r/nested@$OP_NESTED
    Type: Bundle
    Origin: $r/nested@$OP_NESTED
    Annotations:
      kbld.carvel.dev/id: nested
    Images:
    - Image: $r/d-img2@$OP_IMG2
      Type: Image
      Origin: $r/d-img2@$OP_IMG2
      Annotations:
        kbld.carvel.dev/id: inner
  - Image: $r/d-img1@$OP_IMG1
    Type: Image
    Origin: $r/d-img1@$OP_IMG1
    Annotations:
      kbld.carvel.dev/id: 1.0
      z: a

Succeeded
"
    expect_fail '^imgpkg: Error: --output-type can only have the following values \[text, yaml\]$' \
        imgpkg describe -b "$r/outer:v1" -o json
    # status lines: nothing without a TTY
    imgpkg describe -b "$r/outer:v1" > quiet.txt
    op_same quiet.txt ""
    # an empty bundle: the heading alone
    mkdir -p e/.imgpkg && echo e > e/e.txt
    printf -- '---\napiVersion: imgpkg.carvel.dev/v1alpha1\nkind: ImagesLock\n' > e/.imgpkg/images.yml
    imgpkg push -b "$r/d-empty:v1" -f e > /dev/null
    imgpkg describe -b "$r/d-empty:v1" --tty > empty.txt
    op_same empty.txt "Bundle SHA: $(op_digest op/d-empty v1)


Succeeded
"
    # two nested bundles: a blank line between them; copied, the locations
    # records are listed as Internal, without origin
    cat > ob/.imgpkg/images.yml <<YAML
apiVersion: imgpkg.carvel.dev/v1alpha1
kind: ImagesLock
images:
- image: $r/nested@$OP_NESTED
- image: $r/d-empty@$(op_digest op/d-empty v1)
YAML
    imgpkg push -b "$r/two:v1" -f ob > /dev/null
    imgpkg copy -b "$r/two:v1" --to-repo "$r/two-copy" > /dev/null
    local two loc_two loc_nested loc_empty e
    two=$(op_digest op/two v1)
    e=$(op_digest op/d-empty v1)
    loc_two=$(op_digest op/two-copy "sha256-${two#sha256:}.image-locations.imgpkg")
    loc_nested=$(op_digest op/two-copy "sha256-${OP_NESTED#sha256:}.image-locations.imgpkg")
    loc_empty=$(op_digest op/two-copy "sha256-${e#sha256:}.image-locations.imgpkg")
    imgpkg describe -b "$r/two-copy:v1" --tty > two.txt
    op_same two.txt "Bundle SHA: $two

Images:
  - Image: $r/two-copy@$e
    Type: Bundle
    Origin: $r/d-empty@$e
    Images:
    - Image: $r/two-copy@$loc_empty
      Type: Internal

  - Image: $r/two-copy@$OP_NESTED
    Type: Bundle
    Origin: $r/nested@$OP_NESTED
    Images:
    - Image: $r/two-copy@$OP_IMG2
      Type: Image
      Origin: $r/d-img2@$OP_IMG2
      Annotations:
        kbld.carvel.dev/id: inner
    - Image: $r/two-copy@$loc_nested
      Type: Internal
  - Image: $r/two-copy@$loc_two
    Type: Internal

Succeeded
"
}

test_outputs_describe_yaml_and_json() {
    op_describe_setup
    local r=$REG_ADDR/op
    # YAML: a block, printed with or without a TTY; nested bundles keep their annotations
    imgpkg describe -b "$r/outer:v1" -o yaml > out.yml
    local yaml="content:
  bundles:
    $OP_NESTED:
      annotations:
        kbld.carvel.dev/id: nested
      content:
        images:
          $OP_IMG2:
            annotations:
              kbld.carvel.dev/id: inner
            image: $r/d-img2@$OP_IMG2
            imageType: Image
            origin: $r/d-img2@$OP_IMG2
      image: $r/nested@$OP_NESTED
      metadata: {}
      origin: $r/nested@$OP_NESTED
  images:
    $OP_IMG1:
      annotations:
        kbld.carvel.dev/id: \"1.0\"
        z: a
      image: $r/d-img1@$OP_IMG1
      imageType: Image
      origin: $r/d-img1@$OP_IMG1
image: $r/outer@$OP_OUTER
metadata: {}
origin: $r/outer@$OP_OUTER
"
    op_same out.yml "sha: $OP_OUTER
$yaml"
    # --json: one document, every call of the text printer a line
    imgpkg describe -b "$r/outer:v1" --json > out.json
    op_same out.json "{
    \"Tables\": null,
    \"Blocks\": null,
    \"Lines\": [
        \"Bundle SHA: $OP_OUTER\\n\",
        \"\\n\",
        \"Images:\\n\",
        \"  - Image: $r/nested@$OP_NESTED\\n\",
        \"    Type: Bundle\\n\",
        \"    Origin: $r/nested@$OP_NESTED\\n\",
        \"    Annotations:\\n\",
        \"      kbld.carvel.dev/id: nested\\n\",
        \"    Images:\\n\",
        \"    - Image: $r/d-img2@$OP_IMG2\\n\",
        \"      Type: Image\\n\",
        \"      Origin: $r/d-img2@$OP_IMG2\\n\",
        \"      Annotations:\\n\",
        \"        kbld.carvel.dev/id: inner\\n\",
        \"\",
        \"  - Image: $r/d-img1@$OP_IMG1\\n\",
        \"    Type: Image\\n\",
        \"    Origin: $r/d-img1@$OP_IMG1\\n\",
        \"    Annotations:\\n\",
        \"      kbld.carvel.dev/id: 1.0\\n\",
        \"      z: a\\n\",
        \"Succeeded\"
    ]
}"
    # YAML with --json: two blocks
    imgpkg describe -b "$r/outer:v1" -o yaml --json > yaml.json
    python3 - yaml.json "sha: $OP_OUTER
" "$yaml" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d == {"Tables": None, "Blocks": [sys.argv[2], sys.argv[3]], "Lines": ["Succeeded"]}, d
PY
    # a failed command prints no document (as imgpkg); the error is on stderr
    expect_fail 'not a bundle|Expected bundle' imgpkg describe -b "$r/d-img1:v1" --json
    imgpkg describe -b "$r/d-img1:v1" --json > failed.json 2> /dev/null || true
    op_same failed.json ""
}

# ---------- tag list and tag resolve ----------

test_outputs_tag_list_and_resolve() {
    local d r=$REG_ADDR/op
    d=$(op_push_image op/tags:1.0)
    imgpkg copy -i "$r/tags@$d" --to-repo "$r/tags" > /dev/null # adds sha256-HEX.imgpkg
    local t="sha256-${d#sha256:}.imgpkg"
    # without a TTY: rows only, each value followed by a tab
    imgpkg tag list -i "$r/tags" > plain.txt
    op_same plain.txt $'1.0\t\n'
    imgpkg tag list -i "$r/tags" --digests > plain-d.txt
    op_same plain-d.txt "1.0	$d	
"
    # on a TTY: imgpkg's table, columns padded but the last, two spaces after each
    imgpkg tag list -i "$r/tags" --tty > tty.txt
    op_same tty.txt "Tags

Name  
1.0  

1 tags

Succeeded
"
    imgpkg tag list -i "$r/tags" --digests --imgpkg-internal-tags --tty > tty-d.txt
    local pad
    pad=$(printf '%*s' $((${#t} - 3)) '')
    op_same tty-d.txt "Tags

Name$(printf '%*s' $((${#t} - 4)) '')  Digest  
1.0$pad  $d  
$t  $d  

2 tags

Succeeded
"
    # --column picks columns by name (key or title), in the table's order
    imgpkg tag list -i "$r/tags" --digests --column digest,Name --tty > col.txt
    op_same col.txt "Tags

Name  Digest  
1.0   $d  

1 tags

Succeeded
"
    imgpkg tag list -i "$r/tags" --digests --column digest > col-plain.txt
    op_same col-plain.txt "$d	
"
    expect_fail 'Failed to find header: nope' imgpkg tag list -i "$r/tags" --column nope
    # --json: the table, its header and rows as maps (keys sorted)
    imgpkg tag list -i "$r/tags" --digests --json > tags.json
    op_same tags.json "{
    \"Tables\": [
        {
            \"Content\": \"tags\",
            \"Header\": {
                \"digest\": \"Digest\",
                \"name\": \"Name\"
            },
            \"Rows\": [
                {
                    \"digest\": \"$d\",
                    \"name\": \"1.0\"
                }
            ],
            \"Notes\": null
        }
    ],
    \"Blocks\": null,
    \"Lines\": [
        \"Succeeded\"
    ]
}"
    # no row left: an empty list
    imgpkg copy -i "$r/tags@$d" --to-repo "$r/tags-internal" > /dev/null
    imgpkg tag list -i "$r/tags-internal" --json > none.json
    op_same none.json '{
    "Tables": [
        {
            "Content": "tags",
            "Header": {
                "name": "Name"
            },
            "Rows": [],
            "Notes": null
        }
    ],
    "Blocks": null,
    "Lines": [
        "Succeeded"
    ]
}'
    imgpkg tag list -i "$r/tags-internal" > none.txt
    op_same none.txt ""

    # tag resolve: a block, without a newline of its own
    imgpkg tag resolve -i "$r/tags:1.0" > resolve.txt
    op_same resolve.txt "$r/tags@$d"
    imgpkg tag resolve -i "$r/tags:1.0" --tty > resolve-tty.txt
    op_same resolve-tty.txt "$r/tags@$d
Succeeded
"
    # the registry's error as it is (not worded as an image fetch)
    if imgpkg tag resolve -i "$r/tags:nope" > /dev/null 2> nope.err; then fail "resolved a missing tag"; fi
    op_same nope.err "imgpkg: Error: GET http://$REG_ADDR/v2/op/tags/manifests/nope:
  MANIFEST_UNKNOWN: manifest unknown; map[Tag:nope]
"
    imgpkg tag resolve -i "$r/tags:1.0" --json > resolve.json
    op_same resolve.json "{
    \"Tables\": null,
    \"Blocks\": [
        \"$r/tags@$d\"
    ],
    \"Lines\": [
        \"Succeeded\"
    ]
}"
}

# ---------- modes of pulled files ----------

test_outputs_pull_modes_follow_umask() {
    mkdir -p b/.imgpkg b/sub/deep
    printf -- '---\napiVersion: imgpkg.carvel.dev/v1alpha1\nkind: ImagesLock\n' > b/.imgpkg/images.yml
    echo a > b/a.txt && chmod 600 b/a.txt
    echo x > b/sub/run.sh && chmod 755 b/sub/run.sh
    echo d > b/sub/deep/f && chmod 700 b/sub/deep
    imgpkg push -b "$REG_ADDR/op/modes:v1" -f b > /dev/null
    # what imgpkg gives: directories 0777, executables 0777, other files 0666,
    # less the umask; the rewritten images.yml 0666 less the umask
    local um want
    for um in 022 002 077 027 000; do
        rm -rf out
        (umask $um && imgpkg pull -b "$REG_ADDR/op/modes:v1" -o out > /dev/null)
        local d f
        d=$(printf '%o' $((0777 & ~0$um)))
        f=$(printf '%o' $((0666 & ~0$um)))
        want="$d .
$d ./.imgpkg
$f ./.imgpkg/images.yml
$f ./a.txt
$d ./sub
$d ./sub/deep
$f ./sub/deep/f
$d ./sub/run.sh"
        assert_eq "$want" "$(cd out && find . | LC_ALL=C sort | while read -r p; do echo "$(stat -c %a "$p") $p"; done)" "modes with umask $um"
    done
    # an existing output directory is replaced: its mode too
    rm -rf out && mkdir out && chmod 700 out
    (umask 002 && imgpkg pull -b "$REG_ADDR/op/modes:v1" -o out > /dev/null)
    assert_eq 775 "$(stat -c %a out)" "mode of a replaced output directory"
    # lock files written by --lock-output: 0600 less the umask
    rm -f lock.yml
    (umask 000 && imgpkg copy -b "$REG_ADDR/op/modes:v1" --to-repo "$REG_ADDR/op/modes-copy" --lock-output lock.yml > /dev/null)
    assert_eq 600 "$(stat -c %a lock.yml)" "mode of --lock-output"
}

# ---------- pull's lines ----------

# op_layer REPO REF: the digest of the first layer of REPO:REF.
op_layer() {
    curl -s -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
        -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
        "http://$REG_ADDR/v2/$1/manifests/$2" | python3 -c 'import json,sys; print(json.load(sys.stdin)["layers"][0]["digest"])'
}

test_outputs_pull_lines() {
    local r=$REG_ADDR/op img l3 l2 l1
    img=$(op_push_image op/pl-img:v1)
    mkdir -p b3/.imgpkg b2/.imgpkg b1/.imgpkg
    echo 3 > b3/x && echo 2 > b2/x && echo 1 > b1/x
    printf 'apiVersion: imgpkg.carvel.dev/v1alpha1\nkind: ImagesLock\nimages:\n- image: %s\n' "$r/pl-img@$img" > b3/.imgpkg/images.yml
    imgpkg push -b "$r/pl3:v1" -f b3 > /dev/null
    l3=$(op_digest op/pl3 v1)
    printf 'apiVersion: imgpkg.carvel.dev/v1alpha1\nkind: ImagesLock\nimages:\n- image: %s\n- image: %s\n' "$r/pl-img@$img" "$r/pl3@$l3" > b2/.imgpkg/images.yml
    imgpkg push -b "$r/pl2:v1" -f b2 > /dev/null
    l2=$(op_digest op/pl2 v1)
    printf 'apiVersion: imgpkg.carvel.dev/v1alpha1\nkind: ImagesLock\nimages:\n- image: %s\n- image: %s\n' "$r/pl2@$l2" "$r/pl3@$l3" > b1/.imgpkg/images.yml
    imgpkg push -b "$r/pl1:v1" -f b1 > /dev/null
    l1=$(op_digest op/pl1 v1)
    # depth first in the lock's order, one more indent per level, a bundle
    # named again skipped; the root's lock last
    imgpkg pull -b "$r/pl1:v1" -r -o out --tty > pull.txt
    op_same pull.txt "Pulling bundle '$r/pl1@$l1'
  Extracting layer '$(op_layer op/pl1 v1)' (1/1)

Nested bundles
  Pulling nested bundle '$r/pl2@$l2'
    Extracting layer '$(op_layer op/pl2 v1)' (1/1)
    Pulling nested bundle '$r/pl3@$l3'
      Extracting layer '$(op_layer op/pl3 v1)' (1/1)
  Pulling nested bundle '$r/pl3@$l3'
  Skipped, already downloaded

Locating image lock file images...
One or more images not found in bundle repo; skipping lock file update

Succeeded
"
    [ -f "out/.imgpkg/bundles/sha256-${l2#sha256:}/x" ] || fail "nested bundle not pulled"
    [ -f "out/.imgpkg/bundles/sha256-${l3#sha256:}/x" ] || fail "second-level bundle not pulled"
    # an image: its layers unindented
    imgpkg pull -i "$r/pl-img:v1" -o img --tty > img.txt
    op_same img.txt "Pulling image '$r/pl-img@$img'
Extracting layer '$(op_layer op/pl-img v1)' (1/1)

Succeeded
"
    # --json: each of those lines
    imgpkg pull -i "$r/pl-img:v1" -o img2 --json > img.json
    op_same img.json "{
    \"Tables\": null,
    \"Blocks\": null,
    \"Lines\": [
        \"Pulling image '$r/pl-img@$img'\\n\",
        \"Extracting layer '$(op_layer op/pl-img v1)' (1/1)\\n\",
        \"Succeeded\"
    ]
}"
}

# ---------- copy's lines ----------

test_outputs_copy_lines() {
    op_describe_setup
    local r=$REG_ADDR/op
    imgpkg copy -b "$r/outer:v1" --to-repo "$r/c-dest" --tty > copy.txt
    # every image where it was found, sorted; no per-blob lines
    op_same copy.txt "copy | exporting 4 images...
copy | will export $(printf '%s\n' "$r/d-img1@$OP_IMG1" "$r/d-img2@$OP_IMG2" "$r/nested@$OP_NESTED" "$r/outer@$OP_OUTER" | LC_ALL=C sort | sed 's/^/copy | will export /; 1s/^copy | will export //')
copy | exported 4 images
copy | importing 4 images...
copy | done uploading images
copy | Tagging images

Succeeded
"
    # the image-locations record: its images sorted, as imgpkg writes it
    imgpkg pull -i "$r/c-dest:sha256-${OP_OUTER#sha256:}.image-locations.imgpkg" -o loc > /dev/null
    op_same loc/image-locations.yml "---
apiVersion: imgpkg.carvel.dev/v1alpha1
images:
$(printf '%s\n' "$r/d-img1@$OP_IMG1 false" "$r/nested@$OP_NESTED true" | LC_ALL=C sort | sed 's/^\(.*\) \(.*\)$/- image: \1\n  isBundle: \2/')
kind: ImageLocations
"
    # from the relocated copy: where the images are now
    imgpkg copy -b "$r/c-dest:v1" --to-repo "$r/c-dest2" --json > copy.json
    python3 - copy.json "$r" "$OP_IMG1" "$OP_IMG2" "$OP_NESTED" "$OP_OUTER" <<'PY'
import json, sys
path, r = sys.argv[1:3]
d = json.load(open(path))
refs = sorted(f"{r}/c-dest@{x}" for x in sys.argv[3:])
want = ["copy | exporting 4 images...\n"] + [f"copy | will export {x}\n" for x in refs] + [
    "copy | exported 4 images\n", "copy | importing 4 images...\n",
    "copy | done uploading images\n", "copy | Tagging images\n", "Succeeded"]
assert d == {"Tables": None, "Blocks": None, "Lines": want}, d
PY
}

# ---------- --json of the other commands ----------

test_outputs_json_of_every_command() {
    # version: one block (ours names the deflate engine too)
    imgpkg version --json > v.json
    python3 - v.json <<'PY'
import json, sys
raw = open(sys.argv[1]).read()
assert not raw.endswith("\n"), "a trailing newline"
d = json.loads(raw)
assert list(d) == ["Tables", "Blocks", "Lines"], list(d)
assert d["Tables"] is None and d["Lines"] == ["Succeeded"], d
assert len(d["Blocks"]) == 1 and d["Blocks"][0].startswith("imgpkg version "), d
PY
    # push: its lines, the Pushed line without a newline of its own
    mkdir -p f && echo x > f/x
    imgpkg push -i "$REG_ADDR/op/j-push:v1" -f f --json > push.json
    python3 - push.json "$REG_ADDR/op/j-push@$(op_digest op/j-push v1)" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d == {"Tables": None, "Blocks": None,
             "Lines": ["dir: .\n", "file: x\n", f"Pushed '{sys.argv[2]}'", "Succeeded"]}, d
PY
    # save and verify (ours): their results as blocks, nothing outside the document
    imgpkg save -i app:v1 -f f --to-tar app.tar --json > save.json
    imgpkg verify --tar app.tar --json > verify.json
    for j in save.json verify.json; do
        python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["Blocks"]) == 1 and d["Lines"][-1] == "Succeeded", d' "$j" ||
            fail "$j: $(cat "$j")"
    done
}

test_outputs_missing_image_of_a_bundle() {
    local missing="$REG_ADDR/op/nothere@sha256:1111111111111111111111111111111111111111111111111111111111111111"
    mkdir -p b/.imgpkg && echo m > b/m
    printf 'apiVersion: imgpkg.carvel.dev/v1alpha1\nkind: ImagesLock\nimages:\n- image: %s\n' "$missing" > b/.imgpkg/images.yml
    imgpkg push -b "$REG_ADDR/op/miss:v1" -f b > /dev/null
    local cause="    GET http://$REG_ADDR/v2/op/nothere/manifests/${missing#*@}:
      MANIFEST_UNKNOWN: manifest unknown; map[Name:op/nothere Revision:${missing#*@}]
"
    if imgpkg describe -b "$REG_ADDR/op/miss:v1" > /dev/null 2> d.err; then fail "described"; fi
    op_same d.err "imgpkg: Error: Retrieving Images from bundle:
  Checking image existence:
$cause"
    if imgpkg copy -b "$REG_ADDR/op/miss:v1" --to-repo "$REG_ADDR/op/miss-copy" > /dev/null 2> c.err; then fail "copied"; fi
    op_same c.err "imgpkg: Error: Reading Images from Bundle:
  Checking image existence:
$cause"
}

test_outputs_lock_unknown_fields() {
    local dg
    dg=$(op_push_image op/uk-img:v1)
    mkdir -p b/.imgpkg && echo u > b/u
    printf 'apiVersion: imgpkg.carvel.dev/v1alpha1\nkind: ImagesLock\nimages:\n- image: %s\n  extra: 1\n' \
        "$REG_ADDR/op/uk-img@$dg" > b/.imgpkg/images.yml
    # push takes the folder as it is (as imgpkg); reading the bundle is strict
    imgpkg push -b "$REG_ADDR/op/uk:v1" -f b > /dev/null
    if imgpkg pull -b "$REG_ADDR/op/uk:v1" -o out > /dev/null 2> pull.err; then fail "pulled"; fi
    assert_contains "$(cat pull.err)" 'Unmarshaling images lock: error unmarshaling JSON: while decoding JSON: json: unknown field "extra"'
    assert_file_absent out
    # keys in another case are the same keys (Go's JSON decoding)
    printf 'apiVersion: imgpkg.carvel.dev/v1alpha1\nKind: ImagesLock\nImages:\n- Image: %s\n' \
        "$REG_ADDR/op/uk-img@$dg" > b/.imgpkg/images.yml
    imgpkg push -b "$REG_ADDR/op/uk:v2" -f b > /dev/null
    imgpkg pull -b "$REG_ADDR/op/uk:v2" -o out2 > /dev/null
    cmp b/.imgpkg/images.yml out2/.imgpkg/images.yml
}
