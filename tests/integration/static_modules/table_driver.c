/* The static importer's table functions, which need no interpreter, under
 * AddressSanitizer and UndefinedBehaviorSanitizer: lookups agree with a
 * linear search on hits, misses, prefixes and embedded NULs; the checker
 * rejects every malformed table and never writes past a small buffer.
 * Prints "ok" and exits 0, or names the failed check and exits 1. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "static_importer.h"

static struct _object *dummy_init(void)
{
    return NULL;
}

static int failures = 0;

#define CHECK(cond)                                                       \
    do {                                                                  \
        if (!(cond)) {                                                    \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,        \
                    __LINE__, #cond);                                     \
            failures++;                                                   \
        }                                                                 \
    } while (0)

static const embedcfg_static_entry *linear(const embedcfg_static_entry *t, size_t n,
                                           const char *name, size_t len)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (strlen(t[i].name) == len && memcmp(t[i].name, name, len) == 0) {
            return &t[i];
        }
    }
    return NULL;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const embedcfg_static_entry *)a)->name,
                  ((const embedcfg_static_entry *)b)->name);
}

static void random_tables(void)
{
    enum { N = 300, ROUNDS = 40, PROBES = 400 };
    static char names[N][12];
    static embedcfg_static_entry table[N];
    const char alphabet[] = "ab_.";
    char probe[14];
    unsigned seed = 12345;
    int round;

    for (round = 0; round < ROUNDS; round++) {
        size_t n = 0;
        size_t i;
        int p;

        for (i = 0; i < N; i++) {
            size_t len = 1 + (seed = seed * 1103515245u + 12345u) % 10, k;

            for (k = 0; k < len; k++) {
                seed = seed * 1103515245u + 12345u;
                names[i][k] = alphabet[(seed >> 16) % 2];
            }
            names[i][len] = '\0';
        }
        for (i = 0; i < N; i++) {
            table[i].name = names[i];
            table[i].init = dummy_init;
        }
        qsort(table, N, sizeof table[0], by_name);
        for (i = 0; i < N; i++) {  /* drop duplicates */
            if (n == 0 || strcmp(table[n - 1].name, table[i].name) != 0) {
                table[n++] = table[i];
            }
        }
        CHECK(embedcfg_static_table_check(table, n, NULL, 0) == 0);
        for (p = 0; p < PROBES; p++) {
            size_t len = (seed = seed * 1103515245u + 12345u) % 13, k;

            for (k = 0; k < len; k++) {
                seed = seed * 1103515245u + 12345u;
                probe[k] = alphabet[(seed >> 16) % 3];
            }
            probe[len] = '\0';
            CHECK(embedcfg_static_table_find(table, n, probe, len)
                  == linear(table, n, probe, len));
        }
        for (i = 0; i < n; i++) {
            CHECK(embedcfg_static_table_find(table, n, table[i].name, strlen(table[i].name))
                  == &table[i]);
        }
    }
}

int main(void)
{
    static const embedcfg_static_entry good[] = {
        {"a", dummy_init}, {"a.b", dummy_init}, {"a.b.c", dummy_init}, {"a0", dummy_init},
        {"a_", dummy_init}, {"pkg", dummy_init}, {"pkg.sub", dummy_init},
        {"\xc3\xa9t\xc3\xa9", dummy_init}, {NULL, NULL}
    };
    const size_t n = sizeof good / sizeof good[0] - 1;
    char err[256];
    char tiny[5];
    size_t i;

    CHECK(embedcfg_static_table_check(good, n, err, sizeof err) == 0);
    CHECK(err[0] == '\0');
    for (i = 0; i < n; i++) {
        CHECK(embedcfg_static_table_find(good, n, good[i].name, strlen(good[i].name))
              == &good[i]);
    }
    /* misses: prefixes, extensions, embedded NUL, empty, NULL table */
    CHECK(embedcfg_static_table_find(good, n, "pk", 2) == NULL);
    CHECK(embedcfg_static_table_find(good, n, "pkg.", 4) == NULL);
    CHECK(embedcfg_static_table_find(good, n, "pkg.subx", 8) == NULL);
    CHECK(embedcfg_static_table_find(good, n, "pkg\0sub", 7) == NULL);
    CHECK(embedcfg_static_table_find(good, n, "pkg.sub", 3) == &good[5]);
    CHECK(embedcfg_static_table_find(good, n, "", 0) == NULL);
    CHECK(embedcfg_static_table_find(good, 0, "a", 1) == NULL);
    CHECK(embedcfg_static_table_find(NULL, 3, "a", 1) == NULL);
    CHECK(embedcfg_static_table_check(NULL, 0, err, sizeof err) == 0);

    {
        const embedcfg_static_entry unsorted[] = {{"b", dummy_init}, {"a", dummy_init}};
        const embedcfg_static_entry dup[] = {{"a", dummy_init}, {"a", dummy_init}};
        const embedcfg_static_entry null_init[] = {{"a", NULL}};
        const embedcfg_static_entry null_name[] = {{NULL, dummy_init}};
        const char *bad_names[] = {"", ".a", "a.", "a..b", "1a", "a.1b", "a-b", "a b"};

        CHECK(embedcfg_static_table_check(unsorted, 2, err, sizeof err) == -1);
        CHECK(strstr(err, "sorts before") != NULL);
        CHECK(embedcfg_static_table_check(dup, 2, err, sizeof err) == -1);
        CHECK(strstr(err, "listed twice") != NULL);
        CHECK(embedcfg_static_table_check(null_init, 1, err, sizeof err) == -1);
        CHECK(strstr(err, "init function is NULL") != NULL);
        CHECK(embedcfg_static_table_check(null_name, 1, err, sizeof err) == -1);
        CHECK(embedcfg_static_table_check(NULL, 2, err, sizeof err) == -1);
        for (i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
            const embedcfg_static_entry one[] = {{bad_names[i], dummy_init}};

            CHECK(embedcfg_static_table_check(one, 1, err, sizeof err) == -1);
            CHECK(strstr(err, "not a dotted module name") != NULL);
        }
        /* a small buffer is truncated, never overrun */
        memset(tiny, 'x', sizeof tiny);
        CHECK(embedcfg_static_table_check(dup, 2, tiny, sizeof tiny) == -1);
        CHECK(tiny[sizeof tiny - 1] == '\0');
        CHECK(embedcfg_static_table_check(dup, 2, tiny, 1) == -1 && tiny[0] == '\0');
    }
    {
        embedcfg_static_entry runtime[] = {
            {"zeta", dummy_init}, {"pkg.sub", dummy_init}, {NULL, dummy_init},
            {"pkg", dummy_init}, {"alpha", dummy_init}
        };

        embedcfg_static_table_sort(runtime, 5);
        CHECK(runtime[0].name == NULL);
        CHECK(strcmp(runtime[1].name, "alpha") == 0 && strcmp(runtime[2].name, "pkg") == 0
              && strcmp(runtime[3].name, "pkg.sub") == 0
              && strcmp(runtime[4].name, "zeta") == 0);
        CHECK(embedcfg_static_table_check(runtime, 5, err, sizeof err) == -1);
        CHECK(embedcfg_static_table_check(runtime + 1, 4, err, sizeof err) == 0);
        embedcfg_static_table_sort(NULL, 3);
        embedcfg_static_table_sort(runtime, 0);
    }
    random_tables();
    if (failures) {
        return 1;
    }
    puts("ok");
    return 0;
}
