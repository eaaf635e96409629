/* embedcfg: the one-file payload reader (see onefile.h).  Fields are read
 * byte by byte as little-endian, as in archive.c; every offset is checked
 * against the size before it is added to anything. */

#if !defined(_XOPEN_SOURCE) && !defined(_WIN32)
#  define _XOPEN_SOURCE 700
#endif

#include "onefile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive.h"
#include "le_fields.h"
#include "utf8.h"

static const char signature[8] = {'E', 'C', 'F', 'G', 'O', 'N', 'E', '\0'};

/* Trailer fields. */
#define T_VERSION 8
#define T_SECTIONS 12
#define T_FILE_SIZE 16
#define T_TABLE 24
#define T_TABLE_SIZE 32
#define T_TABLE_CRC 40
#define T_CRC 44

/* Entry fields. */
#define E_KIND 0
#define E_FLAGS 4
#define E_OFFSET 8
#define E_SIZE 16
#define E_CRC 24
#define E_NAME 28
#define E_NAME_LEN 32
#define E_PATH_LEN 36

#define MAX_NAME 4096
/* The largest payload read: the archives' own limit (archive.h). */
#define MAX_SIZE EMBEDCFG_ARCHIVE_MAX_SIZE

#define FIX "rebuild it with embedcfg bundle --onefile"

static int
damaged(char *err, size_t err_size, const char *path, const char *fmt, ...)
{
    char detail[256];
    va_list ap;

    if (err != NULL && err_size > 0) {
        va_start(ap, fmt);
        vsnprintf(detail, sizeof detail, fmt, ap);
        va_end(ap);
        snprintf(err, err_size,
                 "%s: the one-file payload is damaged (%s): " FIX, path,
                 detail);
    }
    return -1;
}

static int
in_bounds(uint64_t off, uint64_t len, uint64_t size)
{
    return off <= size && len <= size - off;
}

static const unsigned char *
entry_at(const embedcfg_onefile *f, uint32_t i)
{
    return f->table + (size_t)i * EMBEDCFG_ONEFILE_ENTRY_SIZE;
}

/* A string of the table at `off` (len bytes, NUL right after, none inside,
 * UTF-8), or NULL. */
static const char *
table_string(const embedcfg_onefile *f, uint64_t off, uint64_t len)
{
    const char *s;
    uint64_t names = (uint64_t)f->n_sections * EMBEDCFG_ONEFILE_ENTRY_SIZE;

    if (len > MAX_NAME || off < names
        || !in_bounds(off, len + 1, f->table_size)) {
        return NULL;
    }
    s = (const char *)f->table + off;
    if (s[len] != '\0' || memchr(s, '\0', (size_t)len) != NULL
        || embedcfg__utf8_check(s, (size_t)len, NULL) != EMBEDCFG_UTF8_OK) {
        return NULL;
    }
    return s;
}

void
embedcfg_onefile_section_at(const embedcfg_onefile *f, uint32_t i,
                            embedcfg_onefile_section *out)
{
    const unsigned char *e = entry_at(f, i);
    uint64_t name = le_u32(e + E_NAME);

    out->index = i;
    out->kind = le_u32(e + E_KIND);
    out->flags = le_u32(e + E_FLAGS);
    out->bytes = f->base + le_u64(e + E_OFFSET);
    out->size = (size_t)le_u64(e + E_SIZE);
    out->crc = le_u32(e + E_CRC);
    out->name = (const char *)f->table + name;
    out->name_len = le_u32(e + E_NAME_LEN);
    out->path = out->name + out->name_len + 1;
    out->path_len = le_u32(e + E_PATH_LEN);
    if (out->kind != EMBEDCFG_ONEFILE_EXTENSION) {
        out->path = "";
    }
}

/* Everything but the trailer, which `open` checked: the table's entries. */
static int
check_table(embedcfg_onefile *f, const char *path, uint64_t table_off,
            char *err, size_t err_size)
{
    uint64_t end = 0;  /* the end of the previous section */
    uint32_t previous_kind = 0;
    uint32_t documents = 0;
    const char *previous_name = NULL;
    size_t previous_len = 0;
    uint32_t i;

    if ((uint64_t)f->n_sections * EMBEDCFG_ONEFILE_ENTRY_SIZE
        > f->table_size) {
        return damaged(err, err_size, path, "%lu sections do not fit in a"
                       " table of %lu bytes", (unsigned long)f->n_sections,
                       (unsigned long)f->table_size);
    }
    f->first_extension = f->n_sections;
    for (i = 0; i < f->n_sections; i++) {
        const unsigned char *e = entry_at(f, i);
        uint32_t kind = le_u32(e + E_KIND);
        uint64_t off = le_u64(e + E_OFFSET);
        uint64_t size = le_u64(e + E_SIZE);
        uint64_t name_off = le_u32(e + E_NAME);
        uint64_t name_len = le_u32(e + E_NAME_LEN);
        uint64_t path_len = le_u32(e + E_PATH_LEN);
        const char *name;

        if (kind < EMBEDCFG_ONEFILE_DOCUMENT
            || kind > EMBEDCFG_ONEFILE_EXTENSION || kind < previous_kind) {
            return damaged(err, err_size, path, "section %lu has kind %lu,"
                           " out of order or unknown", (unsigned long)i,
                           (unsigned long)kind);
        }
        if (off < end || off % 8 != 0 || !in_bounds(off, size, table_off)) {
            return damaged(err, err_size, path, "section %lu (%lu bytes at"
                           " offset %lu) is outside the payload",
                           (unsigned long)i, (unsigned long)size,
                           (unsigned long)off);
        }
        end = off + size;
        name = table_string(f, name_off, name_len);
        if (name == NULL || name_len == 0
            || (kind == EMBEDCFG_ONEFILE_EXTENSION
                && (path_len == 0
                    || table_string(f, name_off + name_len + 1, path_len)
                       == NULL))
            || (kind != EMBEDCFG_ONEFILE_EXTENSION && path_len != 0)) {
            return damaged(err, err_size, path, "section %lu has a bad name",
                           (unsigned long)i);
        }
        if (kind == EMBEDCFG_ONEFILE_DOCUMENT) {
            documents++;
        }
        if (kind == EMBEDCFG_ONEFILE_EXTENSION) {
            if (previous_kind != EMBEDCFG_ONEFILE_EXTENSION) {
                f->first_extension = i;
            }
            else if (name_order(previous_name, previous_len, name,
                             (size_t)name_len) >= 0) {
                return damaged(err, err_size, path, "extension module %s is"
                               " out of order", name);
            }
            previous_name = name;
            previous_len = (size_t)name_len;
        }
        previous_kind = kind;
    }
    if (documents != 1) {
        return damaged(err, err_size, path, "%lu documents instead of one",
                       (unsigned long)documents);
    }
    return 0;
}

int
embedcfg_onefile_open(embedcfg_onefile *f, const char *path, char *err,
                      size_t err_size)
{
    unsigned char t[EMBEDCFG_ONEFILE_TRAILER_SIZE];
    struct stat st;
    uint64_t table_off;
    uint64_t table_size;
    embedcfg_onefile_section doc;
    void *map;
    int fd;

    if (f == NULL || path == NULL) {
        return -1;
    }
    memset(f, 0, sizeof *f);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0) {
        if (err != NULL && err_size > 0) {
            snprintf(err, err_size, "%s: cannot read it: %s", path,
                     strerror(errno));
        }
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    if (!S_ISREG(st.st_mode) || st.st_size < (off_t)sizeof t
        || pread(fd, t, sizeof t, st.st_size - (off_t)sizeof t)
           != (ssize_t)sizeof t
        || memcmp(t, signature, sizeof signature) != 0) {
        close(fd);
        return 0;  /* an ordinary executable */
    }
    if (embedcfg_archive_crc32(0, t, T_CRC) != le_u32(t + T_CRC)) {
        close(fd);
        return damaged(err, err_size, path, "the trailer's checksum does not"
                       " match");
    }
    if (le_u32(t + T_VERSION) != EMBEDCFG_ONEFILE_FORMAT) {
        close(fd);
        if (err != NULL && err_size > 0) {
            snprintf(err, err_size,
                     "%s has one-file format %lu; this launcher reads format"
                     " %d: " FIX, path, (unsigned long)le_u32(t + T_VERSION),
                     EMBEDCFG_ONEFILE_FORMAT);
        }
        return -1;
    }
    table_off = le_u64(t + T_TABLE);
    table_size = le_u64(t + T_TABLE_SIZE);
    if (le_u64(t + T_FILE_SIZE) != (uint64_t)st.st_size
        || (uint64_t)st.st_size >= MAX_SIZE
        || !in_bounds(table_off, table_size,
                      (uint64_t)st.st_size - sizeof t)
        || table_off + table_size != (uint64_t)st.st_size - sizeof t) {
        close(fd);
        return damaged(err, err_size, path, "%llu bytes, the trailer says"
                       " %llu", (unsigned long long)st.st_size,
                       (unsigned long long)le_u64(t + T_FILE_SIZE));
    }
    map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) {
        if (err != NULL && err_size > 0) {
            snprintf(err, err_size, "%s: cannot map it: %s", path,
                     strerror(errno));
        }
        return -1;
    }
    f->mapping = map;
    f->mapping_size = (size_t)st.st_size;
    f->base = (const unsigned char *)map;
    f->size = (size_t)st.st_size;
    f->table = f->base + table_off;
    f->table_size = (size_t)table_size;
    f->n_sections = le_u32(t + T_SECTIONS);
    f->id = le_u32(t + T_TABLE_CRC);
    if (embedcfg_archive_crc32(0, f->table, f->table_size) != f->id) {
        embedcfg_onefile_close(f);
        return damaged(err, err_size, path, "the section table's checksum"
                       " does not match");
    }
    if (check_table(f, path, table_off, err, err_size) < 0) {
        embedcfg_onefile_close(f);
        return -1;
    }
    embedcfg_onefile_document(f, &doc);
    if (embedcfg_onefile_check_section(&doc, path, err, err_size) < 0) {
        embedcfg_onefile_close(f);
        return -1;
    }
    return 1;
}

void
embedcfg_onefile_close(embedcfg_onefile *f)
{
    if (f == NULL) {
        return;
    }
    if (f->mapping != NULL) {
        munmap(f->mapping, f->mapping_size);
    }
    memset(f, 0, sizeof *f);
}

void
embedcfg_onefile_document(const embedcfg_onefile *f,
                          embedcfg_onefile_section *out)
{
    uint32_t i;

    for (i = 0; i < f->n_sections; i++) {
        embedcfg_onefile_section_at(f, i, out);
        if (out->kind == EMBEDCFG_ONEFILE_DOCUMENT) {
            return;
        }
    }
    memset(out, 0, sizeof *out);  /* not an opened payload */
}

int
embedcfg_onefile_find_extension(const embedcfg_onefile *f, const char *name,
                                size_t len, embedcfg_onefile_section *out)
{
    uint32_t lo = f->first_extension;
    uint32_t hi = f->n_sections;

    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        const unsigned char *e = entry_at(f, mid);
        int c = name_order((const char *)f->table + le_u32(e + E_NAME),
                        le_u32(e + E_NAME_LEN), name, len);

        if (c == 0) {
            embedcfg_onefile_section_at(f, mid, out);
            return 1;
        }
        if (c < 0) {
            lo = mid + 1;
        }
        else {
            hi = mid;
        }
    }
    return 0;
}

int
embedcfg_onefile_check_section(const embedcfg_onefile_section *s,
                               const char *file, char *err, size_t err_size)
{
    static const char *const kinds[] = {"", "the document", "the archive",
                                        "the extension module"};

    if (embedcfg_archive_crc32(0, s->bytes, s->size) == s->crc) {
        return 0;
    }
    if (err != NULL && err_size > 0) {
        snprintf(err, err_size,
                 "%s is corrupt: %s %s does not match its checksum: " FIX,
                 file, s->kind <= 3 ? kinds[s->kind] : "section", s->name);
    }
    return -1;
}
