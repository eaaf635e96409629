/* embedcfg: the plumbing the static and the archive importers share (see
 * importer.h). */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "importer.h"

PyObject *
embedcfg__find_spec_fullname(PyObject *args, PyObject *kwargs)
{
    char *names[] = {"fullname", "path", "target", NULL};
    PyObject *name;
    PyObject *path = NULL;
    PyObject *target = NULL;

    if (PyTuple_GET_SIZE(args) >= 1 && PyTuple_GET_SIZE(args) <= 3
        && (kwargs == NULL || PyDict_GET_SIZE(kwargs) == 0)
        && PyUnicode_Check(PyTuple_GET_ITEM(args, 0))) {
        return PyTuple_GET_ITEM(args, 0);
    }
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "U|OO:find_spec", names,
                                     &name, &path, &target)) {
        return NULL;
    }
    return name;
}

const char *
embedcfg__module_name_utf8(PyObject *name, size_t *len)
{
    Py_ssize_t n;
    const char *utf8;

    if (!PyUnicode_Check(name)) {
        return NULL;
    }
    utf8 = PyUnicode_AsUTF8AndSize(name, &n);
    if (utf8 == NULL) {
        PyErr_Clear();  /* lone surrogates */
        return NULL;
    }
    *len = (size_t)n;
    return utf8;
}

PyObject *
embedcfg__importlib_attr(const char *module, const char *attr,
                         const char *who)
{
    PyObject *m = PyDict_GetItemString(PyImport_GetModuleDict(), module);

    if (m == NULL) {
        if (!PyErr_Occurred()) {
            PyErr_Format(PyExc_RuntimeError,
                         "%s: %s is not in sys.modules (importlib is not"
                         " initialized)",
                         who, module);
        }
        return NULL;
    }
    return PyObject_GetAttrString(m, attr);
}

PyObject *
embedcfg__new_spec(PyObject *spec_class, PyObject *name, PyObject *loader,
                   PyObject *kwargs)
{
    PyObject *args = PyTuple_Pack(2, name, loader);
    PyObject *spec;

    if (args == NULL) {
        return NULL;
    }
    spec = PyObject_Call(spec_class, args, kwargs);
    Py_DECREF(args);
    return spec;
}

PyObject *
embedcfg__meta_path(const char *who)
{
    PyObject *meta_path = PySys_GetObject("meta_path");  /* borrowed */

    if (meta_path == NULL || !PyList_Check(meta_path)) {
        PyErr_Format(PyExc_RuntimeError, "%s: sys.meta_path is not a list",
                     who);
        return NULL;
    }
    return meta_path;
}

int
embedcfg__meta_path_add(PyObject *meta_path, PyObject *finder,
                        Py_ssize_t where)
{
    if (where < 0) {
        return PyList_Append(meta_path, finder);
    }
    return PyList_Insert(meta_path, where, finder);
}

PyObject *
embedcfg__return_none(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    Py_RETURN_NONE;
}
