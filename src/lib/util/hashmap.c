/* hashmap.c - string-keyed open-addressing hash map (see hashmap.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imgpkg/util.h"
#include "util/hashmap.h"
#include "util/banned.h"

size_t ip_strhash(const char *s)
{
    uint64_t h = 14695981039346656037ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return (size_t)h;
}

void ip_hashmap_init(struct ip_hashmap *m, bool borrow_keys)
{
    memset(m, 0, sizeof(*m));
    m->borrow_keys = borrow_keys;
}

void ip_hashmap_release(struct ip_hashmap *m)
{
    if (!m->borrow_keys)
        for (size_t i = 0; i < m->cap; i++)
            free(m->slots[i].key);
    free(m->slots);
    m->slots = NULL;
    m->n = m->cap = 0;
}

/* The slot of key, or the free slot where it would go. */
static struct ip_hashmap_entry *probe(struct ip_hashmap_entry *slots, size_t cap, const char *key)
{
    size_t i = ip_strhash(key) & (cap - 1);
    while (slots[i].key && strcmp(slots[i].key, key) != 0)
        i = (i + 1) & (cap - 1);
    return &slots[i];
}

size_t *ip_hashmap_find(const struct ip_hashmap *m, const char *key)
{
    struct ip_hashmap_entry *e;
    if (!m->cap)
        return NULL;
    e = probe(m->slots, m->cap, key);
    return e->key ? &e->val : NULL;
}

bool ip_hashmap_get(const struct ip_hashmap *m, const char *key, size_t *val)
{
    const size_t *v = ip_hashmap_find(m, key);
    if (v && val)
        *val = *v;
    return v != NULL;
}

static void grow(struct ip_hashmap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64;
    struct ip_hashmap_entry *slots = ip_xcalloc(cap, sizeof(*slots));
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].key)
            *probe(slots, cap, m->slots[i].key) = m->slots[i];
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
}

bool ip_hashmap_put(struct ip_hashmap *m, const char *key, size_t val)
{
    struct ip_hashmap_entry *e;
    if ((m->n + 1) * 2 > m->cap)
        grow(m);
    e = probe(m->slots, m->cap, key);
    if (e->key) {
        e->val = val;
        return false;
    }
    e->key = m->borrow_keys ? (char *)key : ip_xstrdup(key);
    e->val = val;
    m->n++;
    return true;
}

const struct ip_hashmap_entry *ip_hashmap_next(const struct ip_hashmap *m, size_t *pos)
{
    for (; *pos < m->cap; (*pos)++)
        if (m->slots[*pos].key)
            return &m->slots[(*pos)++];
    return NULL;
}
