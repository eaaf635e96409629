/* greet: multi-phase init (PEP 489), with per-module state. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

typedef struct {
    long greeted;
} greet_state;

static PyObject *hello(PyObject *module, PyObject *name)
{
    greet_state *st = (greet_state *)PyModule_GetState(module);

    if (!PyUnicode_Check(name)) {
        PyErr_SetString(PyExc_TypeError, "hello() expects a str");
        return NULL;
    }
    st->greeted++;
    return PyUnicode_FromFormat("Hello, %U! (greeting %ld)", name, st->greeted);
}

static PyMethodDef greet_methods[] = {
    {"hello", hello, METH_O, "Greet someone."},
    {NULL, NULL, 0, NULL}
};

static int greet_exec(PyObject *module)
{
    ((greet_state *)PyModule_GetState(module))->greeted = 0;
    return PyModule_AddStringConstant(module, "init", "multi-phase");
}

static PyModuleDef_Slot greet_slots[] = {
    {Py_mod_exec, (void *)greet_exec},
    {0, NULL}
};

static struct PyModuleDef greet_def = {
    PyModuleDef_HEAD_INIT, "greet", "Greetings, statically linked.", sizeof(greet_state),
    greet_methods, greet_slots, NULL, NULL, NULL
};

PyMODINIT_FUNC PyInit_greet(void)
{
    return PyModuleDef_Init(&greet_def);
}
