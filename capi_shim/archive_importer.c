/* embedcfg: the archive importer (see archive_importer.h).  The finder and
 * loader protocol as in static_importer.c (a module object whose state owns
 * what the finder needs, so nothing here is global); the code objects come
 * from the mapped archive through PyMarshal_ReadObjectFromString, and their
 * co_filename (the module's path inside the archive, as `embedcfg pack`
 * compiled it) is rewritten to the virtual path with importlib's own
 * _imp._fix_co_filename, so tracebacks name the archive.  Public CPython
 * API only, 3.8 and newer. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <marshal.h>

#include <stdlib.h>
#include <string.h>

#include "handle.h"
#include "importer.h"
#include "jsonparse.h"
#include "paths.h"
#include "archive_importer.h"
#include "archive_resources.h"

/* --- the document (before init) ------------------------------------------ */

/* The archive is for the CPython the shim is built for. */
static int
check_python(embedcfg_handle *h, embedcfg__archive_item *item,
             const char *label)
{
    char err[4608];

    /* The bytecode magic number of the CPython the shim is built for
     * (embedcfg.build defines it from the target); the minor alone
     * otherwise, and the magic is compared again at install. */
#ifdef EMBEDCFG_PYC_MAGIC
    const unsigned long m = EMBEDCFG_PYC_MAGIC;
    const unsigned char magic[4] = {(unsigned char)(m & 0xFF),
                                    (unsigned char)((m >> 8) & 0xFF),
                                    (unsigned char)((m >> 16) & 0xFF),
                                    (unsigned char)((m >> 24) & 0xFF)};
#else
    unsigned char magic[4];

    memcpy(magic, item->archive.magic, 4);
#endif
    if (embedcfg_archive_check_python(&item->archive, magic, PY_MINOR_VERSION,
                                      label, err, sizeof err)
        < 0) {
        return embedcfg__fail(h, "%s", err);
    }
    return 0;
}

static int
load_one(embedcfg_handle *h, embedcfg__archive_item *item, size_t i,
         const embedcfg_json_value *entry)
{
    const embedcfg_json_value *path;
    const embedcfg_json_value *position;
    char what[64];
    char label[4200];
    char err[4608];
    char *expanded;
    size_t k;

    snprintf(what, sizeof what, "archives[%lu]", (unsigned long)i);
    if (embedcfg_json_type_of(entry) != EMBEDCFG_JSON_OBJECT) {
        return embedcfg__fail(h, "%s: expected an object (byte offset %lu)",
                              what,
                              (unsigned long)embedcfg_json_offset(entry));
    }
    for (k = 0; k < embedcfg_json_object_len(entry); k++) {
        const char *key = embedcfg_json_object_key(entry, k, NULL);

        if (strcmp(key, "path") != 0 && strcmp(key, "position") != 0) {
            return embedcfg__fail(h, "%s: unknown key '%s'", what, key);
        }
    }
    path = embedcfg_json_object_get(entry, "path");
    if (path == NULL || embedcfg_json_type_of(path) != EMBEDCFG_JSON_STRING) {
        return embedcfg__fail(h, "%s.path: expected a string", what);
    }
    position = embedcfg_json_object_get(entry, "position");
    if (position != NULL
        && embedcfg_json_type_of(position) != EMBEDCFG_JSON_NULL) {
        const char *p = embedcfg_json_type_of(position) == EMBEDCFG_JSON_STRING
                        ? embedcfg_json_string_value(position, NULL) : "";

        if (strcmp(p, "after_path") == 0) {
            item->after_path = 1;
        }
        else if (strcmp(p, "before_path") != 0) {
            return embedcfg__fail(h, "%s.position: expected \"before_path\" or"
                                  " \"after_path\"", what);
        }
    }
    expanded = embedcfg__expand_path(
        NULL, embedcfg_json_string_value(path, NULL), embedcfg__origin_of(h),
        h->config_dir, 0, err, sizeof err);
    if (expanded == NULL) {
        return embedcfg__fail(h, "%s.path: %s", what, err);
    }
    item->path = expanded;
    snprintf(label, sizeof label, "%s.path: %s", what, expanded);
    if (embedcfg_archive_open(&item->archive, expanded, label, err, sizeof err)
        < 0) {
        return embedcfg__fail(h, "%s", err);
    }
    return check_python(h, item, label);
}

/* The archive of a one-file payload's section s: in memory, its modules'
 * virtual paths below the executable's path. */
static int
load_section(embedcfg_handle *h, embedcfg__archive_item *item,
             const embedcfg_onefile_section *s)
{
    char label[4200];
    char err[4608];

    item->after_path = (s->flags & EMBEDCFG_ONEFILE_AFTER_PATH) != 0;
    if (h->exe == NULL) {
        return embedcfg__fail(h, "a one-file payload needs the executable's"
                              " path");
    }
    item->path = strdup(h->exe);
    if (item->path == NULL) {
        return embedcfg__fail(h, "out of memory");
    }
    snprintf(label, sizeof label, "%s: archive %s", h->exe, s->name);
    if (embedcfg_archive_from_memory(&item->archive, s->bytes, s->size, label,
                                     err, sizeof err)
        < 0) {
        return embedcfg__fail(h, "%s", err);
    }
    return check_python(h, item, label);
}


int
embedcfg__load_archives(embedcfg_handle *h, const embedcfg_json_value *list)
{
    size_t n = embedcfg_json_array_len(list);
    size_t first = 0;  /* the payload's archives come first */
    uint32_t k;
    size_t i;

    embedcfg__free_archives(h);
    for (k = 0; h->payload != NULL && k < h->payload->first_extension; k++) {
        embedcfg_onefile_section s;

        embedcfg_onefile_section_at(h->payload, k, &s);
        first += s.kind == EMBEDCFG_ONEFILE_ARCHIVE;
    }
    if (first + n == 0) {
        return 0;
    }
    h->archives = (embedcfg__archive_item *)calloc(first + n,
                                                   sizeof *h->archives);
    if (h->archives == NULL) {
        return embedcfg__fail(h, "out of memory");
    }
    h->n_archives = first + n;
    for (i = 0, k = 0; i < first; k++) {
        embedcfg_onefile_section s;

        embedcfg_onefile_section_at(h->payload, k, &s);
        if (s.kind == EMBEDCFG_ONEFILE_ARCHIVE
            && load_section(h, &h->archives[i++], &s) < 0) {
            return -1;
        }
    }
    for (i = 0; i < n; i++) {
        if (load_one(h, &h->archives[first + i], i,
                     embedcfg_json_array_item(list, i))
            < 0) {
            return -1;
        }
    }
    return 0;
}

int
embedcfg__has_archives_before_path(const embedcfg_handle *h)
{
    size_t i;

    for (i = 0; i < h->n_archives; i++) {
        if (!h->archives[i].after_path) {
            return 1;
        }
    }
    return 0;
}

void
embedcfg__free_archives(embedcfg_handle *h)
{
    size_t i;

    for (i = 0; i < h->n_archives; i++) {
        embedcfg_archive_close(&h->archives[i].archive);
        free(h->archives[i].path);
    }
    free(h->archives);
    h->archives = NULL;
    h->n_archives = 0;
}

/* --- the finder / loader --------------------------------------------------- */

#define WHO "embedcfg archive importer"  /* in messages */

typedef struct {
    embedcfg_archive archive;   /* owns the mapping */
    char *cpath;                /* the archive's path (PyMem) */
    PyObject *path;             /* str: the archive's path */
    PyObject *spec_class;       /* importlib's ModuleSpec */
    PyObject *fix_co_filename;  /* _imp._fix_co_filename */
    PyObject *decode_source;    /* importlib's decode_source */
    PyObject *reader_class;     /* importlib.resources' reader, or NULL
                                 * until first asked for */
} finder_state;

static finder_state *
state_of(PyObject *op)
{
    return (finder_state *)PyModule_GetState(op);
}

/* The entry of `name` (a str), or 0. */
static int
lookup(finder_state *self, PyObject *name, embedcfg_archive_module *m)
{
    size_t len = 0;
    const char *utf8 = embedcfg__module_name_utf8(name, &len);

    return utf8 != NULL
           && embedcfg_archive_find(&self->archive, utf8, len, m);
}

static int
lookup_or_raise(finder_state *self, PyObject *name, embedcfg_archive_module *m)
{
    if (!lookup(self, name, m)) {
        PyErr_Format(PyExc_ImportError, "%R is not in the archive %U", name,
                     self->path);
        return 0;
    }
    return 1;
}

/* The virtual path of module m: "<archive>/a/b" followed by `tail`
 * (".py", "/__init__.py", ".pyc", or "" for a package's directory). */
static PyObject *
virtual_path(finder_state *self, const embedcfg_archive_module *m,
             const char *tail)
{
    size_t base = strlen(self->cpath);
    size_t n = base + 1 + m->name_len + strlen(tail) + 1;
    char *buf = (char *)PyMem_Malloc(n);
    PyObject *out;
    size_t i;

    if (buf == NULL) {
        return PyErr_NoMemory();
    }
    memcpy(buf, self->cpath, base);
    buf[base] = '/';
    for (i = 0; i < m->name_len; i++) {
        buf[base + 1 + i] = m->name[i] == '.' ? '/' : m->name[i];
    }
    strcpy(buf + base + 1 + m->name_len, tail);
    out = PyUnicode_DecodeFSDefault(buf);
    PyMem_Free(buf);
    return out;
}

static const char *
file_tail(const embedcfg_archive_module *m, int cached)
{
    if (m->is_package) {
        return cached ? "/__init__.pyc" : "/__init__.py";
    }
    return cached ? ".pyc" : ".py";
}

static PyObject *
finder_find_spec(PyObject *op, PyObject *args, PyObject *kwargs)
{
    finder_state *self = state_of(op);
    PyObject *name = embedcfg__find_spec_fullname(args, kwargs);
    PyObject *origin = NULL;
    PyObject *cached = NULL;
    PyObject *kw = NULL;
    PyObject *spec = NULL;
    embedcfg_archive_module m;

    if (name == NULL) {
        return NULL;
    }
    if (!lookup(self, name, &m)) {
        Py_RETURN_NONE;
    }
    origin = virtual_path(self, &m, file_tail(&m, 0));
    cached = virtual_path(self, &m, file_tail(&m, 1));
    kw = PyDict_New();
    if (origin == NULL || cached == NULL || kw == NULL
        || PyDict_SetItemString(kw, "origin", origin) < 0
        || PyDict_SetItemString(kw, "is_package",
                                m.is_package ? Py_True : Py_False)
               < 0) {
        goto done;
    }
    spec = embedcfg__new_spec(self->spec_class, name, op, kw);
    if (spec == NULL) {
        goto done;
    }
    /* a location: importlib sets __file__ from origin, __cached__ from cached */
    if (PyObject_SetAttrString(spec, "has_location", Py_True) < 0
        || PyObject_SetAttrString(spec, "cached", cached) < 0) {
        Py_CLEAR(spec);
        goto done;
    }
    if (m.is_package) {
        PyObject *dir = virtual_path(self, &m, "");
        PyObject *locations = dir != NULL ? PyList_New(1) : NULL;

        if (locations == NULL) {
            Py_XDECREF(dir);
            Py_CLEAR(spec);
            goto done;
        }
        PyList_SET_ITEM(locations, 0, dir);  /* steals dir */
        if (PyObject_SetAttrString(spec, "submodule_search_locations",
                                   locations)
            < 0) {
            Py_CLEAR(spec);
        }
        Py_DECREF(locations);
    }

done:
    Py_XDECREF(origin);
    Py_XDECREF(cached);
    Py_XDECREF(kw);
    return spec;
}

/* Room for a blob's checksum message: the archive's path and a name. */
#define BLOB_ERROR_SIZE (2 * EMBEDCFG_ARCHIVE_MAX_NAME + 512)

/* NULL, with `type` (ImportError: name= and path= set too) raised for the
 * message of a blob that does not match its checksum. */
static PyObject *
blob_error(PyObject *type, const char *message, PyObject *name,
           PyObject *path)
{
    PyObject *text = PyUnicode_DecodeFSDefault(message);

    if (text != NULL) {
        if (type == PyExc_ImportError) {
            PyErr_SetImportError(text, name, path);
        }
        else {
            PyErr_SetObject(type, text);
        }
        Py_DECREF(text);
    }
    return NULL;
}

static PyObject *
finder_get_code(PyObject *op, PyObject *name)
{
    finder_state *self = state_of(op);
    embedcfg_archive_module m;
    const unsigned char *bytes;
    size_t len;
    char err[BLOB_ERROR_SIZE];
    PyObject *code;
    PyObject *origin;
    PyObject *r;

    if (!lookup_or_raise(self, name, &m)) {
        return NULL;
    }
    /* a damaged blob is refused before marshal sees it */
    if (embedcfg_archive_read_code(&self->archive, &m, &bytes, &len,
                                   self->cpath, err, sizeof err)
        < 0) {
        return blob_error(PyExc_ImportError, err, name, self->path);
    }
    code = PyMarshal_ReadObjectFromString((const char *)bytes,
                                          (Py_ssize_t)len);
    if (code == NULL) {
        return NULL;
    }
    if (!PyCode_Check(code)) {
        Py_DECREF(code);
        return PyErr_Format(PyExc_ImportError,
                            "%R in the archive %U is not a code object", name,
                            self->path);
    }
    origin = virtual_path(self, &m, file_tail(&m, 0));
    if (origin == NULL) {
        Py_DECREF(code);
        return NULL;
    }
    r = PyObject_CallFunctionObjArgs(self->fix_co_filename, code, origin,
                                     NULL);
    Py_DECREF(origin);
    if (r == NULL) {
        Py_DECREF(code);
        return NULL;
    }
    Py_DECREF(r);
    return code;
}

static PyObject *
finder_create_module(PyObject *op, PyObject *spec)
{
    (void)op;
    (void)spec;
    Py_RETURN_NONE;  /* importlib's default module */
}

static PyObject *
finder_exec_module(PyObject *op, PyObject *module)
{
    PyObject *name = PyObject_GetAttrString(module, "__name__");
    PyObject *spec;
    PyObject *code;
    PyObject *dict;
    PyObject *result;

    /* the spec's name: __main__ run by runpy keeps its module name there */
    spec = PyObject_GetAttrString(module, "__spec__");
    if (spec != NULL && spec != Py_None) {
        Py_XDECREF(name);
        name = PyObject_GetAttrString(spec, "name");
    }
    else {
        PyErr_Clear();
    }
    Py_XDECREF(spec);
    if (name == NULL) {
        return NULL;
    }
    code = finder_get_code(op, name);
    Py_DECREF(name);
    if (code == NULL) {
        return NULL;
    }
    dict = PyModule_GetDict(module);
    /* as exec() does: before 3.10 a frame whose globals lack __builtins__
     * gets a builtins namespace holding only None */
    if (dict != NULL && PyDict_GetItemString(dict, "__builtins__") == NULL
        && PyDict_SetItemString(dict, "__builtins__", PyEval_GetBuiltins())
               < 0) {
        dict = NULL;
    }
    result = dict != NULL ? PyEval_EvalCode(code, dict, dict) : NULL;
    Py_DECREF(code);
    if (result == NULL) {
        return NULL;
    }
    Py_DECREF(result);
    Py_RETURN_NONE;
}

static PyObject *
finder_get_source(PyObject *op, PyObject *name)
{
    finder_state *self = state_of(op);
    embedcfg_archive_module m;
    const unsigned char *bytes;
    size_t len;
    char err[BLOB_ERROR_SIZE];
    PyObject *raw;
    PyObject *text;

    if (!lookup_or_raise(self, name, &m)) {
        return NULL;
    }
    if (embedcfg_archive_read_source(&self->archive, &m, &bytes, &len,
                                     self->cpath, err, sizeof err)
        < 0) {
        return blob_error(PyExc_ImportError, err, name, self->path);
    }
    if (bytes == NULL) {
        Py_RETURN_NONE;  /* packed without --with-source */
    }
    if (self->decode_source == NULL) {
        /* importlib's external half: there once init has finished */
        self->decode_source = embedcfg__importlib_attr(
            "_frozen_importlib_external", "decode_source", WHO);
        if (self->decode_source == NULL) {
            return NULL;
        }
    }
    raw = PyBytes_FromStringAndSize((const char *)bytes, (Py_ssize_t)len);
    if (raw == NULL) {
        return NULL;
    }
    text = PyObject_CallFunctionObjArgs(self->decode_source, raw, NULL);
    Py_DECREF(raw);
    return text;
}

static PyObject *
finder_is_package(PyObject *op, PyObject *name)
{
    embedcfg_archive_module m;

    if (!lookup_or_raise(state_of(op), name, &m)) {
        return NULL;
    }
    return PyBool_FromLong(m.is_package);
}

static PyObject *
finder_get_filename(PyObject *op, PyObject *name)
{
    finder_state *self = state_of(op);
    embedcfg_archive_module m;

    if (!lookup_or_raise(self, name, &m)) {
        return NULL;
    }
    return virtual_path(self, &m, file_tail(&m, 0));
}

/* get_data(path): a data file (or a packed source) by its virtual path. */
static PyObject *
finder_get_data(PyObject *op, PyObject *arg)
{
    finder_state *self = state_of(op);
    PyObject *bytes = NULL;
    const char *p;
    size_t base = strlen(self->cpath);
    embedcfg_archive_data_entry d;
    const unsigned char *data;
    size_t len;
    char err[BLOB_ERROR_SIZE];
    PyObject *result = NULL;

    if (!PyUnicode_FSConverter(arg, &bytes)) {
        return NULL;
    }
    p = PyBytes_AS_STRING(bytes);
    if (strncmp(p, self->cpath, base) == 0 && p[base] == '/'
        && embedcfg_archive_find_data(&self->archive, p + base + 1,
                                      strlen(p + base + 1), &d)) {
        if (embedcfg_archive_read_data(&self->archive, &d, &data, &len,
                                       self->cpath, err, sizeof err)
            < 0) {
            (void)blob_error(PyExc_OSError, err, arg, self->path);
        }
        else {
            result = PyBytes_FromStringAndSize((const char *)data,
                                               (Py_ssize_t)len);
        }
    }
    else {
        PyErr_Format(PyExc_FileNotFoundError,
                     "%R is not a data file of the archive %U", arg,
                     self->path);
    }
    Py_DECREF(bytes);
    return result;
}

/* importlib.resources (archive_resources.c) */
static PyObject *
finder_get_resource_reader(PyObject *op, PyObject *name)
{
    finder_state *self = state_of(op);
    embedcfg_archive_module m;

    if (!lookup(self, name, &m)) {
        Py_RETURN_NONE;
    }
    return embedcfg__resource_reader(&self->reader_class, op, self->path,
                                     &m);
}

static PyObject *
finder_data_names(PyObject *op, PyObject *dir)
{
    return embedcfg__data_names(&state_of(op)->archive, dir);
}

static PyObject *
finder_data_is_file(PyObject *op, PyObject *path)
{
    return embedcfg__data_is_file(&state_of(op)->archive, path);
}

static int
finder_traverse(PyObject *op, visitproc visit, void *arg)
{
    finder_state *self = state_of(op);

    if (self != NULL) {
        Py_VISIT(self->path);
        Py_VISIT(self->spec_class);
        Py_VISIT(self->fix_co_filename);
        Py_VISIT(self->decode_source);
        Py_VISIT(self->reader_class);
    }
    return 0;
}

static int
finder_clear(PyObject *op)
{
    finder_state *self = state_of(op);

    if (self != NULL) {
        Py_CLEAR(self->path);
        Py_CLEAR(self->spec_class);
        Py_CLEAR(self->fix_co_filename);
        Py_CLEAR(self->decode_source);
        Py_CLEAR(self->reader_class);
    }
    return 0;
}

static void
finder_free(void *op)
{
    finder_state *self = state_of((PyObject *)op);

    (void)finder_clear((PyObject *)op);
    if (self != NULL) {
        /* only here: code objects never point into the mapping (marshal
         * copies), so nothing outlives it */
        embedcfg_archive_close(&self->archive);
        PyMem_Free(self->cpath);
        self->cpath = NULL;
    }
}

static PyMethodDef finder_methods[] = {
    {"find_spec", (PyCFunction)(void (*)(void))finder_find_spec,
     METH_VARARGS | METH_KEYWORDS,
     "find_spec(fullname, path=None, target=None)\n--\n\n"
     "A ModuleSpec for a module of the archive, else None."},
    {"create_module", finder_create_module, METH_O,
     "None: the default module."},
    {"exec_module", finder_exec_module, METH_O,
     "Run the module's code from the archive."},
    {"get_code", finder_get_code, METH_O,
     "The module's code object, from the archive."},
    {"get_source", finder_get_source, METH_O,
     "The module's source when it was packed (--with-source), else None."},
    {"get_filename", finder_get_filename, METH_O,
     "The module's virtual path."},
    {"is_package", finder_is_package, METH_O, "True for a package."},
    {"get_data", finder_get_data, METH_O,
     "The bytes of a package data file, by its virtual path."},
    {"get_resource_reader", finder_get_resource_reader, METH_O,
     "importlib.resources' reader of a package's data files."},
    {"_data_names", finder_data_names, METH_O,
     "The sorted names directly in a directory of the data files."},
    {"_data_is_file", finder_data_is_file, METH_O,
     "True for the path of a data file inside the archive."},
    {"invalidate_caches", embedcfg__return_none, METH_NOARGS,
     "Nothing to invalidate: the archive is fixed."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef finder_def = {
    PyModuleDef_HEAD_INIT,
    "embedcfg.archive_importer",
    "Finds and loads modules from a bytecode archive written by embedcfg "
    "pack, mapped\n"
    "into memory: a sys.meta_path finder and loader.",
    (Py_ssize_t)sizeof(finder_state),
    finder_methods,
    NULL,
    finder_traverse,
    finder_clear,
    finder_free};

/* A finder over item's archive, which it takes (item's is zeroed). */
static PyObject *
finder_new(embedcfg__archive_item *item)
{
    PyObject *module = PyModule_Create(&finder_def);
    PyObject *external;
    PyObject *magic;
    finder_state *self;
    size_t n;

    if (module == NULL) {
        return NULL;
    }
    self = state_of(module);
    n = strlen(item->path) + 1;
    self->cpath = (char *)PyMem_Malloc(n);
    if (self->cpath == NULL) {
        Py_DECREF(module);
        return PyErr_NoMemory();
    }
    memcpy(self->cpath, item->path, n);
    self->archive = item->archive;
    memset(&item->archive, 0, sizeof item->archive);
    self->path = PyUnicode_DecodeFSDefault(self->cpath);
    /* Between the core and the main phase of init only importlib's core
     * half is there: nothing else is looked up now (decode_source is, when
     * get_source first needs it). */
    self->spec_class =
        embedcfg__importlib_attr("_frozen_importlib", "ModuleSpec", WHO);
    self->fix_co_filename = self->spec_class != NULL
        ? embedcfg__importlib_attr("_imp", "_fix_co_filename", WHO) : NULL;
    if (self->path == NULL || self->fix_co_filename == NULL) {
        Py_DECREF(module);
        return NULL;
    }
    /* The running interpreter's own magic number, the last word: importlib's
     * constant, in its frozen external half, which the main phase of init
     * imports; importing it in the gap before is the same import, earlier. */
    external = PyImport_ImportModule("_frozen_importlib_external");
    magic = external != NULL
        ? PyObject_GetAttrString(external, "MAGIC_NUMBER") : NULL;
    Py_XDECREF(external);
    if (magic == NULL) {
        Py_DECREF(module);
        return NULL;
    }
    if (!PyBytes_Check(magic) || PyBytes_GET_SIZE(magic) != 4
        || memcmp(PyBytes_AS_STRING(magic), self->archive.magic, 4) != 0) {
        PyErr_Format(
            PyExc_ImportError,
            "the archive %U was packed for another CPython"
            " (bytecode magic number): rebuild it with embedcfg pack --python",
            self->path);
        Py_DECREF(magic);
        Py_DECREF(module);
        return NULL;
    }
    Py_DECREF(magic);
    return module;
}

/* Where importlib's PathFinder is on sys.meta_path: its length when the
 * PathFinder is not there yet (between the core and the main phase of init,
 * which appends it), with *present = 0. */
static Py_ssize_t
path_finder_index(PyObject *meta_path, int *present)
{
    PyObject *external =
        PyDict_GetItemString(PyImport_GetModuleDict(),
                             "_frozen_importlib_external");  /* borrowed */
    PyObject *path_finder = external != NULL
        ? PyObject_GetAttrString(external, "PathFinder") : NULL;
    Py_ssize_t i;

    PyErr_Clear();  /* no PathFinder is an answer, not an error */
    *present = 0;
    for (i = 0; path_finder != NULL && i < PyList_GET_SIZE(meta_path); i++) {
        if (PyList_GET_ITEM(meta_path, i) == path_finder) {
            *present = 1;
            break;
        }
    }
    Py_XDECREF(path_finder);
    return *present ? i : PyList_GET_SIZE(meta_path);
}

int
embedcfg__install_archives(embedcfg_handle *h)
{
    PyObject *meta_path;
    Py_ssize_t before;
    int has_path_finder;
    size_t i;

    if (h->n_archives == 0) {
        return 0;
    }
    meta_path = embedcfg__meta_path(WHO);
    if (meta_path == NULL) {
        return embedcfg__fail_exception(h, "installing the archives");
    }
    /* before_path ones go, in document order, where PathFinder is (at the
     * end in the gap: init appends PathFinder after them); the others after
     * it, in document order, so only once it is there */
    before = path_finder_index(meta_path, &has_path_finder);
    for (i = 0; i < h->n_archives; i++) {
        PyObject *finder;
        int rc;

        if (h->archives[i].archive.base == NULL) {
            continue;  /* installed already */
        }
        if (h->archives[i].after_path && !has_path_finder) {
            continue;  /* after init */
        }
        finder = finder_new(&h->archives[i]);
        if (finder == NULL) {
            return embedcfg__fail_exception(h, "installing the archives");
        }
        rc = embedcfg__meta_path_add(
            meta_path, finder, h->archives[i].after_path ? -1 : before++);
        Py_DECREF(finder);
        if (rc < 0) {
            return embedcfg__fail_exception(h, "installing the archives");
        }
    }
    return 0;
}
