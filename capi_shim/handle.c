/* The handle of embedcfg.h: its errors, its lifetime, and setting options
 * by name.
 *
 * Setters only check and record values in the handle; the interpreter is
 * touched by embedcfg_initialize() / embedcfg_fill_pyconfig() alone, so a
 * launcher can refuse a document before anything is initialized.  Errors
 * are kept in the handle, never printed. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "embedcfg_document.h"
#include "handle.h"
#include "archive_importer.h"
#include "paths.h"
#include "utf8.h"
#include "version.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if PY_VERSION_HEX < 0x03080000
#  error "embedcfg needs CPython 3.8 or newer"
#endif

/* --- errors --------------------------------------------------------------- */

int
embedcfg__fail(embedcfg_handle *h, const char *fmt, ...)
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

int
embedcfg__fail_option(embedcfg_handle *h, const char *name,
                      const char *fmt, ...)
{
    va_list ap;
    char detail[ERROR_SIZE];

    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    return embedcfg__fail(h, "during setting %s: %s", name, detail);
}

const char *
embedcfg_get_error(const embedcfg_handle *h)
{
    return h != NULL ? h->error : "no handle (out of memory?)";
}

int
embedcfg_get_exit_code(const embedcfg_handle *h, int *exitcode)
{
    if (h == NULL || !h->has_exit) {
        return 0;
    }
    if (exitcode != NULL) {
        *exitcode = h->exitcode;
    }
    return 1;
}

unsigned long
embedcfg_python_version_hex(void)
{
    return (unsigned long)PY_VERSION_HEX;
}

/* Take the pending Python exception, clearing it: its type name and str()
 * into the buffers ("" when there is none).  1 when str() gave a text. */
int
embedcfg__take_exception(char *type_name, size_t type_size, char *msg,
                         size_t msg_size)
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
int
embedcfg__fail_exception(embedcfg_handle *h, const char *during)
{
    char type_name[128];
    char msg[ERROR_SIZE];
    int has_text;

    if (!PyErr_Occurred()) {
        return embedcfg__fail(h, "%s failed", during);
    }
    has_text = embedcfg__take_exception(type_name, sizeof(type_name), msg,
                                        sizeof(msg));
    embedcfg__fail(h, "%s: %s: %s", during,
                   type_name[0] != '\0' ? type_name : "error",
                   has_text ? msg : "(no message)");
    return -1;
}

/* --- handle --------------------------------------------------------------- */

/* Frees what `v` owns (its list's array; the strings are the handle's),
 * leaving it dangling: for embedcfg_free, which runs over every option of
 * the table, most of them never set. */
static void
release_value(embedcfg_handle *h, embedcfg_value *v)
{
    if (v->list != NULL) {
        embedcfg__free(h->mem, v->list);
    }
}

static void
clear_value(embedcfg_handle *h, embedcfg_value *v)
{
    release_value(h, v);
    memset(v, 0, sizeof(*v));
}

/* Room for `n` bytes, kept until embedcfg_free; NULL when out of memory.
 * A value set again leaves its old string here until then. */
static char *
keep_bytes(embedcfg_handle *h, size_t n)
{
    char *out;

    if (h->n_kept == h->cap_kept) {
        size_t cap = h->cap_kept != 0 ? h->cap_kept * 2 : 16;
        char **grown;

        if (cap > SIZE_MAX / sizeof(*grown)) {
            return NULL;
        }
        grown = (char **)embedcfg__realloc(h->mem, h->kept,
                                           cap * sizeof(*grown));
        if (grown == NULL) {
            return NULL;
        }
        h->kept = grown;
        h->cap_kept = cap;
    }
    out = (char *)embedcfg__alloc(h->mem, n);
    if (out != NULL) {
        h->kept[h->n_kept++] = out;
    }
    return out;
}

/* `s` for a value: the document's own string when the handle may borrow
 * it, else a copy in the string blocks.  NULL when out of memory. */
static char *
keep_string(embedcfg_handle *h, const char *s, int from_doc)
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
embedcfg_handle *
embedcfg__create_in(embedcfg__arena *mem)
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

embedcfg_handle *
embedcfg_create(void)
{
    return embedcfg__create_in(NULL);
}

/* The executable's directory for $ORIGIN, looked up on first use (NULL is
 * fine: $ORIGIN then fails): the launcher names it with
 * embedcfg_set_origin, and most documents never use it. */
const char *
embedcfg__origin_of(embedcfg_handle *h)
{
    if (!h->origin_known) {
        h->origin = embedcfg__exe_dir();
        h->origin_known = 1;
    }
    return h->origin;
}

void
embedcfg_free(embedcfg_handle *h)
{
    size_t i;

    if (h == NULL) {
        return;
    }
    for (i = 0; i < EMBEDCFG_OPTION_COUNT; i++) {
        release_value(h, &h->values[i]);
    }
    while (h->n_kept > 0) {
        embedcfg__free(h->mem, h->kept[--h->n_kept]);
    }
    embedcfg__free(h->mem, h->kept);
    for (i = 0; i < h->n_modules; i++) {
        /* NULL once CPython owns it */
        embedcfg__free(h->mem, h->modules[i].name);
        embedcfg__free(h->mem, h->modules[i].symbol);
        embedcfg__free(h->mem, h->modules[i].library);
    }
    embedcfg__free(h->mem, h->modules);
    embedcfg__clear_report(h);
    embedcfg__free_archives(h);
    embedcfg__free(h->mem, h->origin);
    embedcfg__free(h->mem, h->config_dir);
    embedcfg__free(h->mem, h->lib);
    embedcfg__free(h->mem, h->requires_python);
    embedcfg__free(h->mem, h);
}

static int
replace_string(embedcfg_handle *h, char **slot, const char *value)
{
    char *copy = NULL;

    if (value != NULL) {
        copy = embedcfg__strdup_in(h->mem, value);
        if (copy == NULL) {
            return embedcfg__fail(h, "out of memory");
        }
    }
    embedcfg__free(h->mem, *slot);
    *slot = copy;
    return 0;
}

int
embedcfg_set_origin(embedcfg_handle *h, const char *dir)
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

int
embedcfg_set_config_dir(embedcfg_handle *h, const char *dir)
{
    if (h == NULL) {
        return -1;
    }
    return replace_string(h, &h->config_dir, dir);
}

int
embedcfg_set_profile(embedcfg_handle *h, const char *profile)
{
    static const char *const profiles[] = {EMBEDCFG_VALUES_PROFILE};
    size_t i;

    if (h == NULL) {
        return -1;
    }
    for (i = 0; profile != NULL && profiles[i] != NULL; i++) {
        if (strcmp(profiles[i], profile) == 0) {
            /* each profile is the preset of the same name (apply.c) */
            h->python_profile = strcmp(profile, "python") == 0;
            return 0;
        }
    }
    return embedcfg__fail(
        h, "profile: expected " EMBEDCFG_VALUES_PROFILE_TEXT ", got \"%s\"",
        profile != NULL ? profile : "(null)");
}

/* --- options -------------------------------------------------------------- */

/* Binary search over the generated name order: a document sets every
 * option through here, and a linear scan was most of the launcher's own
 * start-up cost after the dynamic linker's. */
static const embedcfg_spec *
find_spec(const char *name, size_t *index)
{
    size_t lo = 0;
    size_t hi = EMBEDCFG_OPTION_COUNT;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        size_t row = embedcfg_option_by_name[mid];
        int cmp = strcmp(name, embedcfg_option_specs[row].name);

        if (cmp == 0) {
            if (index != NULL) {
                *index = row;
            }
            return &embedcfg_option_specs[row];
        }
        if (cmp < 0) {
            hi = mid;
        }
        else {
            lo = mid + 1;
        }
    }
    return NULL;
}

static const char *
build_name(embedcfg_build build)
{
    switch (build) {
    /* the labels come from embedcfg/options.py (Build.label) */
    case EMBEDCFG_BUILD_WINDOWS: return EMBEDCFG_BUILD_LABEL_WINDOWS;
    case EMBEDCFG_BUILD_FREE_THREADED:
        return EMBEDCFG_BUILD_LABEL_FREE_THREADED;
    case EMBEDCFG_BUILD_DEBUG: return EMBEDCFG_BUILD_LABEL_DEBUG;
    case EMBEDCFG_BUILD_STATS: return EMBEDCFG_BUILD_LABEL_STATS;
    case EMBEDCFG_BUILD_MACOS: return EMBEDCFG_BUILD_LABEL_MACOS;
    default: return "some";
    }
}

/* The option exists in the CPython this library is compiled for. */
static int
check_available(embedcfg_handle *h, const embedcfg_spec *spec)
{
    char have[16];
    char need[16];

    if ((unsigned long)PY_VERSION_HEX < spec->since) {
        embedcfg__format_minor((unsigned long)PY_VERSION_HEX, have,
                               sizeof(have));
        embedcfg__format_minor(spec->since, need, sizeof(need));
        return embedcfg__fail_option(h, spec->name,
                                     "the option needs CPython %s or newer, "
                                     "but this shim is built for CPython %s",
                                     need, have);
    }
    if (spec->removed != 0 && (unsigned long)PY_VERSION_HEX >= spec->removed) {
        embedcfg__format_minor((unsigned long)PY_VERSION_HEX, have,
                               sizeof(have));
        embedcfg__format_minor(spec->removed, need, sizeof(need));
        return embedcfg__fail_option(h, spec->name,
                                     "the option was removed in CPython %s, "
                                     "and this shim is built for CPython %s",
                                     need, have);
    }
    if (spec->build != EMBEDCFG_BUILD_NONE
        && spec->pre_offset == EMBEDCFG_NO_MEMBER
        && spec->cfg_offset == EMBEDCFG_NO_MEMBER) {
        return embedcfg__fail_option(h, spec->name,
                                     "the option exists only on %s builds of "
                                     "CPython, and this one is not",
                                     build_name(spec->build));
    }
    return 0;
}

/* The option `name` may be set on this interpreter; NULL (with the error
 * recorded in the handle, if there is one) otherwise. */
const embedcfg_spec *
embedcfg__lookup(embedcfg_handle *h, const char *name,
                 size_t *index)
{
    const embedcfg_spec *spec;

    if (h == NULL) {
        return NULL;
    }
    if (name == NULL) {
        embedcfg__fail(h, "option name is NULL");
        return NULL;
    }
    spec = find_spec(name, index);
    if (spec == NULL) {
        embedcfg__fail(h,
                       "unknown option '%s': not a PEP 741 option name "
                       "embedcfg knows", name);
        return NULL;
    }
    if (check_available(h, spec) < 0) {
        return NULL;
    }
    return spec;
}

static int
check_value_since(embedcfg_handle *h, const embedcfg_spec *spec,
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
            embedcfg__format_minor((unsigned long)PY_VERSION_HEX, have,
                                   sizeof(have));
            return embedcfg__fail_option(h, spec->name,
                                         "%s needs CPython %s or newer, but "
                                         "this shim is built for CPython %s",
                                         shown, need, have);
        }
    }
    return 0;
}

/* What a value of `kind` is, for messages. */
static const char *
kind_text(embedcfg_kind kind)
{
    switch (kind) {
    case EMBEDCFG_KIND_BOOL: return "a boolean";
    case EMBEDCFG_KIND_INT: return "an integer";
    case EMBEDCFG_KIND_STR: return "a string";
    default: return "a list of strings";
    }
}

/* The setters after embedcfg__lookup(): a document's options are looked up
 * once. */
int
embedcfg__set_int_at(embedcfg_handle *h, const embedcfg_spec *spec,
                     size_t index, const char *name, int64_t value)
{
    int i;
    int ok;

    if (spec->kind == EMBEDCFG_KIND_BOOL) {
        if (value != 0 && value != 1) {
            return embedcfg__fail_option(h, name,
                                         "expected a boolean (0 or 1), got "
                                         "%lld", (long long)value);
        }
    }
    else if (spec->kind == EMBEDCFG_KIND_INT) {
        ok = !spec->has_range || (value >= spec->minimum
                                  && value <= spec->maximum);
        for (i = 0; i < spec->n_also && i < 2; i++) {
            if (value == spec->also[i]) {
                ok = 1;
            }
        }
        if (!ok) {
            if (spec->n_also > 0) {
                return embedcfg__fail_option(h, name,
                                             "expected an integer from %lld "
                                             "to %lld (or %lld), got %lld",
                                             (long long)spec->minimum,
                                             (long long)spec->maximum,
                                             (long long)spec->also[0],
                                             (long long)value);
            }
            return embedcfg__fail_option(h, name,
                                         "expected an integer from %lld to "
                                         "%lld, got %lld",
                                         (long long)spec->minimum,
                                         (long long)spec->maximum,
                                         (long long)value);
        }
        if (check_value_since(h, spec, value) < 0) {
            return -1;
        }
    }
    else {
        return embedcfg__fail_option(h, name, "expected %s, got an integer",
                                     kind_text(spec->kind));
    }
    clear_value(h, &h->values[index]);
    h->values[index].set = 1;
    h->values[index].ival = value;
    return 0;
}

int
embedcfg_set_int(embedcfg_handle *h, const char *name, int64_t value)
{
    size_t index = 0;
    const embedcfg_spec *spec = embedcfg__lookup(h, name, &index);

    if (spec == NULL) {
        return -1;
    }
    return embedcfg__set_int_at(h, spec, index, name, value);
}

/* A path option's value with its anchor expanded, kept as keep_string
 * does; NULL (with the error recorded) when it cannot be. */
static char *
keep_path(embedcfg_handle *h, const embedcfg_spec *spec,
          const char *value, int from_doc)
{
    char err[512];
    const char *base;
    const char *rest;
    size_t base_len;
    size_t rest_len;
    char *out;
    /* a document may not write ${ORIGIN}; the C setters may */
    int flags = from_doc ? 0 : EMBEDCFG_PATH_BRACES;

    if (embedcfg__split_path(value, embedcfg__origin_of(h), h->config_dir,
                             flags, &base, &rest, err, sizeof(err)) < 0) {
        embedcfg__fail_option(h, spec->name, "%s", err);
        return NULL;
    }
    if (base[0] == '\0') {
        out = keep_string(h, value, from_doc);
    }
    else {
        base_len = strlen(base);
        rest_len = strlen(rest);
        out = NULL;
        if (base_len + rest_len < SIZE_MAX - 1) {
            out = keep_bytes(h, base_len + rest_len + 1);
        }
        if (out != NULL) {
            memcpy(out, base, base_len);
            memcpy(out + base_len, rest, rest_len + 1);
        }
    }
    if (out == NULL) {
        embedcfg__fail(h, "out of memory");
    }
    return out;
}

/* `from_doc`: the string comes from the document parser, which has
 * already rejected invalid UTF-8 and NULs; checking again cost a pass over
 * every string of every launch.  (The setters below also borrow such a
 * string, without a copy, when the handle may: see keep_string.) */
static int
check_string(embedcfg_handle *h, const char *name,
             const char *value, int from_doc)
{
    if (value == NULL) {
        return embedcfg__fail_option(h, name, "the string is NULL");
    }
    if (!from_doc && embedcfg__utf8_check(value, strlen(value),
                                          NULL) != EMBEDCFG_UTF8_OK) {
        return embedcfg__fail_option(h, name, "the string is not valid UTF-8");
    }
    return 0;
}

int
embedcfg__set_str_at(embedcfg_handle *h, const embedcfg_spec *spec,
                     size_t index, const char *name, const char *value,
                     int from_doc)
{
    const embedcfg_choice *choice = NULL;
    char *copy = NULL;

    if (spec->kind != EMBEDCFG_KIND_STR) {
        return embedcfg__fail_option(h, name, "expected %s, got a string",
                                     kind_text(spec->kind));
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
            return embedcfg__fail_option(h, name,
                                         "expected one of %s, got \"%s\"",
                                         names, value);
        }
        if (choice->since != 0
            && (unsigned long)PY_VERSION_HEX < choice->since) {
            char need[16];
            char have[16];

            embedcfg__format_minor(choice->since, need, sizeof(need));
            embedcfg__format_minor((unsigned long)PY_VERSION_HEX, have,
                                   sizeof(have));
            return embedcfg__fail_option(h, name,
                                         "\"%s\" needs CPython %s or newer, "
                                         "but this shim is built for CPython "
                                         "%s", value, need, have);
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
    if (spec->path) {
        copy = keep_path(h, spec, value, from_doc);
    }
    else {
        copy = keep_string(h, value, from_doc);
    }
    if (copy == NULL) {
        if (!spec->path) {
            embedcfg__fail(h, "out of memory");
        }
        return -1;
    }
    clear_value(h, &h->values[index]);
    h->values[index].set = 1;
    h->values[index].str = copy;
    return 0;
}

int
embedcfg_set_str(embedcfg_handle *h, const char *name, const char *value)
{
    size_t index = 0;
    const embedcfg_spec *spec = embedcfg__lookup(h, name, &index);

    if (spec == NULL) {
        return -1;
    }
    return embedcfg__set_str_at(h, spec, index, name, value, 0);
}

static int
list_add(embedcfg_handle *h, const embedcfg_spec *spec,
         embedcfg_value *v, size_t length, const char *const *items,
         int from_doc)
{
    char **grown;
    size_t i;

    if (length == 0) {
        return 0;
    }
    if (items == NULL || length > ((size_t)-1) / sizeof(char *) - v->len) {
        return embedcfg__fail_option(h, spec->name,
                                     "the list is NULL or too long");
    }
    for (i = 0; i < length; i++) {
        if (check_string(h, spec->name, items[i], from_doc) < 0) {
            return -1;
        }
    }
    grown = (char **)embedcfg__realloc(h->mem, v->list,
                                       (v->len + length) * sizeof(char *));
    if (grown == NULL) {
        return embedcfg__fail(h, "out of memory");
    }
    v->list = grown;
    for (i = 0; i < length; i++) {
        char *copy = spec->path ? keep_path(h, spec, items[i], from_doc)
                                : keep_string(h, items[i], from_doc);

        if (copy == NULL) {
            if (!spec->path) {
                embedcfg__fail(h, "out of memory");
            }
            return -1;
        }
        v->list[v->len++] = copy;
    }
    return 0;
}

int
embedcfg__set_list_at(embedcfg_handle *h, const embedcfg_spec *spec,
                      size_t index, const char *name, size_t length,
                      const char *const *items, int append, int from_doc)
{
    embedcfg_value fresh;

    if (spec->kind != EMBEDCFG_KIND_STR_LIST) {
        return embedcfg__fail_option(h, name,
                                     "expected %s, got a list of strings",
                                     kind_text(spec->kind));
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

static int
set_list(embedcfg_handle *h, const char *name, size_t length,
         const char *const *items, int append)
{
    size_t index = 0;
    const embedcfg_spec *spec = embedcfg__lookup(h, name, &index);

    if (spec == NULL) {
        return -1;
    }
    return embedcfg__set_list_at(h, spec, index, name, length, items, append,
                                 0);
}

int
embedcfg_set_strlist(embedcfg_handle *h, const char *name, size_t length,
                     const char *const *items)
{
    return set_list(h, name, length, items, 0);
}

int
embedcfg_append_strlist(embedcfg_handle *h, const char *name,
                        size_t length, const char *const *items)
{
    return set_list(h, name, length, items, 1);
}

int
embedcfg_has_option(const embedcfg_handle *h, const char *name)
{
    size_t index = 0;

    if (h == NULL || name == NULL || find_spec(name, &index) == NULL) {
        return 0;
    }
    return h->values[index].set;
}

embedcfg_value *
embedcfg__value_of(embedcfg_handle *h, const char *name)
{
    size_t index = 0;

    if (find_spec(name, &index) == NULL || !h->values[index].set) {
        return NULL;
    }
    return &h->values[index];
}
