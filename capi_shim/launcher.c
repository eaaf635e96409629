/* embedcfg-launch [--config-dir DIR] DOCUMENT [args...]: run an application
 * from a document.  $CONFIG_DIR is the document's directory, or DIR (an
 * absolute path) when given: `embedcfg run` writes the canonical form of a
 * document to a private temporary directory and names the original one.
 *
 * The launcher is not linked against libpython.  It reads the document's
 * `lib` and `requires_python` with the parser alone, dlopen()s that libpython
 * with RTLD_GLOBAL, checks its version against the CPython minor this
 * launcher (and its shim library) was built for and against requires_python,
 * then loads the shim library built for that minor, whose Python symbols
 * resolve against the libpython already loaded.  A configuration error exits
 * 78 (EX_CONFIG) with one line "embedcfg: error: ..." on stderr, before the
 * interpreter is touched; otherwise the exit code is Py_RunMain()'s.
 *
 * Built with EMBEDCFG_STATIC_PYTHON (`embedcfg build --link static`), the
 * launcher is linked with the target's static libpython and the shim's
 * sources instead: nothing is loaded, and the document's `lib` may only name
 * a library of the CPython minor linked in (it is not used).  Only the
 * loading step, load_interpreter(), differs between the two.
 *
 * Under another file name than embedcfg-launch* the launcher is an
 * application's program: it runs NAME.json beside itself (embedcfg bundle)
 * and gives every argument to the application.  The static launcher first
 * looks for a one-file payload at the end of its own file (embedcfg bundle
 * --onefile, onefile.h): with one, it runs the document inside and hands
 * the payload's archives and extension modules to the shim.
 *
 * Build-time definitions (embedcfg.build passes them):
 *   EMBEDCFG_TARGET_HEX   PY_VERSION_HEX of the headers the shim was built with
 *   EMBEDCFG_DEFAULT_LIB  the libpython of that interpreter
 *   EMBEDCFG_SHIM_NAME    file name of the shim library, next to the launcher
 *   EMBEDCFG_STATIC_PYTHON  the interpreter and the shim are linked in
 *   EMBEDCFG_LIB_STEM     with it: the start of the linked CPython's library
 *                         names, "libpython3.11" (then ".so..." or ".a") */

#if !defined(_XOPEN_SOURCE)
#  define _XOPEN_SOURCE 700
#endif

#include "arena.h"
#include "archive.h"
#include "embedcfg.h"
#include "embedcfg_document.h"
#include "jsonparse.h"
#include "launch_api.h"
#include "onefile.h"
#include "paths.h"
#include "pathsec.h"
#include "version.h"

#ifndef EMBEDCFG_STATIC_PYTHON
#  include <dlfcn.h>
#endif
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef EMBEDCFG_TARGET_HEX
#  error "define EMBEDCFG_TARGET_HEX (embedcfg.build does)"
#endif
#ifndef EMBEDCFG_DEFAULT_LIB
#  error "define EMBEDCFG_DEFAULT_LIB (embedcfg.build does)"
#endif
#ifndef EMBEDCFG_SHIM_NAME
#  define EMBEDCFG_SHIM_NAME "libembedcfg.so"
#endif
#if defined(EMBEDCFG_STATIC_PYTHON) && !defined(EMBEDCFG_LIB_STEM)
#  error "define EMBEDCFG_LIB_STEM (embedcfg.build does)"
#endif

/* The libpython the path checks look at when the document has no `lib`:
 * none when the interpreter is linked in, as nothing is loaded. */
#ifdef EMBEDCFG_STATIC_PYTHON
#  define LOADED_DEFAULT_LIB ""
#else
#  define LOADED_DEFAULT_LIB EMBEDCFG_DEFAULT_LIB
#endif

#define EX_USAGE_ 64

typedef embedcfg__launch_api_t shim_api;

/* Everything the launcher and its handle allocate before CPython starts
 * (see embedcfg__arena): the benchmark's typical document takes 36 KB; a
 * larger one goes on in malloc.  Zero pages until used. */
static uint64_t launch_region[256 * 1024 / sizeof(uint64_t)];
embedcfg__arena embedcfg__launch_arena;

typedef struct {
    char message[2048];
} launch_error;

static int
config_error(launch_error *e, const char *fmt, ...)
{
    va_list ap;
    char *p;

    va_start(ap, fmt);
    vsnprintf(e->message, sizeof(e->message), fmt, ap);
    va_end(ap);
    for (p = e->message; *p != '\0'; p++) {
        if (*p == '\n' || *p == '\r') {
            *p = ' ';
        }
    }
    return -1;
}

/* EMBEDCFG_ALLOW_INSECURE_PATHS=1 turns the path checks off: for development
 * trees only (documented in docs/explanation/security.rst). */
static int
allow_insecure_paths(void)
{
    const char *v = getenv("EMBEDCFG_ALLOW_INSECURE_PATHS");

    return v != NULL && strcmp(v, "1") == 0;
}

/* Whether `dir`/`name` exists. */
static int
exists_in(const char *dir, const char *name)
{
    size_t ld = strlen(dir);
    size_t ln = strlen(name);
    char *path = (char *)EMBEDCFG_MALLOC(ld + ln + 2);
    struct stat st;
    int found;

    if (path == NULL) {
        return 1;  /* no memory: not this check's to report */
    }
    memcpy(path, dir, ld);
    path[ld] = '/';
    memcpy(path + ld + 1, name, ln + 1);
    found = stat(path, &st) == 0;
    EMBEDCFG_FREE(path);
    return found;
}

/* Whether the document's `archives`, or those of the one-file `payload`
 * (NULL: none), provide the standard library: a "before_path" one
 * (installed before init imports encodings) packed with --stdlib, by its
 * header.  One that cannot be read or expanded counts, as the shim refuses
 * it with the reason (EC700, EC701) when it loads it. */
static int
stdlib_archive(const embedcfg_json_value *doc, const char *origin,
               const char *config_dir, const embedcfg_onefile *payload)
{
    const embedcfg_json_value *list = embedcfg_json_object_get(doc,
                                                               "archives");
    size_t i;
    uint32_t k;

    for (k = 0; payload != NULL && k < payload->n_sections; k++) {
        embedcfg_onefile_section s;
        uint32_t flags = 0;

        embedcfg_onefile_section_at(payload, k, &s);
        if (s.kind == EMBEDCFG_ONEFILE_ARCHIVE
            && !(s.flags & EMBEDCFG_ONEFILE_AFTER_PATH)
            && (embedcfg_archive_flags_of(s.bytes, s.size, &flags) < 0
                || (flags & EMBEDCFG_ARCHIVE_STDLIB))) {
            return 1;
        }
    }

    for (i = 0; i < embedcfg_json_array_len(list); i++) {
        const embedcfg_json_value *item = embedcfg_json_array_item(list, i);
        const embedcfg_json_value *path = embedcfg_json_object_get(item,
                                                                   "path");
        const embedcfg_json_value *pos = embedcfg_json_object_get(item,
                                                                  "position");
        const char *p = embedcfg_json_string_value(pos, NULL);
        char err[512];
        char *file;
        uint32_t flags = 0;
        int readable;

        if (p != NULL && strcmp(p, "after_path") == 0) {
            continue;
        }
        if (embedcfg_json_type_of(path) != EMBEDCFG_JSON_STRING) {
            return 1;  /* the loader's to report */
        }
        file = embedcfg__expand_path(EMBEDCFG_MEMORY,
                                     embedcfg_json_string_value(path, NULL),
                                     origin, config_dir, 0, err, sizeof(err));
        if (file == NULL) {
            return 1;
        }
        readable = embedcfg_archive_peek_flags(file, &flags) == 0;
        EMBEDCFG_FREE(file);
        if (!readable || (flags & EMBEDCFG_ARCHIVE_STDLIB)) {
            return 1;
        }
    }
    return 0;
}

/* A module search path that no entry can import the standard library's
 * encodings package from: CPython imports it first and fails during init
 * ("Failed to import encodings module") after the host has done its work.
 * Refused here, located, with the fix.  A directory must hold
 * encodings/__init__.py(c); a zip (EMBEDCFG_ARCHIVE_SUFFIXES) is accepted
 * without looking inside, and so is an archive of the document (or of the
 * one-file payload) packed with the standard library.  An entry that cannot
 * be expanded is the document loader's to report, so the check then stands
 * aside. */
static int
check_stdlib(const char *path, const embedcfg_json_value *doc,
             const char *origin, const char *config_dir,
             const char *lib, const embedcfg_onefile *payload,
             launch_error *e)
{
    static const char *const suffixes[] = {EMBEDCFG_ARCHIVE_SUFFIXES};
    const embedcfg_json_value *opts = embedcfg_json_object_get(doc, "options");
    const embedcfg_json_value *list;
    const embedcfg_json_value *set;
    const char *slash;
    char archives[64];
    char example[1024];
    char err[512];
    size_t used = 0;
    size_t i;
    size_t k;
    int minor = (int)(((unsigned long)EMBEDCFG_TARGET_HEX >> 16) & 0xff);

    list = embedcfg_json_object_get(opts, "module_search_paths");
    set = embedcfg_json_object_get(opts, "module_search_paths_set");
    if (embedcfg_json_type_of(list) != EMBEDCFG_JSON_ARRAY
        || (embedcfg_json_type_of(set) == EMBEDCFG_JSON_BOOL
            && !embedcfg_json_bool_value(set))) {
        return 0;  /* CPython computes the path (or the loader refuses) */
    }
    for (i = 0; i < embedcfg_json_array_len(list); i++) {
        const embedcfg_json_value *item = embedcfg_json_array_item(list, i);
        size_t len;
        const char *value = embedcfg_json_string_value(item, &len);
        char *dir;
        int found;

        if (embedcfg_json_type_of(item) != EMBEDCFG_JSON_STRING) {
            return 0;
        }
        for (k = 0; suffixes[k] != NULL; k++) {
            size_t n = strlen(suffixes[k]);

            if (len >= n && memcmp(value + len - n, suffixes[k], n) == 0) {
                return 0;
            }
        }
        dir = embedcfg__expand_path(EMBEDCFG_MEMORY, value, origin,
                                    config_dir, 0, err, sizeof(err));
        if (dir == NULL) {
            return 0;
        }
        found = exists_in(dir, "encodings/__init__.py")
                || exists_in(dir, "encodings/__init__.pyc");
        EMBEDCFG_FREE(dir);
        if (found) {
            return 0;
        }
    }
    if (stdlib_archive(doc, origin, config_dir, payload)) {
        return 0;
    }
    archives[0] = '\0';
    for (k = 0; suffixes[k] != NULL; k++) {
        int n = snprintf(archives + used, sizeof(archives) - used, "%s%s",
                         k == 0 ? "" : suffixes[k + 1] == NULL ? " or " : ", ",
                         suffixes[k]);

        if (n > 0 && (size_t)n < sizeof(archives) - used) {
            used += (size_t)n;
        }
    }
    slash = strrchr(lib, '/');
    if (slash != NULL) {
        snprintf(example, sizeof(example), "%.*s/python3.%d",
                 (int)(slash - lib), lib, minor);
    }
    else {
        snprintf(example, sizeof(example), "<prefix>/lib/python3.%d", minor);
    }
    return config_error(e,
                        "%s: options.module_search_paths: no entry provides "
                        "the standard library's encodings package, which "
                        "CPython imports first (no directory with "
                        "encodings/__init__.py or encodings/__init__.pyc, no "
                        "%s archive, no archives entry packed with "
                        "--stdlib); add the standard library directory, "
                        "e.g. %s", path, archives, example);
}

/* `lib`, `requires_python` and `embedded` of the document, without Python.
 * The document is the file `path`, or the document section of the one-file
 * `payload` (then `path` names the executable in messages).
 * *config_dir_out receives the document's directory when it was worked
 * out (else NULL), for the shim: realpath() once, not twice. */
static int
read_head(const char *path, const embedcfg_onefile *payload,
          const char *origin, const char *config_dir_arg,
          embedcfg_json_value **parsed, char **lib, char **requires,
          int *embedded, char **config_dir_out, launch_error *e)
{
    char *data = NULL;
    const char *text;
    size_t len = 0;
    char err
        [2048]; /* path-security messages name a path, owner, mode and fix */
    embedcfg_json_value *doc = NULL;
    embedcfg_json_error jerr;
    const embedcfg_json_value *v;
    char *config_dir = NULL;
    int rc = -1;

    *lib = NULL;
    *requires = NULL;
    *embedded = 0;
    if (payload != NULL) {
        embedcfg_onefile_section s;

        embedcfg_onefile_document(payload, &s);
        text = (const char *)s.bytes;
        len = s.size;
    }
    else if (embedcfg__read_file(path, EMBEDCFG_JSON_MAX_DOCUMENT_SIZE, &data,
                                 &len, err, sizeof(err)) < 0) {
        config_error(e, "%s", err);
        goto done;
    }
    else {
        text = data;
    }
    memset(&jerr, 0, sizeof(jerr));
    if (embedcfg_json_parse(text, len, EMBEDCFG_JSON_MAX_DOCUMENT_SIZE, &doc,
                            &jerr) < 0) {
        config_error(e, "%s: invalid document at line %lu, column %lu: %s",
                     path, (unsigned long)jerr.line,
                     (unsigned long)jerr.column, jerr.message);
        goto done;
    }
    v = embedcfg_json_object_get(doc, "embedded");
    *embedded = embedcfg_json_type_of(v) == EMBEDCFG_JSON_BOOL
                && embedcfg_json_bool_value(v);
    v = embedcfg_json_object_get(doc, "requires_python");
    if (v != NULL) {
        if (embedcfg_json_type_of(v) != EMBEDCFG_JSON_STRING) {
            config_error(e, "%s: requires_python: expected a string", path);
            goto done;
        }
        *requires = EMBEDCFG_STRDUP(embedcfg_json_string_value(v, NULL));
        if (*requires == NULL) {
            config_error(e, "out of memory");
            goto done;
        }
    }
    v = embedcfg_json_object_get(doc, "lib");
    if (v == NULL) {
        *lib = EMBEDCFG_STRDUP(EMBEDCFG_DEFAULT_LIB);
        if (*lib == NULL) {
            config_error(e, "out of memory");
            goto done;
        }
    }
    else {
        if (embedcfg_json_type_of(v) != EMBEDCFG_JSON_STRING) {
            config_error(e, "%s: lib: expected a string", path);
            goto done;
        }
        config_dir = config_dir_arg != NULL
                     ? EMBEDCFG_STRDUP(config_dir_arg)
                     : embedcfg__dirname_of(path);
        *lib = embedcfg__expand_path(EMBEDCFG_MEMORY,
                                     embedcfg_json_string_value(v, NULL),
                                     origin, config_dir, EMBEDCFG_PATH_NAME,
                                     err, sizeof(err));
        if (*lib == NULL) {
            config_error(e, "%s: lib: %s", path, err);
            goto done;
        }
    }
    /* Paths that other users can write to (or a planted pyvenv.cfg) would
     * let them run code in this process: refuse before anything is loaded.
     * Only stat() calls, so this costs next to nothing. */
    if (!allow_insecure_paths()) {
        if (config_dir == NULL) {
            config_dir = config_dir_arg != NULL
                         ? EMBEDCFG_STRDUP(config_dir_arg)
                         : embedcfg__dirname_of(path);
        }
        if (embedcfg_pathsec_check_document(doc, origin, config_dir,
                                            LOADED_DEFAULT_LIB, err,
                                            sizeof(err)) < 0) {
            config_error(e, "%s", err);
            goto done;
        }
    }
    if (!*embedded) {  /* embedded: refused for that, in main */
        if (config_dir == NULL) {
            config_dir = config_dir_arg != NULL
                         ? EMBEDCFG_STRDUP(config_dir_arg)
                         : embedcfg__dirname_of(path);
        }
        if (check_stdlib(path, doc, origin, config_dir, *lib, payload, e)
            < 0) {
            goto done;
        }
    }
    rc = 0;
    *parsed = doc;  /* the shim applies this tree: the file is parsed once */
    doc = NULL;
    *config_dir_out = config_dir;
    config_dir = NULL;

done:
    embedcfg_json_free(doc);
    EMBEDCFG_FREE(data);
    EMBEDCFG_FREE(config_dir);
    return rc;
}

/* requires_python against the version that will run, `subject` in the
 * message ("lib: /usr/lib/libpython3.11.so.1.0", "the linked CPython"). */
static int
check_requires(const char *subject, const char *requires,
               const int version[3], launch_error *e)
{
    char err[256];
    int r;

    if (requires == NULL) {
        return 0;
    }
    r = embedcfg_version_matches(requires, version[0], version[1],
                                 version[2], err, sizeof(err));
    if (r < 0) {
        return config_error(e, "requires_python: %s", err);
    }
    if (r == 0) {
        return config_error(e,
                            "%s is CPython %d.%d.%d, which does not "
                            "satisfy requires_python '%s'", subject,
                            version[0], version[1], version[2], requires);
    }
    return 0;
}

#ifdef EMBEDCFG_STATIC_PYTHON

/* With the interpreter linked in, `lib` is not loaded.  A document that
 * names the linked minor's library (libpython3.11.so.1.0, a path to it, the
 * static libpython3.11.a) runs the same under either launcher; any other
 * was written for another interpreter than the one that would run it. */
static int
check_static_lib(const char *document, const char *lib, launch_error *e)
{
    static const char stem[] = EMBEDCFG_LIB_STEM;
    const char *slash = strrchr(lib, '/');
    const char *base = slash != NULL ? slash + 1 : lib;
    char want[16];
    char named[64];
    char other[160];
    int major;
    int minor;

    if (strncmp(base, stem, sizeof(stem) - 1) == 0
        && base[sizeof(stem) - 1] == '.') {
        return 0;
    }
    embedcfg__format_minor((unsigned long)EMBEDCFG_TARGET_HEX, want,
                           sizeof(want));
    other[0] = '\0';
    if (sscanf(base, "libpython%d.%d", &major, &minor) == 2) {
        snprintf(named, sizeof(named), "a CPython %d.%d library", major,
                 minor);
        snprintf(other, sizeof(other),
                 ", or build a static launcher for CPython %d.%d (embedcfg "
                 "build --link static --python python%d.%d)", major, minor,
                 major, minor);
    }
    else {
        snprintf(named, sizeof(named), "not a CPython %s library", want);
    }
    return config_error(e,
                        "%s: lib: %s is %s, but this launcher has CPython %s "
                        "linked in (embedcfg build --link static), which "
                        "would run instead; remove lib or set it to the "
                        "CPython %s library (%s.so)%s", document, lib, named,
                        want, want, stem, other);
}

/* The shim's entry points and the version of the interpreter linked in;
 * `lib` checked as check_static_lib says, when the document gives one. */
static int
load_interpreter(const char *document, const embedcfg_json_value *doc,
                 const char *lib, const char *requires, const char *origin,
                 int version[3], shim_api *api, launch_error *e)
{
    unsigned long hex;

    (void)origin;
    embedcfg__launch_api(api);
    hex = api->version_hex();
    version[0] = (int)((hex >> 24) & 0xFFUL);
    version[1] = (int)((hex >> 16) & 0xFFUL);
    version[2] = (int)((hex >> 8) & 0xFFUL);
    if (embedcfg_json_object_get(doc, "lib") != NULL
        && check_static_lib(document, lib, e) < 0) {
        return -1;
    }
    return check_requires("the linked CPython", requires, version, e);
}

#else  /* !EMBEDCFG_STATIC_PYTHON */

static int
load_shim(const char *path, shim_api *api, launch_error *e)
{
    void *lib = dlopen(path, RTLD_LAZY | RTLD_LOCAL);
    void *sym;
    void (*get_api)(shim_api *);

    if (lib == NULL) {
        const char *why = dlerror();

        return config_error(e, "cannot load the shim library %s: %s", path,
                            why != NULL ? why : "unknown error");
    }
    /* never dlclose'd: the interpreter runs its code until exit */
    sym = dlsym(lib, "embedcfg__launch_api");
    if (sym == NULL) {
        return config_error(e,
                            "%s has no symbol %s: not an embedcfg shim "
                            "library", path, "embedcfg__launch_api");
    }
    memcpy(&get_api, &sym, sizeof(get_api));
    get_api(api);
    return 0;
}

/* Load libpython and check its version; before any Python code runs.  The
 * version goes to *version as (major, minor, micro) for the shim. */
static int
load_python(const char *lib, const char *requires, int version[3],
            launch_error *e)
{
    void *handle;
    void *sym;
    const char *(*get_version)(void);
    int major;
    int minor;
    int micro;
    char want[16];
    char subject[1024];

    if (lib[0] == '\0') {
        return config_error(e,
                            "lib: the CPython this launcher was built for has "
                            "no shared libpython; set lib to one");
    }
    handle = dlopen(lib, RTLD_LAZY | RTLD_GLOBAL);
    if (handle == NULL) {
        const char *why = dlerror();

        return config_error(e, "lib: cannot load %s: %s", lib,
                            why != NULL ? why : "unknown error");
    }
    /* Py_Version (3.11+) is PY_VERSION_HEX as data; Py_GetVersion, the only
     * way before, formats its whole banner with snprintf on every call.  A
     * launcher built for an older minor accepts only a library without
     * Py_Version: it asks Py_GetVersion at once rather than pay for a
     * failed lookup through every loaded library first. */
    sym = NULL;
    if (EMBEDCFG_TARGET_HEX >= 0x030B0000) {
        sym = dlsym(handle, "Py_Version");
    }
    if (sym != NULL) {
        unsigned long hex;

        memcpy(&hex, sym, sizeof(hex));
        major = (int)((hex >> 24) & 0xFFUL);
        minor = (int)((hex >> 16) & 0xFFUL);
        micro = (int)((hex >> 8) & 0xFFUL);
    }
    else {
        sym = dlsym(handle, "Py_GetVersion");
        if (sym == NULL) {
            return config_error(e,
                                "lib: %s is not a libpython (no "
                                "Py_GetVersion)", lib);
        }
        memcpy(&get_version, &sym, sizeof(get_version));
        if (embedcfg__parse_version(get_version(), &major, &minor,
                                    &micro) < 0) {
            return config_error(e, "lib: cannot read the version of %s", lib);
        }
    }
    version[0] = major;
    version[1] = minor;
    version[2] = micro;
    if ((unsigned long)major != ((unsigned long)EMBEDCFG_TARGET_HEX >> 24)
        || (unsigned long)minor
           != (((unsigned long)EMBEDCFG_TARGET_HEX >> 16) & 0xFFUL)) {
        /* formatted (snprintf) only for the message */
        embedcfg__format_minor((unsigned long)EMBEDCFG_TARGET_HEX, want,
                               sizeof(want));
        return config_error(e,
                            "lib: %s is CPython %d.%d.%d, but this launcher "
                            "is built for CPython %s; build one for it "
                            "(embedcfg build --python python%d.%d) or point "
                            "lib at a CPython %s library", lib, major, minor,
                            micro, want, major, minor, want);
    }
    if (requires == NULL) {
        return 0;
    }
    snprintf(subject, sizeof(subject), "lib: %s", lib);
    return check_requires(subject, requires, version, e);
}

/* Load `lib` (load_python), then the shim library built for it, which sits
 * next to the launcher in `origin`, and take its entry points. */
static int
load_interpreter(const char *document, const embedcfg_json_value *doc,
                 const char *lib, const char *requires, const char *origin,
                 int version[3], shim_api *api, launch_error *e)
{
    size_t size = strlen(origin) + sizeof("/" EMBEDCFG_SHIM_NAME);
    char *shim_path;
    int rc;

    (void)document;
    (void)doc;
    if (load_python(lib, requires, version, e) < 0) {
        return -1;
    }
    shim_path = (char *)EMBEDCFG_MALLOC(size);
    if (shim_path == NULL) {
        return config_error(e, "out of memory");
    }
    snprintf(shim_path, size, "%s/%s", origin, EMBEDCFG_SHIM_NAME);
    rc = load_shim(shim_path, api, e);
    if (rc == 0
        && (api->version_hex() >> 16)
           != ((unsigned long)EMBEDCFG_TARGET_HEX >> 16)) {
        rc = config_error(e,
                          "%s is built for another CPython than this "
                          "launcher", shim_path);
    }
    EMBEDCFG_FREE(shim_path);
    return rc;
}

#endif  /* EMBEDCFG_STATIC_PYTHON */


/* The launcher under another file name than embedcfg-launch* (a copy or
 * hard link named after an application: `embedcfg bundle` makes bin/NAME)
 * runs the document NAME.json beside itself, and passes every argument to
 * the application; NULL for the launcher's own names.  A symbolic link is
 * no other name: the running executable's real path is what counts. */
static char *
application_document(const char *exe, const char *origin)
{
    const char *slash = strrchr(exe, '/');
    const char *name = slash != NULL ? slash + 1 : exe;
    size_t size;
    char *doc;

    if (strncmp(name, "embedcfg-launch", 15) == 0) {
        return NULL;
    }
    size = strlen(origin) + 1 + strlen(name) + sizeof(".json");
    doc = (char *)EMBEDCFG_MALLOC(size);
    if (doc != NULL) {
        snprintf(doc, size, "%s/%s.json", origin, name);
    }
    return doc;
}

int
main(int argc, char **argv)
{
    launch_error e;
    char *exe = NULL;
    char *origin = NULL;
    char *lib = NULL;
    char *requires = NULL;
    int embedded = 0;
    embedcfg_json_value *doc = NULL;
    shim_api api;
    embedcfg_handle *h = NULL;
    int code = EMBEDCFG_EXIT_CONFIG;
    int exit_code = 0;
    const char *config_dir = NULL;
    char *doc_dir = NULL;  /* config_dir, or the document's directory */
    const char *document = NULL;
    char *app_document = NULL;
    int first = 1;  /* argv index of the document */
    int version[3] = {0, 0, 0};
    embedcfg_onefile payload;  /* mapped until the process exits */
    const embedcfg_onefile *onefile = NULL;

    embedcfg__arena_init(&embedcfg__launch_arena, launch_region,
                         sizeof(launch_region));
    memset(&e, 0, sizeof(e));
    memset(&api, 0, sizeof(api));
    memset(&payload, 0, sizeof(payload));
    exe = embedcfg__exe_path();
    origin = exe != NULL ? embedcfg__exe_dir_of(exe) : NULL;
    if (origin == NULL) {
        config_error(&e, "cannot tell the launcher's directory");
        goto done;
    }
    app_document = application_document(exe, origin);
#ifdef EMBEDCFG_STATIC_PYTHON
    if (app_document != NULL) {
        /* a one-file application carries its document (embedcfg bundle
         * --onefile): the payload at the end of this very file */
        char err[1024];
        int r = embedcfg_onefile_open(&payload, exe, err, sizeof(err));

        if (r < 0) {
            config_error(&e, "%s", err);
            goto done;
        }
        if (r == 1) {
            onefile = &payload;
            EMBEDCFG_FREE(app_document);
            app_document = EMBEDCFG_STRDUP(exe);  /* names it in messages */
            if (app_document == NULL) {
                config_error(&e, "out of memory");
                goto done;
            }
        }
    }
#endif
    if (app_document != NULL) {
        /* an application's program: every argument is the application's */
        document = app_document;
        first = 0;
        if (onefile == NULL && access(app_document, F_OK) != 0) {
            config_error(&e,
                         "%s: no document to run: a program named after its "
                         "application runs %s beside it (embedcfg bundle) or "
                         "the one carried at its end (embedcfg bundle "
                         "--onefile, a static launcher), and there is "
                         "neither; rebuild it with embedcfg bundle", exe,
                         app_document);
            goto done;
        }
    }
    else if (argc >= 2 && strcmp(argv[1], "--config-dir") == 0) {
        if (argc < 4 || argv[2][0] != '/') {
            fprintf(stderr,
                    "embedcfg-launch: --config-dir takes an absolute "
                    "directory, then the document\n");
            return EX_USAGE_;
        }
        config_dir = argv[2];
        first = 3;
    }
    if (app_document == NULL && argc <= first) {
        fprintf(stderr,
                "usage: embedcfg-launch [--config-dir DIR] DOCUMENT "
                "[args...]\n");
        return EX_USAGE_;
    }
    if (app_document == NULL) {
        document = argv[first];
    }
    if (onefile != NULL) {
        config_dir = origin;  /* $CONFIG_DIR: the executable's directory */
    }
    if (read_head(document, onefile, origin, config_dir, &doc, &lib,
                  &requires, &embedded, &doc_dir, &e) < 0) {
        goto done;
    }
    if (embedded) {
        config_error(&e,
                     "%s: embedded = true attaches to a running interpreter; "
                     "the launcher starts one (set embedded = false)",
                     document);
        goto done;
    }
    if (load_interpreter(document, doc, lib, requires, origin, version,
                         &api, &e) < 0) {
        goto done;
    }
    h = api.create_in(&embedcfg__launch_arena);
    if (h == NULL) {
        config_error(&e, "out of memory");
        goto done;
    }
    api.set_running_version(h, version[0], version[1], version[2]);
    api.set_executable(h, exe);
    if (onefile != NULL) {
        api.set_payload(h, onefile);
    }
    /* both NULL: the shim works the document's directory out itself */
    if (api.set_origin(h, origin) < 0
        || api.load_parsed(h, doc, document,
                           doc_dir != NULL ? doc_dir : config_dir) < 0) {
        config_error(&e, "%s", api.get_error(h));
        goto done;
    }
    /* the handle's values point into doc: it is freed after the handle */
    if (argc > first + 1) {
        /* the command line's arguments follow the document's argv */
        if (!api.has_option(h, "argv")
            && api.append_strlist(h, "argv", 1,
                                  (const char *const *)argv) < 0) {
            config_error(&e, "%s", api.get_error(h));
            goto done;
        }
        if (api.append_strlist(h, "argv", (size_t)(argc - first - 1),
                               (const char *const *)(argv + first + 1)) < 0) {
            config_error(&e, "%s", api.get_error(h));
            goto done;
        }
    }
    if (api.initialize(h) < 0) {
        if (api.get_exit_code(h, &exit_code)) {
            code = exit_code;  /* parse_argv: --help is 0, a bad option 2 */
        }
        else {
            config_error(&e, "%s", api.get_error(h));
        }
        goto done;
    }
    code = api.run_main(h);

done:
    if (e.message[0] != '\0') {
        fprintf(stderr, "embedcfg: error: %s\n", e.message);
        code = EMBEDCFG_EXIT_CONFIG;
    }
    if (h != NULL) {
        api.free_(h);
    }
    embedcfg_json_free(doc); /* after the handle, whose values point into it */
    EMBEDCFG_FREE(requires);
    EMBEDCFG_FREE(lib);
    EMBEDCFG_FREE(app_document);
    EMBEDCFG_FREE(origin);
    EMBEDCFG_FREE(exe);  /* after the handle, which may point at it */
    EMBEDCFG_FREE(doc_dir);
    embedcfg_onefile_close(&payload);  /* after the interpreter is gone */
    return code;
}
