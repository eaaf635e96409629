/* embedcfg path security: refuse paths other users can change, before init.
 *
 * The same rules as embedcfg/security.py (`embedcfg validate`), in C99 with
 * lstat()/realpath() only, so the launcher can apply them to the expanded
 * paths of a document before libpython is even loaded:
 *
 *   - a path, or an ancestor of it, writable by its group or by all users, or
 *     owned by a user other than the current one (effective uid) or root, is
 *     refused.  An ancestor that is writable by others but sticky (/tmp) is
 *     accepted when the entry below it is owned by the current user or root;
 *     a directory whose contents are loaded (a module search path, the pycache
 *     prefix) is never accepted writable by others;
 *   - a path that does not exist yet is refused when its nearest existing
 *     ancestor is writable by others (they could create it first);
 *   - a pyvenv.cfg in the launcher's directory or one directory above is
 *     refused: CPython's path calculation reads it even for an isolated
 *     configuration.
 *
 * Symbolic links are followed: the path as written and the resolved path are
 * both checked.  No global state; every function accepts any input (NULL,
 * empty, relative, very long paths) without crashing. */

#ifndef EMBEDCFG_PATHSEC_H
#define EMBEDCFG_PATHSEC_H

#include <stddef.h>

#include "jsonparse.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What an item is, which decides whether the sticky bit can protect it. */
#define EMBEDCFG_PATHSEC_FILE 0     /* a file that is loaded: lib, a library */
#define EMBEDCFG_PATHSEC_CONTENTS 1 /* a directory whose entries are loaded */

typedef struct {
    const char
        *what; /* for messages: "options.module_search_paths[0]" (NULL ok) */
    const char *path; /* expanded, absolute */
    int kind;         /* EMBEDCFG_PATHSEC_FILE or EMBEDCFG_PATHSEC_CONTENTS */
} embedcfg_pathsec_item;

/* Check `n` items and, when `origin` is not NULL, the pyvenv.cfg files in
 * `origin` and its parent.  Returns 0 when nothing is refused, -1 on the
 * first refusal (or an item that cannot be checked: a relative path, a
 * component that cannot be inspected, no memory), with a one-line message
 * naming the path, its owner and mode, and the fix in `err` (truncated to
 * `err_size`; `err` may be NULL). */
int embedcfg_pathsec_check(const embedcfg_pathsec_item *items, size_t n,
                           const char *origin, char *err, size_t err_size);

/* The launcher's call: gather the paths of a parsed document -- every value
 * that EMBEDCFG_DOCUMENT_PATHS (embedcfg_document.h, generated from the
 * description) reaches, as embedcfg.security does; `default_lib` when the
 * document has no `lib`; bare library names are skipped where the
 * description allows them (dlopen searches the system directories) --
 * expand $ORIGIN and $CONFIG_DIR, and check them with
 * embedcfg_pathsec_check (pyvenv.cfg: beside and above `origin`, and beside
 * and above options.executable or program_name when set).
 * A path that cannot be expanded is refused. */
int embedcfg_pathsec_check_document(const embedcfg_json_value *doc,
                                    const char *origin, const char *config_dir,
                                    const char *default_lib,
                                    char *err, size_t err_size);

#ifdef __cplusplus
}
#endif

#endif /* EMBEDCFG_PATHSEC_H */
