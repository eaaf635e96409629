/* embedcfg: the reader of one-file applications (`embedcfg bundle
 * --onefile`; the format is in docs/reference/archive.rst, "One-file
 * applications", and embedcfg/onefile.py:read_onefile checks a file in the
 * same order with the same messages).
 *
 * A one-file application is the static launcher with a payload appended:
 * sections (the document, the bytecode archives, the extension modules),
 * then a table of them, then a 48-byte trailer at the very end of the file.
 * Opening reads the trailer with pread() (a file without one is an
 * ordinary launcher: nothing is mapped), then maps the file and checks the
 * trailer's and the table's checksums, the bounds, kinds and order of every
 * section and the document's checksum.  An archive section is checked by
 * the archive reader when it is loaded (archive.h: its header, indexes and
 * blobs have their own checksums), an extension module by
 * embedcfg_onefile_check_section before its bytes are used.  No input makes
 * the reader read out of bounds; no Python dependency (the launcher opens
 * its own executable before the interpreter starts); no global state. */

#ifndef EMBEDCFG_ONEFILE_H
#define EMBEDCFG_ONEFILE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EMBEDCFG_ONEFILE_FORMAT 1
#define EMBEDCFG_ONEFILE_TRAILER_SIZE 48
#define EMBEDCFG_ONEFILE_ENTRY_SIZE 40

/* Section kinds, in the order the table lists them. */
#define EMBEDCFG_ONEFILE_DOCUMENT 1   /* the document, JSON: exactly one */
#define EMBEDCFG_ONEFILE_ARCHIVE 2    /* a bytecode archive (archive.h) */
#define EMBEDCFG_ONEFILE_EXTENSION 3  /* an extension module, by name */

/* Section flags. */
#define EMBEDCFG_ONEFILE_AFTER_PATH 0x1u  /* an archive's position */

typedef struct {
    uint32_t kind;
    uint32_t flags;
    const unsigned char *bytes;  /* inside the mapping */
    size_t size;
    uint32_t crc;                /* CRC-32 (zlib) of the bytes */
    const char *name;            /* NUL-terminated, inside the table: the
                                  * module's dotted name for an extension,
                                  * the file it was made from otherwise */
    size_t name_len;
    const char *path;            /* an extension's virtual path below the
                                  * executable ("pkg/_x.cpython-312-...so");
                                  * "" for the other kinds */
    size_t path_len;
    uint32_t index;              /* its entry in the table */
} embedcfg_onefile_section;

typedef struct {
    const unsigned char *base;   /* the whole file */
    size_t size;
    void *mapping;
    size_t mapping_size;
    uint32_t n_sections;
    uint32_t first_extension;    /* index of the first extension section */
    uint32_t id;                 /* the table's checksum: names the payload */
    const unsigned char *table;  /* the section entries, then the names */
    size_t table_size;
} embedcfg_onefile;

/* Open the executable at `path`: 1 when it carries a payload (checked and
 * mapped into *f), 0 when it ends with no trailer (*f zeroed, nothing
 * mapped), -1 with a one-line message naming `path` and the fix when it
 * cannot be read or its payload is damaged. */
int embedcfg_onefile_open(embedcfg_onefile *f, const char *path, char *err,
                          size_t err_size);

/* Unmap; safe on a zeroed or closed one. */
void embedcfg_onefile_close(embedcfg_onefile *f);

/* Section `i` (< n_sections) of an opened payload. */
void embedcfg_onefile_section_at(const embedcfg_onefile *f, uint32_t i,
                                 embedcfg_onefile_section *out);

/* The document section (there is exactly one). */
void embedcfg_onefile_document(const embedcfg_onefile *f,
                               embedcfg_onefile_section *out);

/* The extension module named `name` (len bytes): 1 and *out, or 0.  A
 * binary search: the table lists them sorted by name. */
int embedcfg_onefile_find_extension(const embedcfg_onefile *f,
                                    const char *name, size_t len,
                                    embedcfg_onefile_section *out);

/* Check section s's bytes against its checksum: 0, or -1 with "FILE is
 * corrupt: the extension module NAME does not match its checksum: rebuild
 * it with embedcfg bundle --onefile" (`file` names the executable). */
int embedcfg_onefile_check_section(const embedcfg_onefile_section *s,
                                   const char *file, char *err,
                                   size_t err_size);

#ifdef __cplusplus
}
#endif

#endif /* EMBEDCFG_ONEFILE_H */
