# t-imgpkg-errors.sh - registry errors in the real imgpkg's words: the
# distribution API's JSON errors as "CODE: message; detail", other bodies as
# "unexpected status code N Text: body", a missing repository, tag or digest,
# a registry that is down or never answers, an unknown IMGPKG_ACTIVE_KEYCHAINS
# name (refused before any network).  Each message is asserted whole; with
# IMGPKG_PEER naming the real imgpkg, its message for the same run is
# asserted equal too.

# ie_norm: an error as one line (imgpkg's nested form "A:\n  B" joined as "A: B").
ie_norm() {
    python3 -c '
import sys
lines = sys.stdin.read().rstrip("\n").split("\n")
out = lines[0]
for l in lines[1:]:
    out += " " + l.lstrip(" ")
print(out)'
}

# ie_expect MESSAGE CMD...: CMD (run with our imgpkg, then the peer's when
# IMGPKG_PEER is set) fails, its stderr being exactly MESSAGE.
ie_expect() {
    local want=$1 got rc bin
    shift
    for bin in "$IMGPKG" ${IMGPKG_PEER:+"$IMGPKG_PEER"}; do
        rc=0
        got=$("$bin" "$@" 2>&1 >/dev/null | ie_norm) || true
        "$bin" "$@" > /dev/null 2>&1 || rc=$?
        [ "$rc" = 1 ] || fail "$bin $*: exit status $rc, expected 1"
        assert_eq "$want" "$got" "stderr of $bin $*"
    done
}

# ie_expect_sed SED MESSAGE CMD...: ie_expect with SED applied to the error
# first (what differs between runs or builds: a digest, a local port).
ie_expect_sed() {
    local sed_expr=$1 want=$2 got rc bin
    shift 2
    for bin in "$IMGPKG" ${IMGPKG_PEER:+"$IMGPKG_PEER"}; do
        rc=0
        got=$("$bin" "$@" 2>&1 >/dev/null | ie_norm | sed -E "$sed_expr") || true
        "$bin" "$@" > /dev/null 2>&1 || rc=$?
        [ "$rc" = 1 ] || fail "$bin $*: exit status $rc, expected 1"
        assert_eq "$want" "$got" "stderr of $bin $*"
    done
}

# ie_expect_any_digest MESSAGE CMD...: every sha256 digest read as sha256:X
# (what a build makes differs from imgpkg's here).
ie_expect_any_digest() {
    ie_expect_sed 's/sha256:[0-9a-f]{64}/sha256:X/g' "$@"
}

# ie_fake: a fake registry on 127.0.0.1 ($IE_PORT) whose answer depends on
# the repository's first component; every connection noted in $T/fake.log.
ie_fake() {
    cat > "$T/fake.py" <<'PY'
import http.server, json, socketserver, sys
log = open(sys.argv[2], "a", buffering=1)
def errs(*entries):
    return json.dumps({"errors": list(entries)}).encode()
ANSWERS = {
    "text": (400, "text/plain", b"bad thing happened"),
    "empty": (403, None, b""),
    "html": (502, "text/html", b"<html><body>Bad Gateway</body></html>"),
    "badjson": (404, "application/json", b"{not json"),
    "multi": (404, "application/json", errs(
        {"code": "MANIFEST_UNKNOWN", "message": "manifest unknown"},
        {"code": "NAME_UNKNOWN", "message": "no such repo", "detail": "x"})),
    "nested": (404, "application/json", errs(
        {"code": "X_ERR", "message": "m",
         "detail": {"b": [1, 2.5, "s", None, True], "a": {"z": 1e21, "y": "q", "w": 1234567}, "c": []}})),
    "denied": (403, "application/json", errs(
        {"code": "DENIED", "message": "requested access to the resource is denied", "detail": None})),
}
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def send(self, code, ctype, body):
        self.send_response(code)
        if ctype:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
    def do_HEAD(self):
        self.do_GET()
    def do_POST(self):
        log.write("%s %s\n" % (self.command, self.path))
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send(400, "application/json", errs({"code": "DENIED", "message": "uploads closed"}))
    def do_GET(self):
        log.write("%s %s\n" % (self.command, self.path))
        if self.path == "/v2/":
            return self.send(200, "application/json", b"{}")
        parts = self.path.split("/")
        self.send(*ANSWERS.get(parts[2] if len(parts) > 2 else "", (404, None, b"")))
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
S(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
    IE_PORT=$(free_port)
    python3 "$T/fake.py" "$IE_PORT" "$T/fake.log" 2> "$T/fake.err" &
    echo $! >> "$SUITE_TMP/pids"
    wait_port "$IE_PORT" || fail "the fake registry did not start: $(cat "$T/fake.err")"
}

test_imgpkg_errors_registry_json() {
    local r=$REG_ADDR
    make_files f
    imgpkg push -i "$r/ie/app:v1" -f f > /dev/null
    ie_expect "imgpkg: Error: Fetching image: GET http://$r/v2/ie/nope/manifests/v1: MANIFEST_UNKNOWN: manifest unknown; map[Tag:v1]" \
        pull -i "$r/ie/nope:v1" -o out
    ie_expect "imgpkg: Error: Fetching image: GET http://$r/v2/ie/app/manifests/v2: MANIFEST_UNKNOWN: manifest unknown; map[Tag:v2]" \
        pull -i "$r/ie/app:v2" -o out
    local d=sha256:$(printf '0%.0s' $(seq 1 64))
    ie_expect "imgpkg: Error: Fetching image: GET http://$r/v2/ie/app/manifests/$d: MANIFEST_UNKNOWN: manifest unknown; map[Name:ie/app Revision:$d]" \
        pull -i "$r/ie/app@$d" -o out
    ie_expect "imgpkg: Error: Fetching image: GET http://$r/v2/ie/nope/manifests/v1: MANIFEST_UNKNOWN: manifest unknown; map[Tag:v1]" \
        copy -i "$r/ie/nope:v1" --to-tar out.tar
    ie_expect "imgpkg: Error: GET http://$r/v2/ie/nope/tags/list?n=1000: NAME_UNKNOWN: repository name not known to registry; map[name:ie/nope]" \
        tag list -i "$r/ie/nope"
    assert_file_absent out
    assert_file_absent out.tar
}

test_imgpkg_errors_other_bodies() {
    ie_fake
    local u="http://127.0.0.1:$IE_PORT/v2"
    ie_expect "imgpkg: Error: Fetching image: GET $u/text/x/manifests/v1: unexpected status code 400 Bad Request: bad thing happened" \
        pull -i "127.0.0.1:$IE_PORT/text/x:v1" -o out
    ie_expect "imgpkg: Error: Fetching image: GET $u/empty/x/manifests/v1: unexpected status code 403 Forbidden" \
        pull -i "127.0.0.1:$IE_PORT/empty/x:v1" -o out
    ie_expect "imgpkg: Error: Fetching image: GET $u/html/x/manifests/v1: unexpected status code 502 Bad Gateway: <html><body>Bad Gateway</body></html>" \
        pull -i "127.0.0.1:$IE_PORT/html/x:v1" -o out --registry-retry-count 0
    ie_expect "imgpkg: Error: Fetching image: GET $u/badjson/x/manifests/v1: unexpected status code 404 Not Found: {not json" \
        pull -i "127.0.0.1:$IE_PORT/badjson/x:v1" -o out
    ie_expect "imgpkg: Error: Fetching image: GET $u/multi/x/manifests/v1: multiple errors returned: MANIFEST_UNKNOWN: manifest unknown; NAME_UNKNOWN: no such repo; x" \
        pull -i "127.0.0.1:$IE_PORT/multi/x:v1" -o out
    ie_expect "imgpkg: Error: Fetching image: GET $u/nested/x/manifests/v1: X_ERR: m; map[a:map[w:1.234567e+06 y:q z:1e+21] b:[1 2.5 s <nil> true] c:[]]" \
        pull -i "127.0.0.1:$IE_PORT/nested/x:v1" -o out
    ie_expect "imgpkg: Error: Fetching image: GET $u/denied/x/manifests/v1: DENIED: requested access to the resource is denied" \
        pull -i "127.0.0.1:$IE_PORT/denied/x:v1" -o out
    ie_expect "imgpkg: Error: GET $u/text/x/tags/list?n=1000: unexpected status code 400 Bad Request: bad thing happened" \
        tag list -i "127.0.0.1:$IE_PORT/text/x"
    assert_file_absent out
}

test_imgpkg_errors_registry_down() {
    local port
    port=$(free_port)
    ie_expect "imgpkg: Error: Fetching image: Error while preparing a transport to talk with the registry: Unable to create round tripper: Get \"https://127.0.0.1:$port/v2/\": dial tcp 127.0.0.1:$port: connect: connection refused; Get \"http://127.0.0.1:$port/v2/\": dial tcp 127.0.0.1:$port: connect: connection refused" \
        pull -i "127.0.0.1:$port/x/app:v1" -o out
    ie_expect "imgpkg: Error: Error while preparing a transport to talk with the registry: Unable to create round tripper: Get \"https://127.0.0.1:$port/v2/\": dial tcp 127.0.0.1:$port: connect: connection refused; Get \"http://127.0.0.1:$port/v2/\": dial tcp 127.0.0.1:$port: connect: connection refused" \
        tag list -i "127.0.0.1:$port/x/app"
}

test_imgpkg_errors_response_header_timeout() {
    # accepts connections and never answers: the TLS handshake (https is
    # tried first) and then plain http time out
    cat > "$T/silent.py" <<'PY'
import socket, sys, threading
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(50)
def hold(c):
    try:
        while c.recv(65536):
            pass
    except OSError:
        pass
while True:
    c, _ = s.accept()
    threading.Thread(target=hold, args=(c,), daemon=True).start()
PY
    local port start secs got
    port=$(free_port)
    python3 "$T/silent.py" "$port" &
    echo $! >> "$SUITE_TMP/pids"
    wait_port "$port" || fail "the silent server did not start"
    start=$(date +%s)
    got=$(imgpkg pull -i "127.0.0.1:$port/x/app:v1" -o out --registry-response-header-timeout 2s 2>&1 | ie_norm) || true
    secs=$(( $(date +%s) - start ))
    # (the real imgpkg takes ~40 s here: it is not run)
    assert_eq "imgpkg: Error: Fetching image: Error while preparing a transport to talk with the registry: Unable to create round tripper: Get \"https://127.0.0.1:$port/v2/\": net/http: TLS handshake timeout; Get \"http://127.0.0.1:$port/v2/\": net/http: timeout awaiting response headers" \
        "$got" "error for a registry that never answers"
    [ "$secs" -lt 30 ] || fail "took ${secs}s"
    assert_file_absent out
}

test_imgpkg_errors_unknown_keychain() {
    ie_fake
    make_files f
    local v
    for v in "foo" "gke,foo" " github , foo" "github,"; do
        local name=${v##*,}
        name=${name# }
        name=${name% }
        IMGPKG_ACTIVE_KEYCHAINS=$v ie_expect "imgpkg: Error: Creating registry keychain: Unable to load keychain for $name, available keychains [aks, ecr, gke, github]" \
            pull -i "127.0.0.1:$IE_PORT/x/app:v1" -o out
        IMGPKG_ACTIVE_KEYCHAINS=$v ie_expect "imgpkg: Error: Creating registry keychain: Unable to load keychain for $name, available keychains [aks, ecr, gke, github]" \
            tag list -i "127.0.0.1:$IE_PORT/x/app"
    done
    # checked before any network: the registry saw nothing
    [ ! -s "$T/fake.log" ] || fail "requests were sent: $(cat "$T/fake.log")"
    # known names, spaces around them, or nothing at all: no error
    IMGPKG_ACTIVE_KEYCHAINS=" github ,gke,ecr,aks" imgpkg tag list -i "127.0.0.1:$IE_PORT/empty/x" > /dev/null 2>&1 || true
    [ -s "$T/fake.log" ] || fail "known keychains refused"
}

test_imgpkg_errors_unknown_ca() {
    ra_tls
    local got a=$RA_TLS_ADDR
    got=$(imgpkg pull -i "$a/auth/x:v1" -o out 2>&1 | ie_norm) || true
    # (the plain http fallback's body ends with a newline, which imgpkg prints as is)
    assert_eq "imgpkg: Error: Fetching image: Error while preparing a transport to talk with the registry: Unable to create round tripper: Get \"https://$a/v2/\": x509: certificate signed by unknown authority; GET http://$a/v2/: unexpected status code 400 Bad Request: Client sent an HTTP request to an HTTPS server." \
        "$(printf '%s' "$got" | sed 's/ *$//')" "error for a CA not trusted"
}

test_imgpkg_errors_push() {
    ie_fake
    make_files f
    local port
    ie_expect_any_digest "imgpkg: Error: Writing '127.0.0.1:$IE_PORT/empty/x:v1': Writing image: HEAD http://127.0.0.1:$IE_PORT/v2/empty/x/blobs/sha256:X: unexpected status code 403 Forbidden (HEAD responses have no body, use GET for details)" \
        push -i "127.0.0.1:$IE_PORT/empty/x:v1" -f f --registry-retry-count 0
    ie_expect_any_digest "imgpkg: Error: Writing '127.0.0.1:$IE_PORT/empty/x:latest': Writing image: HEAD http://127.0.0.1:$IE_PORT/v2/empty/x/blobs/sha256:X: unexpected status code 403 Forbidden (HEAD responses have no body, use GET for details)" \
        push -i "127.0.0.1:$IE_PORT/empty/x" -f f --registry-retry-count 0
    ie_expect "imgpkg: Error: Writing '127.0.0.1:$IE_PORT/up/x:v1': Writing image: POST http://127.0.0.1:$IE_PORT/v2/up/x/blobs/uploads/: DENIED: uploads closed" \
        push -i "127.0.0.1:$IE_PORT/up/x:v1" -f f --registry-retry-count 0
    port=$(free_port)
    ie_expect "imgpkg: Error: Writing '127.0.0.1:$port/x/app:v1': Error while preparing a transport to talk with the registry: Unable to create round tripper: Get \"https://127.0.0.1:$port/v2/\": dial tcp 127.0.0.1:$port: connect: connection refused; Get \"http://127.0.0.1:$port/v2/\": dial tcp 127.0.0.1:$port: connect: connection refused" \
        push -i "127.0.0.1:$port/x/app:v1" -f f
}

test_imgpkg_errors_describe() {
    local r=$REG_ADDR port
    ie_expect "imgpkg: Error: Unable to check if $r/ie/nope:v1 is a bundle: Fetching image: GET http://$r/v2/ie/nope/manifests/v1: MANIFEST_UNKNOWN: manifest unknown; map[Tag:v1]" \
        describe -b "$r/ie/nope:v1"
    port=$(free_port)
    ie_expect "imgpkg: Error: Unable to check if 127.0.0.1:$port/x/b:v1 is a bundle: Fetching image: Error while preparing a transport to talk with the registry: Unable to create round tripper: Get \"https://127.0.0.1:$port/v2/\": dial tcp 127.0.0.1:$port: connect: connection refused; Get \"http://127.0.0.1:$port/v2/\": dial tcp 127.0.0.1:$port: connect: connection refused" \
        describe -b "127.0.0.1:$port/x/b:v1"
}

test_imgpkg_errors_iaas_auth_variable() {
    local r=$REG_ADDR out
    make_files f
    imgpkg push -i "$r/ie/iaas:v1" -f f > /dev/null
    # set, whatever its value: imgpkg's notice on stdout; true turns every
    # keychain on (IMGPKG_ACTIVE_KEYCHAINS is not read then)
    out=$(IMGPKG_ENABLE_IAAS_AUTH=true IMGPKG_ACTIVE_KEYCHAINS=foo imgpkg tag list -i "$r/ie/iaas")
    assert_eq "IMGPKG_ENABLE_IAAS_AUTH environment variable will be deprecated, please use the flag --activate-keychain to activate the needed keychains" \
        "$(printf '%s\n' "$out" | head -1)" "notice"
    assert_eq "" "$(printf '%s\n' "$out" | sed -n 2p)" "line after the notice"
    IMGPKG_ENABLE_IAAS_AUTH=false IMGPKG_ACTIVE_KEYCHAINS=foo ie_expect "imgpkg: Error: Creating registry keychain: Unable to load keychain for foo, available keychains [aks, ecr, gke, github]" \
        tag list -i "$r/ie/iaas"
}

test_imgpkg_errors_tag_resolve() {
    local r=$REG_ADDR
    ie_expect "imgpkg: Error: GET http://$r/v2/ie/nope/manifests/v1: MANIFEST_UNKNOWN: manifest unknown; map[Tag:v1]" \
        tag resolve -i "$r/ie/nope:v1"
}

test_imgpkg_errors_manifest_timeout() {
    # /v2/ answers; a manifest never does
    cat > "$T/stall.py" <<'PY'
import http.server, socketserver, sys, time
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def do_GET(self):
        if self.path == "/v2/":
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")
            return
        time.sleep(60)
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
S(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
    local port
    port=$(free_port)
    python3 "$T/stall.py" "$port" &
    echo $! >> "$SUITE_TMP/pids"
    wait_port "$port" || fail "the stalling server did not start"
    ie_expect "imgpkg: Error: Fetching image: Get \"http://127.0.0.1:$port/v2/x/app/manifests/v1\": net/http: timeout awaiting response headers" \
        pull -i "127.0.0.1:$port/x/app:v1" -o out --registry-response-header-timeout 1s --registry-retry-count 0
}

test_imgpkg_errors_connection_reset() {
    # /v2/ answers; a manifest's connection is reset
    cat > "$T/reset.py" <<'PY'
import socket, struct, sys, threading
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(50)
def serve(c):
    data = b""
    while True:
        while b"\r\n\r\n" not in data:
            d = c.recv(65536)
            if not d or d[:1] == b"\x16":  # gone, or a TLS handshake: no https here
                c.close()
                return
            data += d
        head, data = data.split(b"\r\n\r\n", 1)
        if head.startswith(b"GET /v2/ "):
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
            continue
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.close()
        return
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
    local port
    port=$(free_port)
    python3 "$T/reset.py" "$port" &
    echo $! >> "$SUITE_TMP/pids"
    wait_port "$port" || fail "the resetting server did not start"
    ie_expect_sed 's/127\.0\.0\.1:[0-9]+->/127.0.0.1:PORT->/' \
        "imgpkg: Error: Fetching image: Get \"http://127.0.0.1:$port/v2/x/app/manifests/v1\": read tcp 127.0.0.1:PORT->127.0.0.1:$port: read: connection reset by peer" \
        pull -i "127.0.0.1:$port/x/app:v1" -o out --registry-retry-count 0
}

test_imgpkg_errors_copy() {
    local r=$REG_ADDR
    ie_fake
    make_files f
    imgpkg push -i "$r/ie/cp:v1" -f f > /dev/null
    ie_expect "imgpkg: Error: Fetching image: GET http://$r/v2/ie/nope/manifests/v1: MANIFEST_UNKNOWN: manifest unknown; map[Tag:v1]" \
        copy -i "$r/ie/nope:v1" --to-repo "$r/ie/dest"
    ie_expect "imgpkg: Error: Fetching image: GET http://$r/v2/ie/nope/manifests/v1: MANIFEST_UNKNOWN: manifest unknown; map[Tag:v1]" \
        copy -b "$r/ie/nope:v1" --to-tar out.tar
    ie_expect "imgpkg: Error: POST http://127.0.0.1:$IE_PORT/v2/up/dest/blobs/uploads/: DENIED: uploads closed" \
        copy -i "$r/ie/cp:v1" --to-repo "127.0.0.1:$IE_PORT/up/dest" --registry-retry-count 0
    assert_file_absent out.tar
}
