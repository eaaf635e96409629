/* embedcfg: fields of the checksummed file formats (archive.h, onefile.h),
 * read byte by byte as little-endian, so that a file needs no alignment and
 * the host's byte order does not matter; and the order of their sorted
 * names.  Internal to archive.c and onefile.c (static: no symbol is
 * exported). */

#ifndef EMBEDCFG_LE_FIELDS_H
#define EMBEDCFG_LE_FIELDS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint32_t
le_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16)
           | ((uint32_t)p[3] << 24);
}

static inline uint64_t
le_u64(const unsigned char *p)
{
    return (uint64_t)le_u32(p) | ((uint64_t)le_u32(p + 4) << 32);
}

/* strcmp order of two names of known lengths (UTF-8 byte order). */
static inline int
name_order(const char *x, size_t xn, const char *y, size_t yn)
{
    int c = memcmp(x, y, xn < yn ? xn : yn);

    if (c != 0) {
        return c;
    }
    return xn < yn ? -1 : (xn > yn ? 1 : 0);
}

#endif /* EMBEDCFG_LE_FIELDS_H */
