/* The test (and benchmark) host for static extension modules.
 *
 *     static_host MODE CODE
 *
 * MODE is "indexed" (the baked sorted table, installed into sys.meta_path
 * right after init), "inittab" (the same modules through CPython's inittab,
 * PyImport_ExtendInittab before init) or "none" (nothing registered).  The
 * host initializes Python normally (isolated preset), records how long
 * registration and init took in sys._static_host = (registration_ns,
 * init_ns), runs CODE and exits 0, or 1 when CODE raised.  Times are CPU
 * time of the main thread (CLOCK_THREAD_CPUTIME_ID): the benchmark runs on
 * shared machines, where wall-clock time mostly measures the neighbours. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <string.h>
#include <time.h>

#include "static_importer.h"

/* Baked by embedcfg.bake: one document, both mechanisms. */
extern int embedcfg_static_install(unsigned int flags);
extern int embedcfg_static_register(void);

static long long now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
    PyConfig config;
    PyStatus status;
    PyObject *times;
    long long t0, t1, t2, registration, init;
    int indexed, inittab, rc;

    if (argc != 3) {
        fprintf(stderr, "usage: static_host indexed|inittab|none CODE\n");
        return 64;
    }
    indexed = strcmp(argv[1], "indexed") == 0;
    inittab = strcmp(argv[1], "inittab") == 0;
    if (!indexed && !inittab && strcmp(argv[1], "none") != 0) {
        fprintf(stderr, "static_host: unknown mode %s\n", argv[1]);
        return 64;
    }
    PyConfig_InitIsolatedConfig(&config);
    t0 = now_ns();
    if (inittab && embedcfg_static_register() < 0) {
        fprintf(stderr, "static_host: PyImport_ExtendInittab failed\n");
        return 70;
    }
    t1 = now_ns();
    status = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    if (PyStatus_Exception(status)) {
        Py_ExitStatusException(status);
    }
    t2 = now_ns();
    registration = t1 - t0;
    init = t2 - t1;
    if (indexed) {
        t0 = now_ns();
        rc = embedcfg_static_install(0);
        registration = now_ns() - t0;
        if (rc < 0) {
            PyErr_Print();
            return 70;
        }
    }
    times = Py_BuildValue("(LL)", registration, init);
    if (times == NULL || PySys_SetObject("_static_host", times) < 0) {
        PyErr_Print();
        return 70;
    }
    Py_DECREF(times);
    rc = PyRun_SimpleString(argv[2]) < 0 ? 1 : 0;
    if (Py_FinalizeEx() < 0 && rc == 0) {
        rc = 120;
    }
    return rc;
}
