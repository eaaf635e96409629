/* embedcfg: what the static importer (static_importer.c) and the archive
 * importer (archive_importer.c) have in common.  Both are sys.meta_path
 * finders and loaders written in C as a module object whose state owns what
 * the finder needs; this is the plumbing around that which does not depend
 * on where the modules come from: find_spec's argument, a module name as
 * UTF-8 for a binary search, importlib's objects taken from sys.modules (no
 * import machinery is run), the ModuleSpec, and sys.meta_path.
 *
 * Internal: every symbol starts with embedcfg__.  Include after Python.h.
 * Public CPython API only, 3.8 and newer. */

#ifndef EMBEDCFG_IMPORTER_H
#define EMBEDCFG_IMPORTER_H

#include <stddef.h>

/* The `fullname` of find_spec(fullname, path=None, target=None), borrowed
 * from args; NULL with TypeError for other arguments.  importlib passes the
 * three positionally: that case parses nothing. */
PyObject *embedcfg__find_spec_fullname(PyObject *args, PyObject *kwargs);

/* The UTF-8 bytes of the module name `name` (*len of them), or NULL without
 * an exception when it is not a str or has lone surrogates (no module of a
 * table or an archive can have that name). */
const char *embedcfg__module_name_utf8(PyObject *name, size_t *len);

/* Attribute `attr` of module `module` of sys.modules (_frozen_importlib,
 * _frozen_importlib_external, _imp): a new reference, or NULL with an
 * exception; a module that is not there is a RuntimeError saying that
 * importlib is not initialized, for `who` ("embedcfg static importer"). */
PyObject *embedcfg__importlib_attr(const char *module, const char *attr,
                                   const char *who);

/* spec_class(name, loader, **kwargs): importlib's ModuleSpec. */
PyObject *embedcfg__new_spec(PyObject *spec_class, PyObject *name,
                             PyObject *loader, PyObject *kwargs);

/* sys.meta_path (borrowed), or NULL with a RuntimeError for `who` when it is
 * missing or not a list. */
PyObject *embedcfg__meta_path(const char *who);

/* Put `finder` into sys.meta_path at index `where`, or at the end when
 * `where` is negative: 0, or -1 with an exception. */
int embedcfg__meta_path_add(PyObject *meta_path, PyObject *finder,
                            Py_ssize_t where);

/* A METH_NOARGS / METH_O function that returns None: invalidate_caches
 * (nothing to invalidate: a table or an archive is fixed), and the static
 * importer's get_code and get_source. */
PyObject *embedcfg__return_none(PyObject *self, PyObject *unused);

#endif /* EMBEDCFG_IMPORTER_H */
