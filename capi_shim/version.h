/* CPython versions as text: the launcher reads the loaded libpython's
 * before the shim library is loaded; requires_python (embedcfg.h) is
 * matched in version.c too.  No Python dependency. */

#ifndef EMBEDCFG_VERSION_H
#define EMBEDCFG_VERSION_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Format "3.11" from a PY_VERSION_HEX into buf. */
void embedcfg__format_minor(unsigned long hex, char *buf, size_t size);

/* Parse "3.11.7..." (Py_GetVersion) into numbers; -1 when it is not one. */
int embedcfg__parse_version(const char *text, int *major, int *minor,
                            int *micro);

#ifdef __cplusplus
}
#endif

#endif /* EMBEDCFG_VERSION_H */
