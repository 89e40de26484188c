# t-hostile.sh - hostile input, each refused with one clear error line (exit
# status non-zero, "imgpkg: Error: ..." alone on stderr), without writing
# anything: OCI tarballs given to push/copy/pull/verify (names that climb out,
# duplicates, sizes that lie, truncation, index.json and manifests that are
# not JSON, too big or nested too deep, index chains too deep, a forged index
# that lists itself), layers that escape the output directory of pull, a gzip
# bomb (handled in little memory), bad images.yml (an alias bomb among them),
# bad references, and fake registries on 127.0.0.1 that answer with malformed
# challenges, huge headers, endless or wrong bodies, or redirect the token
# realm elsewhere.
#
# After every refused command the test directory and a sentinel directory
# outside it are exactly as before (hs_refused); a command that succeeds may
# change its output path only.

# ---------- helpers (names start with hs_; every t-*.sh shares one shell) ----------

# hs_py NAME: the path of one of the Python helpers below, written once per suite.
hs_py() {
    local f=$SUITE_TMP/hs-$1.py
    [ -f "$f" ] || "hs_py_$1" > "$f"
    echo "$f"
}

# hs_make CASE OUT [ARG]: an OCI layout tarball with the defect CASE (see
# hs-gen.py); hs_make batch ARG CASE...: CASE.tar for each, in one go.
hs_make() {
    python3 "$(hs_py gen)" "$@" || fail "generating $*"
}

# hs_setup: the sentinel directory (outside $T) that escapes would reach.
hs_setup() {
    HS_SENT=$T.sentinel
    mkdir -p "$HS_SENT"
    echo keep > "$HS_SENT/keep.txt"
    HS_N=0
}

# hs_snap: every entry under $T and the sentinel: type, mode, and for what is
# not a directory its size, mtime and link target.
hs_snap() {
    find "$T" "$HS_SENT" \( -type d -printf 'd %m %p\n' \) -o -printf '%y %m %s %T@ %p %l\n' |
        LC_ALL=C sort
}

# hs_refused PATTERN CMD...: CMD fails with one error line matching PATTERN and
# changes nothing at all.
hs_refused() {
    local pat=$1
    shift
    hs_snap > "$T.before"
    expect_fail "$pat" "$@"
    hs_snap > "$T.after"
    cmp -s "$T.before" "$T.after" || fail "refused '$*' changed files: $(diff "$T.before" "$T.after" | head -20)"
    HS_N=$((HS_N + 1))
}

# hs_changed_only PATH: since the last hs_snap into $T.before, nothing changed
# but PATH and what is under it.
hs_changed_only() {
    hs_snap > "$T.after"
    local d
    d=$(diff "$T.before" "$T.after" | grep '^[<>]' | grep -v " $1\( \|/\|$\)" || true)
    [ -z "$d" ] || fail "changed besides $1: $d"
}

# hs_untagged REPO: REPO has no tag in $REG_ADDR (or is unknown).
hs_untagged() {
    local out
    out=$(curl -s "http://$REG_ADDR/v2/$1/tags/list")
    case $out in *'"tags":["'*) fail "$1 has tags: $out" ;; esac
}

# hs_rss FILE CMD...: runs CMD, its peak RSS (KiB) written to FILE.
hs_rss() {
    local f=$1
    shift
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -f %M -o "$f" "$@"
    else
        python3 -c 'import resource, subprocess, sys
rc = subprocess.call(sys.argv[2:])
open(sys.argv[1], "w").write("%d\n" % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(rc)' "$f" "$@"
    fi
}

# hs_rss_below FILE MIB: the peak RSS in FILE is under MIB MiB.
hs_rss_below() {
    local kb
    kb=$(tail -1 "$1")
    [ "$kb" -lt $(($2 * 1024)) ] || fail "peak RSS ${kb} KiB, over $2 MiB"
}

# hs_fakes: starts the fake registries (hs-fake.py, one process, one port per
# mode) with their logs in $T.fake/ (outside $T).
hs_fakes() {
    mkdir -p "$T.fake"
    python3 "$(hs_py fake)" "$T.fake" > "$T.fake/stderr" 2>&1 &
    HS_FAKE_PID=$!
    echo "$HS_FAKE_PID" >> "$SUITE_TMP/pids"
    for _ in $(seq 1 200); do
        [ -f "$T.fake/ports" ] && return 0
        kill -0 "$HS_FAKE_PID" 2>/dev/null || fail "the fake registries died: $(cat "$T.fake/stderr")"
        sleep 0.05
    done
    fail "the fake registries did not start"
}

# hs_port MODE: the port of the fake registry in MODE.
hs_port() {
    awk -v m="$1" '$1 == m { print $2 }' "$T.fake/ports"
}

# hs_stop_fakes: stops the fake registries of this test.
hs_stop_fakes() {
    kill "$HS_FAKE_PID" 2>/dev/null || true
}

hs_py_gen() {
    cat <<'PY'
# hs-gen.py: OCI layout tarballs, each well-formed but for one defect (CASE).
import gzip, hashlib, io, json, os, sys, tarfile

MT_MAN = "application/vnd.oci.image.manifest.v1+json"
MT_IDX = "application/vnd.oci.image.index.v1+json"
MT_CFG = "application/vnd.oci.image.config.v1+json"
MT_GZ = "application/vnd.oci.image.layer.v1.tar+gzip"


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def layer_tar(entries):
    """entries: list of (name, kind, data_or_target)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, kind, x in entries:
            i = tarfile.TarInfo(name)
            i.mode = 0o644
            if kind == "file":
                i.size = len(x)
                t.addfile(i, io.BytesIO(x))
                continue
            if kind == "dir":
                i.type, i.mode = tarfile.DIRTYPE, 0o755
            elif kind == "symlink":
                i.type, i.linkname = tarfile.SYMTYPE, x
            elif kind == "hardlink":
                i.type, i.linkname = tarfile.LNKTYPE, x
            elif kind == "chr":
                i.type, i.devmajor, i.devminor = tarfile.CHRTYPE, 1, 3
            t.addfile(i)
    return raw.getvalue()


class Image:
    """Blobs (digest -> bytes), index entries, extra tar members."""

    def __init__(self):
        self.blobs = {}
        self.index = []

    def blob(self, b):
        d = sha(b)
        self.blobs[d] = b
        return d

    def image(self, layer_raw=None, gz=None, diff_id=None, tag="v1", lie=0):
        if gz is None:
            layer_raw = layer_raw if layer_raw is not None else layer_tar([("hello.txt", "file", b"hello\n")])
            gz = gzip.compress(layer_raw, mtime=0)
            diff_id = sha(layer_raw)
        ld = self.blob(gz)
        cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                          "rootfs": {"type": "layers", "diff_ids": [diff_id]}}).encode()
        man = self.manifest_bytes(cfg, ld, len(gz) + lie)
        return self.entry(MT_MAN, man, tag)

    def manifest_bytes(self, cfg, ld, lsize):
        return json.dumps({"schemaVersion": 2, "mediaType": MT_MAN,
                           "config": {"mediaType": MT_CFG, "digest": self.blob(cfg), "size": len(cfg)},
                           "layers": [{"mediaType": MT_GZ, "digest": ld, "size": lsize}]}).encode()

    def entry(self, mt, body, tag):
        d = self.blob(body)
        e = {"mediaType": mt, "digest": d, "size": len(body)}
        if tag:
            e["annotations"] = {"org.opencontainers.image.ref.name": tag}
        self.index.append(e)
        return e

    def index_json(self):
        return json.dumps({"schemaVersion": 2, "mediaType": MT_IDX, "manifests": self.index}).encode()

    def members(self, index_json=None):
        m = [("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'),
             ("index.json", self.index_json() if index_json is None else index_json)]
        for d, b in self.blobs.items():
            m.append(("blobs/sha256/" + d[7:], b))
        return m


def write_tar(path, members, truncate=None):
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as t:
        for name, data in members:
            i = tarfile.TarInfo(name)
            i.size, i.mode = len(data), 0o644
            t.addfile(i, io.BytesIO(data))
    if truncate is not None:
        with open(path, "r+b") as f:
            f.truncate(truncate)


def write_bomb_tar(path, mib):
    """One image whose layer holds one file of `mib` MiB of zeros: a gzip stream of
    one member per MiB (each ~1 KiB), the same compressed bytes repeated."""
    zeros = b"\0" * (1 << 20)
    hdr = tarfile.TarInfo("zeros.bin")
    hdr.size, hdr.mode = mib << 20, 0o644
    head = hdr.tobuf(format=tarfile.PAX_FORMAT)
    tail = b"\0" * 1024  # two zero blocks end the archive
    mz = gzip.compress(zeros, compresslevel=9, mtime=0)
    gz = gzip.compress(head, mtime=0) + mz * mib + gzip.compress(tail, mtime=0)
    diff = hashlib.sha256(head)
    for _ in range(mib):
        diff.update(zeros)
    diff.update(tail)
    img = Image()
    img.image(gz=gz, diff_id="sha256:" + diff.hexdigest())
    write_tar(path, img.members())
    return len(gz)


def make(case, out, extra):
    img = Image()
    if case == "good":
        img.image()
        write_tar(out, img.members())
    elif case == "dotdot":
        # a well-formed archive plus a member that climbs out of it
        img.image()
        write_tar(out, img.members() + [("../hs-escape.txt", b"escaped\n")])
    elif case == "empty":
        # a valid layout that holds nothing
        write_tar(out, img.members())
    elif case == "dotdot-index":
        # index.json only under a name that climbs out
        img.image()
        m = img.members()
        m[1] = ("blobs/../../index.json", m[1][1])
        write_tar(out, m)
    elif case == "absolute-shadow":
        # "/index.json" is index.json with its leading slash stripped: a second one
        img.image()
        m = img.members()
        write_tar(out, m + [("/index.json", b'{"schemaVersion":2,"manifests":[]}')])
    elif case == "duplicate":
        e = img.image()
        m = img.members()
        write_tar(out, m + [("blobs/sha256/" + e["digest"][7:], b"{}")])
    elif case in ("size-more", "size-less"):
        img.image(lie=10 if case == "size-more" else -10)
        write_tar(out, img.members())
    elif case == "truncated":
        big = os.urandom(300000)
        img.image(layer_raw=layer_tar([("big.bin", "file", big)]))
        write_tar(out, img.members())
        write_tar(out, img.members(), truncate=os.path.getsize(out) // 2)
    elif case == "index-not-json":
        img.image()
        write_tar(out, img.members(index_json=b"this is { not json"))
    elif case == "index-huge":
        img.image()
        pad = json.dumps({"schemaVersion": 2, "manifests": img.index, "pad": "x" * (5 << 20)}).encode()
        write_tar(out, img.members(index_json=pad))
    elif case == "manifest-huge":
        # a manifest of 5 MiB, its descriptor honest about it
        layer_raw = layer_tar([("hello.txt", "file", b"hello\n")])
        gz = gzip.compress(layer_raw, mtime=0)
        cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                          "rootfs": {"type": "layers", "diff_ids": [sha(layer_raw)]}}).encode()
        man = json.dumps({"schemaVersion": 2, "mediaType": MT_MAN,
                          "config": {"mediaType": MT_CFG, "digest": img.blob(cfg), "size": len(cfg)},
                          "layers": [{"mediaType": MT_GZ, "digest": img.blob(gz), "size": len(gz)}],
                          "annotations": {"pad": "x" * (5 << 20)}}).encode()
        img.entry(MT_MAN, man, "v1")
        write_tar(out, img.members())
    elif case in ("deep-index-json", "deeper-index-json"):
        n = 10000 if case == "deep-index-json" else 2000000
        img.image()
        body = b'{"schemaVersion":2,"manifests":[],"x":' + b"[" * n + b"]" * n + b"}"
        write_tar(out, img.members(index_json=body))
    elif case == "deep-manifest":
        # the manifest itself (digest honest) nested 10000 deep
        body = b'{"schemaVersion":2,"mediaType":"' + MT_MAN.encode() + b'","x":' + b"[" * 10000 + b"]" * 10000 + b"}"
        img.entry(MT_MAN, body, "v1")
        write_tar(out, img.members())
    elif case == "index-chain":
        # 20 indexes, each listing the next, the last one an image
        e = img.image(tag=None)
        img.index = []
        child = e
        for _ in range(20):
            body = json.dumps({"schemaVersion": 2, "mediaType": MT_IDX, "manifests": [child]}).encode()
            child = {"mediaType": MT_IDX, "digest": img.blob(body), "size": len(body)}
        child["annotations"] = {"org.opencontainers.image.ref.name": "v1"}
        img.index = [child]
        write_tar(out, img.members())
    elif case == "index-self":
        # blobs/sha256/F holds an index listing F: a cycle if digests were not checked
        img.image(tag=None)
        img.index = []
        forged = "sha256:" + "ab" * 32
        size = 0
        while True:  # the descriptor's size is the body's own length
            body = json.dumps({"schemaVersion": 2, "mediaType": MT_IDX,
                               "manifests": [{"mediaType": MT_IDX, "digest": forged, "size": size}]}).encode()
            if len(body) == size:
                break
            size = len(body)
        img.blobs[forged] = body
        top = json.dumps({"schemaVersion": 2, "mediaType": MT_IDX,
                          "manifests": [{"mediaType": MT_IDX, "digest": forged, "size": len(body)}]}).encode()
        img.entry(MT_IDX, top, "v1")
        write_tar(out, img.members())
    elif case.startswith("layer-"):
        # images whose layer escapes the output directory; the rest is well-formed
        sentinel = extra[0] if extra else "/nonexistent"
        kinds = {
            "layer-dotdot": [("ok.txt", "file", b"ok\n"), ("../hs-escape.txt", "file", b"x\n")],
            "layer-abs": [("ok.txt", "file", b"ok\n"), (sentinel + "/abs.txt", "file", b"x\n")],
            "layer-symlink": [("ok.txt", "file", b"ok\n"), ("link", "symlink", sentinel),
                              ("link/through.txt", "file", b"x\n")],
            "layer-symrel": [("ok.txt", "file", b"ok\n"), ("up", "symlink", "../../../.."),
                             ("up/through.txt", "file", b"x\n")],
            "layer-hardlink": [("ok.txt", "file", b"ok\n"), ("passwd", "hardlink", "/etc/passwd")],
            "layer-device": [("ok.txt", "file", b"ok\n"), ("null", "chr", None)],
        }
        img.image(layer_raw=layer_tar(kinds[case]))
        write_tar(out, img.members())
    elif case == "bomb":
        print(write_bomb_tar(out, int(extra[0]) if extra else 200))
    else:
        raise SystemExit("unknown case " + case)


# gen.py CASE OUT [ARG]: one tarball; gen.py batch ARG CASE...: CASE.tar for each
if sys.argv[1] == "batch":
    for c in sys.argv[3:]:
        make(c, c + ".tar", sys.argv[2:3])
else:
    make(sys.argv[1], sys.argv[2], sys.argv[3:])
PY
}

hs_py_fake() {
    cat <<'PY'
import hashlib, json, os, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# fake.py DIR: one server per mode, each on a port of its own; DIR/ports lists
# "MODE PORT" (written once all listen), DIR/MODE.log one line per request.
# fake.py digest: prints the digest of the manifest the servers hand out.
MT_MAN = "application/vnd.oci.image.manifest.v1+json"


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


# one small image: config, a layer, the manifest
CONFIG = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                     "rootfs": {"type": "layers", "diff_ids": ["sha256:" + "0" * 64]}}).encode()
LAYER = b"layer bytes " * 100
BAD_LAYER = b"LAYER BYTES " * 100  # same size, other content
MANIFEST = json.dumps({"schemaVersion": 2, "mediaType": MT_MAN,
                       "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                  "digest": sha(CONFIG), "size": len(CONFIG)},
                       "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                                   "digest": sha(LAYER), "size": len(LAYER)}]}).encode()
OTHER = MANIFEST.replace(b'"schemaVersion": 2', b'"schemaVersion": 2 ')


if sys.argv[1] == "digest":
    print(sha(MANIFEST))
    sys.exit(0)
DIR = sys.argv[1]
MODES = ["token-target", "realm-redirect", "bad-auth:unterminated", "bad-auth:file-realm",
         "bad-auth:no-realm", "bad-auth:garbage", "huge-header", "huge-header-manifest",
         "endless-manifest", "wrong-manifest", "wrong-blob"]
PORTS = {}

BAD_CHALLENGES = {
    "unterminated": 'Bearer realm="http://127.0.0.1:1/t,service="x,scope',
    "file-realm": 'Bearer realm="file:///etc/passwd",service="x"',
    "no-realm": 'Bearer service="x"',
    "garbage": ',,==;;"\\',
}


def note(mode, line):
    with open(os.path.join(DIR, mode + ".log"), "a") as f:
        f.write(line + "\n")


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send(self, code, body=b"", headers=()):
        try:
            self.send_inner(code, body, headers)
        except OSError:
            pass

    def send_inner(self, code, body, headers):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        p, mode, port = self.path, self.mode, PORTS[self.mode]
        note(mode, "%s %s auth=%s" % (self.command, p, self.headers.get("Authorization", "-")))
        if mode == "token-target":
            # the server the realm redirects to: just says who asked
            return self.send(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}')
        if mode.startswith("bad-auth:"):
            # every request: 401 with a malformed challenge
            return self.send(401, b"{}", [("WWW-Authenticate", BAD_CHALLENGES[mode[9:]])])
        if p == "/v2/":
            if mode == "huge-header":
                return self.send(200, b"{}", [("X-Junk", "a" * (1 << 20))])
            if mode == "realm-redirect":
                auth = self.headers.get("Authorization", "")
                if auth.startswith("Bearer "):
                    return self.send(200, b"{}")
                return self.send(401, b"{}", [("WWW-Authenticate", 'Bearer realm="http://127.0.0.1:%d/token",service="fake"' % port)])
            return self.send(200, b"{}")
        if p.startswith("/token"):
            # the realm answers with a redirect to another port
            return self.send(307, b"", [("Location", "http://127.0.0.1:%d/token2" % PORTS["token-target"])])
        if mode == "realm-redirect":
            return self.send(401, b"{}", [("WWW-Authenticate", 'Bearer realm="http://127.0.0.1:%d/token",service="fake",scope="repository:x/app:pull"' % port)])
        if "/manifests/" in p:
            if mode == "huge-header-manifest":
                return self.send(200, MANIFEST, [("Content-Type", MT_MAN), ("X-Junk", "a" * (1 << 20))])
            if mode == "endless-manifest":
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", MT_MAN)
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(b'{"schemaVersion":2,"x":"')
                    chunk = b"x" * 65536
                    while True:
                        self.wfile.write(chunk)
                except OSError:
                    return
            if mode == "wrong-manifest":
                # whatever is asked for, another document comes back
                return self.send(200, OTHER, [("Content-Type", MT_MAN), ("Docker-Content-Digest", p.rsplit("/", 1)[1])])
            return self.send(200, MANIFEST, [("Content-Type", MT_MAN), ("Docker-Content-Digest", sha(MANIFEST))])
        if "/blobs/" in p:
            d = p.rsplit("/", 1)[1]
            if d == sha(CONFIG):
                return self.send(200, CONFIG)
            if d == sha(LAYER):
                return self.send(200, BAD_LAYER if mode == "wrong-blob" else LAYER)
            return self.send(404, b'{"errors":[{"code":"BLOB_UNKNOWN"}]}')
        return self.send(404, b'{"errors":[{"code":"NOT_FOUND"}]}')


class S(ThreadingHTTPServer):
    daemon_threads = True


servers = []
for m in MODES:
    srv = S(("127.0.0.1", 0), type("H_" + m, (H,), {"mode": m}))
    PORTS[m] = srv.server_address[1]
    servers.append(srv)
with open(os.path.join(DIR, "ports.tmp"), "w") as f:
    for m in MODES:
        f.write("%s %d\n" % (m, PORTS[m]))
os.rename(os.path.join(DIR, "ports.tmp"), os.path.join(DIR, "ports"))
for srv in servers[1:]:
    threading.Thread(target=srv.serve_forever, daemon=True).start()
servers[0].serve_forever()
PY
}

# ---------- OCI tarballs given to push, copy, pull and verify ----------

# hs_tar_refused CASE PATTERN [PULL_PATTERN]: CASE.tar (made by hs_make) is
# refused by verify (the problem on stdout when the error is a count), push
# --tar, copy --tar --to-repo and pull --tar; the registry holds no tag of it.
hs_tar_refused() {
    local c=$1 pat=$2 pull_pat=${3:-$2}
    if [ "$c" != empty ]; then
        hs_snap > "$T.before"
        if imgpkg verify --tar "$c.tar" > "$T.verify" 2> "$T.verify.err"; then
            fail "verify accepted $c.tar: $(cat "$T.verify")"
        fi
        error_joined "$(cat "$T.verify.err")" > "$T.verify.msg" || fail "verify $c: $(cat "$T.verify.err")"
        grep -Eq -- "$pat" "$T.verify.msg" "$T.verify" ||
            fail "verify $c: '$pat' in neither $(cat "$T.verify.err" "$T.verify")"
        hs_snap > "$T.after"
        cmp -s "$T.before" "$T.after" || fail "verify $c changed files"
        HS_N=$((HS_N + 1))
    fi
    hs_refused "$pat" imgpkg push --tar "$c.tar" -i "$REG_ADDR/hs/$c:v1"
    hs_refused "$pat" imgpkg copy --tar "$c.tar" --to-repo "$REG_ADDR/hs/c-$c"
    hs_refused "$pull_pat" imgpkg pull --tar "$c.tar" -o out
    hs_untagged "hs/$c"
    hs_untagged "hs/c-$c"
}

test_hostile_tar_names_and_members() {
    hs_setup
    hs_make batch "" good dotdot dotdot-index absolute-shadow duplicate size-more size-less truncated empty
    # the well-formed one goes through (the generator is right)
    imgpkg verify --tar good.tar > /dev/null
    # a member that climbs out of the archive, and index.json only under such a name
    hs_tar_refused dotdot "entry '\.\./hs-escape\.txt' has a '\.\.' component"
    hs_tar_refused dotdot-index "entry 'blobs/\.\./\.\./index\.json' has a '\.\.' component"
    # "/index.json" is index.json with the slash stripped: a second one, refused
    hs_tar_refused absolute-shadow "duplicate entry 'index\.json'"
    hs_tar_refused duplicate "duplicate entry 'blobs/sha256/[0-9a-f]{64}'"
    # the layer blob is 10 bytes shorter, then longer, than its descriptor says
    hs_tar_refused size-more "size is [0-9]+ bytes, descriptor states [0-9]+"
    hs_tar_refused size-less "more than the [0-9]+ bytes its descriptor states"
    hs_tar_refused truncated "is not a valid tar file"
    # a valid layout that holds no image (pull used to crash on it)
    hs_tar_refused empty "holds no image"
    assert_eq 31 "$HS_N" "refusals"
}

test_hostile_tar_json() {
    hs_setup
    hs_make batch "" index-not-json index-huge manifest-huge deep-index-json deeper-index-json \
        deep-manifest index-chain index-self
    hs_tar_refused index-not-json "index\.json: invalid JSON"
    hs_tar_refused index-huge "index\.json is larger than 4194304 bytes"
    hs_tar_refused manifest-huge "(over the 4194304 byte limit|more than 4194304 bytes)"
    # 10000 deep, and 2000000 deep (4 MB of brackets: a tree that deep would
    # be freed recursively, past the end of the stack)
    hs_tar_refused deep-index-json "index\.json: invalid JSON: nested more than [0-9]+ deep"
    hs_tar_refused deeper-index-json "index\.json: invalid JSON: nested more than [0-9]+ deep"
    hs_tar_refused deep-manifest "invalid JSON: nested more than [0-9]+ deep"
    # 20 indexes each listing the next (pull looks for a platform image in the first)
    hs_tar_refused index-chain "indexes nested more than 16 deep" "index without a linux/amd64 image"
    # blobs/sha256/F holds an index that lists F: a loop if digests were
    # trusted (a true cycle cannot be made: an index would hold its own digest)
    hs_tar_refused index-self "sha256:(ab){32}.*content has digest sha256:[0-9a-f]{64}" \
        "index without a linux/amd64 image"
    assert_eq 32 "$HS_N" "refusals"
}

# ---------- layers that escape the output directory of pull ----------

test_hostile_pull_escaping_layers() {
    hs_setup
    mkdir -p work/deep
    local c pat
    hs_make batch "$HS_SENT" layer-dotdot layer-abs layer-symlink layer-symrel layer-hardlink layer-device
    for c in layer-dotdot layer-abs layer-symlink layer-symrel layer-hardlink layer-device; do
        case $c in
        layer-dotdot) pat="entry '\.\./hs-escape\.txt': name has a '\.\.' component" ;;
        layer-abs) pat="entry '$HS_SENT/abs\.txt': absolute name" ;;
        layer-symlink) pat="entry 'link': symlink with an absolute target \('$HS_SENT'\)" ;;
        layer-symrel) pat="entry 'up': symlink target leaves the directory" ;;
        layer-hardlink) pat="entry 'passwd': hardlink to '/etc/passwd', outside the directory" ;;
        layer-device) pat="entry 'null': character devices are not extracted" ;;
        esac
        # well-formed images: only extraction may refuse them
        imgpkg verify --tar "$c.tar" > /dev/null
        mkdir "$c.layout"
        tar -xf "$c.tar" -C "$c.layout"
        imgpkg push --tar "$c.tar" -i "$REG_ADDR/hs/$c:v1" > /dev/null
        hs_refused "$pat" imgpkg pull --tar "$c.tar" -o work/deep/out
        hs_refused "$pat" imgpkg pull --oci-layout "$c.layout" -o work/deep/out
        hs_refused "$pat" imgpkg pull -i "$REG_ADDR/hs/$c:v1" -o work/deep/out
    done
    assert_eq "" "$(ls -A work/deep)" "work/deep after the refused pulls"
    assert_eq "keep.txt" "$(ls -A "$HS_SENT")" "the sentinel directory"
    assert_eq "1" "$(stat -c %h /etc/passwd)" "links to /etc/passwd"
    assert_eq 18 "$HS_N" "refusals"
}

test_hostile_gzip_bomb() {
    hs_setup
    # 200 MiB of zeros in a layer of ~200 KiB
    size=$(hs_make bomb bomb.tar 200)
    [ "$size" -lt 300000 ] || fail "the compressed layer is $size bytes"
    hs_rss "$T.rss" "$IMGPKG" verify --tar bomb.tar > /dev/null
    hs_rss_below "$T.rss" 64
    hs_snap > "$T.before"
    hs_rss "$T.rss" "$IMGPKG" pull --tar bomb.tar -o out > /dev/null
    hs_rss_below "$T.rss" 64
    assert_eq "$((200 << 20))" "$(stat -c %s out/zeros.bin)" "size of the extracted file"
    hs_changed_only "$T/out"
    rm -rf out
    # the same through a registry
    imgpkg push --tar bomb.tar -i "$REG_ADDR/hs/bomb:v1" > /dev/null
    hs_snap > "$T.before"
    hs_rss "$T.rss" "$IMGPKG" pull -i "$REG_ADDR/hs/bomb:v1" -o out > /dev/null
    hs_rss_below "$T.rss" 64
    assert_eq "$((200 << 20))" "$(stat -c %s out/zeros.bin)" "size of the extracted file"
    hs_changed_only "$T/out"
    rm -rf out
}

# ---------- images.yml of save -b ----------

# hs_bundle DIR: a bundle folder whose images.yml is read from stdin.
hs_bundle() {
    rm -rf "$1"
    mkdir -p "$1/.imgpkg"
    echo x > "$1/file.txt"
    cat > "$1/.imgpkg/images.yml"
}

# hs_laughs WHERE: a "billion laughs" images.yml: 12 levels of 9 aliases each
# (9^12 strings if expanded), used as the image (WHERE=image), as annotations
# (annotations) or under an unknown top-level key (top).
hs_laughs() {
    local l i prev cur
    echo "apiVersion: imgpkg.carvel.dev/v1alpha1"
    echo "kind: ImagesLock"
    echo 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'
    prev=a
    for cur in b c d e f g h i j k l; do
        l="*$prev"
        for i in 2 3 4 5 6 7 8 9; do l="$l,*$prev"; done
        echo "$cur: &$cur [$l]"
        prev=$cur
    done
    [ "$1" != top ] || echo "bomb: *l"
    echo "images:"
    if [ "$1" = image ]; then
        echo "- image: *l"
    else
        echo "- image: registry.example.com/app@sha256:$(printf '5b%.0s' $(seq 1 32))"
    fi
    [ "$1" != annotations ] || echo "  annotations: *l"
}

test_hostile_images_yml() {
    hs_setup
    mkdir dst
    printf 'this: is: [not yaml\n  - {\n' | hs_bundle b
    hs_refused "images\.yml: invalid YAML: mapping values are not allowed" \
        imgpkg save -b example.com/b:v1 -f b --to-tar dst/out.tar
    printf '\001\002binary\000' | hs_bundle b
    hs_refused "images\.yml: invalid YAML: control characters are not allowed" \
        imgpkg save -b example.com/b:v1 -f b --to-tar dst/out.tar
    # alias bombs: never expanded, refused where a string or a mapping
    # belongs, in little time and memory
    hs_laughs image | hs_bundle b
    hs_refused "images\.yml: images\[0\] has no image" \
        hs_rss "$T.rss" timeout 20 "$IMGPKG" save -b example.com/b:v1 -f b --to-tar dst/out.tar
    hs_rss_below "$T.rss" 64
    hs_laughs annotations | hs_bundle b
    hs_refused "images\.yml: images\[0\]\.annotations must be a mapping" \
        hs_rss "$T.rss" timeout 20 "$IMGPKG" save -b example.com/b:v1 -f b --to-tar dst/out.tar
    hs_rss_below "$T.rss" 64
    # under a key nobody reads it is harmless: the bundle is saved
    hs_laughs top | hs_bundle b
    hs_snap > "$T.before"
    hs_rss "$T.rss" timeout 20 "$IMGPKG" save -b example.com/b:v1 -f b --to-tar dst/out.tar > /dev/null
    hs_rss_below "$T.rss" 64
    hs_changed_only "$T/dst/out.tar"
    imgpkg verify --tar dst/out.tar > /dev/null
    assert_eq 4 "$HS_N" "refusals"
}

# ---------- references ----------

test_hostile_references() {
    hs_setup
    mkdir dst
    hs_bundle b <<'YAML'
apiVersion: imgpkg.carvel.dev/v1alpha1
kind: ImagesLock
images: []
YAML
    hs_make good good.tar
    long=$(printf 'a%.0s' $(seq 1 300))
    hs_refused "repository must be lowercase" imgpkg save -b 'upper/CASE' -f b --to-tar dst/out.tar
    hs_refused "invalid reference 'a b': bad character" imgpkg save -b 'a b' -f b --to-tar dst/out.tar
    hs_refused "invalid digest 'sha256:short'" imgpkg save -b 'x@sha256:short' -f b --to-tar dst/out.tar
    hs_refused "name too long" imgpkg save -b "$long" -f b --to-tar dst/out.tar
    hs_refused "bad tag" imgpkg save -b "example.com/x:$(printf 't%.0s' $(seq 1 129))" -f b --to-tar dst/out.tar
    hs_refused "--to-repo: invalid reference 'http://x'" imgpkg copy --tar good.tar --to-repo 'http://x'
    hs_refused "invalid digest 'sha256:short'" imgpkg pull -i "$REG_ADDR/x@sha256:short" -o out
    assert_eq "" "$(ls -A dst)" "dst after the refused saves"
    # an upper-case first component is a registry host, as Docker reads it
    imgpkg save -b 'UPPER/case' -f b --to-tar dst/upper.tar > /dev/null
    assert_contains "$(tar -xOf dst/upper.tar index.json)" '"io.containerd.image.name":"UPPER/case:latest"'
    assert_eq 7 "$HS_N" "refusals"
}

# ---------- fake registries ----------

test_hostile_http_headers() {
    hs_setup
    hs_fakes
    local v pat port
    # 401 with a malformed challenge, on every request
    for v in unterminated garbage file-realm no-realm; do
        case $v in
        unterminated | garbage) pat="unexpected status code 401 Unauthorized" ;;
        file-realm) pat="token realm is not an http\(s\) URL" ;;
        no-realm) pat="asked for a bearer token without a realm" ;;
        esac
        port=$(hs_port "bad-auth:$v")
        hs_refused "$pat" imgpkg copy -i "127.0.0.1:$port/x/app:v1" --to-tar out.tar --registry-retry-count 1
        hs_refused "$pat" imgpkg pull -i "127.0.0.1:$port/x/app:v1" -o out --registry-insecure \
            --registry-username u --registry-password p --registry-retry-count 1
    done
    # a header line of 1 MB, on /v2/ and on a manifest
    port=$(hs_port huge-header)
    hs_refused "GET http://127\.0\.0\.1:$port/v2/: response headers over 65536 bytes" \
        imgpkg copy -i "127.0.0.1:$port/x/app:v1" --to-tar out.tar
    port=$(hs_port huge-header-manifest)
    hs_refused "manifest v1 in 127\.0\.0\.1:$port/x/app: GET 127\.0\.0\.1:$port: response headers over 65536 bytes" \
        imgpkg pull -i "127.0.0.1:$port/x/app:v1" -o out --registry-insecure
    hs_stop_fakes
    assert_eq 10 "$HS_N" "refusals"
}

test_hostile_http_bodies() {
    hs_setup
    hs_fakes
    local port d
    # a manifest that never ends: given up at 4 MiB, in little time and memory
    port=$(hs_port endless-manifest)
    start=$(date +%s)
    hs_refused "response body over 4194304 bytes" hs_rss "$T.rss" timeout 20 "$IMGPKG" copy \
        -i "127.0.0.1:$port/x/app:v1" --to-tar out.tar --registry-response-header-timeout 2s
    hs_rss_below "$T.rss" 64
    secs=$(( $(date +%s) - start ))
    [ "$secs" -lt 10 ] || fail "took ${secs}s to give up on an endless manifest"

    # a manifest asked for by digest, another one sent
    port=$(hs_port wrong-manifest)
    d=$(python3 "$(hs_py fake)" digest)
    hs_refused "manifest $d from 127\.0\.0\.1:$port/x/app: the registry sent content with digest sha256:" \
        imgpkg copy -i "127.0.0.1:$port/x/app@$d" --to-tar out.tar --registry-retry-count 1
    hs_refused "the registry sent content with digest sha256:" \
        imgpkg pull -i "127.0.0.1:$port/x/app@$d" -o out --registry-retry-count 1

    # a layer whose content has another digest: no tarball, nothing staged under a wrong name
    port=$(hs_port wrong-blob)
    hs_snap > "$T.before"
    expect_fail "blob sha256:[0-9a-f]{64} from 127\.0\.0\.1:$port/x/app: content has digest sha256:" \
        imgpkg copy -i "127.0.0.1:$port/x/app:v1" --to-tar out.tar --registry-retry-count 1
    assert_file_absent out.tar
    # only the staging directory kept for --resume is new
    hs_changed_only "$T/\.out\.tar\.imgpkg-partial"
    for f in .out.tar.imgpkg-partial/blobs/sha256/*; do
        [ -f "$f" ] || continue
        assert_eq "$(basename "$f")" "$(sha256sum < "$f" | cut -c1-64)" "staged blob"
    done
    rm -rf .out.tar.imgpkg-partial
    hs_refused "content has digest sha256:" \
        imgpkg pull -i "127.0.0.1:$port/x/app:v1" -o out --registry-retry-count 1
    hs_stop_fakes
    assert_eq 4 "$HS_N" "refusals"
}

test_hostile_http_token_realm_redirect() {
    hs_setup
    hs_fakes
    # the realm answers 307 to another port, where a server notes who asks
    port=$(hs_port realm-redirect)
    other=$(hs_port token-target)
    hs_refused "token from http://127\.0\.0\.1:$port/token" \
        imgpkg copy -i "127.0.0.1:$port/x/app:v1" --to-tar out.tar \
        --registry-username someone --registry-password secret --registry-retry-count 1
    # the credentials went to the realm the registry named, and nowhere else
    grep -q "^GET /token?.* auth=Basic " "$T.fake/realm-redirect.log" ||
        fail "no token request with credentials: $(cat "$T.fake/realm-redirect.log")"
    if [ -f "$T.fake/token-target.log" ] && grep -v ' auth=-$' "$T.fake/token-target.log"; then
        fail "the Authorization header was forwarded to port $other"
    fi
    hs_stop_fakes
}
