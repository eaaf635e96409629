/* Reads length-prefixed cases (4-byte little-endian length, then the bytes)
 * from argv[1] and checks each as an archive with the reader of
 * capi_shim/archive.c, from a heap block of exactly its size (so that ASan
 * sees any read past it).  One line per case: "error: MESSAGE", or
 * "ok MODULES DATA CHECKSUM" after looking every entry up and reading all of
 * its bytes through the checking accessors (the checksum is a sum of them, so
 * the reads are not optimized out), plus a few lookups that must miss; then,
 * for every blob that does not match its CRC-32, in index order, a tab and
 * "corrupt: MESSAGE".  Messages are printed with bytes below 0x20, 0x7f and
 * backslashes as \xNN, so that a name of the archive cannot break the
 * line.  With argv[2], the file is opened with embedcfg_archive_open instead
 * (one case). */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive.h"

static unsigned long touch(const unsigned char *p, size_t n)
{
    unsigned long sum = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        sum += p[i];
    }
    return sum;
}

static void print_escaped(const char *s)
{
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;

        if (c < 0x20 || c == 0x7f || c == '\\') {
            printf("\\x%02x", c);
        }
        else {
            putchar(c);
        }
    }
}

/* Every blob of the archive through the checking accessors, in index order:
 * the sum of the bytes of those that match their CRC-32, or, with `print`,
 * a tab and "corrupt: MESSAGE" printed for each that does not. */
static unsigned long blobs(const embedcfg_archive *a, int print)
{
    unsigned long sum = 0;
    uint32_t i;
    int which;
    embedcfg_archive_module m;
    embedcfg_archive_data_entry d;
    const unsigned char *p;
    size_t n;
    char err[2 * EMBEDCFG_ARCHIVE_MAX_NAME + 512];
    int rc;

    for (i = 0; i < a->n_modules + a->n_data; i++) {
        if (i < a->n_modules) {
            embedcfg_archive_module_at(a, i, &m);
        }
        else {
            embedcfg_archive_data_at(a, i - a->n_modules, &d);
        }
        /* a module's code, then its source; a data file's bytes */
        for (which = 0; which < (i < a->n_modules ? 2 : 1); which++) {
            if (i >= a->n_modules) {
                rc = embedcfg_archive_read_data(a, &d, &p, &n, "the archive", err,
                                                sizeof err);
            }
            else if (which == 0) {
                rc = embedcfg_archive_read_code(a, &m, &p, &n, "the archive", err,
                                                sizeof err);
            }
            else {
                rc = embedcfg_archive_read_source(a, &m, &p, &n, "the archive", err,
                                                  sizeof err);
                if (rc == 0 && (p == NULL) != !m.has_source) {
                    printf("source of module %lu is %s\n", (unsigned long)i,
                           p == NULL ? "missing" : "unexpected");
                    exit(1);
                }
            }
            if (rc < 0 && print) {
                printf("\tcorrupt: ");
                print_escaped(err);
            }
            else if (rc == 0) {
                sum += touch(p, n);
            }
        }
    }
    return sum;
}

static int walk(const embedcfg_archive *a)
{
    unsigned long sum = 0;
    uint32_t i;
    embedcfg_archive_module m;
    embedcfg_archive_module found;
    embedcfg_archive_data_entry d;
    embedcfg_archive_data_entry found_d;
    static const char *const misses[] = {"", "\xff", "zzzz.not.there", "a", NULL};
    size_t k;

    for (i = 0; i < a->n_modules; i++) {
        embedcfg_archive_module_at(a, i, &m);
        if (!embedcfg_archive_find(a, m.name, m.name_len, &found) || found.index != i) {
            printf("lookup failed: module %lu\n", (unsigned long)i);
            return -1;
        }
        sum += touch((const unsigned char *)m.name, m.name_len + 1)
               + (unsigned long)m.is_package;
    }
    for (i = 0; i < a->n_data; i++) {
        embedcfg_archive_data_at(a, i, &d);
        if (!embedcfg_archive_find_data(a, d.name, d.name_len, &found_d)
            || found_d.index != i) {
            printf("lookup failed: data %lu\n", (unsigned long)i);
            return -1;
        }
        sum += touch((const unsigned char *)d.name, d.name_len + 1);
    }
    for (k = 0; misses[k] != NULL; k++) {
        (void)embedcfg_archive_find(a, misses[k], strlen(misses[k]), &found);
        (void)embedcfg_archive_find_data(a, misses[k], strlen(misses[k]), &found_d);
    }
    /* twice: the checks are made at every read, and give the same answer */
    printf("ok %lu %lu %lu", (unsigned long)a->n_modules, (unsigned long)a->n_data,
           sum + blobs(a, 0));
    (void)blobs(a, 1);
    putchar('\n');
    return 0;
}

int main(int argc, char **argv)
{
    FILE *f;
    unsigned char header[4];
    char err[512];
    embedcfg_archive a;

    if (argc == 3) {
        if (embedcfg_archive_open(&a, argv[1], "the archive", err, sizeof err) < 0) {
            printf("error: ");
            print_escaped(err);
            putchar('\n');
            return 0;
        }
        (void)walk(&a);
        embedcfg_archive_close(&a);
        embedcfg_archive_close(&a);  /* twice: a closed archive is zeroed */
        return 0;
    }
    if (argc != 2 || (f = fopen(argv[1], "rb")) == NULL) {
        return 2;
    }
    while (fread(header, 1, 4, f) == 4) {
        size_t size = (size_t)header[0] | (size_t)header[1] << 8
                      | (size_t)header[2] << 16 | (size_t)header[3] << 24;
        unsigned char *data = (unsigned char *)malloc(size > 0 ? size : 1);

        if (data == NULL || fread(data, 1, size, f) != size) {
            free(data);
            fclose(f);
            return 2;
        }
        if (embedcfg_archive_from_memory(&a, data, size, "the archive", err, sizeof err) < 0) {
            printf("error: ");
            print_escaped(err);
            putchar('\n');
        }
        else {
            (void)walk(&a);
        }
        embedcfg_archive_close(&a);
        free(data);
    }
    fclose(f);
    return 0;
}
