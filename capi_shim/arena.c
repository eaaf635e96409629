/* The arena; see arena.h. */

#include "arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Room for the size before each allocation, keeping every allocation
 * aligned for any scalar type. */
#define ARENA_HEADER 16

void
embedcfg__arena_init(embedcfg__arena *a, void *region, size_t size)
{
    a->base = (unsigned char *)region;
    /* the offsets below stay far from overflowing */
    a->size = region != NULL && size < (size_t)-1 / 4 ? size : 0;
    a->used = 0;
    a->last = (size_t)-1;
}

static int
in_arena(const embedcfg__arena *a, const void *p)
{
    /* Compared as integers: the pointer may belong to another object.  A
     * block starts after its header and may end the region (an empty one
     * can start right at its end). */
    return a != NULL && a->size != 0
           && (uintptr_t)p >= (uintptr_t)a->base + ARENA_HEADER
           && (uintptr_t)p <= (uintptr_t)a->base + a->size;
}

/* The room an allocation of n bytes takes, header included; n is at most
 * the region's size, so this cannot overflow. */
static size_t
arena_room(size_t n)
{
    return ARENA_HEADER + (n + ARENA_HEADER - 1) / ARENA_HEADER * ARENA_HEADER;
}

void *
embedcfg__alloc(embedcfg__arena *a, size_t n)
{
    unsigned char *p;

    if (a == NULL || a->size == 0 || n > a->size
        || arena_room(n) > a->size - a->used) {
        return malloc(n);
    }
    p = a->base + a->used;
    memcpy(p, &n, sizeof(n));
    a->last = a->used;
    a->used += arena_room(n);
    return p + ARENA_HEADER;
}

void *
embedcfg__realloc(embedcfg__arena *a, void *p, size_t n)
{
    size_t old;
    void *grown;

    if (p == NULL) {
        return embedcfg__alloc(a, n);
    }
    if (!in_arena(a, p)) {
        return realloc(p, n);
    }
    memcpy(&old, (unsigned char *)p - ARENA_HEADER, sizeof(old));
    if ((unsigned char *)p - ARENA_HEADER == a->base + a->last && n <= a->size
        && arena_room(n) <= a->size - a->last) {
        /* the latest allocation grows (or shrinks) in place */
        memcpy(a->base + a->last, &n, sizeof(n));
        a->used = a->last + arena_room(n);
        return p;
    }
    grown = embedcfg__alloc(a, n);
    if (grown != NULL) {
        memcpy(grown, p, old < n ? old : n);
        embedcfg__free(a, p);
    }
    return grown;
}

void
embedcfg__free(embedcfg__arena *a, void *p)
{
    if (p == NULL) {
        return;
    }
    if (!in_arena(a, p)) {
        free(p);
        return;
    }
    /* the latest allocation gives its room back; any other's stays taken
     * until the region goes */
    if ((unsigned char *)p - ARENA_HEADER == a->base + a->last) {
        a->used = a->last;
        a->last = (size_t)-1;
    }
}

char *
embedcfg__strdup_in(embedcfg__arena *a, const char *s)
{
    size_t n = strlen(s) + 1;
    char *copy = (char *)embedcfg__alloc(a, n);

    if (copy != NULL) {
        memcpy(copy, s, n);
    }
    return copy;
}

