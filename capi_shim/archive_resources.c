/* embedcfg: importlib.resources for the archive importer (see
 * archive_resources.h). */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <string.h>

#include "archive_resources.h"

/* --- the data index ------------------------------------------------------ */

/* Is a (alen bytes) before b (blen bytes) in the index's order: the bytes,
 * and a prefix first? */
static int
name_before(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);

    return c < 0 || (c == 0 && alen < blen);
}

/* The first data entry whose name is not before `prefix`: the names that
 * start with it follow, in one run. */
static uint32_t
first_data_from(const embedcfg_archive *a, const char *prefix, size_t len)
{
    uint32_t lo = 0;
    uint32_t hi = a->n_data;

    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        embedcfg_archive_data_entry d;

        embedcfg_archive_data_at(a, mid, &d);
        if (name_before(d.name, d.name_len, prefix, len)) {
            lo = mid + 1;
        }
        else {
            hi = mid;
        }
    }
    return lo;
}

/* A path argument as UTF-8, or NULL: not a str (TypeError), or lone
 * surrogates (*len = (size_t)-1, no exception: no data file has it). */
static const char *
path_utf8(PyObject *path, size_t *len)
{
    Py_ssize_t n;
    const char *utf8;

    *len = 0;
    if (!PyUnicode_Check(path)) {
        PyErr_Format(PyExc_TypeError, "expected a str path, not %.100s",
                     Py_TYPE(path)->tp_name);
        return NULL;
    }
    utf8 = PyUnicode_AsUTF8AndSize(path, &n);
    if (utf8 == NULL) {
        PyErr_Clear();
        *len = (size_t)-1;
        return NULL;
    }
    *len = (size_t)n;
    return utf8;
}

PyObject *
embedcfg__data_names(const embedcfg_archive *a, PyObject *dir)
{
    size_t len;
    const char *utf8 = path_utf8(dir, &len);
    char *prefix;
    size_t plen;
    uint32_t i;
    PyObject *names;
    const char *last = NULL;   /* the last name added, inside the archive */
    size_t last_len = 0;

    if (utf8 == NULL) {
        return len == (size_t)-1 ? PyList_New(0) : NULL;
    }
    /* the files of "pkg/res" start with "pkg/res/"; of "", with anything */
    plen = len > 0 ? len + 1 : 0;
    prefix = (char *)PyMem_Malloc(plen + 1);
    names = prefix != NULL ? PyList_New(0) : NULL;
    if (names == NULL) {
        PyMem_Free(prefix);
        return prefix == NULL ? PyErr_NoMemory() : NULL;
    }
    memcpy(prefix, utf8, len);
    prefix[len] = '/';
    for (i = first_data_from(a, prefix, plen); i < a->n_data; i++) {
        embedcfg_archive_data_entry d;
        const char *name;
        size_t name_len;
        const char *child;
        const char *slash;
        size_t child_len;
        PyObject *str;

        embedcfg_archive_data_at(a, i, &d);
        name = d.name;
        name_len = d.name_len;
        if (name_len < plen || memcmp(name, prefix, plen) != 0) {
            break;
        }
        /* a file directly there, or the directory of one below */
        child = name + plen;
        slash = (const char *)memchr(child, '/', name_len - plen);
        child_len = slash != NULL ? (size_t)(slash - child) : name_len - plen;
        /* the files of one directory are one run: it is added once */
        if (child_len == 0
            || (last != NULL && child_len == last_len
                && memcmp(child, last, child_len) == 0)) {
            continue;
        }
        last = child;
        last_len = child_len;
        str = PyUnicode_DecodeUTF8(child, (Py_ssize_t)child_len, "strict");
        if (str == NULL || PyList_Append(names, str) < 0) {
            Py_XDECREF(str);
            Py_CLEAR(names);
            break;
        }
        Py_DECREF(str);
    }
    PyMem_Free(prefix);
    /* "a.txt" sorts before "a/x" but after the directory "a" */
    if (names != NULL && PyList_Sort(names) < 0) {
        Py_CLEAR(names);
    }
    return names;
}

PyObject *
embedcfg__data_is_file(const embedcfg_archive *a, PyObject *path)
{
    size_t len;
    const char *utf8 = path_utf8(path, &len);
    embedcfg_archive_data_entry d;

    if (utf8 == NULL) {
        return len == (size_t)-1 ? PyBool_FromLong(0) : NULL;
    }
    return PyBool_FromLong(
        embedcfg_archive_find_data(a, utf8, len, &d));
}

/* --- the reader ---------------------------------------------------------- */

/* Python: the classes are simpler in it than as C types, and nothing here
 * is on a hot path (the data come from the functions above and from
 * get_data).  Lines stay within 72 columns. */
static const char reader_source[] =
    "import errno\n"
    "import io\n"
    "import os\n"
    "\n"
    "\n"
    "def _error(cls, code, path):\n"
    "    return cls(code, os.strerror(code), path)\n"
    "\n"
    "\n"
    "class ArchiveTraversable:\n"
    "    '''A file or directory of package data in an embedcfg archive (an\n"
    "    importlib.resources Traversable).  The directories are the one of\n"
    "    the package and those that hold data files.'''\n"
    "\n"
    "    __slots__ = ('_loader', '_archive', '_root', '_path')\n"
    "\n"
    "    def __init__(self, loader, archive, root, path):\n"
    "        self._loader = loader\n"
    "        self._archive = archive\n"
    "        self._root = root\n"
    "        self._path = path\n"
    "\n"
    "    def __repr__(self):\n"
    "        return '<%s %r>' % (type(self).__name__, str(self))\n"
    "\n"
    "    def __str__(self):\n"
    "        if not self._path:\n"
    "            return self._archive\n"
    "        return self._archive + '/' + self._path\n"
    "\n"
    "    def __eq__(self, other):\n"
    "        if not isinstance(other, ArchiveTraversable):\n"
    "            return NotImplemented\n"
    "        return (self._loader is other._loader\n"
    "                and self._path == other._path)\n"
    "\n"
    "    def __hash__(self):\n"
    "        return hash(self._path)\n"
    "\n"
    "    @property\n"
    "    def name(self):\n"
    "        return str(self).rpartition('/')[2]\n"
    "\n"
    "    def is_file(self):\n"
    "        return self._loader._data_is_file(self._path)\n"
    "\n"
    "    def is_dir(self):\n"
    "        return (self._path == self._root\n"
    "                or bool(self._loader._data_names(self._path)))\n"
    "\n"
    "    def iterdir(self):\n"
    "        names = self._loader._data_names(self._path)\n"
    "        if not names and self._path != self._root:\n"
    "            if self.is_file():\n"
    "                raise _error(NotADirectoryError, errno.ENOTDIR,\n"
    "                             str(self))\n"
    "            raise _error(FileNotFoundError, errno.ENOENT, str(self))\n"
    "        return iter([self.joinpath(name) for name in names])\n"
    "\n"
    "    def joinpath(self, *descendants):\n"
    "        parts = [self._path] if self._path else []\n"
    "        for descendant in descendants:\n"
    "            parts += [part for part in str(descendant).split('/')\n"
    "                      if part not in ('', '.')]\n"
    "        return ArchiveTraversable(self._loader, self._archive,\n"
    "                                  self._root, '/'.join(parts))\n"
    "\n"
    "    __truediv__ = joinpath\n"
    "\n"
    "    def read_bytes(self):\n"
    "        if self.is_file():\n"
    "            return self._loader.get_data(str(self))\n"
    "        if self.is_dir():\n"
    "            raise _error(IsADirectoryError, errno.EISDIR, str(self))\n"
    "        raise _error(FileNotFoundError, errno.ENOENT, str(self))\n"
    "\n"
    "    def read_text(self, encoding=None, errors=None):\n"
    "        with self.open('r', encoding=encoding, errors=errors) as f:\n"
    "            return f.read()\n"
    "\n"
    "    def open(self, mode='r', buffering=-1, encoding=None, errors=None,\n"
    "             newline=None):\n"
    "        if mode not in ('r', 'rb'):\n"
    "            raise ValueError('%s: archives are read-only: open with'\n"
    "                             ' mode r or rb, not %r' % (self, mode))\n"
    "        stream = io.BytesIO(self.read_bytes())\n"
    "        if mode == 'rb':\n"
    "            return stream\n"
    "        return io.TextIOWrapper(stream, encoding, errors, newline)\n"
    "\n"
    "\n"
    "class ArchiveResourceReader:\n"
    "    '''importlib's resource reader for a package (or the directory of a\n"
    "    module) in an embedcfg archive: files() for 3.10 and newer, and the\n"
    "    protocol of 3.8 and 3.9.'''\n"
    "\n"
    "    def __init__(self, loader, archive, path):\n"
    "        self._files = ArchiveTraversable(loader, archive, path, path)\n"
    "\n"
    "    def files(self):\n"
    "        return self._files\n"
    "\n"
    "    def open_resource(self, resource):\n"
    "        return self._files.joinpath(resource).open('rb')\n"
    "\n"
    "    def resource_path(self, resource):\n"
    "        # not on the file system: importlib.resources.path() then\n"
    "        # copies open_resource() into a temporary file\n"
    "        raise FileNotFoundError(resource)\n"
    "\n"
    "    def is_resource(self, path):\n"
    "        return self._files.joinpath(path).is_file()\n"
    "\n"
    "    def contents(self):\n"
    "        return [item.name for item in self._files.iterdir()]\n"
    "\n"
    "\n"
    "def _register():\n"
    "    try:\n"
    "        from importlib.resources import abc  # 3.11 and newer\n"
    "    except ImportError:\n"
    "        from importlib import abc\n"
    "    if hasattr(abc, 'Traversable'):  # 3.9 and newer\n"
    "        abc.Traversable.register(ArchiveTraversable)\n"
    "        abc.TraversableResources.register(ArchiveResourceReader)\n"
    "    else:\n"
    "        abc.ResourceReader.register(ArchiveResourceReader)\n"
    "\n"
    "\n"
    "_register()\n";

/* The ArchiveResourceReader class, compiled on first use (a new
 * reference). */
static PyObject *
compile_reader_class(void)
{
    PyObject *code = Py_CompileString(
        reader_source, "<embedcfg archive resources>", Py_file_input);
    PyObject *globals = code != NULL ? PyDict_New() : NULL;
    PyObject *name = globals != NULL
        ? PyUnicode_FromString("embedcfg.archive_resources") : NULL;
    PyObject *result = NULL;
    PyObject *cls = NULL;

    if (name != NULL && PyDict_SetItemString(globals, "__name__", name) == 0
        && PyDict_SetItemString(globals, "__builtins__",
                                PyEval_GetBuiltins())
               == 0) {
        result = PyEval_EvalCode(code, globals, globals);
    }
    if (result != NULL) {
        cls = PyDict_GetItemString(globals, "ArchiveResourceReader");
        Py_XINCREF(cls);
        if (cls == NULL) {
            PyErr_SetString(PyExc_SystemError,
                            "embedcfg archive resources: the reader class"
                            " is missing from its source");
        }
    }
    Py_XDECREF(result);
    Py_XDECREF(name);
    Py_XDECREF(globals);
    Py_XDECREF(code);
    return cls;
}

PyObject *
embedcfg__resource_reader(PyObject **reader_class, PyObject *loader,
                          PyObject *archive_path,
                          const embedcfg_archive_module *m)
{
    size_t len = m->name_len;
    char *dir;
    size_t i;
    PyObject *path;
    PyObject *reader;

    if (*reader_class == NULL
        && (*reader_class = compile_reader_class()) == NULL) {
        return NULL;
    }
    /* a module's directory is its package's: "pkg.mod" -> "pkg" */
    if (!m->is_package) {
        while (len > 0 && m->name[len - 1] != '.') {
            len--;
        }
        len = len > 0 ? len - 1 : 0;
    }
    dir = (char *)PyMem_Malloc(len + 1);
    if (dir == NULL) {
        return PyErr_NoMemory();
    }
    for (i = 0; i < len; i++) {
        dir[i] = m->name[i] == '.' ? '/' : m->name[i];
    }
    path = PyUnicode_DecodeUTF8(dir, (Py_ssize_t)len, "strict");
    PyMem_Free(dir);
    if (path == NULL) {
        return NULL;
    }
    reader = PyObject_CallFunctionObjArgs(*reader_class, loader,
                                          archive_path, path, NULL);
    Py_DECREF(path);
    return reader;
}
