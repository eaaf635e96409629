/* What apply.c (shared steps, embedcfg_initialize) and the two ways of
 * filling the configuration share: apply_pep587.c (PyPreConfig and
 * PyConfig through the option table, 3.8-3.13, and embedcfg_fill_pyconfig
 * everywhere) and apply_pep741.c (PyInitConfig, 3.14+).  Include after
 * Python.h. */

#ifndef EMBEDCFG_APPLY_H
#define EMBEDCFG_APPLY_H

#include "handle.h"

/* The running libpython is the minor this shim is built for, and satisfies
 * requires_python. */
int embedcfg__check_running_version(embedcfg_handle *h);

/* UTF-8 mode unless the document decides (the isolated profile). */
int embedcfg__wants_utf8_default(embedcfg_handle *h);

/* program_name defaults to the running executable. */
int embedcfg__default_program_name(embedcfg_handle *h);

/* Unset the PYTHON* variables of the options set, when CPython reads
 * them. */
void embedcfg__neutralize_environment(embedcfg_handle *h);

/* Hide PYTHONEXECUTABLE during init when the environment must not be
 * read; restore puts it back and frees what hide returned. */
char *embedcfg__hide_executable_variable(embedcfg_handle *h);
void embedcfg__restore_executable_variable(char *saved);

/* Py_PreInitialize with the profile's preset and the document's
 * PyPreConfig options (apply_pep587.c; 3.14's path needs it too). */
int embedcfg__preinitialize(embedcfg_handle *h);

/* Initialize through PyConfig (PEP 587): the path of 3.8-3.13, and of a
 * 3.14 document whose importers go in between the core and the main phase
 * of init, which PyInitConfig cannot stop at. */
int embedcfg__initialize_pep587(embedcfg_handle *h);

/* Whether init stops after its core phase for the importers: indexed
 * static modules or a "before_path" archive. */
int embedcfg__importers_in_gap(const embedcfg_handle *h);

#if PY_VERSION_HEX >= 0x030E0000
int embedcfg__initialize_pep741(embedcfg_handle *h);
#endif

#endif /* EMBEDCFG_APPLY_H */
