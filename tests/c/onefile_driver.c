/* Opens each file named on the command line with the one-file reader of
 * capi_shim/onefile.c (built with ASan and UBSan) and prints one line per
 * file: "none" (no trailer), "error: MESSAGE", or "ok SECTIONS" followed,
 * for every section, by a tab and "KIND FLAGS SIZE NAME PATH", then "ok"
 * or "corrupt: MESSAGE" from embedcfg_onefile_check_section (which reads
 * every byte of the section); then every extension module is looked up by
 * its name, which must find it, and a name that is in no payload must miss.
 * Messages are printed with bytes below 0x20, 0x7f and backslashes as \xNN. */

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "onefile.h"

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

static int check_file(const char *path)
{
    embedcfg_onefile f;
    char err[8192];
    uint32_t i;
    int r = embedcfg_onefile_open(&f, path, err, sizeof err);

    if (r == 0) {
        printf("none\n");
        return 0;
    }
    if (r < 0) {
        printf("error: ");
        print_escaped(err);
        printf("\n");
        return 0;
    }
    printf("ok %lu", (unsigned long)f.n_sections);
    for (i = 0; i < f.n_sections; i++) {
        embedcfg_onefile_section s;
        embedcfg_onefile_section found;

        embedcfg_onefile_section_at(&f, i, &s);
        printf("\t%lu %lu %lu ", (unsigned long)s.kind, (unsigned long)s.flags,
               (unsigned long)s.size);
        print_escaped(s.name);
        printf(" ");
        print_escaped(s.path);
        if (strlen(s.name) != s.name_len || strlen(s.path) != s.path_len) {
            printf(" LENGTH-MISMATCH");
        }
        if (embedcfg_onefile_check_section(&s, "the file", err, sizeof err) < 0) {
            printf(" corrupt: ");
            print_escaped(err);
        }
        else {
            printf(" ok");
        }
        if (s.kind == EMBEDCFG_ONEFILE_EXTENSION
            && (!embedcfg_onefile_find_extension(&f, s.name, s.name_len, &found)
                || found.bytes != s.bytes)) {
            printf(" NOT-FOUND");
        }
    }
    if (embedcfg_onefile_find_extension(&f, "no.such.module", 14, NULL) != 0) {
        printf("\tFOUND-MISSING");
    }
    printf("\n");
    embedcfg_onefile_close(&f);
    return 0;
}

int main(int argc, char **argv)
{
    int i;

    for (i = 1; i < argc; i++) {
        check_file(argv[i]);
    }
    return 0;
}
