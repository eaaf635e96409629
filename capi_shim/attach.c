/* Attaching to a running interpreter (embedded = true): what can change at
 * run time is applied, and the report says what could not. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "handle.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
embedcfg__clear_report(embedcfg_handle *h)
{
    size_t i;

    for (i = 0; i < h->n_report; i++) {
        embedcfg__free(h->mem, h->report[i].detail);
    }
    embedcfg__free(h->mem, h->report);
    h->report = NULL;
    h->n_report = 0;
}

static void
add_report(embedcfg_handle *h, const char *name, int status,
           const char *fmt, ...)
{
    va_list ap;
    char detail[512];
    embedcfg_report *grown;

    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    grown = (embedcfg_report *)embedcfg__realloc(
        h->mem, h->report, (h->n_report + 1) * sizeof(*grown));
    if (grown == NULL) {
        return;  /* the report is best effort; the status is still returned */
    }
    h->report = grown;
    h->report[h->n_report].name = name;
    h->report[h->n_report].status = status;
    h->report[h->n_report].detail = embedcfg__strdup_in(h->mem, detail);
    h->n_report++;
}

size_t
embedcfg_attach_report_len(const embedcfg_handle *h)
{
    return h != NULL ? h->n_report : 0;
}

int
embedcfg_attach_report_item(const embedcfg_handle *h, size_t i,
                            const char **name, const char **detail)
{
    if (h == NULL || i >= h->n_report) {
        return -1;
    }
    if (name != NULL) {
        *name = h->report[i].name;
    }
    if (detail != NULL) {
        *detail = h->report[i].detail != NULL ? h->report[i].detail : "";
    }
    return h->report[i].status;
}

static PyObject *
str_list(const embedcfg_value *v)
{
    PyObject *list = PyList_New(0);
    size_t i;

    if (list == NULL) {
        return NULL;
    }
    for (i = 0; i < v->len; i++) {
        PyObject *s = PyUnicode_FromString(v->list[i]);

        if (s == NULL || PyList_Append(list, s) < 0) {
            Py_XDECREF(s);
            Py_DECREF(list);
            return NULL;
        }
        Py_DECREF(s);
    }
    return list;
}

static void
report_exception(embedcfg_handle *h, const char *name)
{
    char type_name[128];
    char msg[ERROR_SIZE];
    int has_text = embedcfg__take_exception(type_name, sizeof(type_name), msg,
                                            sizeof(msg));

    add_report(h, name, EMBEDCFG_NOT_APPLIED, "failed: %s",
               has_text ? msg : "error");
}

static int
attach_search_paths(const embedcfg_value *v, int *added)
{
    PyObject *path = PySys_GetObject("path");  /* borrowed */
    size_t i;

    *added = 0;
    if (path == NULL || !PyList_Check(path)) {
        PyErr_SetString(PyExc_RuntimeError, "sys.path is not a list");
        return -1;
    }
    for (i = 0; i < v->len; i++) {
        PyObject *s = PyUnicode_FromString(v->list[i]);
        int present;

        if (s == NULL) {
            return -1;
        }
        present = PySequence_Contains(path, s);
        if (present == 0) {
            present = PyList_Append(path, s);
            *added += present == 0;
        }
        Py_DECREF(s);
        if (present < 0) {
            return -1;
        }
    }
    return 0;
}

static int
attach_warnoptions(const embedcfg_value *v)
{
    PyObject *warnings = PyImport_ImportModule("warnings");
    PyObject *warnoptions = PySys_GetObject("warnoptions");  /* borrowed */
    size_t i;
    int rc = -1;

    if (warnings == NULL) {
        return -1;
    }
    for (i = 0; i < v->len; i++) {
        PyObject *r = PyObject_CallMethod(warnings, "_setoption", "s",
                                          v->list[i]);
        PyObject *s;

        if (r == NULL) {
            goto done;
        }
        Py_DECREF(r);
        if (warnoptions != NULL && PyList_Check(warnoptions)) {
            s = PyUnicode_FromString(v->list[i]);
            if (s == NULL || PyList_Append(warnoptions, s) < 0) {
                Py_XDECREF(s);
                goto done;
            }
            Py_DECREF(s);
        }
    }
    rc = 0;

done:
    Py_DECREF(warnings);
    return rc;
}

static void
attach_one(embedcfg_handle *h, const embedcfg_spec *spec,
           embedcfg_value *v)
{
    const char *name = spec->name;
    PyObject *obj = NULL;
    int rc;

    if (strcmp(name, "module_search_paths") == 0) {
        int added = 0;

        if (attach_search_paths(v, &added) < 0) {
            report_exception(h, name);
        }
        else {
            add_report(h, name, EMBEDCFG_APPLIED,
                       "%d entr%s added to sys.path", added,
                       added == 1 ? "y" : "ies");
        }
        return;
    }
    if (strcmp(name, "pycache_prefix") == 0) {
        obj = PyUnicode_FromString(v->str != NULL ? v->str : "");
        rc = obj != NULL ? PySys_SetObject("pycache_prefix", obj) : -1;
        Py_XDECREF(obj);
        if (rc < 0) {
            report_exception(h, name);
        }
        else {
            add_report(h, name, EMBEDCFG_APPLIED, "sys.pycache_prefix set");
        }
        return;
    }
    if (strcmp(name, "write_bytecode") == 0) {
        rc = PySys_SetObject("dont_write_bytecode",
                             v->ival ? Py_False : Py_True);
        if (rc < 0) {
            report_exception(h, name);
        }
        else {
            add_report(h, name, EMBEDCFG_APPLIED,
                       "sys.dont_write_bytecode set to %s",
                       v->ival ? "False" : "True");
        }
        return;
    }
    if (strcmp(name, "warnoptions") == 0) {
        if (attach_warnoptions(v) < 0) {
            report_exception(h, name);
        }
        else {
            add_report(h, name, EMBEDCFG_APPLIED, "warning filters added");
        }
        return;
    }
    if (strcmp(name, "argv") == 0) {
        obj = str_list(v);
        rc = obj != NULL ? PySys_SetObject("argv", obj) : -1;
        Py_XDECREF(obj);
        if (rc < 0) {
            report_exception(h, name);
        }
        else {
            add_report(h, name, EMBEDCFG_APPLIED, "sys.argv set");
        }
        return;
    }
#if PY_VERSION_HEX >= 0x030E0000
    /* PEP 741: the public options can be changed at run time. */
    if (spec->visibility == EMBEDCFG_VIS_PUBLIC) {
        if (spec->kind == EMBEDCFG_KIND_STR_LIST) {
            obj = str_list(v);
        }
        else if (spec->kind == EMBEDCFG_KIND_STR) {
            obj = PyUnicode_FromString(v->str != NULL ? v->str : "");
        }
        else if (spec->kind == EMBEDCFG_KIND_BOOL) {
            obj = PyBool_FromLong((long)v->ival);
        }
        else {
            obj = PyLong_FromLongLong((long long)v->ival);
        }
        rc = obj != NULL ? PyConfig_Set(name, obj) : -1;
        Py_XDECREF(obj);
        if (rc < 0) {
            report_exception(h, name);
        }
        else {
            add_report(h, name, EMBEDCFG_APPLIED, "set with PyConfig_Set");
        }
        return;
    }
#endif
    add_report(h, name, EMBEDCFG_NOT_APPLIED,
               "fixed at init: it cannot be changed in a running interpreter");
}

int
embedcfg__attach(embedcfg_handle *h)
{
    PyGILState_STATE gil;
    size_t i;
    int rc = 0;

    /* A missing init function refuses the document before anything in the
     * running interpreter changes. */
    if (embedcfg__uses_indexed(h) && embedcfg__resolve_modules(h) < 0) {
        return -1;
    }
    gil = PyGILState_Ensure();
    embedcfg__clear_report(h);
    for (i = 0; i < EMBEDCFG_OPTION_COUNT; i++) {
        if (h->values[i].set) {
            attach_one(h, &embedcfg_option_specs[i], &h->values[i]);
        }
    }
    if (!embedcfg__uses_indexed(h)) {
        for (i = 0; i < h->n_modules; i++) {
            add_report(h, "inittab", EMBEDCFG_NOT_APPLIED,
                       "module '%s' not registered: the inittab cannot change "
                       "after init; use static_modules = \"indexed\"",
                       h->modules[i].name != NULL ? h->modules[i].name : "?");
        }
    }
    else if (h->n_modules > 0) {
        rc = embedcfg__install_static(h);
        if (rc == 0) {
            add_report(h, "inittab", EMBEDCFG_APPLIED,
                       "%lu module(s) importable through the indexed static "
                       "importer", (unsigned long)h->n_modules);
        }
    }
    PyGILState_Release(gil);
    return rc;
}
