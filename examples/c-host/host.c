/* c-host: a C program that embeds CPython and takes its configuration from
 * a document, through embedcfg's C API.
 *
 *     c-host DOCUMENT.json [ARG...]
 *
 * It includes embedcfg.h only (not Python.h): the shim library does the
 * CPython calls.  It links the shim library and libpython (`embedcfg build
 * --cflags --ldflags` prints the flags; build.py passes them).
 *
 * Exit status: the application's; EMBEDCFG_EXIT_CONFIG (78) with one line
 * "c-host: error: ..." when the document is refused before CPython starts;
 * the status CPython asked for when it exits during init; 70 when out of
 * memory. */

#include <stdio.h>

#include "embedcfg.h"

#define EX_USAGE 64
#define EX_SOFTWARE 70

int main(int argc, char **argv)
{
    embedcfg_handle *h;
    int code;

    if (argc < 2) {
        fprintf(stderr, "usage: c-host DOCUMENT.json [ARG...]\n");
        return EX_USAGE;
    }
    h = embedcfg_create();
    if (h == NULL) {
        fprintf(stderr, "c-host: out of memory\n");
        return EX_SOFTWARE;
    }
    /* The document first, then what the host decides: a setter called after
     * load_file overrides the document's value.  Here the application gets
     * the host's own arguments unless the document pins argv. */
    if (embedcfg_load_file(h, argv[1]) < 0) {
        goto config_error;
    }
    if (!embedcfg_has_option(h, "argv")) {
        /* sys.argv: this program, then the arguments after the document */
        if (embedcfg_set_strlist(h, "argv", 1, (const char *const *)argv) < 0
            || embedcfg_append_strlist(h, "argv", (size_t)(argc - 2),
                                       (const char *const *)(argv + 2)) < 0) {
            goto config_error;
        }
    }
    if (embedcfg_initialize(h) < 0) {
        /* CPython asked to exit during init (parse_argv: --help, a bad
         * option): that is its answer, not a configuration error. */
        if (embedcfg_get_exit_code(h, &code)) {
            embedcfg_free(h);
            return code;
        }
        goto config_error;
    }
    /* Runs the document's run_filename / run_module / run_command and
     * finalizes the interpreter; its result is the application's status. */
    code = embedcfg_run_main(h);
    embedcfg_free(h);
    return code;

config_error:
    fprintf(stderr, "c-host: error: %s\n", embedcfg_get_error(h));
    embedcfg_free(h);
    return EMBEDCFG_EXIT_CONFIG;
}
