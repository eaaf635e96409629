/* Two extension modules in one shared library, registered through a
 * document's inittab by symbol name: one with single-phase init
 * (PyModule_Create) and one with multi-phase init (PEP 489). */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *add(PyObject *self, PyObject *args)
{
    long a;
    long b;

    (void)self;
    if (!PyArg_ParseTuple(args, "ll", &a, &b)) {
        return NULL;
    }
    return PyLong_FromLong(a + b);
}

static PyMethodDef methods[] = {
    {"add", add, METH_VARARGS, "Add two integers."},
    {NULL, NULL, 0, NULL}
};

static struct PyModuleDef single_def = {
    PyModuleDef_HEAD_INIT, "ecfg_single", "single-phase init", -1, methods,
    NULL, NULL, NULL, NULL
};

PyMODINIT_FUNC PyInit_ecfg_single(void)
{
    PyObject *m = PyModule_Create(&single_def);

    if (m != NULL && PyModule_AddStringConstant(m, "kind", "single") < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}

static int multi_exec(PyObject *m)
{
    return PyModule_AddStringConstant(m, "kind", "multi");
}

static PyModuleDef_Slot multi_slots[] = {
    {Py_mod_exec, (void *)multi_exec},
    {0, NULL}
};

static struct PyModuleDef multi_def = {
    PyModuleDef_HEAD_INIT, "ecfg_multi", "multi-phase init", 0, methods,
    multi_slots, NULL, NULL, NULL
};

/* A custom symbol name, given as `init` in the document. */
PyMODINIT_FUNC embedcfg_test_init_multi(void)
{
    return PyModuleDef_Init(&multi_def);
}
