/* The arena: the memory the launcher does its work in.
 *
 * Allocations are carved one after the other from a region its owner
 * provides, each after a header with its size (so realloc can copy); the
 * latest one is freed or grown in place, and malloc takes over once the
 * region is full.  Freeing a pointer from outside the region calls free(),
 * so memory from either source is released the same way.  A NULL arena is
 * malloc, realloc and free.  Not thread-safe.
 *
 * Why: the launcher does all its work (read, parse, check, load the
 * handle, fill PyConfig) before CPython allocates anything.  Through
 * malloc, those blocks and the holes they leave stay in the heap the
 * interpreter then grows, and its ~1 000 start-up allocations cost more
 * (measured: ~15 k instructions, changing with every allocation size).  In
 * the launcher's own region the heap CPython starts with is untouched. */

#ifndef EMBEDCFG_ARENA_H
#define EMBEDCFG_ARENA_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    unsigned char *base;
    size_t size;
    size_t used;
    size_t last;  /* the latest allocation's header offset; (size_t)-1: none */
} embedcfg__arena;

void embedcfg__arena_init(embedcfg__arena *a, void *region, size_t size);
void *embedcfg__alloc(embedcfg__arena *a, size_t n);
void *embedcfg__realloc(embedcfg__arena *a, void *p, size_t n);
void embedcfg__free(embedcfg__arena *a, void *p);

/* strdup in `a` (NULL: malloc); NULL when out of memory. */
char *embedcfg__strdup_in(embedcfg__arena *a, const char *s);

/* The launcher's sources (built with EMBEDCFG_LAUNCHER) allocate in its
 * arena (launcher.c); the shim library's in malloc's heap, except what a
 * handle created in an arena owns. */
#ifdef EMBEDCFG_LAUNCHER
extern embedcfg__arena embedcfg__launch_arena;
#  define EMBEDCFG_MEMORY (&embedcfg__launch_arena)
#else
#  define EMBEDCFG_MEMORY NULL
#endif
#define EMBEDCFG_MALLOC(n) embedcfg__alloc(EMBEDCFG_MEMORY, (n))
#define EMBEDCFG_REALLOC(p, n) embedcfg__realloc(EMBEDCFG_MEMORY, (p), (n))
#define EMBEDCFG_FREE(p) embedcfg__free(EMBEDCFG_MEMORY, (p))
#define EMBEDCFG_STRDUP(s) embedcfg__strdup_in(EMBEDCFG_MEMORY, (s))

#ifdef __cplusplus
}
#endif

#endif /* EMBEDCFG_ARENA_H */
