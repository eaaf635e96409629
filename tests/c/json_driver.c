/* Test driver for the document parser.
 *
 *     json_driver [FILE]        (standard input when FILE is absent)
 *
 * Prints "ok" and the document re-serialized on one line, compact, members
 * in document order, strings escaped as Python's json.dumps(...,
 * ensure_ascii=False) escapes them, so tests can compare with Python; exits 0.
 * Or prints "error at byte N: message" and exits 1.  Only when the input
 * cannot be read at all does it write to stderr and exit 2, so that a test
 * can tell a driver problem from a parse result.
 *
 * It also cross-checks the accessors against each other and aborts on any
 * disagreement, which turns an accessor bug into a crash the tests see. */

#include "jsonparse.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
check(int condition)
{
    if (!condition) {
        abort();
    }
}

static void
write_string(const char *s, size_t len)
{
    size_t i;

    putchar('"');
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        switch (c) {
        case '"': fputs("\\\"", stdout); break;
        case '\\': fputs("\\\\", stdout); break;
        case '\b': fputs("\\b", stdout); break;
        case '\f': fputs("\\f", stdout); break;
        case '\n': fputs("\\n", stdout); break;
        case '\r': fputs("\\r", stdout); break;
        case '\t': fputs("\\t", stdout); break;
        default:
            if (c < 0x20) {
                printf("\\u%04x", (unsigned)c);
            }
            else {
                putchar(c);
            }
        }
    }
    putchar('"');
}

static void
write_value(const embedcfg_json_value *v)
{
    size_t i, n, len;
    const char *s;

    switch (embedcfg_json_type_of(v)) {
    case EMBEDCFG_JSON_NULL:
        fputs("null", stdout);
        break;
    case EMBEDCFG_JSON_BOOL:
        fputs(embedcfg_json_bool_value(v) ? "true" : "false", stdout);
        break;
    case EMBEDCFG_JSON_INT:
        printf("%" PRId64, embedcfg_json_int_value(v));
        break;
    case EMBEDCFG_JSON_STRING:
        s = embedcfg_json_string_value(v, &len);
        check(s != NULL && strlen(s) == len);
        write_string(s, len);
        break;
    case EMBEDCFG_JSON_ARRAY:
        n = embedcfg_json_array_len(v);
        check(embedcfg_json_array_item(v, n) == NULL);
        putchar('[');
        for (i = 0; i < n; i++) {
            if (i > 0) {
                putchar(',');
            }
            write_value(embedcfg_json_array_item(v, i));
        }
        putchar(']');
        break;
    case EMBEDCFG_JSON_OBJECT:
        n = embedcfg_json_object_len(v);
        check(embedcfg_json_object_key(v, n, NULL) == NULL);
        check(embedcfg_json_object_value(v, n) == NULL);
        putchar('{');
        for (i = 0; i < n; i++) {
            const embedcfg_json_value *member = embedcfg_json_object_value(v, i);

            s = embedcfg_json_object_key(v, i, &len);
            check(s != NULL && member != NULL && strlen(s) == len);
            /* Lookup is linear; skip the cross-check on huge objects so a
             * large test document does not take quadratic time. */
            if (n <= 256) {
                check(embedcfg_json_object_get(v, s) == member);
            }
            if (i > 0) {
                putchar(',');
            }
            write_string(s, len);
            putchar(':');
            write_value(member);
        }
        putchar('}');
        break;
    }
}

/* Reads at most limit + 1 bytes: enough for the parser to see that the
 * document is too large, without holding an arbitrarily large file. */
static char *
read_input(FILE *f, size_t limit, size_t *len)
{
    char *buf = malloc(limit + 1);
    char *exact;

    if (buf == NULL) {
        return NULL;
    }
    *len = fread(buf, 1, limit + 1, f);
    if (ferror(f)) {
        free(buf);
        return NULL;
    }
    /* An exactly sized copy lets AddressSanitizer catch a read one byte
     * past the end of the document. */
    exact = malloc(*len > 0 ? *len : 1);
    if (exact != NULL) {
        memcpy(exact, buf, *len);
    }
    free(buf);
    return exact;
}

int
main(int argc, char **argv)
{
    FILE *f = stdin;
    char *buf;
    size_t len;
    embedcfg_json_value *root = NULL;
    embedcfg_json_error err;
    int status;

    if (argc > 2) {
        fprintf(stderr, "usage: %s [FILE]\n", argv[0]);
        return 2;
    }
    if (argc == 2) {
        f = fopen(argv[1], "rb");
        if (f == NULL) {
            perror(argv[1]);
            return 2;
        }
    }
    buf = read_input(f, EMBEDCFG_JSON_MAX_DOCUMENT_SIZE, &len);
    if (f != stdin) {
        fclose(f);
    }
    if (buf == NULL) {
        fprintf(stderr, "cannot read the input\n");
        return 2;
    }

    /* An empty document is passed as a NULL buffer, the other way a caller
     * may say "no bytes". */
    status = embedcfg_json_parse(len > 0 ? buf : NULL, len,
                                 EMBEDCFG_JSON_MAX_DOCUMENT_SIZE, &root, &err);
    if (status == 0) {
        check(root != NULL);
        fputs("ok\n", stdout);
        write_value(root);
        putchar('\n');
    }
    else {
        check(status == -1 && root == NULL && err.offset <= len);
        check(err.message[0] != '\0' && strchr(err.message, '\n') == NULL);
        check(err.line >= 1 && err.column >= 1);
        printf("error at byte %zu: %s\n", err.offset, err.message);
    }
    embedcfg_json_free(root);
    free(buf);
    return status == 0 ? 0 : 1;
}
