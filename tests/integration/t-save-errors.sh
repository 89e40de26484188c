# t-save-errors.sh - imgpkg save refuses bad input with one clear error line,
# a non-zero exit, and leaves nothing behind: no new tarball or layout, no
# temporary (dot) files, existing tarballs and layouts byte-for-byte unchanged.

# ---------- helpers (names start with se_) ----------

# se_prepare: dst/ holds an existing tarball, an existing layout and an empty
# directory, with reference copies outside dst/.
se_prepare() {
    mkdir -p se-src dst/empty
    echo "old content" > se-src/old.txt
    imgpkg save -i example.com/old:v1 -f se-src --to-tar dst/old.tar > /dev/null
    imgpkg save -i example.com/old:v1 -f se-src --to-oci-layout dst/layout > /dev/null
    cp dst/old.tar ref.tar
    tree_listing dst/layout > ref.layout
    ls -A dst > ref.dst
}

# se_check_clean: nothing in dst/ changed and no temporary files anywhere.
se_check_clean() {
    cmp ref.tar dst/old.tar || fail "the existing tarball changed"
    assert_eq "$(cat ref.layout)" "$(tree_listing dst/layout)" "the existing layout"
    assert_eq "$(cat ref.dst)" "$(ls -A dst)" "entries of the destination directory"
    [ -z "$(ls -A dst/empty)" ] || fail "the empty destination directory got: $(ls -A dst/empty)"
    local dots
    dots=$(find . -name '.*' ! -name .imgpkg ! -name .git ! -name . | grep -v '/\.imgpkg/' || true)
    [ -z "$dots" ] || fail "temporary files left behind: $dots"
}

# se_refused PATTERN SAVE_ARGS...: save with SAVE_ARGS fails with PATTERN into
# every kind of destination (new tarball, existing tarball, new layout,
# existing layout, empty directory) and leaves no trace.
se_refused() {
    local pat=$1
    shift
    [ -f ref.tar ] || se_prepare
    expect_fail "$pat" imgpkg save "$@" --to-tar dst/new.tar
    assert_file_absent dst/new.tar
    expect_fail "$pat" imgpkg save "$@" --to-tar dst/old.tar
    expect_fail "$pat" imgpkg save "$@" --to-oci-layout dst/newlayout
    assert_file_absent dst/newlayout
    expect_fail "$pat" imgpkg save "$@" --to-oci-layout dst/layout
    expect_fail "$pat" imgpkg save "$@" --to-oci-layout dst/empty
    se_check_clean
}

# se_bundle_with_lock DIR: a bundle folder whose images.yml is read from stdin.
se_bundle_with_lock() {
    mkdir -p "$1/.imgpkg"
    echo "x" > "$1/file.txt"
    cat > "$1/.imgpkg/images.yml"
}

# ---------- bad inputs ----------

test_save_err_missing_path() {
    make_files f
    se_refused "lstat nosuch: no such file or directory" -i example.com/x:v1 -f nosuch
    se_refused "lstat f/nope: no such file or directory" -i example.com/x:v1 -f f -f f/nope
}

test_save_err_symlink_in_folder() {
    make_files f
    ln -s hello.txt f/dir/link
    se_refused "Expected file 'f/dir/link' to be a regular file" -i example.com/x:v1 -f f
    # a dangling one and one to a directory are refused the same way
    rm f/dir/link
    ln -s /nonexistent f/dangling
    se_refused "Expected file 'f/dangling' to be a regular file" -i example.com/x:v1 -f f
    rm f/dangling
    ln -s dir f/dirlink
    se_refused "Expected file 'f/dirlink' to be a regular file" -i example.com/x:v1 -f f
}

test_save_err_symlink_given_directly() {
    make_files f
    ln -s f/hello.txt link.txt
    ln -s f linkdir
    se_refused "Expected file 'link.txt' to be a regular file" -i example.com/x:v1 -f link.txt
    se_refused "Expected file 'linkdir' to be a regular file" -i example.com/x:v1 -f linkdir
}

test_save_err_fifo_and_device() {
    make_files f
    mkfifo fifo
    se_refused "Expected file 'fifo' to be a regular file" -i example.com/x:v1 -f fifo
    mkfifo f/dir/fifo
    se_refused "Expected file 'f/dir/fifo' to be a regular file" -i example.com/x:v1 -f f
    rm f/dir/fifo
    se_refused "Expected file '/dev/null' to be a regular file" -i example.com/x:v1 -f /dev/null
    python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' f/sock
    se_refused "Expected file 'f/sock' to be a regular file" -i example.com/x:v1 -f f
}

test_save_err_two_imgpkg_dirs() {
    make_bundle b
    mkdir -p b/config/.imgpkg
    cp b/.imgpkg/images.yml b/config/.imgpkg/
    se_refused "multiple bundle definitions.*b/\.imgpkg, b/config/\.imgpkg" -b example.com/x:v1 -f b
    # the same through two inputs
    rm -r b/config/.imgpkg
    make_bundle other
    # the same through two inputs (imgpkg's documented example): their
    # .imgpkg/images.yml would also be duplicate paths, but the rule is named
    se_refused "multiple bundle definitions.*b/\.imgpkg, other/\.imgpkg" -b example.com/x:v1 -f b -f other
    se_refused "multiple bundle definitions" -f b -f other
}

test_save_err_imgpkg_not_at_top() {
    mkdir top
    make_bundle top/inner
    se_refused "Expected '\.imgpkg' directory, to be a direct child of one of: top; was top/inner/\.imgpkg" \
        -b example.com/x:v1 -f top
}

test_save_err_bundle_without_imgpkg() {
    make_files f
    se_refused "This directory is not a bundle. It is missing \.imgpkg/images\.yml" -b example.com/x:v1 -f f
    # .imgpkg without images.yml
    mkdir -p f/.imgpkg
    se_refused "expected \.imgpkg/images\.yml to exist" -b example.com/x:v1 -f f
}

test_save_err_image_on_bundle() {
    make_bundle b
    se_refused "Images cannot be pushed with '\.imgpkg' directories, consider using --bundle \(-b\) option" \
        -i example.com/x:v1 -f b
    # also when two inputs carry .imgpkg (and so duplicate paths)
    make_bundle other
    se_refused "Images cannot be pushed with '\.imgpkg' directories" -i example.com/x:v1 -f b -f other
    # and when the .imgpkg directory itself is the input
    se_refused "Images cannot be pushed with '\.imgpkg' directories" -i example.com/x:v1 -f b/.imgpkg
}

test_save_err_malformed_images_yml() {
    printf 'apiVersion: [\n  - broken\n' | se_bundle_with_lock b
    se_refused "b/\.imgpkg/images\.yml: invalid YAML" -b example.com/x:v1 -f b
    printf -- '- just\n- a list\n' > b/.imgpkg/images.yml
    se_refused "b/\.imgpkg/images\.yml: " -b example.com/x:v1 -f b
    : > b/.imgpkg/images.yml
    se_refused "b/\.imgpkg/images\.yml: " -b example.com/x:v1 -f b
}

test_save_err_tag_only_image_in_lock() {
    se_bundle_with_lock b <<'YAML'
apiVersion: imgpkg.carvel.dev/v1alpha1
kind: ImagesLock
images:
- image: registry.example.com/app@sha256:5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270
- image: registry.example.com/app:v1
YAML
    se_refused "Expected ref to be in digest form, got 'registry\.example\.com/app:v1'" -b example.com/x:v1 -f b
}

test_save_err_wrong_kind() {
    se_bundle_with_lock b <<'YAML'
apiVersion: imgpkg.carvel.dev/v1alpha1
kind: BundleLock
images: []
YAML
    se_refused "Validating kind: Unknown kind" -b example.com/x:v1 -f b
    se_bundle_with_lock c <<'YAML'
apiVersion: imgpkg.carvel.dev/v9
kind: ImagesLock
images: []
YAML
    se_refused "Validating apiVersion: Unknown version" -b example.com/x:v1 -f c
}

# ---------- bad destinations ----------

test_save_err_unwritable_destination() {
    make_files f
    echo "a file" > plain
    cp plain plain.ref
    expect_fail "'plain'" imgpkg save -i example.com/x:v1 -f f --to-tar plain/out.tar
    expect_fail "plain/lay" imgpkg save -i example.com/x:v1 -f f --to-oci-layout plain/lay
    cmp plain plain.ref
    # /proc takes no new files, even from root
    expect_fail "/proc" imgpkg save -i example.com/x:v1 -f f --to-tar /proc/imgpkg-it-out.tar
    assert_file_absent /proc/imgpkg-it-out.tar
    expect_fail "/proc/imgpkg-it-layout" imgpkg save -i example.com/x:v1 -f f --to-oci-layout /proc/imgpkg-it-layout
    assert_file_absent /proc/imgpkg-it-layout
    # a missing parent directory is not created
    expect_fail "nodir" imgpkg save -i example.com/x:v1 -f f --to-tar nodir/out.tar
    assert_file_absent nodir
    se_prepare
    # a tarball path that is a directory; a layout path that is a file (the tarball)
    expect_fail "'dst/layout' is a directory" imgpkg save -i example.com/x:v1 -f f --to-tar dst/layout
    expect_fail "'dst/old.tar' exists and is not a directory" imgpkg save -i example.com/x:v1 -f f --to-oci-layout dst/old.tar
    se_check_clean
}

test_save_err_corrupt_layout() {
    make_files f
    mkdir -p badjson/blobs/sha256
    echo '{"imageLayoutVersion":"1.0.0"}' > badjson/oci-layout
    echo '{"schemaVersion":2,"manifests":[' > badjson/index.json
    before=$(tree_listing badjson)
    expect_fail "'badjson' is not a valid OCI image layout" imgpkg save -i example.com/x:v1 -f f --to-oci-layout badjson
    assert_eq "$before" "$(tree_listing badjson)" "corrupt layout"
    # an index.json that is JSON but not an index
    echo '[1, 2]' > badjson/index.json
    before=$(tree_listing badjson)
    expect_fail "'badjson' is not a valid OCI image layout" imgpkg save -i example.com/x:v1 -f f --to-oci-layout badjson
    assert_eq "$before" "$(tree_listing badjson)" "corrupt layout"
    # a non-empty directory that is not a layout at all
    mkdir -p notlayout/sub
    echo "precious" > notlayout/data.txt
    echo "more" > notlayout/sub/x
    before=$(tree_listing notlayout)
    expect_fail "'notlayout' is not an OCI image layout: no oci-layout file" \
        imgpkg save -i example.com/x:v1 -f f --to-oci-layout notlayout
    assert_eq "$before" "$(tree_listing notlayout)" "non-layout directory"
    # oci-layout of an unknown version
    mkdir -p v2lay
    echo '{"imageLayoutVersion":"2.0.0"}' > v2lay/oci-layout
    echo '{"schemaVersion":2,"manifests":[]}' > v2lay/index.json
    before=$(tree_listing v2lay)
    expect_fail "v2lay" imgpkg save -i example.com/x:v1 -f f --to-oci-layout v2lay
    assert_eq "$before" "$(tree_listing v2lay)" "layout of another version"
    dots=$(find . -name '.*' ! -name . || true)
    [ -z "$dots" ] || fail "temporary files left behind: $dots"
}

# ---------- bad command lines ----------

# se_usage PATTERN ARGS...: imgpkg ARGS fails with PATTERN and writes nothing.
se_usage() {
    local pat=$1
    shift
    expect_fail "$pat" imgpkg "$@"
    assert_eq "$(cat ref.dst)" "$(ls -A dst)" "destination directory"
    cmp ref.tar dst/old.tar || fail "the existing tarball changed"
    assert_eq "$(cat ref.layout)" "$(tree_listing dst/layout)" "the existing layout"
}

test_save_err_usage() {
    make_bundle b
    se_prepare
    se_usage "unknown flag: --nosuch" save -b example.com/x:v1 -f b --to-tar dst/new.tar --nosuch
    se_usage "unknown shorthand flag: 'q' in -q" save -b example.com/x:v1 -f b -q --to-tar dst/new.tar
    se_usage "flag needs an argument: --to-tar" save -b example.com/x:v1 -f b --to-tar
    se_usage "flag needs an argument: --to-oci-layout" save -b example.com/x:v1 -f b --to-oci-layout
    se_usage "flag needs an argument: 'f' in -f" save -b example.com/x:v1 --to-tar dst/new.tar -f
    se_usage "flag needs an argument: 'b' in -b" save -f b --to-tar dst/new.tar -b
    se_usage "Expected either --to-tar or --to-oci-layout" \
        save -b example.com/x:v1 -f b --to-tar dst/new.tar --to-oci-layout dst/newlayout
    se_usage "Expected either --to-tar or --to-oci-layout" save -b example.com/x:v1 -f b
    se_usage "Expected only one of image or bundle" \
        save -b example.com/x:v1 -i example.com/y:v1 -f b --to-tar dst/new.tar
    se_usage "Parsing .example\.com/x(:v1)?@sha256:[0-9a-f]{64}.: .*digest" \
        save -b example.com/x@sha256:5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270 -f b --to-tar dst/new.tar
    se_usage "Parsing .example\.com/x(:v1)?@sha256:[0-9a-f]{64}.: .*digest" \
        save -b example.com/x:v1@sha256:5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270 -f b --to-oci-layout dst/layout
    se_usage "Expected at least one input" save -b example.com/x:v1 --to-tar dst/new.tar
    se_usage "command 'imgpkg save' does not accept extra arguments 'extra'" save -b example.com/x:v1 -f b --to-tar dst/new.tar extra
    se_usage "Parsing 'Bad Name:v1'" save -b "Bad Name:v1" -f b --to-tar dst/new.tar
    se_usage "--compression-level" save -b example.com/x:v1 -f b --to-tar dst/new.tar --compression-level 0
    se_usage "reserved" save -b example.com/x:v1 -l dev.carvel.imgpkg.bundle=false -f b --to-tar dst/new.tar
    se_check_clean
}

# ---------- the top-level command ----------

test_cli_help_version_unknown() {
    imgpkg --help > help.out
    assert_contains "$(cat help.out)" "save"
    assert_contains "$(cat help.out)" "verify"
    imgpkg save --help > save-help.out
    assert_contains "$(cat save-help.out)" "--to-tar"
    assert_contains "$(cat save-help.out)" "--to-oci-layout"
    assert_contains "$(cat save-help.out)" "--preserve-permissions"
    imgpkg verify --help > verify-help.out
    assert_contains "$(cat verify-help.out)" "--oci-layout"
    imgpkg help save > help-save.out
    cmp save-help.out help-save.out || fail "'help save' differs from 'save --help'"
    imgpkg version > version.out
    grep -Eq '^imgpkg version [0-9]+\.[0-9]+\.[0-9]+' version.out || fail "version: $(cat version.out)"
    imgpkg --version > version2.out
    assert_eq "$(head -1 version.out)" "$(head -1 version2.out)" "--version"
    rc=0
    imgpkg nosuch > nosuch.out 2> nosuch.err || rc=$?
    assert_eq 1 "$rc" "exit status of an unknown command"
    expect_fail "command 'imgpkg' does not accept extra arguments 'nosuch'" imgpkg nosuch
    [ ! -s nosuch.out ] || fail "unknown command wrote to stdout: $(cat nosuch.out)"
    expect_fail "unknown flag: --nosuch" imgpkg --nosuch
    expect_fail "Expected either --tar or --oci-layout" imgpkg verify
}
