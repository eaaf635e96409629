/* PEP 587: PyPreConfig and PyConfig filled through the generated option
 * table (embedcfg_options.h: offsetof under PY_VERSION_HEX and build
 * guards), preconfig first.  embedcfg_fill_pyconfig on every version; the
 * initialization itself on 3.8-3.13, and on 3.14 when the importers go in
 * between the core and the main phase (otherwise apply_pep741.c). */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "apply.h"
#include "archive_importer.h"
#include "extension_importer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

/* The `len` bytes of `s`, UTF-8 (already validated), decoded into `out`,
 * which has room for len + 1 wide characters (a character never takes
 * fewer bytes than wide characters), and a NUL; returns the place after
 * the NUL. */
static wchar_t *
decode_into(const char *s, size_t len, wchar_t *out)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    size_t o = 0;

    while (i < len) {
        uint32_t cp;
        int extra;

        if (p[i] < 0x80) {
            out[o++] = (wchar_t)p[i++];
            continue;
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

static int
status_failed(embedcfg_handle *h, PyStatus status,
              const char *during)
{
    if (PyStatus_IsExit(status)) {
        h->has_exit = 1;
        h->exitcode = status.exitcode;
        return embedcfg__fail(h, "%s: CPython asked to exit with status %d",
                              during, status.exitcode);
    }
    return embedcfg__fail(h, "%s: %s%s%s", during,
                          status.func != NULL ? status.func : "",
                          status.func != NULL ? "() " : "",
                          status.err_msg != NULL ? status.err_msg : "unknown "
                          "error");
}

static void
fill_preconfig(embedcfg_handle *h, PyPreConfig *pre)
{
    size_t i;

    for (i = 0; i < EMBEDCFG_OPTION_COUNT; i++) {
        const embedcfg_spec *spec = &embedcfg_option_specs[i];

        if (h->values[i].set && spec->pre_offset != EMBEDCFG_NO_MEMBER) {
            int value = (int)h->values[i].ival;

            memcpy((char *)pre + spec->pre_offset, &value, sizeof(value));
        }
    }
    if (embedcfg__wants_utf8_default(h)) {
        pre->utf8_mode = 1;
    }
}

int
embedcfg__preinitialize(embedcfg_handle *h)
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
static int
wide_scratch(embedcfg_handle *h, void **block, wchar_t ***slots,
             wchar_t **chars)
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
        if (spec->ctype == EMBEDCFG_CT_WSTR
            || spec->ctype == EMBEDCFG_CT_WSTR_OPT) {
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
        || n_chars > (SIZE_MAX / 2 - n_slots * sizeof(wchar_t *))
                     / sizeof(wchar_t)) {
        return embedcfg__fail(h, "out of memory");
    }
    *block = embedcfg__alloc(h->mem, n_slots * sizeof(wchar_t *)
                                         + n_chars * sizeof(wchar_t));
    if (*block == NULL) {
        return embedcfg__fail(h, "out of memory");
    }
    *slots = (wchar_t **)*block;
    *chars = (wchar_t *)(void *)(*slots + n_slots);
    return 0;
}

static int
fill_config(embedcfg_handle *h, PyConfig *config)
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
        status = PyStatus_Ok();  /* the integer members cannot fail */
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
            break;
        }
        case EMBEDCFG_CT_WSTR_LIST: {
            wchar_t **items = slots;

            for (k = 0; k < v->len; k++) {
                items[k] = chars;
                chars = decode_into(v->list[k], strlen(v->list[k]), chars);
            }
            slots += v->len;
            status = PyConfig_SetWideStringList(
                config, (PyWideStringList *)(void *)member,
                (Py_ssize_t)v->len, items);
            break;
        }
        }
        if (PyStatus_Exception(status)) {
            snprintf(during, sizeof(during), "during setting %s", spec->name);
            status_failed(h, status, during);
            goto done;
        }
    }
    /* As PEP 741 does: giving the path sets it, giving a seed uses it. */
    if (embedcfg__value_of(h, "module_search_paths") != NULL
        && embedcfg__value_of(h, "module_search_paths_set") == NULL) {
        config->module_search_paths_set = 1;
    }
    if (embedcfg__value_of(h, "hash_seed") != NULL
        && embedcfg__value_of(h, "use_hash_seed") == NULL) {
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
static int
register_modules(embedcfg_handle *h)
{
    size_t i;

    if (embedcfg__resolve_modules(h) < 0) {
        return -1;
    }
    if (embedcfg__uses_indexed(h)) {
        return 0;
    }
    for (i = 0; i < h->n_modules; i++) {
        embedcfg_module *m = &h->modules[i];

        if (PyImport_AppendInittab(m->name, m->init) < 0) {
            return embedcfg__fail(h,
                                  "inittab '%s': PyImport_AppendInittab "
                                  "failed", m->name);
        }
        /* CPython keeps the pointer for the process lifetime: hand it over. */
        m->name = NULL;
    }
    return 0;
}

int
embedcfg_fill_pyconfig(embedcfg_handle *h, void *config)
{
    if (h == NULL) {
        return -1;
    }
    h->has_exit = 0;
    h->error[0] = '\0';
    if (config == NULL) {
        return embedcfg__fail(h, "the PyConfig pointer is NULL");
    }
    if (Py_IsInitialized()) {
        return embedcfg__fail(h,
                              "an interpreter is already running: "
                              "fill_pyconfig is for hosts that initialize it "
                              "afterwards");
    }
    if (embedcfg__check_running_version(h) < 0
        || embedcfg__default_program_name(h) < 0
        || embedcfg__preinitialize(h) < 0
        || fill_config(h, (PyConfig *)config) < 0 || register_modules(h) < 0) {
        return -1;
    }
    return 0;
}

int
embedcfg__importers_in_gap(const embedcfg_handle *h)
{
    return (embedcfg__uses_indexed(h) && h->n_modules > 0)
           || embedcfg__has_archives_before_path(h)
           || embedcfg__has_extensions(h);
}

/* The main phase of init, after the importers went in: PEP 587's
 * _Py_InitializeMain on 3.8-3.13; 3.14 has no such function, but a second
 * Py_InitializeFromConfig with _init_main set, on a core-initialized
 * interpreter, reconfigures it with the same configuration and runs the
 * main phase (pylifecycle.c: pyinit_core_reconfigure, then pyinit_main). */
static PyStatus
initialize_main(PyConfig *config)
{
#if PY_VERSION_HEX >= 0x030E0000
    config->_init_main = 1;
    return Py_InitializeFromConfig(config);
#else
    (void)config;
    return _Py_InitializeMain();
#endif
}

int
embedcfg__initialize_pep587(embedcfg_handle *h)
{
    PyConfig config;
    PyStatus status;
    char *saved = NULL;
    int main_phase;
    int rc = -1;

    /* find the inittab symbols before anything is initialized */
    if (embedcfg__resolve_modules(h) < 0) {
        return -1;
    }
    embedcfg__neutralize_environment(h);
    if (embedcfg__preinitialize(h) < 0) {
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
    /* The importers go in between the core and the main phase of init
     * (PEP 587's multi-phase initialization): importlib's core half exists
     * then, and nothing but built-in and frozen modules has been imported;
     * the main phase then imports encodings, io, site and sitecustomize
     * through them, so a packed standard library and static modules serve
     * init as inittab modules do.  A document that stops after the core
     * phase (_init_main = false) keeps stopping there. */
    main_phase = embedcfg__importers_in_gap(h) && config._init_main;
    if (main_phase) {
        config._init_main = 0;
    }
    saved = embedcfg__hide_executable_variable(h);
    status = Py_InitializeFromConfig(&config);
    if (!PyStatus_Exception(status)) {
        /* init returns with the GIL held by this thread */
        rc = embedcfg__install_static(h);
        if (rc == 0) {
            rc = embedcfg__install_archives(h);
        }
        if (rc == 0) {
            rc = embedcfg__install_extensions(h);
        }
        if (rc == 0 && main_phase) {
            status = initialize_main(&config);
        }
    }
    embedcfg__restore_executable_variable(saved);
    if (PyStatus_Exception(status)) {
        status_failed(h, status, "initializing CPython");
        rc = -1;
        goto done;
    }

done:
    PyConfig_Clear(&config);
    return rc;
}
