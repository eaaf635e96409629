/* The boundary between the launcher and the shim library: what the
 * launcher calls, after it has loaded libpython and the shim library built
 * for that CPython minor with dlopen().  Both sides are built from the same
 * sources by the same `embedcfg build`, so the layouts agree. */

#ifndef EMBEDCFG_LAUNCH_API_H
#define EMBEDCFG_LAUNCH_API_H

#include <stddef.h>

#include "arena.h"
#include "embedcfg.h"
#include "onefile.h"

#ifdef __cplusplus
extern "C" {
#endif

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
int embedcfg__load_parsed(struct embedcfg_handle *h,
                          const struct embedcfg_json_value *doc,
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
    int (*load_parsed)(struct embedcfg_handle *,
                       const struct embedcfg_json_value *, const char *,
                       const char *);
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
    /* a one-file application's payload (onefile.h), before load_parsed;
     * it must stay mapped until the process exits */
    void (*set_payload)(struct embedcfg_handle *, const embedcfg_onefile *);
} embedcfg__launch_api_t;

void embedcfg__launch_api(embedcfg__launch_api_t *api);

#ifdef __cplusplus
}
#endif

#endif /* EMBEDCFG_LAUNCH_API_H */
