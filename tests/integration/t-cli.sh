# t-cli.sh - the command line as imgpkg's (cobra's): every flag imgpkg v0.36
# lists for each command, listed by our --help in its layout; global flags
# before and after the command name; Go durations; cobra's wording for extra
# arguments; save without -b/-i.  The reference is imgpkg-v0.36-flags.txt
# (committed); with IMGPKG_PEER set, also the peer's own --help.

CLI_COMMANDS="imgpkg push pull copy describe tag-list tag-resolve version"

# cli_help_flags: "--NAME[,-S] [TYPE]" for every flag line of a help text on stdin.
cli_help_flags() {
    sed -nE 's/^  (-([a-zA-Z]), |    )--([a-z0-9-]+)( ([a-zA-Z]+))?   .*/--\3,-\2 \5/p' |
        sed -E 's/,- / /; s/ +$//'
}

# cli_help CMD: our --help of CMD (imgpkg: the top level; tag-list: tag list).
cli_help() {
    if [ "$1" = imgpkg ]; then imgpkg --help; else imgpkg $(echo "$1" | tr - ' ') --help; fi
}

# cli_check_lists CMD REFERENCE_FILE: every flag of REFERENCE_FILE's CMD lines is
# in our help of CMD, with the same shorthand and type word.
cli_check_lists() {
    local cmd=$1 ref=$2 ours line n=0
    ours=$(cli_help "$cmd" | cli_help_flags)
    while read -r line; do
        printf '%s\n' "$ours" | grep -qxF -- "$line" ||
            fail "'imgpkg $cmd --help' does not list '$line' as imgpkg does; ours: $ours"
        n=$((n + 1))
    done < <(awk -v c="$cmd" '$1 == c { $1 = ""; sub(/^ /, ""); print }' "$ref")
    [ "$n" -gt 0 ] || fail "no reference flags for $cmd"
}

test_cli_help_lists_every_imgpkg_flag() {
    local ref=$HERE/imgpkg-v0.36-flags.txt c
    [ -f "$ref" ] || fail "missing $ref"
    for c in $CLI_COMMANDS; do
        cli_check_lists "$c" "$ref"
    done
    if [ -z "${IMGPKG_PEER:-}" ]; then
        echo "IMGPKG_PEER unset: compared with the committed list of imgpkg v0.36's flags only"
        return 0
    fi
    # the live peer: its flags, the same way
    for c in $CLI_COMMANDS; do
        if [ "$c" = imgpkg ]; then "$IMGPKG_PEER" --help; else "$IMGPKG_PEER" $(echo "$c" | tr - ' ') --help; fi |
            cli_help_flags | sed "s/^/$c /" >> peer-flags.txt
    done
    for c in $CLI_COMMANDS; do
        cli_check_lists "$c" peer-flags.txt
    done
}

test_cli_help_layout() {
    local c col
    for c in push pull copy describe tag-list tag-resolve version save verify; do
        cli_help "$c" > help.out
        grep -qx "Usage:" help.out || fail "$c: no Usage: section"
        grep -qx "  imgpkg $(echo "$c" | tr - ' ') \[flags\]" help.out || fail "$c: usage line: $(cat help.out)"
        grep -qx "Flags:" help.out || fail "$c: no Flags: section"
        grep -qx "Global Flags:" help.out || fail "$c: no Global Flags: section"
        grep -Eq "^  -h, --help +help for ${c##*-}\$" help.out || fail "$c: -h line: $(cat help.out)"
        # one column per section: every usage text starts where the section's others do
        col=$(sed -n '/^Flags:$/,/^$/p' help.out | grep -- '--' |
            awk '{ match($0, /--[a-z0-9-]+( [a-zA-Z]+)?   +/); print RSTART + RLENGTH }' | sort -u | wc -l)
        assert_eq 1 "$col" "$c: columns of the Flags: section"
        col=$(sed -n '/^Global Flags:$/,/^$/p' help.out | grep -- '--' |
            awk '{ match($0, /--[a-z0-9-]+( [a-zA-Z]+)?   +/); print RSTART + RLENGTH }' | sort -u | wc -l)
        assert_eq 1 "$col" "$c: columns of the Global Flags: section"
        # sorted by name, as pflag sorts
        sed -n '/^Flags:$/,/^$/p' help.out | grep -- '--' | sed -E 's/^ *(-[a-zA-Z], )?--([a-z0-9-]+).*/\2/' > names
        LC_ALL=C sort -c names || fail "$c: flags not sorted: $(cat names)"
    done
    cli_help push > push.out
    grep -Eq -- '^      --registry-response-header-timeout duration   .*\(default 30s\)$' push.out ||
        fail "duration flag line: $(cat push.out)"
    grep -Eq -- '^      --registry-verify-certs +.*\(default true\)$' push.out || fail "bool default"
    grep -Eq -- '^      --file-exclusion strings +.*\(default \[\.git\]\)$' push.out || fail "slice default"
    cli_help describe > describe.out
    grep -Eq -- '^  -o, --output-type string +.*\(default "text"\)$' describe.out || fail "string default"
    grep -qx "Examples:" push.out || fail "push: no Examples:"
    cli_help tag-list > list.out
    grep -A1 -x "Aliases:" list.out | grep -qx "  list, ls" || fail "tag list: aliases"
    # help COMMAND is COMMAND --help
    imgpkg help tag list > help-list.out
    cmp list.out help-list.out || fail "'help tag list' differs from 'tag list --help'"
    # our own flags are there too, in the same style
    cli_help save | cli_help_flags > save.flags
    for f in "--oci" "--to-tar string" "--to-oci-tar string" "--to-oci-layout string" \
        "--compression-level int" "--bundle,-b string" "--image,-i string" "--file,-f strings"; do
        grep -qxF -- "$f" save.flags || fail "save --help lacks '$f': $(cat save.flags)"
    done
    cli_help push | cli_help_flags | grep -qxF -- "--to-oci-tar string" || fail "push --to-oci-tar"
    cli_help copy | cli_help_flags | grep -qxF -- "--oci-tar string" || fail "copy --oci-tar"
}

test_cli_global_flags_before_and_after_command() {
    mkdir d && echo hi > d/a.txt
    imgpkg --tty save -i example.com/x:v1 -f d --to-tar a.tar > before.out
    assert_contains "$(cat before.out)" "Succeeded" "--tty before the command"
    imgpkg save -i example.com/x:v1 -f d --to-tar b.tar --tty > after.out
    assert_contains "$(cat after.out)" "Succeeded" "--tty after the command"
    imgpkg save --tty=false -i example.com/x:v1 -f d --to-tar c.tar > off.out
    if grep -q Succeeded off.out; then fail "--tty=false still printed Succeeded"; fi
    imgpkg --column a,b -y save -i example.com/x:v1 -f=d --to-tar=e.tar > /dev/null
    imgpkg tag --debug --column x list --help > list.out
    assert_contains "$(cat list.out)" "help for list" "global flags between tag and list"
    expect_fail "unknown flag: --nosuch" imgpkg --nosuch save -f d --to-tar f.tar
    expect_fail "unknown shorthand flag: 'q' in -q" imgpkg save -q
}

test_cli_extra_arguments_in_cobra_wording() {
    expect_fail "^imgpkg: Error: command 'imgpkg push' does not accept extra arguments 'a'\$" imgpkg push a b
    expect_fail "^imgpkg: Error: command 'imgpkg tag list' does not accept extra arguments 'x'\$" imgpkg tag list x -i y
    expect_fail "^imgpkg: Error: command 'imgpkg tag' does not accept extra arguments 'nosuch'\$" imgpkg tag nosuch
    expect_fail "^imgpkg: Error: command 'imgpkg' does not accept extra arguments 'push'\$" imgpkg -- push
    expect_fail "^imgpkg: Error: Use one of available subcommands: list, resolve\$" imgpkg tag
    expect_fail "^imgpkg: Error: Use one of available subcommands: copy, describe, help, pull, push, save, tag, verify, version\$" imgpkg
}

test_cli_durations_in_go_syntax() {
    local port d
    port=$(free_port)
    for d in 30s 1m30s 500ms 1h 1.5s; do
        expect_fail "127.0.0.1:$port" imgpkg tag resolve -i "127.0.0.1:$port/x:v1" \
            --registry-response-header-timeout "$d" --registry-retry-count 0
    done
    expect_fail 'invalid argument "5" for "--registry-response-header-timeout" flag: time: missing unit in duration "5"' \
        imgpkg tag resolve -i "127.0.0.1:$port/x:v1" --registry-response-header-timeout 5
    expect_fail 'invalid argument "5x" for "--registry-response-header-timeout" flag: time: unknown unit "x" in duration "5x"' \
        imgpkg tag resolve -i "127.0.0.1:$port/x:v1" --registry-response-header-timeout 5x
    expect_fail 'invalid argument "x" for "--registry-retry-count" flag: strconv.ParseInt: parsing "x": invalid syntax' \
        imgpkg tag resolve -i "127.0.0.1:$port/x:v1" --registry-retry-count x
}

test_cli_save_without_bundle_or_image_flag() {
    mkdir -p b/.imgpkg img
    echo hi > img/a.txt
    printf 'apiVersion: imgpkg.carvel.dev/v1alpha1\nkind: ImagesLock\n' > b/.imgpkg/images.yml
    imgpkg save -f b --to-oci-tar b.tar > b.out
    grep -Eq "^Saved bundle 'latest@sha256:[0-9a-f]{64}' to b.tar\$" b.out || fail "bundle: $(cat b.out)"
    imgpkg save -f img --to-tar i.tar > i.out
    grep -Eq "^Saved image 'latest@sha256:[0-9a-f]{64}' to i.tar\$" i.out || fail "image: $(cat i.out)"
    imgpkg verify --tar b.tar > /dev/null
    assert_eq latest "$(json_s "$(tar_member b.tar index.json)" \
        'd["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"]')" "tag of the saved bundle"
    expect_fail "Expected only one of --to-tar and --to-oci-tar" imgpkg save -f img --to-tar x.tar --to-oci-tar y.tar
}

test_cli_errors_in_multiline_form() {
    local rc=0
    imgpkg verify --tar nope.tar > out.txt 2> err.txt || rc=$?
    assert_eq 1 "$rc" "exit status"
    [ ! -s out.txt ] || fail "stdout: $(cat out.txt)"
    printf "imgpkg: Error: opening tarball 'nope.tar':\n  No such file or directory\n" > want.txt
    cmp want.txt err.txt || fail "stderr: $(cat err.txt)"
    # patterns match the message with the breaks undone
    expect_fail "^imgpkg: Error: opening tarball 'nope.tar': No such file or directory\$" imgpkg verify --tar nope.tar
    # no break before a lowercase letter, nor inside brackets
    imgpkg save -b "Bad Name:v1" -f . --to-tar x.tar 2> err2.txt || true
    assert_eq 1 "$(wc -l < err2.txt)" "lines of an error without ': ' before an uppercase letter"
    # the checker takes imgpkg's own output (captured from imgpkg v0.36)
    assert_eq "imgpkg: Error: Fetching image: GET http://127.0.0.1:5999/v2/nope/x/manifests/v1: MANIFEST_UNKNOWN: manifest unknown; map[Tag:v1]" \
        "$(error_joined "$(printf 'imgpkg: Error: Fetching image:\n  GET http://127.0.0.1:5999/v2/nope/x/manifests/v1:\n    MANIFEST_UNKNOWN: manifest unknown; map[Tag:v1]')")"
    if error_joined "$(printf 'imgpkg: Error: a:\n    B')" > /dev/null 2>&1; then fail "wrong indentation accepted"; fi
    if error_joined "$(printf 'imgpkg: Error: a\nimgpkg: Error: b')" > /dev/null 2>&1; then fail "two errors accepted"; fi
    if [ -n "${IMGPKG_PEER:-}" ]; then
        "$IMGPKG_PEER" pull -b "$REG_ADDR/cli-nope/x:v1" -o o > /dev/null 2> peer.err || true
        error_joined "$(cat peer.err)" > peer.msg || fail "imgpkg's own error not accepted: $(cat peer.err)"
        [ "$(wc -l < peer.err)" -gt 1 ] || fail "imgpkg printed one line: $(cat peer.err)"
    else
        echo "IMGPKG_PEER unset: the live check of imgpkg's error form did not run"
    fi
}
