/* The one UTF-8 validator: the document parser checks a whole document
 * with it, the setters of embedcfg.h each string they are given.  No
 * Python dependency (the parser is fuzzed alone). */

#ifndef EMBEDCFG_UTF8_H
#define EMBEDCFG_UTF8_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What is wrong at the first offending byte, in the terms of the Unicode
 * "well-formed UTF-8" table (Unicode 15, table 3-7), which excludes
 * overlongs, surrogates and code points above U+10FFFF. */
typedef enum {
    EMBEDCFG_UTF8_OK = 0,
    EMBEDCFG_UTF8_NUL,           /* a NUL byte: valid UTF-8, never a value */
    EMBEDCFG_UTF8_CONTINUATION,  /* a continuation byte starts a character */
    EMBEDCFG_UTF8_OVERLONG,
    EMBEDCFG_UTF8_NEVER,         /* 0xF8-0xFF, which UTF-8 never uses */
    EMBEDCFG_UTF8_TOO_LARGE,     /* above U+10FFFF */
    EMBEDCFG_UTF8_TRUNCATED,
    EMBEDCFG_UTF8_SURROGATE
} embedcfg__utf8_status;

/* The first problem in s[0:len], with the offset of the character it is
 * in at *at (when not NULL); EMBEDCFG_UTF8_OK when there is none. */
embedcfg__utf8_status embedcfg__utf8_check(const char *s, size_t len,
                                           size_t *at);

#ifdef __cplusplus
}
#endif

#endif /* EMBEDCFG_UTF8_H */
