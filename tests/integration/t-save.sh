# t-save.sh - imgpkg save, read back by the peers.

test_save_bundle_tarball_read_by_skopeo() {
    make_bundle b
    imgpkg save -b example.com/team/bundle:v1 -f b --to-tar out.tar > out.txt
    assert_contains "$(cat out.txt)" "Saved bundle 'example.com/team/bundle:v1@sha256:"
    label=$(skopeo inspect oci-archive:out.tar:v1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["Labels"]["dev.carvel.imgpkg.bundle"])')
    assert_eq "true" "$label" "bundle label"
    skopeo inspect docker-archive:out.tar > /dev/null
}
