# t-engines.sh - the container engines read what `save` writes.
# Tarballs of `save -i` and `save -b`, default media types (Docker schema 2
# inside an OCI image layout, with a manifest.json) and --oci (OCI types):
# - podman load, containerd `ctr images import` and `docker load` read all
#   four (files checked through podman's image mount, the content store and
#   docker create + cp);
# - skopeo (oci-archive:, oci:), umoci and oci-image-tool read the --oci
#   ones, buildah `from oci-archive:` too, and skopeo's docker-archive: the
#   default ones.
# containerd and dockerd are started once for the whole file, as root, on
# private sockets under $SUITE_TMP/engines with vfs/native storage, and
# stopped after the file's last test (on_file_done); podman and buildah get a
# private store there too.  Docker is Debian's /usr/bin/docker (docker.io).

# ---------- helpers (names start with en_; every t-*.sh shares one shell) ----------

en_dir() {
    mkdir -p "$SUITE_TMP/engines"
    echo "$SUITE_TMP/engines"
}

en_need_root() {
    [ "$(id -u)" = 0 ] || fail "the engine tests run the daemons as root (uid $(id -u))"
}

# en_stop PID: SIGTERM, then up to 15 s for it to go, then SIGKILL.
en_stop() {
    kill "$1" 2> /dev/null || return 0
    for _ in $(seq 1 150); do
        kill -0 "$1" 2> /dev/null || return 0
        sleep 0.1
    done
    kill -9 "$1" 2> /dev/null
}

# en_alive NAME: the daemon NAME started earlier in this suite still runs
en_alive() {
    local f
    f=$(en_dir)/$1/pid.started
    [ -f "$f" ] && kill -0 "$(cat "$f")" 2> /dev/null
}

# en_containerd: starts containerd once (grpc socket $(en_dir)/containerd/sock).
en_containerd() {
    local D
    D=$(en_dir)/containerd
    en_alive containerd && return 0
    en_need_root
    rm -rf "$D"
    mkdir -p "$D"
    cat > "$D/config.toml" <<EOF
version = 2
root = "$D/root"
state = "$D/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$D/sock"
[ttrpc]
  address = "$D/sock.ttrpc"
[debug]
  address = ""
EOF
    setsid containerd --config "$D/config.toml" > "$D/log" 2>&1 < /dev/null &
    local pid=$!
    echo "$pid" > "$D/pid.started"
    on_file_done "en_stop $pid"
    for _ in $(seq 1 100); do
        ctr -a "$D/sock" version > /dev/null 2>&1 && return 0
        kill -0 "$pid" 2> /dev/null || break
        sleep 0.1
    done
    fail "containerd did not start: $(tail -20 "$D/log")"
}

# en_dockerd: starts dockerd once, on the suite's containerd.
en_dockerd() {
    local D
    D=$(en_dir)/docker
    en_alive docker && return 0
    en_containerd
    rm -rf "$D"
    mkdir -p "$D"
    echo '{}' > "$D/daemon.json" # not the machine's /etc/docker/daemon.json
    setsid dockerd --config-file "$D/daemon.json" --data-root "$D/root" --exec-root "$D/exec" -H "unix://$D/sock" --pidfile "$D/pid" \
        --storage-driver vfs --iptables=false --ip6tables=false --bridge=none \
        --containerd "$(en_dir)/containerd/sock" > "$D/log" 2>&1 < /dev/null &
    local pid=$!
    echo "$pid" > "$D/pid.started"
    on_file_done "en_stop $pid"
    for _ in $(seq 1 150); do
        /usr/bin/docker -H "unix://$D/sock" version > /dev/null 2>&1 && return 0
        kill -0 "$pid" 2> /dev/null || break
        sleep 0.1
    done
    fail "dockerd did not start: $(tail -20 "$D/log")"
}

en_ctr() { ctr -a "$(en_dir)/containerd/sock" "$@"; }
en_docker() { /usr/bin/docker -H "unix://$(en_dir)/docker/sock" "$@"; }
en_podman() {
    local D
    D=$(en_dir)/podman
    podman --root "$D/root" --runroot "$D/run" --storage-driver vfs --cgroup-manager cgroupfs \
        --events-backend file "$@"
}
en_buildah() {
    local D
    D=$(en_dir)/podman
    buildah --root "$D/root" --runroot "$D/run" --storage-driver vfs "$@"
}

# en_tarballs: makes (once per suite) in $(en_dir)/tars: the sources img/
# and bundle/ (with .imgpkg/images.yml), and the tarballs img.tar,
# img-oci.tar, bundle.tar and bundle-oci.tar of `save -i/-b ... --to-tar`
# ([--oci]), named example.com/judge/KIND:v1 (KIND img, img-oci, bundle,
# bundle-oci).  Prints the directory.
en_tarballs() {
    local D
    D=$(en_dir)/tars
    if [ -f "$D/done" ]; then
        echo "$D"
        return 0
    fi
    rm -rf "$D"
    mkdir -p "$D/img/etc/app" "$D/img/empty" "$D/bundle/config/sub"
    echo "hello from the image" > "$D/img/hello.txt"
    echo "key: value" > "$D/img/etc/app/app.yml"
    printf '#!/bin/sh\necho run\n' > "$D/img/run.sh"
    chmod 755 "$D/img/run.sh"
    make_bundle "$D/bundle"
    echo "more" > "$D/bundle/config/sub/more.yml"
    (
        cd "$D" || exit 1
        imgpkg save -i example.com/judge/img:v1 -f img --to-tar img.tar &&
            imgpkg save -i example.com/judge/img-oci:v1 -f img --oci --to-tar img-oci.tar &&
            imgpkg save -b example.com/judge/bundle:v1 -f bundle --to-tar bundle.tar &&
            imgpkg save -b example.com/judge/bundle-oci:v1 -f bundle --oci --to-tar bundle-oci.tar
    ) > "$D/save.log" 2>&1 || fail "save: $(cat "$D/save.log")"
    touch "$D/done"
    echo "$D"
}

# en_manifest TAR: the manifest digest index.json lists (exactly one).
en_manifest() {
    tar -xOf "$1" index.json > en-index.json
    [ "$(json en-index.json 'len(d["manifests"])')" = 1 ] || fail "$1: index.json lists $(json en-index.json 'len(d["manifests"])') manifests"
    json en-index.json 'd["manifests"][0]["digest"]'
}

# en_has_files SRC DIR: every file and directory of SRC is in DIR, files
# byte-identical (DIR may hold more: an engine adds /dev, /etc, ...).
en_has_files() {
    tree_listing "$1" | LC_ALL=C sort > en-src.tree
    tree_listing "$2" | LC_ALL=C sort > en-got.tree
    LC_ALL=C comm -23 en-src.tree en-got.tree > en-missing.tree
    [ ! -s en-missing.tree ] || fail "missing or different in $2 (read back by an engine):
$(cat en-missing.tree)"
}

# en_untar_layers LAYOUT_OR_DIR MANIFEST_FILE OUT: extracts the layers a
# manifest lists (blobs read from LAYOUT/blobs/sha256 or, for skopeo's dir:,
# from DIR/HEX), gzip or not.
en_untar_layers() {
    local src=$1 m=$2 out=$3 hex blob
    mkdir -p "$out"
    for hex in $(json "$m" '" ".join(l["digest"][7:] for l in d["layers"])'); do
        blob=$src/blobs/sha256/$hex
        [ -f "$blob" ] || blob=$src/$hex
        [ -f "$blob" ] || fail "layer $hex not in $src"
        if [ "$(head -c2 "$blob" | od -An -tx1 | tr -d ' ')" = 1f8b ]; then
            tar -xzf "$blob" -C "$out"
        else
            tar -xf "$blob" -C "$out"
        fi
    done
}

EN_DOCKER_MT=application/vnd.docker.distribution.manifest.v2+json
EN_OCI_MT=application/vnd.oci.image.manifest.v1+json

# ---------- the tarballs ----------

# what each tarball is: the default ones Docker schema 2 in an OCI layout
# with a manifest.json, the --oci ones OCI-typed; both named for engines
test_engines_tarball_types() {
    local D k mt
    D=$(en_tarballs)
    for k in img img-oci bundle bundle-oci; do
        tar -xOf "$D/$k.tar" index.json > idx.json
        tar -xOf "$D/$k.tar" oci-layout > layout.json
        assert_eq 1.0.0 "$(json layout.json 'd["imageLayoutVersion"]')" "$k: oci-layout"
        mt=$EN_DOCKER_MT
        case $k in *-oci) mt=$EN_OCI_MT ;; esac
        assert_eq "$mt" "$(json idx.json 'd["manifests"][0]["mediaType"]')" "$k: manifest media type in index.json"
        assert_eq "example.com/judge/$k:v1" "$(json idx.json 'd["manifests"][0]["annotations"]["io.containerd.image.name"]')" \
            "$k: io.containerd.image.name"
        assert_eq v1 "$(json idx.json 'd["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"]')" \
            "$k: org.opencontainers.image.ref.name"
        tar -xOf "$D/$k.tar" manifest.json > mj.json
        assert_eq "['example.com/judge/$k:v1']" "$(json mj.json 'd[0]["RepoTags"]')" "$k: manifest.json RepoTags"
        tar -xOf "$D/$k.tar" "blobs/sha256/$(en_manifest "$D/$k.tar" | cut -c8-)" > m.json
        assert_eq "$mt" "$(json m.json 'd["mediaType"]')" "$k: the manifest's mediaType"
    done
}

# ---------- daemonless: podman, buildah, skopeo, umoci, oci-image-tool ----------

test_engines_podman() {
    en_need_root
    local D k ref m
    D=$(en_tarballs)
    for k in img img-oci bundle bundle-oci; do
        ref=example.com/judge/$k:v1
        en_podman load -i "$D/$k.tar" > load.log 2>&1 || fail "podman load $k.tar: $(cat load.log)"
        assert_contains "$(cat load.log)" "Loaded image: $ref" "podman load $k.tar"
        m=$(en_podman image mount "$ref" 2> mount.log) || fail "podman image mount $ref: $(cat mount.log)"
        if [ "$k" = "${k#bundle}" ]; then en_has_files "$D/img" "$m"; else en_has_files "$D/bundle" "$m"; fi
        en_podman image unmount "$ref" > /dev/null 2>&1 || true
        en_podman rmi "$ref" > /dev/null 2>&1 || fail "podman rmi $ref"
    done
}

test_engines_buildah() {
    en_need_root
    local D k c m
    D=$(en_tarballs)
    for k in img-oci bundle-oci; do
        c=$(en_buildah from "oci-archive:$D/$k.tar:v1" 2> from.log) || fail "buildah from oci-archive:$k.tar:v1: $(cat from.log)"
        m=$(en_buildah mount "$c" 2> mount.log) || fail "buildah mount: $(cat mount.log)"
        if [ "$k" = img-oci ]; then en_has_files "$D/img" "$m"; else en_has_files "$D/bundle" "$m"; fi
        en_buildah umount "$c" > /dev/null 2>&1 || true
        en_buildah rm "$c" > /dev/null 2>&1 || fail "buildah rm $c"
    done
}

# skopeo: oci-archive: and oci: read the --oci tarballs (inspect gives our
# manifest digest), docker-archive: the default ones; the files of each copy
test_engines_skopeo() {
    local D k src digest
    D=$(en_tarballs)
    for k in img-oci bundle-oci; do
        src=$D/img
        [ "$k" = bundle-oci ] && src=$D/bundle
        digest=$(en_manifest "$D/$k.tar")
        assert_eq "$digest" "$(skopeo inspect --format '{{.Digest}}' "oci-archive:$D/$k.tar:v1")" "skopeo inspect oci-archive:$k.tar"
        skopeo copy "oci-archive:$D/$k.tar:v1" "dir:$PWD/$k-from-archive" > copy.log 2>&1 ||
            fail "skopeo copy oci-archive:$k.tar: $(cat copy.log)"
        en_untar_layers "$k-from-archive" "$k-from-archive/manifest.json" "$k-files-a"
        en_has_files "$src" "$k-files-a"
        mkdir "$k-layout"
        tar -xf "$D/$k.tar" -C "$k-layout"
        assert_eq "$digest" "$(skopeo inspect --format '{{.Digest}}' "oci:$PWD/$k-layout:v1")" "skopeo inspect oci:$k"
        skopeo copy "oci:$PWD/$k-layout:v1" "oci:$PWD/$k-copy:v1" > copy.log 2>&1 || fail "skopeo copy oci:$k: $(cat copy.log)"
        assert_eq "$digest" "$(skopeo inspect --format '{{.Digest}}' "oci:$PWD/$k-copy:v1")" "digest of skopeo's copy of oci:$k"
        en_untar_layers "$k-copy" "$k-copy/blobs/sha256/$(echo "$digest" | cut -c8-)" "$k-files-o"
        en_has_files "$src" "$k-files-o"
    done
    for k in img bundle; do
        skopeo inspect "docker-archive:$D/$k.tar" > inspect.log 2>&1 || fail "skopeo inspect docker-archive:$k.tar: $(cat inspect.log)"
        skopeo copy "docker-archive:$D/$k.tar" "dir:$PWD/$k-from-docker" > copy.log 2>&1 ||
            fail "skopeo copy docker-archive:$k.tar: $(cat copy.log)"
        en_untar_layers "$k-from-docker" "$k-from-docker/manifest.json" "$k-files-d"
        en_has_files "$D/$k" "$k-files-d"
    done
}

test_engines_umoci() {
    local D k src
    D=$(en_tarballs)
    for k in img-oci bundle-oci; do
        src=$D/img
        [ "$k" = bundle-oci ] && src=$D/bundle
        mkdir "$k-layout"
        tar -xf "$D/$k.tar" -C "$k-layout"
        umoci stat --image "$k-layout:v1" > stat.log 2>&1 || fail "umoci stat $k: $(cat stat.log)"
        assert_contains "$(cat stat.log)" "imgpkg" "umoci stat $k (history)"
        umoci unpack --image "$k-layout:v1" "$k-unpacked" > unpack.log 2>&1 || fail "umoci unpack $k: $(cat unpack.log)"
        en_has_files "$src" "$k-unpacked/rootfs"
    done
}

test_engines_oci_image_tool() {
    local D k src
    D=$(en_tarballs)
    for k in img-oci bundle-oci; do
        src=$D/img
        [ "$k" = bundle-oci ] && src=$D/bundle
        mkdir "$k-layout"
        tar -xf "$D/$k.tar" -C "$k-layout"
        oci-image-tool validate --type image --ref name=v1 "$k-layout" > validate.log 2>&1 ||
            fail "oci-image-tool validate $k: $(cat validate.log)"
        assert_contains "$(cat validate.log)" "Validation succeeded"
        oci-image-tool unpack --ref name=v1 "$k-layout" "$k-unpacked" > unpack.log 2>&1 ||
            fail "oci-image-tool unpack $k: $(cat unpack.log)"
        en_has_files "$src" "$k-unpacked"
    done
}

# ---------- daemons: containerd, Docker ----------

# ctr images import: each image under its name and our manifest digest; its
# layers in the content store hold our files
test_engines_containerd() {
    local D k ref digest
    en_containerd
    D=$(en_tarballs)
    for k in img img-oci bundle bundle-oci; do
        ref=example.com/judge/$k:v1
        digest=$(en_manifest "$D/$k.tar")
        en_ctr images import --snapshotter native "$D/$k.tar" > import.log 2>&1 || fail "ctr images import $k.tar: $(cat import.log)"
        en_ctr images ls > ls.log 2>&1
        grep -Eq "^$ref +[^ ]+ +$digest " ls.log || fail "ctr images ls has no $ref at $digest: $(cat ls.log)"
        en_ctr content get "$digest" > "$k.manifest.json" || fail "ctr content get $digest"
        mkdir -p "$k-blobs"
        for l in $(json "$k.manifest.json" '" ".join(l["digest"] for l in d["layers"])'); do
            en_ctr content get "$l" > "$k-blobs/${l#sha256:}" || fail "ctr content get $l"
        done
        en_untar_layers "$k-blobs" "$k.manifest.json" "$k-files"
        if [ "$k" = "${k#bundle}" ]; then en_has_files "$D/img" "$k-files"; else en_has_files "$D/bundle" "$k-files"; fi
        en_ctr images rm "$ref" > /dev/null 2>&1 || fail "ctr images rm $ref"
    done
}

# docker load (through manifest.json), then docker create + docker cp
test_engines_docker() {
    local D k ref c
    en_dockerd
    D=$(en_tarballs)
    for k in img img-oci bundle bundle-oci; do
        ref=example.com/judge/$k:v1
        en_docker load -i "$D/$k.tar" > load.log 2>&1 || fail "docker load $k.tar: $(cat load.log)"
        assert_contains "$(cat load.log)" "Loaded image: $ref" "docker load $k.tar"
        c=$(en_docker create "$ref" /no-such-command 2> create.log) || fail "docker create $ref: $(cat create.log)"
        mkdir "$k-files"
        en_docker cp "$c:/" - 2> cp.log | tar -x -C "$k-files" || fail "docker cp: $(cat cp.log)"
        if [ "$k" = "${k#bundle}" ]; then en_has_files "$D/img" "$k-files"; else en_has_files "$D/bundle" "$k-files"; fi
        en_docker rm "$c" > /dev/null 2>&1 || fail "docker rm $c"
        en_docker rmi "$ref" > /dev/null 2>&1 || fail "docker rmi $ref"
    done
}
