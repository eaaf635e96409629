/* A host that owns initialization (as pybind11 or PyO3 do) and lets embedcfg
 * fill its PyConfig from a document, then install the static modules after
 * its own init:  host_fill DOCUMENT CODE */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "embedcfg.h"

#include <stdio.h>

int main(int argc, char **argv)
{
    embedcfg_handle *h;
    PyConfig config;
    PyStatus status;
    int rc;

    if (argc != 3) {
        return 64;
    }
    h = embedcfg_create();
    if (h == NULL || embedcfg_load_file(h, argv[1]) < 0) {
        fprintf(stderr, "error: %s\n", embedcfg_get_error(h));
        embedcfg_free(h);
        return 78;
    }
    PyConfig_InitPythonConfig(&config);
    config.parse_argv = 0;
    if (embedcfg_fill_pyconfig(h, &config) < 0) {
        fprintf(stderr, "error: %s\n", embedcfg_get_error(h));
        PyConfig_Clear(&config);
        embedcfg_free(h);
        return 78;
    }
    status = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    if (PyStatus_Exception(status)) {
        embedcfg_free(h);
        Py_ExitStatusException(status);
    }
    /* the indexed importer, when that is the document's mechanism (else a
     * no-op); the handle is needed until here */
    if (embedcfg_install_static_modules(h) < 0) {
        fprintf(stderr, "error: %s\n", embedcfg_get_error(h));
        embedcfg_free(h);
        return 78;
    }
    embedcfg_free(h);
    rc = PyRun_SimpleString(argv[2]);
    if (Py_FinalizeEx() < 0) {
        return 120;
    }
    return rc == 0 ? 0 : 1;
}
