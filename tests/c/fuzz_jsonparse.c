/* libFuzzer entry point for the document parser.
 *
 *     clang -g -O1 -fsanitize=fuzzer,address,undefined -Icapi_shim \
 *         tests/c/fuzz_jsonparse.c capi_shim/jsonparse.c capi_shim/utf8.c \
 *         -o fuzz_jsonparse
 *
 * Beyond "does not crash", it walks every accepted tree through the public
 * accessors and checks the invariants the applier relies on, so a parser
 * that accepts garbage or builds an inconsistent tree is a finding too. */

#include "jsonparse.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int condition)
{
    if (!condition) {
        abort();
    }
}

static void
walk(const embedcfg_json_value *v, size_t size, int depth)
{
    size_t i, n, len;
    const char *s;

    check(depth <= EMBEDCFG_JSON_MAX_DEPTH);
    check(embedcfg_json_offset(v) < size);
    switch (embedcfg_json_type_of(v)) {
    case EMBEDCFG_JSON_NULL:
        break;
    case EMBEDCFG_JSON_BOOL:
        check(embedcfg_json_bool_value(v) == 0
              || embedcfg_json_bool_value(v) == 1);
        break;
    case EMBEDCFG_JSON_INT:
        check(embedcfg_json_string_value(v, NULL) == NULL);
        break;
    case EMBEDCFG_JSON_STRING:
        s = embedcfg_json_string_value(v, &len);
        check(s != NULL && strlen(s) == len && len < size);
        break;
    case EMBEDCFG_JSON_ARRAY:
        n = embedcfg_json_array_len(v);
        check(embedcfg_json_array_item(v, n) == NULL);
        for (i = 0; i < n; i++) {
            walk(embedcfg_json_array_item(v, i), size, depth + 1);
        }
        break;
    case EMBEDCFG_JSON_OBJECT:
        n = embedcfg_json_object_len(v);
        check(embedcfg_json_object_value(v, n) == NULL);
        for (i = 0; i < n; i++) {
            s = embedcfg_json_object_key(v, i, &len);
            check(s != NULL && strlen(s) == len);
            /* Keys are unique, so lookup must find exactly this member;
             * bounded because lookup is linear. */
            if (n <= 64) {
                check(embedcfg_json_object_get(v, s)
                      == embedcfg_json_object_value(v, i));
            }
            walk(embedcfg_json_object_value(v, i), size, depth + 1);
        }
        break;
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    embedcfg_json_value *root = NULL;
    embedcfg_json_error err;

    if (embedcfg_json_parse((const char *)data, size,
                            EMBEDCFG_JSON_MAX_DOCUMENT_SIZE, &root, &err) == 0)
    {
        check(root != NULL);
        walk(root, size, 0);
    }
    else {
        check(root == NULL && err.offset <= size);
        check(err.message[0] != '\0'
              && memchr(err.message, '\0', sizeof(err.message)) != NULL);
    }
    embedcfg_json_free(root);
    return 0;
}
