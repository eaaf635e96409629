/* embedcfg: the extension importer of one-file applications (see
 * extension_importer.h).  The loader protocol is ExtensionFileLoader's:
 * create_module hands a spec naming a loadable file to _imp.create_dynamic
 * (which dlopen()s it and runs the module's init function), exec_module
 * calls _imp.exec_dynamic.  Public CPython API only, 3.8 and newer. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __linux__
#  include <sys/syscall.h>
#endif

#include "handle.h"
#include "importer.h"
#include "onefile.h"
#include "pathsec.h"
#include "extension_importer.h"

#define WHO "embedcfg extension importer"  /* in messages */

#ifndef MFD_CLOEXEC
#  define MFD_CLOEXEC 0x0001U
#endif
#ifndef MFD_NOEXEC_SEAL
#  define MFD_NOEXEC_SEAL 0x0008U
#endif
#ifndef MFD_EXEC
#  define MFD_EXEC 0x0010U
#endif

/* How modules are made loadable: decided at the first one. */
#define METHOD_UNKNOWN 0
#define METHOD_MEMFD 1
#define METHOD_EXTRACT 2

typedef struct {
    const embedcfg_onefile *payload;  /* the launcher's: outlives us */
    char *exe;                  /* the executable's path (PyMem) */
    PyObject *spec_class;       /* importlib's ModuleSpec */
    PyObject *create_dynamic;   /* _imp.create_dynamic */
    PyObject *exec_dynamic;     /* _imp.exec_dynamic */
    int method;
    char *extract_dir;          /* METHOD_EXTRACT's directory (PyMem) */
    int *fds;                   /* by section: the memfd a module was loaded
                                 * from, or -1 (PyMem).  Kept open: glibc
                                 * knows a library by its path, so a module
                                 * imported again gets the same library, and
                                 * a reused /proc/self/fd/N would name an old
                                 * one */
    int memfd_worked;           /* a module was loaded from memory */
} finder_state;

static finder_state *
state_of(PyObject *op)
{
    return (finder_state *)PyModule_GetState(op);
}

int
embedcfg__has_extensions(const embedcfg_handle *h)
{
    return h->payload != NULL
           && h->payload->first_extension < h->payload->n_sections;
}

/* The section of module `name` (a str), or 0. */
static int
lookup(finder_state *self, PyObject *name, embedcfg_onefile_section *s)
{
    size_t len = 0;
    const char *utf8 = embedcfg__module_name_utf8(name, &len);

    return utf8 != NULL
           && embedcfg_onefile_find_extension(self->payload, utf8, len, s);
}

/* "<executable>/<section path>": the module's virtual path. */
static PyObject *
virtual_path(finder_state *self, const embedcfg_onefile_section *s)
{
    PyObject *out;
    size_t n = strlen(self->exe) + 1 + s->path_len + 1;
    char *buf = (char *)PyMem_Malloc(n);

    if (buf == NULL) {
        return PyErr_NoMemory();
    }
    snprintf(buf, n, "%s/%s", self->exe, s->path);
    out = PyUnicode_DecodeFSDefault(buf);
    PyMem_Free(buf);
    return out;
}

static PyObject *
finder_find_spec(PyObject *op, PyObject *args, PyObject *kwargs)
{
    finder_state *self = state_of(op);
    PyObject *name = embedcfg__find_spec_fullname(args, kwargs);
    PyObject *origin;
    PyObject *kw;
    PyObject *spec = NULL;
    embedcfg_onefile_section s;

    if (name == NULL) {
        return NULL;
    }
    if (!lookup(self, name, &s)) {
        Py_RETURN_NONE;
    }
    origin = virtual_path(self, &s);
    kw = origin != NULL ? PyDict_New() : NULL;
    if (kw != NULL && PyDict_SetItemString(kw, "origin", origin) == 0) {
        spec = embedcfg__new_spec(self->spec_class, name, op, kw);
    }
    /* a location: importlib sets __file__ from origin */
    if (spec != NULL
        && PyObject_SetAttrString(spec, "has_location", Py_True) < 0) {
        Py_CLEAR(spec);
    }
    Py_XDECREF(origin);
    Py_XDECREF(kw);
    return spec;
}

/* Write all of s's bytes to fd: 0, or -1 with errno. */
static int
write_all(int fd, const embedcfg_onefile_section *s)
{
    const unsigned char *p = s->bytes;
    size_t left = s->size;

    while (left > 0) {
        ssize_t n = write(fd, p, left);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            if (n == 0) {
                errno = EIO;
            }
            return -1;
        }
        p += n;
        left -= (size_t)n;
    }
    return 0;
}

/* An anonymous file holding s's bytes, that the dynamic loader can map
 * executable through /proc/self/fd (path[] receives that name): the fd, or
 * -1 when this kernel or its policy does not allow it (nothing raised). */
static int
memfd_for(const embedcfg_onefile_section *s, char *path, size_t size)
{
#if defined(__linux__) && defined(SYS_memfd_create)
    static const unsigned int flags[] = {MFD_CLOEXEC | MFD_EXEC, MFD_CLOEXEC};
    int fd = -1;
    size_t i;
    void *probe;

    /* MFD_EXEC (Linux 6.3+) asks for an executable one where
     * vm.memfd_noexec would make it sealed non-executable by default;
     * older kernels refuse the flag with EINVAL */
    for (i = 0; i < sizeof flags / sizeof flags[0] && fd < 0; i++) {
        fd = (int)syscall(SYS_memfd_create, s->name, flags[i]);
    }
    if (fd < 0) {
        return -1;
    }
    snprintf(path, size, "/proc/self/fd/%d", fd);
    if (write_all(fd, s) < 0 || access(path, R_OK) != 0) {
        close(fd);
        return -1;
    }
    /* what dlopen will do with it: map it executable */
    probe = mmap(NULL, 1, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
    if (probe == MAP_FAILED) {
        close(fd);
        return -1;
    }
    munmap(probe, 1);
    return fd;
#else
    (void)s;
    (void)path;
    (void)size;
    return -1;
#endif
}

/* snprintf into a path buffer: 0, or -1 with an ImportError when the
 * path does not fit. */
static int
format_path(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= size) {
        PyErr_SetString(PyExc_ImportError,
                        "the directory to extract extension modules into is "
                        "too long a path: set TMPDIR to a shorter one");
        return -1;
    }
    return 0;
}

/* mkdir `dir` 0700 unless it exists: 0, or -1 with an ImportError. */
static int
make_private_dir(const char *dir)
{
    if (mkdir(dir, 0700) == 0 || errno == EEXIST) {
        return 0;
    }
    PyErr_Format(PyExc_ImportError,
                 "%s: cannot create the directory to extract the one-file "
                 "application's extension modules into: %s; set TMPDIR to a "
                 "directory of yours", dir, strerror(errno));
    return -1;
}

/* The extraction directory, created and checked: 0, or -1 with an
 * ImportError naming the directory, what is wrong and the fix. */
static int
prepare_extract_dir(finder_state *self)
{
    const char *runtime = getenv("XDG_RUNTIME_DIR");
    const char *tmp = getenv("TMPDIR");
    char top[PATH_MAX];
    char dir[PATH_MAX];
    char err[2048];
    embedcfg_pathsec_item item;
    struct stat st;
    int rc;

    if (runtime != NULL && runtime[0] == '/') {
        rc = format_path(top, sizeof top, "%s/embedcfg", runtime);
    }
    else {
        rc = format_path(top, sizeof top, "%s/embedcfg-%lu",
                         tmp != NULL && tmp[0] == '/' ? tmp : "/tmp",
                         (unsigned long)geteuid());
    }
    if (rc < 0
        || format_path(dir, sizeof dir, "%s/onefile-%08lx", top,
                       (unsigned long)self->payload->id) < 0
        || make_private_dir(top) < 0 || make_private_dir(dir) < 0) {
        return -1;
    }
    /* private: ours, and nobody else may even list it */
    if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode)
        || st.st_uid != geteuid() || (st.st_mode & 077) != 0
        || lstat(top, &st) != 0 || !S_ISDIR(st.st_mode)
        || st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
        PyErr_Format(PyExc_ImportError,
                     "%s: the directory to extract the one-file "
                     "application's extension modules into must be a "
                     "directory of this user with mode 0700 (it is not): "
                     "remove it, or set TMPDIR to a directory of yours", dir);
        return -1;
    }
    item.what = "the extraction directory";
    item.path = dir;
    item.kind = EMBEDCFG_PATHSEC_CONTENTS;
    if (embedcfg_pathsec_check(&item, 1, NULL, err, sizeof err) < 0) {
        PyErr_Format(PyExc_ImportError, "%s", err);
        return -1;
    }
    self->extract_dir = (char *)PyMem_Malloc(strlen(dir) + 1);
    if (self->extract_dir == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    strcpy(self->extract_dir, dir);
    return 0;
}

/* Whether the regular file at `path` holds exactly s's bytes. */
static int
same_bytes(const char *path, const embedcfg_onefile_section *s)
{
    unsigned char buf[65536];
    size_t at = 0;
    int same = 1;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;

    if (fd < 0) {
        return 0;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)
        || (uint64_t)st.st_size != (uint64_t)s->size) {
        close(fd);
        return 0;
    }
    while (same && at < s->size) {
        ssize_t n = read(fd, buf, sizeof buf);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0 || (size_t)n > s->size - at
            || memcmp(buf, s->bytes + at, (size_t)n) != 0) {
            same = 0;
        }
        at += n > 0 ? (size_t)n : 0;
    }
    close(fd);
    return same;
}

/* s extracted into the directory (written under a temporary name, then
 * renamed: a file there is whole, or absent), its path in path[]: 0, or -1
 * with an ImportError.  A file that holds the same bytes is reused. */
static int
extract(finder_state *self, const embedcfg_onefile_section *s, char *path,
        size_t size)
{
    char tmp[PATH_MAX];
    const char *tail = strrchr(s->path, '/');
    const char *suffix = strchr(tail != NULL ? tail + 1 : s->path, '.');
    int fd;

    if (self->extract_dir == NULL && prepare_extract_dir(self) < 0) {
        return -1;
    }
    /* the module's dotted name keeps two pkg/_x.so apart in one directory */
    if (format_path(path, size, "%s/%s%s", self->extract_dir, s->name,
                    suffix != NULL ? suffix : "") < 0) {
        return -1;
    }
    if (same_bytes(path, s)) {
        return 0;
    }
    if (format_path(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid()) < 0) {
        return -1;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
              0700);
    if (fd < 0 || write_all(fd, s) < 0 || fsync(fd) != 0) {
        int saved = errno;

        if (fd >= 0) {
            close(fd);
        }
        unlink(tmp);
        PyErr_Format(PyExc_ImportError,
                     "%s: cannot extract extension module %s: %s", tmp,
                     s->name, strerror(saved));
        return -1;
    }
    close(fd);
    if (rename(tmp, path) != 0) {
        int saved = errno;

        unlink(tmp);
        PyErr_Format(PyExc_ImportError,
                     "%s: cannot extract extension module %s: %s", path,
                     s->name, strerror(saved));
        return -1;
    }
    return 0;
}

/* Whether EMBEDCFG_ONEFILE_EXTRACT=1 asks for extraction. */
static int
extraction_asked(void)
{
    const char *v = getenv("EMBEDCFG_ONEFILE_EXTRACT");

    return v != NULL && strcmp(v, "1") == 0;
}

/* A path the dynamic loader can open that holds s's bytes: 0, or -1 with
 * an ImportError. */
static int
loadable_path(finder_state *self, const embedcfg_onefile_section *s,
              char *path, size_t size)
{
    if (self->method == METHOD_UNKNOWN) {
        self->method = extraction_asked() ? METHOD_EXTRACT : METHOD_MEMFD;
    }
    if (self->method == METHOD_MEMFD) {
        int fd = self->fds[s->index];

        if (fd >= 0) {  /* imported before: the same file, the same library */
            snprintf(path, size, "/proc/self/fd/%d", fd);
            return 0;
        }
        fd = memfd_for(s, path, size);
        if (fd >= 0) {
            self->fds[s->index] = fd;
            self->memfd_worked = 1;
            return 0;
        }
        if (self->memfd_worked) {
            /* it worked for an earlier module: not the kernel's policy */
            PyErr_Format(PyExc_ImportError,
                         "cannot load extension module %s into memory: %s",
                         s->name, strerror(errno));
            return -1;
        }
        self->method = METHOD_EXTRACT;  /* from now on, for every module */
    }
    return extract(self, s, path, size);
}

static PyObject *
finder_create_module(PyObject *op, PyObject *spec)
{
    finder_state *self = state_of(op);
    PyObject *name = PyObject_GetAttrString(spec, "name");
    PyObject *origin = NULL;
    PyObject *where = NULL;
    PyObject *kw = NULL;
    PyObject *load_spec = NULL;
    PyObject *module = NULL;
    embedcfg_onefile_section s;
    char err[ERROR_SIZE + PATH_MAX];
    char path[PATH_MAX];

    if (name == NULL) {
        return NULL;
    }
    if (!lookup(self, name, &s)) {
        PyErr_Format(PyExc_ImportError, "%R is not an extension module of %s",
                     name, self->exe);
        goto done;
    }
    if (embedcfg_onefile_check_section(&s, self->exe, err, sizeof err) < 0) {
        PyErr_SetString(PyExc_ImportError, err);
        goto done;
    }
    if (loadable_path(self, &s, path, sizeof path) < 0) {
        goto done;
    }
    /* CPython's loader reads only the spec's name and origin */
    where = PyUnicode_DecodeFSDefault(path);
    kw = where != NULL ? PyDict_New() : NULL;
    if (kw == NULL || PyDict_SetItemString(kw, "origin", where) < 0) {
        goto done;
    }
    load_spec = embedcfg__new_spec(self->spec_class, name, Py_None, kw);
    module = load_spec != NULL
        ? PyObject_CallFunctionObjArgs(self->create_dynamic, load_spec, NULL)
        : NULL;
    /* a single-phase module got __file__ = the loaded path: the virtual one
     * instead, as importlib gives every other module (from the spec) */
    if (module != NULL && PyModule_Check(module)) {
        origin = virtual_path(self, &s);
        if (origin == NULL
            || PyObject_SetAttrString(module, "__file__", origin) < 0) {
            Py_CLEAR(module);
        }
    }

done:
    Py_DECREF(name);
    Py_XDECREF(origin);
    Py_XDECREF(where);
    Py_XDECREF(kw);
    Py_XDECREF(load_spec);
    return module;
}

static PyObject *
finder_exec_module(PyObject *op, PyObject *module)
{
    PyObject *r = PyObject_CallFunctionObjArgs(state_of(op)->exec_dynamic,
                                               module, NULL);

    if (r == NULL) {
        return NULL;
    }
    Py_DECREF(r);
    Py_RETURN_NONE;
}

static PyObject *
finder_is_package(PyObject *op, PyObject *name)
{
    (void)op;
    (void)name;
    Py_RETURN_FALSE;  /* an extension module is never a package */
}

static PyObject *
finder_get_filename(PyObject *op, PyObject *name)
{
    finder_state *self = state_of(op);
    embedcfg_onefile_section s;

    if (!lookup(self, name, &s)) {
        PyErr_Format(PyExc_ImportError, "%R is not an extension module of %s",
                     name, self->exe);
        return NULL;
    }
    return virtual_path(self, &s);
}

static int
finder_traverse(PyObject *op, visitproc visit, void *arg)
{
    finder_state *self = state_of(op);

    if (self != NULL) {
        Py_VISIT(self->spec_class);
        Py_VISIT(self->create_dynamic);
        Py_VISIT(self->exec_dynamic);
    }
    return 0;
}

static int
finder_clear(PyObject *op)
{
    finder_state *self = state_of(op);

    if (self != NULL) {
        Py_CLEAR(self->spec_class);
        Py_CLEAR(self->create_dynamic);
        Py_CLEAR(self->exec_dynamic);
    }
    return 0;
}

static void
finder_free(void *op)
{
    finder_state *self = state_of((PyObject *)op);
    uint32_t i;

    (void)finder_clear((PyObject *)op);
    if (self == NULL) {
        return;
    }
    /* the libraries stay mapped (CPython never unloads an extension
     * module); their files are not needed once they are */
    for (i = 0; self->fds != NULL && i < self->payload->n_sections; i++) {
        if (self->fds[i] >= 0) {
            close(self->fds[i]);
        }
    }
    PyMem_Free(self->fds);
    PyMem_Free(self->exe);
    PyMem_Free(self->extract_dir);
    memset(self, 0, sizeof *self);
}

static PyMethodDef finder_methods[] = {
    {"find_spec", (PyCFunction)(void (*)(void))finder_find_spec,
     METH_VARARGS | METH_KEYWORDS,
     "find_spec(fullname, path=None, target=None)\n--\n\n"
     "A ModuleSpec for an extension module of the payload, else None."},
    {"create_module", finder_create_module, METH_O,
     "Load the extension module (from memory where the kernel allows it)."},
    {"exec_module", finder_exec_module, METH_O,
     "Run the module's initialization (multi-phase modules)."},
    {"get_code", embedcfg__return_none, METH_O, "None: no Python code."},
    {"get_source", embedcfg__return_none, METH_O, "None: no source."},
    {"get_filename", finder_get_filename, METH_O,
     "The module's virtual path."},
    {"is_package", finder_is_package, METH_O, "False."},
    {"invalidate_caches", embedcfg__return_none, METH_NOARGS,
     "Nothing to invalidate: the payload is fixed."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef finder_def = {
    PyModuleDef_HEAD_INIT,
    "embedcfg.extension_importer",
    "Finds and loads the extension modules of a one-file application from\n"
    "the executable itself: a sys.meta_path finder and loader.",
    (Py_ssize_t)sizeof(finder_state),
    finder_methods,
    NULL,
    finder_traverse,
    finder_clear,
    finder_free};

static PyObject *
finder_new(const embedcfg_onefile *payload, const char *exe)
{
    PyObject *module = PyModule_Create(&finder_def);
    finder_state *self;
    uint32_t i;

    if (module == NULL) {
        return NULL;
    }
    self = state_of(module);
    self->payload = payload;
    self->exe = (char *)PyMem_Malloc(strlen(exe) + 1);
    self->fds = (int *)PyMem_Malloc(payload->n_sections * sizeof(int));
    if (self->exe == NULL || self->fds == NULL) {
        Py_DECREF(module);
        return PyErr_NoMemory();
    }
    strcpy(self->exe, exe);
    for (i = 0; i < payload->n_sections; i++) {
        self->fds[i] = -1;
    }
    self->spec_class =
        embedcfg__importlib_attr("_frozen_importlib", "ModuleSpec", WHO);
    self->create_dynamic = self->spec_class != NULL
        ? embedcfg__importlib_attr("_imp", "create_dynamic", WHO) : NULL;
    self->exec_dynamic = self->create_dynamic != NULL
        ? embedcfg__importlib_attr("_imp", "exec_dynamic", WHO) : NULL;
    if (self->exec_dynamic == NULL) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}

int
embedcfg__install_extensions(embedcfg_handle *h)
{
    PyObject *meta_path;
    PyObject *finder;
    int rc;

    if (!embedcfg__has_extensions(h) || h->extensions_installed) {
        return 0;
    }
    if (h->exe == NULL) {
        return embedcfg__fail(h, "a one-file payload needs the executable's "
                              "path");
    }
    meta_path = embedcfg__meta_path(WHO);
    finder = meta_path != NULL ? finder_new(h->payload, h->exe) : NULL;
    if (finder == NULL) {
        return embedcfg__fail_exception(h, "installing the extension "
                                        "importer");
    }
    /* after the archives, which went in just before: the main phase of
     * init appends PathFinder after this */
    rc = embedcfg__meta_path_add(meta_path, finder, -1);
    Py_DECREF(finder);
    if (rc < 0) {
        return embedcfg__fail_exception(h, "installing the extension "
                                        "importer");
    }
    h->extensions_installed = 1;
    return 0;
}
