/* Internal declarations shared by the shim library and the launcher.
 * Not installed for hosts: they include embedcfg.h only. */

#ifndef EMBEDCFG_INTERNAL_H
#define EMBEDCFG_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct embedcfg_handle;  /* embedcfg.h */

/* --- memory ------------------------------------------------------------ */

/* An arena: allocations carved one after the other from a region its
 * owner provides, each after a header with its size (so realloc can copy),
 * the latest one freed or grown in place, and malloc once the region is
 * full.  Freeing a pointer from outside the region calls free(), so memory
 * from either source is released the same way.
 *
 * Why: the launcher does all its work (read, parse, check, load the
 * handle, fill PyConfig) before CPython allocates anything.  Through
 * malloc, those blocks and the holes they leave stay in the heap the
 * interpreter then grows, and its ~1 000 start-up allocations cost more
 * (measured: 10-20 k instructions, changing with every allocation size).
 * In the launcher's own region the heap CPython starts with is untouched.
 * A NULL arena is malloc, realloc and free.  Not thread-safe. */
typedef struct {
    unsigned char *base;
    size_t size;
    size_t used;
    size_t last;  /* the latest allocation's header offset; (size_t)-1: none */
} embedcfg__arena;

void embedcfg__arena_init(embedcfg__arena *a, void *region, size_t size);
void *embedcfg__alloc(embedcfg__arena *a, size_t n);
void *embedcfg__realloc(embedcfg__arena *a, void *p, size_t n);
void embedcfg__free(embedcfg__arena *a, void *p);

/* The launcher's sources (built with EMBEDCFG_LAUNCHER) allocate in its
 * arena (launcher.c); the shim library's in malloc's heap, except what a
 * handle created in an arena owns. */
#ifdef EMBEDCFG_LAUNCHER
extern embedcfg__arena embedcfg__launch_arena;
#  define EMBEDCFG_MEMORY (&embedcfg__launch_arena)
#else
#  define EMBEDCFG_MEMORY NULL
#endif
#define EMBEDCFG_MALLOC(n) embedcfg__alloc(EMBEDCFG_MEMORY, (n))
#define EMBEDCFG_REALLOC(p, n) embedcfg__realloc(EMBEDCFG_MEMORY, (p), (n))
#define EMBEDCFG_FREE(p) embedcfg__free(EMBEDCFG_MEMORY, (p))

/* The option table's row type (rows: embedcfg_options.h, generated). */

typedef enum {
    EMBEDCFG_CT_BOOL,
    EMBEDCFG_CT_INT,
    EMBEDCFG_CT_UINT,
    EMBEDCFG_CT_ULONG,
    EMBEDCFG_CT_WSTR,
    EMBEDCFG_CT_WSTR_OPT,
    EMBEDCFG_CT_WSTR_LIST
} embedcfg_ctype;

typedef enum {
    EMBEDCFG_KIND_BOOL,
    EMBEDCFG_KIND_INT,
    EMBEDCFG_KIND_STR,
    EMBEDCFG_KIND_STR_LIST
} embedcfg_kind;

typedef enum {
    EMBEDCFG_ST_CONFIG,
    EMBEDCFG_ST_PRECONFIG,
    EMBEDCFG_ST_BOTH
} embedcfg_struct;

typedef enum {
    EMBEDCFG_VIS_PUBLIC,
    EMBEDCFG_VIS_READ_ONLY,
    EMBEDCFG_VIS_INIT_ONLY
} embedcfg_visibility;

typedef enum {
    EMBEDCFG_BUILD_NONE,
    EMBEDCFG_BUILD_WINDOWS,
    EMBEDCFG_BUILD_FREE_THREADED,
    EMBEDCFG_BUILD_DEBUG,
    EMBEDCFG_BUILD_STATS,
    EMBEDCFG_BUILD_MACOS
} embedcfg_build;

typedef struct {
    const char *name;
    int value;              /* C value (PyMemAllocatorName, or an index) */
    unsigned long since;    /* PY_VERSION_HEX of the first minor, 0: all */
} embedcfg_choice;

typedef struct {
    int64_t value;
    unsigned long since;
} embedcfg_value_since;

/* Offset of a member the compiled-for CPython does not have. */
#define EMBEDCFG_NO_MEMBER ((size_t)-1)

typedef struct {
    const char *name;
    embedcfg_ctype ctype;
    embedcfg_kind kind;
    embedcfg_struct where;
    embedcfg_visibility visibility;
    embedcfg_build build;
    unsigned long since;      /* PY_VERSION_HEX of the first minor */
    unsigned long removed;    /* first minor without it; 0: still there */
    int has_range;
    int64_t minimum;
    int64_t maximum;
    int n_also;               /* values allowed outside [minimum, maximum] */
    int64_t also[2];
    const embedcfg_choice *choices;          /* NULL-terminated, or NULL */
    const embedcfg_value_since *values_since; /* {0, 0}-terminated, or NULL */
    int path;                 /* a path: anchors expanded, must be absolute */
    const char *env;          /* the PYTHON* variable CPython reads for it, or NULL */
    size_t pre_offset;        /* offsetof(PyPreConfig, name) or NO_MEMBER */
    size_t cfg_offset;        /* offsetof(PyConfig, name) or NO_MEMBER */
} embedcfg_spec;

/* Helpers without a Python dependency (embedcfg_util.c). */

/* Format "3.11" from a PY_VERSION_HEX into buf. */
void embedcfg__format_minor(unsigned long hex, char *buf, size_t size);

/* Parse "3.11.7..." (Py_GetVersion) into numbers; -1 when it is not one. */
int embedcfg__parse_version(const char *text, int *major, int *minor,
                            int *micro);

/* Expand a leading $ORIGIN / $CONFIG_DIR (also ${...}) in `path`.
 * allow_name: a bare file name without '/' is accepted as is (dlopen
 * searches the system directories for it).  Returns a malloc'ed string, or
 * NULL with a message in err. */
char *embedcfg__expand_path(const char *path, const char *origin,
                            const char *config_dir, int allow_name,
                            char *err, size_t err_size);

/* embedcfg__expand_path with the result allocated in `a` (NULL: malloc). */
char *embedcfg__expand_path_in(embedcfg__arena *a, const char *path, const char *origin,
                               const char *config_dir, int allow_name,
                               char *err, size_t err_size);

/* embedcfg__expand_path without the copy: the expansion is *base followed
 * by *rest ("" and `path` itself when there is no anchor).  0, or -1 with a
 * message in err. */
int embedcfg__split_path(const char *path, const char *origin, const char *config_dir,
                         int allow_name, const char **base, const char **rest,
                         char *err, size_t err_size);

/* Directory of a file path (malloc'ed), made absolute with realpath when the
 * file exists.  NULL when out of memory. */
char *embedcfg__dirname_of(const char *path);

/* Path of the running executable (malloc'ed; the kernel's, so absolute and
 * without symbolic links), or NULL where the platform does not tell. */
char *embedcfg__exe_path(void);

/* Directory of the running executable (malloc'ed), or NULL. */
char *embedcfg__exe_dir(void);

/* Directory of `exe`, a path embedcfg__exe_path gave (malloc'ed), or NULL. */
char *embedcfg__exe_dir_of(const char *exe);

/* strdup, without relying on POSIX being enabled (the memory comes from
 * EMBEDCFG_MALLOC). */
char *embedcfg__strdup(const char *s);

/* strdup in `a` (NULL: malloc). */
char *embedcfg__strdup_in(embedcfg__arena *a, const char *s);

/* 1 when s[0:len] is valid UTF-8 (no overlongs, no surrogates). */
int embedcfg__valid_utf8(const char *s, size_t len);

/* Read a whole file of at most max_len bytes.  0 or -1 with err. */
int embedcfg__read_file(const char *path, size_t max_len, char **data,
                        size_t *len, char *err, size_t err_size);

/* Exported by the shim library for the launcher, which parses the document
 * once (it needs `lib` and the paths before libpython is loaded) and hands
 * the tree over instead of having the shim read and parse the file again.
 * Same as embedcfg_load_file(h, file) with the parsing done: `file` names
 * the document in errors; $CONFIG_DIR is `config_dir`, or the file's
 * directory when it is NULL.  Both sides are built from the same sources by
 * the same `embedcfg build`, so the tree layout agrees.  `doc` must stay
 * valid until embedcfg_free(h): the handle's values point into it instead
 * of copying its strings. */
struct embedcfg_json_value;
int embedcfg__load_parsed(struct embedcfg_handle *h, const struct embedcfg_json_value *doc,
                          const char *file, const char *config_dir);

/* Every entry point the launcher calls, handed over in one dlsym() of
 * embedcfg__launch_api instead of one per function (each dlsym is a hash
 * lookup through every loaded library, libpython's thousands of symbols
 * included).  Same sources, same build: the layout agrees on both sides. */
typedef struct {
    struct embedcfg_handle *(*create)(void);
    void (*free_)(struct embedcfg_handle *);
    const char *(*get_error)(const struct embedcfg_handle *);
    int (*get_exit_code)(const struct embedcfg_handle *, int *);
    int (*set_origin)(struct embedcfg_handle *, const char *);
    int (*load_parsed)(struct embedcfg_handle *, const struct embedcfg_json_value *,
                       const char *, const char *);
    int (*has_option)(const struct embedcfg_handle *, const char *);
    int (*append_strlist)(struct embedcfg_handle *, const char *, size_t,
                          const char *const *);
    int (*initialize)(struct embedcfg_handle *);
    int (*run_main)(struct embedcfg_handle *);
    unsigned long (*version_hex)(void);
    void (*set_running_version)(struct embedcfg_handle *, int, int, int);
    /* create, with everything the handle owns in the arena */
    struct embedcfg_handle *(*create_in)(embedcfg__arena *);
    /* the running executable's path, which must outlive the handle */
    void (*set_executable)(struct embedcfg_handle *, const char *);
} embedcfg__launch_api_t;

void embedcfg__launch_api(embedcfg__launch_api_t *api);

#ifdef __cplusplus
}
#endif

#endif /* EMBEDCFG_INTERNAL_H */
