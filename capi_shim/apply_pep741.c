/* PEP 741 (3.14+): the handle forwarded to PyInitConfig, which checks
 * and applies each option itself.  Compiled to nothing before 3.14
 * (apply_pep587.c initializes there, and on 3.14 a document whose importers
 * go in between init's core and main phases). */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "apply.h"

#include <stdio.h>

#if PY_VERSION_HEX >= 0x030E0000
/* PEP 741: the tests run it on CPython 3.14 (docs/explanation/shim.rst). */
static int
initconfig_failed(embedcfg_handle *h, PyInitConfig *c,
                  const char *during)
{
    const char *msg = NULL;
    int code = 0;

    if (PyInitConfig_GetExitCode(c, &code)) {
        h->has_exit = 1;
        h->exitcode = code;
        return embedcfg__fail(h, "%s: CPython asked to exit with status %d",
                              during, code);
    }
    PyInitConfig_GetError(c, &msg);
    return embedcfg__fail(h, "%s: %s", during,
                          msg != NULL ? msg : "unknown error");
}

int
embedcfg__initialize_pep741(embedcfg_handle *h)
{
    /* The python profile on PyInitConfig, which starts isolated.  UNSET is
     * the python preset's -1, "read -X and PYTHON* at init", for members
     * the isolated preset fixes: PyInitConfig types them UINT/BOOL
     * (0..UINT_MAX) and stores them in C ints, where UINT_MAX is -1. */
#define UNSET ((int64_t)UINT_MAX)
    static const struct {
        const char *name;
        int64_t value;
    } python_profile[] = {
        {"isolated", 0}, {"use_environment", 1}, {"user_site_directory", 1},
        {"safe_path", 0}, {"install_signal_handlers", 1},
        {"pathconfig_warnings", 1}, {"configure_c_stdio", 1},
        {"parse_argv", 1}, {"configure_locale", 1},
        {"_config_init", 2 /* _PyConfig_INIT_PYTHON */},
        {"use_hash_seed", UNSET}, {"dev_mode", UNSET}, {"tracemalloc", UNSET},
        {"perf_profiling", UNSET}, {"int_max_str_digits", UNSET},
        {NULL, 0}
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
        return embedcfg__fail(h, "out of memory");
    }
    /* find the init functions before anything is initialized */
    if (embedcfg__resolve_modules(h) < 0) {
        goto done;
    }
    /* PyInitConfig cannot express the python preset's "decide from the
     * locale" (-1) for coerce_c_locale and utf8_mode: preinitialize with
     * that preset, as python does (PEP 538, 540);
     * Py_InitializeFromInitConfig keeps an existing preconfiguration. */
    if (h->python_profile) {
        embedcfg__neutralize_environment(h);
        if (embedcfg__preinitialize(h) < 0) {
            goto done;
        }
    }
    for (i = 0; h->python_profile && python_profile[i].name != NULL; i++) {
        if (PyInitConfig_SetInt(c, python_profile[i].name,
                                python_profile[i].value) < 0) {
            initconfig_failed(h, c, "applying the python profile");
            goto done;
        }
    }
    if (embedcfg__wants_utf8_default(h)
        && PyInitConfig_SetInt(c, "utf8_mode", 1) < 0) {
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
    /* indexed static modules never come here: they go in between init's
     * phases, which only PyConfig can do (embedcfg__importers_in_gap) */
    for (k = 0; k < h->n_modules; k++) {
        if (PyInitConfig_AddModule(c, h->modules[k].name,
                                   h->modules[k].init) < 0) {
            initconfig_failed(h, c, "registering the inittab");
            goto done;
        }
        h->modules[k].name = NULL; /* 3.14 stores the pointer: never free it */
    }
    embedcfg__neutralize_environment(h);
    saved = embedcfg__hide_executable_variable(h);
    r = Py_InitializeFromInitConfig(c);
    embedcfg__restore_executable_variable(saved);
    if (r < 0) {
        initconfig_failed(h, c, "initializing CPython");
        goto done;
    }
    rc = 0;  /* init returns with the GIL held by this thread */

done:
    PyInitConfig_Free(c);
    return rc;
}
#endif
