/* static-app: apply a document with embedcfg's shim, install the baked
 * table of static extension modules, run the document's program. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdio.h>

#include "embedcfg.h"
#include "static_importer.h"

/* From the C file `embedcfg bake` (build.py) generated. */
extern int app_static_install(unsigned int flags);

int main(int argc, char **argv)
{
    embedcfg_handle *h;
    int rc;

    if (argc != 2) {
        fprintf(stderr, "usage: static-app DOCUMENT.json\n");
        return 64;
    }
    h = embedcfg_create();
    if (h == NULL) {
        fprintf(stderr, "static-app: out of memory\n");
        return 70;
    }
    if (embedcfg_load_file(h, argv[1]) < 0 || embedcfg_initialize(h) < 0) {
        int code;

        if (embedcfg_get_exit_code(h, &code)) {
            embedcfg_free(h);
            return code;
        }
        fprintf(stderr, "static-app: error: %s\n", embedcfg_get_error(h));
        embedcfg_free(h);
        return EMBEDCFG_EXIT_CONFIG;
    }
    /* After init, before the program: registration is one allocation. */
    if (app_static_install(EMBEDCFG_STATIC_CHECK) < 0) {
        PyErr_Print();
        embedcfg_free(h);
        return 70;
    }
    rc = embedcfg_run_main(h);
    embedcfg_free(h);
    return rc;
}
