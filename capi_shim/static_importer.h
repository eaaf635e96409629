/* embedcfg: an indexed importer for statically linked extension modules.
 *
 * CPython's inittab is a flat array scanned with string compares on every
 * import (three scans per static module import, one of them the pure-Python
 * `name in sys.builtin_module_names`), and it cannot be extended once the
 * interpreter runs.  This importer is a sys.meta_path finder and loader,
 * implemented in C, backed by a table of (module name, init function) that
 * `embedcfg bake` generates sorted at build time: a lookup is a binary search
 * (O(log n) byte compares, a miss costs what a hit costs), and registration
 * costs one object allocation, whatever the size of the table.
 *
 *     extern const embedcfg_static_entry app_table[];
 *     extern const size_t app_table_len;
 *     ...
 *     Py_InitializeFromConfig(&config);          (or: already running)
 *     if (embedcfg_static_importer_install(app_table, app_table_len, 0) < 0) {
 *         PyErr_Print();
 *     }
 *
 * Modules are created with public API only: multi-phase init (PEP 489:
 * PyModule_FromDefAndSpec + PyModule_ExecDef) and single-phase init (the
 * returned module; for a dotted name its __name__ is set to the full name,
 * see docs/explanation/static-modules.rst for what this can and cannot do).
 *
 * Compile static_importer.c with importer.c (the finder plumbing it shares
 * with the archive importer).  This header does not include Python.h, so
 * generated tables compile without the CPython headers.  Pure C99, usable from C++; every symbol starts with
 * embedcfg_; the library keeps no global state (the finder object owns a
 * pointer to the table, which must then outlive the interpreter, or a copy:
 * EMBEDCFG_STATIC_COPY). */

#ifndef EMBEDCFG_STATIC_IMPORTER_H
#define EMBEDCFG_STATIC_IMPORTER_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* struct _object is CPython's PyObject: a PyInit_ function has this type. */
struct _object;
typedef struct _object *(*embedcfg_static_initfunc)(void);

/* One statically linked module.  A table is sorted by strcmp() of the names
 * (UTF-8 byte order), without duplicates; `embedcfg bake` writes it so. */
typedef struct {
    const char *name;               /* dotted module name, UTF-8 */
    embedcfg_static_initfunc init;  /* PyInit_ function of the module */
} embedcfg_static_entry;

/* Flags of embedcfg_static_importer_install / _new. */
/* Verify the table (sorted, unique, valid dotted names) first: O(n). */
#define EMBEDCFG_STATIC_CHECK 0x1u
/* Append the finder to sys.meta_path instead of inserting it first. */
#define EMBEDCFG_STATIC_APPEND 0x2u
/* For a table built at run time (from a document, when no baked table
 * exists): the finder copies the entries and their names into memory it
 * owns (freed with it), sorts the copy and checks it, so the caller may free
 * its table at once and need not sort it.  Costs O(n log n) at install. */
#define EMBEDCFG_STATIC_COPY 0x4u

/* 0 when `table` is usable (names sorted by strcmp, unique, dotted
 * identifiers of ASCII letters, digits and '_' or non-ASCII UTF-8, init
 * functions not NULL); else -1 and a message naming the first bad entry in
 * err (truncated to err_size; err may be NULL).  Needs no interpreter. */
int embedcfg_static_table_check(const embedcfg_static_entry *table, size_t n,
                                char *err, size_t err_size);

/* Sort a table built at run time (from a document, when no baked table
 * exists) into the order the importer searches; check it afterwards with
 * embedcfg_static_table_check, which reports duplicates.  Needs no
 * interpreter. */
void embedcfg_static_table_sort(embedcfg_static_entry *table, size_t n);

/* The entry named `name` (len bytes, no NUL needed), or NULL: a binary
 * search.  Needs no interpreter. */
const embedcfg_static_entry *
embedcfg_static_table_find(const embedcfg_static_entry *table, size_t n,
                           const char *name, size_t len);

/* A new finder/loader object over `table` (a new reference), or NULL with a
 * Python exception set.  For hosts that place it in sys.meta_path
 * themselves.  Needs an initialized interpreter and an attached thread
 * state (the GIL). */
struct _object *
embedcfg_static_importer_new(const embedcfg_static_entry *table, size_t n,
                             unsigned int flags);

/* Create the finder and insert it at the front of sys.meta_path (before
 * BuiltinImporter; EMBEDCFG_STATIC_APPEND: at the end).  Call it after
 * init, before any code imports a static module: from a launcher right after
 * Py_InitializeFromConfig(), or in an interpreter that already runs (attach;
 * through ctypes.PyDLL, which then raises the exception).  Installing the
 * same table twice is a no-op.  0 on success; -1 with a Python exception set,
 * or -1 without one when no interpreter is initialized. */
int embedcfg_static_importer_install(const embedcfg_static_entry *table,
                                     size_t n, unsigned int flags);

/* Internal (the shim's): the same, without the Py_IsInitialized() check,
 * for the moment between the core and the main phase of init, when
 * importlib and sys.meta_path exist but site has not run yet.  The caller
 * guarantees that moment and holds the GIL. */
int embedcfg__static_importer_install_core(const embedcfg_static_entry *table,
                                           size_t n, unsigned int flags);

#ifdef __cplusplus
}
#endif

#endif /* EMBEDCFG_STATIC_IMPORTER_H */
