/* A hand-written embedding host: the reference the launcher is compared with.
 * It does what the embedding docs say for the isolated preset, plus UTF-8
 * mode (which embedcfg's isolated profile adds), runs argv[1] as a command
 * and returns Py_RunMain()'s exit code. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

int main(int argc, char **argv)
{
    PyPreConfig pre;
    PyConfig config;
    PyStatus status;
    wchar_t *command;

    if (argc < 2) {
        return 64;
    }
    PyPreConfig_InitIsolatedConfig(&pre);
    pre.utf8_mode = 1;
    status = Py_PreInitialize(&pre);
    if (PyStatus_Exception(status)) {
        Py_ExitStatusException(status);
    }
    PyConfig_InitIsolatedConfig(&config);
    command = Py_DecodeLocale(argv[1], NULL);
    status = PyConfig_SetString(&config, &config.run_command, command);
    PyMem_RawFree(command);
    if (PyStatus_Exception(status)) {
        PyConfig_Clear(&config);
        Py_ExitStatusException(status);
    }
    status = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    if (PyStatus_Exception(status)) {
        Py_ExitStatusException(status);
    }
    return Py_RunMain();
}
