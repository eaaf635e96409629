/* embedcfg: the bytecode archive reader (see archive.h).  Every field is
 * read byte by byte as little-endian, so the file needs no alignment and the
 * host's byte order does not matter; every offset is checked against the
 * size before it is added to anything. */

#if !defined(_XOPEN_SOURCE) && !defined(_WIN32)
#  define _XOPEN_SOURCE 700
#endif

#include "archive.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "utf8.h"

#define MODULE_ENTRY 40
#define DATA_ENTRY 32
#define ENTRY_PACKAGE 0x1u
#define ENTRY_SOURCE 0x2u

static const char signature[8] = {'E', 'C', 'F', 'G', 'P', 'A', 'K', '\0'};

/* zlib's CRC-32 (the one Python's zlib.crc32 computes): constant data, no
 * state. */
static const unsigned long crc_table[256] = {
    0x00000000UL, 0x77073096UL, 0xee0e612cUL, 0x990951baUL, 0x076dc419UL,
    0x706af48fUL, 0xe963a535UL, 0x9e6495a3UL, 0x0edb8832UL, 0x79dcb8a4UL,
    0xe0d5e91eUL, 0x97d2d988UL, 0x09b64c2bUL, 0x7eb17cbdUL, 0xe7b82d07UL,
    0x90bf1d91UL, 0x1db71064UL, 0x6ab020f2UL, 0xf3b97148UL, 0x84be41deUL,
    0x1adad47dUL, 0x6ddde4ebUL, 0xf4d4b551UL, 0x83d385c7UL, 0x136c9856UL,
    0x646ba8c0UL, 0xfd62f97aUL, 0x8a65c9ecUL, 0x14015c4fUL, 0x63066cd9UL,
    0xfa0f3d63UL, 0x8d080df5UL, 0x3b6e20c8UL, 0x4c69105eUL, 0xd56041e4UL,
    0xa2677172UL, 0x3c03e4d1UL, 0x4b04d447UL, 0xd20d85fdUL, 0xa50ab56bUL,
    0x35b5a8faUL, 0x42b2986cUL, 0xdbbbc9d6UL, 0xacbcf940UL, 0x32d86ce3UL,
    0x45df5c75UL, 0xdcd60dcfUL, 0xabd13d59UL, 0x26d930acUL, 0x51de003aUL,
    0xc8d75180UL, 0xbfd06116UL, 0x21b4f4b5UL, 0x56b3c423UL, 0xcfba9599UL,
    0xb8bda50fUL, 0x2802b89eUL, 0x5f058808UL, 0xc60cd9b2UL, 0xb10be924UL,
    0x2f6f7c87UL, 0x58684c11UL, 0xc1611dabUL, 0xb6662d3dUL, 0x76dc4190UL,
    0x01db7106UL, 0x98d220bcUL, 0xefd5102aUL, 0x71b18589UL, 0x06b6b51fUL,
    0x9fbfe4a5UL, 0xe8b8d433UL, 0x7807c9a2UL, 0x0f00f934UL, 0x9609a88eUL,
    0xe10e9818UL, 0x7f6a0dbbUL, 0x086d3d2dUL, 0x91646c97UL, 0xe6635c01UL,
    0x6b6b51f4UL, 0x1c6c6162UL, 0x856530d8UL, 0xf262004eUL, 0x6c0695edUL,
    0x1b01a57bUL, 0x8208f4c1UL, 0xf50fc457UL, 0x65b0d9c6UL, 0x12b7e950UL,
    0x8bbeb8eaUL, 0xfcb9887cUL, 0x62dd1ddfUL, 0x15da2d49UL, 0x8cd37cf3UL,
    0xfbd44c65UL, 0x4db26158UL, 0x3ab551ceUL, 0xa3bc0074UL, 0xd4bb30e2UL,
    0x4adfa541UL, 0x3dd895d7UL, 0xa4d1c46dUL, 0xd3d6f4fbUL, 0x4369e96aUL,
    0x346ed9fcUL, 0xad678846UL, 0xda60b8d0UL, 0x44042d73UL, 0x33031de5UL,
    0xaa0a4c5fUL, 0xdd0d7cc9UL, 0x5005713cUL, 0x270241aaUL, 0xbe0b1010UL,
    0xc90c2086UL, 0x5768b525UL, 0x206f85b3UL, 0xb966d409UL, 0xce61e49fUL,
    0x5edef90eUL, 0x29d9c998UL, 0xb0d09822UL, 0xc7d7a8b4UL, 0x59b33d17UL,
    0x2eb40d81UL, 0xb7bd5c3bUL, 0xc0ba6cadUL, 0xedb88320UL, 0x9abfb3b6UL,
    0x03b6e20cUL, 0x74b1d29aUL, 0xead54739UL, 0x9dd277afUL, 0x04db2615UL,
    0x73dc1683UL, 0xe3630b12UL, 0x94643b84UL, 0x0d6d6a3eUL, 0x7a6a5aa8UL,
    0xe40ecf0bUL, 0x9309ff9dUL, 0x0a00ae27UL, 0x7d079eb1UL, 0xf00f9344UL,
    0x8708a3d2UL, 0x1e01f268UL, 0x6906c2feUL, 0xf762575dUL, 0x806567cbUL,
    0x196c3671UL, 0x6e6b06e7UL, 0xfed41b76UL, 0x89d32be0UL, 0x10da7a5aUL,
    0x67dd4accUL, 0xf9b9df6fUL, 0x8ebeeff9UL, 0x17b7be43UL, 0x60b08ed5UL,
    0xd6d6a3e8UL, 0xa1d1937eUL, 0x38d8c2c4UL, 0x4fdff252UL, 0xd1bb67f1UL,
    0xa6bc5767UL, 0x3fb506ddUL, 0x48b2364bUL, 0xd80d2bdaUL, 0xaf0a1b4cUL,
    0x36034af6UL, 0x41047a60UL, 0xdf60efc3UL, 0xa867df55UL, 0x316e8eefUL,
    0x4669be79UL, 0xcb61b38cUL, 0xbc66831aUL, 0x256fd2a0UL, 0x5268e236UL,
    0xcc0c7795UL, 0xbb0b4703UL, 0x220216b9UL, 0x5505262fUL, 0xc5ba3bbeUL,
    0xb2bd0b28UL, 0x2bb45a92UL, 0x5cb36a04UL, 0xc2d7ffa7UL, 0xb5d0cf31UL,
    0x2cd99e8bUL, 0x5bdeae1dUL, 0x9b64c2b0UL, 0xec63f226UL, 0x756aa39cUL,
    0x026d930aUL, 0x9c0906a9UL, 0xeb0e363fUL, 0x72076785UL, 0x05005713UL,
    0x95bf4a82UL, 0xe2b87a14UL, 0x7bb12baeUL, 0x0cb61b38UL, 0x92d28e9bUL,
    0xe5d5be0dUL, 0x7cdcefb7UL, 0x0bdbdf21UL, 0x86d3d2d4UL, 0xf1d4e242UL,
    0x68ddb3f8UL, 0x1fda836eUL, 0x81be16cdUL, 0xf6b9265bUL, 0x6fb077e1UL,
    0x18b74777UL, 0x88085ae6UL, 0xff0f6a70UL, 0x66063bcaUL, 0x11010b5cUL,
    0x8f659effUL, 0xf862ae69UL, 0x616bffd3UL, 0x166ccf45UL, 0xa00ae278UL,
    0xd70dd2eeUL, 0x4e048354UL, 0x3903b3c2UL, 0xa7672661UL, 0xd06016f7UL,
    0x4969474dUL, 0x3e6e77dbUL, 0xaed16a4aUL, 0xd9d65adcUL, 0x40df0b66UL,
    0x37d83bf0UL, 0xa9bcae53UL, 0xdebb9ec5UL, 0x47b2cf7fUL, 0x30b5ffe9UL,
    0xbdbdf21cUL, 0xcabac28aUL, 0x53b39330UL, 0x24b4a3a6UL, 0xbad03605UL,
    0xcdd70693UL, 0x54de5729UL, 0x23d967bfUL, 0xb3667a2eUL, 0xc4614ab8UL,
    0x5d681b02UL, 0x2a6f2b94UL, 0xb40bbe37UL, 0xc30c8ea1UL, 0x5a05df1bUL,
    0x2d02ef8dUL};

/* zlib.crc32(p[0:n], crc), continuing a checksum. */
static uint32_t
crc32_update(uint32_t crc, const unsigned char *p, size_t n)
{
    uint32_t c = crc ^ 0xFFFFFFFFu;
    size_t i;

    for (i = 0; i < n; i++) {
        c = (uint32_t)crc_table[(c ^ p[i]) & 0xFFu] ^ (c >> 8);
    }
    return c ^ 0xFFFFFFFFu;
}

/* The checksum of the whole file with its own field (bytes 56-59) as zeros. */
static uint32_t
checksum(const unsigned char *h, size_t size)
{
    static const unsigned char zeros[4] = {0, 0, 0, 0};
    uint32_t c = crc32_update(0, h, 56);

    c = crc32_update(c, zeros, sizeof zeros);
    return crc32_update(c, h + 60, size - 60);
}

static uint32_t
u32_at(const unsigned char *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16)
           | ((uint32_t)p[3] << 24);
}

static uint64_t
u64_at(const unsigned char *p)
{
    return (uint64_t)u32_at(p) | ((uint64_t)u32_at(p + 4) << 32);
}

static int
fail(char *err, size_t err_size, const char *what, const char *fmt,
     unsigned long a, unsigned long b)
{
    char detail[256];

    if (err != NULL && err_size > 0) {
        snprintf(detail, sizeof detail, fmt, a, b);
        snprintf(err, err_size, "%s %s", what, detail);
    }
    return -1;
}

/* off and len inside the file (size <= EMBEDCFG_ARCHIVE_MAX_SIZE). */
static int
in_bounds(uint64_t off, uint64_t len, size_t size)
{
    return off <= size && len <= (uint64_t)size - off;
}

/* A name: off/len in bounds, NUL right after it, none inside, UTF-8. */
static int
valid_name(const embedcfg_archive *a, uint64_t off, uint64_t len)
{
    const char *s;

    if (len == 0 || len > EMBEDCFG_ARCHIVE_MAX_NAME
        || !in_bounds(off, len + 1, a->size)) {
        return 0;
    }
    s = (const char *)a->base + off;
    return s[len] == '\0'
           && embedcfg__utf8_check(s, (size_t)len, NULL) == EMBEDCFG_UTF8_OK;
}

/* strcmp order of two names of known lengths (UTF-8 byte order). */
static int
compare(const char *x, size_t xn, const char *y, size_t yn)
{
    int c = memcmp(x, y, xn < yn ? xn : yn);

    if (c != 0) {
        return c;
    }
    return xn < yn ? -1 : (xn > yn ? 1 : 0);
}

static const unsigned char *
module_entry(const embedcfg_archive *a, uint32_t i)
{
    return a->base + EMBEDCFG_ARCHIVE_HEADER_SIZE + (size_t)i * MODULE_ENTRY;
}

static const unsigned char *
data_entry(const embedcfg_archive *a, uint32_t i)
{
    return a->base + EMBEDCFG_ARCHIVE_HEADER_SIZE
           + (size_t)a->n_modules * MODULE_ENTRY + (size_t)i * DATA_ENTRY;
}

static int
check_index(embedcfg_archive *a, const char *what, char *err, size_t err_size)
{
    uint32_t i;
    const char *prev = NULL;
    size_t prev_len = 0;

    for (i = 0; i < a->n_modules; i++) {
        const unsigned char *e = module_entry(a, i);
        uint64_t name_off = u64_at(e);
        uint32_t name_len = u32_at(e + 8);
        uint32_t flags = u32_at(e + 12);
        const char *name;

        if (!in_bounds(name_off, (uint64_t)name_len + 1, a->size)) {
            return fail(err, err_size, what,
                        "is corrupt: entry %lu's name is out of bounds",
                        (unsigned long)i, 0);
        }
        if (!valid_name(a, name_off, name_len)) {
            return fail(err, err_size, what,
                        "is corrupt: entry %lu has an invalid name",
                        (unsigned long)i, 0);
        }
        name = (const char *)a->base + name_off;  /* only now: in bounds */
        if (prev != NULL && compare(prev, prev_len, name, name_len) >= 0) {
            return fail(err, err_size, what,
                        "is corrupt: its index is not sorted", 0, 0);
        }
        prev = name;
        prev_len = name_len;
        if (flags & ~(ENTRY_PACKAGE | ENTRY_SOURCE)) {
            return fail(err, err_size, what,
                        "is corrupt: entry %lu has unknown flags",
                        (unsigned long)i, 0);
        }
        if (!in_bounds(u64_at(e + 16), u32_at(e + 24), a->size)) {
            return fail(err, err_size, what,
                        "is corrupt: entry %lu's code is out of bounds",
                        (unsigned long)i, 0);
        }
        if ((flags & ENTRY_SOURCE)
            && !in_bounds(u64_at(e + 32), u32_at(e + 28), a->size)) {
            return fail(err, err_size, what,
                        "is corrupt: entry %lu's source is out of bounds",
                        (unsigned long)i, 0);
        }
    }
    prev = NULL;
    for (i = 0; i < a->n_data; i++) {
        const unsigned char *e = data_entry(a, i);
        uint64_t name_off = u64_at(e);
        uint32_t name_len = u32_at(e + 8);
        const char *name;
        unsigned long label = (unsigned long)a->n_modules + i;

        if (!in_bounds(name_off, (uint64_t)name_len + 1, a->size)) {
            return fail(err, err_size, what,
                        "is corrupt: entry %lu's name is out of bounds", label,
                        0);
        }
        if (!valid_name(a, name_off, name_len)) {
            return fail(err, err_size, what,
                        "is corrupt: entry %lu has an invalid name", label, 0);
        }
        name = (const char *)a->base + name_off;
        if (prev != NULL && compare(prev, prev_len, name, name_len) >= 0) {
            return fail(err, err_size, what,
                        "is corrupt: its data index is not sorted", 0, 0);
        }
        prev = name;
        prev_len = name_len;
        if (!in_bounds(u64_at(e + 16), u64_at(e + 24), a->size)) {
            return fail(err, err_size, what,
                        "is corrupt: data entry %lu is out of bounds",
                        (unsigned long)i, 0);
        }
    }
    return 0;
}

int
embedcfg_archive_from_memory(embedcfg_archive *a, const void *data,
                             size_t size, const char *what, char *err,
                             size_t err_size)
{
    const unsigned char *h = (const unsigned char *)data;
    uint64_t declared;
    uint64_t mod_off;
    uint64_t data_off;
    uint32_t format;

    if (err != NULL && err_size > 0) {
        err[0] = '\0';
    }
    if (a == NULL) {
        return -1;
    }
    memset(a, 0, sizeof *a);
    if (what == NULL) {
        what = "the archive";
    }
    if (h == NULL || size < EMBEDCFG_ARCHIVE_HEADER_SIZE) {
        return fail(
            err, err_size, what,
            "is truncated: %lu bytes, shorter than the %lu-byte header",
            (unsigned long)(h == NULL ? 0 : size),
            (unsigned long)EMBEDCFG_ARCHIVE_HEADER_SIZE);
    }
    if (memcmp(h, signature, sizeof signature) != 0) {
        return fail(err, err_size, what,
                    "is not an embedcfg archive (bad signature)", 0, 0);
    }
    format = u32_at(h + 8);
    if (format != EMBEDCFG_ARCHIVE_FORMAT) {
        return fail(err, err_size, what,
                    "has archive format %lu; this embedcfg reads format %lu",
                    (unsigned long)format,
                    (unsigned long)EMBEDCFG_ARCHIVE_FORMAT);
    }
    declared = u64_at(h + 32);
    if (declared != (uint64_t)size) {
        if (err != NULL && err_size > 0) {
            snprintf(err, err_size,
                     "%s is %s: the header says %llu bytes, the file has %llu",
                     what,
                     declared > (uint64_t)size ? "truncated" : "oversized",
                     (unsigned long long)declared, (unsigned long long)size);
        }
        return -1;
    }
    if ((uint64_t)size >= EMBEDCFG_ARCHIVE_MAX_SIZE) {
        return fail(err, err_size, what,
                    "is corrupt: its index is out of bounds", 0, 0);
    }
    if (checksum(h, size) != u32_at(h + 56)) {
        return fail(err, err_size, what,
                    "is corrupt: its checksum does not match", 0, 0);
    }
    a->base = h;
    a->size = size;
    memcpy(a->magic, h + 12, 4);
    a->major = h[16];
    a->minor = h[17];
    a->flags = u32_at(h + 20);
    a->n_modules = u32_at(h + 24);
    a->n_data = u32_at(h + 28);
    mod_off = u64_at(h + 40);
    data_off = u64_at(h + 48);
    if (mod_off != EMBEDCFG_ARCHIVE_HEADER_SIZE
        || a->n_modules > (size - mod_off) / MODULE_ENTRY
        || data_off != mod_off + (uint64_t)a->n_modules * MODULE_ENTRY
        || a->n_data > (size - data_off) / DATA_ENTRY) {
        memset(a, 0, sizeof *a);
        return fail(err, err_size, what,
                    "is corrupt: its index is out of bounds", 0, 0);
    }
    if (check_index(a, what, err, err_size) < 0) {
        memset(a, 0, sizeof *a);
        return -1;
    }
    return 0;
}

int
embedcfg_archive_open(embedcfg_archive *a, const char *path, const char *what,
                      char *err, size_t err_size)
{
    struct stat st;
    void *map;
    int fd;

    if (a == NULL || path == NULL) {
        return -1;
    }
    memset(a, 0, sizeof *a);
    if (what == NULL) {
        what = path;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        if (err != NULL && err_size > 0) {
            snprintf(err, err_size, "%s: cannot read it: %s", what,
                     fd < 0 ? strerror(errno) : "not a regular file");
        }
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    if ((uint64_t)st.st_size < EMBEDCFG_ARCHIVE_HEADER_SIZE
        || (uint64_t)st.st_size >= EMBEDCFG_ARCHIVE_MAX_SIZE) {
        close(fd);
        /* the same message as for the same bytes in memory, without mapping them */
        if ((uint64_t)st.st_size >= EMBEDCFG_ARCHIVE_MAX_SIZE) {
            return fail(err, err_size, what,
                        "is oversized: %llu bytes, the format's limit is"
                        " 4 GiB",
                        (unsigned long)st.st_size, 0);
        }
        return embedcfg_archive_from_memory(a, "", (size_t)st.st_size, what,
                                            err, err_size);
    }
    map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) {
        if (err != NULL && err_size > 0) {
            snprintf(err, err_size, "%s: cannot read it: %s", what,
                     strerror(errno));
        }
        return -1;
    }
    if (embedcfg_archive_from_memory(a, map, (size_t)st.st_size, what, err,
                                     err_size)
        < 0) {
        munmap(map, (size_t)st.st_size);
        return -1;
    }
    a->mapping = map;
    a->mapping_size = (size_t)st.st_size;
    return 0;
}

void
embedcfg_archive_close(embedcfg_archive *a)
{
    if (a != NULL) {
        if (a->mapping != NULL) {
            munmap(a->mapping, a->mapping_size);
        }
        memset(a, 0, sizeof *a);
    }
}

int
embedcfg_archive_check_python(const embedcfg_archive *a,
                              const unsigned char magic[4], int minor,
                              const char *what, char *err, size_t err_size)
{
    if (a->major == 3 && a->minor == minor
        && memcmp(a->magic, magic, 4) == 0) {
        return 0;
    }
    if (err != NULL && err_size > 0) {
        snprintf(err, err_size,
                 "%s was packed for CPython %d.%d (bytecode magic "
                 "%02x%02x%02x%02x), this is"
                 " 3.%d (magic %02x%02x%02x%02x): rebuild it with embedcfg "
                 "pack --python"
                 " TARGET",
                 what != NULL ? what : "the archive", a->major, a->minor,
                 a->magic[0], a->magic[1], a->magic[2], a->magic[3], minor,
                 magic[0], magic[1], magic[2], magic[3]);
    }
    return -1;
}

void
embedcfg_archive_module_at(const embedcfg_archive *a, uint32_t i,
                           embedcfg_archive_module *out)
{
    const unsigned char *e = module_entry(a, i);
    uint32_t flags = u32_at(e + 12);

    out->name = (const char *)a->base + u64_at(e);
    out->name_len = u32_at(e + 8);
    out->is_package = (flags & ENTRY_PACKAGE) != 0;
    out->code = a->base + u64_at(e + 16);
    out->code_len = u32_at(e + 24);
    out->source = (flags & ENTRY_SOURCE) ? a->base + u64_at(e + 32) : NULL;
    out->source_len = (flags & ENTRY_SOURCE) ? u32_at(e + 28) : 0;
}

/* Binary search of one of the two indexes, both sorted by name and both
 * holding the name's offset and length first: the entry's number, or -1. */
static int64_t
find_entry(const embedcfg_archive *a, int data, const char *name, size_t len)
{
    uint32_t lo = 0;
    uint32_t hi;

    if (a == NULL || a->base == NULL || name == NULL) {
        return -1;
    }
    hi = data ? a->n_data : a->n_modules;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        const unsigned char *e =
            data ? data_entry(a, mid) : module_entry(a, mid);
        int c = compare(name, len, (const char *)a->base + u64_at(e),
                        u32_at(e + 8));

        if (c == 0) {
            return mid;
        }
        if (c < 0) {
            hi = mid;
        }
        else {
            lo = mid + 1;
        }
    }
    return -1;
}

int
embedcfg_archive_find(const embedcfg_archive *a, const char *name, size_t len,
                      embedcfg_archive_module *out)
{
    int64_t i = find_entry(a, 0, name, len);

    if (i < 0) {
        return 0;
    }
    embedcfg_archive_module_at(a, (uint32_t)i, out);
    return 1;
}

void
embedcfg_archive_data_at(const embedcfg_archive *a, uint32_t i,
                         const char **name, size_t *name_len,
                         const unsigned char **data, size_t *data_len)
{
    const unsigned char *e = data_entry(a, i);

    *name = (const char *)a->base + u64_at(e);
    *name_len = u32_at(e + 8);
    *data = a->base + u64_at(e + 16);
    *data_len = (size_t)u64_at(e + 24);
}

int
embedcfg_archive_find_data(const embedcfg_archive *a, const char *name,
                           size_t len, const unsigned char **data,
                           size_t *data_len)
{
    int64_t i = find_entry(a, 1, name, len);
    const char *n;
    size_t n_len;

    if (i < 0) {
        return 0;
    }
    embedcfg_archive_data_at(a, (uint32_t)i, &n, &n_len, data, data_len);
    return 1;
}

int
embedcfg_archive_peek_flags(const char *path, uint32_t *flags)
{
    unsigned char h[EMBEDCFG_ARCHIVE_HEADER_SIZE];
    FILE *f = fopen(path, "rb");
    size_t n;

    if (f == NULL) {
        return -1;
    }
    n = fread(h, 1, sizeof h, f);
    fclose(f);
    if (n != sizeof h || memcmp(h, signature, sizeof signature) != 0
        || u32_at(h + 8) != EMBEDCFG_ARCHIVE_FORMAT) {
        return -1;
    }
    *flags = u32_at(h + 20);
    return 0;
}
