/* embedcfg document parser: strict JSON (RFC 8259) with the restrictions the
 * shim relies on.
 *
 * Internal header: the applier and the fuzz target include it; hosts only see
 * embedcfg.h.  The parser has no Python dependency so it can be fuzzed alone.
 *
 * Beyond RFC 8259, a document is rejected when it has: invalid UTF-8, a byte
 * order mark, a NUL character (raw or \u0000), an unpaired surrogate escape,
 * a duplicate key in one object, a number that is not an integer or does not
 * fit int64_t, or more than EMBEDCFG_JSON_MAX_DEPTH nested arrays/objects.
 * Rejecting rather than guessing keeps the C side and the Python side
 * (which validates first) in agreement on what a document means. */

#ifndef EMBEDCFG_JSONPARSE_H
#define EMBEDCFG_JSONPARSE_H

#include <stddef.h>
#include <stdint.h>

/* The generated description of the document (no Python dependency): the
 * limits below are the Python side's (embedcfg/document.py). */
#include "embedcfg_document.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The canonical limit; callers pass it as max_len.  A configuration document
 * is small, and a fixed bound keeps a hostile file from exhausting memory. */
#define EMBEDCFG_JSON_MAX_DOCUMENT_SIZE EMBEDCFG_MAX_DOCUMENT_SIZE

/* Bounds the parser's recursion, so it cannot overflow the C stack. */
#define EMBEDCFG_JSON_MAX_DEPTH EMBEDCFG_MAX_DEPTH

typedef enum {
    EMBEDCFG_JSON_NULL,
    EMBEDCFG_JSON_BOOL,
    EMBEDCFG_JSON_INT,
    EMBEDCFG_JSON_STRING,
    EMBEDCFG_JSON_ARRAY,
    EMBEDCFG_JSON_OBJECT
} embedcfg_json_type;

typedef struct embedcfg_json_value embedcfg_json_value;

typedef struct {
    size_t offset;       /* byte offset of the offending token, from 0 */
    size_t line;         /* 1-based */
    size_t column;       /* 1-based, in characters (code points) */
    char message[192];   /* NUL-terminated UTF-8, no trailing newline */
} embedcfg_json_error;

/* Parse buf[0:len] (need not be NUL-terminated).  On success store the tree
 * in *out and return 0; the caller frees it with embedcfg_json_free().  On
 * failure set *out to NULL, fill *err (if not NULL) and return -1; nothing
 * is left allocated.  The first error in document order is reported, except
 * that encoding errors (UTF-8, BOM, NUL bytes) are found before syntax
 * errors, as when a text file is decoded before it is read. */
int embedcfg_json_parse(const char *buf, size_t len, size_t max_len,
                        embedcfg_json_value **out, embedcfg_json_error *err);

/* Free a tree returned by embedcfg_json_parse(); NULL is accepted. */
void embedcfg_json_free(embedcfg_json_value *value);

/* The accessors accept NULL and values of the wrong type and then return
 * NULL, 0 or false: check the type first when the difference matters. */

embedcfg_json_type embedcfg_json_type_of(const embedcfg_json_value *value);
/* "null", "boolean", "integer", "string", "array" or "object". */
const char *embedcfg_json_type_name(embedcfg_json_type type);
/* Byte offset of the value's first byte in the document, for messages. */
size_t embedcfg_json_offset(const embedcfg_json_value *value);

int embedcfg_json_bool_value(const embedcfg_json_value *value);
int64_t embedcfg_json_int_value(const embedcfg_json_value *value);
/* NUL-terminated UTF-8 without embedded NULs; *len (if not NULL) receives
 * the length in bytes. */
const char *embedcfg_json_string_value(const embedcfg_json_value *value,
                                       size_t *len);

size_t embedcfg_json_array_len(const embedcfg_json_value *array);
const embedcfg_json_value *embedcfg_json_array_item(
    const embedcfg_json_value *array, size_t index);

/* Members are kept in document order; index them from 0 to len - 1. */
size_t embedcfg_json_object_len(const embedcfg_json_value *object);
const char *embedcfg_json_object_key(const embedcfg_json_value *object,
                                     size_t index, size_t *len);
const embedcfg_json_value *embedcfg_json_object_value(
    const embedcfg_json_value *object, size_t index);
/* Linear search: objects in a configuration document are small. */
const embedcfg_json_value *embedcfg_json_object_get(
    const embedcfg_json_value *object, const char *key);

#ifdef __cplusplus
}
#endif

#endif /* EMBEDCFG_JSONPARSE_H */
