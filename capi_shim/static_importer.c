/* embedcfg: the indexed static importer (see static_importer.h).
 *
 * The finder/loader is a module object (PyModule_Create) whose functions
 * find_spec, create_module, exec_module... are importlib's finder and loader
 * protocol; its module state owns the table pointer, the ModuleSpec class and
 * cached arguments, so nothing here is a global (the PyModuleDef, as every
 * extension's, is what CPython requires).  A module rather than a heap type:
 * PyType_FromSpec costs about 20 us, PyModule_Create a few, and registration
 * is meant to cost nothing.  What does not depend on the table (find_spec's
 * argument, the ModuleSpec, sys.meta_path) is importer.c's, shared with the
 * archive importer.  Public CPython API only, 3.8 and newer. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "importer.h"
#include "static_importer.h"

typedef struct {
    const embedcfg_static_entry *table;
    size_t n;
    void *owned;             /* EMBEDCFG_STATIC_COPY: the table and names */
    PyObject *spec_class;    /* importlib's ModuleSpec */
    PyObject *kw_module;     /* {"origin": "built-in"} */
    PyObject *kw_package;    /* {"origin": "built-in", "is_package": True} */
    PyObject *str_name;      /* "name" */
    PyObject *copies;        /* name -> dict copy of a single-phase module
                              * with m_size == -1, as CPython's m_copy */
} importer_state;

/* --- the table, without Python ------------------------------------------ */

const embedcfg_static_entry *
embedcfg_static_table_find(
    const embedcfg_static_entry *table, size_t n, const char *name, size_t len)
{
    size_t lo = 0;
    size_t hi = n;

    if (table == NULL || name == NULL || memchr(name, '\0', len) != NULL) {
        return NULL;
    }
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *key = table[mid].name;
        int c = strncmp(name, key, len);

        /* name (len bytes) < key when it is a strict prefix of key */
        if (c == 0) {
            c = key[len] == '\0' ? 0 : -1;
        }
        if (c == 0) {
            return &table[mid];
        }
        if (c < 0) {
            hi = mid;
        }
        else {
            lo = mid + 1;
        }
    }
    return NULL;
}

static int
compare_entries(const void *a, const void *b)
{
    const char *x = ((const embedcfg_static_entry *)a)->name;
    const char *y = ((const embedcfg_static_entry *)b)->name;

    /* NULL names sort first, where the check reports them */
    if (x == NULL || y == NULL) {
        return (x != NULL) - (y != NULL);
    }
    return strcmp(x, y);
}

void
embedcfg_static_table_sort(embedcfg_static_entry *table, size_t n)
{
    if (table != NULL && n > 1) {
        qsort(table, n, sizeof table[0], compare_entries);
    }
}

/* Does the sorted table hold a submodule of table[i]?  '.' sorts before
 * every other byte a module name may contain, so the first one, if any, is
 * the next entry. */
static int
has_children(const embedcfg_static_entry *table, size_t n, size_t i)
{
    size_t len;

    if (i + 1 >= n) {
        return 0;
    }
    len = strlen(table[i].name);
    return strncmp(table[i + 1].name, table[i].name, len) == 0
           && table[i + 1].name[len] == '.';
}

static int
valid_name(const char *name)
{
    const unsigned char *p = (const unsigned char *)name;
    int at_start = 1;

    if (*p == '\0') {
        return 0;
    }
    for (; *p != '\0'; p++) {
        if (*p == '.') {
            if (at_start) {
                return 0;
            }
            at_start = 1;
            continue;
        }
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_'
              || *p >= 0x80 || (!at_start && *p >= '0' && *p <= '9'))) {
            return 0;
        }
        at_start = 0;
    }
    return !at_start;
}

int
embedcfg_static_table_check(const embedcfg_static_entry *table, size_t n,
                            char *err, size_t err_size)
{
    size_t i;
    char dummy[1];

    if (err == NULL || err_size == 0) {
        err = dummy;
        err_size = sizeof dummy;
    }
    err[0] = '\0';
    if (table == NULL && n > 0) {
        snprintf(err, err_size, "the table is NULL but has %lu entries",
                 (unsigned long)n);
        return -1;
    }
    for (i = 0; i < n; i++) {
        if (table[i].name == NULL || !valid_name(table[i].name)) {
            snprintf(err, err_size,
                     "entry %lu: '%s' is not a dotted module name",
                     (unsigned long)i,
                     table[i].name != NULL ? table[i].name : "(null)");
            return -1;
        }
        if (table[i].init == NULL) {
            snprintf(err, err_size,
                     "entry %lu ('%s'): the init function is NULL",
                     (unsigned long)i, table[i].name);
            return -1;
        }
        if (i > 0) {
            int c = strcmp(table[i - 1].name, table[i].name);

            if (c == 0) {
                snprintf(err, err_size,
                         "entry %lu: module '%s' is listed twice",
                         (unsigned long)i, table[i].name);
                return -1;
            }
            if (c > 0) {
                snprintf(err, err_size,
                         "entry %lu: '%s' sorts before '%s': the table must "
                         "be sorted"
                         " by strcmp (embedcfg bake writes it so)",
                         (unsigned long)i, table[i].name, table[i - 1].name);
                return -1;
            }
        }
    }
    return 0;
}

/* --- the finder / loader --------------------------------------------------- */

static const embedcfg_static_entry *
lookup(importer_state *self, PyObject *name, size_t *index)
{
    size_t len = 0;
    const char *utf8 = embedcfg__module_name_utf8(name, &len);
    const embedcfg_static_entry *e;

    if (utf8 == NULL) {
        return NULL;
    }
    e = embedcfg_static_table_find(self->table, self->n, utf8, len);
    if (e != NULL && index != NULL) {
        *index = (size_t)(e - self->table);
    }
    return e;
}

static PyObject *
importer_find_spec(PyObject *op, PyObject *args, PyObject *kwargs)
{
    importer_state *self = (importer_state *)PyModule_GetState(op);
    PyObject *name = embedcfg__find_spec_fullname(args, kwargs);
    size_t i = 0;

    if (name == NULL) {
        return NULL;
    }
    if (lookup(self, name, &i) == NULL) {
        Py_RETURN_NONE;
    }
    return embedcfg__new_spec(self->spec_class, name, op,
                              has_children(self->table, self->n, i)
                                  ? self->kw_package : self->kw_module);
}

/* CPython's message when an init function returned a value and an error. */
static void
unreported_exception(PyObject *name)
{
    PyObject *type, *value, *tb;
    PyObject *type2, *value2, *tb2;

    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb != NULL && value != NULL) {
        PyException_SetTraceback(value, tb);
    }
    PyErr_Format(PyExc_SystemError,
                 "initialization of %U raised unreported exception", name);
    PyErr_Fetch(&type2, &value2, &tb2);
    PyErr_NormalizeException(&type2, &value2, &tb2);
    if (value != NULL && value2 != NULL) {
        Py_INCREF(value);
        PyException_SetCause(value2, value);
        Py_INCREF(value);
        PyException_SetContext(value2, value);
    }
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
    PyErr_Restore(type2, value2, tb2);
}

/* A single-phase module under a dotted name.  CPython hands the full name to
 * PyModule_Create through the private package context, which only applies
 * when the PyModuleDef's m_name is the last component.  With public API we
 * do the same afterwards: rename the module and its functions' __module__
 * from that short name to the full one. */
static int
fix_dotted_name(PyObject *module, PyObject *fullname)
{
    PyObject *current;
    PyObject *dict;
    PyObject *key;
    PyObject *value;
    Py_ssize_t pos = 0;
    Py_ssize_t len = PyUnicode_GET_LENGTH(fullname);
    Py_ssize_t dot = PyUnicode_FindChar(fullname, '.', 0, len, -1);
    PyObject *last;
    int same;

    if (dot < 0) {
        return dot == -1 ? 0 : -1;
    }
    current = PyObject_GetAttrString(module, "__name__");
    if (current == NULL) {
        PyErr_Clear();
        return 0;
    }
    last = PyUnicode_Substring(fullname, dot + 1, len);
    if (last == NULL) {
        Py_DECREF(current);
        return -1;
    }
    same = PyUnicode_Check(current) && PyUnicode_Compare(current, last) == 0;
    Py_DECREF(current);
    if (!same || PyObject_SetAttrString(module, "__name__", fullname) < 0) {
        Py_DECREF(last);
        return same ? -1 : 0;
    }
    dict = PyModule_GetDict(module);
    while (PyDict_Next(dict, &pos, &key, &value)) {
        PyObject *owner;
        int rename;

        if (!PyCFunction_Check(value)
            || PyCFunction_GetSelf(value) != module) {
            continue;
        }
        owner = PyObject_GetAttrString(value, "__module__");
        if (owner == NULL) {
            PyErr_Clear();
            continue;
        }
        rename = PyUnicode_Check(owner) && PyUnicode_Compare(owner, last) == 0;
        Py_DECREF(owner);
        if (rename
            && PyObject_SetAttrString(value, "__module__", fullname) < 0) {
            PyErr_Clear();  /* best effort: only the reported module name */
        }
    }
    Py_DECREF(last);
    return 0;
}

static PyObject *
single_phase(importer_state *self, PyObject *module, PyObject *name)
{
    PyModuleDef *def;
    PyObject *dict;

    if (!PyModule_Check(module)) {
        Py_DECREF(module);
        PyErr_Format(PyExc_SystemError,
                     "initialization of %U did not return an extension module",
                     name);
        return NULL;
    }
    if (fix_dotted_name(module, name) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    def = PyModule_GetDef(module);
    if (def == NULL) {
        if (PyErr_Occurred()) {
            Py_DECREF(module);
            return NULL;
        }
        return module;  /* a plain module (PyModule_New): nothing to record */
    }
    /* What CPython's import does for single-phase modules: make the module
     * reachable through PyState_FindModule(def)... */
    if (PyState_FindModule(def) != module
        && PyState_AddModule(module, def) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    /* ...and keep a copy of the dict of a module that cannot be initialized
     * twice, to rebuild it on a later import instead of calling init again. */
    if (def->m_size == -1) {
        if (self->copies == NULL && (self->copies = PyDict_New()) == NULL) {
            Py_DECREF(module);
            return NULL;
        }
        dict = PyDict_Copy(PyModule_GetDict(module));
        if (dict == NULL || PyDict_SetItem(self->copies, name, dict) < 0) {
            Py_XDECREF(dict);
            Py_DECREF(module);
            return NULL;
        }
        Py_DECREF(dict);
    }
    return module;
}

static PyObject *
importer_create_module(PyObject *op, PyObject *spec)
{
    importer_state *self = (importer_state *)PyModule_GetState(op);
    const embedcfg_static_entry *e;
    PyObject *name;
    PyObject *result;

    name = PyObject_GetAttr(spec, self->str_name);
    if (name == NULL) {
        return NULL;
    }
    e = lookup(self, name, NULL);
    if (e == NULL) {
        PyErr_Format(PyExc_ImportError, "%R is not a static module", name);
        goto error;
    }
    if (self->copies != NULL) {
        PyObject *copy = PyDict_GetItemWithError(self->copies, name);

        if (copy != NULL) {
            result = PyModule_NewObject(name);
            if (result != NULL
                && PyDict_Update(PyModule_GetDict(result), copy) < 0) {
                Py_CLEAR(result);
            }
            Py_DECREF(name);
            return result;
        }
        if (PyErr_Occurred()) {
            goto error;
        }
    }
    result = e->init();
    if (result == NULL) {
        if (!PyErr_Occurred()) {
            PyErr_Format(
                PyExc_SystemError,
                "initialization of %U failed without raising an exception",
                name);
        }
        goto error;
    }
    if (PyErr_Occurred()) {
        Py_DECREF(result);
        unreported_exception(name);
        goto error;
    }
    if (PyObject_TypeCheck(result, &PyModuleDef_Type)) {
        /* PEP 489: the def is static, PyModuleDef_Init returned no new
         * reference to it. */
        PyObject *module =
            PyModule_FromDefAndSpec((PyModuleDef *)result, spec);

        Py_DECREF(name);
        return module;
    }
    result = single_phase(self, result, name);
    Py_DECREF(name);
    return result;

error:
    Py_DECREF(name);
    return NULL;
}

/* As CPython's exec_builtin: run the PEP 489 exec slots once. */
static PyObject *
importer_exec_module(PyObject *op, PyObject *module)
{
    PyModuleDef *def;

    (void)op;
    if (!PyModule_Check(module)) {
        Py_RETURN_NONE;
    }
    def = PyModule_GetDef(module);
    if (def == NULL) {
        if (PyErr_Occurred()) {
            return NULL;
        }
        Py_RETURN_NONE;
    }
    if (PyModule_GetState(module) != NULL) {
        Py_RETURN_NONE;  /* already initialized */
    }
    if (PyModule_ExecDef(module, def) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
importer_is_package(PyObject *op, PyObject *name)
{
    importer_state *self = (importer_state *)PyModule_GetState(op);
    size_t i = 0;

    if (lookup(self, name, &i) == NULL) {
        return PyErr_Format(PyExc_ImportError, "%R is not a static module",
                            name);
    }
    return PyBool_FromLong(has_children(self->table, self->n, i));
}

static int
importer_traverse(PyObject *op, visitproc visit, void *arg)
{
    importer_state *self = (importer_state *)PyModule_GetState(op);

    if (self != NULL) {
        Py_VISIT(self->spec_class);
        Py_VISIT(self->kw_module);
        Py_VISIT(self->kw_package);
        Py_VISIT(self->str_name);
        Py_VISIT(self->copies);
    }
    return 0;
}

static int
importer_clear(PyObject *op)
{
    importer_state *self = (importer_state *)PyModule_GetState(op);

    if (self != NULL) {
        Py_CLEAR(self->spec_class);
        Py_CLEAR(self->kw_module);
        Py_CLEAR(self->kw_package);
        Py_CLEAR(self->str_name);
        Py_CLEAR(self->copies);
    }
    return 0;
}

static void
importer_free(void *op)
{
    importer_state *self = (importer_state *)PyModule_GetState((PyObject *)op);

    (void)importer_clear((PyObject *)op);
    if (self != NULL) {
        /* only here: after m_clear the finder may still be called */
        PyMem_Free(self->owned);
        self->owned = NULL;
        self->table = NULL;
        self->n = 0;
    }
}

/* EMBEDCFG_STATIC_COPY: one block, the entries first, then the names. */
static embedcfg_static_entry *
copy_table(const embedcfg_static_entry *table, size_t n)
{
    size_t bytes;
    size_t i;
    embedcfg_static_entry *copy;
    char *names;

    if (n > ((size_t)PY_SSIZE_T_MAX) / sizeof(embedcfg_static_entry)) {
        PyErr_NoMemory();
        return NULL;
    }
    bytes = n * sizeof(embedcfg_static_entry);
    for (i = 0; i < n; i++) {
        size_t len;

        if (table[i].name == NULL) {
            PyErr_Format(PyExc_ValueError,
                         "embedcfg static module table: entry %zu has no name",
                         i);
            return NULL;
        }
        len = strlen(table[i].name) + 1;
        if (bytes > (size_t)PY_SSIZE_T_MAX - len) {
            PyErr_NoMemory();
            return NULL;
        }
        bytes += len;
    }
    copy = (embedcfg_static_entry *)PyMem_Malloc(bytes > 0 ? bytes : 1);
    if (copy == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    names = (char *)(copy + n);
    for (i = 0; i < n; i++) {
        size_t len = strlen(table[i].name) + 1;

        memcpy(names, table[i].name, len);
        copy[i].name = names;
        copy[i].init = table[i].init;
        names += len;
    }
    embedcfg_static_table_sort(copy, n);
    return copy;
}

static PyMethodDef importer_methods[] = {
    {"find_spec", (PyCFunction)(void (*)(void))importer_find_spec,
     METH_VARARGS | METH_KEYWORDS,
     "find_spec(fullname, path=None, target=None)\n--\n\n"
     "A ModuleSpec for a static module of the table, else None."},
    {"create_module", importer_create_module, METH_O,
     "Call the module's init function (single- or multi-phase)."},
    {"exec_module", importer_exec_module, METH_O,
     "Run the PEP 489 exec slots of a multi-phase module."},
    {"is_package", importer_is_package, METH_O,
     "True when the table holds submodules of the module."},
    /* InspectLoader: like BuiltinImporter, no code and no source */
    {"get_code", embedcfg__return_none, METH_O,
     "None: static modules have no code object."},
    {"get_source", embedcfg__return_none, METH_O,
     "None: static modules have no source."},
    {"invalidate_caches", embedcfg__return_none, METH_NOARGS,
     "Nothing to invalidate: the table is fixed."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef importer_def = {
    PyModuleDef_HEAD_INIT,
    "embedcfg.static_importer",
    "Finds and loads statically linked extension modules through a table "
    "sorted at\n"
    "build time (embedcfg): a sys.meta_path finder and loader.",
    (Py_ssize_t)sizeof(importer_state),
    importer_methods,
    NULL,
    importer_traverse,
    importer_clear,
    importer_free};

static PyObject *
kwargs_dict(int package)
{
    PyObject *kw = PyDict_New();
    PyObject *origin = PyUnicode_FromString("built-in");
    int rc = -1;

    if (kw != NULL && origin != NULL) {
        rc = PyDict_SetItemString(kw, "origin", origin);
    }
    Py_XDECREF(origin);
    if (rc < 0) {
        Py_XDECREF(kw);
        return NULL;
    }
    if (package && PyDict_SetItemString(kw, "is_package", Py_True) < 0) {
        Py_DECREF(kw);
        return NULL;
    }
    return kw;
}

struct _object *
embedcfg_static_importer_new(const embedcfg_static_entry *table,
                             size_t n, unsigned int flags)
{
    PyObject *module;
    importer_state *self;
    embedcfg_static_entry *owned = NULL;

    if (table == NULL && n > 0) {
        PyErr_SetString(PyExc_ValueError,
                        "embedcfg static module table: NULL");
        return NULL;
    }
    if (flags & EMBEDCFG_STATIC_COPY) {
        owned = copy_table(table, n);
        if (owned == NULL) {
            return NULL;
        }
        table = owned;
    }
    if (flags & (EMBEDCFG_STATIC_CHECK | EMBEDCFG_STATIC_COPY)) {
        char err[512];

        if (embedcfg_static_table_check(table, n, err, sizeof err) < 0) {
            PyErr_Format(PyExc_ValueError, "embedcfg static module table: %s",
                         err);
            PyMem_Free(owned);
            return NULL;
        }
    }
    module = PyModule_Create(&importer_def);
    if (module == NULL) {
        PyMem_Free(owned);
        return NULL;
    }
    self = (importer_state *)PyModule_GetState(module);
    self->table = table;
    self->n = n;
    self->owned = owned;
    self->kw_module = kwargs_dict(0);
    self->kw_package = kwargs_dict(1);
    self->str_name = PyUnicode_InternFromString("name");
    self->spec_class = embedcfg__importlib_attr(
        "_frozen_importlib", "ModuleSpec", "embedcfg static importer");
    if (self->kw_module == NULL || self->kw_package == NULL
        || self->str_name == NULL || self->spec_class == NULL) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}

int
embedcfg_static_importer_install(const embedcfg_static_entry *table, size_t n,
                                 unsigned int flags)
{
    if (!Py_IsInitialized()) {
        return -1;
    }
    return embedcfg__static_importer_install_core(table, n, flags);
}

int
embedcfg__static_importer_install_core(const embedcfg_static_entry *table,
                                       size_t n, unsigned int flags)
{
    PyObject *meta_path = embedcfg__meta_path("embedcfg static importer");
    PyObject *finder;
    Py_ssize_t i;
    int rc;

    if (meta_path == NULL) {
        return -1;
    }
    for (i = 0; i < PyList_GET_SIZE(meta_path); i++) {
        PyObject *item = PyList_GET_ITEM(meta_path, i);

        if (PyModule_Check(item) && PyModule_GetDef(item) == &importer_def) {
            importer_state *st = (importer_state *)PyModule_GetState(item);

            if (st != NULL && st->table == table && st->n == n) {
                return 0;
            }
        }
    }
    finder = embedcfg_static_importer_new(table, n, flags);
    if (finder == NULL) {
        return -1;
    }
    rc = embedcfg__meta_path_add(meta_path, finder,
                                 (flags & EMBEDCFG_STATIC_APPEND) ? -1 : 0);
    Py_DECREF(finder);
    return rc;
}
