/* Helpers of the shim without a Python dependency: the launcher uses them
 * before any libpython is loaded.  The requires_python matcher has the
 * semantics of embedcfg.checks (a small subset of PEP 440 specifiers). */

#if !defined(_XOPEN_SOURCE) && !defined(_WIN32)
#  define _XOPEN_SOURCE 700
#endif

#include "embedcfg.h"
#include "embedcfg_internal.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef _WIN32
#  include <fcntl.h>
#  include <unistd.h>
#endif

#ifndef PATH_MAX
#  define PATH_MAX 4096
#endif

/* --- the arena (embedcfg_internal.h) --- */

/* Room for the size before each allocation, keeping every allocation
 * aligned for any scalar type. */
#define ARENA_HEADER 16

void embedcfg__arena_init(embedcfg__arena *a, void *region, size_t size)
{
    a->base = (unsigned char *)region;
    /* the offsets below stay far from overflowing */
    a->size = region != NULL && size < (size_t)-1 / 4 ? size : 0;
    a->used = 0;
    a->last = (size_t)-1;
}

static int in_arena(const embedcfg__arena *a, const void *p)
{
    /* Compared as integers: the pointer may belong to another object.  A
     * block starts after its header and may end the region (an empty one
     * can start right at its end). */
    return a != NULL && a->size != 0
           && (uintptr_t)p >= (uintptr_t)a->base + ARENA_HEADER
           && (uintptr_t)p <= (uintptr_t)a->base + a->size;
}

/* The room an allocation of n bytes takes, header included; n is at most
 * the region's size, so this cannot overflow. */
static size_t arena_room(size_t n)
{
    return ARENA_HEADER + (n + ARENA_HEADER - 1) / ARENA_HEADER * ARENA_HEADER;
}

void *embedcfg__alloc(embedcfg__arena *a, size_t n)
{
    unsigned char *p;

    if (a == NULL || a->size == 0 || n > a->size || arena_room(n) > a->size - a->used) {
        return malloc(n);
    }
    p = a->base + a->used;
    memcpy(p, &n, sizeof(n));
    a->last = a->used;
    a->used += arena_room(n);
    return p + ARENA_HEADER;
}

void *embedcfg__realloc(embedcfg__arena *a, void *p, size_t n)
{
    size_t old;
    void *grown;

    if (p == NULL) {
        return embedcfg__alloc(a, n);
    }
    if (!in_arena(a, p)) {
        return realloc(p, n);
    }
    memcpy(&old, (unsigned char *)p - ARENA_HEADER, sizeof(old));
    if ((unsigned char *)p - ARENA_HEADER == a->base + a->last && n <= a->size
        && arena_room(n) <= a->size - a->last) {
        /* the latest allocation grows (or shrinks) in place */
        memcpy(a->base + a->last, &n, sizeof(n));
        a->used = a->last + arena_room(n);
        return p;
    }
    grown = embedcfg__alloc(a, n);
    if (grown != NULL) {
        memcpy(grown, p, old < n ? old : n);
        embedcfg__free(a, p);
    }
    return grown;
}

void embedcfg__free(embedcfg__arena *a, void *p)
{
    if (p == NULL) {
        return;
    }
    if (!in_arena(a, p)) {
        free(p);
        return;
    }
    /* the latest allocation gives its room back; any other's stays taken
     * until the region goes */
    if ((unsigned char *)p - ARENA_HEADER == a->base + a->last) {
        a->used = a->last;
        a->last = (size_t)-1;
    }
}

char *embedcfg__strdup_in(embedcfg__arena *a, const char *s)
{
    size_t n = strlen(s) + 1;
    char *copy = (char *)embedcfg__alloc(a, n);

    if (copy != NULL) {
        memcpy(copy, s, n);
    }
    return copy;
}

char *embedcfg__strdup(const char *s)
{
    return embedcfg__strdup_in(EMBEDCFG_MEMORY, s);
}

void embedcfg__format_minor(unsigned long hex, char *buf, size_t size)
{
    snprintf(buf, size, "%lu.%lu", (hex >> 24) & 0xFFUL, (hex >> 16) & 0xFFUL);
}

/* Read a decimal number of at most 6 digits; -1 if there is none. */
static int read_number(const char **p)
{
    int value = 0;
    int digits = 0;

    while (**p >= '0' && **p <= '9' && digits < 6) {
        value = value * 10 + (**p - '0');
        (*p)++;
        digits++;
    }
    return digits > 0 ? value : -1;
}

int embedcfg__parse_version(const char *text, int *major, int *minor,
                            int *micro)
{
    const char *p = text;

    *major = read_number(&p);
    if (*major < 0 || *p != '.') {
        return -1;
    }
    p++;
    *minor = read_number(&p);
    if (*minor < 0) {
        return -1;
    }
    *micro = 0;
    if (*p == '.') {
        p++;
        *micro = read_number(&p);
        if (*micro < 0) {
            *micro = 0;
        }
    }
    return 0;
}

static int cmp3(const int a[3], const int b[3])
{
    int i;

    for (i = 0; i < 3; i++) {
        if (a[i] != b[i]) {
            return a[i] < b[i] ? -1 : 1;
        }
    }
    return 0;
}

/* One specifier: op, up to three numbers, optional trailing ".*". */
static int match_one(const char *item, size_t len, const int version[3],
                     char *err, size_t err_size)
{
    char op[3] = {0, 0, 0};
    int nums[3] = {0, 0, 0};
    int count = 0;
    int wildcard = 0;
    int padded[3];
    int head_equal;
    int c;
    int i;
    char text[64];
    const char *p;

    while (len > 0 && (*item == ' ' || *item == '\t')) {
        item++;
        len--;
    }
    while (len > 0 && (item[len - 1] == ' ' || item[len - 1] == '\t')) {
        len--;
    }
    if (len == 0 || len >= sizeof(text)) {
        snprintf(err, err_size, "'%.*s' is not a version specifier such as '>=3.10'",
                 (int)(len < 40 ? len : 40), item);
        return -1;
    }
    memcpy(text, item, len);
    text[len] = '\0';
    p = text;
    if (strncmp(p, "~=", 2) == 0 || strncmp(p, "==", 2) == 0
        || strncmp(p, "!=", 2) == 0 || strncmp(p, "<=", 2) == 0
        || strncmp(p, ">=", 2) == 0) {
        op[0] = p[0];
        op[1] = p[1];
        p += 2;
    }
    else if (*p == '<' || *p == '>') {
        op[0] = *p;
        p++;
    }
    else {
        goto invalid;
    }
    while (*p == ' ') {
        p++;
    }
    while (count < 3) {
        if (*p == '*' && count > 0) {
            wildcard = 1;
            p++;
            break;
        }
        nums[count] = read_number(&p);
        if (nums[count] < 0) {
            goto invalid;
        }
        count++;
        if (*p != '.') {
            break;
        }
        p++;
    }
    if (*p != '\0') {
        goto invalid;
    }
    if (wildcard && strcmp(op, "==") != 0 && strcmp(op, "!=") != 0) {
        snprintf(err, err_size, "'%s': '.*' only goes with == and !=", text);
        return -1;
    }
    if (strcmp(op, "~=") == 0 && count < 2) {
        snprintf(err, err_size, "'%s': ~= needs at least two parts, as in ~=3.10", text);
        return -1;
    }
    for (i = 0; i < 3; i++) {
        padded[i] = i < count ? nums[i] : 0;
    }
    head_equal = 1;
    for (i = 0; i < count; i++) {
        if (version[i] != nums[i]) {
            head_equal = 0;
        }
    }
    c = cmp3(version, padded);
    if (strcmp(op, "==") == 0) {
        return wildcard ? head_equal : c == 0;
    }
    if (strcmp(op, "!=") == 0) {
        return wildcard ? !head_equal : c != 0;
    }
    if (strcmp(op, ">=") == 0) {
        return c >= 0;
    }
    if (strcmp(op, "<=") == 0) {
        return c <= 0;
    }
    if (strcmp(op, ">") == 0) {
        return c > 0;
    }
    if (strcmp(op, "<") == 0) {
        return c < 0;
    }
    /* ~=: at least the version, and the same prefix without its last part */
    for (i = 0; i < count - 1; i++) {
        if (version[i] != nums[i]) {
            return 0;
        }
    }
    return c >= 0;

invalid:
    snprintf(err, err_size, "'%s' is not a version specifier such as '>=3.10'", text);
    return -1;
}

int embedcfg_version_matches(const char *spec, int major, int minor, int micro,
                             char *err, size_t err_size)
{
    int version[3];
    int result = 1;
    const char *start = spec;

    version[0] = major;
    version[1] = minor;
    version[2] = micro;
    if (err != NULL && err_size > 0) {
        err[0] = '\0';
    }
    if (spec == NULL) {
        return 1;
    }
    for (;;) {
        const char *comma = strchr(start, ',');
        size_t len = comma != NULL ? (size_t)(comma - start) : strlen(start);
        char dummy[8];
        int r = match_one(start, len, version,
                          err != NULL ? err : dummy,
                          err != NULL ? err_size : sizeof(dummy));

        if (r < 0) {
            return -1;
        }
        if (r == 0) {
            result = 0;  /* keep going: a later item may be invalid */
        }
        if (comma == NULL) {
            break;
        }
        start = comma + 1;
    }
    return result;
}

/* Length of the anchor name at path ("$ORIGIN" -> 7, "${ORIGIN}" -> 9) when
 * it is `name`, else 0. */
/* `s` starts with `prefix`; not strncmp, which the launcher and the shim
 * would each resolve through the dynamic linker for this alone. */
static int has_prefix(const char *s, const char *prefix)
{
    while (*prefix != '\0' && *s == *prefix) {
        s++;
        prefix++;
    }
    return *prefix == '\0';
}

static size_t anchor_len(const char *path, const char *name)
{
    size_t n = strlen(name);

    if (path[0] != '$') {
        return 0;
    }
    if (path[1] == '{') {
        if (has_prefix(path + 2, name) && path[2 + n] == '}') {
            return n + 3;
        }
        return 0;
    }
    if (has_prefix(path + 1, name)) {
        char next = path[1 + n];

        if (next == '\0' || next == '/') {
            return n + 1;
        }
    }
    return 0;
}

int embedcfg__split_path(const char *path, const char *origin, const char *config_dir,
                         int allow_name, const char **base, const char **rest,
                         char *err, size_t err_size)
{
    size_t skip;

    *base = "";
    *rest = path;
    if (path[0] == '$') {
        if ((skip = anchor_len(path, "ORIGIN")) != 0) {
            *base = origin;
            if (origin == NULL || origin[0] == '\0') {
                snprintf(err, err_size, "'%s': cannot tell the executable's directory"
                         " for $ORIGIN", path);
                return -1;
            }
        }
        else if ((skip = anchor_len(path, "CONFIG_DIR")) != 0) {
            *base = config_dir;
            if (config_dir == NULL || config_dir[0] == '\0') {
                snprintf(err, err_size, "'%s': $CONFIG_DIR is unknown: the document"
                         " was not loaded from a file", path);
                return -1;
            }
        }
        else {
            snprintf(err, err_size, "'%s' starts with an unknown anchor; use $ORIGIN,"
                     " $CONFIG_DIR or an absolute path", path);
            return -1;
        }
        *rest = path + skip;
        return 0;
    }
    if (path[0] != '/' && !(allow_name && strchr(path, '/') == NULL && path[0] != '\0')) {
        snprintf(err, err_size, "'%s' is a relative path, which would resolve against"
                 " the current directory; use $CONFIG_DIR/..., $ORIGIN/... or an"
                 " absolute path", path);
        return -1;
    }
    return 0;
}

char *embedcfg__expand_path(const char *path, const char *origin,
                            const char *config_dir, int allow_name,
                            char *err, size_t err_size)
{
    return embedcfg__expand_path_in(EMBEDCFG_MEMORY, path, origin, config_dir, allow_name,
                                    err, err_size);
}

char *embedcfg__expand_path_in(embedcfg__arena *a, const char *path, const char *origin,
                               const char *config_dir, int allow_name,
                               char *err, size_t err_size)
{
    const char *base;
    const char *rest;
    size_t base_len;
    size_t size;
    char *out;

    if (embedcfg__split_path(path, origin, config_dir, allow_name, &base, &rest, err,
                             err_size) < 0) {
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

/* The last '/' of `s`, or NULL; strrchr, but without a dynamic-linker
 * lookup of its own in the launcher and the shim. */
static char *last_slash(char *s)
{
    char *found = NULL;

    for (; *s != '\0'; s++) {
        if (*s == '/') {
            found = s;
        }
    }
    return found;
}

char *embedcfg__dirname_of(const char *path)
{
    char *resolved = NULL;
    char *copy;
    char *slash;
#ifndef _WIN32
    char buf[PATH_MAX];  /* realpath() into it: no malloc of its own */

    resolved = realpath(path, buf);
#endif
    copy = embedcfg__strdup(resolved != NULL ? resolved : path);
    if (copy == NULL) {
        return NULL;
    }
    slash = last_slash(copy);
    if (slash == NULL) {
        EMBEDCFG_FREE(copy);
        return embedcfg__strdup(".");
    }
    if (slash == copy) {
        slash[1] = '\0';  /* the root directory */
    }
    else {
        *slash = '\0';
    }
    return copy;
}

char *embedcfg__exe_path(void)
{
#if defined(__linux__)
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);

    if (n <= 0) {
        return NULL;
    }
    buf[n] = '\0';
    return embedcfg__strdup(buf);
#else
    return NULL;
#endif
}

char *embedcfg__exe_dir_of(const char *exe)
{
#if defined(__linux__)
    /* /proc/self/exe names the file itself, links already resolved: no
     * realpath() (embedcfg__dirname_of) needed, just cut the name. */
    if (exe[0] == '/') {
        char *dir = embedcfg__strdup(exe);
        char *slash;

        if (dir == NULL) {
            return NULL;
        }
        slash = last_slash(dir);
        slash[slash == dir ? 1 : 0] = '\0';
        return dir;
    }
#endif
    return embedcfg__dirname_of(exe);
}

char *embedcfg__exe_dir(void)
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

int embedcfg__valid_utf8(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    while (i < len) {
        unsigned char c = p[i];
        size_t need;
        uint32_t cp;
        size_t k;

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            need = 1;
            cp = c & 0x1Fu;
        }
        else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            cp = c & 0x0Fu;
        }
        else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            cp = c & 0x07u;
        }
        else {
            return 0;
        }
        if (len - i <= need) {
            return 0;
        }
        for (k = 1; k <= need; k++) {
            if ((p[i + k] & 0xC0) != 0x80) {
                return 0;
            }
            cp = (cp << 6) | (p[i + k] & 0x3Fu);
        }
        if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000)
            || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return 0;
        }
        i += need + 1;
    }
    return 1;
}

/* The file, through open/read on POSIX: stdio's FILE, its buffer and four
 * functions to bind cost the launcher more than the read itself. */
#ifndef _WIN32
typedef int input_file;
#  define INPUT_NONE (-1)

static int input_open(const char *path, input_file *f)
{
    *f = open(path, O_RDONLY | O_CLOEXEC);
    return *f >= 0 ? 0 : -1;
}

/* -1 on a read error */
static long input_read(input_file f, char *buf, size_t n)
{
    ssize_t got;

    do {
        got = read(f, buf, n);
    } while (got < 0 && errno == EINTR);
    return (long)got;
}

static void input_close(input_file f)
{
    close(f);
}
#else
typedef FILE *input_file;
#  define INPUT_NONE NULL

static int input_open(const char *path, input_file *f)
{
    *f = fopen(path, "rb");
    return *f != NULL ? 0 : -1;
}

static long input_read(input_file f, char *buf, size_t n)
{
    size_t got = fread(buf, 1, n, f);

    return got == 0 && ferror(f) ? -1 : (long)got;
}

static void input_close(input_file f)
{
    fclose(f);
}
#endif

int embedcfg__read_file(const char *path, size_t max_len, char **data,
                        size_t *len, char *err, size_t err_size)
{
    input_file f = INPUT_NONE;
    char *buf = NULL;
    size_t used = 0;
    size_t cap = 4096;
    int rc = -1;

    *data = NULL;
    *len = 0;
    if (input_open(path, &f) < 0) {
        f = INPUT_NONE;
        snprintf(err, err_size, "cannot read '%s': %s", path, strerror(errno));
        goto done;
    }
    buf = (char *)EMBEDCFG_MALLOC(cap);
    if (buf == NULL) {
        snprintf(err, err_size, "out of memory");
        goto done;
    }
    for (;;) {
        long n;

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
        n = input_read(f, buf + used, cap - used);
        if (n < 0) {
            snprintf(err, err_size, "cannot read '%s'", path);
            goto done;
        }
        if (n == 0) {
            break;
        }
        used += (size_t)n;
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
    if (f != INPUT_NONE) {
        input_close(f);
    }
    return rc;
}
