# t-crash.sh - the process killed (SIGKILL, IMGPKG_TEST_CRASH_AT=N: at its Nth
# write or rename point) at every point, one after the other, while it replaces
# what a destination holds: save into an existing layout directory, save over an
# existing tarball, copy from a registry over an existing tarball (straight
# into it, and through the staging directory of --resume).  After every kill
# the destination is the old one or the new one, never anything else; the
# temporary files a killed run leaves are removed by the next run; an
# interrupted copy completes with --resume.

# ---------- helpers (names start with cr_; every t-*.sh shares one shell) ----------

# cr_random DIR MB: DIR with one file of MB megabytes of random bytes (a layer
# that does not compress, so that the run has many write points).
cr_random() {
    mkdir -p "$1"
    head -c "$(($2 * 1000000))" /dev/urandom > "$1/big.bin"
}

# cr_run N CMD...: runs CMD killed at its Nth crash point; sets CR_RC to 0 (the
# run completed) or 137 (killed), fails on anything else.
cr_run() {
    local n=$1
    shift
    CR_RC=0
    IMGPKG_TEST_CRASH_AT=$n "$@" > cr.out 2> cr.err || CR_RC=$?
    case $CR_RC in
    0 | 137) ;;
    *) fail "run killed at point $n: exit status $CR_RC: $(cat cr.err)" ;;
    esac
}

# cr_temps DIR: the temporary (dot) entries anywhere under DIR, sorted.
cr_temps() {
    find "$1" -mindepth 1 -name '.*' | LC_ALL=C sort
}

# cr_gone LIST: none of the paths in LIST (one a line) exists any more.
cr_gone() {
    local p
    while read -r p; do
        [ -z "$p" ] || [ ! -e "$p" ] || fail "'$p', left by the run killed before, is still there"
    done <<< "$1"
}

# cr_digest TRANSPORT: the manifest digest skopeo resolves.
cr_digest() {
    skopeo inspect --format '{{.Digest}}' "$1"
}

# cr_drive STRIDE MIN STEP: calls STEP N for N = 1, 1+STRIDE, 1+2*STRIDE, ...
# until a run completes (STEP sets CR_RC as cr_run does), then for the points
# skipped (2, 2+STRIDE, ...; 3, ...) until MIN runs were killed.
# STEP checks the destination after its run and, after a completed run, puts
# the old destination back.  Sets CR_KILLS and CR_LAST (the first point at
# which a run completed).
cr_drive() {
    local stride=$1 min=$2 step=$3 off n
    CR_KILLS=0
    CR_LAST=""
    for ((off = 0; off < stride; off++)); do
        n=$((1 + off))
        while [ -z "$CR_LAST" ] || [ $n -lt "$CR_LAST" ]; do
            [ $n -le 1000 ] || fail "no run completed in 1000 kill points"
            "$step" $n
            if [ $CR_RC = 0 ]; then
                if [ -z "$CR_LAST" ] || [ $n -lt "$CR_LAST" ]; then CR_LAST=$n; fi
                break
            fi
            CR_KILLS=$((CR_KILLS + 1))
            # filling in: only until MIN
            [ $off = 0 ] || [ $CR_KILLS -lt "$min" ] || break
            n=$((n + stride))
        done
        [ $CR_KILLS -lt "$min" ] || break
    done
    [ -n "$CR_LAST" ] || fail "no run completed"
    [ $CR_KILLS -ge "$min" ] || fail "only $CR_KILLS kill points"
}

# ---------- save into an existing layout directory ----------

# cr_layout_step N: save v1 with new content into lay/, killed at point N.
cr_layout_step() {
    local n=$1 got
    cr_run $n imgpkg save --oci -i example.com/crash/app:v1 -f new --to-oci-layout lay
    # whatever the point: a layout that verifies, v1 the old image or the new one
    imgpkg verify --oci-layout lay > verify.out 2>&1 ||
        fail "after the kill at point $n the layout does not verify: $(cat verify.out)"
    got=$(cr_digest oci:lay:v1) || fail "after the kill at point $n skopeo cannot resolve v1"
    # what the run killed before left was removed by this run
    cr_gone "$CR_PREV"
    CR_PREV=$(cr_temps lay)
    if [ $CR_RC = 0 ]; then
        assert_eq "$CR_NEW" "$got" "v1 after the completed run"
        return 0
    fi
    [ "$got" = "$CR_OLD" ] || [ "$got" = "$CR_NEW" ] ||
        fail "after the kill at point $n v1 is $got: neither $CR_OLD nor $CR_NEW"
}

test_crash_save_into_existing_layout() {
    cr_random old 25
    cr_random new 25
    imgpkg save --oci -i example.com/crash/app:v1 -f old --to-oci-layout lay > /dev/null
    imgpkg save --oci -i example.com/crash/app:v1 -f new --to-oci-layout ref > /dev/null
    CR_OLD=$(cr_digest oci:lay:v1)
    CR_NEW=$(cr_digest oci:ref:v1)
    [ "$CR_OLD" != "$CR_NEW" ] || fail "old and new content have the same digest"
    rm -rf ref
    CR_PREV=""
    # every point in turn, each run on what the one killed before left
    cr_drive 1 20 cr_layout_step
    echo "save --to-oci-layout: killed at $CR_KILLS points, completed at point $CR_LAST"
    assert_eq "" "$(cr_temps lay)" "temporary files left in the layout"
    assert_eq "$CR_NEW" "$(cr_digest oci:lay:v1)" "v1 at the end"
}

# ---------- save over an existing tarball ----------

# cr_tar_step N: save with new content over dst/out.tar, killed at point N.
cr_tar_step() {
    local n=$1
    cr_run $n imgpkg save --oci -i example.com/crash/app:v1 -f new --to-tar dst/out.tar
    cr_gone "$CR_PREV"
    CR_PREV=$(cr_temps dst)
    if [ $CR_RC = 0 ]; then
        cmp dst/out.tar new.tar || fail "the completed run (point $n) did not write the new tarball"
        imgpkg verify --tar dst/out.tar > /dev/null
        assert_eq "out.tar" "$(ls -A dst)" "entries beside the tarball after the completed run"
        cp old.tar dst/out.tar
        return 0
    fi
    cmp -s dst/out.tar old.tar || fail "after the kill at point $n the tarball is not the old one"
    # the killed run's partial tarball (and layer) are there, beside the destination
    [ -n "$CR_PREV" ] || fail "the kill at point $n left no temporary file"
}

test_crash_save_tarball_over_existing() {
    cr_random old 25
    cr_random new 25
    mkdir dst
    imgpkg save --oci -i example.com/crash/app:v1 -f old --to-tar dst/out.tar > /dev/null
    cp dst/out.tar old.tar
    # save is deterministic: the new tarball is this one, byte for byte
    imgpkg save --oci -i example.com/crash/app:v1 -f new --to-tar new.tar > /dev/null
    cmp -s old.tar new.tar && fail "old and new tarballs are the same"
    CR_PREV=""
    cr_drive 2 20 cr_tar_step
    echo "save --to-tar: killed at $CR_KILLS points, runs complete from point $CR_LAST"
    cr_run 1 imgpkg save --oci -i example.com/crash/app:v1 -f new --to-tar dst/out.tar
    imgpkg save --oci -i example.com/crash/app:v1 -f new --to-tar dst/out.tar > /dev/null
    cmp dst/out.tar new.tar
    assert_eq "" "$(cr_temps dst)" "temporary files left beside the tarball"
    assert_eq "out.tar" "$(ls -A dst)" "entries beside the tarball"
}

# ---------- copy from a registry over an existing tarball ----------

# cr_copy_check N: after the run killed at (or completed before) point N,
# dst/out.tar is the old tarball or, whole, the new one.
cr_copy_check() {
    if [ $CR_RC = 0 ] || ! cmp -s dst/out.tar old.tar; then
        # completed, or killed after the rename
        cmp dst/out.tar new.tar || fail "after the run killed at point $1 the tarball is neither old nor new"
        imgpkg verify --tar dst/out.tar > /dev/null
        assert_eq "$CR_NEW" "$(cr_digest oci-archive:dst/out.tar:v1)" "v1 after the run killed at point $1"
    fi
}

# cr_copy_resume N: after the kill at point N, copy --resume completes, leaves
# the new tarball alone beside nothing (no staging directory, no partial
# tarball of the killed run); then the old tarball is put back.
cr_copy_resume() {
    if [ $CR_RC = 137 ]; then
        imgpkg copy -i "$REG_ADDR/crash/app:v1" --to-tar dst/out.tar --resume > resume.out 2>&1 ||
            fail "--resume after the kill at point $1: $(cat resume.out)"
        cmp dst/out.tar new.tar || fail "--resume after the kill at point $1 wrote another tarball"
    fi
    assert_eq "out.tar" "$(ls -A dst)" "entries beside the tarball after point $1"
    cp old.tar dst/out.tar
}

# cr_copy_step N: copy straight into the tarball, killed at point N.
cr_copy_step() {
    cr_run "$1" imgpkg copy -i "$REG_ADDR/crash/app:v1" --to-tar dst/out.tar
    cr_copy_check "$1"
    cr_copy_resume "$1"
}

# cr_copy_staged_step N: copy --resume (through the staging directory beside
# the tarball), killed at point N.
cr_copy_staged_step() {
    cr_run "$1" imgpkg copy -i "$REG_ADDR/crash/app:v1" --to-tar dst/out.tar --resume
    cr_copy_check "$1"
    # what was fetched before the kill is staged beside the tarball
    [ $CR_RC = 0 ] || [ -d dst/.out.tar.imgpkg-partial ] || fail "the kill at point $1 left no staging directory"
    cr_copy_resume "$1"
}

test_crash_copy_to_tar_over_existing() {
    cr_random new 25
    cr_random old 1
    imgpkg push --oci -i "$REG_ADDR/crash/app:v1" -f new > /dev/null
    imgpkg push --oci -i "$REG_ADDR/crash/old:v1" -f old > /dev/null
    mkdir dst
    imgpkg copy -i "$REG_ADDR/crash/old:v1" --to-tar dst/out.tar > /dev/null
    cp dst/out.tar old.tar
    imgpkg copy -i "$REG_ADDR/crash/app:v1" --to-tar new.tar > /dev/null
    imgpkg verify --tar new.tar > /dev/null
    CR_NEW=$(cr_digest oci-archive:new.tar:v1)
    assert_eq "$CR_NEW" "$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$REG_ADDR/crash/app:v1")" "digest of the new tarball"
    # each kill is followed by a --resume run, which is what takes the time:
    # every second point of the direct copy, every third of the staged one
    # (then the points skipped, until 20 runs were killed)
    cr_drive 2 20 cr_copy_step
    echo "copy --to-tar: killed at $CR_KILLS points (each resumed), runs complete from point $CR_LAST"
    cr_drive 3 20 cr_copy_staged_step
    echo "copy --to-tar --resume: killed at $CR_KILLS points (each resumed), runs complete from point $CR_LAST"
    # killed runs in a row, each taking over what the one before staged, then one that completes
    cr_run 5 imgpkg copy -i "$REG_ADDR/crash/app:v1" --to-tar dst/out.tar
    cr_run 3 imgpkg copy -i "$REG_ADDR/crash/app:v1" --to-tar dst/out.tar --resume
    cr_run 30 imgpkg copy -i "$REG_ADDR/crash/app:v1" --to-tar dst/out.tar --resume
    [ $CR_RC = 137 ] || fail "the run killed at point 30 completed"
    cmp -s dst/out.tar old.tar || fail "killed --resume runs changed the tarball"
    imgpkg copy -i "$REG_ADDR/crash/app:v1" --to-tar dst/out.tar --resume > /dev/null
    cmp dst/out.tar new.tar || fail "the final --resume wrote another tarball"
    assert_eq "out.tar" "$(ls -A dst)" "entries beside the tarball at the end"
}
