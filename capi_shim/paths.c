/* Paths and files before Python; see paths.h. */

#if !defined(_XOPEN_SOURCE) && !defined(_WIN32)
#  define _XOPEN_SOURCE 700
#endif

#include "paths.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef _WIN32
#  include <unistd.h>
#endif

#ifndef PATH_MAX
#  define PATH_MAX 4096
#endif

/* --- anchors -------------------------------------------------------------- */

#define ANCHOR_ORIGIN 0
#define ANCHOR_CONFIG_DIR 1

static const char *const anchor_names[] = {"ORIGIN", "CONFIG_DIR"};

/* The anchor `path` (which starts with '$') starts with, and in *skip its
 * length; -1 when none.  $NAME must end the path or be followed by '/';
 * ${NAME} (*braced) may be followed by anything, as in a shell. */
static int
find_anchor(const char *path, size_t *skip, int *braced)
{
    int i;

    for (i = 0; i < 2; i++) {
        const char *name = anchor_names[i];
        size_t n = strlen(name);

        if (path[1] == '{' && strncmp(path + 2, name, n) == 0
            && path[2 + n] == '}') {
            *skip = n + 3;
            *braced = 1;
            return i;
        }
        if (strncmp(path + 1, name, n) == 0
            && (path[1 + n] == '\0' || path[1 + n] == '/')) {
            *skip = n + 1;
            *braced = 0;
            return i;
        }
    }
    return -1;
}

int
embedcfg__split_path(const char *path, const char *origin,
                     const char *config_dir, int flags, const char **base,
                     const char **rest, char *err, size_t err_size)
{
    size_t skip = 0;
    int braced = 0;
    int anchor;

    *base = "";
    *rest = path;
    if (path[0] == '$') {
        anchor = find_anchor(path, &skip, &braced);
        if (anchor < 0) {
            snprintf(err, err_size, "'%s' starts with an unknown anchor; use"
                     " $ORIGIN, $CONFIG_DIR or an absolute path", path);
            return -1;
        }
        if (braced && !(flags & EMBEDCFG_PATH_BRACES)) {
            snprintf(err, err_size, "'%s': write $%s without braces", path,
                     anchor_names[anchor]);
            return -1;
        }
        if (anchor == ANCHOR_ORIGIN) {
            if (origin == NULL || origin[0] == '\0') {
                snprintf(err, err_size, "'%s': cannot tell the executable's"
                         " directory for $ORIGIN", path);
                return -1;
            }
            *base = origin;
        }
        else {
            if (config_dir == NULL || config_dir[0] == '\0') {
                snprintf(err, err_size, "'%s': $CONFIG_DIR is unknown: the"
                         " document was not loaded from a file", path);
                return -1;
            }
            *base = config_dir;
        }
        *rest = path + skip;
        return 0;
    }
    if (path[0] != '/' && !((flags & EMBEDCFG_PATH_NAME) && path[0] != '\0'
                            && strchr(path, '/') == NULL)) {
        snprintf(err, err_size, "'%s' is a relative path, which would resolve"
                 " against the current directory; use $CONFIG_DIR/...,"
                 " $ORIGIN/... or an absolute path", path);
        return -1;
    }
    return 0;
}

char *
embedcfg__expand_path(embedcfg__arena *a, const char *path,
                      const char *origin, const char *config_dir,
                      int flags, char *err, size_t err_size)
{
    const char *base;
    const char *rest;
    size_t base_len;
    size_t size;
    char *out;

    if (embedcfg__split_path(path, origin, config_dir, flags, &base, &rest,
                             err, err_size) < 0) {
        return NULL;
    }
    base_len = strlen(base);
    size = base_len + strlen(rest) + 1;
    out = (char *)embedcfg__alloc(a, size);
    if (out == NULL) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    memcpy(out, base, base_len);
    memcpy(out + base_len, rest, size - base_len);
    return out;
}

/* --- directories ---------------------------------------------------------- */

char *
embedcfg__dirname_of(const char *path)
{
    char *resolved = NULL;
    char *copy;
    char *slash;
#ifndef _WIN32
    char buf[PATH_MAX];  /* realpath() into it: no malloc of its own */

    resolved = realpath(path, buf);
#endif
    copy = EMBEDCFG_STRDUP(resolved != NULL ? resolved : path);
    if (copy == NULL) {
        return NULL;
    }
    slash = strrchr(copy, '/');
    if (slash == NULL) {
        EMBEDCFG_FREE(copy);
        return EMBEDCFG_STRDUP(".");
    }
    if (slash == copy) {
        slash[1] = '\0';  /* the root directory */
    }
    else {
        *slash = '\0';
    }
    return copy;
}

char *
embedcfg__exe_path(void)
{
#if defined(__linux__)
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);

    if (n <= 0) {
        return NULL;
    }
    buf[n] = '\0';
    return EMBEDCFG_STRDUP(buf);
#else
    return NULL;
#endif
}

char *
embedcfg__exe_dir_of(const char *exe)
{
#if defined(__linux__)
    /* /proc/self/exe names the file itself, links already resolved: no
     * realpath() (embedcfg__dirname_of) needed, just cut the name. */
    if (exe[0] == '/') {
        char *dir = EMBEDCFG_STRDUP(exe);
        char *slash;

        if (dir == NULL) {
            return NULL;
        }
        slash = strrchr(dir, '/');
        slash[slash == dir ? 1 : 0] = '\0';
        return dir;
    }
#endif
    return embedcfg__dirname_of(exe);
}

char *
embedcfg__exe_dir(void)
{
    char *exe = embedcfg__exe_path();
    char *dir;

    if (exe == NULL) {
        return NULL;
    }
    dir = embedcfg__exe_dir_of(exe);
    EMBEDCFG_FREE(exe);
    return dir;
}

/* --- files ---------------------------------------------------------------- */

int
embedcfg__read_file(const char *path, size_t max_len, char **data,
                    size_t *len, char *err, size_t err_size)
{
    FILE *f;
    char *buf = NULL;
    size_t used = 0;
    size_t cap = 4096;
    int rc = -1;

    *data = NULL;
    *len = 0;
    f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, err_size, "cannot read '%s': %s", path, strerror(errno));
        return -1;
    }
    buf = (char *)EMBEDCFG_MALLOC(cap);
    if (buf == NULL) {
        snprintf(err, err_size, "out of memory");
        goto done;
    }
    for (;;) {
        size_t n;

        if (used == cap) {
            char *bigger;

            if (cap > max_len) {
                snprintf(err, err_size, "'%s' is larger than %lu bytes", path,
                         (unsigned long)max_len);
                goto done;
            }
            bigger = (char *)EMBEDCFG_REALLOC(buf, cap * 2);
            if (bigger == NULL) {
                snprintf(err, err_size, "out of memory");
                goto done;
            }
            buf = bigger;
            cap *= 2;
        }
        n = fread(buf + used, 1, cap - used, f);
        used += n;
        if (n == 0) {
            break;
        }
    }
    if (ferror(f)) {
        snprintf(err, err_size, "cannot read '%s'", path);
        goto done;
    }
    if (used > max_len) {
        snprintf(err, err_size, "'%s' is larger than %lu bytes", path,
                 (unsigned long)max_len);
        goto done;
    }
    *data = buf;
    *len = used;
    buf = NULL;
    rc = 0;

done:
    EMBEDCFG_FREE(buf);
    fclose(f);
    return rc;
}
