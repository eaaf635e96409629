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

#include "archive_crc32.h"
#include "le_fields.h"
#include "utf8.h"

/* An entry is a name reference (offset 8, length 4, flags or reserved 4)
 * and blob references (offset 8, length 4, CRC-32 4): a module's code and
 * source, a data file's bytes. */
#define MODULE_ENTRY 48
#define DATA_ENTRY 32
#define MODULE_CODE 16
#define MODULE_SOURCE 32
#define DATA_BYTES 16
#define ENTRY_PACKAGE 0x1u
#define ENTRY_SOURCE 0x2u

/* Header fields read before the rest is trusted. */
#define HEADER_CRC 56
#define HEADER_BLOBS 60

static const char signature[8] = {'E', 'C', 'F', 'G', 'P', 'A', 'K', '\0'};

/* zlib.crc32(p[0:n], crc), continuing a checksum: eight bytes at a time
 * (read as two little-endian words, whatever the host's byte order), with
 * the eight lookups of each independent of one another, so that a blob costs
 * about a fifth of a byte-at-a-time loop (0.65 ms for 1.5 MB here, against
 * 3.2); the last bytes one at a time. */
static uint32_t
crc32_update(uint32_t crc, const unsigned char *p, size_t n)
{
    const uint32_t (*t)[256] = crc_tables;
    uint32_t c = crc ^ 0xFFFFFFFFu;

    for (; n >= 8; p += 8, n -= 8) {
        uint32_t lo = c ^ ((uint32_t)p[0] | ((uint32_t)p[1] << 8)
                           | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24));
        uint32_t hi = (uint32_t)p[4] | ((uint32_t)p[5] << 8)
                      | ((uint32_t)p[6] << 16) | ((uint32_t)p[7] << 24);

        c = t[7][lo & 0xFFu] ^ t[6][(lo >> 8) & 0xFFu]
            ^ t[5][(lo >> 16) & 0xFFu] ^ t[4][lo >> 24] ^ t[3][hi & 0xFFu]
            ^ t[2][(hi >> 8) & 0xFFu] ^ t[1][(hi >> 16) & 0xFFu]
            ^ t[0][hi >> 24];
    }
    for (; n > 0; p++, n--) {
        c = t[0][(c ^ *p) & 0xFFu] ^ (c >> 8);
    }
    return c ^ 0xFFFFFFFFu;
}

/* The header's checksum: of everything before the first blob (at `end`,
 * at least the header's size), with its own field as zeros. */
static uint32_t
checksum(const unsigned char *h, size_t end)
{
    static const unsigned char zeros[4] = {0, 0, 0, 0};
    uint32_t c = crc32_update(0, h, HEADER_CRC);

    c = crc32_update(c, zeros, sizeof zeros);
    return crc32_update(c, h + HEADER_CRC + 4, end - HEADER_CRC - 4);
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

/* A name (in bounds of the checksummed part, `end`): NUL right after it,
 * none inside, UTF-8. */
static int
valid_name(const embedcfg_archive *a, uint64_t off, uint64_t len, size_t end)
{
    const char *s;

    if (len == 0 || len > EMBEDCFG_ARCHIVE_MAX_NAME
        || !in_bounds(off, len + 1, end)) {
        return 0;
    }
    s = (const char *)a->base + off;
    return s[len] == '\0'
           && embedcfg__utf8_check(s, (size_t)len, NULL) == EMBEDCFG_UTF8_OK;
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

/* The blob referenced at ref in bounds. */
static int
blob_in_bounds(const embedcfg_archive *a, const unsigned char *ref)
{
    return in_bounds(le_u64(ref), le_u32(ref + 8), a->size);
}

/* The entries of both indexes, whose names are before `end`, the first
 * blob. */
static int
check_index(embedcfg_archive *a, size_t end, const char *what, char *err,
            size_t err_size)
{
    uint32_t i;
    const char *prev = NULL;
    size_t prev_len = 0;

    for (i = 0; i < a->n_modules; i++) {
        const unsigned char *e = module_entry(a, i);
        uint64_t name_off = le_u64(e);
        uint32_t name_len = le_u32(e + 8);
        uint32_t flags = le_u32(e + 12);
        const char *name;

        if (!in_bounds(name_off, (uint64_t)name_len + 1, end)) {
            return fail(err, err_size, what,
                        "is corrupt: entry %lu's name is out of bounds",
                        (unsigned long)i, 0);
        }
        if (!valid_name(a, name_off, name_len, end)) {
            return fail(err, err_size, what,
                        "is corrupt: entry %lu has an invalid name",
                        (unsigned long)i, 0);
        }
        name = (const char *)a->base + name_off;  /* only now: in bounds */
        if (prev != NULL && name_order(prev, prev_len, name, name_len) >= 0) {
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
        if (!blob_in_bounds(a, e + MODULE_CODE)) {
            return fail(err, err_size, what,
                        "is corrupt: entry %lu's code is out of bounds",
                        (unsigned long)i, 0);
        }
        if ((flags & ENTRY_SOURCE) && !blob_in_bounds(a, e + MODULE_SOURCE)) {
            return fail(err, err_size, what,
                        "is corrupt: entry %lu's source is out of bounds",
                        (unsigned long)i, 0);
        }
    }
    prev = NULL;
    for (i = 0; i < a->n_data; i++) {
        const unsigned char *e = data_entry(a, i);
        uint64_t name_off = le_u64(e);
        uint32_t name_len = le_u32(e + 8);
        const char *name;
        unsigned long label = (unsigned long)a->n_modules + i;

        if (!in_bounds(name_off, (uint64_t)name_len + 1, end)) {
            return fail(err, err_size, what,
                        "is corrupt: entry %lu's name is out of bounds", label,
                        0);
        }
        if (!valid_name(a, name_off, name_len, end)) {
            return fail(err, err_size, what,
                        "is corrupt: entry %lu has an invalid name", label, 0);
        }
        name = (const char *)a->base + name_off;
        if (prev != NULL && name_order(prev, prev_len, name, name_len) >= 0) {
            return fail(err, err_size, what,
                        "is corrupt: its data index is not sorted", 0, 0);
        }
        prev = name;
        prev_len = name_len;
        if (!blob_in_bounds(a, e + DATA_BYTES)) {
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
    uint32_t end;

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
    format = le_u32(h + 8);
    if (format != EMBEDCFG_ARCHIVE_FORMAT) {
        return fail(err, err_size, what,
                    "has archive format %lu; this embedcfg reads format %lu:"
                    " rebuild it with embedcfg pack",
                    (unsigned long)format,
                    (unsigned long)EMBEDCFG_ARCHIVE_FORMAT);
    }
    declared = le_u64(h + 32);
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
    end = le_u32(h + HEADER_BLOBS);
    if (end < EMBEDCFG_ARCHIVE_HEADER_SIZE || end > size) {
        return fail(err, err_size, what,
                    "is corrupt: its index is out of bounds", 0, 0);
    }
    if (checksum(h, end) != le_u32(h + HEADER_CRC)) {
        return fail(err, err_size, what,
                    "is corrupt: its checksum does not match", 0, 0);
    }
    a->base = h;
    a->size = size;
    memcpy(a->magic, h + 12, 4);
    a->major = h[16];
    a->minor = h[17];
    a->flags = le_u32(h + 20);
    a->n_modules = le_u32(h + 24);
    a->n_data = le_u32(h + 28);
    mod_off = le_u64(h + 40);
    data_off = le_u64(h + 48);
    /* the indexes are in the checksummed part, before the first blob */
    if (mod_off != EMBEDCFG_ARCHIVE_HEADER_SIZE
        || a->n_modules > (end - mod_off) / MODULE_ENTRY
        || data_off != mod_off + (uint64_t)a->n_modules * MODULE_ENTRY
        || a->n_data > (end - data_off) / DATA_ENTRY) {
        memset(a, 0, sizeof *a);
        return fail(err, err_size, what,
                    "is corrupt: its index is out of bounds", 0, 0);
    }
    if (check_index(a, end, what, err, err_size) < 0) {
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
    uint32_t flags = le_u32(e + 12);

    out->name = (const char *)a->base + le_u64(e);
    out->name_len = le_u32(e + 8);
    out->is_package = (flags & ENTRY_PACKAGE) != 0;
    out->has_source = (flags & ENTRY_SOURCE) != 0;
    out->index = i;
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
        int c = name_order(name, len, (const char *)a->base + le_u64(e),
                        le_u32(e + 8));

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
                         embedcfg_archive_data_entry *out)
{
    const unsigned char *e = data_entry(a, i);

    out->name = (const char *)a->base + le_u64(e);
    out->name_len = le_u32(e + 8);
    out->index = i;
}

int
embedcfg_archive_find_data(const embedcfg_archive *a, const char *name,
                           size_t len, embedcfg_archive_data_entry *out)
{
    int64_t i = find_entry(a, 1, name, len);

    if (i < 0) {
        return 0;
    }
    embedcfg_archive_data_at(a, (uint32_t)i, out);
    return 1;
}

/* The blob referenced at `ref` (checked in bounds at open) after checking
 * its CRC-32; `kind` and `name` say which it is in the message. */
static int
read_blob(const embedcfg_archive *a, const unsigned char *ref,
          const char *kind, const char *name, const unsigned char **bytes,
          size_t *len, const char *what, char *err, size_t err_size)
{
    const unsigned char *p = a->base + le_u64(ref);
    size_t n = le_u32(ref + 8);

    *bytes = NULL;
    *len = 0;
    if (crc32_update(0, p, n) != le_u32(ref + 12)) {
        if (err != NULL && err_size > 0) {
            snprintf(err, err_size,
                     "%s is corrupt: %s %s does not match its checksum:"
                     " rebuild it with embedcfg pack",
                     what != NULL ? what : "the archive", kind, name);
        }
        return -1;
    }
    *bytes = p;
    *len = n;
    return 0;
}

int
embedcfg_archive_read_code(const embedcfg_archive *a,
                           const embedcfg_archive_module *m,
                           const unsigned char **bytes, size_t *len,
                           const char *what, char *err, size_t err_size)
{
    return read_blob(a, module_entry(a, m->index) + MODULE_CODE,
                     "the code of module", m->name, bytes, len, what, err,
                     err_size);
}

int
embedcfg_archive_read_source(const embedcfg_archive *a,
                             const embedcfg_archive_module *m,
                             const unsigned char **bytes, size_t *len,
                             const char *what, char *err, size_t err_size)
{
    if (!m->has_source) {
        *bytes = NULL;
        *len = 0;
        return 0;
    }
    return read_blob(a, module_entry(a, m->index) + MODULE_SOURCE,
                     "the source of module", m->name, bytes, len, what, err,
                     err_size);
}

int
embedcfg_archive_read_data(const embedcfg_archive *a,
                           const embedcfg_archive_data_entry *d,
                           const unsigned char **bytes, size_t *len,
                           const char *what, char *err, size_t err_size)
{
    return read_blob(a, data_entry(a, d->index) + DATA_BYTES, "the data file",
                     d->name, bytes, len, what, err, err_size);
}

uint32_t
embedcfg_archive_crc32(uint32_t crc, const void *data, size_t len)
{
    return crc32_update(crc, (const unsigned char *)data, len);
}

int
embedcfg_archive_flags_of(const void *data, size_t size, uint32_t *flags)
{
    const unsigned char *h = (const unsigned char *)data;

    if (size < EMBEDCFG_ARCHIVE_HEADER_SIZE
        || memcmp(h, signature, sizeof signature) != 0
        || le_u32(h + 8) != EMBEDCFG_ARCHIVE_FORMAT) {
        return -1;
    }
    *flags = le_u32(h + 20);
    return 0;
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
    return embedcfg_archive_flags_of(h, n, flags);
}
