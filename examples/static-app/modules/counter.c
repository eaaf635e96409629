/* counter: single-phase init, the legacy way most C extensions are written. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

static long count_value = 0;

static PyObject *count(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    return PyLong_FromLong(++count_value);
}

static PyMethodDef counter_methods[] = {
    {"count", count, METH_NOARGS, "The next number."},
    {NULL, NULL, 0, NULL}
};

static struct PyModuleDef counter_def = {
    PyModuleDef_HEAD_INIT, "counter", "A process-wide counter.", -1, counter_methods,
    NULL, NULL, NULL, NULL
};

PyMODINIT_FUNC PyInit_counter(void)
{
    PyObject *m = PyModule_Create(&counter_def);

    if (m != NULL && PyModule_AddStringConstant(m, "init", "single-phase") < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
