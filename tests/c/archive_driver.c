/* Reads length-prefixed cases (4-byte little-endian length, then the bytes)
 * from argv[1] and checks each as an archive with the reader of
 * capi_shim/archive.c, from a heap block of exactly its size (so that ASan
 * sees any read past it).  One line per case: "error: MESSAGE", or
 * "ok MODULES DATA CHECKSUM" after looking every entry up and reading all of
 * its bytes (the checksum is a sum of them, so the reads are not optimized
 * out), plus a few lookups that must miss.  With argv[2], the file is
 * opened with embedcfg_archive_open instead (one case). */

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

static int walk(const embedcfg_archive *a)
{
    unsigned long sum = 0;
    uint32_t i;
    embedcfg_archive_module m;
    embedcfg_archive_module found;
    const unsigned char *d;
    size_t d_len;
    static const char *const misses[] = {"", "\xff", "zzzz.not.there", "a", NULL};
    size_t k;

    for (i = 0; i < a->n_modules; i++) {
        embedcfg_archive_module_at(a, i, &m);
        if (!embedcfg_archive_find(a, m.name, m.name_len, &found) || found.code != m.code) {
            printf("lookup failed: module %lu\n", (unsigned long)i);
            return -1;
        }
        sum += touch((const unsigned char *)m.name, m.name_len + 1) + touch(m.code, m.code_len)
               + (m.source != NULL ? touch(m.source, m.source_len) : 0)
               + (unsigned long)m.is_package;
    }
    for (i = 0; i < a->n_data; i++) {
        const char *name;
        size_t name_len;
        const unsigned char *data;
        size_t data_len;

        embedcfg_archive_data_at(a, i, &name, &name_len, &data, &data_len);
        if (!embedcfg_archive_find_data(a, name, name_len, &d, &d_len) || d != data) {
            printf("lookup failed: data %lu\n", (unsigned long)i);
            return -1;
        }
        sum += touch((const unsigned char *)name, name_len + 1) + touch(data, data_len);
    }
    for (k = 0; misses[k] != NULL; k++) {
        (void)embedcfg_archive_find(a, misses[k], strlen(misses[k]), &found);
        (void)embedcfg_archive_find_data(a, misses[k], strlen(misses[k]), &d, &d_len);
    }
    printf("ok %lu %lu %lu\n", (unsigned long)a->n_modules, (unsigned long)a->n_data, sum);
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
            printf("error: %s\n", err);
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
            printf("error: %s\n", err);
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
