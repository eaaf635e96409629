/* Path security checks before init; see pathsec.h for the rules.
 *
 * Kept in step with embedcfg/security.py: the same chain walk, the same
 * sticky-bit rule, the same pyvenv.cfg candidates.  lstat() and realpath()
 * only: no file is opened. */

#if !defined(_XOPEN_SOURCE)
#  define _XOPEN_SOURCE 700
#endif

#include "pathsec.h"

/* Built into the launcher, its blocks come from the launcher's arena;
 * anywhere else from malloc. */
#include "arena.h"
#include "embedcfg_document.h"
#include "paths.h"

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define PYVENV_FILE "pyvenv.cfg"

typedef struct {
    char *buf;
    size_t size;
} msgbuf;

static int
refuse(msgbuf *m, const char *fmt, ...)
{
    va_list ap;
    char *p;

    if (m->buf == NULL || m->size == 0) {
        return -1;
    }
    va_start(ap, fmt);
    vsnprintf(m->buf, m->size, fmt, ap);
    va_end(ap);
    for (p = m->buf; *p != '\0'; p++) {
        if (*p == '\n' || *p == '\r') {
            *p = ' ';
        }
    }
    return -1;
}

static char *
dup_n(const char *s, size_t n)
{
    char *out = (char *)EMBEDCFG_MALLOC(n + 1);

    if (out != NULL) {
        memcpy(out, s, n);
        out[n] = '\0';
    }
    return out;
}

static char *
join3(const char *a, const char *b, const char *c)
{
    size_t la = strlen(a);
    size_t lb = strlen(b);
    size_t lc = strlen(c);
    char *out = (char *)EMBEDCFG_MALLOC(la + lb + lc + 1);

    if (out != NULL) {
        memcpy(out, a, la);
        memcpy(out + la, b, lb);
        memcpy(out + la + lb, c, lc + 1);
    }
    return out;
}

/* "/a//b/./c/" -> "/a/b/c"; ".." is kept (lstat resolves it), and sets
 * *dotdot when there is one.  Writes at most strlen(path) + 1 bytes (with
 * the NUL) when `path` starts with '/', strlen(path) + 2 otherwise;
 * returns the length. */
static size_t
normalize_into(char *out, const char *path, int *dotdot)
{
    const char *p = path;
    size_t o = 0;

    *dotdot = 0;
    for (;;) {
        while (*p == '/') {
            p++;
        }
        if (*p == '\0') {
            break;
        }
        if (p[0] == '.' && (p[1] == '/' || p[1] == '\0')) {
            p++;
            continue;
        }
        if (p[0] == '.' && p[1] == '.' && (p[2] == '/' || p[2] == '\0')) {
            *dotdot = 1;
        }
        out[o++] = '/';
        while (*p != '\0' && *p != '/') {
            out[o++] = *p++;
        }
    }
    if (o == 0) {
        out[o++] = '/';
    }
    out[o] = '\0';
    return o;
}

static char *
normalize(const char *path)
{
    char *out = (char *)EMBEDCFG_MALLOC(strlen(path) + 2);
    int dotdot;

    if (out != NULL) {
        normalize_into(out, path, &dotdot);
    }
    return out;
}


static void
mode_text(mode_t mode, char out[11])
{
    static const char rwx[] = "rwxrwxrwx";
    int i;

    out[0] = S_ISDIR(mode)   ? 'd'
             : S_ISLNK(mode) ? 'l'
             : S_ISREG(mode) ? '-'
                             : '?';
    for (i = 0; i < 9; i++) {
        out[1 + i] = (mode & (mode_t)(0400 >> i)) ? rwx[i] : '-';
    }
    if (mode & S_ISVTX) {
        out[9] = (mode & S_IXOTH) ? 't' : 'T';
    }
    out[10] = '\0';
}

static void
owner_text(uid_t uid, char *out, size_t size)
{
    struct passwd pw;
    struct passwd *found = NULL;
    char buf[1024];

    if (getpwuid_r(uid, &pw, buf, sizeof(buf), &found) == 0 && found != NULL
        && found->pw_name != NULL) {
        snprintf(out, size, "uid %lu (%s)", (unsigned long)uid,
                 found->pw_name);
    }
    else {
        snprintf(out, size, "uid %lu", (unsigned long)uid);
    }
}

static void
user_name(uid_t uid, char *out, size_t size)
{
    struct passwd pw;
    struct passwd *found = NULL;
    char buf[1024];

    if (getpwuid_r(uid, &pw, buf, sizeof(buf), &found) == 0 && found != NULL
        && found->pw_name != NULL) {
        snprintf(out, size, "%s", found->pw_name);
    }
    else {
        snprintf(out, size, "%lu", (unsigned long)uid);
    }
}

/* Directories accepted, with their whole ancestor chain, earlier in one
 * embedcfg_pathsec_check call.  A document's paths share most ancestors
 * (the document's directory, /tmp, /, the prefix of the stdlib), and an
 * ancestor is judged on its own lstat() alone (owner, write bits, sticky
 * bit; never on the path below it), so an ancestor accepted once is
 * accepted again: the walk stops there instead of inspecting the same
 * directories for every path.  The leaf and the nearest existing ancestor
 * of a missing path are judged more strictly, so they are never answered
 * from here.  A refusal ends the call, so only accepted chains are
 * recorded.  Entries point into the normalized paths, which live as long
 * as the call. */
typedef struct {
    const char *path;
    size_t len;
    int link; /* a symbolic link at or above this directory */
} accepted_dir;

typedef struct {
    accepted_dir *dirs;
    size_t len;
    size_t cap;
    char *scratch; /* the component being inspected, NUL-terminated */
    size_t scratch_size;
} walk_state;

static int
find_accepted(const walk_state *w, const char *path, size_t len,
              int *link)
{
    size_t i;

    /* the latest first: consecutive paths share the most */
    for (i = w->len; i-- > 0;) {
        if (w->dirs[i].len == len && memcmp(w->dirs[i].path, path, len) == 0) {
            *link = w->dirs[i].link;
            return 1;
        }
    }
    return 0;
}

static int
remember(walk_state *w, const char *path, size_t len)
{
    if (w->len == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 32;
        accepted_dir *grown;

        if (cap > SIZE_MAX / sizeof(*grown)) {
            return -1;
        }
        grown = (accepted_dir *)EMBEDCFG_REALLOC(w->dirs,
                                                 cap * sizeof(*grown));
        if (grown == NULL) {
            return -1;
        }
        w->dirs = grown;
        w->cap = cap;
    }
    w->dirs[w->len].path = path;
    w->dirs[w->len].len = len;
    w->dirs[w->len].link = 0;
    w->len++;
    return 0;
}

/* The length of the parent of path[0:len] (normalized): "/a/b" -> 2 ("/a"),
 * "/a" -> 1 ("/"); 0 at the root. */
static size_t
parent_len(const char *path, size_t len)
{
    if (len <= 1) {
        return 0;
    }
    while (len > 0 && path[len - 1] != '/') {
        len--;
    }
    return len > 1 ? len - 1 : 1;
}

/* Cut the last component of an absolute path in place: "/a/b" -> "/a",
 * "/a" -> "/"; 0 (nothing cut) at the root or for a relative path. */
static int
to_parent(char *path)
{
    size_t len = path[0] == '/' ? parent_len(path, strlen(path)) : 0;

    if (len == 0) {
        return 0;
    }
    path[len] = '\0';
    return 1;
}

/* "%.*s" takes an int; a path never comes near INT_MAX, but stay defined. */
static int
print_len(size_t len)
{
    return len > (size_t)INT_MAX ? INT_MAX : (int)len;
}

/* The array indexes a document path's label can take (one slot more, so
 * the array is never empty). */
#define PATH_ARRAYS (EMBEDCFG_DOCUMENT_PATH_ARRAYS + 1)

/* An item's name in messages ("options.module_search_paths[3]"), formatted
 * only for a refusal: formatting it for every path of every launch was a
 * tenth of the path checks' cost. */
typedef struct {
    const char *text; /* the name; or, with `where`, a document path's where
                         ("inittab/<star>/library", embedcfg_document.h) */
    size_t index[PATH_ARRAYS]; /* what each '*' of `where` stands for */
    int where;
} item_label;

static size_t
append(char *buf, size_t size, size_t at, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (at + 1 >= size) {
        return at;
    }
    va_start(ap, fmt);
    n = vsnprintf(buf + at, size - at, fmt, ap);
    va_end(ap);
    if (n < 0) {
        return at;
    }
    return (size_t)n < size - at ? at + (size_t)n : size - 1;
}

/* A where as messages name it, as embedcfg.document.PathValue.label does:
 * "inittab/<star>/library" with index 0 -> "inittab[0].library". */
static const char *
label_text(const item_label *l, char *buf, size_t size)
{
    const char *p;
    size_t at = 0;
    size_t k = 0;

    if (l->text == NULL) {
        return "path";
    }
    if (!l->where) {
        return l->text;
    }
    buf[0] = '\0';
    for (p = l->text; *p != '\0';) {
        const char *end = strchr(p, '/');
        size_t n = end != NULL ? (size_t)(end - p) : strlen(p);

        if (n == 1 && p[0] == '*') {
            at = append(buf, size, at, "[%lu]",
                        (unsigned long)(k < PATH_ARRAYS ? l->index[k] : 0));
            k++;
        }
        else {
            at = append(buf, size, at, "%s%.*s", at > 0 ? "." : "",
                        print_len(n), p);
        }
        p += n;
        if (*p == '/') {
            p++;
        }
    }
    return buf;
}

#define WHAT(l) label_text((l), what_buf, sizeof(what_buf))

/* Walk `path` (normalized, absolute, `len` bytes) and its ancestors, leaf
 * first.  *linked is set when a component of the path is a symbolic link.
 * With `record`, the accepted components are remembered (`path` must then
 * live until the end of the embedcfg_pathsec_check call). */
static int
inspect_chain(const item_label *lab, const char *path, size_t len,
              int contents, uid_t me, walk_state *w, int record,
              int *linked, msgbuf *m)
{
    char what_buf[128];
    char *cur;
    size_t cur_len = len;
    size_t missing_len = 0; /* the highest missing component so far; 0: none */
    size_t first_new = w->len;
    size_t top_link = SIZE_MAX; /* the shortest component that is a link */
    size_t i;
    int child_owned = 1;
    int leaf = 1;
    int link;
    struct stat st;
    char mode[11];
    char owner[160];
    char self[160];
    char name[128];
    const char *role;
    const char *of;
    const char *close;

    if (len + 1 > w->scratch_size) {
        char *grown = (char *)EMBEDCFG_REALLOC(w->scratch, len + 1);

        if (grown == NULL) {
            return refuse(m, "%s: out of memory", WHAT(lab));
        }
        w->scratch = grown;
        w->scratch_size = len + 1;
    }
    cur = w->scratch;
    memcpy(cur, path, len);
    cur[len] = '\0';
    for (;;) {
        if (!leaf && missing_len == 0
            && find_accepted(w, path, cur_len, &link)) {
            if (link && cur_len < top_link) {
                top_link = cur_len;
            }
            break;
        }
        if (lstat(cur, &st) != 0) {
            if (errno == ENOENT || errno == ENOTDIR) {
                missing_len = cur_len;
                leaf = 0;
                cur_len = parent_len(path, cur_len);
                if (cur_len == 0) {
                    break;
                }
                cur[cur_len] = '\0';
                continue;
            }
            return refuse(m,
                          "%s: %s cannot be inspected (%s); make it "
                          "searchable by this user, or choose another path",
                          WHAT(lab), cur, strerror(errno));
        }
        if (leaf) {
            role = "";
        }
        else if (missing_len != 0) {
            role = " (the nearest existing ancestor of ";
        }
        else {
            role = " (an ancestor of ";
        }
        of = leaf ? "" : path;
        close = leaf ? "" : ")";
        /* The texts below only for a refusal: owner_text looks the user up
         * (NSS reads /etc/passwd), too slow to do for every component. */
        if (st.st_uid != 0 && st.st_uid != me) {
            mode_text(st.st_mode, mode);
            owner_text(st.st_uid, owner, sizeof(owner));
            owner_text(me, self, sizeof(self));
            user_name(me, name, sizeof(name));
            return refuse(m,
                          "%s: %s%s%s%s is owned by %s, not by the current "
                          "user (%s) or root (mode %s (%04lo)): that user can "
                          "change what is loaded from it; fix: chown %s %s, "
                          "or move the files to a directory the current user "
                          "or root owns", WHAT(lab), cur, role, of, close,
                          owner, self, mode,
                          (unsigned long)(st.st_mode & 07777), name, cur);
        }
        if (!S_ISLNK(st.st_mode) && (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
            int sticky = S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX) != 0;
            int adds_matter = (leaf && contents) || missing_len != 0;

            if (!(sticky && !adds_matter && child_owned && !leaf)) {
                const char *who;

                mode_text(st.st_mode, mode);
                owner_text(st.st_uid, owner, sizeof(owner));
                who = (st.st_mode & S_IWGRP) && (st.st_mode & S_IWOTH)
                    ? "its group and all users"
                    : (st.st_mode & S_IWGRP) ? "its group" : "all users";

                if (missing_len != 0) {
                    return refuse(m,
                                  "%s: %s%s%s%s is writable by %s (mode %s "
                                  "(%04lo), owner %s): another user could "
                                  "create %.*s first and plant code that this "
                                  "interpreter runs; fix: chmod go-w %s, or "
                                  "create %.*s first (mode 0755)", WHAT(lab),
                                  cur, role, of, close, who, mode,
                                  (unsigned long)(st.st_mode & 07777), owner,
                                  print_len(missing_len), path, cur,
                                  print_len(missing_len), path);
                }
                return refuse(m,
                              "%s: %s%s%s%s is writable by %s (mode %s "
                              "(%04lo), owner %s): whoever can write it can "
                              "plant code that this interpreter runs; fix: "
                              "chmod go-w %s", WHAT(lab), cur, role, of, close,
                              who, mode, (unsigned long)(st.st_mode & 07777),
                              owner, cur);
            }
        }
        if (S_ISLNK(st.st_mode) && cur_len < top_link) {
            top_link = cur_len;
        }
        if (record && remember(w, path, cur_len) < 0) {
            return refuse(m, "%s: out of memory", WHAT(lab));
        }
        child_owned = 1; /* refused above otherwise */
        missing_len = 0;
        leaf = 0;
        cur_len = parent_len(path, cur_len);
        if (cur_len == 0) {
            break;
        }
        cur[cur_len] = '\0';
    }
    for (i = first_new; i < w->len; i++) {
        w->dirs[i].link = top_link <= w->dirs[i].len;
    }
    *linked = top_link != SIZE_MAX;
    return 0;
}

/* The resolved form of `path`: realpath() of its nearest existing ancestor,
 * with the missing rest appended (as Python's os.path.realpath does).
 * NULL when it cannot be resolved (the written chain is still checked). */
static char *
resolved(const char *path)
{
    char *head = dup_n(path, strlen(path));
    char *real = NULL;
    char *out = NULL;
    size_t head_len;

    if (head == NULL) {
        return NULL;
    }
    for (;;) {
        real = realpath(head, NULL);
        if (real != NULL) {
            break;
        }
        if (!to_parent(head)) {
            EMBEDCFG_FREE(head);
            return NULL;
        }
    }
    head_len = strlen(head);
    if (head_len == 1) {
        head_len = 0;  /* "/" : the rest starts with its own slash */
    }
    out =
        join3(real, "", path + head_len); /* normalize() drops a doubled '/' */
    free(real);  /* realpath()'s, from malloc */
    EMBEDCFG_FREE(head);
    return out;
}

/* `dotdot`: `norm` has a ".." component, which only realpath() can
 * resolve. */
static int
check_one(const embedcfg_pathsec_item *item, const item_label *lab,
          const char *norm, size_t norm_len, int dotdot, uid_t me,
          walk_state *w, msgbuf *m)
{
    char what_buf[128];
    int contents = item->kind == EMBEDCFG_PATHSEC_CONTENTS;
    char *real = NULL;
    char *real_norm = NULL;
    int linked = 0;
    int rc = -1;

    if (inspect_chain(lab, norm, norm_len, contents, me, w, 1, &linked,
                      m) < 0) {
        return -1;
    }
    /* Without a link or a ".." among its components, a normalized path is
     * its own realpath(): no second chain to check. */
    if (!linked && !dotdot) {
        return 0;
    }
    real = resolved(norm);
    if (real != NULL) {
        real_norm = normalize(real);
        if (real_norm == NULL) {
            refuse(m, "%s: out of memory", WHAT(lab));
            goto done;
        }
        /* not recorded: real_norm does not outlive this item */
        if (strcmp(real_norm, norm) != 0 && inspect_chain(lab, real_norm,
                                                          strlen(real_norm),
                                                          contents, me, w, 0,
                                                          &linked, m) < 0) {
            goto done;
        }
    }
    rc = 0;

done:
    EMBEDCFG_FREE(real_norm);
    EMBEDCFG_FREE(real);
    return rc;
}

static int
check_pyvenv(const char *label, const char *dir, msgbuf *m)
{
    char *candidate;
    size_t len;
    struct stat st;
    char mode[11];
    char owner[160];
    int dotdot;
    int pass;
    int rc = -1;

    if (dir == NULL || dir[0] != '/') {
        return 0;  /* no directory known: nothing CPython could find either */
    }
    /* One buffer: the normalized directory, then each candidate is that
     * (or its parent's part of it) with "/pyvenv.cfg" after it. */
    len = strlen(dir);
    if (len > SIZE_MAX / 2) {
        return refuse(m, "out of memory");
    }
    candidate = (char *)EMBEDCFG_MALLOC(len + sizeof("/" PYVENV_FILE) + 1);
    if (candidate == NULL) {
        return refuse(m, "out of memory");
    }
    len = normalize_into(candidate, dir, &dotdot);
    for (pass = 0; pass < 2; pass++) {
        size_t base_len = pass == 0 ? len : parent_len(candidate, len);

        if (pass == 1 && len == 1) { /* the directory is "/": its own parent */
            break;
        }
        if (base_len == 1) {
            base_len = 0;  /* "/" + "/pyvenv.cfg" */
        }
        memcpy(candidate + base_len, "/" PYVENV_FILE, sizeof("/" PYVENV_FILE));
        if (lstat(candidate, &st) != 0) {
            if (errno == ENOENT || errno == ENOTDIR) {
                continue;
            }
            refuse(m,
                   "%s cannot be inspected (%s); the launcher must know "
                   "whether it exists", candidate, strerror(errno));
            goto done;
        }
        mode_text(st.st_mode, mode);
        owner_text(st.st_uid, owner, sizeof(owner));
        refuse(m,
               "unexpected %s in %s%s (owner %s, mode %s (%04lo)): CPython "
               "reads it at start-up even for an isolated configuration, and "
               "it can redirect sys.prefix to where .pth files run code; fix: "
               "remove it, or give the launcher a directory of its own (not a "
               "virtual environment's bin/)", candidate,
               pass == 0 ? "" : "the parent of ", label, owner, mode,
               (unsigned long)(st.st_mode & 07777));
        goto done;
    }
    rc = 0;

done:
    EMBEDCFG_FREE(candidate);
    return rc;
}

/* embedcfg_pathsec_check, where labels[i] names items[i] (`labels` NULL:
 * items[i].what does). */
static int
check_all(const embedcfg_pathsec_item *items,
          const item_label *labels, size_t n, const char *origin,
          char *err, size_t err_size)
{
    char what_buf[128];
    msgbuf m;
    uid_t me = geteuid();
    walk_state w;
    char *norms = NULL;
    size_t total = 0;
    size_t at = 0;
    size_t i;
    int rc = -1;

    m.buf = err;
    m.size = err_size;
    if (err != NULL && err_size > 0) {
        err[0] = '\0';
    }
    if (items == NULL && n > 0) {
        return refuse(&m, "no paths given");
    }
    memset(&w, 0, sizeof(w));
    /* One block for every normalized path (never longer than the path):
     * the accepted directories point into it until the end. */
    for (i = 0; i < n; i++) {
        if (items[i].path != NULL && items[i].path[0] == '/') {
            size_t len = strlen(items[i].path);

            if (len >= SIZE_MAX - total - 1) {
                refuse(&m, "out of memory");
                goto done;
            }
            total += len + 1;
        }
    }
    if (total > 0) {
        norms = (char *)EMBEDCFG_MALLOC(total);
        if (norms == NULL) {
            refuse(&m, "out of memory");
            goto done;
        }
    }
    for (i = 0; i < n; i++) {
        item_label plain;
        const item_label *lab = &plain;
        size_t len;
        int dotdot;

        if (labels != NULL) {
            lab = &labels[i];
        }
        else {
            plain.text = items[i].what;
            plain.where = 0;
        }
        if (items[i].path == NULL || items[i].path[0] != '/') {
            refuse(&m,
                   "%s: '%s' is not an absolute path; it cannot be checked",
                   WHAT(lab),
                   items[i].path != NULL ? items[i].path : "(null)");
            goto done;
        }
        len = normalize_into(norms + at, items[i].path, &dotdot);
        if (check_one(&items[i], lab, norms + at, len, dotdot, me, &w,
                      &m) < 0) {
            goto done;
        }
        at += len + 1;
    }
    if (origin != NULL && check_pyvenv("the launcher's directory ($ORIGIN)",
                                       origin, &m) < 0) {
        goto done;
    }
    rc = 0;

done:
    EMBEDCFG_FREE(w.scratch);
    EMBEDCFG_FREE(w.dirs);
    EMBEDCFG_FREE(norms);
    return rc;
}

int
embedcfg_pathsec_check(const embedcfg_pathsec_item *items, size_t n,
                       const char *origin, char *err, size_t err_size)
{
    return check_all(items, NULL, n, origin, err, err_size);
}

/* --- the document ------------------------------------------------------ */

/* A row of EMBEDCFG_DOCUMENT_PATHS. */
typedef struct {
    const char *where; /* keys separated by '/', '*' for every item */
    int library_names_allowed;
    int kind;
} document_path;

static const document_path document_paths[] = {EMBEDCFG_DOCUMENT_PATHS};

#define N_DOCUMENT_PATHS (sizeof(document_paths) / sizeof(document_paths[0]))

/* The items of a document, each with its own expanded path (freed at the
 * end) and its label. */
typedef struct {
    embedcfg_pathsec_item *items;
    item_label *labels;
    size_t len;
    size_t cap;
} item_list;

/* Split `value` into the anchor's directory and the rest (paths.h, as a
 * document may write them: no ${ORIGIN}): the expansion is *base + *rest.
 * -1 with a message when it cannot be expanded. */
static int
split_anchor(const item_label *lab, const char *value,
             const char *origin, const char *config_dir,
             const char **base, const char **rest, msgbuf *m)
{
    char what_buf[128];
    char err[1024];

    if (embedcfg__split_path(value, origin, config_dir, 0, base, rest, err,
                             sizeof(err)) < 0) {
        return refuse(m, "%s: %s", WHAT(lab), err);
    }
    return 0;
}

/* Expand $ORIGIN / $CONFIG_DIR; NULL with a message when it cannot be. */
static char *
expand(const item_label *lab, const char *value,
       const char *origin, const char *config_dir, msgbuf *m)
{
    char what_buf[128];
    const char *base;
    const char *rest;
    char *out;

    if (split_anchor(lab, value, origin, config_dir, &base, &rest, m) < 0) {
        return NULL;
    }
    out = join3(base, rest, "");
    if (out == NULL) {
        refuse(m, "%s: out of memory", WHAT(lab));
    }
    return out;
}

/* Room for `cap` items.  -1: no memory. */
static int
reserve(item_list *l, size_t cap)
{
    embedcfg_pathsec_item *grown;
    item_label *labels;

    if (cap > SIZE_MAX / sizeof(*labels)) {
        return -1;
    }
    grown = (embedcfg_pathsec_item *)EMBEDCFG_REALLOC(l->items,
                                                      cap * sizeof(*grown));
    if (grown == NULL) {
        return -1;
    }
    l->items = grown;
    labels = (item_label *)EMBEDCFG_REALLOC(l->labels, cap * sizeof(*labels));
    if (labels == NULL) {
        return -1;
    }
    l->labels = labels;
    l->cap = cap;
    return 0;
}

/* Appends an item that owns `path` (freed here when it cannot be added). */
static int
push(item_list *l, const item_label *lab, char *path, int kind)
{
    if (path == NULL
        || (l->len == l->cap && reserve(l, l->cap ? l->cap * 2 : 16) < 0)) {
        EMBEDCFG_FREE(path);
        return -1;
    }
    l->items[l->len].what = lab->text;
    l->items[l->len].path = path;
    l->items[l->len].kind = kind;
    l->labels[l->len] = *lab;
    l->len++;
    return 0;
}

/* Whether `value` (`len` bytes) names an archive: a file on a module
 * search path, not a directory. */
static int
is_archive(const char *value, size_t len)
{
    static const char *const suffixes[] = {EMBEDCFG_ARCHIVE_SUFFIXES};
    size_t i;

    for (i = 0; suffixes[i] != NULL; i++) {
        size_t n = strlen(suffixes[i]);

        if (len >= n && memcmp(value + len - n, suffixes[i], n) == 0) {
            return 1;
        }
    }
    return 0;
}

static int
add_item(item_list *l, const item_label *lab,
         const embedcfg_json_value *v, const document_path *row,
         const char *origin, const char *config_dir, msgbuf *m)
{
    const char *value;
    const char *base;
    const char *rest;
    size_t len;
    int kind = row->kind;

    if (v == NULL || embedcfg_json_type_of(v) != EMBEDCFG_JSON_STRING) {
        return 0;  /* the shim reports wrong types; here only paths matter */
    }
    value = embedcfg_json_string_value(v, &len);
    if (value == NULL) {
        return 0;
    }
    if (row->library_names_allowed && value[0] != '$'
        && strchr(value, '/') == NULL) {
        return 0; /* a library name: dlopen searches the system directories only */
    }
    if (kind == EMBEDCFG_PATHSEC_CONTENTS && is_archive(value, len)) {
        kind = EMBEDCFG_PATHSEC_FILE;  /* an archive on the path is a file */
    }
    if (split_anchor(lab, value, origin, config_dir, &base, &rest, m) < 0) {
        return -1;
    }
    if (push(l, lab, join3(base, rest, ""), kind) < 0) {
        return refuse(m, "out of memory");
    }
    return 0;
}

/* The member `key` (`len` bytes, not NUL-terminated) of an object. */
static const embedcfg_json_value *
member(const embedcfg_json_value *object,
       const char *key, size_t len)
{
    size_t i;

    for (i = 0; i < embedcfg_json_object_len(object); i++) {
        size_t n;
        const char *k = embedcfg_json_object_key(object, i, &n);

        if (n == len && memcmp(k, key, len) == 0) {
            return embedcfg_json_object_value(object, i);
        }
    }
    return NULL;
}

/* Add every value below `v` that `where` (the rest of row->where) reaches;
 * `arrays` of the label's indexes are taken.  A value of another type than
 * `where` needs is skipped: the shim reports wrong types. */
static int
walk(item_list *l, const document_path *row, const char *where,
     const embedcfg_json_value *v, item_label *lab, size_t arrays,
     const char *origin, const char *config_dir, msgbuf *m)
{
    const char *end;
    const char *next;
    size_t n;
    size_t i;

    if (*where == '\0') {
        return add_item(l, lab, v, row, origin, config_dir, m);
    }
    end = strchr(where, '/');
    n = end != NULL ? (size_t)(end - where) : strlen(where);
    next = end != NULL ? end + 1 : where + n;
    if (n == 1 && where[0] == '*') {
        if (embedcfg_json_type_of(v) != EMBEDCFG_JSON_ARRAY
            || arrays >= PATH_ARRAYS) {
            return 0;
        }
        for (i = 0; i < embedcfg_json_array_len(v); i++) {
            lab->index[arrays] = i;
            if (walk(l, row, next, embedcfg_json_array_item(v, i), lab,
                     arrays + 1, origin, config_dir, m) < 0) {
                return -1;
            }
        }
        return 0;
    }
    if (embedcfg_json_type_of(v) != EMBEDCFG_JSON_OBJECT) {
        return 0;
    }
    v = member(v, where, n);
    if (v == NULL) {
        return 0;
    }
    return walk(l, row, next, v, lab, arrays, origin, config_dir, m);
}

int
embedcfg_pathsec_check_document(const embedcfg_json_value *doc,
                                const char *origin, const char *config_dir,
                                const char *default_lib,
                                char *err, size_t err_size)
{
    item_list l;
    msgbuf m;
    const embedcfg_json_value *options = NULL;
    const embedcfg_json_value *v;
    char *exe = NULL;
    size_t i;
    int rc = -1;

    memset(&l, 0, sizeof(l));
    m.buf = err;
    m.size = err_size;
    if (err != NULL && err_size > 0) {
        err[0] = '\0';
    }
    if (doc == NULL || embedcfg_json_type_of(doc) != EMBEDCFG_JSON_OBJECT) {
        return refuse(&m, "the document is not an object");
    }
    v = embedcfg_json_object_get(doc, "options");
    if (v != NULL && embedcfg_json_type_of(v) == EMBEDCFG_JSON_OBJECT) {
        options = v;
    }
    /* Without `lib`, the libpython the launcher would load. */
    if (embedcfg_json_object_get(doc, "lib") == NULL && default_lib != NULL
        && default_lib[0] == '/') {
        item_label lab;

        memset(&lab, 0, sizeof(lab));
        lab.text = "lib (the default libpython)";
        if (push(&l, &lab, dup_n(default_lib, strlen(default_lib)),
                 EMBEDCFG_PATHSEC_FILE) < 0) {
            refuse(&m, "out of memory");
            goto done;
        }
    }
    /* Every path the description says is loaded, as embedcfg.security
     * gathers them (document.document_paths). */
    for (i = 0; i < N_DOCUMENT_PATHS; i++) {
        item_label lab;

        memset(&lab, 0, sizeof(lab));
        lab.text = document_paths[i].where;
        lab.where = 1;
        if (walk(&l, &document_paths[i], document_paths[i].where, doc, &lab, 0,
                 origin, config_dir, &m) < 0) {
            goto done;
        }
    }
    if (check_all(l.items, l.labels, l.len, origin, err, err_size) < 0) {
        goto done;
    }
    /* CPython also looks for pyvenv.cfg beside and above the executable:
     * options.executable, else program_name when it is a path (without
     * either, the shim's default program_name is the launcher, whose
     * directory embedcfg_pathsec_check looked at above). */
    for (i = 0; i < 2 && options != NULL; i++) {
        const char *name = i == 0 ? "executable" : "program_name";
        const char *value;
        char label[64];
        item_label lab;

        v = embedcfg_json_object_get(options, name);
        if (v == NULL || embedcfg_json_type_of(v) != EMBEDCFG_JSON_STRING) {
            continue;
        }
        value = embedcfg_json_string_value(v, NULL);
        if (value == NULL || (value[0] != '$' && strchr(value, '/') == NULL)) {
            continue;
        }
        EMBEDCFG_FREE(exe);
        lab.text = name;
        lab.where = 0;
        exe = expand(&lab, value, origin, config_dir, &m);
        if (exe == NULL) {
            if (err != NULL && err_size > 0) {
                err[0] = '\0';  /* not expandable: the shim reports it */
            }
            continue;
        }
        to_parent(exe);
        snprintf(label, sizeof(label), "the directory of option '%s'", name);
        if (check_pyvenv(label, exe, &m) < 0) {
            goto done;
        }
    }
    rc = 0;

done:
    EMBEDCFG_FREE(exe);
    for (i = 0; i < l.len; i++) {
        EMBEDCFG_FREE((char *)l.items[i].path);  /* the list's own */
    }
    EMBEDCFG_FREE(l.items);
    EMBEDCFG_FREE(l.labels);
    return rc;
}
