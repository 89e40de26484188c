/* fuzz-lock.c - the YAML documents of bundles: ip_images_lock_parse
 * (.imgpkg/images.yml) and ip_image_locations_parse (image-locations.yml).
 * Every image of a parsed ImagesLock is a pinned reference; a parsed
 * ImageLocations written with ip_image_locations_yaml parses again to the same
 * list. */
#include "fuzz.h"

#include "imgpkg/bundle.h"
#include "imgpkg/ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ip_images_lock lock;
    struct ip_image_locations loc, back;
    struct ip_err err;

    ip_err_clear(&err);
    if (ip_images_lock_parse((const char *)data, size, "images.yml", &lock, &err) == 0) {
        for (size_t i = 0; i < lock.n_images; i++) {
            struct ip_ref r;
            FUZZ_CHECK(ip_ref_parse(lock.images[i].image, &r, &err) == 0 && r.digest[0],
                       "images[%zu] '%s' is not pinned", i, lock.images[i].image);
            ip_ref_release(&r);
            for (size_t j = 0; j < lock.images[i].n_annotations; j++)
                FUZZ_CHECK(lock.images[i].annotations[j].key && lock.images[i].annotations[j].val,
                           "annotation");
        }
        ip_images_lock_release(&lock);
    } else {
        FUZZ_CHECK(err.msg[0], "error without a message");
    }

    ip_err_clear(&err);
    if (ip_image_locations_parse((const char *)data, size, &loc, &err) == 0) {
        struct ip_buf y = IP_BUF_INIT;
        ip_image_locations_yaml(&loc, &y);
        FUZZ_CHECK(y.data != NULL, "no YAML written");
        ip_err_clear(&err);
        FUZZ_CHECK(ip_image_locations_parse(y.data, y.len, &back, &err) == 0,
                   "written image-locations.yml does not parse: %s:\n%s", err.msg, y.data);
        FUZZ_CHECK(back.n == loc.n, "%zu images, %zu after a round trip:\n%s", loc.n, back.n,
                   y.data);
        for (size_t i = 0; i < loc.n; i++) {
            FUZZ_CHECK(!strcmp(back.images[i].image, loc.images[i].image),
                       "images[%zu] '%s' became '%s'", i, loc.images[i].image,
                       back.images[i].image);
            FUZZ_CHECK(back.images[i].is_bundle == loc.images[i].is_bundle, "images[%zu]", i);
        }
        ip_image_locations_release(&back);
        ip_image_locations_release(&loc);
        ip_buf_release(&y);
    } else {
        FUZZ_CHECK(err.msg[0], "error without a message");
    }
    return 0;
}
