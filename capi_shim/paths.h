/* Paths and files before Python: the one parser of the $ORIGIN and
 * $CONFIG_DIR anchors (the shim, the launcher and its path checks all
 * expand through it), the executable's and a document's directories, and
 * reading a document.  No Python dependency. */

#ifndef EMBEDCFG_PATHS_H
#define EMBEDCFG_PATHS_H

#include <stddef.h>

#include "arena.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Flags of embedcfg__split_path. */
/* A bare file name without '/' is accepted as is (dlopen searches the
 * system directories for it): lib and inittab libraries. */
#define EMBEDCFG_PATH_NAME 1
/* ${ORIGIN} and ${CONFIG_DIR} are accepted for $ORIGIN and $CONFIG_DIR:
 * the C setters of embedcfg.h document it.  A document may not use them
 * (embedcfg validate's EC401), and the message gives the same fix. */
#define EMBEDCFG_PATH_BRACES 2

/* Split `path` into its anchor's directory and the rest: the expansion is
 * *base followed by *rest ("" and `path` itself when there is no anchor).
 * 0, or -1 with a one-line message in err that starts with the path
 * quoted. */
int embedcfg__split_path(const char *path, const char *origin,
                         const char *config_dir, int flags,
                         const char **base, const char **rest,
                         char *err, size_t err_size);

/* embedcfg__split_path's expansion as one string allocated in `a` (NULL:
 * malloc), or NULL with a message in err. */
char *embedcfg__expand_path(embedcfg__arena *a, const char *path,
                            const char *origin, const char *config_dir,
                            int flags, char *err, size_t err_size);

/* Directory of a file path (from EMBEDCFG_MALLOC), made absolute with
 * realpath when the file exists.  NULL when out of memory. */
char *embedcfg__dirname_of(const char *path);

/* Path of the running executable (from EMBEDCFG_MALLOC; the kernel's, so
 * absolute and without symbolic links), or NULL where the platform does
 * not tell. */
char *embedcfg__exe_path(void);

/* Directory of the running executable (from EMBEDCFG_MALLOC), or NULL. */
char *embedcfg__exe_dir(void);

/* Directory of `exe`, a path embedcfg__exe_path gave (from
 * EMBEDCFG_MALLOC), or NULL. */
char *embedcfg__exe_dir_of(const char *exe);

/* Read a whole file of at most max_len bytes into *data (from
 * EMBEDCFG_MALLOC).  0, or -1 with a message in err. */
int embedcfg__read_file(const char *path, size_t max_len, char **data,
                        size_t *len, char *err, size_t err_size);

#ifdef __cplusplus
}
#endif

#endif /* EMBEDCFG_PATHS_H */
