/* Applying a handle: the steps both ways of initializing share (the
 * version check, the environment, the default program name), and
 * embedcfg_initialize, which initializes through apply_pep587.c (3.8-3.13)
 * or apply_pep741.c (3.14+), or attaches (attach.c) when embedded. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "apply.h"
#include "paths.h"
#include "archive_importer.h"
#include "version.h"

#include <stdlib.h>
#include <string.h>

int
embedcfg__check_running_version(embedcfg_handle *h)
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
            return embedcfg__fail(h,
                                  "cannot read the CPython version from "
                                  "\"%.40s\"", version);
        }
#endif
    }
    if ((unsigned long)major != ((unsigned long)PY_VERSION_HEX >> 24)
        || (unsigned long)minor
           != (((unsigned long)PY_VERSION_HEX >> 16) & 0xFF)) {
        char built[16];

        embedcfg__format_minor((unsigned long)PY_VERSION_HEX, built,
                               sizeof(built));
        return embedcfg__fail(h,
                              "the running libpython is CPython %d.%d.%d, but "
                              "this shim is built for CPython %s", major,
                              minor, micro, built);
    }
    if (h->requires_python != NULL) {
        int r = embedcfg_version_matches(h->requires_python, major, minor,
                                         micro, err, sizeof(err));

        if (r < 0) {
            return embedcfg__fail(h, "requires_python: %s", err);
        }
        if (r == 0) {
            return embedcfg__fail(h,
                                  "CPython %d.%d.%d does not satisfy "
                                  "requires_python '%s'", major, minor, micro,
                                  h->requires_python);
        }
    }
    return 0;
}

/* The isolated profile does not configure the locale; without UTF-8 mode the
 * encodings come out ASCII even under a UTF-8 locale.  Unless the document
 * decides, isolated means UTF-8 (see docs/explanation/shim.rst). */
int
embedcfg__wants_utf8_default(embedcfg_handle *h)
{
    return !h->python_profile && embedcfg__value_of(h, "utf8_mode") == NULL;
}

/* Will CPython read PYTHON* variables with this handle's settings? */
static int
reads_environment(embedcfg_handle *h)
{
    embedcfg_value *v = embedcfg__value_of(h, "use_environment");
    embedcfg_value *iso = embedcfg__value_of(h, "isolated");

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

void
embedcfg__neutralize_environment(embedcfg_handle *h)
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
char *
embedcfg__hide_executable_variable(embedcfg_handle *h)
{
    const char *value;
    char *saved;

    if (reads_environment(h) || (value = getenv("PYTHONEXECUTABLE")) == NULL) {
        return NULL;
    }
    saved = embedcfg__strdup_in(NULL, value);
    if (saved != NULL) {
        unsetenv("PYTHONEXECUTABLE");
    }
    return saved;
}

void
embedcfg__restore_executable_variable(char *saved)
{
    if (saved != NULL) {
        setenv("PYTHONEXECUTABLE", saved, 1);
        free(saved);
    }
}


/* Neither program_name nor executable given: CPython would take argv[0], or
 * search PATH for "python3", and honour a pyvenv.cfg beside or above what it
 * finds - even in an isolated configuration - which lets whoever controls
 * PATH redirect sys.prefix to where .pth files run code.  The running
 * executable is what the host really is, so it is the default (as
 * PyOxidizer does); sys.executable then names the host. */
int
embedcfg__default_program_name(embedcfg_handle *h)
{
    char *exe;
    int rc;

    if (embedcfg_has_option(h, "program_name")
        || embedcfg_has_option(h, "executable")) {
        return 0;
    }
    if (h->exe != NULL) {
        /* the launcher's */
        return embedcfg_set_str(h, "program_name", h->exe);
    }
    exe = embedcfg__exe_path();
    if (exe == NULL) {
        return 0;  /* the platform does not tell: CPython's own default */
    }
    rc = embedcfg_set_str(h, "program_name", exe);
    free(exe);
    return rc;
}

int
embedcfg_initialize(embedcfg_handle *h)
{
    int rc;

    if (h == NULL) {
        return -1;
    }
    h->has_exit = 0;
    h->error[0] = '\0';
    if (embedcfg__check_running_version(h) < 0) {
        return -1;
    }
    if (Py_IsInitialized()) {
        if (!h->embedded) {
            return embedcfg__fail(h,
                                  "an interpreter is already running; set "
                                  "embedded = true to attach to it instead of "
                                  "initializing");
        }
        return embedcfg__attach(h) < 0 ? -1 : embedcfg__install_archives(h);
    }
    if (h->embedded) {
        return embedcfg__fail(h,
                              "embedded = true, but no interpreter is running "
                              "to attach to; set embedded = false to "
                              "initialize one");
    }
    if (embedcfg__default_program_name(h) < 0) {
        return -1;
    }
#if PY_VERSION_HEX >= 0x030E0000
    /* PyInitConfig has no way back into init after its core phase */
    rc = embedcfg__importers_in_gap(h) ? embedcfg__initialize_pep587(h)
                                       : embedcfg__initialize_pep741(h);
#else
    rc = embedcfg__initialize_pep587(h);
#endif
    /* "after_path" archives, once init has put importlib's PathFinder on
     * sys.meta_path (docs/explanation/shim.rst: when the importers go in) */
    return rc < 0 ? -1 : embedcfg__install_archives(h);
}

int
embedcfg_run_main(embedcfg_handle *h)
{
    (void)h;
    return Py_RunMain();
}
