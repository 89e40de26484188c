# t-reliability.sh - nothing lost under concurrency, cleanup, hostile servers
# and full disks: the temporary names only the tool uses and only their
# leftovers removed, concurrent writers of one layout or tarball, tar entries
# that cannot be completed, the umask, trailing slashes, symlinked inputs,
# duplicate tar members after normalisation, write errors on a full file
# system.

# ---------- helpers (names start with rl_; every t-*.sh shares one shell) ----------

# rl_folder DIR TEXT: a folder with one file holding TEXT.
rl_folder() {
    mkdir -p "$1"
    echo "$2" > "$1/f.txt"
}

# rl_random DIR MB: DIR with one file of MB megabytes of random bytes (a layer
# that does not compress: runs long enough to be killed in the middle).
rl_random() {
    mkdir -p "$1"
    head -c "$(($2 * 1000000))" /dev/urandom > "$1/big.bin"
}

# rl_no_temps DIR...: no temporary name of the tool is left under DIR.
rl_no_temps() {
    local left
    left=$(find "$@" -name '*.imgpkg-tmp-*' 2>/dev/null || true)
    [ -z "$left" ] || fail "temporary files left: $left"
}

# rl_tags LAYOUT: the tags of a layout, sorted, one a line.
rl_tags() {
    python3 -c '
import json, sys
d = json.load(open(sys.argv[1] + "/index.json"))
for m in d["manifests"]:
    t = m.get("annotations", {}).get("org.opencontainers.image.ref.name")
    if t:
        print(t)' "$1" | LC_ALL=C sort
}

# rl_valid_layout DIR: our verify and umoci accept the layout.
rl_valid_layout() {
    imgpkg verify --oci-layout "$1" > /dev/null || fail "verify refused $1"
    umoci ls --layout "$1" > /dev/null 2>&1 || fail "umoci refused $1: $(umoci ls --layout "$1" 2>&1 | tail -3)"
}

# rl_writers_some_killed MB DEST_FLAG DEST: 16 concurrent saves (each of MB
# megabytes of random bytes, tagged k1..k16) to DEST, every third killed by
# SIGKILL at one of its first write or rename points (IMGPKG_TEST_CRASH_AT):
# those exit 137 (or 0 if they finished first), the others must succeed.  At
# least one run is really killed.  Sets RL_DONE to the tags of the runs that
# completed, one a line.
rl_writers_some_killed() {
    local mb=$1 i n pids="" killed=0 rc
    shift
    RL_DONE=""
    for i in $(seq 1 16); do
        rl_random "big$i" "$mb"
        if [ $((i % 3)) = 0 ]; then
            IMGPKG_TEST_CRASH_AT=$((RANDOM % 6 + 1)) "$IMGPKG" save -i "img:k$i" -f "big$i" "$@" \
                > /dev/null 2> "k$i.err" &
        else
            "$IMGPKG" save -i "img:k$i" -f "big$i" "$@" > /dev/null 2> "k$i.err" &
        fi
        pids="$pids $!"
    done
    n=0
    for p in $pids; do
        n=$((n + 1))
        rc=0
        wait "$p" || rc=$?
        if [ "$rc" = 0 ]; then
            RL_DONE="$RL_DONE${RL_DONE:+
}k$n"
        elif [ "$rc" = 137 ] && [ $((n % 3)) = 0 ]; then
            killed=$((killed + 1))
        else
            fail "run $n: exit status $rc: $(cat "k$n.err")"
        fi
    done
    [ "$killed" -gt 0 ] || fail "no run was killed"
}

# ---------- temporary names and their cleanup ----------

test_rel_cleanup_spares_user_files() {
    rl_folder in a
    imgpkg save -i img:a -f in --to-oci-layout layout > /dev/null
    imgpkg save -i img:a -f in --to-tar bundle.tar > /dev/null
    # names like the temporary ones the tool used to make, but the user's
    mkdir .layout-backup && echo keep > .layout-backup/x
    echo keep > .bundle.tar-backup
    echo keep > .bundle.tar-abc123
    echo keep > layout/blobs/sha256/.notes-abcdef
    # a symlink carrying the marker, to a directory of the user's
    mkdir mine && echo keep > mine/x
    ln -s mine .layout.imgpkg-tmp-qqqqqq
    ln -s mine .bundle.tar.imgpkg-tmp-qqqqqq
    # leftovers of killed runs (marked, unlocked): removed
    mkdir .layout.imgpkg-tmp-zzzzzz && echo x > .layout.imgpkg-tmp-zzzzzz/x
    echo x > .bundle.tar.imgpkg-tmp-zzzzzz
    echo x > layout/blobs/sha256/.0000.imgpkg-tmp-zzzzzz
    echo x > layout/.index.json.imgpkg-tmp-zzzzzz
    imgpkg save -i img:b -f in --to-oci-layout layout > /dev/null
    imgpkg save -i img:b -f in --to-tar bundle.tar > /dev/null
    for f in .layout-backup/x .bundle.tar-backup .bundle.tar-abc123 layout/blobs/sha256/.notes-abcdef mine/x; do
        [ -f "$f" ] || fail "the user's '$f' was removed"
    done
    [ -L .layout.imgpkg-tmp-qqqqqq ] && [ -L .bundle.tar.imgpkg-tmp-qqqqqq ] || fail "a symlink was removed"
    for f in .layout.imgpkg-tmp-zzzzzz .bundle.tar.imgpkg-tmp-zzzzzz layout/blobs/sha256/.0000.imgpkg-tmp-zzzzzz layout/.index.json.imgpkg-tmp-zzzzzz; do
        assert_file_absent "$f"
    done
    # blobs/sha256 a symlink to elsewhere: the tool does not clean there
    mkdir elsewhere
    cp -a layout/blobs/sha256/. elsewhere/
    echo keep > elsewhere/.x.imgpkg-tmp-abcdef
    rm -rf layout/blobs/sha256
    ln -s ../../elsewhere layout/blobs/sha256
    imgpkg save -i img:c -f in --to-oci-layout layout > /dev/null
    [ -f elsewhere/.x.imgpkg-tmp-abcdef ] || fail "cleaned through the symlinked blobs/sha256"
    assert_eq "$(printf 'a\nb\nc')" "$(rl_tags layout)" "tags"
}

# Many runs at once into one tarball: none fails because of another (a run's
# cleanup never takes a live run's temporary file), and the tarball is always
# one of theirs, whole.
test_rel_concurrent_tarball_writers() {
    local i round pids sums=""
    for i in $(seq 1 16); do
        rl_folder "in$i" "content $i"
        imgpkg save -i "img:v" -f "in$i" --to-tar "ref$i.tar" > /dev/null
        sums="$sums $(sha256sum < "ref$i.tar" | cut -c1-64)"
    done
    for round in 1 2 3 4 5 6; do
        pids=""
        for i in $(seq 1 16); do
            imgpkg save -i "img:v" -f "in$i" --to-tar out.tar > "run$i.out" 2> "run$i.err" &
            pids="$pids $!"
        done
        i=0
        for p in $pids; do
            i=$((i + 1))
            wait "$p" || fail "round $round: run $i failed: $(cat "run$i.err")"
        done
        assert_contains "$sums" "$(sha256sum < out.tar | cut -c1-64)" "tarball after round $round"
        rl_no_temps .
    done
    # the same with every third run killed in the middle (SIGKILL at one of
    # its first write or rename points): the others succeed, the tarball is
    # one of theirs, the next run clears what the killed ones left
    rl_writers_some_killed 2 --to-tar out.tar
    tar -tf out.tar > /dev/null || fail "out.tar is not a tarball"
    imgpkg verify --tar out.tar > /dev/null || fail "verify refused out.tar"
    imgpkg save -i "img:v" -f in1 --to-tar out.tar > /dev/null
    rl_no_temps .
}

# 16 concurrent saves of different tags into one layout keep 16 tags; then 16
# more into the existing layout with some killed: every survivor's tag is kept.
test_rel_concurrent_layout_writers() {
    local i pids expect=""
    for i in $(seq 1 16); do
        rl_folder "in$i" "content $i"
        expect="$expect
t$i"
    done
    pids=""
    for i in $(seq 1 16); do
        imgpkg save -i "img:t$i" -f "in$i" --to-oci-layout layout > /dev/null 2> "run$i.err" &
        pids="$pids $!"
    done
    i=0
    for p in $pids; do
        i=$((i + 1))
        wait "$p" || fail "run $i failed: $(cat "run$i.err")"
    done
    assert_eq "$(echo "$expect" | sed 1d | LC_ALL=C sort)" "$(rl_tags layout)" "tags"
    rl_valid_layout layout
    rl_no_temps .

    rl_writers_some_killed 1 --to-oci-layout layout
    expect="$expect
$RL_DONE"
    # a killed run may have completed before the signal: its tag may be there
    local tags
    tags=$(rl_tags layout)
    while read -r t; do
        [ -z "$t" ] || echo "$tags" | grep -qx "$t" || fail "tag $t lost"
    done <<< "$expect"
    rl_valid_layout layout
    imgpkg save -i img:last -f in1 --to-oci-layout layout > /dev/null
    rl_no_temps .
    rl_valid_layout layout
}

# A killed pull's temporary directory is removed by the next pull; a live
# pull's is left alone.
test_rel_pull_temp_dir_cleaned() {
    rl_folder in a
    imgpkg save -i img:a -f in --to-oci-layout layout > /dev/null
    mkdir .out.imgpkg-tmp-abc123 && echo x > .out.imgpkg-tmp-abc123/x
    mkdir .out-backup && echo keep > .out-backup/x
    imgpkg pull --oci-layout layout -o out > /dev/null
    assert_file_absent .out.imgpkg-tmp-abc123
    [ -f .out-backup/x ] || fail "the user's .out-backup was removed"
    assert_eq a "$(cat out/f.txt)" "pulled file"
    # again over the existing output
    imgpkg pull --oci-layout layout -o out > /dev/null
    assert_eq a "$(cat out/f.txt)" "pulled file"
    rl_no_temps .
}

# ---------- tar entries that cannot be completed ----------

rl_py_short_blob() {
    cat <<'PY'
import hashlib, json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# short-blob.py PORTFILE SIZE: a registry whose layer declares SIZE bytes and
# sends 100.
SIZE = int(sys.argv[2])
CONFIG = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                     "rootfs": {"type": "layers", "diff_ids": ["sha256:" + "0" * 64]}}).encode()
LAYER_DIGEST = "sha256:" + "ab" * 32
MT = "application/vnd.oci.image.manifest.v1+json"
def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()
MANIFEST = json.dumps({"schemaVersion": 2, "mediaType": MT,
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha(CONFIG), "size": len(CONFIG)},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": LAYER_DIGEST, "size": SIZE}]}).encode()

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def send(self, code, body, ctype="application/json", length=None):
        try:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body) if length is None else length))
            if length is not None:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        except OSError:
            pass
    def do_HEAD(self):
        self.do_GET()
    def do_GET(self):
        p = self.path
        if p == "/v2/":
            return self.send(200, b"{}")
        if "/manifests/" in p:
            return self.send(200, MANIFEST, MT)
        if p.endswith(sha(CONFIG)):
            return self.send(200, CONFIG)
        if p.endswith(LAYER_DIGEST):
            # claims the whole size, sends 100 bytes and hangs up
            self.send(200, b"x" * 100, "application/octet-stream", length=SIZE)
            self.close_connection = True
            return
        return self.send(404, b'{"errors":[{"code":"NOT_FOUND"}]}')

srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
srv.daemon_threads = True
open(sys.argv[1], "w").write(str(srv.server_address[1]))
srv.serve_forever()
PY
}

# A layer that comes up short is not padded to its declared size: the
# tarball is given up at once, what is written stays bounded by what came in.
test_rel_short_blob_not_padded() {
    rl_py_short_blob > short.py
    local size pid port rc
    # 1 GB, and the largest size a descriptor can state
    for size in 1000000000 9223372036854775807; do
        rm -f port
        python3 short.py port "$size" &
        pid=$!
        echo "$pid" >> "$SUITE_TMP/pids"
        for _ in $(seq 1 50); do [ -s port ] && break; sleep 0.1; done
        port=$(cat port)
        # an entry padded with zeros to its size would pass this 64 MB file size limit
        rc=0
        (ulimit -f 65536 && exec "$IMGPKG" copy -i "127.0.0.1:$port/x/app:v1" --to-tar out.tar \
            --registry-retry-count 0) > run.out 2> run.err || rc=$?
        kill "$pid" 2> /dev/null || true
        [ "$rc" = 1 ] || fail "size $size: exit status $rc (153: killed writing past the file size limit): $(cat run.err)"
        grep -q '^imgpkg: Error: ' run.err || fail "no error: $(cat run.err)"
        assert_file_absent out.tar
        rl_no_temps .
        # the staging directory a failed copy keeps for --resume holds whole blobs only
        for f in .out.tar.imgpkg-partial/blobs/sha256/*; do
            [ -f "$f" ] || continue
            assert_eq "$(basename "$f")" "$(sha256sum < "$f" | cut -c1-64)" "staged blob"
        done
        rm -rf .out.tar.imgpkg-partial
    done
}

# ---------- modes, paths, inputs ----------

# Under umask 077 every output is the user's alone (0600 files, 0700
# directories), as imgpkg's 0666/0777 & ~umask gives.
test_rel_umask_honoured() {
    rl_folder in a
    (
        umask 077
        imgpkg save -i img:a -f in --to-tar t.tar > /dev/null
        imgpkg save -i img:a -f in --to-oci-layout layout > /dev/null
        imgpkg pull --oci-layout layout -o out > /dev/null
        imgpkg save -i img:b -f in --to-oci-layout layout > /dev/null
    )
    assert_eq 600 "$(stat -c %a t.tar)" "tarball mode"
    assert_eq 700 "$(stat -c %a layout)" "layout mode"
    assert_eq 700 "$(stat -c %a layout/blobs/sha256)" "blobs mode"
    assert_eq 700 "$(stat -c %a out)" "pull output mode"
    local f
    for f in layout/index.json layout/oci-layout layout/blobs/sha256/*; do
        assert_eq 600 "$(stat -c %a "$f")" "mode of $f"
    done
    # and under 002, group-writable as imgpkg makes them
    (
        umask 002
        imgpkg save -i img:a -f in --to-tar t2.tar > /dev/null
        imgpkg save -i img:a -f in --to-oci-layout layout2 > /dev/null
    )
    assert_eq 664 "$(stat -c %a t2.tar)" "tarball mode"
    assert_eq 775 "$(stat -c %a layout2)" "layout mode"
    assert_eq 664 "$(stat -c %a layout2/index.json)" "index.json mode"
}

# Destinations written with a trailing slash, as shells complete them.
test_rel_trailing_slashes() {
    rl_folder in a
    imgpkg save -i img:a -f in --to-oci-layout layout/ > /dev/null
    imgpkg pull --oci-layout layout/ -o out/ > /dev/null
    assert_eq a "$(cat out/f.txt)" "pulled file"
    imgpkg save -i img:b -f in --to-oci-layout layout/ > /dev/null
    assert_eq "$(printf 'a\nb')" "$(rl_tags layout)" "tags"
    imgpkg save -i img:a -f in --to-tar t.tar > /dev/null
    imgpkg pull --tar t.tar -o out/ > /dev/null
    assert_eq a "$(cat out/f.txt)" "pulled file"
    mkdir -p deep
    imgpkg pull --tar t.tar -o deep/out// > /dev/null
    assert_eq a "$(cat deep/out/f.txt)" "pulled file"
    expect_fail "'x\.tar/' is a directory, expected a tarball path" imgpkg save -i img:a -f in --to-tar x.tar/
    assert_file_absent x.tar
    rl_no_temps .
    [ -z "$(find out deep -name '.*')" ] || fail "dot files in the output: $(find out deep -name '.*')"
}

# User-supplied input files may be symlinks (Kubernetes mounts secrets so).
test_rel_symlinked_inputs() {
    rl_folder in a
    mkdir -p in/.imgpkg
    printf 'apiVersion: imgpkg.carvel.dev/v1alpha1\nkind: ImagesLock\nimages: []\n' > in/.imgpkg/images.yml
    imgpkg push -b "$REG_ADDR/rl/sym:v1" -f in --lock-output real.yml > /dev/null
    mkdir -p ..data && mv real.yml ..data/ && ln -s ..data/real.yml lock.yml
    imgpkg pull --lock lock.yml -o out > /dev/null
    assert_eq a "$(cat out/f.txt)" "pulled file"
    # a CA file through two links, as /etc/ssl/certs and config maps are
    local pem
    pem=$(find /etc/ssl/certs -name '*.pem' -type l | head -1)
    [ -n "$pem" ] || fail "no CA certificate link in /etc/ssl/certs"
    ln -s "$pem" ca.pem
    imgpkg tag list -i "$REG_ADDR/rl/sym" --registry-ca-cert-path ca.pem > tags.out
    assert_contains "$(cat tags.out)" v1 "tag list"
}

# A tarball with the good blob and a second member of the same name spelt
# differently (which tar -x would extract over the first) is refused.
test_rel_verify_duplicates_normalised() {
    rl_folder in a
    imgpkg save -i img:a -f in --to-tar good.tar > /dev/null
    local spelling
    for spelling in 'blobs//sha256/H' './blobs/./sha256/H' 'blobs/sha256/./H' '/blobs/sha256/H'; do
        python3 - good.tar bad.tar "$spelling" <<'PY'
import io, json, sys, tarfile
src, dst, spelling = sys.argv[1:4]
t = tarfile.open(src)
members = [(m, t.extractfile(m).read() if m.isfile() else None) for m in t.getmembers()]
index = json.loads(t.extractfile("index.json").read())
h = index["manifests"][0]["digest"].split(":")[1]
with tarfile.open(dst, "w", format=tarfile.PAX_FORMAT) as out:
    for m, data in members:
        out.addfile(m, io.BytesIO(data) if data is not None else None)
    name = spelling.replace("H", h)
    size = [m.size for m, _ in members if m.name == "blobs/sha256/" + h][0]
    ti = tarfile.TarInfo(name)
    ti.size = size
    ti.type = tarfile.REGTYPE
    out.addfile(ti, io.BytesIO(b"\0" * size))
PY
        expect_fail "duplicate entry 'blobs/sha256/[0-9a-f]{64}'" imgpkg verify --tar bad.tar
    done
}

# ---------- full disks ----------

# Every output path on a full file system (a small tmpfs): one clear error
# naming the path, nothing left behind, an existing destination intact.
test_rel_disk_full() {
    mkdir mnt
    mount -t tmpfs -o size=2m tmpfs mnt 2> /dev/null || skip "cannot mount a tmpfs (not root?)"
    trap 'umount "$T/mnt" 2> /dev/null || true' EXIT
    rl_folder small s
    mkdir big && head -c 3000000 /dev/urandom > big/r.bin
    imgpkg push -i "$REG_ADDR/rl/big:v1" -f big > /dev/null
    # the existing destinations, small
    imgpkg save -i img:s -f small --to-tar mnt/t.tar > /dev/null
    imgpkg save -i img:s -f small --to-oci-layout mnt/lay > /dev/null
    imgpkg pull --tar mnt/t.tar -o mnt/out > /dev/null
    local before
    before=$(tree_listing mnt)
    local nospc="No space left on device"
    expect_fail "'mnt/t\.tar'.*$nospc" imgpkg save -i img:b -f big --to-tar mnt/t.tar
    expect_fail "'mnt/new\.tar'.*$nospc" imgpkg save -i img:b -f big --to-tar mnt/new.tar
    expect_fail "mnt/lay.*$nospc" imgpkg save -i img:b -f big --to-oci-layout mnt/lay
    expect_fail "'mnt[^']*'.*$nospc" imgpkg save -i img:b -f big --to-oci-layout mnt/newlay
    expect_fail "'mnt[^']*'.*$nospc" imgpkg push -i "$REG_ADDR/rl/big2:v1" -f big --to-oci-tar mnt/t.tar
    expect_fail "'mnt/t\.tar'.*$nospc" imgpkg copy -i "$REG_ADDR/rl/big:v1" --to-tar mnt/t.tar
    expect_fail "'mnt/new\.tar'.*$nospc" imgpkg copy -i "$REG_ADDR/rl/big:v1" --to-tar mnt/new.tar
    expect_fail "mnt/lay.*$nospc" imgpkg copy -i "$REG_ADDR/rl/big:v1" --to-oci-layout mnt/lay
    expect_fail "'mnt/out'.*$nospc" imgpkg pull -i "$REG_ADDR/rl/big:v1" -o mnt/out
    expect_fail "'mnt/new'.*$nospc" imgpkg pull -i "$REG_ADDR/rl/big:v1" -o mnt/new
    # what was there is as it was; nothing new but complete blobs in the
    # existing layout (content-addressed, used by the next run)
    local after
    after=$(tree_listing mnt)
    local d
    d=$(diff <(echo "$before") <(echo "$after") | grep '^[<>]' | grep -v '^> f \./lay/blobs/sha256/' || true)
    [ -z "$d" ] || fail "the full disk changed: $d"
    [ -z "$(find mnt -name '.*')" ] || fail "left behind: $(find mnt -name '.*')"
    assert_file_absent mnt/new.tar
    assert_file_absent mnt/newlay
    assert_file_absent mnt/new
    imgpkg verify --tar mnt/t.tar > /dev/null
    imgpkg verify --oci-layout mnt/lay > /dev/null
    assert_eq s "$(cat mnt/out/f.txt)" "pulled file"
}

# ---------- identical references ----------

# A bundle whose images.yml names one image 3,000 times: describe and copy -b
# fetch it once (counted by a proxy that lets everything through), in little
# time.
test_rel_identical_refs_resolved_once() {
    rl_folder img one
    imgpkg push -i "$REG_ADDR/rl/one:v1" -f img > /dev/null
    local d
    d=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$REG_ADDR/rl/one:v1")
    fa_proxy "$REG_ADDR" --rate 0
    mkdir -p b/.imgpkg
    {
        echo "apiVersion: imgpkg.carvel.dev/v1alpha1"
        echo "kind: ImagesLock"
        echo "images:"
        for _ in $(seq 1 3000); do echo "- image: $FA_ADDR/rl/one@$d"; done
    } > b/.imgpkg/images.yml
    imgpkg push -b "$FA_ADDR/rl/b:v1" -f b > /dev/null
    : > "$FA_ACCESS"
    local start=$SECONDS n
    timeout 60 "$IMGPKG" describe -b "$FA_ADDR/rl/b:v1" > describe.out
    n=$(grep -c "/v2/rl/[a-z]*/manifests/$d" "$FA_ACCESS" || true)
    [ "$n" -le 4 ] || fail "describe asked for the image $n times"
    : > "$FA_ACCESS"
    timeout 60 "$IMGPKG" copy -b "$FA_ADDR/rl/b:v1" --to-tar b.tar > /dev/null
    n=$(grep -c "/v2/rl/[a-z]*/manifests/$d" "$FA_ACCESS" || true)
    [ "$n" -le 6 ] || fail "copy asked for the image $n times"
    imgpkg verify --tar b.tar > /dev/null
    [ $((SECONDS - start)) -lt 30 ] || fail "took $((SECONDS - start)) s"
    fa_proxy_stop
}

# ---------- hostile servers: bodies that never end, pages that loop ----------

rl_py_endless() {
    cat <<'PY'
import hashlib, json, os, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# endless.py DIR: one fake registry per mode, DIR/ports lists "MODE PORT".
MT = "application/vnd.oci.image.manifest.v1+json"
def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()
CONFIG = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'
LAYER = b"layer " * 100
MANIFEST = json.dumps({"schemaVersion": 2, "mediaType": MT,
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha(CONFIG), "size": len(CONFIG)},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": sha(LAYER), "size": len(LAYER)}]}).encode()
MODES = ["ping-endless-200", "ping-trickle-401", "manifest-endless-404", "blob-endless-500",
         "blob-trickle-500", "tags-loop", "tags-loop-absolute", "tags-endless"]
PORTS = {}

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def send(self, code, body, headers=()):
        try:
            self.send_response(code)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        except OSError:
            pass
    def endless(self, code, trickle, headers=()):
        # a body that never ends: fast, or one byte a second
        try:
            self.send_response(code)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b"x" if trickle else b"x" * 65536
            while True:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
                if trickle:
                    time.sleep(1)
        except OSError:
            return
    def do_HEAD(self):
        self.do_GET()
    def do_GET(self):
        p, mode = self.path, self.mode
        if p == "/v2/":
            if mode == "ping-endless-200":
                return self.endless(200, False)
            if mode == "ping-trickle-401":
                return self.endless(401, True, [("WWW-Authenticate", 'Basic realm="x"')])
            return self.send(200, b"{}")
        if "/tags/list" in p and mode == "tags-endless":
            # every page new (last=N), of long names, never the last
            last = int(p.split("last=")[1].split("&")[0]) if "last=" in p else 0
            tags = ["t%09d-%s" % (last + i, "y" * 110) for i in range(2000)]
            body = json.dumps({"name": "x/app", "tags": tags}).encode()
            link = "/v2/x/app/tags/list?last=%d&n=2000" % (last + 2000)
            return self.send(200, body, [("Content-Type", "application/json"), ("Link", '<%s>; rel="next"' % link)])
        if "/tags/list" in p:
            port = PORTS[mode]
            link = ("http://127.0.0.1:%d/v2/x/app/tags/list?n=1000" % port) if mode == "tags-loop-absolute" \
                else "/v2/x/app/tags/list?n=1000"
            tags = ["t%06d-%s" % (i, "y" * 100) for i in range(500)]
            body = json.dumps({"name": "x/app", "tags": tags}).encode()
            return self.send(200, body, [("Content-Type", "application/json"), ("Link", '<%s>; rel="next"' % link)])
        if "/manifests/" in p:
            if mode == "manifest-endless-404":
                return self.endless(404, False)
            return self.send(200, MANIFEST, [("Content-Type", MT), ("Docker-Content-Digest", sha(MANIFEST))])
        if p.endswith(sha(CONFIG)):
            return self.send(200, CONFIG)
        if p.endswith(sha(LAYER)):
            if mode == "blob-endless-500":
                return self.endless(500, False)
            if mode == "blob-trickle-500":
                return self.endless(500, True)
            return self.send(200, LAYER)
        return self.send(404, b'{"errors":[{"code":"NOT_FOUND"}]}')

class S(ThreadingHTTPServer):
    daemon_threads = True

servers = []
for m in MODES:
    srv = S(("127.0.0.1", 0), type("H_" + m.replace("-", "_"), (H,), {"mode": m}))
    PORTS[m] = srv.server_address[1]
    servers.append(srv)
with open(os.path.join(sys.argv[1], "ports.tmp"), "w") as f:
    for m in MODES:
        f.write("%s %d\n" % (m, PORTS[m]))
os.rename(os.path.join(sys.argv[1], "ports.tmp"), os.path.join(sys.argv[1], "ports"))
for srv in servers[1:]:
    threading.Thread(target=srv.serve_forever, daemon=True).start()
servers[0].serve_forever()
PY
}

# rl_bounded SECONDS PATTERN CMD...: CMD fails with one error line matching
# PATTERN, within SECONDS and under 64 MB of peak RSS.
rl_bounded() {
    local limit=$1 pat=$2 start=$SECONDS
    shift 2
    expect_fail "$pat" hs_rss "$T.rss" timeout 60 "$@"
    # (ASan's allocator and quarantine make peak RSS meaningless there)
    grep -q __asan_init "$IMGPKG" || hs_rss_below "$T.rss" 64
    [ $((SECONDS - start)) -le "$limit" ] || fail "took $((SECONDS - start)) s (limit $limit): $*"
}

# Bodies that never end, whether kept or dropped, and pages that point back
# at themselves: every command ends with a clear error within the timeouts.
test_rel_endless_bodies_and_pages() {
    mkdir fake
    rl_py_endless > endless.py
    python3 endless.py fake > fake/stderr 2>&1 &
    local pid=$!
    echo "$pid" >> "$SUITE_TMP/pids"
    for _ in $(seq 1 100); do [ -f fake/ports ] && break; sleep 0.1; done
    [ -f fake/ports ] || fail "the fake registries did not start: $(cat fake/stderr)"
    port() { awk -v m="$1" '$1 == m { print $2 }' fake/ports; }
    local f="--registry-retry-count 0 --registry-request-timeout 3s --registry-response-header-timeout 3s"
    # dropped bodies, fast: ended at their cap, the status taken (a /v2/
    # that never ends its 200 is still a registry that works)
    local start=$SECONDS
    timeout 60 "$IMGPKG" copy -i "127.0.0.1:$(port ping-endless-200)/x/app:v1" --to-tar ok.tar \
        --registry-retry-count 0 > /dev/null || fail "copy from a registry whose /v2/ never ends"
    [ $((SECONDS - start)) -le 10 ] || fail "took $((SECONDS - start)) s"
    assert_eq 3 "$(tar -tf ok.tar | grep -c '^blobs/sha256/.')" "blobs in ok.tar"
    rm ok.tar
    # shellcheck disable=SC2086
    rl_bounded 10 "manifest unknown|HTTP 404|404 Not Found" "$IMGPKG" pull -i "127.0.0.1:$(port manifest-endless-404)/x/app:v1" -o out $f
    # shellcheck disable=SC2086
    rl_bounded 10 "HTTP 500|500 Internal Server Error" "$IMGPKG" copy -i "127.0.0.1:$(port blob-endless-500)/x/app:v1" --to-tar o.tar $f
    # dropped bodies, one byte a second: ended by the request deadline
    # shellcheck disable=SC2086
    rl_bounded 12 "did not end within 3 s|timed out" "$IMGPKG" pull -i "127.0.0.1:$(port ping-trickle-401)/x/app:v1" -o out $f
    # shellcheck disable=SC2086
    rl_bounded 12 "did not end within 3 s" "$IMGPKG" copy -i "127.0.0.1:$(port blob-trickle-500)/x/app:v1" --to-tar o.tar $f
    # a next page that is the page itself (relative and absolute)
    # shellcheck disable=SC2086
    rl_bounded 10 "next page is one already read" "$IMGPKG" tag list -i "127.0.0.1:$(port tags-loop)/x/app" $f
    # shellcheck disable=SC2086
    rl_bounded 10 "next page is one already read" "$IMGPKG" tag list -i "127.0.0.1:$(port tags-loop-absolute)/x/app" $f
    # pages without end, each new: stopped at the cap on tags kept
    # shellcheck disable=SC2086
    rl_bounded 30 "more than 500000 tags or 16777216 bytes of names" "$IMGPKG" tag list \
        -i "127.0.0.1:$(port tags-endless)/x/app" $f
    kill "$pid" 2> /dev/null || true
    assert_file_absent out
    assert_file_absent o.tar
    rl_no_temps .
}
