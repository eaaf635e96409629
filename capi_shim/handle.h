/* The handle of embedcfg.h as the shim's files share it: handle.c (errors,
 * the handle, setting options by name), modules.c (inittab entries and the
 * indexed static importer), document.c (a parsed document into a handle),
 * apply*.c (the handle into CPython) and attach.c (into a running one).
 * Include after Python.h. */

#ifndef EMBEDCFG_HANDLE_H
#define EMBEDCFG_HANDLE_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "embedcfg.h"
#include "option_spec.h"
#include "embedcfg_options.h"
#include "onefile.h"

#define ERROR_SIZE 1024

/* The static-module mechanism (document key static_modules). */
#define STATIC_AUTOMATIC 0   /* absent: indexed when embedded or from
                              * EMBEDCFG_INDEXED_THRESHOLD modules on */
#define STATIC_INITTAB 1     /* CPython's inittab, before init */
#define STATIC_INDEXED 2     /* the indexed importer, after init / on attach */

/* Option values.  Their strings are never freed one by one: they are kept
 * by the handle (or, for a document the launcher parsed, they are that
 * document's own strings) until embedcfg_free. */
typedef struct {
    int set;
    int64_t ival;        /* BOOL / INT kinds, and named ints (allocator) */
    char *str;           /* STR kind */
    char **list;         /* STR_LIST kind: the array is the value's own */
    size_t len;
} embedcfg_value;

typedef struct {
    char *name;          /* handed to CPython once in its inittab: never freed
                          * (the indexed importer copies it instead) */
    char *symbol;        /* NULL when init is given */
    char *library;       /* NULL: the host program */
    embedcfg_initfunc init;
} embedcfg_module;

typedef struct {
    const char *name;    /* option name (static) or "pycache" */
    int status;
    char *detail;
} embedcfg_report;

struct embedcfg__archive_item;  /* archive_importer.h */

struct embedcfg_handle {
    int python_profile;
    int embedded;
    int static_modules;      /* STATIC_AUTOMATIC, _INITTAB or _INDEXED */
    int static_installed;    /* the indexed importer is on sys.meta_path */
    char *origin;            /* see embedcfg__origin_of() */
    const char *exe;         /* the running executable, when the launcher has
                              * read it already (its own string) */
    int origin_known;
    char *config_dir;
    char *lib;
    char *requires_python;
    embedcfg_value values[EMBEDCFG_OPTION_COUNT];
    embedcfg__arena *mem;    /* where everything below is allocated: the
                              * launcher's arena, or NULL for malloc */
    char **kept;             /* the values' strings, freed by embedcfg_free */
    size_t n_kept;
    size_t cap_kept;
    int borrow;              /* loading a document that outlives the handle:
                              * its strings need no copy */
    embedcfg_module *modules;
    size_t n_modules;
    size_t cap_modules;
    embedcfg_report *report;
    size_t n_report;
    struct embedcfg__archive_item *archives;  /* the document's archives */
    size_t n_archives;
    /* The launcher's one-file payload (its archives and extension modules),
     * borrowed: mapped until the process exits; NULL otherwise. */
    const embedcfg_onefile *payload;
    int extensions_installed;
    int has_exit;
    int exitcode;
    /* The running libpython's version as (major << 16) | (minor << 8) | micro,
     * when the launcher has already read it (before 3.11 that means
     * formatting Py_GetVersion()'s banner); 0: read it here. */
    unsigned long running_version;
    char error[ERROR_SIZE];
};

/* --- handle.c ------------------------------------------------------------- */

/* Record a one-line error in the handle; returns -1. */
int embedcfg__fail(embedcfg_handle *h, const char *fmt, ...);
/* The same, as "during setting NAME: ..." */
int embedcfg__fail_option(embedcfg_handle *h, const char *name,
                          const char *fmt, ...);
/* The pending Python exception as the handle's error, cleared; -1. */
int embedcfg__fail_exception(embedcfg_handle *h, const char *during);
/* Take the pending Python exception, clearing it: its type name and str()
 * into the buffers ("" when there is none).  1 when str() gave a text. */
int embedcfg__take_exception(char *type_name, size_t type_size, char *msg,
                             size_t msg_size);

/* A handle whose memory comes from `mem` (NULL: malloc). */
embedcfg_handle *embedcfg__create_in(embedcfg__arena *mem);

/* The executable's directory for $ORIGIN (NULL when unknown). */
const char *embedcfg__origin_of(embedcfg_handle *h);

/* The option `name` may be set on this interpreter: its row, and its index
 * in *index; NULL (with the error recorded) otherwise. */
const embedcfg_spec *embedcfg__lookup(embedcfg_handle *h, const char *name,
                                      size_t *index);

/* The setters after embedcfg__lookup.  `from_doc`: the string comes from
 * the document parser (valid UTF-8 already, borrowed when the handle may;
 * a path in it may not use ${...}). */
int embedcfg__set_int_at(embedcfg_handle *h, const embedcfg_spec *spec,
                         size_t index, const char *name, int64_t value);
int embedcfg__set_str_at(embedcfg_handle *h, const embedcfg_spec *spec,
                         size_t index, const char *name, const char *value,
                         int from_doc);
int embedcfg__set_list_at(embedcfg_handle *h, const embedcfg_spec *spec,
                          size_t index, const char *name, size_t length,
                          const char *const *items, int append,
                          int from_doc);

/* The value of option `name` when it is set, else NULL. */
embedcfg_value *embedcfg__value_of(embedcfg_handle *h, const char *name);

/* --- modules.c ------------------------------------------------------------ */

/* Register an inittab entry; `path_flags` (paths.h) for `library`. */
int embedcfg__add_module(embedcfg_handle *h, const char *name,
                         embedcfg_initfunc init, const char *symbol,
                         const char *library, int path_flags);
/* The mechanism in effect is the indexed importer. */
int embedcfg__uses_indexed(const embedcfg_handle *h);
/* Find the init functions of modules registered by symbol. */
int embedcfg__resolve_modules(embedcfg_handle *h);
/* Install the indexed importer over the handle's modules (resolved
 * already); the caller holds the GIL. */
int embedcfg__install_static(embedcfg_handle *h);

/* --- attach.c ------------------------------------------------------------- */

void embedcfg__clear_report(embedcfg_handle *h);
/* Apply what can be applied to the running interpreter, with a report. */
int embedcfg__attach(embedcfg_handle *h);

#endif /* EMBEDCFG_HANDLE_H */
