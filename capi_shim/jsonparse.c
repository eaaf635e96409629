/* embedcfg document parser; see jsonparse.h for the accepted language.
 *
 * Shape: the whole buffer is first checked as UTF-8 (so the grammar below
 * only ever sees valid text without NULs), then parsed by recursive descent.
 * Recursion is safe because nesting is capped at EMBEDCFG_JSON_MAX_DEPTH.
 * The items of the arrays and objects being parsed wait on two stacks; a
 * closed container takes exactly its items from them into one allocation
 * of its own.  Everything a parse allocates belongs to the tree or to the
 * parser, so any failure can simply return and let the top level free it
 * all at once. */

#include "jsonparse.h"
#include "utf8.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Overridable so the tests can inject allocation failures and prove that
 * every one of them is reported and leaks nothing.  Built into the
 * launcher, the tree comes from the launcher's arena (arena.h). */
#if defined(EMBEDCFG_LAUNCHER) && !defined(EMBEDCFG_JSON_MALLOC)
#  include "arena.h"
#  define EMBEDCFG_JSON_MALLOC EMBEDCFG_MALLOC
#  define EMBEDCFG_JSON_REALLOC EMBEDCFG_REALLOC
#  define EMBEDCFG_JSON_FREE EMBEDCFG_FREE
#endif
#ifndef EMBEDCFG_JSON_MALLOC
#  define EMBEDCFG_JSON_MALLOC malloc
#endif
#ifndef EMBEDCFG_JSON_REALLOC
#  define EMBEDCFG_JSON_REALLOC realloc
#endif
#ifndef EMBEDCFG_JSON_FREE
#  define EMBEDCFG_JSON_FREE free
#endif

#if defined(__GNUC__)
#  define EMBEDCFG_JSON_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#  define EMBEDCFG_JSON_PRINTF(f, a)
#endif

typedef struct embedcfg_json_member member;

struct embedcfg_json_value {
    embedcfg_json_type type;
    size_t offset;
    union {
        int boolean;
        int64_t integer;
        struct { char *bytes; size_t len; } string;
        struct { embedcfg_json_value *items; size_t len, cap; } array;
        struct { member *members; size_t len, cap; } object;
    } u;
};

struct embedcfg_json_member {
    char *key;
    size_t key_len;
    size_t key_offset;
    embedcfg_json_value value;
};

/* What embedcfg_json_parse() returns: the root value first (the pointer
 * the caller holds), then the block every string and key of the tree lives
 * in.  Decoding never makes a string longer than its quoted source, so one
 * block as long as the document holds them all: one allocation instead of
 * one per string, and one free. */
typedef struct {
    embedcfg_json_value value;
    char *strings;
} tree;

typedef struct {
    const unsigned char *buf;
    size_t len;
    size_t pos;
    int depth;
    embedcfg_json_error *err;
    tree *root;
    size_t strings_used;
    /* the items of the open arrays, innermost last */
    embedcfg_json_value *items;
    size_t items_len;
    size_t items_cap;
    /* the members of the open objects, innermost last */
    member *members;
    size_t members_len;
    size_t members_cap;
} parser;

/* The first '"', '\\' or byte below 0x20 at or after s[i], or len: where
 * a string's plain run ends. */
static size_t
plain_run(const unsigned char *s, size_t i, size_t len)
{
    while (i < len && s[i] != '"' && s[i] != '\\' && s[i] >= 0x20) {
        i++;
    }
    return i;
}

static int parse_value(parser *p, embedcfg_json_value *v);
static void free_value(embedcfg_json_value *v);

static void set_error(parser *p, size_t offset, const char *fmt, ...)
    EMBEDCFG_JSON_PRINTF(3, 4);

static void
set_error(parser *p, size_t offset, const char *fmt, ...)
{
    va_list args;

    p->err->offset = offset;
    va_start(args, fmt);
    vsnprintf(p->err->message, sizeof(p->err->message), fmt, args);
    va_end(args);
}

static void
set_oom(parser *p, size_t offset)
{
    set_error(p, offset, "out of memory");
}

static int
is_ws(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int
is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int
is_word_char(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c)
           || c == '_';
}

static int
peek(const parser *p)
{
    return p->pos < p->len ? p->buf[p->pos] : -1;
}

/* Inline: called between every two tokens, and a canonical document has
 * no whitespace at all, so the call was all it cost. */
static inline void
skip_ws(parser *p)
{
    while (p->pos < p->len && is_ws(p->buf[p->pos])) {
        p->pos++;
    }
}

/* Messages say what was found, and raw bytes (a newline, a NUL-free but
 * unprintable byte, half of a character) would garble them. */
static const char *
describe(const parser *p, size_t pos, char *out, size_t size)
{
    const unsigned char *s = p->buf;
    unsigned long cp;
    size_t n, i;

    if (pos >= p->len) {
        return "end of input";
    }
    if (s[pos] == '\'') {
        return "\"'\"";
    }
    if (s[pos] >= 0x20 && s[pos] < 0x7f) {
        snprintf(out, size, "'%c'", s[pos]);
        return out;
    }
    if (s[pos] < 0x80) {
        snprintf(out, size, "control character U+%04X", (unsigned)s[pos]);
        return out;
    }
    /* The encoding check has run, but stay in bounds regardless. */
    if (s[pos] < 0xE0) {
        n = 2;
        cp = s[pos] & 0x1Fu;
    }
    else if (s[pos] < 0xF0) {
        n = 3;
        cp = s[pos] & 0x0Fu;
    }
    else {
        n = 4;
        cp = s[pos] & 0x07u;
    }
    for (i = 1; i < n && pos + i < p->len; i++) {
        cp = (cp << 6) | (s[pos + i] & 0x3Fu);
    }
    snprintf(out, size, "U+%04lX", cp);
    return out;
}

/* The encoding: valid UTF-8 (utf8.h), no NUL, no byte order mark. */
static int
check_encoding(parser *p)
{
    const unsigned char *s = p->buf;
    size_t at = 0;

    if (p->len >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF) {
        set_error(p, 0, "UTF-8 byte order mark not allowed; "
                        "save the file without a BOM");
        return -1;
    }
    switch (embedcfg__utf8_check((const char *)s, p->len, &at)) {
    case EMBEDCFG_UTF8_OK:
        return 0;
    case EMBEDCFG_UTF8_NUL:
        set_error(p, at, "NUL character not allowed");
        break;
    case EMBEDCFG_UTF8_CONTINUATION:
        set_error(p, at, "invalid UTF-8: unexpected continuation byte "
                         "0x%02X", (unsigned)s[at]);
        break;
    case EMBEDCFG_UTF8_OVERLONG:
        set_error(p, at, "invalid UTF-8: overlong encoding");
        break;
    case EMBEDCFG_UTF8_NEVER:
        set_error(p, at, "invalid UTF-8: byte 0x%02X never appears in "
                         "UTF-8", (unsigned)s[at]);
        break;
    case EMBEDCFG_UTF8_TOO_LARGE:
        set_error(p, at, "invalid UTF-8: code point above U+10FFFF");
        break;
    case EMBEDCFG_UTF8_TRUNCATED:
        set_error(p, at, "invalid UTF-8: truncated sequence");
        break;
    case EMBEDCFG_UTF8_SURROGATE:
        set_error(p, at, "invalid UTF-8: surrogate code point "
                         "encoded in UTF-8");
        break;
    }
    return -1;
}

static int
read_hex4(const parser *p, size_t pos, unsigned long *out)
{
    unsigned long value = 0;
    size_t i;

    if (pos > p->len || p->len - pos < 4) {
        return -1;
    }
    for (i = pos; i < pos + 4; i++) {
        int c = p->buf[i];
        unsigned long digit;

        if (is_digit(c)) {
            digit = (unsigned long)(c - '0');
        }
        else if (c >= 'a' && c <= 'f') {
            digit = (unsigned long)(c - 'a' + 10);
        }
        else if (c >= 'A' && c <= 'F') {
            digit = (unsigned long)(c - 'A' + 10);
        }
        else {
            return -1;
        }
        value = (value << 4) | digit;
    }
    *out = value;
    return 0;
}

static size_t
encode_utf8(unsigned long cp, unsigned char *dst)
{
    if (cp < 0x80) {
        dst[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        dst[0] = (unsigned char)(0xC0 | (cp >> 6));
        dst[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        dst[0] = (unsigned char)(0xE0 | (cp >> 12));
        dst[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        dst[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    dst[0] = (unsigned char)(0xF0 | (cp >> 18));
    dst[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    dst[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    dst[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Decodes the escape at p->pos (a backslash) into dst + *n.  Every escape
 * produces fewer bytes than it consumes, which parse_string relies on. */
static int
parse_escape(parser *p, unsigned char *dst, size_t *n)
{
    const unsigned char *s = p->buf;
    size_t at = p->pos;
    unsigned long cp, low;
    unsigned char simple;
    char found[48];

    switch (s[at + 1]) {
    case '"': simple = '"'; break;
    case '\\': simple = '\\'; break;
    case '/': simple = '/'; break;
    case 'b': simple = '\b'; break;
    case 'f': simple = '\f'; break;
    case 'n': simple = '\n'; break;
    case 'r': simple = '\r'; break;
    case 't': simple = '\t'; break;
    case 'u': simple = 0; break;
    default:
        set_error(p, at, "invalid escape in string: '\\' followed by %s; "
                         "valid escapes are \\\" \\\\ \\/ \\b \\f \\n \\r \\t "
                         "\\uXXXX", describe(p, at + 1, found, sizeof(found)));
        return -1;
    }
    if (simple != 0) {
        dst[(*n)++] = simple;
        p->pos = at + 2;
        return 0;
    }

    if (read_hex4(p, at + 2, &cp) < 0) {
        set_error(p, at, "invalid \\u escape: expected 4 hex digits");
        return -1;
    }
    if (cp == 0) {
        set_error(p, at, "NUL character not allowed");
        return -1;
    }
    if (cp >= 0xDC00 && cp <= 0xDFFF) {
        set_error(p, at, "unpaired UTF-16 surrogate \\u%04lX: a low surrogate "
                         "must follow a high surrogate", cp);
        return -1;
    }
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        /* Anything but a following low surrogate escape would leave half a
         * character, which UTF-8 cannot represent. */
        if (at + 7 >= p->len || s[at + 6] != '\\' || s[at + 7] != 'u'
            || read_hex4(p, at + 8, &low) < 0
            || low < 0xDC00 || low > 0xDFFF)
        {
            set_error(p, at, "unpaired UTF-16 surrogate \\u%04lX: a high "
                             "surrogate must be followed by a low surrogate "
                             "escape (\\uDC00-\\uDFFF)", cp);
            return -1;
        }
        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        p->pos = at + 12;
    }
    else {
        p->pos = at + 6;
    }
    *n += encode_utf8(cp, dst + *n);
    return 0;
}

/* p->pos is at the opening quote.  On success *out is the NUL-terminated
 * string (in the tree's block) and p->pos is just past the closing quote. */
static int
parse_string(parser *p, char **out, size_t *out_len)
{
    const unsigned char *s = p->buf;
    size_t start = p->pos;
    size_t end;
    unsigned char *dst = NULL;
    size_t n = 0;
    int result = -1;

    if (p->root->strings == NULL) {
        /* every string's share (end - start) is disjoint: the document's
         * length is enough for all of them */
        p->root->strings = EMBEDCFG_JSON_MALLOC(p->len);
        if (p->root->strings == NULL) {
            set_oom(p, start);
            goto done;
        }
    }
    dst = (unsigned char *)p->root->strings + p->strings_used;
    /* The plain run (no escape, no control character) is copied at once;
     * the loop below goes on from where it ends: at the closing quote for
     * almost every string.  Errors are left to the loop, which reports
     * them in document order. */
    end = plain_run(s, start + 1, p->len);
    n = end - start - 1;
    memcpy(dst, s + start + 1, n);
    p->pos = end;
    for (;;) {
        unsigned char c;

        if (p->pos >= p->len || (s[p->pos] == '\\' && p->pos + 1 >= p->len)) {
            set_error(p, start, "unterminated string: missing closing '\"'");
            goto done;
        }
        c = s[p->pos];
        if (c == '"') {
            break;
        }
        if (c < 0x20) {
            set_error(p, p->pos, "unescaped control character U+%04X in "
                                 "string; write it as an escape such as "
                                 "\\n or \\u%04x", (unsigned)c, (unsigned)c);
            goto done;
        }
        if (c == '\\') {
            if (parse_escape(p, dst, &n) < 0) {
                goto done;
            }
            continue;
        }
        dst[n++] = c;
        p->pos++;
    }
    p->pos++;
    dst[n] = '\0';
    *out = (char *)dst;
    *out_len = n;
    p->strings_used += n + 1;
    result = 0;

done:
    return result;
}

static int
parse_number(parser *p, embedcfg_json_value *v)
{
    const unsigned char *s = p->buf;
    size_t start = p->pos, i = start, digits;
    int negative = 0;
    uint64_t magnitude = 0, limit;

    if (s[i] == '-') {
        negative = 1;
        i++;
    }
    if (i >= p->len || !is_digit(s[i])) {
        set_error(p, start, "expected a digit after '-'");
        return -1;
    }
    if (s[i] == '0' && i + 1 < p->len && is_digit(s[i + 1])) {
        set_error(p, start, "leading zeros are not allowed in a number");
        return -1;
    }
    digits = i;
    while (i < p->len && is_digit(s[i])) {
        i++;
    }
    /* Every option the shim sets is an int, a bool, a string or a list of
     * strings; a float is always a mistake, and rounding one silently would
     * hide it. */
    if (i < p->len && (s[i] == '.' || s[i] == 'e' || s[i] == 'E')) {
        set_error(p, start, "only integers are allowed, found a number with "
                            "a fraction or an exponent");
        return -1;
    }
    limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; digits < i; digits++) {
        uint64_t d = (uint64_t)(s[digits] - '0');

        if (magnitude > (limit - d) / 10) {
            set_error(p, start, "integer out of range: must be between "
                                "-9223372036854775808 and "
                                "9223372036854775807");
            return -1;
        }
        magnitude = magnitude * 10 + d;
    }
    v->type = EMBEDCFG_JSON_INT;
    if (negative && magnitude != 0) {
        /* -(2**63) has no positive int64_t counterpart to negate. */
        v->u.integer = -(int64_t)(magnitude - 1) - 1;
    }
    else {
        v->u.integer = (int64_t)magnitude;
    }
    p->pos = i;
    return 0;
}

/* Reads the whole run of letters so that "truex" is one bad word rather than
 * "true" followed by garbage. */
static int
parse_word(parser *p, embedcfg_json_value *v)
{
    const char *word = (const char *)p->buf + p->pos;
    size_t n = 0;
    int shown;

    while (p->pos + n < p->len && is_word_char(p->buf[p->pos + n])) {
        n++;
    }
    if (n == 4 && memcmp(word, "true", 4) == 0) {
        v->type = EMBEDCFG_JSON_BOOL;
        v->u.boolean = 1;
    }
    else if (n == 5 && memcmp(word, "false", 5) == 0) {
        v->type = EMBEDCFG_JSON_BOOL;
        v->u.boolean = 0;
    }
    else if (n == 4 && memcmp(word, "null", 4) == 0) {
        v->type = EMBEDCFG_JSON_NULL;
    }
    else {
        shown = n > 32 ? 32 : (int)n;
        set_error(p, p->pos, "invalid literal '%.*s%s'; only true, false and "
                             "null are allowed (strings need double quotes)",
                  shown, word, n > 32 ? "..." : "");
        return -1;
    }
    p->pos += n;
    return 0;
}

/* Room for one more entry on a stack of `size`-byte entries: 0, or -1
 * with the stack untouched. */
static int
stack_room(void **stack, size_t len, size_t *cap, size_t size)
{
    void *grown;
    size_t new_cap;

    if (len < *cap) {
        return 0;
    }
    if (*cap > SIZE_MAX / 2 / size) {
        return -1;
    }
    new_cap = *cap == 0 ? 32 : *cap * 2;
    grown = EMBEDCFG_JSON_REALLOC(*stack, new_cap * size);
    if (grown == NULL) {
        return -1;
    }
    *stack = grown;
    *cap = new_cap;
    return 0;
}

/* The last `n` entries of a stack, moved to an allocation of their own;
 * NULL for none. */
static int
take_entries(void **out, const void *stack, size_t n, size_t size)
{
    *out = NULL;
    if (n == 0) {
        return 0;
    }
    *out =
        EMBEDCFG_JSON_MALLOC(n * size); /* n * size is on the stack already */
    if (*out == NULL) {
        return -1;
    }
    memcpy(*out, stack, n * size);
    return 0;
}

static int
parse_array(parser *p, embedcfg_json_value *v)
{
    size_t comma = 0;
    int after_comma = 0;
    size_t base = p->items_len;
    char found[48];
    void *items;

    v->type = EMBEDCFG_JSON_ARRAY;
    v->u.array.items = NULL;
    v->u.array.len = 0;
    v->u.array.cap = 0;
    p->pos++;
    skip_ws(p);
    if (peek(p) == ']') {
        p->pos++;
        return 0;
    }
    for (;;) {
        embedcfg_json_value item;

        if (after_comma && peek(p) == ']') {
            set_error(p, comma, "trailing comma before ']' is not allowed");
            return -1;
        }
        /* parsed aside: a nested container uses (and may move) the stack */
        item.type = EMBEDCFG_JSON_NULL;
        if (parse_value(p, &item) < 0) {
            return -1;
        }
        if (stack_room((void **)&p->items, p->items_len, &p->items_cap,
                       sizeof(*p->items)) < 0) {
            free_value(&item);
            set_oom(p, p->pos);
            return -1;
        }
        p->items[p->items_len++] = item;
        skip_ws(p);
        if (peek(p) == ',') {
            comma = p->pos++;
            after_comma = 1;
            skip_ws(p);
            continue;
        }
        if (peek(p) == ']') {
            p->pos++;
            break;
        }
        set_error(p, p->pos, "expected ',' or ']' after array element, "
                             "found %s",
                  describe(p, p->pos, found, sizeof(found)));
        return -1;
    }
    if (take_entries(&items, p->items + base, p->items_len - base,
                     sizeof(*p->items)) < 0) {
        set_oom(p, v->offset);
        return -1;
    }
    v->u.array.items = (embedcfg_json_value *)items;
    v->u.array.len = v->u.array.cap = p->items_len - base;
    p->items_len = base;
    return 0;
}

static int
compare_members(const void *a, const void *b)
{
    const member *x = *(const member *const *)a;
    const member *y = *(const member *const *)b;
    int c;

    if (x->key_len != y->key_len) {
        return x->key_len < y->key_len ? -1 : 1;
    }
    c = memcmp(x->key, y->key, x->key_len);
    if (c != 0) {
        return c;
    }
    return x->key_offset < y->key_offset ? -1 : 1;
}

/* Finds the first member, in document order, whose key repeats an earlier
 * key.  Sorting keeps this O(n log n): comparing every pair would let a
 * large object make parsing quadratic.  Returns 1 when found, 0 when not,
 * -1 when out of memory. */
static int
find_duplicate(const embedcfg_json_value *v, const member **dup,
               const member **first)
{
    const member **sorted;
    const member *on_stack[64];
    size_t n = v->u.object.len, i, j, group = 0;

    *dup = NULL;
    *first = NULL;
    if (n < 2) {
        return 0;
    }
    /* Keys in strictly increasing order (a canonical document sorts them)
     * cannot repeat: one pass over neighbours settles it. */
    for (i = 1; i < n; i++) {
        const member *a = &v->u.object.members[i - 1];
        const member *b = &v->u.object.members[i];
        size_t common = a->key_len < b->key_len ? a->key_len : b->key_len;
        int c = memcmp(a->key, b->key, common);

        if (c > 0 || (c == 0 && a->key_len >= b->key_len)) {
            break;
        }
    }
    if (i == n) {
        return 0;
    }
    if (n <= 32) {
        /* Up to 32 members (every object of a typical document, options
         * included): comparing the pairs in document order, mostly by
         * length, is cheaper than qsort, and finds the same member and the
         * same first definition. */
        for (i = 1; i < n; i++) {
            const member *m = &v->u.object.members[i];

            for (j = 0; j < i; j++) {
                const member *o = &v->u.object.members[j];

                if (o->key_len == m->key_len
                    && memcmp(o->key, m->key, m->key_len) == 0)
                {
                    *dup = m;
                    *first = o;
                    return 1;
                }
            }
        }
        return 0;
    }
    if (n <= sizeof(on_stack) / sizeof(on_stack[0])) {
        sorted = on_stack;
    }
    else {
        if (n > SIZE_MAX / sizeof(*sorted)) {
            return -1;
        }
        sorted = EMBEDCFG_JSON_MALLOC(n * sizeof(*sorted));
        if (sorted == NULL) {
            return -1;
        }
    }
    for (i = 0; i < n; i++) {
        sorted[i] = &v->u.object.members[i];
    }
    qsort(sorted, n, sizeof(*sorted), compare_members);
    for (i = 1; i < n; i++) {
        if (sorted[i]->key_len == sorted[group]->key_len
            && memcmp(sorted[i]->key, sorted[group]->key,
                      sorted[i]->key_len) == 0)
        {
            if (*dup == NULL || sorted[i]->key_offset < (*dup)->key_offset) {
                *dup = sorted[i];
                *first = sorted[group];
            }
        }
        else {
            group = i;
        }
    }
    if (sorted != on_stack) {
        EMBEDCFG_JSON_FREE(sorted);
    }
    return *dup != NULL;
}

/* Keys can hold quotes, control characters (decoded from escapes) and any
 * length; render them escaped and bounded so the message stays readable and
 * never cuts a UTF-8 sequence in half. */
static void
render_key(const member *m, char *out, size_t size)
{
    const unsigned char *k = (const unsigned char *)m->key;
    size_t i = 0, n = 0;

    while (i < m->key_len) {
        char piece[8];
        size_t piece_len, step;

        if (k[i] == '"' || k[i] == '\\') {
            piece[0] = '\\';
            piece[1] = (char)k[i];
            piece_len = 2;
            step = 1;
        }
        else if (k[i] < 0x20) {
            snprintf(piece, sizeof(piece), "\\u%04x", (unsigned)k[i]);
            piece_len = 6;
            step = 1;
        }
        else {
            step = k[i] < 0x80 ? 1 : k[i] < 0xE0 ? 2 : k[i] < 0xF0 ? 3 : 4;
            if (step > m->key_len - i) {
                step = m->key_len - i;
            }
            memcpy(piece, k + i, step);
            piece_len = step;
        }
        /* Keep room for "..." and the NUL. */
        if (n + piece_len + 4 > size) {
            memcpy(out + n, "...", 4);
            return;
        }
        memcpy(out + n, piece, piece_len);
        n += piece_len;
        i += step;
    }
    out[n] = '\0';
}

static void
report_duplicate(parser *p, const member *dup, const member *first)
{
    char key[64];

    render_key(dup, key, sizeof(key));
    set_error(p, dup->key_offset, "duplicate key \"%s\" (first defined at "
                                  "byte %zu)", key, first->key_offset);
}

static int
parse_object(parser *p, embedcfg_json_value *v)
{
    size_t comma = 0;
    int after_comma = 0;
    int result = -1;
    size_t base = p->members_len;
    size_t n = 0;  /* this object's members on the stack */
    const member *dup, *first;
    char found[48];
    embedcfg_json_value partial;
    void *members;

    v->type = EMBEDCFG_JSON_OBJECT;
    v->u.object.members = NULL;
    v->u.object.len = 0;
    v->u.object.cap = 0;
    p->pos++;
    skip_ws(p);
    if (peek(p) == '}') {
        p->pos++;
        return 0;
    }
    for (;;) {
        size_t at = p->members_len;
        embedcfg_json_value value;

        if (peek(p) != '"') {
            if (after_comma && peek(p) == '}') {
                set_error(p, comma, "trailing comma before '}' is not "
                                    "allowed");
            }
            else {
                set_error(p, p->pos, "expected a string key, found %s",
                          describe(p, p->pos, found, sizeof(found)));
            }
            goto error;
        }
        if (stack_room((void **)&p->members, p->members_len, &p->members_cap,
                       sizeof(*p->members)) < 0) {
            set_oom(p, p->pos);
            goto error;
        }
        /* the member is on the stack from its key on (a duplicate before
         * a later error is still found), and it is addressed by index: a
         * nested object may move the stack */
        p->members[at].key_offset = p->pos;
        p->members[at].value.type = EMBEDCFG_JSON_NULL;
        if (parse_string(p, &p->members[at].key, &p->members[at].key_len)
            < 0) {
            goto error;
        }
        p->members_len++;
        n++;

        skip_ws(p);
        if (peek(p) != ':') {
            set_error(p, p->pos, "expected ':' after object key, found %s",
                      describe(p, p->pos, found, sizeof(found)));
            goto error;
        }
        p->pos++;
        skip_ws(p);
        value.type = EMBEDCFG_JSON_NULL;
        if (parse_value(p, &value) < 0) {
            goto error;
        }
        p->members[at].value = value;
        skip_ws(p);
        if (peek(p) == ',') {
            comma = p->pos++;
            after_comma = 1;
            skip_ws(p);
            continue;
        }
        if (peek(p) == '}') {
            p->pos++;
            break;
        }
        set_error(p, p->pos, "expected ',' or '}' after object member, "
                             "found %s",
                  describe(p, p->pos, found, sizeof(found)));
        goto error;
    }

    if (take_entries(&members, p->members + base, n, sizeof(*p->members))
        < 0) {
        set_oom(p, v->offset);
        return -1;
    }
    v->u.object.members = (member *)members;
    v->u.object.len = v->u.object.cap = n;
    p->members_len = base;
    switch (find_duplicate(v, &dup, &first)) {
    case 0:
        result = 0;
        break;
    case 1:
        report_duplicate(p, dup, first);
        break;
    default:
        set_oom(p, v->offset);
        break;
    }
    if (result < 0) {
        /* a failed value owns nothing: the caller drops it */
        free_value(v);
    }
    return result;

error:
    /* Duplicates are only looked for once the object is complete, so an
     * error found later in it must give way to a duplicate key before it:
     * the first error in the document is the one to report.  This object's
     * members so far are the stack's entries from `base` on, below those
     * of any object nested in the failed value. */
    partial = *v;
    partial.u.object.members = p->members + base;
    partial.u.object.len = n;
    switch (find_duplicate(&partial, &dup, &first)) {
    case 0:
        break;
    case 1:
        if (dup->key_offset < p->err->offset) {
            report_duplicate(p, dup, first);
        }
        break;
    default:
        set_oom(p, v->offset);
        break;
    }
    return -1;
}

static int
parse_value(parser *p, embedcfg_json_value *v)
{
    int c = peek(p), result;
    char found[48];
    char *bytes;
    size_t len;

    v->offset = p->pos;
    if (c == '{' || c == '[') {
        if (p->depth >= EMBEDCFG_JSON_MAX_DEPTH) {
            set_error(p, p->pos, "nesting deeper than %d arrays and objects",
                      EMBEDCFG_JSON_MAX_DEPTH);
            return -1;
        }
        p->depth++;
        result = c == '{' ? parse_object(p, v) : parse_array(p, v);
        p->depth--;
        return result;
    }
    if (c == '"') {
        if (parse_string(p, &bytes, &len) < 0) {
            return -1;
        }
        v->type = EMBEDCFG_JSON_STRING;
        v->u.string.bytes = bytes;
        v->u.string.len = len;
        return 0;
    }
    if (c == '-' || is_digit(c)) {
        return parse_number(p, v);
    }
    if (c == '+') {
        set_error(p, p->pos, "a number must not start with '+'");
        return -1;
    }
    if (is_word_char(c)) {
        return parse_word(p, v);
    }
    set_error(p, p->pos, "expected a value, found %s",
              describe(p, p->pos, found, sizeof(found)));
    return -1;
}

/* Frees what `v` owns: its items or members, and theirs. */
static void
free_value(embedcfg_json_value *v)
{
    size_t i;

    if (v->type == EMBEDCFG_JSON_ARRAY) {
        for (i = 0; i < v->u.array.len; i++) {
            free_value(&v->u.array.items[i]);
        }
        EMBEDCFG_JSON_FREE(v->u.array.items);
    }
    else if (v->type == EMBEDCFG_JSON_OBJECT) {
        for (i = 0; i < v->u.object.len; i++) {
            free_value(&v->u.object.members[i].value);
        }
        EMBEDCFG_JSON_FREE(v->u.object.members);
    }
    v->type = EMBEDCFG_JSON_NULL;
}

void
embedcfg_json_free(embedcfg_json_value *value)
{
    if (value != NULL) {
        tree *t =
            (tree *)(void *)value; /* the value is a tree's first member */

        free_value(&t->value);
        EMBEDCFG_JSON_FREE(t->strings);
        EMBEDCFG_JSON_FREE(t);
    }
}

static void
locate(const unsigned char *s, embedcfg_json_error *err)
{
    size_t i;

    err->line = 1;
    err->column = 1;
    for (i = 0; i < err->offset; i++) {
        if (s[i] == '\n') {
            err->line++;
            err->column = 1;
        }
        else if ((s[i] & 0xC0) != 0x80) {
            err->column++;
        }
    }
}

int
embedcfg_json_parse(const char *buf, size_t len, size_t max_len,
                    embedcfg_json_value **out, embedcfg_json_error *err)
{
    embedcfg_json_error scratch;
    tree *root = NULL;
    parser p;
    char found[48];
    int result = -1;

    p.buf = (const unsigned char *)buf;
    p.len = len;
    p.pos = 0;
    p.depth = 0;
    p.err = err != NULL ? err : &scratch;
    p.err->offset = 0;
    p.err->message[0] = '\0';
    p.root = NULL;
    p.strings_used = 0;
    p.items = NULL;
    p.items_len = p.items_cap = 0;
    p.members = NULL;
    p.members_len = p.members_cap = 0;

    if (out != NULL) {
        *out = NULL;
    }
    if (out == NULL || (buf == NULL && len != 0)) {
        set_error(&p, 0, "invalid arguments: no output pointer or no buffer");
        p.len = 0;
        goto done;
    }
    if (len > max_len) {
        set_error(&p, max_len, "document is larger than the limit of %zu "
                               "bytes", max_len);
        goto done;
    }
    if (check_encoding(&p) < 0) {
        goto done;
    }
    root = EMBEDCFG_JSON_MALLOC(sizeof(*root));
    if (root == NULL) {
        set_oom(&p, 0);
        goto done;
    }
    root->value.type = EMBEDCFG_JSON_NULL;
    root->strings = NULL;
    p.root = root;
    skip_ws(&p);
    if (p.pos >= p.len) {
        set_error(&p, p.pos, "empty document: expected a JSON value");
        goto done;
    }
    if (parse_value(&p, &root->value) < 0) {
        goto done;
    }
    skip_ws(&p);
    if (p.pos < p.len) {
        set_error(&p, p.pos, "expected end of input after the top-level "
                             "value, found %s",
                  describe(&p, p.pos, found, sizeof(found)));
        goto done;
    }
    *out = &root->value;
    root = NULL;
    result = 0;

done:
    /* after an error, the values the open containers had so far */
    while (p.items_len > 0) {
        free_value(&p.items[--p.items_len]);
    }
    while (p.members_len > 0) {
        free_value(&p.members[--p.members_len].value);
    }
    EMBEDCFG_JSON_FREE(p.items);
    EMBEDCFG_JSON_FREE(p.members);
    embedcfg_json_free(root != NULL ? &root->value : NULL);
    if (result < 0) {
        if (p.err->offset > p.len) {
            p.err->offset = p.len;
        }
        locate(p.buf, p.err);
    }
    return result;
}

embedcfg_json_type
embedcfg_json_type_of(const embedcfg_json_value *value)
{
    return value != NULL ? value->type : EMBEDCFG_JSON_NULL;
}

const char *
embedcfg_json_type_name(embedcfg_json_type type)
{
    switch (type) {
    case EMBEDCFG_JSON_NULL: return "null";
    case EMBEDCFG_JSON_BOOL: return "boolean";
    case EMBEDCFG_JSON_INT: return "integer";
    case EMBEDCFG_JSON_STRING: return "string";
    case EMBEDCFG_JSON_ARRAY: return "array";
    case EMBEDCFG_JSON_OBJECT: return "object";
    }
    return "unknown";
}

size_t
embedcfg_json_offset(const embedcfg_json_value *value)
{
    return value != NULL ? value->offset : 0;
}

int
embedcfg_json_bool_value(const embedcfg_json_value *value)
{
    if (value == NULL || value->type != EMBEDCFG_JSON_BOOL) {
        return 0;
    }
    return value->u.boolean;
}

int64_t
embedcfg_json_int_value(const embedcfg_json_value *value)
{
    if (value == NULL || value->type != EMBEDCFG_JSON_INT) {
        return 0;
    }
    return value->u.integer;
}

const char *
embedcfg_json_string_value(const embedcfg_json_value *value, size_t *len)
{
    if (value == NULL || value->type != EMBEDCFG_JSON_STRING) {
        if (len != NULL) {
            *len = 0;
        }
        return NULL;
    }
    if (len != NULL) {
        *len = value->u.string.len;
    }
    return value->u.string.bytes;
}

size_t
embedcfg_json_array_len(const embedcfg_json_value *array)
{
    if (array == NULL || array->type != EMBEDCFG_JSON_ARRAY) {
        return 0;
    }
    return array->u.array.len;
}

const embedcfg_json_value *
embedcfg_json_array_item(const embedcfg_json_value *array, size_t index)
{
    if (index >= embedcfg_json_array_len(array)) {
        return NULL;
    }
    return &array->u.array.items[index];
}

size_t
embedcfg_json_object_len(const embedcfg_json_value *object)
{
    if (object == NULL || object->type != EMBEDCFG_JSON_OBJECT) {
        return 0;
    }
    return object->u.object.len;
}

const char *
embedcfg_json_object_key(const embedcfg_json_value *object, size_t index,
                         size_t *len)
{
    if (index >= embedcfg_json_object_len(object)) {
        if (len != NULL) {
            *len = 0;
        }
        return NULL;
    }
    if (len != NULL) {
        *len = object->u.object.members[index].key_len;
    }
    return object->u.object.members[index].key;
}

const embedcfg_json_value *
embedcfg_json_object_value(const embedcfg_json_value *object, size_t index)
{
    if (index >= embedcfg_json_object_len(object)) {
        return NULL;
    }
    return &object->u.object.members[index].value;
}

const embedcfg_json_value *
embedcfg_json_object_get(const embedcfg_json_value *object, const char *key)
{
    size_t i, n, key_len;

    if (key == NULL) {
        return NULL;
    }
    n = embedcfg_json_object_len(object);
    key_len = strlen(key);
    for (i = 0; i < n; i++) {
        const member *m = &object->u.object.members[i];

        if (m->key_len == key_len && memcmp(m->key, key, key_len) == 0) {
            return &m->value;
        }
    }
    return NULL;
}
