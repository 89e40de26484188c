# lib.sh - helpers for the integration tests (sourced by run.sh).
# Every test runs in its own temporary directory ($T) in a subshell with set -e.

# free_port: prints a TCP port free on 127.0.0.1
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# start_registry NAME [EXTRA_YAML [HTTP_YAML]]: starts Debian's docker-registry
# on 127.0.0.1, plain HTTP; sets ${NAME}_ADDR (host:port), ${NAME}_PID and
# ${NAME}_DIR.  EXTRA_YAML is appended to the top level of the config (auth:,
# ...); HTTP_YAML holds extra lines under http: (e.g. "  tls: {certificate: C,
# key: K}"), the registry then being checked over https (curl -k).
start_registry() {
    local name=$1 extra=${2:-} http_extra=${3:-} port dir scheme=http
    case $http_extra in *tls:*) scheme=https ;; esac
    port=$(free_port)
    dir=$(mktemp -d "$SUITE_TMP/registry-$name.XXXXXX")
    cat > "$dir/config.yml" <<YAML
version: 0.1
log: {level: error}
storage:
  filesystem: {rootdirectory: $dir/data}
  delete: {enabled: true}
http:
  addr: 127.0.0.1:$port
$http_extra
$extra
YAML
    docker-registry serve "$dir/config.yml" > "$dir/log" 2>&1 &
    local pid=$!
    for _ in $(seq 1 100); do
        if curl -sk -o /dev/null -w '%{http_code}' "$scheme://127.0.0.1:$port/v2/" 2>/dev/null | grep -q '^[24]'; then
            eval "${name}_ADDR=127.0.0.1:$port"
            eval "${name}_PID=$pid"
            eval "${name}_DIR=$dir"
            echo "$pid" >> "$SUITE_TMP/pids"
            return 0
        fi
        sleep 0.1
    done
    kill "$pid" 2>/dev/null
    echo "registry $name did not start:" >&2
    cat "$dir/log" >&2
    return 1
}

# wait_port PORT: waits (up to 10 s) until something listens on 127.0.0.1:PORT.
wait_port() {
    for _ in $(seq 1 100); do
        if python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$1" 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    fail "nothing listens on 127.0.0.1:$1"
}

fail() {
    echo "FAILED: $*" >&2
    exit 1
}

# skip REASON: ends the test as skipped (exit 77); run.sh counts it apart,
# never as passed.  Only for a missing optional peer (IMGPKG_PEER).
skip() {
    echo "SKIPPED: $*" >&2
    exit 77
}

# on_file_done COMMAND: COMMAND (one line, eval'd in run.sh's shell) runs
# once the tests of the calling test's file have run (or the suite ends, or
# is interrupted), the last registered first: for daemons a test file starts
# once and shares between its tests.
on_file_done() {
    echo "$*" >> "$SUITE_TMP/on-done.$TEST_FILE"
}

assert_eq() { # expected actual [what]
    [ "$1" = "$2" ] || fail "${3:-value}: expected '$1', got '$2'"
}

assert_contains() { # haystack needle [what]
    case "$1" in *"$2"*) ;; *) fail "${3:-output} does not contain '$2': $1" ;; esac
}

assert_file_absent() {
    [ ! -e "$1" ] || fail "'$1' should not exist"
}

# error_joined TEXT: checks that TEXT (the stderr of a failed run) is one error
# in imgpkg's multi-line form -- "imgpkg: Error: " once, at the start of the
# first line, each further line indented by two spaces more than the one
# before -- and prints it with the line breaks undone (each continuation
# line's indentation stripped, the lines joined with a space).
error_joined() {
    printf '%s\n' "$1" | awk '
        NR == 1 {
            if (index($0, "imgpkg: Error: ") != 1) bad = "lacks the imgpkg: Error: prefix"
            msg = $0
            next
        }
        {
            ind = match($0, /[^ ]/) - 1
            if (ind != 2 * (NR - 1)) bad = "line " NR " is not indented by " 2 * (NR - 1) " spaces"
            sub(/^ +/, "")
            msg = msg " " $0
        }
        END {
            n = gsub(/imgpkg: Error: /, "&", msg)
            if (n != 1) bad = bad " (" n " imgpkg: Error: prefixes)"
            if (bad != "") { print bad > "/dev/stderr"; exit 1 }
            print msg
        }'
}

# expect_fail PATTERN CMD...: CMD must exit non-zero with one error on stderr
# (imgpkg's multi-line form, see error_joined) whose text, line breaks undone,
# matches PATTERN (grep -E).
expect_fail() {
    local pat=$1
    shift
    local out msg rc=0
    out=$("$@" 2>&1 >/dev/null) || rc=$?
    [ "$rc" != 0 ] || fail "expected failure of: $*"
    msg=$(error_joined "$out") || fail "expected one error in imgpkg's form, got: $out"
    printf '%s\n' "$msg" | grep -Eq -- "$pat" || fail "error '$msg' does not match '$pat'"
}

# json FILE EXPR: evaluates a Python expression over the parsed JSON document `d`.
json() {
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# json_s STRING EXPR: the same over JSON given as a string.
json_s() {
    python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"
}

# tar_member TAR NAME: prints a member of an uncompressed tarball.
tar_member() {
    tar -xOf "$1" "$2"
}

# tree_listing DIR: "mode size path sha256" of every entry, sorted, for comparing trees.
tree_listing() {
    (cd "$1" && find . -mindepth 1 | LC_ALL=C sort | while read -r p; do
        if [ -d "$p" ]; then echo "d $p"; else echo "f $p $(sha256sum < "$p" | cut -c1-64)"; fi
    done)
}

# make_bundle DIR: a small bundle folder with images.yml and a few files.
make_bundle() {
    mkdir -p "$1/.imgpkg" "$1/config/sub"
    cat > "$1/.imgpkg/images.yml" <<'YAML'
---
apiVersion: imgpkg.carvel.dev/v1alpha1
kind: ImagesLock
images:
- image: registry.example.com/app@sha256:5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270
  annotations:
    kbld.carvel.dev/id: app
YAML
    echo "kind: ConfigMap" > "$1/config/cm.yml"
    echo "a: 1" > "$1/config/sub/values.yml"
    printf '#!/bin/sh\necho hi\n' > "$1/run.sh"
    chmod 755 "$1/run.sh"
}

# make_files DIR: a plain folder (no .imgpkg).
make_files() {
    mkdir -p "$1/dir"
    echo "hello" > "$1/hello.txt"
    echo "nested" > "$1/dir/nested.txt"
}
