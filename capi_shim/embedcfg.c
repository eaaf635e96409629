/* embedcfg shim: the handle API of embedcfg.h and the applier.
 *
 * Setters only check and record values in the handle; the interpreter is
 * touched by embedcfg_initialize() / embedcfg_fill_pyconfig() alone, so a
 * launcher can refuse a document before anything is initialized.
 *
 * 3.8-3.13: PyPreConfig and PyConfig are filled through the generated option
 * table (embedcfg_options.h: offsetof under PY_VERSION_HEX and build guards),
 * preconfig first.  3.14+: PyInitConfig (PEP 741).  Every fallible step
 * returns a status; errors are kept in the handle, never printed. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "embedcfg.h"
#include "embedcfg_internal.h"
#include "embedcfg_options.h"
#include "jsonparse.h"
#include "static_importer.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#if defined(__SSE2__)
#  include <emmintrin.h>
#endif

#ifndef _WIN32
#  include <dlfcn.h>
#endif

#if PY_VERSION_HEX < 0x03080000
#  error "embedcfg needs CPython 3.8 or newer"
#endif

#define ERROR_SIZE 1024

/* The static-module mechanism (document key static_modules). */
#define STATIC_AUTOMATIC 0   /* absent: indexed when embedded or from
                              * EMBEDCFG_INDEXED_THRESHOLD modules on */
#define STATIC_INITTAB 1     /* CPython's inittab, before init */
#define STATIC_INDEXED 2     /* the indexed importer, after init / on attach */

/* Option values.  Their strings are never freed one by one: they are kept
 * in the handle's string blocks (or, for a document the launcher parsed,
 * they are that document's own strings) until embedcfg_free.  One copy per
 * string into a block, and one free per block, instead of a malloc and a
 * free per string on every launch. */
typedef struct {
    int set;
    int64_t ival;        /* BOOL / INT kinds, and named ints (allocator) */
    char *str;           /* STR kind */
    char **list;         /* STR_LIST kind: the array is the value's own */
    size_t len;
} embedcfg_value;

typedef struct strings_block {
    struct strings_block *next;
    size_t size;         /* bytes after the header */
    size_t used;
} strings_block;

#define STRINGS_BLOCK 4096

typedef struct {
    char *name;          /* handed to CPython once in its inittab: never freed
                          * (the indexed importer copies it instead) */
    char *symbol;        /* NULL when init is given */
    char *library;       /* NULL: the host program */
    embedcfg_initfunc init;
} embedcfg_module;

typedef struct {
    const char *name;    /* option name (static) or "pycache" */
    int status;
    char *detail;
} embedcfg_report;

struct embedcfg_handle {
    int python_profile;
    int embedded;
    int static_modules;      /* STATIC_AUTOMATIC, _INITTAB or _INDEXED */
    int static_installed;    /* the indexed importer is on sys.meta_path */
    char *origin;            /* see origin_of() */
    const char *exe;         /* the running executable, when the launcher has
                              * read it already (its own string) */
    int origin_known;
    char *config_dir;
    char *lib;
    char *requires_python;
    embedcfg_value values[EMBEDCFG_OPTION_COUNT];
    embedcfg__arena *mem;    /* where everything below is allocated: the
                              * launcher's arena, or NULL for malloc */
    strings_block *strings;  /* where the values' strings are kept */
    int borrow;              /* loading a document that outlives the handle:
                              * its strings need no copy */
    embedcfg_module *modules;
    size_t n_modules;
    size_t cap_modules;
    embedcfg_report *report;
    size_t n_report;
    int has_exit;
    int exitcode;
    /* The running libpython's version as (major << 16) | (minor << 8) | micro,
     * when the launcher has already read it (before 3.11 that means
     * formatting Py_GetVersion()'s banner); 0: read it here. */
    unsigned long running_version;
    char error[ERROR_SIZE];
};

/* --- errors --------------------------------------------------------------- */

static int fail(embedcfg_handle *h, const char *fmt, ...)
{
    va_list ap;
    char *p;

    va_start(ap, fmt);
    vsnprintf(h->error, sizeof(h->error), fmt, ap);
    va_end(ap);
    /* one line: launchers print the message as is */
    for (p = h->error; *p != '\0'; p++) {
        if (*p == '\n' || *p == '\r') {
            *p = ' ';
        }
    }
    return -1;
}

static int fail_option(embedcfg_handle *h, const char *name, const char *fmt, ...)
{
    va_list ap;
    char detail[ERROR_SIZE];

    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    return fail(h, "during setting %s: %s", name, detail);
}

const char *embedcfg_get_error(const embedcfg_handle *h)
{
    return h != NULL ? h->error : "no handle (out of memory?)";
}

int embedcfg_get_exit_code(const embedcfg_handle *h, int *exitcode)
{
    if (h == NULL || !h->has_exit) {
        return 0;
    }
    if (exitcode != NULL) {
        *exitcode = h->exitcode;
    }
    return 1;
}

unsigned long embedcfg_python_version_hex(void)
{
    return (unsigned long)PY_VERSION_HEX;
}

/* --- handle --------------------------------------------------------------- */

/* Frees what `v` owns (its list's array; the strings are the handle's),
 * leaving it dangling: for embedcfg_free, which runs over every option of
 * the table, most of them never set. */
static void release_value(embedcfg_handle *h, embedcfg_value *v)
{
    if (v->list != NULL) {
        embedcfg__free(h->mem, v->list);
    }
}

static void clear_value(embedcfg_handle *h, embedcfg_value *v)
{
    release_value(h, v);
    memset(v, 0, sizeof(*v));
}

/* Room for `n` bytes, kept until embedcfg_free; NULL when out of memory.
 * A value set again leaves its old string here until then. */
static char *keep_bytes(embedcfg_handle *h, size_t n)
{
    strings_block *b = h->strings;

    if (b == NULL || b->size - b->used < n) {
        size_t size = STRINGS_BLOCK - sizeof(*b);

        if (n > SIZE_MAX - sizeof(*b)) {
            return NULL;
        }
        if (size < n) {
            size = n;
        }
        b = (strings_block *)embedcfg__alloc(h->mem, sizeof(*b) + size);
        if (b == NULL) {
            return NULL;
        }
        b->next = h->strings;
        b->size = size;
        b->used = 0;
        h->strings = b;
    }
    b->used += n;
    return (char *)(b + 1) + (b->used - n);
}

/* `s` for a value: the document's own string when the handle may borrow
 * it, else a copy in the string blocks.  NULL when out of memory. */
static char *keep_string(embedcfg_handle *h, const char *s, int from_doc)
{
    size_t n;
    char *out;

    if (from_doc && h->borrow) {
        return (char *)s;  /* never written through */
    }
    n = strlen(s) + 1;
    out = keep_bytes(h, n);
    if (out != NULL) {
        memcpy(out, s, n);
    }
    return out;
}

/* A handle whose memory comes from `mem` (NULL: malloc). */
static embedcfg_handle *create_in(embedcfg__arena *mem)
{
    embedcfg_handle *h = (embedcfg_handle *)embedcfg__alloc(mem, sizeof(*h));

    if (h == NULL) {
        return NULL;
    }
    /* all but the error text's kilobyte, only ever read up to its NUL */
    memset(h, 0, offsetof(embedcfg_handle, error));
    h->error[0] = '\0';
    h->mem = mem;
    return h;
}

embedcfg_handle *embedcfg_create(void)
{
    return create_in(NULL);
}

/* The executable's directory for $ORIGIN, looked up on first use (NULL is
 * fine: $ORIGIN then fails): the launcher names it with
 * embedcfg_set_origin, and most documents never use it. */
static const char *origin_of(embedcfg_handle *h)
{
    if (!h->origin_known) {
        h->origin = embedcfg__exe_dir();
        h->origin_known = 1;
    }
    return h->origin;
}

static void clear_report(embedcfg_handle *h)
{
    size_t i;

    for (i = 0; i < h->n_report; i++) {
        embedcfg__free(h->mem, h->report[i].detail);
    }
    embedcfg__free(h->mem, h->report);
    h->report = NULL;
    h->n_report = 0;
}

void embedcfg_free(embedcfg_handle *h)
{
    size_t i;

    if (h == NULL) {
        return;
    }
    for (i = 0; i < EMBEDCFG_OPTION_COUNT; i++) {
        release_value(h, &h->values[i]);
    }
    while (h->strings != NULL) {
        strings_block *next = h->strings->next;

        embedcfg__free(h->mem, h->strings);
        h->strings = next;
    }
    for (i = 0; i < h->n_modules; i++) {
        embedcfg__free(h->mem, h->modules[i].name);  /* NULL once CPython owns it */
        embedcfg__free(h->mem, h->modules[i].symbol);
        embedcfg__free(h->mem, h->modules[i].library);
    }
    embedcfg__free(h->mem, h->modules);
    clear_report(h);
    embedcfg__free(h->mem, h->origin);
    embedcfg__free(h->mem, h->config_dir);
    embedcfg__free(h->mem, h->lib);
    embedcfg__free(h->mem, h->requires_python);
    embedcfg__free(h->mem, h);
}

static int replace_string(embedcfg_handle *h, char **slot, const char *value)
{
    char *copy = NULL;

    if (value != NULL) {
        copy = embedcfg__strdup_in(h->mem, value);
        if (copy == NULL) {
            return fail(h, "out of memory");
        }
    }
    embedcfg__free(h->mem, *slot);
    *slot = copy;
    return 0;
}

int embedcfg_set_origin(embedcfg_handle *h, const char *dir)
{
    if (h == NULL) {
        return -1;
    }
    if (replace_string(h, &h->origin, dir) < 0) {
        return -1;
    }
    h->origin_known = 1;
    return 0;
}

int embedcfg_set_config_dir(embedcfg_handle *h, const char *dir)
{
    if (h == NULL) {
        return -1;
    }
    return replace_string(h, &h->config_dir, dir);
}

int embedcfg_set_profile(embedcfg_handle *h, const char *profile)
{
    if (h == NULL) {
        return -1;
    }
    if (profile != NULL && strcmp(profile, "isolated") == 0) {
        h->python_profile = 0;
        return 0;
    }
    if (profile != NULL && strcmp(profile, "python") == 0) {
        h->python_profile = 1;
        return 0;
    }
    return fail(h, "profile: expected \"isolated\" or \"python\", got \"%s\"",
                profile != NULL ? profile : "(null)");
}

/* --- options -------------------------------------------------------------- */

/* Most steps of a search are decided by the first letter: no strcmp call. */
static int compare_name(const char *a, const char *b)
{
    if ((unsigned char)a[0] != (unsigned char)b[0]) {
        return (unsigned char)a[0] < (unsigned char)b[0] ? -1 : 1;
    }
    return strcmp(a, b);
}

/* Binary search over the generated name order: a document sets every
 * option through here, and a linear scan was most of the launcher's own
 * start-up cost after the dynamic linker's.  `hint` (NULL: none) is where
 * the previous name was found, plus one: canonical documents list their
 * options in name order, so the next one is usually a few places on, and
 * those are tried first.  Any order is still found. */
static const embedcfg_spec *find_spec(const char *name, size_t *index, size_t *hint)
{
    size_t lo = 0;
    size_t hi = EMBEDCFG_OPTION_COUNT;
    size_t at;

    if (hint != NULL) {
        size_t k;

        for (k = *hint; k < EMBEDCFG_OPTION_COUNT && k < *hint + 4; k++) {
            int cmp = compare_name(name, embedcfg_option_specs[embedcfg_option_by_name[k]].name);

            if (cmp == 0) {
                at = k;
                goto found;
            }
            if (cmp < 0) {
                hi = k;
                break;
            }
            lo = k + 1;  /* sorted: the name is not at or before k */
        }
    }
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = compare_name(name, embedcfg_option_specs[embedcfg_option_by_name[mid]].name);

        if (cmp == 0) {
            at = mid;
            goto found;
        }
        if (cmp < 0) {
            hi = mid;
        }
        else {
            lo = mid + 1;
        }
    }
    return NULL;

found:
    if (index != NULL) {
        *index = embedcfg_option_by_name[at];
    }
    if (hint != NULL) {
        *hint = at + 1;
    }
    return &embedcfg_option_specs[embedcfg_option_by_name[at]];
}

static const char *build_name(embedcfg_build build)
{
    switch (build) {
    /* the labels come from embedcfg/options.py (Build.label) */
    case EMBEDCFG_BUILD_WINDOWS: return EMBEDCFG_BUILD_LABEL_WINDOWS;
    case EMBEDCFG_BUILD_FREE_THREADED: return EMBEDCFG_BUILD_LABEL_FREE_THREADED;
    case EMBEDCFG_BUILD_DEBUG: return EMBEDCFG_BUILD_LABEL_DEBUG;
    case EMBEDCFG_BUILD_STATS: return EMBEDCFG_BUILD_LABEL_STATS;
    case EMBEDCFG_BUILD_MACOS: return EMBEDCFG_BUILD_LABEL_MACOS;
    default: return "some";
    }
}

/* The option exists in the CPython this library is compiled for. */
static int check_available(embedcfg_handle *h, const embedcfg_spec *spec)
{
    char have[16];
    char need[16];

    if ((unsigned long)PY_VERSION_HEX < spec->since) {
        embedcfg__format_minor((unsigned long)PY_VERSION_HEX, have, sizeof(have));
        embedcfg__format_minor(spec->since, need, sizeof(need));
        return fail_option(h, spec->name, "the option needs CPython %s or newer,"
                           " but this shim is built for CPython %s", need, have);
    }
    if (spec->removed != 0 && (unsigned long)PY_VERSION_HEX >= spec->removed) {
        embedcfg__format_minor((unsigned long)PY_VERSION_HEX, have, sizeof(have));
        embedcfg__format_minor(spec->removed, need, sizeof(need));
        return fail_option(h, spec->name, "the option was removed in CPython %s,"
                           " and this shim is built for CPython %s", need, have);
    }
    if (spec->build != EMBEDCFG_BUILD_NONE && spec->pre_offset == EMBEDCFG_NO_MEMBER
        && spec->cfg_offset == EMBEDCFG_NO_MEMBER) {
        return fail_option(h, spec->name, "the option exists only on %s builds of"
                           " CPython, and this one is not", build_name(spec->build));
    }
    return 0;
}

/* The option `name` may be set on this interpreter; NULL (with the error
 * recorded in the handle, if there is one) otherwise. */
static const embedcfg_spec *lookup(embedcfg_handle *h, const char *name, size_t *index,
                                   size_t *hint)
{
    const embedcfg_spec *spec;

    if (h == NULL) {
        return NULL;
    }
    if (name == NULL) {
        fail(h, "option name is NULL");
        return NULL;
    }
    spec = find_spec(name, index, hint);
    if (spec == NULL) {
        fail(h, "unknown option '%s': not a PEP 741 option name embedcfg knows", name);
        return NULL;
    }
    if (check_available(h, spec) < 0) {
        return NULL;
    }
    return spec;
}

static int check_value_since(embedcfg_handle *h, const embedcfg_spec *spec,
                             int64_t value)
{
    const embedcfg_value_since *vs;
    char need[16];
    char have[16];
    char shown[32];

    for (vs = spec->values_since; vs != NULL && vs->since != 0; vs++) {
        if (vs->value == value && (unsigned long)PY_VERSION_HEX < vs->since) {
            /* formatted only for the message: every integer option passes here */
            snprintf(shown, sizeof(shown), "%lld", (long long)value);
            embedcfg__format_minor(vs->since, need, sizeof(need));
            embedcfg__format_minor((unsigned long)PY_VERSION_HEX, have, sizeof(have));
            return fail_option(h, spec->name, "%s needs CPython %s or newer, but this"
                               " shim is built for CPython %s", shown, need, have);
        }
    }
    return 0;
}

/* The setters after lookup(): a document's options are looked up once. */
static int set_int_at(embedcfg_handle *h, const embedcfg_spec *spec, size_t index,
                      const char *name, int64_t value)
{
    int i;
    int ok;

    if (spec->kind == EMBEDCFG_KIND_BOOL) {
        if (value != 0 && value != 1) {
            return fail_option(h, name, "expected a boolean (0 or 1), got %lld",
                               (long long)value);
        }
    }
    else if (spec->kind == EMBEDCFG_KIND_INT) {
        ok = !spec->has_range || (value >= spec->minimum && value <= spec->maximum);
        for (i = 0; i < spec->n_also && i < 2; i++) {
            if (value == spec->also[i]) {
                ok = 1;
            }
        }
        if (!ok) {
            if (spec->n_also > 0) {
                return fail_option(h, name, "expected an integer from %lld to %lld (or"
                                   " %lld), got %lld", (long long)spec->minimum,
                                   (long long)spec->maximum, (long long)spec->also[0],
                                   (long long)value);
            }
            return fail_option(h, name, "expected an integer from %lld to %lld, got %lld",
                               (long long)spec->minimum, (long long)spec->maximum,
                               (long long)value);
        }
        if (check_value_since(h, spec, value) < 0) {
            return -1;
        }
    }
    else {
        return fail_option(h, name, "expected %s, got an integer",
                           spec->kind == EMBEDCFG_KIND_STR ? "a string" : "a list of strings");
    }
    clear_value(h, &h->values[index]);
    h->values[index].set = 1;
    h->values[index].ival = value;
    return 0;
}

int embedcfg_set_int(embedcfg_handle *h, const char *name, int64_t value)
{
    size_t index = 0;
    const embedcfg_spec *spec = lookup(h, name, &index, NULL);

    return spec != NULL ? set_int_at(h, spec, index, name, value) : -1;
}

/* A path option's value with its anchor expanded, kept as keep_string
 * does; NULL (with the error recorded) when it cannot be. */
static char *keep_path(embedcfg_handle *h, const embedcfg_spec *spec, const char *value,
                       int from_doc)
{
    char err[512];
    const char *base;
    const char *rest;
    size_t base_len;
    size_t rest_len;
    char *out;

    if (embedcfg__split_path(value, origin_of(h), h->config_dir, 0, &base, &rest, err,
                             sizeof(err)) < 0) {
        fail_option(h, spec->name, "%s", err);
        return NULL;
    }
    if (base[0] == '\0') {
        out = keep_string(h, value, from_doc);
    }
    else {
        base_len = strlen(base);
        rest_len = strlen(rest);
        out = base_len + rest_len < SIZE_MAX - 1 ? keep_bytes(h, base_len + rest_len + 1)
                                                 : NULL;
        if (out != NULL) {
            memcpy(out, base, base_len);
            memcpy(out + base_len, rest, rest_len + 1);
        }
    }
    if (out == NULL) {
        fail(h, "out of memory");
    }
    return out;
}

/* `from_doc`: the string comes from the document parser, which has
 * already rejected invalid UTF-8 and NULs; checking again cost a pass over
 * every string of every launch.  (The setters below also borrow such a
 * string, without a copy, when the handle may: see keep_string.) */
static int check_string(embedcfg_handle *h, const char *name, const char *value,
                        int from_doc)
{
    if (value == NULL) {
        return fail_option(h, name, "the string is NULL");
    }
    if (!from_doc && !embedcfg__valid_utf8(value, strlen(value))) {
        return fail_option(h, name, "the string is not valid UTF-8");
    }
    return 0;
}

static int set_str_at(embedcfg_handle *h, const embedcfg_spec *spec, size_t index,
                      const char *name, const char *value, int from_doc)
{
    const embedcfg_choice *choice = NULL;
    char *copy = NULL;

    if (spec->kind != EMBEDCFG_KIND_STR) {
        return fail_option(h, name, "expected %s, got a string",
                           spec->kind == EMBEDCFG_KIND_STR_LIST ? "a list of strings"
                           : spec->kind == EMBEDCFG_KIND_BOOL ? "a boolean" : "an integer");
    }
    if (check_string(h, name, value, from_doc) < 0) {
        return -1;
    }
    if (spec->choices != NULL) {
        const embedcfg_choice *c;
        char names[256] = "";

        for (c = spec->choices; c->name != NULL && choice == NULL; c++) {
            if (strcmp(c->name, value) == 0) {
                choice = c;
            }
        }
        if (choice == NULL) {
            for (c = spec->choices; c->name != NULL; c++) {
                if (strlen(names) + strlen(c->name) + 8 < sizeof(names)) {
                    strcat(names, names[0] != '\0' ? ", \"" : "\"");
                    strcat(names, c->name);
                    strcat(names, "\"");
                }
            }
            return fail_option(h, name, "expected one of %s, got \"%s\"", names, value);
        }
        if (choice->since != 0 && (unsigned long)PY_VERSION_HEX < choice->since) {
            char need[16];
            char have[16];

            embedcfg__format_minor(choice->since, need, sizeof(need));
            embedcfg__format_minor((unsigned long)PY_VERSION_HEX, have, sizeof(have));
            return fail_option(h, name, "\"%s\" needs CPython %s or newer, but this shim"
                               " is built for CPython %s", value, need, have);
        }
    }
    if (choice != NULL && spec->ctype != EMBEDCFG_CT_WSTR
        && spec->ctype != EMBEDCFG_CT_WSTR_OPT) {
        /* a named integer (allocator): keep the C value */
        clear_value(h, &h->values[index]);
        h->values[index].set = 1;
        h->values[index].ival = choice->value;
        return 0;
    }
    /* a failure leaves the previous value */
    copy = spec->path ? keep_path(h, spec, value, from_doc) : keep_string(h, value, from_doc);
    if (copy == NULL) {
        if (!spec->path) {
            fail(h, "out of memory");
        }
        return -1;
    }
    clear_value(h, &h->values[index]);
    h->values[index].set = 1;
    h->values[index].str = copy;
    return 0;
}

int embedcfg_set_str(embedcfg_handle *h, const char *name, const char *value)
{
    size_t index = 0;
    const embedcfg_spec *spec = lookup(h, name, &index, NULL);

    return spec != NULL ? set_str_at(h, spec, index, name, value, 0) : -1;
}

static int list_add(embedcfg_handle *h, const embedcfg_spec *spec, embedcfg_value *v,
                    size_t length, const char *const *items, int from_doc)
{
    char **grown;
    size_t i;

    if (length == 0) {
        return 0;
    }
    if (items == NULL || length > ((size_t)-1) / sizeof(char *) - v->len) {
        return fail_option(h, spec->name, "the list is NULL or too long");
    }
    for (i = 0; i < length; i++) {
        if (check_string(h, spec->name, items[i], from_doc) < 0) {
            return -1;
        }
    }
    grown = (char **)embedcfg__realloc(h->mem, v->list, (v->len + length) * sizeof(char *));
    if (grown == NULL) {
        return fail(h, "out of memory");
    }
    v->list = grown;
    for (i = 0; i < length; i++) {
        char *copy = spec->path ? keep_path(h, spec, items[i], from_doc)
                                : keep_string(h, items[i], from_doc);

        if (copy == NULL) {
            if (!spec->path) {
                fail(h, "out of memory");
            }
            return -1;
        }
        v->list[v->len++] = copy;
    }
    return 0;
}

static int set_list_at(embedcfg_handle *h, const embedcfg_spec *spec, size_t index,
                       const char *name, size_t length, const char *const *items,
                       int append, int from_doc)
{
    embedcfg_value fresh;

    if (spec->kind != EMBEDCFG_KIND_STR_LIST) {
        return fail_option(h, name, "expected %s, got a list of strings",
                           spec->kind == EMBEDCFG_KIND_STR ? "a string"
                           : spec->kind == EMBEDCFG_KIND_BOOL ? "a boolean" : "an integer");
    }
    if (append) {
        h->values[index].set = 1;
        return list_add(h, spec, &h->values[index], length, items, from_doc);
    }
    /* build aside, so a failure leaves the previous value */
    memset(&fresh, 0, sizeof(fresh));
    if (list_add(h, spec, &fresh, length, items, from_doc) < 0) {
        clear_value(h, &fresh);
        return -1;
    }
    clear_value(h, &h->values[index]);
    h->values[index] = fresh;
    h->values[index].set = 1;
    return 0;
}

static int set_list(embedcfg_handle *h, const char *name, size_t length,
                    const char *const *items, int append)
{
    size_t index = 0;
    const embedcfg_spec *spec = lookup(h, name, &index, NULL);

    return spec != NULL ? set_list_at(h, spec, index, name, length, items, append, 0) : -1;
}

int embedcfg_set_strlist(embedcfg_handle *h, const char *name, size_t length,
                         const char *const *items)
{
    return set_list(h, name, length, items, 0);
}

int embedcfg_append_strlist(embedcfg_handle *h, const char *name, size_t length,
                            const char *const *items)
{
    return set_list(h, name, length, items, 1);
}

int embedcfg_has_option(const embedcfg_handle *h, const char *name)
{
    size_t index = 0;

    if (h == NULL || name == NULL || find_spec(name, &index, NULL) == NULL) {
        return 0;
    }
    return h->values[index].set;
}

static embedcfg_value *value_of(embedcfg_handle *h, const char *name)
{
    size_t index = 0;

    if (find_spec(name, &index, NULL) == NULL || !h->values[index].set) {
        return NULL;
    }
    return &h->values[index];
}

/* --- inittab -------------------------------------------------------------- */

static int valid_module_name(const char *name)
{
    const char *p = name;
    int start = 1;

    if (*p == '\0') {
        return 0;
    }
    for (; *p != '\0'; p++) {
        char c = *p;
        int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        int digit = c >= '0' && c <= '9';

        if (c == '.') {
            if (start) {
                return 0;
            }
            start = 1;
        }
        else if (alpha || (digit && !start)) {
            start = 0;
        }
        else {
            return 0;
        }
    }
    return !start;
}

static int ascii_only(const char *s)
{
    for (; *s != '\0'; s++) {
        if ((unsigned char)*s >= 0x80) {
            return 0;
        }
    }
    return 1;
}

static int add_module(embedcfg_handle *h, const char *name, embedcfg_initfunc init,
                      const char *symbol, const char *library)
{
    embedcfg_module m;
    size_t i;
    char err[512];
    const char *last;
    const char *p;

    if (h == NULL) {
        return -1;
    }
    memset(&m, 0, sizeof(m));
    if (name != NULL && !ascii_only(name)) {
        /* PEP 489 would need a PyInitU_<punycode> symbol: not derived here,
         * nor by embedcfg's checks or bake (problem EC504). */
        return fail(h, "inittab: module name '%s' is not ASCII; non-ASCII module names"
                    " are not supported (PEP 489 would need a PyInitU_ punycode init"
                    " symbol): use an ASCII name", name);
    }
    if (name == NULL || !valid_module_name(name)) {
        return fail(h, "inittab: '%s' is not a dotted module name",
                    name != NULL ? name : "(null)");
    }
    for (i = 0; i < h->n_modules; i++) {
        if (strcmp(h->modules[i].name, name) == 0) {
            return fail(h, "inittab: module '%s' is already registered", name);
        }
    }
    if (h->n_modules == h->cap_modules) {
        size_t cap = h->cap_modules != 0 ? h->cap_modules * 2 : 8;
        embedcfg_module *grown =
            (embedcfg_module *)embedcfg__realloc(h->mem, h->modules, cap * sizeof(m));

        if (grown == NULL) {
            return fail(h, "out of memory");
        }
        h->modules = grown;
        h->cap_modules = cap;
    }
    m.init = init;
    m.name = embedcfg__strdup_in(h->mem, name);
    if (m.name == NULL) {
        goto oom;
    }
    if (init == NULL) {
        if (symbol != NULL) {
            m.symbol = embedcfg__strdup_in(h->mem, symbol);
        }
        else {
            size_t size;

            /* after the last '.' (strrchr, without its own symbol lookup) */
            for (last = name, p = name; *p != '\0'; p++) {
                if (*p == '.') {
                    last = p + 1;
                }
            }
            size = strlen(last) + 1;
            m.symbol = (char *)embedcfg__alloc(h->mem, sizeof("PyInit_") - 1 + size);
            if (m.symbol != NULL) {
                /* not snprintf: this runs for every inittab entry of every launch */
                memcpy(m.symbol, "PyInit_", sizeof("PyInit_") - 1);
                memcpy(m.symbol + sizeof("PyInit_") - 1, last, size);
            }
        }
        if (m.symbol == NULL) {
            goto oom;
        }
        if (library != NULL) {
            m.library = embedcfg__expand_path_in(h->mem, library, origin_of(h), h->config_dir, 1,
                                                 err, sizeof(err));
            if (m.library == NULL) {
                embedcfg__free(h->mem, m.symbol);
                embedcfg__free(h->mem, m.name);
                return fail(h, "inittab '%s': library %s", name, err);
            }
        }
    }
    h->modules[h->n_modules++] = m;
    return 0;

oom:
    embedcfg__free(h->mem, m.symbol);
    embedcfg__free(h->mem, m.name);
    return fail(h, "out of memory");
}

int embedcfg_add_module(embedcfg_handle *h, const char *name, embedcfg_initfunc init)
{
    if (h != NULL && init == NULL) {
        return fail(h, "inittab '%s': the init function is NULL", name != NULL ? name : "");
    }
    return add_module(h, name, init, NULL, NULL);
}

int embedcfg_add_module_symbol(embedcfg_handle *h, const char *name, const char *symbol,
                               const char *library)
{
    return add_module(h, name, NULL, symbol, library);
}

int embedcfg_set_static_modules(embedcfg_handle *h, const char *mechanism)
{
    if (h == NULL) {
        return -1;
    }
    if (mechanism == NULL) {
        h->static_modules = STATIC_AUTOMATIC;
    }
    else if (strcmp(mechanism, "inittab") == 0) {
        h->static_modules = STATIC_INITTAB;
    }
    else if (strcmp(mechanism, "indexed") == 0) {
        h->static_modules = STATIC_INDEXED;
    }
    else {
        return fail(h, "static_modules: expected \"inittab\" or \"indexed\", got \"%s\"",
                    mechanism);
    }
    return 0;
}

/* The mechanism in effect, deciding as embedcfg.bake.choose_mechanism does:
 * CPython's inittab cannot change after init, and each of its entries adds
 * cost to every static import. */
static int uses_indexed(const embedcfg_handle *h)
{
    if (h->static_modules != STATIC_AUTOMATIC) {
        return h->static_modules == STATIC_INDEXED;
    }
    return h->embedded || h->n_modules >= (size_t)EMBEDCFG_INDEXED_THRESHOLD;
}

const char *embedcfg_get_static_modules(const embedcfg_handle *h)
{
    if (h == NULL) {
        return "";
    }
    return uses_indexed(h) ? "indexed" : "inittab";
}

/* Find the init functions of modules registered by symbol. */
static int resolve_modules(embedcfg_handle *h)
{
    size_t i;
#ifndef _WIN32
    /* Entries usually name one library: a second dlopen() of it would only
     * return the same handle, at the price of the dynamic linker's search. */
    const char *opened_name = NULL;
    void *opened = NULL;
#endif

    for (i = 0; i < h->n_modules; i++) {
        embedcfg_module *m = &h->modules[i];
#ifndef _WIN32
        void *lib;
        void *sym;

        if (m->init != NULL) {
            continue;
        }
        if (opened != NULL
            && (opened_name == m->library
                || (opened_name != NULL && m->library != NULL
                    && strcmp(opened_name, m->library) == 0))) {
            lib = opened;
        }
        else {
            /* Never dlclose'd: the module's code runs for the process lifetime. */
            lib = dlopen(m->library, RTLD_NOW | RTLD_GLOBAL);
        }
        if (lib == NULL) {
            const char *why = dlerror();

            return fail(h, "inittab '%s': cannot load %s: %s", m->name,
                        m->library != NULL ? m->library : "the host program",
                        why != NULL ? why : "unknown error");
        }
        opened = lib;
        opened_name = m->library;
        sym = dlsym(lib, m->symbol);
        if (sym == NULL) {
            return fail(h, "inittab '%s': symbol %s not found in %s", m->name, m->symbol,
                        m->library != NULL ? m->library : "the host program");
        }
        /* POSIX guarantees that a data pointer from dlsym converts to a
         * function pointer; memcpy avoids the ISO C warning. */
        memcpy(&m->init, &sym, sizeof(m->init));
#else
        if (m->init == NULL) {
            return fail(h, "inittab '%s': symbol lookup is not supported here", m->name);
        }
#endif
    }
    return 0;
}

/* --- document ------------------------------------------------------------- */

static const char *json_type(const embedcfg_json_value *v)
{
    return embedcfg_json_type_name(embedcfg_json_type_of(v));
}

static int expect(embedcfg_handle *h, const embedcfg_json_value *v, embedcfg_json_type type,
                  const char *what)
{
    if (embedcfg_json_type_of(v) != type) {
        return fail(h, "%s: expected %s, got %s (byte offset %lu)", what,
                    embedcfg_json_type_name(type), json_type(v),
                    (unsigned long)embedcfg_json_offset(v));
    }
    return 0;
}

static int load_option(embedcfg_handle *h, const char *name, const embedcfg_json_value *v,
                       size_t *hint)
{
    size_t index = 0;
    const embedcfg_spec *spec = lookup(h, name, &index, hint);
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
        return fail_option(h, name, "expected %s, got %s (byte offset %lu)",
                           embedcfg_json_type_name(want), json_type(v),
                           (unsigned long)embedcfg_json_offset(v));
    }
    switch (spec->kind) {
    case EMBEDCFG_KIND_BOOL:
        return set_int_at(h, spec, index, name, embedcfg_json_bool_value(v) ? 1 : 0);
    case EMBEDCFG_KIND_INT:
        return set_int_at(h, spec, index, name, embedcfg_json_int_value(v));
    case EMBEDCFG_KIND_STR:
        return set_str_at(h, spec, index, name, embedcfg_json_string_value(v, NULL), 1);
    default:
        break;
    }
    n = embedcfg_json_array_len(v);
    if (n > 0) {
        /* malloc, not calloc: every slot is written before it is read, and
         * nothing else on the way to init needs calloc bound */
        if (n > SIZE_MAX / sizeof(char *)) {
            return fail(h, "out of memory");
        }
        items = (const char **)embedcfg__alloc(h->mem, n * sizeof(char *));
        if (items == NULL) {
            return fail(h, "out of memory");
        }
    }
    for (i = 0; i < n; i++) {
        const embedcfg_json_value *item = embedcfg_json_array_item(v, i);

        if (embedcfg_json_type_of(item) != EMBEDCFG_JSON_STRING) {
            fail_option(h, name, "item %lu: expected a string, got %s (byte offset %lu)",
                        (unsigned long)i, json_type(item),
                        (unsigned long)embedcfg_json_offset(item));
            goto done;
        }
        items[i] = embedcfg_json_string_value(item, NULL);
    }
    rc = set_list_at(h, spec, index, name, n, items, 0, 1);

done:
    embedcfg__free(h->mem, items);
    return rc;
}

static int set_from_policy(embedcfg_handle *h, const char *name, int is_str,
                           int64_t ival, const char *sval)
{
    embedcfg_value *v = value_of(h, name);

    if (v != NULL) {
        /* the Python side reports EC301; here a contradiction is an error too */
        int same = is_str ? (v->str != NULL && strcmp(v->str, sval) == 0) : v->ival == ival;

        if (!same) {
            return fail(h, "pycache: the policy contradicts option '%s'; remove the option",
                        name);
        }
        return 0;
    }
    return is_str ? embedcfg_set_str(h, name, sval) : embedcfg_set_int(h, name, ival);
}

static int load_pycache(embedcfg_handle *h, const embedcfg_json_value *pc)
{
    const embedcfg_json_value *mode = embedcfg_json_object_get(pc, "mode");
    const embedcfg_json_value *prefix = embedcfg_json_object_get(pc, "prefix");
    const embedcfg_json_value *check = embedcfg_json_object_get(pc, "check");
    const char *m = NULL;
    size_t i;

    for (i = 0; i < embedcfg_json_object_len(pc); i++) {
        const char *key = embedcfg_json_object_key(pc, i, NULL);

        if (strcmp(key, "mode") != 0 && strcmp(key, "prefix") != 0
            && strcmp(key, "check") != 0) {
            return fail(h, "pycache: unknown key '%s'", key);
        }
    }
    if (mode != NULL) {
        if (expect(h, mode, EMBEDCFG_JSON_STRING, "pycache.mode") < 0) {
            return -1;
        }
        m = embedcfg_json_string_value(mode, NULL);
        if (strcmp(m, "default") != 0 && strcmp(m, "prefix") != 0
            && strcmp(m, "readonly") != 0 && strcmp(m, "off") != 0) {
            return fail(h, "pycache.mode: expected \"default\", \"prefix\", \"readonly\" or"
                        " \"off\", got \"%s\"", m);
        }
    }
    if (prefix != NULL) {
        if (expect(h, prefix, EMBEDCFG_JSON_STRING, "pycache.prefix") < 0) {
            return -1;
        }
        if (m == NULL || strcmp(m, "prefix") != 0) {
            return fail(h, "pycache.prefix is only used with mode \"prefix\"");
        }
    }
    if (m != NULL && strcmp(m, "prefix") == 0) {
        char err[512];
        char *expanded;
        int rc;

        if (prefix == NULL) {
            return fail(h, "pycache: mode \"prefix\" needs a prefix");
        }
        expanded = embedcfg__expand_path_in(h->mem, embedcfg_json_string_value(prefix, NULL),
                                            origin_of(h), h->config_dir, 0, err, sizeof(err));
        if (expanded == NULL) {
            return fail(h, "pycache.prefix: %s", err);
        }
        rc = set_from_policy(h, "pycache_prefix", 1, 0, expanded);
        embedcfg__free(h->mem, expanded);
        if (rc < 0) {
            return -1;
        }
    }
    if (m != NULL && set_from_policy(h, "write_bytecode", 0,
                                     strcmp(m, "default") == 0 || strcmp(m, "prefix") == 0,
                                     NULL) < 0) {
        return -1;
    }
    if (check != NULL) {
        if (expect(h, check, EMBEDCFG_JSON_STRING, "pycache.check") < 0) {
            return -1;
        }
        if (set_from_policy(h, "check_hash_pycs_mode", 1, 0,
                            embedcfg_json_string_value(check, NULL)) < 0) {
            return -1;
        }
    }
    return 0;
}

static int load_inittab(embedcfg_handle *h, const embedcfg_json_value *list)
{
    size_t i;
    size_t k;

    for (i = 0; i < embedcfg_json_array_len(list); i++) {
        const embedcfg_json_value *e = embedcfg_json_array_item(list, i);
        const embedcfg_json_value *name;
        const embedcfg_json_value *init;
        const embedcfg_json_value *library;

        if (embedcfg_json_type_of(e) != EMBEDCFG_JSON_OBJECT) {
            return fail(h, "inittab[%lu]: expected an object, got %s", (unsigned long)i,
                        json_type(e));
        }
        for (k = 0; k < embedcfg_json_object_len(e); k++) {
            const char *key = embedcfg_json_object_key(e, k, NULL);

            if (strcmp(key, "name") != 0 && strcmp(key, "init") != 0
                && strcmp(key, "library") != 0) {
                return fail(h, "inittab[%lu]: unknown key '%s'", (unsigned long)i, key);
            }
        }
        name = embedcfg_json_object_get(e, "name");
        init = embedcfg_json_object_get(e, "init");
        library = embedcfg_json_object_get(e, "library");
        if (name == NULL) {
            return fail(h, "inittab[%lu]: the name is missing", (unsigned long)i);
        }
        if (expect(h, name, EMBEDCFG_JSON_STRING, "inittab name") < 0
            || (init != NULL && expect(h, init, EMBEDCFG_JSON_STRING, "inittab init") < 0)
            || (library != NULL
                && expect(h, library, EMBEDCFG_JSON_STRING, "inittab library") < 0)) {
            return -1;
        }
        if (embedcfg_add_module_symbol(
                h, embedcfg_json_string_value(name, NULL),
                init != NULL ? embedcfg_json_string_value(init, NULL) : NULL,
                library != NULL ? embedcfg_json_string_value(library, NULL) : NULL) < 0) {
            return -1;
        }
    }
    return 0;
}

static int load_string_key(embedcfg_handle *h, const embedcfg_json_value *doc,
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
        value = embedcfg__expand_path_in(h->mem, embedcfg_json_string_value(v, NULL),
                                         origin_of(h), h->config_dir, 1, err, sizeof(err));
        if (value == NULL) {
            return fail(h, "lib: %s", err);
        }
    }
    else {
        value = embedcfg__strdup_in(h->mem, embedcfg_json_string_value(v, NULL));
        if (value == NULL) {
            return fail(h, "out of memory");
        }
    }
    embedcfg__free(h->mem, *slot);
    *slot = value;
    return 0;
}

static int load_document(embedcfg_handle *h, const embedcfg_json_value *doc)
{
    static const char *const known[] = {
        "$schema", "version", "profile", "lib", "requires_python", "embedded",
        "options", "inittab", "static_modules", "pycache", NULL
    };
    const embedcfg_json_value *v;
    size_t i;

    if (embedcfg_json_type_of(doc) != EMBEDCFG_JSON_OBJECT) {
        return fail(h, "the document must be an object, got %s", json_type(doc));
    }
    for (i = 0; i < embedcfg_json_object_len(doc); i++) {
        const char *key = embedcfg_json_object_key(doc, i, NULL);
        size_t k;
        int found = 0;

        for (k = 0; known[k] != NULL && !found; k++) {
            found = strcmp(known[k], key) == 0;
        }
        if (!found) {
            return fail(h, "unknown key '%s' (byte offset %lu)", key,
                        (unsigned long)embedcfg_json_offset(embedcfg_json_object_value(doc, i)));
        }
    }
    v = embedcfg_json_object_get(doc, "version");
    if (v == NULL) {
        return fail(h, "version: missing; the document format version is 1");
    }
    if (expect(h, v, EMBEDCFG_JSON_INT, "version") < 0) {
        return -1;
    }
    if (embedcfg_json_int_value(v) != 1) {
        return fail(h, "version: this shim reads format version 1, got %lld",
                    (long long)embedcfg_json_int_value(v));
    }
    v = embedcfg_json_object_get(doc, "profile");
    if (v != NULL) {
        if (expect(h, v, EMBEDCFG_JSON_STRING, "profile") < 0
            || embedcfg_set_profile(h, embedcfg_json_string_value(v, NULL)) < 0) {
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
            || embedcfg_set_static_modules(h, embedcfg_json_string_value(v, NULL)) < 0) {
            return -1;
        }
    }
    if (load_string_key(h, doc, "lib", &h->lib, 1) < 0
        || load_string_key(h, doc, "requires_python", &h->requires_python, 0) < 0) {
        return -1;
    }
    if (h->requires_python != NULL) {
        char err[256];

        if (embedcfg_version_matches(h->requires_python, 3, 0, 0, err, sizeof(err)) < 0) {
            return fail(h, "requires_python: %s", err);
        }
    }
    v = embedcfg_json_object_get(doc, "options");
    if (v != NULL) {
        size_t hint = 0;

        if (expect(h, v, EMBEDCFG_JSON_OBJECT, "options") < 0) {
            return -1;
        }
        for (i = 0; i < embedcfg_json_object_len(v); i++) {
            if (load_option(h, embedcfg_json_object_key(v, i, NULL),
                            embedcfg_json_object_value(v, i), &hint) < 0) {
                return -1;
            }
        }
    }
    v = embedcfg_json_object_get(doc, "inittab");
    if (v != NULL) {
        if (expect(h, v, EMBEDCFG_JSON_ARRAY, "inittab") < 0 || load_inittab(h, v) < 0) {
            return -1;
        }
    }
    v = embedcfg_json_object_get(doc, "pycache");
    if (v != NULL) {
        if (expect(h, v, EMBEDCFG_JSON_OBJECT, "pycache") < 0 || load_pycache(h, v) < 0) {
            return -1;
        }
    }
    return 0;
}

int embedcfg_load_buffer(embedcfg_handle *h, const char *buf, size_t len)
{
    embedcfg_json_value *doc = NULL;
    embedcfg_json_error err;
    int rc;

    if (h == NULL) {
        return -1;
    }
    if (buf == NULL) {
        return fail(h, "the document buffer is NULL");
    }
    memset(&err, 0, sizeof(err));
    if (embedcfg_json_parse(buf, len, EMBEDCFG_JSON_MAX_DOCUMENT_SIZE, &doc, &err) < 0) {
        return fail(h, "invalid document at line %lu, column %lu (byte offset %lu): %s",
                    (unsigned long)err.line, (unsigned long)err.column,
                    (unsigned long)err.offset, err.message);
    }
    rc = load_document(h, doc);
    embedcfg_json_free(doc);
    return rc;
}

/* `borrow`: `doc` outlives the handle, whose values may then point into
 * it instead of copying its strings. */
static int load_parsed(embedcfg_handle *h, const embedcfg_json_value *doc, const char *file,
                       const char *config_dir, int borrow)
{
    char *dir;
    int rc;

    if (h == NULL) {
        return -1;
    }
    if (doc == NULL || file == NULL) {
        return fail(h, "the document or its file name is NULL");
    }
    dir = config_dir != NULL ? embedcfg__strdup_in(h->mem, config_dir) : embedcfg__dirname_of(file);
    if (dir == NULL) {
        return fail(h, "out of memory");
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
        fail(h, "%s: %s", file, detail);
    }
    return rc;
}

int embedcfg__load_parsed(embedcfg_handle *h, const embedcfg_json_value *doc,
                          const char *file, const char *config_dir)
{
    return load_parsed(h, doc, file, config_dir, 1);
}

/* The launcher has read /proc/self/exe for $ORIGIN: the default
 * program_name reuses it (the string stays the launcher's). */
static void set_executable(embedcfg_handle *h, const char *path)
{
    if (h != NULL) {
        h->exe = path;
    }
}

/* The launcher has read the libpython's version (it refuses a mismatch
 * with its own message): the check before init reuses it. */
static void set_running_version(embedcfg_handle *h, int major, int minor, int micro)
{
    if (h != NULL && major > 0 && minor >= 0 && micro >= 0 && minor < 256 && micro < 256
        && major < 256) {
        h->running_version = ((unsigned long)major << 16) | ((unsigned long)minor << 8)
                             | (unsigned long)micro;
    }
}

void embedcfg__launch_api(embedcfg__launch_api_t *api)
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
    api->create_in = create_in;
    api->set_executable = set_executable;
}

int embedcfg_load_file(embedcfg_handle *h, const char *path)
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
        return fail(h, "the document path is NULL");
    }
    if (embedcfg__read_file(path, EMBEDCFG_JSON_MAX_DOCUMENT_SIZE, &data, &len, err,
                            sizeof(err)) < 0) {
        return fail(h, "%s", err);
    }
    memset(&jerr, 0, sizeof(jerr));
    rc = embedcfg_json_parse(data, len, EMBEDCFG_JSON_MAX_DOCUMENT_SIZE, &doc, &jerr);
    free(data);
    if (rc < 0) {
        return fail(h, "%s: invalid document at line %lu, column %lu (byte offset %lu): %s",
                    path, (unsigned long)jerr.line, (unsigned long)jerr.column,
                    (unsigned long)jerr.offset, jerr.message);
    }
    rc = load_parsed(h, doc, path, NULL, 0);
    embedcfg_json_free(doc);
    return rc;
}

const char *embedcfg_get_lib(const embedcfg_handle *h)
{
    return h != NULL && h->lib != NULL ? h->lib : "";
}

const char *embedcfg_get_requires_python(const embedcfg_handle *h)
{
    return h != NULL && h->requires_python != NULL ? h->requires_python : "";
}

int embedcfg_is_embedded(const embedcfg_handle *h)
{
    return h != NULL && h->embedded;
}

/* --- applying: shared ------------------------------------------------------ */

static int check_running_version(embedcfg_handle *h)
{
    int major;
    int minor;
    int micro;
    char err[256];

    if (h->running_version != 0) {
        major = (int)((h->running_version >> 16) & 0xFF);
        minor = (int)((h->running_version >> 8) & 0xFF);
        micro = (int)(h->running_version & 0xFF);
    }
    else {
#if PY_VERSION_HEX >= 0x030B0000
        /* Py_Version (3.11+) is the running library's PY_VERSION_HEX;
         * Py_GetVersion formats its whole banner with snprintf on every
         * call. */
        major = (int)((Py_Version >> 24) & 0xFF);
        minor = (int)((Py_Version >> 16) & 0xFF);
        micro = (int)((Py_Version >> 8) & 0xFF);
#else
        const char *version = Py_GetVersion();

        if (embedcfg__parse_version(version, &major, &minor, &micro) < 0) {
            return fail(h, "cannot read the CPython version from \"%.40s\"", version);
        }
#endif
    }
    if ((unsigned long)major != ((unsigned long)PY_VERSION_HEX >> 24)
        || (unsigned long)minor != (((unsigned long)PY_VERSION_HEX >> 16) & 0xFF)) {
        char built[16];

        embedcfg__format_minor((unsigned long)PY_VERSION_HEX, built, sizeof(built));
        return fail(h, "the running libpython is CPython %d.%d.%d, but this shim is built for"
                    " CPython %s", major, minor, micro, built);
    }
    if (h->requires_python != NULL) {
        int r = embedcfg_version_matches(h->requires_python, major, minor, micro, err,
                                         sizeof(err));

        if (r < 0) {
            return fail(h, "requires_python: %s", err);
        }
        if (r == 0) {
            return fail(h, "CPython %d.%d.%d does not satisfy requires_python '%s'",
                        major, minor, micro, h->requires_python);
        }
    }
    return 0;
}

/* The isolated profile does not configure the locale; without UTF-8 mode the
 * encodings come out ASCII even under a UTF-8 locale.  Unless the document
 * decides, isolated means UTF-8 (see docs/explanation/shim.md). */
static int wants_utf8_default(embedcfg_handle *h)
{
    return !h->python_profile && value_of(h, "utf8_mode") == NULL;
}

static void add_report(embedcfg_handle *h, const char *name, int status, const char *fmt, ...)
{
    va_list ap;
    char detail[512];
    embedcfg_report *grown;

    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    grown = (embedcfg_report *)embedcfg__realloc(h->mem, h->report,
                                                 (h->n_report + 1) * sizeof(*grown));
    if (grown == NULL) {
        return;  /* the report is best effort; the status is still returned */
    }
    h->report = grown;
    h->report[h->n_report].name = name;
    h->report[h->n_report].status = status;
    h->report[h->n_report].detail = embedcfg__strdup(detail);
    h->n_report++;
}

size_t embedcfg_attach_report_len(const embedcfg_handle *h)
{
    return h != NULL ? h->n_report : 0;
}

int embedcfg_attach_report_item(const embedcfg_handle *h, size_t i, const char **name,
                                const char **detail)
{
    if (h == NULL || i >= h->n_report) {
        return -1;
    }
    if (name != NULL) {
        *name = h->report[i].name;
    }
    if (detail != NULL) {
        *detail = h->report[i].detail != NULL ? h->report[i].detail : "";
    }
    return h->report[i].status;
}

/* --- the environment ------------------------------------------------------------ */

/* Will CPython read PYTHON* variables with this handle's settings? */
static int reads_environment(embedcfg_handle *h)
{
    embedcfg_value *v = value_of(h, "use_environment");
    embedcfg_value *iso = value_of(h, "isolated");

    if (iso != NULL && iso->ival) {
        return 0;  /* isolated forces use_environment off */
    }
    if (v != NULL) {
        return v->ival != 0;
    }
    if (iso != NULL) {
        return !iso->ival;
    }
    return h->python_profile;
}

static void neutralize_environment(embedcfg_handle *h)
{
    size_t i;

    if (!reads_environment(h)) {
        return;
    }
    /* CPython reads these variables even when the member was set explicitly
     * (flags merged with max(), others "set if present"; measured on 3.8-3.13
     * by tests/integration/test_environment.py): remove the variable of every
     * option the document sets, so the document wins. */
    for (i = 0; i < EMBEDCFG_OPTION_COUNT; i++) {
        if (embedcfg_option_specs[i].env != NULL && h->values[i].set) {
            unsetenv(embedcfg_option_specs[i].env);
        }
    }
}

/* getpath (3.11-3.13) reads PYTHONEXECUTABLE even with use_environment = 0
 * (measured): hide it during init when the environment must not be read,
 * and put it back afterwards for child processes. */
static char *hide_executable_variable(embedcfg_handle *h)
{
    const char *value;
    char *saved;

    if (reads_environment(h) || (value = getenv("PYTHONEXECUTABLE")) == NULL) {
        return NULL;
    }
    saved = embedcfg__strdup(value);
    if (saved != NULL) {
        unsetenv("PYTHONEXECUTABLE");
    }
    return saved;
}

static void restore_executable_variable(char *saved)
{
    if (saved != NULL) {
        setenv("PYTHONEXECUTABLE", saved, 1);
        free(saved);
    }
}

/* --- applying: PyPreConfig / PyConfig through the table ---------------------- */

/* The `len` bytes of `s`, UTF-8 (already validated), decoded into `out`,
 * which has room for len + 1 wide characters (a character never takes
 * fewer bytes than wide characters), and a NUL; returns the place after
 * the NUL.  Runs of ASCII (paths, option values: nearly everything) are
 * widened 16 bytes at a time where SSE2 is there and wchar_t is 32 bits,
 * one by one elsewhere; this was the launcher's largest cost per byte of
 * the document. */
static wchar_t *decode_into(const char *s, size_t len, wchar_t *out)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    size_t o = 0;

    while (i < len) {
        uint32_t cp;
        int extra;

#if defined(__SSE2__) && WCHAR_MAX > 0xFFFF
        while (len - i >= 16) {
            __m128i zero = _mm_setzero_si128();
            __m128i bytes = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
            __m128i low;
            __m128i high;

            if (_mm_movemask_epi8(bytes) != 0) {
                break;  /* a byte of a multi-byte character among them */
            }
            low = _mm_unpacklo_epi8(bytes, zero);
            high = _mm_unpackhi_epi8(bytes, zero);
            _mm_storeu_si128((__m128i *)(void *)(out + o), _mm_unpacklo_epi16(low, zero));
            _mm_storeu_si128((__m128i *)(void *)(out + o + 4), _mm_unpackhi_epi16(low, zero));
            _mm_storeu_si128((__m128i *)(void *)(out + o + 8), _mm_unpacklo_epi16(high, zero));
            _mm_storeu_si128((__m128i *)(void *)(out + o + 12), _mm_unpackhi_epi16(high, zero));
            i += 16;
            o += 16;
        }
#endif
        while (i < len && p[i] < 0x80) {
            out[o++] = (wchar_t)p[i++];
        }
        if (i == len) {
            break;
        }

        if (p[i] < 0xE0) {
            cp = p[i] & 0x1Fu;
            extra = 1;
        }
        else if (p[i] < 0xF0) {
            cp = p[i] & 0x0Fu;
            extra = 2;
        }
        else {
            cp = p[i] & 0x07u;
            extra = 3;
        }
        i++;
        while (extra-- > 0 && i < len) {
            cp = (cp << 6) | (p[i] & 0x3Fu);
            i++;
        }
#if WCHAR_MAX <= 0xFFFF
        if (cp >= 0x10000) {
            cp -= 0x10000;
            out[o++] = (wchar_t)(0xD800 + (cp >> 10));
            cp = 0xDC00 + (cp & 0x3FF);
        }
#endif
        out[o++] = (wchar_t)cp;
    }
    out[o] = L'\0';
    return out + o + 1;
}

static int status_failed(embedcfg_handle *h, PyStatus status, const char *during)
{
    if (PyStatus_IsExit(status)) {
        h->has_exit = 1;
        h->exitcode = status.exitcode;
        return fail(h, "%s: CPython asked to exit with status %d", during, status.exitcode);
    }
    return fail(h, "%s: %s%s%s", during, status.func != NULL ? status.func : "",
                status.func != NULL ? "() " : "",
                status.err_msg != NULL ? status.err_msg : "unknown error");
}

static void fill_preconfig(embedcfg_handle *h, PyPreConfig *pre)
{
    size_t i;

    for (i = 0; i < EMBEDCFG_OPTION_COUNT; i++) {
        const embedcfg_spec *spec = &embedcfg_option_specs[i];

        if (h->values[i].set && spec->pre_offset != EMBEDCFG_NO_MEMBER) {
            int value = (int)h->values[i].ival;

            memcpy((char *)pre + spec->pre_offset, &value, sizeof(value));
        }
    }
    if (wants_utf8_default(h)) {
        pre->utf8_mode = 1;
    }
}

static int preinitialize(embedcfg_handle *h)
{
    PyPreConfig pre;
    PyStatus status;

    if (h->python_profile) {
        PyPreConfig_InitPythonConfig(&pre);
    }
    else {
        PyPreConfig_InitIsolatedConfig(&pre);
    }
    fill_preconfig(h, &pre);
    status = Py_PreInitialize(&pre);
    if (PyStatus_Exception(status)) {
        return status_failed(h, status, "preinitializing");
    }
    return 0;
}

/* Room for the wide form of every string and list option set: one block
 * for them all (PyConfig copies what it is given), not one per string. */
static int wide_scratch(embedcfg_handle *h, void **block, wchar_t ***slots, wchar_t **chars)
{
    size_t n_chars = 0;
    size_t n_slots = 0;
    size_t i;
    size_t k;

    *block = NULL;
    for (i = 0; i < EMBEDCFG_OPTION_COUNT; i++) {
        const embedcfg_spec *spec = &embedcfg_option_specs[i];
        const embedcfg_value *v = &h->values[i];

        if (!v->set || spec->cfg_offset == EMBEDCFG_NO_MEMBER) {
            continue;
        }
        if (spec->ctype == EMBEDCFG_CT_WSTR || spec->ctype == EMBEDCFG_CT_WSTR_OPT) {
            n_chars += (v->str != NULL ? strlen(v->str) : 0) + 1;
        }
        else if (spec->ctype == EMBEDCFG_CT_WSTR_LIST) {
            for (k = 0; k < v->len; k++) {
                n_chars += strlen(v->list[k]) + 1;
            }
            n_slots += v->len;
        }
    }
    if (n_chars == 0) {
        return 0;
    }
    /* the strings are in memory already: these sums cannot come near
     * SIZE_MAX, but stay defined */
    if (n_slots > SIZE_MAX / 2 / sizeof(wchar_t *)
        || n_chars > (SIZE_MAX / 2 - n_slots * sizeof(wchar_t *)) / sizeof(wchar_t)) {
        return fail(h, "out of memory");
    }
    *block = embedcfg__alloc(h->mem, n_slots * sizeof(wchar_t *) + n_chars * sizeof(wchar_t));
    if (*block == NULL) {
        return fail(h, "out of memory");
    }
    *slots = (wchar_t **)*block;
    *chars = (wchar_t *)(void *)(*slots + n_slots);
    return 0;
}

static int fill_config(embedcfg_handle *h, PyConfig *config)
{
    size_t i;
    size_t k;
    PyStatus status;
    void *block;
    wchar_t **slots = NULL;
    wchar_t *chars = NULL;
    char during[128];
    int rc = -1;

    if (wide_scratch(h, &block, &slots, &chars) < 0) {
        return -1;
    }
    for (i = 0; i < EMBEDCFG_OPTION_COUNT; i++) {
        const embedcfg_spec *spec = &embedcfg_option_specs[i];
        embedcfg_value *v = &h->values[i];
        char *member;

        if (!v->set || spec->cfg_offset == EMBEDCFG_NO_MEMBER) {
            continue;
        }
        member = (char *)config + spec->cfg_offset;
        switch (spec->ctype) {
        case EMBEDCFG_CT_BOOL:
        case EMBEDCFG_CT_INT:
        case EMBEDCFG_CT_UINT: {
            int value = (int)v->ival;

            memcpy(member, &value, sizeof(value));
            break;
        }
        case EMBEDCFG_CT_ULONG: {
            unsigned long value = (unsigned long)v->ival;

            memcpy(member, &value, sizeof(value));
            break;
        }
        case EMBEDCFG_CT_WSTR:
        case EMBEDCFG_CT_WSTR_OPT: {
            wchar_t *w = chars;
            const char *text = v->str != NULL ? v->str : "";

            chars = decode_into(text, strlen(text), chars);
            status = PyConfig_SetString(config, (wchar_t **)(void *)member, w);
            if (PyStatus_Exception(status)) {
                snprintf(during, sizeof(during), "during setting %s", spec->name);
                status_failed(h, status, during);
                goto done;
            }
            break;
        }
        case EMBEDCFG_CT_WSTR_LIST: {
            wchar_t **items = slots;

            for (k = 0; k < v->len; k++) {
                items[k] = chars;
                chars = decode_into(v->list[k], strlen(v->list[k]), chars);
            }
            slots += v->len;
            status = PyConfig_SetWideStringList(config, (PyWideStringList *)(void *)member,
                                                (Py_ssize_t)v->len, items);
            if (PyStatus_Exception(status)) {
                snprintf(during, sizeof(during), "during setting %s", spec->name);
                status_failed(h, status, during);
                goto done;
            }
            break;
        }
        }
    }
    /* As PEP 741 does: giving the path sets it, giving a seed uses it. */
    if (value_of(h, "module_search_paths") != NULL
        && value_of(h, "module_search_paths_set") == NULL) {
        config->module_search_paths_set = 1;
    }
    if (value_of(h, "hash_seed") != NULL && value_of(h, "use_hash_seed") == NULL) {
        config->use_hash_seed = 1;
    }
    rc = 0;

done:
    embedcfg__free(h->mem, block);
    return rc;
}

/* Before init: find every init function (a missing one is a configuration
 * error while nothing is initialized yet), and register them in CPython's
 * inittab unless the indexed importer will be installed after init. */
static int register_modules(embedcfg_handle *h)
{
    size_t i;

    if (resolve_modules(h) < 0) {
        return -1;
    }
    if (uses_indexed(h)) {
        return 0;
    }
    for (i = 0; i < h->n_modules; i++) {
        embedcfg_module *m = &h->modules[i];

        if (PyImport_AppendInittab(m->name, m->init) < 0) {
            return fail(h, "inittab '%s': PyImport_AppendInittab failed", m->name);
        }
        /* CPython keeps the pointer for the process lifetime: hand it over. */
        m->name = NULL;
    }
    return 0;
}

/* Neither program_name nor executable given: CPython would take argv[0], or
 * search PATH for "python3", and honour a pyvenv.cfg beside or above what it
 * finds - even in an isolated configuration - which lets whoever controls
 * PATH redirect sys.prefix to where .pth files run code.  The running
 * executable is what the host really is, so it is the default (as
 * PyOxidizer does); sys.executable then names the host. */
static int default_program_name(embedcfg_handle *h)
{
    char *exe;
    int rc;

    if (embedcfg_has_option(h, "program_name") || embedcfg_has_option(h, "executable")) {
        return 0;
    }
    if (h->exe != NULL) {
        return embedcfg_set_str(h, "program_name", h->exe);  /* the launcher's */
    }
    exe = embedcfg__exe_path();
    if (exe == NULL) {
        return 0;  /* the platform does not tell: CPython's own default */
    }
    rc = embedcfg_set_str(h, "program_name", exe);
    free(exe);
    return rc;
}

int embedcfg_fill_pyconfig(embedcfg_handle *h, void *config)
{
    if (h == NULL) {
        return -1;
    }
    h->has_exit = 0;
    h->error[0] = '\0';
    if (config == NULL) {
        return fail(h, "the PyConfig pointer is NULL");
    }
    if (Py_IsInitialized()) {
        return fail(h, "an interpreter is already running: fill_pyconfig is for hosts"
                    " that initialize it afterwards");
    }
    if (check_running_version(h) < 0 || default_program_name(h) < 0 || preinitialize(h) < 0
        || fill_config(h, (PyConfig *)config) < 0 || register_modules(h) < 0) {
        return -1;
    }
    return 0;
}

/* --- the indexed static importer ---------------------------------------------- */

/* Take the pending Python exception, clearing it: its type name and str()
 * into the buffers ("" when there is none).  1 when str() gave a text. */
static int take_exception(char *type_name, size_t type_size, char *msg, size_t msg_size)
{
    PyObject *value;
    PyObject *text = NULL;
    const char *utf8 = NULL;

#if PY_VERSION_HEX >= 0x030C0000
    /* PyErr_Fetch is deprecated since 3.12 */
    value = PyErr_GetRaisedException();
#else
    {
        PyObject *type = NULL;
        PyObject *tb = NULL;

        PyErr_Fetch(&type, &value, &tb);
        PyErr_NormalizeException(&type, &value, &tb);
        Py_XDECREF(type);
        Py_XDECREF(tb);
    }
#endif
    type_name[0] = '\0';
    msg[0] = '\0';
    if (value != NULL) {
        snprintf(type_name, type_size, "%s", Py_TYPE(value)->tp_name);
        text = PyObject_Str(value);
    }
    if (text != NULL) {
        utf8 = PyUnicode_AsUTF8(text);
    }
    if (utf8 != NULL) {
        snprintf(msg, msg_size, "%s", utf8);
    }
    Py_XDECREF(text);
    Py_XDECREF(value);
    PyErr_Clear();
    return utf8 != NULL;
}

/* The pending Python exception as the handle's error, cleared. */
static int fail_exception(embedcfg_handle *h, const char *during)
{
    char type_name[128];
    char msg[ERROR_SIZE];
    int has_text;

    if (!PyErr_Occurred()) {
        return fail(h, "%s failed", during);
    }
    has_text = take_exception(type_name, sizeof(type_name), msg, sizeof(msg));
    fail(h, "%s: %s: %s", during, type_name[0] != '\0' ? type_name : "error",
         has_text ? msg : "(no message)");
    return -1;
}

/* Install the importer over the handle's modules (resolved already); the
 * caller holds the GIL.  The importer copies the table and its names
 * (EMBEDCFG_STATIC_COPY), so the handle may be freed afterwards. */
static int install_static(embedcfg_handle *h)
{
    embedcfg_static_entry *table;
    size_t i;
    int rc;

    if (!uses_indexed(h) || h->n_modules == 0 || h->static_installed) {
        return 0;
    }
    table = (embedcfg_static_entry *)calloc(h->n_modules, sizeof(*table));
    if (table == NULL) {
        return fail(h, "out of memory");
    }
    for (i = 0; i < h->n_modules; i++) {
        table[i].name = h->modules[i].name;
        table[i].init = h->modules[i].init;
    }
    /* the callers know the interpreter is (at least core-)initialized */
    rc = embedcfg__static_importer_install_core(table, h->n_modules, EMBEDCFG_STATIC_COPY);
    free(table);
    if (rc < 0) {
        return fail_exception(h, "installing the indexed static importer");
    }
    h->static_installed = 1;
    return 0;
}

int embedcfg_install_static_modules(embedcfg_handle *h)
{
    PyGILState_STATE gil;
    int rc;

    if (h == NULL) {
        return -1;
    }
    h->error[0] = '\0';
    if (!uses_indexed(h) || h->n_modules == 0 || h->static_installed) {
        return 0;
    }
    if (!Py_IsInitialized()) {
        return fail(h, "install_static_modules: no interpreter is initialized; call it"
                    " after Py_InitializeFromConfig()");
    }
    /* normally done by fill_pyconfig already: then this finds nothing to do */
    if (resolve_modules(h) < 0) {
        return -1;
    }
    gil = PyGILState_Ensure();
    rc = install_static(h);
    PyGILState_Release(gil);
    return rc;
}

/* --- attach ------------------------------------------------------------------ */

static PyObject *str_list(const embedcfg_value *v)
{
    PyObject *list = PyList_New(0);
    size_t i;

    if (list == NULL) {
        return NULL;
    }
    for (i = 0; i < v->len; i++) {
        PyObject *s = PyUnicode_FromString(v->list[i]);

        if (s == NULL || PyList_Append(list, s) < 0) {
            Py_XDECREF(s);
            Py_DECREF(list);
            return NULL;
        }
        Py_DECREF(s);
    }
    return list;
}

static void report_exception(embedcfg_handle *h, const char *name)
{
    char type_name[128];
    char msg[ERROR_SIZE];
    int has_text = take_exception(type_name, sizeof(type_name), msg, sizeof(msg));

    add_report(h, name, EMBEDCFG_NOT_APPLIED, "failed: %s", has_text ? msg : "error");
}

static int attach_search_paths(const embedcfg_value *v, int *added)
{
    PyObject *path = PySys_GetObject("path");  /* borrowed */
    size_t i;

    *added = 0;
    if (path == NULL || !PyList_Check(path)) {
        PyErr_SetString(PyExc_RuntimeError, "sys.path is not a list");
        return -1;
    }
    for (i = 0; i < v->len; i++) {
        PyObject *s = PyUnicode_FromString(v->list[i]);
        int present;

        if (s == NULL) {
            return -1;
        }
        present = PySequence_Contains(path, s);
        if (present == 0) {
            present = PyList_Append(path, s);
            *added += present == 0;
        }
        Py_DECREF(s);
        if (present < 0) {
            return -1;
        }
    }
    return 0;
}

static int attach_warnoptions(const embedcfg_value *v)
{
    PyObject *warnings = PyImport_ImportModule("warnings");
    PyObject *warnoptions = PySys_GetObject("warnoptions");  /* borrowed */
    size_t i;
    int rc = -1;

    if (warnings == NULL) {
        return -1;
    }
    for (i = 0; i < v->len; i++) {
        PyObject *r = PyObject_CallMethod(warnings, "_setoption", "s", v->list[i]);
        PyObject *s;

        if (r == NULL) {
            goto done;
        }
        Py_DECREF(r);
        if (warnoptions != NULL && PyList_Check(warnoptions)) {
            s = PyUnicode_FromString(v->list[i]);
            if (s == NULL || PyList_Append(warnoptions, s) < 0) {
                Py_XDECREF(s);
                goto done;
            }
            Py_DECREF(s);
        }
    }
    rc = 0;

done:
    Py_DECREF(warnings);
    return rc;
}

static void attach_one(embedcfg_handle *h, const embedcfg_spec *spec, embedcfg_value *v)
{
    const char *name = spec->name;
    PyObject *obj = NULL;
    int rc;

    if (strcmp(name, "module_search_paths") == 0) {
        int added = 0;

        if (attach_search_paths(v, &added) < 0) {
            report_exception(h, name);
        }
        else {
            add_report(h, name, EMBEDCFG_APPLIED, "%d entr%s added to sys.path", added,
                       added == 1 ? "y" : "ies");
        }
        return;
    }
    if (strcmp(name, "pycache_prefix") == 0) {
        obj = PyUnicode_FromString(v->str != NULL ? v->str : "");
        rc = obj != NULL ? PySys_SetObject("pycache_prefix", obj) : -1;
        Py_XDECREF(obj);
        if (rc < 0) {
            report_exception(h, name);
        }
        else {
            add_report(h, name, EMBEDCFG_APPLIED, "sys.pycache_prefix set");
        }
        return;
    }
    if (strcmp(name, "write_bytecode") == 0) {
        rc = PySys_SetObject("dont_write_bytecode", v->ival ? Py_False : Py_True);
        if (rc < 0) {
            report_exception(h, name);
        }
        else {
            add_report(h, name, EMBEDCFG_APPLIED, "sys.dont_write_bytecode set to %s",
                       v->ival ? "False" : "True");
        }
        return;
    }
    if (strcmp(name, "warnoptions") == 0) {
        if (attach_warnoptions(v) < 0) {
            report_exception(h, name);
        }
        else {
            add_report(h, name, EMBEDCFG_APPLIED, "warning filters added");
        }
        return;
    }
    if (strcmp(name, "argv") == 0) {
        obj = str_list(v);
        rc = obj != NULL ? PySys_SetObject("argv", obj) : -1;
        Py_XDECREF(obj);
        if (rc < 0) {
            report_exception(h, name);
        }
        else {
            add_report(h, name, EMBEDCFG_APPLIED, "sys.argv set");
        }
        return;
    }
#if PY_VERSION_HEX >= 0x030E0000
    /* PEP 741: the public options can be changed at run time. */
    if (spec->visibility == EMBEDCFG_VIS_PUBLIC) {
        if (spec->kind == EMBEDCFG_KIND_STR_LIST) {
            obj = str_list(v);
        }
        else if (spec->kind == EMBEDCFG_KIND_STR) {
            obj = PyUnicode_FromString(v->str != NULL ? v->str : "");
        }
        else if (spec->kind == EMBEDCFG_KIND_BOOL) {
            obj = PyBool_FromLong((long)v->ival);
        }
        else {
            obj = PyLong_FromLongLong((long long)v->ival);
        }
        rc = obj != NULL ? PyConfig_Set(name, obj) : -1;
        Py_XDECREF(obj);
        if (rc < 0) {
            report_exception(h, name);
        }
        else {
            add_report(h, name, EMBEDCFG_APPLIED, "set with PyConfig_Set");
        }
        return;
    }
#endif
    add_report(h, name, EMBEDCFG_NOT_APPLIED,
               "fixed at init: it cannot be changed in a running interpreter");
}

static int attach(embedcfg_handle *h)
{
    PyGILState_STATE gil;
    size_t i;
    int rc = 0;

    /* A missing init function refuses the document before anything in the
     * running interpreter changes. */
    if (uses_indexed(h) && resolve_modules(h) < 0) {
        return -1;
    }
    gil = PyGILState_Ensure();
    clear_report(h);
    for (i = 0; i < EMBEDCFG_OPTION_COUNT; i++) {
        if (h->values[i].set) {
            attach_one(h, &embedcfg_option_specs[i], &h->values[i]);
        }
    }
    if (!uses_indexed(h)) {
        for (i = 0; i < h->n_modules; i++) {
            add_report(h, "inittab", EMBEDCFG_NOT_APPLIED,
                       "module '%s' not registered: the inittab cannot change after init;"
                       " use static_modules = \"indexed\"",
                       h->modules[i].name != NULL ? h->modules[i].name : "?");
        }
    }
    else if (h->n_modules > 0) {
        rc = install_static(h);
        if (rc == 0) {
            add_report(h, "inittab", EMBEDCFG_APPLIED,
                       "%lu module(s) importable through the indexed static importer",
                       (unsigned long)h->n_modules);
        }
    }
    PyGILState_Release(gil);
    return rc;
}

/* --- initialize ---------------------------------------------------------------- */

#if PY_VERSION_HEX >= 0x030E0000
/* PEP 741.  Small on purpose: it cannot be run on the machines this shim is
 * tested on (see docs/explanation/shim.md). */
static int initconfig_failed(embedcfg_handle *h, PyInitConfig *c, const char *during)
{
    const char *msg = NULL;
    int code = 0;

    if (PyInitConfig_GetExitCode(c, &code)) {
        h->has_exit = 1;
        h->exitcode = code;
        return fail(h, "%s: CPython asked to exit with status %d", during, code);
    }
    PyInitConfig_GetError(c, &msg);
    return fail(h, "%s: %s", during, msg != NULL ? msg : "unknown error");
}

static int initialize_pep741(embedcfg_handle *h)
{
    /* The python profile on PyInitConfig, which starts isolated.  UNSET is
     * the python preset's -1, "read -X and PYTHON* at init", for members the
     * isolated preset fixes: PyInitConfig types them UINT/BOOL (0..UINT_MAX)
     * and stores them in C ints, where UINT_MAX is -1. */
#define UNSET ((int64_t)UINT_MAX)
    static const struct { const char *name; int64_t value; } python_profile[] = {
        {"isolated", 0}, {"use_environment", 1}, {"user_site_directory", 1},
        {"safe_path", 0}, {"install_signal_handlers", 1}, {"pathconfig_warnings", 1},
        {"configure_c_stdio", 1}, {"parse_argv", 1}, {"configure_locale", 1},
        {"_config_init", 2 /* _PyConfig_INIT_PYTHON */}, {"use_hash_seed", UNSET},
        {"dev_mode", UNSET}, {"tracemalloc", UNSET}, {"perf_profiling", UNSET},
        {"int_max_str_digits", UNSET}, {NULL, 0}
    };
#undef UNSET
    PyInitConfig *c = PyInitConfig_Create();
    char during[128];
    char *saved = NULL;
    size_t i;
    size_t k;
    int r;
    int rc = -1;

    if (c == NULL) {
        return fail(h, "out of memory");
    }
    /* find the init functions before anything is initialized */
    if (resolve_modules(h) < 0) {
        goto done;
    }
    /* PyInitConfig cannot express the python preset's "decide from the
     * locale" (-1) for coerce_c_locale and utf8_mode: preinitialize with that
     * preset, as python does (PEP 538, 540); Py_InitializeFromInitConfig keeps
     * an existing preconfiguration. */
    if (h->python_profile) {
        neutralize_environment(h);
        if (preinitialize(h) < 0) {
            goto done;
        }
    }
    for (i = 0; h->python_profile && python_profile[i].name != NULL; i++) {
        if (PyInitConfig_SetInt(c, python_profile[i].name, python_profile[i].value) < 0) {
            initconfig_failed(h, c, "applying the python profile");
            goto done;
        }
    }
    if (wants_utf8_default(h) && PyInitConfig_SetInt(c, "utf8_mode", 1) < 0) {
        initconfig_failed(h, c, "during setting utf8_mode");
        goto done;
    }
    for (i = 0; i < EMBEDCFG_OPTION_COUNT; i++) {
        const embedcfg_spec *spec = &embedcfg_option_specs[i];
        embedcfg_value *v = &h->values[i];

        if (!v->set) {
            continue;
        }
        snprintf(during, sizeof(during), "during setting %s", spec->name);
        if (spec->kind == EMBEDCFG_KIND_STR_LIST) {
            r = PyInitConfig_SetStrList(c, spec->name, v->len, v->list);
        }
        else if (spec->kind == EMBEDCFG_KIND_STR && v->str != NULL) {
            r = PyInitConfig_SetStr(c, spec->name, v->str);  /* never NULL */
        }
        else {
            r = PyInitConfig_SetInt(c, spec->name, v->ival);
        }
        if (r < 0) {
            initconfig_failed(h, c, during);
            goto done;
        }
    }
    for (k = 0; !uses_indexed(h) && k < h->n_modules; k++) {
        if (PyInitConfig_AddModule(c, h->modules[k].name, h->modules[k].init) < 0) {
            initconfig_failed(h, c, "registering the inittab");
            goto done;
        }
        h->modules[k].name = NULL;  /* 3.14 stores the pointer: never free it */
    }
    neutralize_environment(h);
    saved = hide_executable_variable(h);
    r = Py_InitializeFromInitConfig(c);
    restore_executable_variable(saved);
    if (r < 0) {
        initconfig_failed(h, c, "initializing CPython");
        goto done;
    }
    /* init returns with the GIL held by this thread */
    rc = install_static(h);

done:
    PyInitConfig_Free(c);
    return rc;
}
#endif

#if PY_VERSION_HEX < 0x030E0000
static int initialize_pep587(embedcfg_handle *h)
{
    PyConfig config;
    PyStatus status;
    char *saved = NULL;
    int main_phase;
    int rc = -1;

    /* find the inittab symbols before anything is initialized */
    if (resolve_modules(h) < 0) {
        return -1;
    }
    neutralize_environment(h);
    if (preinitialize(h) < 0) {
        return -1;
    }
    if (h->python_profile) {
        PyConfig_InitPythonConfig(&config);
    }
    else {
        PyConfig_InitIsolatedConfig(&config);
    }
    if (fill_config(h, &config) < 0 || register_modules(h) < 0) {
        goto done;
    }
    /* The indexed importer goes in between the core and the main phase of
     * init (PEP 587's multi-phase initialization): importlib exists then,
     * site and sitecustomize have not run, so static modules are importable
     * during init as inittab modules are.  A document that stops after the
     * core phase (_init_main = false) keeps stopping there. */
    main_phase = uses_indexed(h) && h->n_modules > 0 && config._init_main;
    if (main_phase) {
        config._init_main = 0;
    }
    saved = hide_executable_variable(h);
    status = Py_InitializeFromConfig(&config);
    if (!PyStatus_Exception(status)) {
        /* init returns with the GIL held by this thread */
        rc = install_static(h);
        if (rc == 0 && main_phase) {
            status = _Py_InitializeMain();
        }
    }
    restore_executable_variable(saved);
    if (PyStatus_Exception(status)) {
        status_failed(h, status, "initializing CPython");
        rc = -1;
        goto done;
    }

done:
    PyConfig_Clear(&config);
    return rc;
}
#endif

int embedcfg_initialize(embedcfg_handle *h)
{
    if (h == NULL) {
        return -1;
    }
    h->has_exit = 0;
    h->error[0] = '\0';
    if (check_running_version(h) < 0) {
        return -1;
    }
    if (Py_IsInitialized()) {
        if (!h->embedded) {
            return fail(h, "an interpreter is already running; set embedded = true to"
                        " attach to it instead of initializing");
        }
        return attach(h);
    }
    if (h->embedded) {
        return fail(h, "embedded = true, but no interpreter is running to attach to;"
                    " set embedded = false to initialize one");
    }
    if (default_program_name(h) < 0) {
        return -1;
    }
#if PY_VERSION_HEX >= 0x030E0000
    return initialize_pep741(h);
#else
    return initialize_pep587(h);
#endif
}

int embedcfg_run_main(embedcfg_handle *h)
{
    (void)h;
    return Py_RunMain();
}
