# t-registry-auth.sh - imgpkg against registries that want TLS and credentials:
# a TLS registry (CA made at test time) with htpasswd basic auth, fed each
# credential source; and token auth against tests/integration/token_server.py
# (minimal scopes, expired tokens renewed).

# ---------- helpers (names start with ra_; every t-*.sh shares one shell) ----------

# shellcheck disable=SC2153 # RA_TLS_ADDR and RA_CA come from ra_tls
RA_USER=imgpkg-user
RA_PASS='s3cr3t-Pa55w0rd'

# ra_tls: starts, once per suite, a TLS registry with basic auth (RA_USER /
# RA_PASS) and sets RA_TLS_ADDR, RA_CA (the CA's PEM) and RA_TLS_DIR.
ra_tls() {
    local d=$SUITE_TMP/ra-tls
    if [ -f "$d/env" ]; then
        . "$d/env"
        return 0
    fi
    mkdir -p "$d"
    (
        cd "$d"
        openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 \
            -subj /CN=imgpkg-test-ca
        openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj /CN=localhost
        printf '%s\n' 'subjectAltName=DNS:localhost,IP:127.0.0.1' 'basicConstraints=CA:FALSE' \
            'keyUsage=digitalSignature,keyEncipherment' 'extendedKeyUsage=serverAuth' > srv.ext
        openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem \
            -days 2 -extfile srv.ext
        htpasswd -Bbn "$RA_USER" "$RA_PASS" > users.htpasswd
    ) > "$d/openssl.log" 2>&1 || fail "making certificates: $(cat "$d/openssl.log")"
    start_registry RATLS "auth: {htpasswd: {realm: test, path: $d/users.htpasswd}}" \
        "  tls: {certificate: $d/srv.pem, key: $d/srv.key}" || fail "TLS registry did not start"
    printf 'RA_TLS_ADDR=%s\nRA_CA=%s\nRA_TLS_DIR=%s\n' "$RATLS_ADDR" "$d/ca.pem" "$RATLS_DIR" > "$d/env"
    . "$d/env"
}

# ra_token NAME [token_server.py options...]: starts a token server (Basic
# credentials RA_USER / RA_PASS required) and a plain-HTTP registry using it;
# sets RA_TOK_ADDR and RA_TOK_LOG (one line of scopes per token request).
ra_token() {
    local name=$1 d tport
    shift
    d=$(mktemp -d "$SUITE_TMP/ra-token-$name.XXXXXX")
    tport=$(free_port)
    RA_TOK_LOG=$d/scopes.log
    : > "$RA_TOK_LOG"
    python3 "$HERE/token_server.py" "$tport" "$d" test-service test-issuer "$RA_TOK_LOG" \
        --user "$RA_USER" --password "$RA_PASS" "$@" > "$d/log" 2>&1 &
    echo $! >> "$SUITE_TMP/pids"
    wait_port "$tport"
    [ -s "$d/cert.pem" ] || fail "token server wrote no certificate: $(cat "$d/log")"
    start_registry RATOK "auth:
  token:
    realm: http://127.0.0.1:$tport/token
    service: test-service
    issuer: test-issuer
    rootcertbundle: $d/cert.pem" || fail "token registry did not start"
    # shellcheck disable=SC2153 # set by start_registry
    RA_TOK_ADDR=$RATOK_ADDR
}

# ra_digest REF [skopeo flags...]: the manifest digest skopeo sees in the TLS registry.
ra_digest() {
    local ref=$1
    shift
    skopeo inspect --tls-verify=false --creds "$RA_USER:$RA_PASS" "$@" --format '{{.Digest}}' "docker://$ref"
}

# ra_pushed OUTFILE: the digest of a "Pushed '...@sha256:...'" line.
ra_pushed() {
    sed -n "s/^Pushed '[^']*@\(sha256:[0-9a-f]\{64\}\)'\$/\1/p" "$1"
}

# ---------- TLS + basic auth: each credential source ----------

test_registry_auth_tls_flags() {
    ra_tls
    make_files f
    imgpkg push --tty -i "$RA_TLS_ADDR/auth/flags:v1" -f f --registry-ca-cert-path "$RA_CA" \
        --registry-username "$RA_USER" --registry-password "$RA_PASS" > out.txt
    assert_eq "$(ra_pushed out.txt)" "$(ra_digest "$RA_TLS_ADDR/auth/flags:v1")" "digest in the registry"
    # the same through $IMGPKG_USERNAME / $IMGPKG_PASSWORD
    IMGPKG_USERNAME=$RA_USER IMGPKG_PASSWORD=$RA_PASS \
        imgpkg push --tty -i "$RA_TLS_ADDR/auth/flagsenv:v1" -f f --registry-ca-cert-path "$RA_CA" > out2.txt
    assert_eq "$(ra_pushed out2.txt)" "$(ra_digest "$RA_TLS_ADDR/auth/flagsenv:v1")" "digest (IMGPKG_USERNAME)"
    # and no credentials at all: refused
    expect_fail "UNAUTHORIZED|401" imgpkg push -i "$RA_TLS_ADDR/auth/anon:v1" -f f --registry-ca-cert-path "$RA_CA"
}

test_registry_auth_tls_env_keychain() {
    ra_tls
    make_files f
    IMGPKG_REGISTRY_HOSTNAME=$RA_TLS_ADDR IMGPKG_REGISTRY_USERNAME=$RA_USER IMGPKG_REGISTRY_PASSWORD=$RA_PASS \
        imgpkg push --tty -i "$RA_TLS_ADDR/auth/env:v1" -f f --registry-ca-cert-path "$RA_CA" > out.txt
    assert_eq "$(ra_pushed out.txt)" "$(ra_digest "$RA_TLS_ADDR/auth/env:v1")" "digest (unsuffixed set)"
    # a suffixed set, next to an unsuffixed one for another host
    IMGPKG_REGISTRY_HOSTNAME=other.example.com IMGPKG_REGISTRY_USERNAME=nobody IMGPKG_REGISTRY_PASSWORD=wrong \
        IMGPKG_REGISTRY_HOSTNAME_1=$RA_TLS_ADDR IMGPKG_REGISTRY_USERNAME_1=$RA_USER IMGPKG_REGISTRY_PASSWORD_1=$RA_PASS \
        imgpkg push --tty -i "$RA_TLS_ADDR/auth/env1:v1" -f f --registry-ca-cert-path "$RA_CA" > out1.txt
    assert_eq "$(ra_pushed out1.txt)" "$(ra_digest "$RA_TLS_ADDR/auth/env1:v1")" "digest (_1 set)"
    # the environment's set for a matching host comes before the flags
    IMGPKG_REGISTRY_HOSTNAME_1=$RA_TLS_ADDR IMGPKG_REGISTRY_USERNAME_1=$RA_USER IMGPKG_REGISTRY_PASSWORD_1=$RA_PASS \
        imgpkg push -i "$RA_TLS_ADDR/auth/env2:v1" -f f --registry-ca-cert-path "$RA_CA" \
        --registry-username "$RA_USER" --registry-password wrong > /dev/null
    # a wrong password in the matching set is refused
    expect_fail "UNAUTHORIZED|401" env IMGPKG_REGISTRY_HOSTNAME_1="$RA_TLS_ADDR" \
        IMGPKG_REGISTRY_USERNAME_1="$RA_USER" IMGPKG_REGISTRY_PASSWORD_1=wrong \
        "$IMGPKG" push -i "$RA_TLS_ADDR/auth/env3:v1" -f f --registry-ca-cert-path "$RA_CA"
}

test_registry_auth_tls_docker_config_auths() {
    ra_tls
    make_files f
    mkdir dc
    auth=$(printf '%s:%s' "$RA_USER" "$RA_PASS" | base64 -w0)
    printf '{"auths": {"other.example.com": {"auth": "eDp5"}, "%s": {"auth": "%s"}}}\n' "$RA_TLS_ADDR" "$auth" > dc/config.json
    DOCKER_CONFIG=$T/dc imgpkg push --tty -i "$RA_TLS_ADDR/auth/dockercfg:v1" -f f \
        --registry-ca-cert-path "$RA_CA" > out.txt
    assert_eq "$(ra_pushed out.txt)" "$(ra_digest "$RA_TLS_ADDR/auth/dockercfg:v1")" "digest (auths)"
    # username/password fields, and a key with a scheme
    printf '{"auths": {"https://%s": {"username": "%s", "password": "%s"}}}\n' "$RA_TLS_ADDR" "$RA_USER" "$RA_PASS" > dc/config.json
    DOCKER_CONFIG=$T/dc imgpkg push -i "$RA_TLS_ADDR/auth/dockercfg2:v1" -f f --registry-ca-cert-path "$RA_CA" > /dev/null
    ra_digest "$RA_TLS_ADDR/auth/dockercfg2:v1" > /dev/null
    # ~/.docker/config.json when DOCKER_CONFIG is unset
    mkdir -p home/.docker
    cp dc/config.json home/.docker/config.json
    HOME=$T/home imgpkg push -i "$RA_TLS_ADDR/auth/dockercfg3:v1" -f f --registry-ca-cert-path "$RA_CA" > /dev/null
    # a wrong one is refused
    printf '{"auths": {"%s": {"auth": "%s"}}}\n' "$RA_TLS_ADDR" "$(printf '%s:wrong' "$RA_USER" | base64 -w0)" > dc/config.json
    DOCKER_CONFIG=$T/dc expect_fail "UNAUTHORIZED|401" \
        imgpkg push -i "$RA_TLS_ADDR/auth/dockercfg4:v1" -f f --registry-ca-cert-path "$RA_CA"
}

test_registry_auth_tls_credential_helper() {
    ra_tls
    make_files f
    mkdir bin dc
    cat > bin/docker-credential-testhelper <<EOF
#!/bin/sh
echo "\$*" >> "$T/helper.args"
cat >> "$T/helper.stdin"
echo >> "$T/helper.stdin"
printf '{"ServerURL": "%s", "Username": "%s", "Secret": "%s"}\n' "$RA_TLS_ADDR" "$RA_USER" "$RA_PASS"
EOF
    chmod +x bin/docker-credential-testhelper
    printf '{"auths": {"%s": {"auth": "%s"}}, "credHelpers": {"%s": "testhelper"}}\n' \
        "$RA_TLS_ADDR" "$(printf 'x:wrong' | base64 -w0)" "$RA_TLS_ADDR" > dc/config.json
    PATH=$T/bin:$PATH DOCKER_CONFIG=$T/dc imgpkg push --tty -i "$RA_TLS_ADDR/auth/helper:v1" -f f \
        --registry-ca-cert-path "$RA_CA" > out.txt
    assert_eq "$(ra_pushed out.txt)" "$(ra_digest "$RA_TLS_ADDR/auth/helper:v1")" "digest (credHelpers)"
    assert_eq "get" "$(sort -u helper.args)" "helper arguments"
    assert_eq "$RA_TLS_ADDR" "$(grep -v '^$' helper.stdin | sort -u)" "server URL given to the helper"
    # credsStore, the same helper
    printf '{"credsStore": "testhelper"}\n' > dc/config.json
    PATH=$T/bin:$PATH DOCKER_CONFIG=$T/dc imgpkg push -i "$RA_TLS_ADDR/auth/helper2:v1" -f f \
        --registry-ca-cert-path "$RA_CA" > /dev/null
    ra_digest "$RA_TLS_ADDR/auth/helper2:v1" > /dev/null
    # a helper that is not on PATH: a one-line error naming it
    printf '{"credHelpers": {"%s": "missinghelper"}}\n' "$RA_TLS_ADDR" > dc/config.json
    DOCKER_CONFIG=$T/dc expect_fail "docker-credential-missinghelper" \
        imgpkg push -i "$RA_TLS_ADDR/auth/helper3:v1" -f f --registry-ca-cert-path "$RA_CA"
}

test_registry_auth_tls_wrong_password() {
    ra_tls
    make_files f
    expect_fail "UNAUTHORIZED|401" imgpkg push -i "$RA_TLS_ADDR/auth/wrong:v1" -f f \
        --registry-ca-cert-path "$RA_CA" --registry-username "$RA_USER" --registry-password wrong
    out=$("$IMGPKG" push -i "$RA_TLS_ADDR/auth/wrong:v1" -f f --registry-ca-cert-path "$RA_CA" \
        --registry-username "$RA_USER" --registry-password Wr0ngPa55 2>&1) && fail "pushed with a wrong password"
    case "$out" in *Wr0ngPa55*) fail "the password is in the error: $out" ;; esac
    if skopeo inspect --tls-verify=false --creds "$RA_USER:$RA_PASS" "docker://$RA_TLS_ADDR/auth/wrong:v1" > /dev/null 2>&1; then
        fail "the refused push left an image"
    fi
}

test_registry_auth_tls_certificates() {
    ra_tls
    make_files f
    creds=(--registry-username "$RA_USER" --registry-password "$RA_PASS")
    # the CA is unknown without --registry-ca-cert-path
    expect_fail "[Cc]ertificate|SSL|TLS" imgpkg push -i "$RA_TLS_ADDR/auth/ca:v1" -f f "${creds[@]}"
    # --registry-ca-cert-path with a file that holds no certificate
    echo "not a certificate" > bogus.pem
    expect_fail "bogus.pem" imgpkg push -i "$RA_TLS_ADDR/auth/ca:v1" -f f "${creds[@]}" --registry-ca-cert-path bogus.pem
    # another CA does not do
    openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other.pem -days 1 \
        -subj /CN=other-ca > /dev/null 2>&1
    expect_fail "[Cc]ertificate|SSL|TLS" imgpkg push -i "$RA_TLS_ADDR/auth/ca:v1" -f f "${creds[@]}" --registry-ca-cert-path other.pem
    # verification off: works, with a warning
    imgpkg push --tty -i "$RA_TLS_ADDR/auth/noverify:v1" -f f "${creds[@]}" --registry-verify-certs=false \
        > out.txt 2> err.txt
    assert_contains "$(cat err.txt)" "Warning" "stderr with --registry-verify-certs=false"
    assert_eq "$(ra_pushed out.txt)" "$(ra_digest "$RA_TLS_ADDR/auth/noverify:v1")" "digest (verify off)"
    # by the name in the certificate, too
    port=${RA_TLS_ADDR##*:}
    imgpkg push -i "localhost:$port/auth/byname:v1" -f f "${creds[@]}" --registry-ca-cert-path "$RA_CA" > /dev/null
    ra_digest "$RA_TLS_ADDR/auth/byname:v1" > /dev/null
}

test_registry_auth_debug_hides_secrets() {
    ra_tls
    make_files f
    b64=$(printf '%s:%s' "$RA_USER" "$RA_PASS" | base64 -w0)
    imgpkg --debug push --tty -i "$RA_TLS_ADDR/auth/debug:v1" -f f --registry-ca-cert-path "$RA_CA" \
        --registry-username "$RA_USER" --registry-password "$RA_PASS" > out.txt 2> err.txt
    # imgpkg's form: each request and answer, the Authorization header redacted
    grep -q -- "--> PUT https://$RA_TLS_ADDR/v2/auth/debug/manifests/v1\$" err.txt ||
        fail "no request line in the --debug output: $(head -40 err.txt)"
    grep -q "^Authorization: <redacted>"$'\r'"\$" err.txt ||
        fail "no redacted Authorization header: $(head -40 err.txt)"
    grep -q "^Accept-Encoding: gzip"$'\r'"\$" err.txt || fail "gzip not asked for: $(head -40 err.txt)"
    grep -q "<-- 201 https://$RA_TLS_ADDR/v2/auth/debug/manifests/v1 (" err.txt ||
        fail "no answer line in the --debug output: $(head -40 err.txt)"
    for s in "$RA_PASS" "$b64"; do
        ! grep -qF -- "$s" err.txt out.txt || fail "a secret is in the --debug output: $(cat err.txt)"
    done
    # from config.json, and on failure, too
    mkdir dc
    printf '{"auths": {"%s": {"auth": "%s"}}}\n' "$RA_TLS_ADDR" "$b64" > dc/config.json
    DOCKER_CONFIG=$T/dc imgpkg push --debug -i "$RA_TLS_ADDR/auth/debug2:v1" -f f --registry-ca-cert-path "$RA_CA" > out2.txt 2> err2.txt
    "$IMGPKG" push --debug -i "$RA_TLS_ADDR/auth/debug3:v1" -f f --registry-ca-cert-path "$RA_CA" \
        --registry-username "$RA_USER" --registry-password "${RA_PASS}x" > out3.txt 2> err3.txt &&
        fail "pushed with a wrong password"
    b64x=$(printf '%s:%s' "$RA_USER" "${RA_PASS}x" | base64 -w0)
    for s in "$RA_PASS" "$b64" "$b64x"; do
        ! grep -qF -- "$s" err2.txt out2.txt err3.txt out3.txt || fail "a secret is in the --debug output"
    done
}

# ---------- token auth ----------

test_registry_auth_token_push_and_pull() {
    ra_token main
    make_files f
    creds=(--registry-username "$RA_USER" --registry-password "$RA_PASS")
    imgpkg push --tty -i "$RA_TOK_ADDR/tok/app:v1" -f f "${creds[@]}" > out.txt
    assert_eq "repository:tok/app:pull,push" "$(sort -u "$RA_TOK_LOG")" "scopes asked by push"
    assert_eq "$(ra_pushed out.txt)" \
        "$(skopeo inspect --tls-verify=false --creds "$RA_USER:$RA_PASS" --format '{{.Digest}}' "docker://$RA_TOK_ADDR/tok/app:v1")" \
        "digest read back"
    # push --tar and copy --tar into other repositories: each token asks for that repository only
    imgpkg save --oci -i example.com/tok/image:v2 -f f --to-tar b.tar > /dev/null
    : > "$RA_TOK_LOG"
    imgpkg push --tar b.tar --to-repo "$RA_TOK_ADDR/tok/pushed" "${creds[@]}" > /dev/null
    assert_eq "repository:tok/pushed:pull,push" "$(sort -u "$RA_TOK_LOG")" "scopes asked by push --tar"
    : > "$RA_TOK_LOG"
    imgpkg copy --tar b.tar --to-repo "$RA_TOK_ADDR/tok/copied" "${creds[@]}" > /dev/null
    assert_eq "repository:tok/copied:pull,push" "$(sort -u "$RA_TOK_LOG")" "scopes asked by copy --tar"
    want=$(skopeo inspect --format '{{.Digest}}' oci-archive:b.tar:v2)
    for r in tok/pushed tok/copied; do
        assert_eq "$want" \
            "$(skopeo inspect --tls-verify=false --creds "$RA_USER:$RA_PASS" --format '{{.Digest}}' "docker://$RA_TOK_ADDR/$r:v2")" \
            "digest in $r"
    done
    skopeo copy -q --src-tls-verify=false --src-creds "$RA_USER:$RA_PASS" "docker://$RA_TOK_ADDR/tok/copied:v2" oci:back:v2 > /dev/null
    assert_eq "$want" "$(skopeo inspect --format '{{.Digest}}' oci:back:v2)" "digest pulled back"
    # the token server refuses wrong or missing credentials: a one-line auth error
    expect_fail "UNAUTHORIZED|401" imgpkg push -i "$RA_TOK_ADDR/tok/app:v9" -f f \
        --registry-username "$RA_USER" --registry-password wrong
    expect_fail "UNAUTHORIZED|401" imgpkg push -i "$RA_TOK_ADDR/tok/app:v9" -f f
}

test_registry_auth_token_expired_is_renewed() {
    # the first token is already expired (while claiming expires_in 300): the
    # registry refuses it, and the client must fetch another transparently
    ra_token renew --expired-first 1 --expires-in 300
    mkdir f
    for i in 1 2 3; do head -c 3000 /dev/urandom > "f/file$i.bin"; done
    imgpkg push --tty -i "$RA_TOK_ADDR/tok/renew:v1" -f f --concurrency 1 \
        --registry-username "$RA_USER" --registry-password "$RA_PASS" > out.txt
    assert_eq "2" "$(grep -cx 'repository:tok/renew:pull,push' "$RA_TOK_LOG")" "token requests: $(cat "$RA_TOK_LOG")"
    assert_eq "repository:tok/renew:pull,push" "$(sort -u "$RA_TOK_LOG")" "scopes"
    assert_eq "$(ra_pushed out.txt)" \
        "$(skopeo inspect --tls-verify=false --creds "$RA_USER:$RA_PASS" --format '{{.Digest}}' "docker://$RA_TOK_ADDR/tok/renew:v1")" \
        "digest read back"
}

test_registry_auth_token_read_scopes() {
    ra_token reads
    make_files f
    creds=(--registry-username "$RA_USER" --registry-password "$RA_PASS")
    imgpkg push --tty -i "$RA_TOK_ADDR/tok/src:v1" -f f "${creds[@]}" > out.txt
    want=$(ra_pushed out.txt)
    # reading from a registry asks for pull on that repository, nothing more
    : > "$RA_TOK_LOG"
    imgpkg copy -i "$RA_TOK_ADDR/tok/src:v1" --to-tar x.tar "${creds[@]}" > /dev/null
    assert_eq "repository:tok/src:pull" "$(sort -u "$RA_TOK_LOG")" "scopes asked by copy --to-tar"
    [ -s x.tar ] || fail "copy --to-tar wrote nothing"
    # registry to registry: pull on the source, pull,push on the destination
    # (together in one token when the blobs are mounted across repositories)
    : > "$RA_TOK_LOG"
    imgpkg copy -i "$RA_TOK_ADDR/tok/src:v1" --to-repo "$RA_TOK_ADDR/tok/dst" "${creds[@]}" > /dev/null
    tr ' ' '\n' < "$RA_TOK_LOG" | sort -u > scopes
    grep -qx 'repository:tok/src:pull' scopes || fail "no pull scope on the source: $(cat "$RA_TOK_LOG")"
    grep -qx 'repository:tok/dst:pull,push' scopes || fail "no push scope on the destination: $(cat "$RA_TOK_LOG")"
    [ "$(wc -l < scopes)" = 2 ] || fail "scopes beyond pull on the source and push on the destination: $(cat "$RA_TOK_LOG")"
    assert_eq "$want" \
        "$(skopeo inspect --tls-verify=false --creds "$RA_USER:$RA_PASS" --format '{{.Digest}}' "docker://$RA_TOK_ADDR/tok/dst:v1")" \
        "digest copied"
}

test_registry_auth_token_debug_redacted() {
    ra_token main
    make_files f
    imgpkg push -i "$RA_TOK_ADDR/tok/dbg:v1" -f f --registry-username "$RA_USER" \
        --registry-password "$RA_PASS" > /dev/null
    imgpkg --debug pull -i "$RA_TOK_ADDR/tok/dbg:v1" -o out --registry-username "$RA_USER" \
        --registry-password "$RA_PASS" > /dev/null 2> err.txt
    # the token request and its answer are logged without their bodies, as imgpkg's
    grep -q -- "--> GET http://[^ ]*/token?[^ ]* \[body redacted: oauth token response contains credentials\]\$" err.txt ||
        fail "no redacted token request: $(head -30 err.txt)"
    grep -q "<-- 200 http://[^ ]*/token?[^ ]* ([^)]*) \[body redacted: oauth token response contains credentials\]\$" err.txt ||
        fail "no redacted token answer: $(head -30 err.txt)"
    # bearer tokens and the password never appear: every Authorization line is redacted
    ! grep -qi '"token"\|eyJ\|authorization: bearer\|authorization: basic' err.txt || fail "a token or credentials in the --debug output"
    ! grep -qF -- "$RA_PASS" err.txt || fail "the password in the --debug output"
    [ "$(grep -ci '^authorization:' err.txt)" = "$(grep -c '^Authorization: <redacted>'$'\r''$' err.txt)" ] ||
        fail "an Authorization header not redacted: $(grep -i '^authorization:' err.txt)"
    # a layer's body is not logged
    grep -q -- "--> GET http://[^ ]*/v2/tok/dbg/blobs/sha256:[0-9a-f]* \[body redacted: omitting binary blobs from logs\]\$" err.txt ||
        fail "no redacted blob request: $(head -30 err.txt)"
}
