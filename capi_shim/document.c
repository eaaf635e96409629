/* A parsed document (jsonparse.h) into a handle: the keys of format
 * version 1, checked as the Python side checks them, with messages that
 * name the key and the byte offset.  Also the launcher's entry points
 * (launch_api.h). */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "embedcfg_document.h"
#include "handle.h"
#include "jsonparse.h"
#include "launch_api.h"
#include "paths.h"
#include "archive_importer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *
json_type(const embedcfg_json_value *v)
{
    return embedcfg_json_type_name(embedcfg_json_type_of(v));
}

static int
expect(embedcfg_handle *h, const embedcfg_json_value *v,
       embedcfg_json_type type, const char *what)
{
    if (embedcfg_json_type_of(v) != type) {
        return embedcfg__fail(h, "%s: expected %s, got %s (byte offset %lu)",
                              what, embedcfg_json_type_name(type),
                              json_type(v),
                              (unsigned long)embedcfg_json_offset(v));
    }
    return 0;
}

/* Whether `s` is one of `list` (a generated NULL-terminated list). */
static int
one_of(const char *const *list, const char *s)
{
    size_t i;

    for (i = 0; list[i] != NULL; i++) {
        if (strcmp(list[i], s) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Refuse a key of `table` that is not one of `keys`; `where` names the
 * table in the message ("pycache", "inittab[3]"). */
static int
known_keys(embedcfg_handle *h, const embedcfg_json_value *table,
           const char *const *keys, const char *where)
{
    size_t i;

    for (i = 0; i < embedcfg_json_object_len(table); i++) {
        const char *key = embedcfg_json_object_key(table, i, NULL);

        if (!one_of(keys, key)) {
            return embedcfg__fail(h, "%s: unknown key '%s'", where, key);
        }
    }
    return 0;
}

/* ASCII letters, digits and '_', not starting with a digit: a C name, and
 * (not a keyword) a part of an importable module name. */
static int
is_c_identifier(const char *s, size_t len)
{
    size_t i;

    if (len == 0 || (s[0] >= '0' && s[0] <= '9')) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        char c = s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '_')) {
            return 0;
        }
    }
    return 1;
}

/* A part of the dotted `name` that is a Python keyword ("class" in
 * "app.class"), or NULL; *len receives its length. */
static const char *
keyword_part(const char *name, size_t *len)
{
    static const char *const keywords[] = {EMBEDCFG_PYTHON_KEYWORDS};
    const char *part = name;

    for (;;) {
        const char *dot = strchr(part, '.');
        size_t n = dot != NULL ? (size_t)(dot - part) : strlen(part);
        size_t k;

        for (k = 0; keywords[k] != NULL; k++) {
            if (strlen(keywords[k]) == n
                && memcmp(keywords[k], part, n) == 0) {
                *len = n;
                return part;
            }
        }
        if (dot == NULL) {
            return NULL;
        }
        part = dot + 1;
    }
}

static int
load_option(embedcfg_handle *h, const char *name,
            const embedcfg_json_value *v)
{
    size_t index = 0;
    const embedcfg_spec *spec = embedcfg__lookup(h, name, &index);
    embedcfg_json_type want;
    size_t n;
    size_t i;
    const char **items = NULL;
    int rc = -1;

    if (spec == NULL) {
        return -1;
    }
    switch (spec->kind) {
    case EMBEDCFG_KIND_BOOL: want = EMBEDCFG_JSON_BOOL; break;
    case EMBEDCFG_KIND_INT: want = EMBEDCFG_JSON_INT; break;
    case EMBEDCFG_KIND_STR: want = EMBEDCFG_JSON_STRING; break;
    default: want = EMBEDCFG_JSON_ARRAY; break;
    }
    if (embedcfg_json_type_of(v) != want) {
        return embedcfg__fail_option(h, name,
                                     "expected %s, got %s (byte offset %lu)",
                                     embedcfg_json_type_name(want),
                                     json_type(v),
                                     (unsigned long)embedcfg_json_offset(v));
    }
    switch (spec->kind) {
    case EMBEDCFG_KIND_BOOL:
        return embedcfg__set_int_at(h, spec, index, name,
                                    embedcfg_json_bool_value(v) ? 1 : 0);
    case EMBEDCFG_KIND_INT:
        return embedcfg__set_int_at(h, spec, index, name,
                                    embedcfg_json_int_value(v));
    case EMBEDCFG_KIND_STR:
        return embedcfg__set_str_at(h, spec, index, name,
                                    embedcfg_json_string_value(v, NULL), 1);
    default:
        break;
    }
    n = embedcfg_json_array_len(v);
    if (n > 0) {
        /* malloc, not calloc: every slot is written before it is read, and
         * nothing else on the way to init needs calloc bound */
        if (n > SIZE_MAX / sizeof(char *)) {
            return embedcfg__fail(h, "out of memory");
        }
        items = (const char **)embedcfg__alloc(h->mem, n * sizeof(char *));
        if (items == NULL) {
            return embedcfg__fail(h, "out of memory");
        }
    }
    for (i = 0; i < n; i++) {
        const embedcfg_json_value *item = embedcfg_json_array_item(v, i);

        if (embedcfg_json_type_of(item) != EMBEDCFG_JSON_STRING) {
            embedcfg__fail_option(h, name,
                                  "item %lu: expected a string, got %s (byte "
                                  "offset %lu)", (unsigned long)i,
                                  json_type(item),
                                  (unsigned long)embedcfg_json_offset(item));
            goto done;
        }
        items[i] = embedcfg_json_string_value(item, NULL);
    }
    rc = embedcfg__set_list_at(h, spec, index, name, n, items, 0, 1);

done:
    embedcfg__free(h->mem, items);
    return rc;
}

static int
set_from_policy(embedcfg_handle *h, const char *name, int is_str,
                int64_t ival, const char *sval)
{
    embedcfg_value *v = embedcfg__value_of(h, name);

    if (v != NULL) {
        /* the Python side reports EC301; a contradiction is an error here */
        int same = is_str ? v->str != NULL && strcmp(v->str, sval) == 0
                          : v->ival == ival;

        if (!same) {
            return embedcfg__fail(h,
                                  "pycache: the policy contradicts option "
                                  "'%s'; remove the option", name);
        }
        return 0;
    }
    if (is_str) {
        return embedcfg_set_str(h, name, sval);
    }
    return embedcfg_set_int(h, name, ival);
}

/* A row of EMBEDCFG_PYCACHE_MODES: what a pycache.mode sets. */
typedef struct {
    const char *mode;
    int write_bytecode;
    int uses_prefix;  /* pycache.prefix becomes pycache_prefix */
    int needs_prefix; /* the mode is nothing without a prefix */
} pycache_mode;

static const pycache_mode pycache_modes[] = {EMBEDCFG_PYCACHE_MODES};

#define N_PYCACHE_MODES (sizeof(pycache_modes) / sizeof(pycache_modes[0]))

static int
load_pycache(embedcfg_handle *h, const embedcfg_json_value *pc)
{
    static const char *const keys[] = {EMBEDCFG_KEYS_PYCACHE};
    static const char *const checks[] = {EMBEDCFG_VALUES_PYCACHE_CHECK};
    const embedcfg_json_value *mode = embedcfg_json_object_get(pc, "mode");
    const embedcfg_json_value *prefix = embedcfg_json_object_get(pc, "prefix");
    const embedcfg_json_value *check = embedcfg_json_object_get(pc, "check");
    const pycache_mode *row = NULL;
    size_t i;

    if (known_keys(h, pc, keys, "pycache") < 0) {
        return -1;
    }
    if (mode != NULL) {
        const char *m;

        if (expect(h, mode, EMBEDCFG_JSON_STRING, "pycache.mode") < 0) {
            return -1;
        }
        m = embedcfg_json_string_value(mode, NULL);
        for (i = 0; i < N_PYCACHE_MODES && row == NULL; i++) {
            if (strcmp(pycache_modes[i].mode, m) == 0) {
                row = &pycache_modes[i];
            }
        }
        if (row == NULL) {
            return embedcfg__fail(h,
                                  "pycache.mode: expected "
                                  EMBEDCFG_VALUES_PYCACHE_MODE_TEXT ", got "
                                  "\"%s\"", m);
        }
    }
    if (prefix != NULL) {
        if (expect(h, prefix, EMBEDCFG_JSON_STRING, "pycache.prefix") < 0) {
            return -1;
        }
        if (row == NULL || !row->uses_prefix) {
            return embedcfg__fail(h,
                                  "pycache.prefix is only used with mode "
                                  EMBEDCFG_PYCACHE_PREFIX_MODES_TEXT
                                  "; set one of them, or remove the "
                                  "prefix");
        }
    }
    if (row != NULL && row->needs_prefix && prefix == NULL) {
        return embedcfg__fail(h, "pycache: mode \"%s\" needs a prefix",
                              row->mode);
    }
    if (row != NULL && row->uses_prefix && prefix != NULL) {
        char err[512];
        char *expanded;
        int rc;

        expanded = embedcfg__expand_path(
            h->mem, embedcfg_json_string_value(prefix, NULL),
            embedcfg__origin_of(h), h->config_dir, 0, err, sizeof(err));
        if (expanded == NULL) {
            return embedcfg__fail(h, "pycache.prefix: %s", err);
        }
        rc = set_from_policy(h, "pycache_prefix", 1, 0, expanded);
        embedcfg__free(h->mem, expanded);
        if (rc < 0) {
            return -1;
        }
    }
    if (row != NULL
        && set_from_policy(h, "write_bytecode", 0, row->write_bytecode,
                           NULL) < 0) {
        return -1;
    }
    if (check != NULL) {
        if (expect(h, check, EMBEDCFG_JSON_STRING, "pycache.check") < 0) {
            return -1;
        }
        if (!one_of(checks, embedcfg_json_string_value(check, NULL))) {
            return embedcfg__fail(h,
                                  "pycache.check: expected "
                                  EMBEDCFG_VALUES_PYCACHE_CHECK_TEXT ", got "
                                  "\"%s\"",
                                  embedcfg_json_string_value(check, NULL));
        }
        if (set_from_policy(h, "check_hash_pycs_mode", 1, 0,
                            embedcfg_json_string_value(check, NULL)) < 0) {
            return -1;
        }
    }
    return 0;
}

/* What embedcfg validate refuses in an entry (EC500, EC503) and CPython
 * would not: a keyword part makes the module unimportable, and an init
 * name that is no C identifier can only fail in dlsym.  The other name
 * rules are embedcfg__add_module's, for the C API too. */
static int
check_inittab_entry(embedcfg_handle *h, size_t i, const char *name,
                    const char *init)
{
    const char *last = strrchr(name, '.');
    size_t kw_len = 0;
    const char *kw = NULL;
    const char *p;

    for (p = name; *p != '\0' && (unsigned char)*p < 0x80; p++) {
    }
    if (*p == '\0') {
        /* non-ASCII: embedcfg__add_module says why (EC504) */
        kw = keyword_part(name, &kw_len);
    }
    last = last != NULL ? last + 1 : name;
    if (kw != NULL) {
        return embedcfg__fail(h,
                              "inittab[%lu].name: inittab name '%s' is not a "
                              "dotted Python identifier ('%.*s' is a Python "
                              "keyword); CPython would accept it but it could "
                              "never be imported: rename that part",
                              (unsigned long)i, name, (int)kw_len, kw);
    }
    if (init != NULL && !is_c_identifier(init, strlen(init))) {
        return embedcfg__fail(
            h,
            "inittab[%lu].init: inittab init '%s' is not a C "
            "identifier; give the name of the init "
            "function, such as 'PyInit_%s'",
            (unsigned long)i, init,
            is_c_identifier(last, strlen(last)) ? last : "name");
    }
    return 0;
}

static int
load_inittab(embedcfg_handle *h, const embedcfg_json_value *list)
{
    static const char *const keys[] = {EMBEDCFG_KEYS_INITTAB};
    char where[48];
    size_t i;

    for (i = 0; i < embedcfg_json_array_len(list); i++) {
        const embedcfg_json_value *e = embedcfg_json_array_item(list, i);
        const embedcfg_json_value *name;
        const embedcfg_json_value *init;
        const embedcfg_json_value *library;

        if (embedcfg_json_type_of(e) != EMBEDCFG_JSON_OBJECT) {
            return embedcfg__fail(h,
                                  "inittab[%lu]: expected an object, got %s",
                                  (unsigned long)i, json_type(e));
        }
        snprintf(where, sizeof(where), "inittab[%lu]", (unsigned long)i);
        if (known_keys(h, e, keys, where) < 0) {
            return -1;
        }
        name = embedcfg_json_object_get(e, "name");
        init = embedcfg_json_object_get(e, "init");
        library = embedcfg_json_object_get(e, "library");
        if (name == NULL) {
            return embedcfg__fail(h, "inittab[%lu]: the name is missing",
                                  (unsigned long)i);
        }
        if (expect(h, name, EMBEDCFG_JSON_STRING, "inittab name") < 0
            || (init != NULL
                && expect(h, init, EMBEDCFG_JSON_STRING, "inittab init") < 0)
            || (library != NULL
                && expect(h, library, EMBEDCFG_JSON_STRING,
                          "inittab library") < 0)) {
            return -1;
        }
        if (check_inittab_entry(h, i, embedcfg_json_string_value(name, NULL),
                                init != NULL
                                ? embedcfg_json_string_value(init, NULL)
                                : NULL) < 0) {
            return -1;
        }
        /* a document may not write ${ORIGIN}; embedcfg_add_module_symbol may */
        if (embedcfg__add_module(
                h, embedcfg_json_string_value(name, NULL), NULL,
                init != NULL ? embedcfg_json_string_value(init, NULL) : NULL,
                library != NULL ? embedcfg_json_string_value(library, NULL)
                                : NULL,
                EMBEDCFG_PATH_NAME) < 0) {
            return -1;
        }
    }
    return 0;
}

/* What embedcfg validate refuses in [options] (EC300, EC304) and CPython
 * would only notice during init, or not at all.  The options are loaded
 * (so typed) when this runs. */
static int
check_options(embedcfg_handle *h, const embedcfg_json_value *opts)
{
    static const char *const runs[] = {EMBEDCFG_RUN_OPTIONS};
    const embedcfg_json_value *set;
    char names[256];
    size_t used = 0;
    size_t found = 0;
    const char *second = NULL;
    size_t i;

    names[0] = '\0';
    for (i = 0; runs[i] != NULL; i++) {
        int n;

        if (embedcfg_json_object_get(opts, runs[i]) == NULL) {
            continue;
        }
        if (++found == 2) {
            second = runs[i];
        }
        n = snprintf(names + used, sizeof(names) - used, "%s'%s'",
                     found > 1 ? " and " : "", runs[i]);
        if (n > 0 && (size_t)n < sizeof(names) - used) {
            used += (size_t)n;
        }
    }
    if (second != NULL) {
        return embedcfg__fail(
            h,
            "options.%s: %s are exclusive: CPython runs only "
            "one; keep one of them",
            second, names);
    }
    set = embedcfg_json_object_get(opts, "module_search_paths_set");
    if (set != NULL && embedcfg_json_bool_value(set)
        && embedcfg_json_object_get(opts, "module_search_paths") == NULL) {
        return embedcfg__fail(h,
                              "options.module_search_paths_set: "
                              "module_search_paths_set = true without "
                              "module_search_paths starts CPython with an "
                              "empty sys.path ('Failed to import encodings "
                              "module'); give module_search_paths instead");
    }
    return 0;
}

static int
load_string_key(embedcfg_handle *h, const embedcfg_json_value *doc,
                const char *key, char **slot, int is_lib)
{
    const embedcfg_json_value *v = embedcfg_json_object_get(doc, key);
    char err[512];
    char *value;

    if (v == NULL) {
        return 0;
    }
    if (expect(h, v, EMBEDCFG_JSON_STRING, key) < 0) {
        return -1;
    }
    if (is_lib) {
        value = embedcfg__expand_path(
            h->mem, embedcfg_json_string_value(v, NULL),
            embedcfg__origin_of(h), h->config_dir, EMBEDCFG_PATH_NAME, err,
            sizeof(err));
        if (value == NULL) {
            return embedcfg__fail(h, "lib: %s", err);
        }
    }
    else {
        value = embedcfg__strdup_in(h->mem,
                                    embedcfg_json_string_value(v, NULL));
        if (value == NULL) {
            return embedcfg__fail(h, "out of memory");
        }
    }
    embedcfg__free(h->mem, *slot);
    *slot = value;
    return 0;
}

static int
load_document(embedcfg_handle *h, const embedcfg_json_value *doc)
{
    static const char *const known[] = {EMBEDCFG_KEYS_DOCUMENT};
    const embedcfg_json_value *v;
    size_t i;

    if (embedcfg_json_type_of(doc) != EMBEDCFG_JSON_OBJECT) {
        return embedcfg__fail(h, "the document must be an object, got %s",
                              json_type(doc));
    }
    for (i = 0; i < embedcfg_json_object_len(doc); i++) {
        const char *key = embedcfg_json_object_key(doc, i, NULL);

        if (!one_of(known, key)) {
            const embedcfg_json_value *value =
                embedcfg_json_object_value(doc, i);

            return embedcfg__fail(h, "unknown key '%s' (byte offset %lu)", key,
                                  (unsigned long)embedcfg_json_offset(value));
        }
    }
    v = embedcfg_json_object_get(doc, "version");
    if (v == NULL) {
        return embedcfg__fail(h,
                              "version: missing; the document format version "
                              "is 1");
    }
    if (expect(h, v, EMBEDCFG_JSON_INT, "version") < 0) {
        return -1;
    }
    if (embedcfg_json_int_value(v) != 1) {
        return embedcfg__fail(h,
                              "version: this shim reads format version 1, got "
                              "%lld", (long long)embedcfg_json_int_value(v));
    }
    v = embedcfg_json_object_get(doc, "profile");
    if (v != NULL) {
        if (expect(h, v, EMBEDCFG_JSON_STRING, "profile") < 0
            || embedcfg_set_profile(
                   h, embedcfg_json_string_value(v, NULL)) < 0) {
            return -1;
        }
    }
    v = embedcfg_json_object_get(doc, "embedded");
    if (v != NULL) {
        if (expect(h, v, EMBEDCFG_JSON_BOOL, "embedded") < 0) {
            return -1;
        }
        h->embedded = embedcfg_json_bool_value(v) ? 1 : 0;
    }
    v = embedcfg_json_object_get(doc, "static_modules");
    if (v != NULL) {
        if (expect(h, v, EMBEDCFG_JSON_STRING, "static_modules") < 0
            || embedcfg_set_static_modules(
                   h, embedcfg_json_string_value(v, NULL)) < 0) {
            return -1;
        }
    }
    if (load_string_key(h, doc, "lib", &h->lib, 1) < 0
        || load_string_key(h, doc, "requires_python", &h->requires_python,
                           0) < 0) {
        return -1;
    }
    if (h->requires_python != NULL) {
        char err[256];

        if (embedcfg_version_matches(h->requires_python, 3, 0, 0, err,
                                     sizeof(err)) < 0) {
            return embedcfg__fail(h, "requires_python: %s", err);
        }
    }
    v = embedcfg_json_object_get(doc, "options");
    if (v != NULL) {
        if (expect(h, v, EMBEDCFG_JSON_OBJECT, "options") < 0) {
            return -1;
        }
        for (i = 0; i < embedcfg_json_object_len(v); i++) {
            if (load_option(h, embedcfg_json_object_key(v, i, NULL),
                            embedcfg_json_object_value(v, i)) < 0) {
                return -1;
            }
        }
        if (check_options(h, v) < 0) {
            return -1;
        }
    }
    v = embedcfg_json_object_get(doc, "inittab");
    if (v != NULL) {
        if (expect(h, v, EMBEDCFG_JSON_ARRAY, "inittab") < 0
            || load_inittab(h, v) < 0) {
            return -1;
        }
    }
    v = embedcfg_json_object_get(doc, "pycache");
    if (v != NULL) {
        if (expect(h, v, EMBEDCFG_JSON_OBJECT, "pycache") < 0
            || load_pycache(h, v) < 0) {
            return -1;
        }
    }
    v = embedcfg_json_object_get(doc, "archives");
    if (v != NULL && expect(h, v, EMBEDCFG_JSON_ARRAY, "archives") < 0) {
        return -1;
    }
    /* and the archives of a one-file payload, before the document's */
    if ((v != NULL || h->payload != NULL)
        && embedcfg__load_archives(h, v) < 0) {
        return -1;
    }
    return 0;
}

int
embedcfg_load_buffer(embedcfg_handle *h, const char *buf, size_t len)
{
    embedcfg_json_value *doc = NULL;
    embedcfg_json_error err;
    int rc;

    if (h == NULL) {
        return -1;
    }
    if (buf == NULL) {
        return embedcfg__fail(h, "the document buffer is NULL");
    }
    memset(&err, 0, sizeof(err));
    if (embedcfg_json_parse(buf, len, EMBEDCFG_JSON_MAX_DOCUMENT_SIZE, &doc,
                            &err) < 0) {
        return embedcfg__fail(h,
                              "invalid document at line %lu, column %lu (byte "
                              "offset %lu): %s", (unsigned long)err.line,
                              (unsigned long)err.column,
                              (unsigned long)err.offset, err.message);
    }
    rc = load_document(h, doc);
    embedcfg_json_free(doc);
    return rc;
}

/* `borrow`: `doc` outlives the handle, whose values may then point into
 * it instead of copying its strings. */
static int
load_parsed(embedcfg_handle *h, const embedcfg_json_value *doc,
            const char *file, const char *config_dir, int borrow)
{
    char *dir;
    int rc;

    if (h == NULL) {
        return -1;
    }
    if (doc == NULL || file == NULL) {
        return embedcfg__fail(h, "the document or its file name is NULL");
    }
    if (config_dir != NULL) {
        dir = embedcfg__strdup_in(h->mem, config_dir);
    }
    else {
        dir = embedcfg__dirname_of(file);
    }
    if (dir == NULL) {
        return embedcfg__fail(h, "out of memory");
    }
    embedcfg__free(h->mem, h->config_dir);
    h->config_dir = dir;
    h->borrow = borrow;
    rc = load_document(h, doc);
    h->borrow = 0;
    if (rc < 0) {
        /* name the file, keep the detail */
        char detail[ERROR_SIZE];

        memcpy(detail, h->error, sizeof(detail));
        embedcfg__fail(h, "%s: %s", file, detail);
    }
    return rc;
}

int
embedcfg__load_parsed(embedcfg_handle *h, const embedcfg_json_value *doc,
                      const char *file, const char *config_dir)
{
    return load_parsed(h, doc, file, config_dir, 1);
}

/* The launcher has read /proc/self/exe for $ORIGIN: the default
 * program_name reuses it (the string stays the launcher's). */
static void
set_executable(embedcfg_handle *h, const char *path)
{
    if (h != NULL) {
        h->exe = path;
    }
}

/* The launcher has read the libpython's version (it refuses a mismatch
 * with its own message): the check before init reuses it. */
static void
set_running_version(embedcfg_handle *h, int major, int minor,
                    int micro)
{
    if (h != NULL && major > 0 && minor >= 0 && micro >= 0 && minor < 256
        && micro < 256 && major < 256) {
        h->running_version = ((unsigned long)major << 16)
                             | ((unsigned long)minor << 8)
                             | (unsigned long)micro;
    }
}

/* The launcher's one-file payload: its archives are loaded with the
 * document's (before them), its extension modules installed in the gap. */
static void
set_payload(embedcfg_handle *h, const embedcfg_onefile *payload)
{
    h->payload = payload;
}

void
embedcfg__launch_api(embedcfg__launch_api_t *api)
{
    api->create = embedcfg_create;
    api->free_ = embedcfg_free;
    api->get_error = embedcfg_get_error;
    api->get_exit_code = embedcfg_get_exit_code;
    api->set_origin = embedcfg_set_origin;
    api->load_parsed = embedcfg__load_parsed;
    api->has_option = embedcfg_has_option;
    api->append_strlist = embedcfg_append_strlist;
    api->initialize = embedcfg_initialize;
    api->run_main = embedcfg_run_main;
    api->version_hex = embedcfg_python_version_hex;
    api->set_running_version = set_running_version;
    api->create_in = embedcfg__create_in;
    api->set_executable = set_executable;
    api->set_payload = set_payload;
}

int
embedcfg_load_file(embedcfg_handle *h, const char *path)
{
    char *data = NULL;
    size_t len = 0;
    char err[512];
    embedcfg_json_value *doc = NULL;
    embedcfg_json_error jerr;
    int rc;

    if (h == NULL) {
        return -1;
    }
    if (path == NULL) {
        return embedcfg__fail(h, "the document path is NULL");
    }
    if (embedcfg__read_file(path, EMBEDCFG_JSON_MAX_DOCUMENT_SIZE, &data, &len,
                            err, sizeof(err)) < 0) {
        return embedcfg__fail(h, "%s", err);
    }
    memset(&jerr, 0, sizeof(jerr));
    rc = embedcfg_json_parse(data, len, EMBEDCFG_JSON_MAX_DOCUMENT_SIZE, &doc,
                             &jerr);
    free(data);
    if (rc < 0) {
        return embedcfg__fail(h,
                              "%s: invalid document at line %lu, column %lu "
                              "(byte offset %lu): %s", path,
                              (unsigned long)jerr.line,
                              (unsigned long)jerr.column,
                              (unsigned long)jerr.offset, jerr.message);
    }
    rc = load_parsed(h, doc, path, NULL, 0);
    embedcfg_json_free(doc);
    return rc;
}

const char *
embedcfg_get_lib(const embedcfg_handle *h)
{
    return h != NULL && h->lib != NULL ? h->lib : "";
}

const char *
embedcfg_get_requires_python(const embedcfg_handle *h)
{
    return h != NULL && h->requires_python != NULL ? h->requires_python : "";
}

int
embedcfg_is_embedded(const embedcfg_handle *h)
{
    return h != NULL && h->embedded;
}
