/* CPython versions as text (version.h), and embedcfg_version_matches
 * (embedcfg.h), with the semantics of embedcfg.checks: a small subset of
 * PEP 440 specifiers. */

#include "embedcfg.h"
#include "version.h"

#include <stdio.h>
#include <string.h>

void
embedcfg__format_minor(unsigned long hex, char *buf, size_t size)
{
    snprintf(buf, size, "%lu.%lu", (hex >> 24) & 0xFFUL, (hex >> 16) & 0xFFUL);
}

/* Read a decimal number of at most 6 digits; -1 if there is none. */
static int
read_number(const char **p)
{
    int value = 0;
    int digits = 0;

    while (**p >= '0' && **p <= '9' && digits < 6) {
        value = value * 10 + (**p - '0');
        (*p)++;
        digits++;
    }
    return digits > 0 ? value : -1;
}

int
embedcfg__parse_version(const char *text, int *major, int *minor,
                        int *micro)
{
    const char *p = text;

    *major = read_number(&p);
    if (*major < 0 || *p != '.') {
        return -1;
    }
    p++;
    *minor = read_number(&p);
    if (*minor < 0) {
        return -1;
    }
    *micro = 0;
    if (*p == '.') {
        p++;
        *micro = read_number(&p);
        if (*micro < 0) {
            *micro = 0;
        }
    }
    return 0;
}

static int
cmp3(const int a[3], const int b[3])
{
    int i;

    for (i = 0; i < 3; i++) {
        if (a[i] != b[i]) {
            return a[i] < b[i] ? -1 : 1;
        }
    }
    return 0;
}

/* One specifier: op, up to three numbers, optional trailing ".*". */
static int
match_one(const char *item, size_t len, const int version[3],
          char *err, size_t err_size)
{
    char op[3] = {0, 0, 0};
    int nums[3] = {0, 0, 0};
    int count = 0;
    int wildcard = 0;
    int padded[3];
    int head_equal;
    int c;
    int i;
    char text[64];
    const char *p;

    while (len > 0 && (*item == ' ' || *item == '\t')) {
        item++;
        len--;
    }
    while (len > 0 && (item[len - 1] == ' ' || item[len - 1] == '\t')) {
        len--;
    }
    if (len == 0 || len >= sizeof(text)) {
        snprintf(err, err_size,
                 "'%.*s' is not a version specifier such as '>=3.10'",
                 (int)(len < 40 ? len : 40), item);
        return -1;
    }
    memcpy(text, item, len);
    text[len] = '\0';
    p = text;
    if (strncmp(p, "~=", 2) == 0 || strncmp(p, "==", 2) == 0
        || strncmp(p, "!=", 2) == 0 || strncmp(p, "<=", 2) == 0
        || strncmp(p, ">=", 2) == 0) {
        op[0] = p[0];
        op[1] = p[1];
        p += 2;
    }
    else if (*p == '<' || *p == '>') {
        op[0] = *p;
        p++;
    }
    else {
        goto invalid;
    }
    while (*p == ' ') {
        p++;
    }
    while (count < 3) {
        if (*p == '*' && count > 0) {
            wildcard = 1;
            p++;
            break;
        }
        nums[count] = read_number(&p);
        if (nums[count] < 0) {
            goto invalid;
        }
        count++;
        if (*p != '.') {
            break;
        }
        p++;
    }
    if (*p != '\0') {
        goto invalid;
    }
    if (wildcard && strcmp(op, "==") != 0 && strcmp(op, "!=") != 0) {
        snprintf(err, err_size, "'%s': '.*' only goes with == and !=", text);
        return -1;
    }
    if (strcmp(op, "~=") == 0 && count < 2) {
        snprintf(err, err_size,
                 "'%s': ~= needs at least two parts, as in ~=3.10", text);
        return -1;
    }
    for (i = 0; i < 3; i++) {
        padded[i] = i < count ? nums[i] : 0;
    }
    head_equal = 1;
    for (i = 0; i < count; i++) {
        if (version[i] != nums[i]) {
            head_equal = 0;
        }
    }
    c = cmp3(version, padded);
    if (strcmp(op, "==") == 0) {
        return wildcard ? head_equal : c == 0;
    }
    if (strcmp(op, "!=") == 0) {
        return wildcard ? !head_equal : c != 0;
    }
    if (strcmp(op, ">=") == 0) {
        return c >= 0;
    }
    if (strcmp(op, "<=") == 0) {
        return c <= 0;
    }
    if (strcmp(op, ">") == 0) {
        return c > 0;
    }
    if (strcmp(op, "<") == 0) {
        return c < 0;
    }
    /* ~=: at least the version, and the same prefix without its last part */
    for (i = 0; i < count - 1; i++) {
        if (version[i] != nums[i]) {
            return 0;
        }
    }
    return c >= 0;

invalid:
    snprintf(err, err_size, "'%s' is not a version specifier such as '>=3.10'",
             text);
    return -1;
}

int
embedcfg_version_matches(const char *spec, int major, int minor, int micro,
                         char *err, size_t err_size)
{
    int version[3];
    int result = 1;
    const char *start = spec;

    version[0] = major;
    version[1] = minor;
    version[2] = micro;
    if (err != NULL && err_size > 0) {
        err[0] = '\0';
    }
    if (spec == NULL) {
        return 1;
    }
    for (;;) {
        const char *comma = strchr(start, ',');
        size_t len = comma != NULL ? (size_t)(comma - start) : strlen(start);
        char dummy[8];
        int r = match_one(start, len, version, err != NULL ? err : dummy,
                          err != NULL ? err_size : sizeof(dummy));

        if (r < 0) {
            return -1;
        }
        if (r == 0) {
            result = 0;  /* keep going: a later item may be invalid */
        }
        if (comma == NULL) {
            break;
        }
        start = comma + 1;
    }
    return result;
}
