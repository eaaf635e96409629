/* Real extension modules linked statically into the test host (or into a
 * shared library for the attach tests), imported through the indexed static
 * importer and through CPython's inittab:
 *
 *   st_multi          multi-phase init (PEP 489), with an exec slot
 *   st_single         single-phase init, m_size -1, counts its init calls
 *   st_pkg            multi-phase; a package because st_pkg.* follow it
 *   st_pkg.sub        single-phase, m_name "sub" (as CPython's own
 *                     submodules are written), uses PyState_FindModule
 *   st_pkg.msub       multi-phase submodule
 *   pypkg.static_child single-phase submodule of a Python package
 *   st_fails          init raises ValueError
 *   st_null           init returns NULL without an exception
 *   st_exec_fails     multi-phase, the exec slot raises RuntimeError
 *   st_unreported     returns a module and leaves an exception set */

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

static PyMethodDef add_methods[] = {
    {"add", add, METH_VARARGS, "Add two integers."},
    {NULL, NULL, 0, NULL}
};

/* st_multi */
static int multi_exec(PyObject *m)
{
    return PyModule_AddStringConstant(m, "kind", "multi");
}

static PyModuleDef_Slot multi_slots[] = {
    {Py_mod_exec, (void *)multi_exec},
    {0, NULL}
};

static struct PyModuleDef multi_def = {
    PyModuleDef_HEAD_INIT, "st_multi", "multi-phase", 0, add_methods, multi_slots,
    NULL, NULL, NULL
};

PyMODINIT_FUNC PyInit_st_multi(void)
{
    return PyModuleDef_Init(&multi_def);
}

/* st_single */
static int single_inits = 0;

static PyObject *init_count(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    return PyLong_FromLong(single_inits);
}

static PyMethodDef single_methods[] = {
    {"add", add, METH_VARARGS, "Add two integers."},
    {"init_count", init_count, METH_NOARGS, "How many times init ran."},
    {NULL, NULL, 0, NULL}
};

static struct PyModuleDef single_def = {
    PyModuleDef_HEAD_INIT, "st_single", "single-phase", -1, single_methods,
    NULL, NULL, NULL, NULL
};

PyMODINIT_FUNC PyInit_st_single(void)
{
    PyObject *m = PyModule_Create(&single_def);

    single_inits++;
    if (m != NULL && PyModule_AddStringConstant(m, "kind", "single") < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}

/* st_pkg */
static struct PyModuleDef pkg_def = {
    PyModuleDef_HEAD_INIT, "st_pkg", "a static package", 0, NULL, multi_slots,
    NULL, NULL, NULL
};

PyMODINIT_FUNC PyInit_st_pkg(void)
{
    return PyModuleDef_Init(&pkg_def);
}

/* st_pkg.sub: single-phase, module state found through PyState_FindModule */
typedef struct {
    long calls;
} sub_state;

static struct PyModuleDef sub_def;

static PyObject *sub_hello(PyObject *self, PyObject *unused)
{
    PyObject *found = PyState_FindModule(&sub_def);
    sub_state *st;

    (void)unused;
    if (found == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "PyState_FindModule found nothing");
        return NULL;
    }
    st = (sub_state *)PyModule_GetState(found);
    st->calls++;
    return PyUnicode_FromFormat("hello (%ld), same module: %d", st->calls, found == self);
}

static PyMethodDef sub_methods[] = {
    {"hello", sub_hello, METH_NOARGS, "Greet, through the module state."},
    {NULL, NULL, 0, NULL}
};

static struct PyModuleDef sub_def = {
    PyModuleDef_HEAD_INIT, "sub", "single-phase submodule", sizeof(sub_state),
    sub_methods, NULL, NULL, NULL, NULL
};

PyMODINIT_FUNC PyInit_sub(void)
{
    return PyModule_Create(&sub_def);
}

/* st_pkg.msub */
static struct PyModuleDef msub_def = {
    PyModuleDef_HEAD_INIT, "msub", "multi-phase submodule", 0, add_methods, multi_slots,
    NULL, NULL, NULL
};

PyMODINIT_FUNC PyInit_msub(void)
{
    return PyModuleDef_Init(&msub_def);
}

/* pypkg.static_child */
static struct PyModuleDef child_def = {
    PyModuleDef_HEAD_INIT, "static_child", "static child of a Python package", -1,
    add_methods, NULL, NULL, NULL, NULL
};

PyMODINIT_FUNC PyInit_static_child(void)
{
    return PyModule_Create(&child_def);
}

/* failures */
PyMODINIT_FUNC PyInit_st_fails(void)
{
    PyErr_SetString(PyExc_ValueError, "st_fails refuses to initialize");
    return NULL;
}

PyMODINIT_FUNC PyInit_st_null(void)
{
    return NULL;
}

static int exec_fails(PyObject *m)
{
    (void)m;
    PyErr_SetString(PyExc_RuntimeError, "st_exec_fails: exec slot failed");
    return -1;
}

static PyModuleDef_Slot exec_fails_slots[] = {
    {Py_mod_exec, (void *)exec_fails},
    {0, NULL}
};

static struct PyModuleDef exec_fails_def = {
    PyModuleDef_HEAD_INIT, "st_exec_fails", NULL, 0, NULL, exec_fails_slots,
    NULL, NULL, NULL
};

PyMODINIT_FUNC PyInit_st_exec_fails(void)
{
    return PyModuleDef_Init(&exec_fails_def);
}

static struct PyModuleDef unreported_def = {
    PyModuleDef_HEAD_INIT, "st_unreported", NULL, -1, NULL, NULL, NULL, NULL, NULL
};

PyMODINIT_FUNC PyInit_st_unreported(void)
{
    PyObject *m = PyModule_Create(&unreported_def);

    PyErr_SetString(PyExc_KeyError, "left behind");
    return m;
}
