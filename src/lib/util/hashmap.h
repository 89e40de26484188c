/* hashmap.h - the library's one hash map (as git's strmap): string keys, each
 * with a size_t value (an index into the caller's array, or a small number).
 * FNV-1a hashing, open addressing with linear probing, kept at most half full.
 * Keys are copied, or borrowed when the map is made with borrow_keys (the
 * caller then keeps them alive and unchanged while the map lives).  There is
 * no removal: every user only adds. */
#ifndef IMGPKG_UTIL_HASHMAP_H
#define IMGPKG_UTIL_HASHMAP_H

#include <stdbool.h>
#include <stddef.h>

struct ip_hashmap_entry {
    char *key; /* NULL in a free slot */
    size_t val;
};

struct ip_hashmap {
    struct ip_hashmap_entry *slots;
    size_t n, cap; /* cap: 0 or a power of two */
    bool borrow_keys;
};

#define IP_HASHMAP_INIT                                                                            \
    {                                                                                              \
        NULL, 0, 0, false                                                                          \
    }

void ip_hashmap_init(struct ip_hashmap *m, bool borrow_keys);
void ip_hashmap_release(struct ip_hashmap *m);
/* The value of key, or NULL when the key is not in the map (the pointer is
 * good until the next put). */
size_t *ip_hashmap_find(const struct ip_hashmap *m, const char *key);
bool ip_hashmap_get(const struct ip_hashmap *m, const char *key, size_t *val);
/* Sets the value of key; true when the key was new. */
bool ip_hashmap_put(struct ip_hashmap *m, const char *key, size_t val);
static inline size_t ip_hashmap_size(const struct ip_hashmap *m)
{
    return m->n;
}
/* Walks the entries in no particular order: *pos starts at 0; NULL after the last. */
const struct ip_hashmap_entry *ip_hashmap_next(const struct ip_hashmap *m, size_t *pos);
/* FNV-1a of a string. */
size_t ip_strhash(const char *s);

#endif
