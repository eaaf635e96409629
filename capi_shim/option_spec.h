/* The option table's row type and its enums: the rows are generated from
 * embedcfg/options.py into embedcfg_options.h, which is included after
 * this header (and after Python.h, for the member offsets).  The enums
 * follow options.py's (embedcfg._ctable checks they still do). */

#ifndef EMBEDCFG_OPTION_SPEC_H
#define EMBEDCFG_OPTION_SPEC_H

#include <stddef.h>
#include <stdint.h>

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
    const char *env; /* the PYTHON* variable CPython reads for it, or NULL */
    size_t pre_offset;        /* offsetof(PyPreConfig, name) or NO_MEMBER */
    size_t cfg_offset;        /* offsetof(PyConfig, name) or NO_MEMBER */
} embedcfg_spec;

#endif /* EMBEDCFG_OPTION_SPEC_H */
