/* embedcfg: the reader of bytecode archives (`embedcfg pack`; the format is
 * docs/reference/archive.rst, and embedcfg/pack.py:read_archive checks a
 * file in the same order with the same messages).
 *
 * Opening an archive checks the header, the checksum of the header, indexes
 * and names (everything before the first blob), and the bounds, names and
 * order of every index entry.  After that, lookups trust the index: a binary
 * search over names that are NUL-terminated inside the file.  A blob (a
 * module's code or source, a data file) is only read through the
 * embedcfg_archive_read_* functions, which check it against its own CRC-32
 * first, at every call: opening does not read the blobs, so a start costs
 * the size of the index, not of the file.  No input makes the reader read out
 * of bounds.  No Python dependency (the launcher checks archives before any
 * libpython is loaded, and the fuzz driver links it alone); no global state;
 * nothing is allocated but the mapping of an opened file. */

#ifndef EMBEDCFG_ARCHIVE_H
#define EMBEDCFG_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EMBEDCFG_ARCHIVE_FORMAT 2
#define EMBEDCFG_ARCHIVE_HEADER_SIZE 64
/* The largest archive read (the format's offsets stay below 4 GiB). */
#define EMBEDCFG_ARCHIVE_MAX_SIZE ((uint64_t)1 << 32)
#define EMBEDCFG_ARCHIVE_MAX_NAME 4096

/* Header flags. */
#define EMBEDCFG_ARCHIVE_SOURCES 0x1u
#define EMBEDCFG_ARCHIVE_STDLIB 0x2u

typedef struct {
    const unsigned char *base;   /* the whole file */
    size_t size;
    void *mapping;               /* embedcfg_archive_open's; NULL otherwise */
    size_t mapping_size;
    unsigned char magic[4];      /* the pyc magic number it was compiled for */
    int major;
    int minor;
    uint32_t flags;
    uint32_t n_modules;
    uint32_t n_data;
} embedcfg_archive;

/* A module: read its bytes with embedcfg_archive_read_code and _source. */
typedef struct {
    const char *name;            /* NUL-terminated, inside the archive */
    size_t name_len;
    int is_package;
    int has_source;              /* packed with --with-source */
    uint32_t index;              /* its entry in the module index */
} embedcfg_archive_module;

/* A data file: read its bytes with embedcfg_archive_read_data. */
typedef struct {
    const char *name;            /* its path inside the archive, NUL-ended */
    size_t name_len;
    uint32_t index;              /* its entry in the data index */
} embedcfg_archive_data_entry;

/* Check `size` bytes at `data` as an archive; `what` names it in messages
 * ("archives[0].path: /x/app.pack").  0, or -1 with a one-line message in
 * err.  The archive borrows `data`. */
int embedcfg_archive_from_memory(embedcfg_archive *a, const void *data,
                                 size_t size, const char *what, char *err,
                                 size_t err_size);

/* Map the file at `path` and check it as embedcfg_archive_from_memory does.
 * 0, or -1 with a message (a missing or unreadable file: "cannot read
 * it"). */
int embedcfg_archive_open(embedcfg_archive *a, const char *path,
                          const char *what, char *err, size_t err_size);

/* Unmap an archive from embedcfg_archive_open (nothing for one from memory);
 * safe on a zeroed or closed archive. */
void embedcfg_archive_close(embedcfg_archive *a);

/* 0 when the archive was compiled for bytecode `magic` and CPython
 * 3.`minor`; else -1 with a message that says which it was built for. */
int embedcfg_archive_check_python(const embedcfg_archive *a,
                                  const unsigned char magic[4], int minor,
                                  const char *what, char *err,
                                  size_t err_size);

/* Module `i` (< n_modules) of a checked archive. */
void embedcfg_archive_module_at(const embedcfg_archive *a, uint32_t i,
                                embedcfg_archive_module *out);

/* The module named `name` (len bytes): 1 and *out, or 0. */
int embedcfg_archive_find(const embedcfg_archive *a, const char *name,
                          size_t len, embedcfg_archive_module *out);

/* Data file `i` (< n_data) of a checked archive. */
void embedcfg_archive_data_at(const embedcfg_archive *a, uint32_t i,
                              embedcfg_archive_data_entry *out);

/* The data file at `name` (its path inside the archive, "pkg/data.txt"):
 * 1 and *out, or 0. */
int embedcfg_archive_find_data(const embedcfg_archive *a, const char *name,
                               size_t len, embedcfg_archive_data_entry *out);

/* The bytes of module m's marshalled code, of its source, or of data file d
 * (pointers into the archive), after checking them against their CRC-32:
 * 0 with *bytes and *len, or -1 with a message in err ("WHAT is corrupt:
 * the code of module pkg.mod does not match its checksum: rebuild it with
 * embedcfg pack"; `what` names the archive, its path).  The source of a
 * module without one is *bytes NULL, *len 0.  The check is made at every
 * call (a module's code is read once per import): 3.5 instructions a byte,
 * about a quarter of what unmarshalling the code costs. */
int embedcfg_archive_read_code(const embedcfg_archive *a,
                               const embedcfg_archive_module *m,
                               const unsigned char **bytes, size_t *len,
                               const char *what, char *err, size_t err_size);
int embedcfg_archive_read_source(const embedcfg_archive *a,
                                 const embedcfg_archive_module *m,
                                 const unsigned char **bytes, size_t *len,
                                 const char *what, char *err,
                                 size_t err_size);
int embedcfg_archive_read_data(const embedcfg_archive *a,
                               const embedcfg_archive_data_entry *d,
                               const unsigned char **bytes, size_t *len,
                               const char *what, char *err, size_t err_size);

/* zlib.crc32(data[0:len], crc): the checksum of the format, for the other
 * readers of checksummed files (onefile.h). */
uint32_t embedcfg_archive_crc32(uint32_t crc, const void *data, size_t len);

/* The header flags of the archive at `path` (64 bytes read: no other
 * check), for a caller that only needs to know what was packed; -1 when it
 * is not a readable archive of this format (embedcfg_archive_open says
 * why). */
int embedcfg_archive_peek_flags(const char *path, uint32_t *flags);

/* The same for an archive's first `size` bytes in memory. */
int embedcfg_archive_flags_of(const void *data, size_t size,
                              uint32_t *flags);

#ifdef __cplusplus
}
#endif

#endif /* EMBEDCFG_ARCHIVE_H */
