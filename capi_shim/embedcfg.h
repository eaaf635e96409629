/* embedcfg: apply a configuration document to an embedded CPython.
 *
 * The one public header of the shim.  Pure C99, usable from C++; it does not
 * include Python.h, so hosts can include it anywhere.  Every symbol starts
 * with embedcfg_; the library keeps no global state: everything lives in a
 * handle.
 *
 * The API follows PEP 741 (PyInitConfig), backported to CPython 3.8+:
 *
 *     embedcfg_handle *h = embedcfg_create();
 *     if (embedcfg_load_file(h, "app.json") < 0
 *         || embedcfg_set_int(h, "verbose", 1) < 0
 *         || embedcfg_initialize(h) < 0) {
 *         int code;
 *         if (embedcfg_get_exit_code(h, &code)) { ... exit(code) ... }
 *         fprintf(stderr, "%s\n", embedcfg_get_error(h));
 *     }
 *     embedcfg_free(h);
 *     return Py_RunMain();
 *
 * Functions returning int return 0 on success and -1 on error; the handle
 * then keeps a message naming what failed ("during setting utf8_mode: ...").
 * Setters only record and check values; nothing touches the interpreter
 * before embedcfg_initialize() or embedcfg_fill_pyconfig().
 *
 * Strings are UTF-8.  Paths in `lib`, `pycache.prefix`, inittab libraries
 * and path options may start with $ORIGIN (the host executable's directory,
 * or embedcfg_set_origin()) or $CONFIG_DIR (the document's directory).
 * The handle copies every string it is given; option values are kept in
 * blocks released by embedcfg_free(), so setting an option again does not
 * release its previous string before then. */

#ifndef EMBEDCFG_H
#define EMBEDCFG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EMBEDCFG_API_VERSION 1

/* Exit status of the launcher for a configuration error (sysexits EX_CONFIG). */
#define EMBEDCFG_EXIT_CONFIG 78

typedef struct embedcfg_handle embedcfg_handle;

/* struct _object is CPython's PyObject; an extension's PyInit_ function has
 * exactly this type. */
struct _object;
typedef struct _object *(*embedcfg_initfunc)(void);

/* Outcome of one option when attaching to a running interpreter. */
typedef enum {
    EMBEDCFG_APPLIED = 0,     /* changed in the running interpreter */
    EMBEDCFG_NOT_APPLIED = 1  /* fixed at init: see the detail message */
} embedcfg_attach_status;

/* PY_VERSION_HEX of the CPython headers this library was compiled with. */
unsigned long embedcfg_python_version_hex(void);

/* A new handle (profile "isolated"), or NULL when out of memory. */
embedcfg_handle *embedcfg_create(void);
/* Free the handle; NULL is accepted.  Inittab names registered with CPython
 * are not freed: CPython keeps pointing to them for the process lifetime. */
void embedcfg_free(embedcfg_handle *h);

/* The last error message (UTF-8, never NULL; "" when there is none).  Valid
 * until the next call on the handle. */
const char *embedcfg_get_error(const embedcfg_handle *h);
/* 1 and *exitcode when CPython asked to exit during init (parse_argv with
 * --help or a bad option), else 0. */
int embedcfg_get_exit_code(const embedcfg_handle *h, int *exitcode);

/* "isolated" or "python": the preset the options are applied on top of. */
int embedcfg_set_profile(embedcfg_handle *h, const char *profile);
/* Directory $ORIGIN expands to (default: the executable's directory). */
int embedcfg_set_origin(embedcfg_handle *h, const char *dir);
/* Directory $CONFIG_DIR expands to (load_file sets it to the file's). */
int embedcfg_set_config_dir(embedcfg_handle *h, const char *dir);

/* Options by PEP 741 name.  bool options take 0/1 through set_int; options
 * with named values (allocator, check_hash_pycs_mode) take the name through
 * set_str.  Values are checked against the option's range and against the
 * CPython this library was compiled for. */
int embedcfg_set_int(embedcfg_handle *h, const char *name, int64_t value);
int embedcfg_set_str(embedcfg_handle *h, const char *name, const char *value);
int embedcfg_set_strlist(embedcfg_handle *h, const char *name, size_t length,
                         const char *const *items);
/* Append to a list option (argv: the launcher adds its arguments). */
int embedcfg_append_strlist(embedcfg_handle *h, const char *name,
                            size_t length, const char *const *items);
/* 1 when the option was set (by a setter or a document), else 0. */
int embedcfg_has_option(const embedcfg_handle *h, const char *name);

/* Register a statically linked extension module.  Names are dotted ASCII
 * identifiers (a non-ASCII name would need PEP 489's PyInitU_<punycode>
 * symbol, which is not derived: such names are refused). */
int embedcfg_add_module(embedcfg_handle *h, const char *name,
                        embedcfg_initfunc init);
/* Same, with the init function found by name at init time: in `library`
 * (dlopen; may be anchored) or, when library is NULL, in the host program.
 * symbol NULL means PyInit_<last part of name>. */
int embedcfg_add_module_symbol(embedcfg_handle *h, const char *name,
                               const char *symbol, const char *library);

/* How the modules above become importable (the document's static_modules):
 * "inittab"  CPython's inittab, registered before init (PyImport_AppendInittab;
 *            PyInitConfig_AddModule on 3.14); the modules are in
 *            sys.builtin_module_names and importable during init;
 * "indexed"  embedcfg's indexed importer (static_importer.h), put first on
 *            sys.meta_path during init, between the core and the main phase
 *            (before site runs; right after init on 3.14), or when attaching
 *            to a running interpreter (embedded);
 * NULL       automatic (the default): "indexed" when embedded or from
 *            EMBEDCFG_INDEXED_THRESHOLD (100) modules on, else "inittab",
 *            as embedcfg.bake.choose_mechanism decides.
 * With either, every init function is found (the pointer given, or dlsym)
 * before init, so a missing one is an error while nothing is initialized. */
int embedcfg_set_static_modules(embedcfg_handle *h, const char *mechanism);
/* The mechanism in effect for the modules registered so far: "inittab" or
 * "indexed" ("" for a NULL handle). */
const char *embedcfg_get_static_modules(const embedcfg_handle *h);

/* Load a document in canonical JSON form (what `embedcfg` writes and the
 * Python side validated).  load_file also sets $CONFIG_DIR to the file's
 * directory. */
int embedcfg_load_file(embedcfg_handle *h, const char *path);
int embedcfg_load_buffer(embedcfg_handle *h, const char *buf, size_t len);

/* The document's `lib`, expanded ("" when absent), `requires_python` ("" when
 * absent) and `embedded` flag. */
const char *embedcfg_get_lib(const embedcfg_handle *h);
const char *embedcfg_get_requires_python(const embedcfg_handle *h);
int embedcfg_is_embedded(const embedcfg_handle *h);

/* Initialize CPython from the handle (Py_InitializeFromConfig on 3.8-3.13,
 * Py_InitializeFromInitConfig on 3.14+), then install the indexed static
 * importer when that is the mechanism.  When the document says embedded and
 * an interpreter runs, attach instead: apply what can be changed at run time,
 * install the indexed importer for the inittab's modules, and record a report
 * (see below).  A static module whose init function cannot be found fails
 * before CPython is initialized (or, attaching, before anything changes).
 *
 * When neither program_name nor executable is set, program_name becomes the
 * running executable's real path (here and in embedcfg_fill_pyconfig):
 * CPython would otherwise search PATH for "python3" and honour a pyvenv.cfg
 * found beside it, so whoever controls PATH could redirect sys.prefix. */
int embedcfg_initialize(embedcfg_handle *h);

/* For hosts that own init (pybind11, PyO3, a hand-written main): preinitialize
 * with the handle's preconfig-level options, write the other options into
 * `config` (a PyConfig* the caller initialized with PyConfig_InitPythonConfig
 * or PyConfig_InitIsolatedConfig), find every static module's init function
 * and, with the "inittab" mechanism, register them.  The caller then calls
 * Py_InitializeFromConfig(config), PyConfig_Clear(config) and
 * embedcfg_install_static_modules(h), and frees the handle after that:
 *
 *     PyConfig_InitIsolatedConfig(&config);
 *     if (embedcfg_fill_pyconfig(h, &config) < 0) { ... }
 *     status = Py_InitializeFromConfig(&config);
 *     PyConfig_Clear(&config);
 *     if (PyStatus_Exception(status)) { ... }
 *     if (embedcfg_install_static_modules(h) < 0) { ... }
 *     embedcfg_free(h); */
int embedcfg_fill_pyconfig(embedcfg_handle *h, void *config);

/* After the host's own init (see embedcfg_fill_pyconfig): with the "indexed"
 * mechanism, install the indexed static importer over the handle's modules,
 * first on sys.meta_path, before any code imports them.  The importer copies
 * what it needs: the handle may be freed afterwards.  A no-op returning 0
 * with the "inittab" mechanism, without modules, or when already installed
 * (embedcfg_initialize installs it itself), so hosts can always call it.
 * Needs an initialized interpreter; takes the GIL itself.  0, or -1 with the
 * Python exception's message in the handle (the exception is cleared). */
int embedcfg_install_static_modules(embedcfg_handle *h);

/* Run the application (Py_RunMain) and return its exit code. */
int embedcfg_run_main(embedcfg_handle *h);

/* The attach report: one entry per document option, plus pycache. */
size_t embedcfg_attach_report_len(const embedcfg_handle *h);
/* Status of entry i; *name and *detail (may be NULL) point into the handle. */
int embedcfg_attach_report_item(const embedcfg_handle *h, size_t i,
                                const char **name, const char **detail);

/* Does "3.11.7" satisfy a requires_python specifier such as ">=3.9,<3.14"?
 * 1 yes, 0 no, -1 invalid specifier (message in err). */
int embedcfg_version_matches(const char *spec, int major, int minor, int micro,
                             char *err, size_t err_size);

#ifdef __cplusplus
}
#endif

#endif /* EMBEDCFG_H */
