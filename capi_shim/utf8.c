/* The UTF-8 validator; see utf8.h. */

#include "utf8.h"

embedcfg__utf8_status
embedcfg__utf8_check(const char *s, size_t len, size_t *at)
{
    const unsigned char *p = (const unsigned char *)s;
    embedcfg__utf8_status status = EMBEDCFG_UTF8_OK;
    size_t i = 0;

    while (i < len) {
        unsigned char c = p[i];
        unsigned char lo = 0x80;
        unsigned char hi = 0xBF;
        size_t need;
        size_t k;

        if (c == 0) {
            status = EMBEDCFG_UTF8_NUL;
            break;
        }
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c < 0xC0) {
            status = EMBEDCFG_UTF8_CONTINUATION;
            break;
        }
        if (c < 0xC2) {
            status = EMBEDCFG_UTF8_OVERLONG;
            break;
        }
        if (c >= 0xF8) {
            status = EMBEDCFG_UTF8_NEVER;
            break;
        }
        if (c >= 0xF5) {
            status = EMBEDCFG_UTF8_TOO_LARGE;
            break;
        }
        if (c < 0xE0) {
            need = 1;
        }
        else if (c < 0xF0) {
            need = 2;
            if (c == 0xE0) {
                lo = 0xA0;
            }
            else if (c == 0xED) {
                hi = 0x9F;
            }
        }
        else {
            need = 3;
            if (c == 0xF0) {
                lo = 0x90;
            }
            else if (c == 0xF4) {
                hi = 0x8F;
            }
        }
        for (k = 1; k <= need; k++) {
            if (i + k >= len || (p[i + k] & 0xC0) != 0x80) {
                break;
            }
        }
        if (k <= need) {
            status = EMBEDCFG_UTF8_TRUNCATED;
            break;
        }
        if (p[i + 1] < lo) {
            status = EMBEDCFG_UTF8_OVERLONG;
            break;
        }
        if (p[i + 1] > hi) {
            status = c == 0xED ? EMBEDCFG_UTF8_SURROGATE
                               : EMBEDCFG_UTF8_TOO_LARGE;
            break;
        }
        i += need + 1;
    }
    if (at != NULL) {
        *at = i;
    }
    return status;
}
