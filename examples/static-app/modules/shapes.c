/* shapes (a static package: the table also holds shapes.circle) and
 * shapes.circle (single-phase, its PyModuleDef names it "circle", as C
 * submodules are usually written: the importer gives it its full name). */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

static int shapes_exec(PyObject *module)
{
    return PyModule_AddObject(module, "PI", PyFloat_FromDouble(3.141592653589793));
}

static PyModuleDef_Slot shapes_slots[] = {
    {Py_mod_exec, (void *)shapes_exec},
    {0, NULL}
};

static struct PyModuleDef shapes_def = {
    PyModuleDef_HEAD_INIT, "shapes", "Geometry, statically linked.", 0, NULL, shapes_slots,
    NULL, NULL, NULL
};

PyMODINIT_FUNC PyInit_shapes(void)
{
    return PyModuleDef_Init(&shapes_def);
}

static PyObject *area(PyObject *module, PyObject *arg)
{
    double r = PyFloat_AsDouble(arg);

    (void)module;
    if (r == -1.0 && PyErr_Occurred()) {
        return NULL;
    }
    return PyFloat_FromDouble(3.141592653589793 * r * r);
}

static PyMethodDef circle_methods[] = {
    {"area", area, METH_O, "The area of a circle of radius r."},
    {NULL, NULL, 0, NULL}
};

static struct PyModuleDef circle_def = {
    PyModuleDef_HEAD_INIT, "circle", "Circles.", -1, circle_methods, NULL, NULL, NULL, NULL
};

/* The document names this symbol: the default would be PyInit_circle. */
PyMODINIT_FUNC shapes_circle_init(void)
{
    return PyModule_Create(&circle_def);
}
