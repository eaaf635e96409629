/* Static modules: inittab entries (by init function, or by symbol in a
 * library), resolved before init, then registered in CPython's inittab or
 * served by the indexed static importer (static_importer.c). */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "embedcfg_document.h"
#include "handle.h"
#include "paths.h"
#include "static_importer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef _WIN32
#  include <dlfcn.h>
#endif

static int
valid_module_name(const char *name)
{
    const char *p = name;
    int start = 1;

    if (*p == '\0') {
        return 0;
    }
    for (; *p != '\0'; p++) {
        char c = *p;
        int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                    || c == '_';
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

static int
ascii_only(const char *s)
{
    for (; *s != '\0'; s++) {
        if ((unsigned char)*s >= 0x80) {
            return 0;
        }
    }
    return 1;
}

int
embedcfg__add_module(embedcfg_handle *h, const char *name,
                     embedcfg_initfunc init, const char *symbol,
                     const char *library, int path_flags)
{
    embedcfg_module m;
    size_t i;
    char err[512];

    if (h == NULL) {
        return -1;
    }
    memset(&m, 0, sizeof(m));
    if (name != NULL && !ascii_only(name)) {
        /* PEP 489 would need a PyInitU_<punycode> symbol: not derived here,
         * nor by embedcfg's checks or bake (problem EC504). */
        return embedcfg__fail(h,
                              "inittab: module name '%s' is not ASCII; "
                              "non-ASCII module names are not supported (PEP "
                              "489 would need a PyInitU_ punycode init "
                              "symbol): use an ASCII name", name);
    }
    if (name == NULL || !valid_module_name(name)) {
        return embedcfg__fail(h, "inittab: '%s' is not a dotted module name",
                              name != NULL ? name : "(null)");
    }
    for (i = 0; i < h->n_modules; i++) {
        if (strcmp(h->modules[i].name, name) == 0) {
            return embedcfg__fail(h,
                                  "inittab: module '%s' is already registered",
                                  name);
        }
    }
    if (h->n_modules == h->cap_modules) {
        size_t cap = h->cap_modules != 0 ? h->cap_modules * 2 : 8;
        embedcfg_module *grown =
            (embedcfg_module *)embedcfg__realloc(h->mem, h->modules,
                                                 cap * sizeof(m));

        if (grown == NULL) {
            return embedcfg__fail(h, "out of memory");
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
            /* PyInit_ and the name after the last '.' */
            const char *last = strrchr(name, '.');
            size_t size;

            last = last != NULL ? last + 1 : name;
            size = sizeof("PyInit_") + strlen(last);
            m.symbol = (char *)embedcfg__alloc(h->mem, size);
            if (m.symbol != NULL) {
                snprintf(m.symbol, size, "PyInit_%s", last);
            }
        }
        if (m.symbol == NULL) {
            goto oom;
        }
        if (library != NULL) {
            m.library = embedcfg__expand_path(h->mem, library,
                                              embedcfg__origin_of(h),
                                              h->config_dir, path_flags, err,
                                              sizeof(err));
            if (m.library == NULL) {
                embedcfg__free(h->mem, m.symbol);
                embedcfg__free(h->mem, m.name);
                return embedcfg__fail(h, "inittab '%s': library %s", name,
                                      err);
            }
        }
    }
    h->modules[h->n_modules++] = m;
    return 0;

oom:
    embedcfg__free(h->mem, m.symbol);
    embedcfg__free(h->mem, m.name);
    return embedcfg__fail(h, "out of memory");
}

int
embedcfg_add_module(embedcfg_handle *h, const char *name,
                    embedcfg_initfunc init)
{
    if (h != NULL && init == NULL) {
        return embedcfg__fail(h, "inittab '%s': the init function is NULL",
                              name != NULL ? name : "");
    }
    return embedcfg__add_module(h, name, init, NULL, NULL, 0);
}

int
embedcfg_add_module_symbol(embedcfg_handle *h, const char *name,
                           const char *symbol, const char *library)
{
    return embedcfg__add_module(h, name, NULL, symbol, library,
                                EMBEDCFG_PATH_NAME | EMBEDCFG_PATH_BRACES);
}

int
embedcfg_set_static_modules(embedcfg_handle *h, const char *mechanism)
{
    static const char *const mechanisms[] = {EMBEDCFG_VALUES_STATIC_MODULES};
    size_t i;

    if (h == NULL) {
        return -1;
    }
    if (mechanism == NULL) {
        h->static_modules = STATIC_AUTOMATIC;
        return 0;
    }
    for (i = 0; mechanisms[i] != NULL; i++) {
        if (strcmp(mechanisms[i], mechanism) == 0) {
            h->static_modules = strcmp(mechanism, "indexed") == 0
                                ? STATIC_INDEXED : STATIC_INITTAB;
            return 0;
        }
    }
    return embedcfg__fail(h,
                          "static_modules: expected "
                          EMBEDCFG_VALUES_STATIC_MODULES_TEXT ", got \"%s\"",
                          mechanism);
}

/* The mechanism in effect, deciding as embedcfg.bake.choose_mechanism does:
 * CPython's inittab cannot change after init, and each of its entries adds
 * cost to every static import. */
int
embedcfg__uses_indexed(const embedcfg_handle *h)
{
    if (h->static_modules != STATIC_AUTOMATIC) {
        return h->static_modules == STATIC_INDEXED;
    }
    return h->embedded || h->n_modules >= (size_t)EMBEDCFG_INDEXED_THRESHOLD;
}

const char *
embedcfg_get_static_modules(const embedcfg_handle *h)
{
    if (h == NULL) {
        return "";
    }
    return embedcfg__uses_indexed(h) ? "indexed" : "inittab";
}

/* Find the init functions of modules registered by symbol. */
int
embedcfg__resolve_modules(embedcfg_handle *h)
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
        if (opened != NULL && (opened_name == m->library
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

            return embedcfg__fail(h, "inittab '%s': cannot load %s: %s",
                                  m->name,
                                  m->library != NULL ? m->library : "the host "
                                  "program",
                                  why != NULL ? why : "unknown error");
        }
        opened = lib;
        opened_name = m->library;
        sym = dlsym(lib, m->symbol);
        if (sym == NULL) {
            return embedcfg__fail(h, "inittab '%s': symbol %s not found in %s",
                                  m->name, m->symbol,
                                  m->library != NULL ? m->library : "the host "
                                  "program");
        }
        /* POSIX guarantees that a data pointer from dlsym converts to a
         * function pointer; memcpy avoids the ISO C warning. */
        memcpy(&m->init, &sym, sizeof(m->init));
#else
        if (m->init == NULL) {
            return embedcfg__fail(h,
                                  "inittab '%s': symbol lookup is not "
                                  "supported here", m->name);
        }
#endif
    }
    return 0;
}

/* Install the importer over the handle's modules (resolved already); the
 * caller holds the GIL.  The importer copies the table and its names
 * (EMBEDCFG_STATIC_COPY), so the handle may be freed afterwards. */
int
embedcfg__install_static(embedcfg_handle *h)
{
    embedcfg_static_entry *table;
    size_t i;
    int rc;

    if (!embedcfg__uses_indexed(h) || h->n_modules == 0
        || h->static_installed) {
        return 0;
    }
    table = (embedcfg_static_entry *)calloc(h->n_modules, sizeof(*table));
    if (table == NULL) {
        return embedcfg__fail(h, "out of memory");
    }
    for (i = 0; i < h->n_modules; i++) {
        table[i].name = h->modules[i].name;
        table[i].init = h->modules[i].init;
    }
    /* the callers know the interpreter is (at least core-)initialized */
    rc = embedcfg__static_importer_install_core(table, h->n_modules,
                                                EMBEDCFG_STATIC_COPY);
    free(table);
    if (rc < 0) {
        return embedcfg__fail_exception(h,
                                        "installing the indexed static "
                                        "importer");
    }
    h->static_installed = 1;
    return 0;
}

int
embedcfg_install_static_modules(embedcfg_handle *h)
{
    PyGILState_STATE gil;
    int rc;

    if (h == NULL) {
        return -1;
    }
    h->error[0] = '\0';
    if (!embedcfg__uses_indexed(h) || h->n_modules == 0
        || h->static_installed) {
        return 0;
    }
    if (!Py_IsInitialized()) {
        return embedcfg__fail(h,
                              "install_static_modules: no interpreter is "
                              "initialized; call it after "
                              "Py_InitializeFromConfig()");
    }
    /* normally done by fill_pyconfig already: then this finds nothing to do */
    if (embedcfg__resolve_modules(h) < 0) {
        return -1;
    }
    gil = PyGILState_Ensure();
    rc = embedcfg__install_static(h);
    PyGILState_Release(gil);
    return rc;
}
