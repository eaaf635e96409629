/* Exercises the handle API of embedcfg.h without initializing Python, for the
 * sanitizer tests: every setter with good and bad values, and every document
 * of a length-prefixed case file loaded into a fresh handle.
 *
 *     shim_api_driver CASES     prints "cases N ok M" and exits 0
 *     shim_api_driver --init DOCUMENT CODE
 *                               initializes CPython from DOCUMENT through the
 *                               applier, runs CODE, finalizes
 *
 * Aborts when the API breaks one of its promises (a failing call without a
 * message, a message over several lines). */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "embedcfg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void check_at(int condition, int line)
{
    if (!condition) {
        fprintf(stderr, "check failed at line %d\n", line);
        abort();
    }
}

#define check(condition) check_at((condition), __LINE__)

static void expect_error(embedcfg_handle *h, int rc, const char *fragment)
{
    const char *msg = embedcfg_get_error(h);

    check(rc == -1);
    check(msg != NULL && msg[0] != '\0');
    check(strchr(msg, '\n') == NULL);
    if (fragment != NULL && strstr(msg, fragment) == NULL) {
        fprintf(stderr, "expected '%s' in '%s'\n", fragment, msg);
        abort();
    }
}

static void api(void)
{
    embedcfg_handle *h = embedcfg_create();
    const char *paths[] = {"/a", "$CONFIG_DIR/b"};
    const char *bad_utf8[] = {"ok", "\xff"};
    const char *relative[] = {"relative"};
    int code = -1;

    check(h != NULL);
    check(embedcfg_set_config_dir(h, "/cfg") == 0);
    check(embedcfg_set_int(h, "utf8_mode", 1) == 0);
    expect_error(h, embedcfg_set_int(h, "utf8_mode", 5), "during setting utf8_mode");
    expect_error(h, embedcfg_set_int(h, "no_such_option", 1), "unknown option");
    expect_error(h, embedcfg_set_int(h, NULL, 1), NULL);
    expect_error(h, embedcfg_set_int(h, "verbose", -1), "during setting verbose");
    expect_error(h, embedcfg_set_int(h, "run_command", 1), "expected a string");
    check(embedcfg_set_str(h, "allocator", "malloc") == 0);
    expect_error(h, embedcfg_set_str(h, "allocator", "nope"), "expected one of");
    expect_error(h, embedcfg_set_str(h, "run_command", NULL), "NULL");
    expect_error(h, embedcfg_set_str(h, "run_command", "\xc3\x28"), "UTF-8");
    expect_error(h, embedcfg_set_str(h, "pycache_prefix", "rel/dir"), "relative path");
    expect_error(h, embedcfg_set_str(h, "pycache_prefix", "$HOME/x"), "unknown anchor");
    check(embedcfg_set_str(h, "pycache_prefix", "$CONFIG_DIR/pyc") == 0);
    check(embedcfg_set_strlist(h, "module_search_paths", 2, paths) == 0);
    check(embedcfg_append_strlist(h, "module_search_paths", 2, paths) == 0);
    expect_error(h, embedcfg_set_strlist(h, "module_search_paths", 1, relative), "relative");
    expect_error(h, embedcfg_set_strlist(h, "warnoptions", 2, bad_utf8), "UTF-8");
    expect_error(h, embedcfg_set_strlist(h, "verbose", 2, paths), "expected an integer");
    check(embedcfg_set_strlist(h, "warnoptions", 0, NULL) == 0);
    check(embedcfg_has_option(h, "module_search_paths") == 1);
    check(embedcfg_has_option(h, "verbose") == 0);
    check(embedcfg_add_module_symbol(h, "pkg.mod", NULL, "$CONFIG_DIR/libx.so") == 0);
    expect_error(h, embedcfg_add_module_symbol(h, "pkg.mod", NULL, NULL), "already");
    expect_error(h, embedcfg_add_module_symbol(h, "bad-name", NULL, NULL), "module name");
    expect_error(h, embedcfg_add_module_symbol(h, "ok", NULL, "rel/lib.so"), "relative");
    expect_error(h, embedcfg_add_module(h, "ok2", NULL), "NULL");
    expect_error(h, embedcfg_add_module_symbol(h, "caf\xc3\xa9", "PyInit_c", NULL), "ASCII");
    check(strcmp(embedcfg_get_static_modules(h), "inittab") == 0);
    check(embedcfg_set_static_modules(h, "indexed") == 0);
    check(strcmp(embedcfg_get_static_modules(h), "indexed") == 0);
    expect_error(h, embedcfg_set_static_modules(h, "hashed"), "static_modules");
    check(embedcfg_set_static_modules(h, NULL) == 0);
    check(strcmp(embedcfg_get_static_modules(h), "inittab") == 0);
    check(embedcfg_install_static_modules(NULL) == -1);
    check(embedcfg_install_static_modules(h) == 0);  /* inittab: nothing to do */
    check(embedcfg_set_static_modules(h, "indexed") == 0);
    expect_error(h, embedcfg_install_static_modules(h), "no interpreter");
    check(strcmp(embedcfg_get_static_modules(NULL), "") == 0);
    expect_error(h, embedcfg_set_profile(h, "other"), "profile");
    check(embedcfg_set_profile(h, "python") == 0);
    check(embedcfg_get_exit_code(h, &code) == 0 && code == -1);
    check(embedcfg_attach_report_len(h) == 0);
    check(embedcfg_attach_report_item(h, 0, NULL, NULL) == -1);
    embedcfg_free(h);

    /* embedded = true without a running interpreter: an error, not a crash */
    h = embedcfg_create();
    check(h != NULL);
    {
        static const char doc[] = "{\"version\":1,\"embedded\":true}";

        check(embedcfg_load_buffer(h, doc, sizeof(doc) - 1) == 0);
    }
    expect_error(h, embedcfg_initialize(h), "no interpreter is running");
    embedcfg_free(h);

    /* what validate refuses, refused by the document loader before init */
    {
        static const char *const docs[][2] = {
            {"{\"version\":1,\"options\":{\"run_module\":\"a\","
             "\"run_command\":\"b\"}}", "are exclusive"},
            {"{\"version\":1,\"options\":{\"module_search_paths_set\":true}}",
             "without module_search_paths"},
            {"{\"version\":1,\"inittab\":[{\"name\":\"a.b\","
             "\"init\":\"9x\"}]}", "is not a C identifier"},
            {"{\"version\":1,\"inittab\":[{\"name\":\"a.yield\"}]}",
             "Python keyword"},
            {"{\"version\":1,\"inittab\":[{\"name\":\"a.\"}]}",
             "not a dotted module name"},
        };
        size_t i;

        for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
            h = embedcfg_create();
            check(h != NULL);
            expect_error(h, embedcfg_load_buffer(h, docs[i][0],
                                                 strlen(docs[i][0])),
                         docs[i][1]);
            embedcfg_free(h);
        }
    }

    check(embedcfg_version_matches(">=3.8,<3.14", 3, 11, 2, NULL, 0) == 1);
    check(embedcfg_version_matches("==3.11.*", 3, 12, 0, NULL, 0) == 0);
    check(embedcfg_version_matches("~=3.10", 3, 13, 0, NULL, 0) == 1);
    check(embedcfg_version_matches("~=3.10.2", 3, 11, 0, NULL, 0) == 0);
    check(embedcfg_version_matches("!=3.9.*", 3, 9, 7, NULL, 0) == 0);
    check(embedcfg_version_matches(">=banana", 3, 9, 7, NULL, 0) == -1);
    check(embedcfg_version_matches(">=3.*", 3, 9, 7, NULL, 0) == -1);
    check(embedcfg_version_matches("", 3, 9, 7, NULL, 0) == -1);

    embedcfg_free(NULL);
    check(embedcfg_set_int(NULL, "verbose", 1) == -1);
    check(embedcfg_load_buffer(NULL, "", 0) == -1);
}

static int init_and_run(const char *path, const char *code)
{
    embedcfg_handle *h = embedcfg_create();
    int rc;

    check(h != NULL);
    if (embedcfg_load_file(h, path) < 0 || embedcfg_initialize(h) < 0) {
        int exitcode = 0;

        if (embedcfg_get_exit_code(h, &exitcode)) {
            embedcfg_free(h);
            return exitcode;
        }
        fprintf(stderr, "error: %s\n", embedcfg_get_error(h));
        embedcfg_free(h);
        return 78;
    }
    embedcfg_free(h);
    rc = PyRun_SimpleString(code);
    if (Py_FinalizeEx() < 0) {
        return 120;
    }
    return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    FILE *f;
    unsigned char header[4];
    long cases = 0;
    long ok = 0;

    if (argc == 4 && strcmp(argv[1], "--init") == 0) {
        return init_and_run(argv[2], argv[3]);
    }
    api();
    if (argc != 2 || (f = fopen(argv[1], "rb")) == NULL) {
        return 2;
    }
    while (fread(header, 1, 4, f) == 4) {
        size_t size = (size_t)header[0] | (size_t)header[1] << 8
                      | (size_t)header[2] << 16 | (size_t)header[3] << 24;
        char *data = (char *)malloc(size > 0 ? size : 1);
        embedcfg_handle *h = embedcfg_create();

        check(h != NULL);
        if (data == NULL || fread(data, 1, size, f) != size) {
            return 2;
        }
        check(embedcfg_set_config_dir(h, "/cfg") == 0);
        if (embedcfg_load_buffer(h, data, size) == 0) {
            ok++;
            check(embedcfg_get_lib(h) != NULL);
            check(embedcfg_get_requires_python(h) != NULL);
        }
        else {
            const char *msg = embedcfg_get_error(h);

            check(msg[0] != '\0' && strchr(msg, '\n') == NULL);
        }
        embedcfg_free(h);
        free(data);
        cases++;
    }
    fclose(f);
    printf("cases %ld ok %ld\n", cases, ok);
    return 0;
}
