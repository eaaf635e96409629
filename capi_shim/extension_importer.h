/* embedcfg: the extension importer of one-file applications (onefile.h).
 * A sys.meta_path finder and loader over the extension modules of the
 * launcher's payload, built as the archive importer is (a module object
 * whose state holds what the finder needs).  A module is loaded without
 * writing it to disk where the kernel allows it: its bytes (checked against
 * their checksum) go into an anonymous file, memfd_create(), and CPython's
 * own loader, _imp.create_dynamic, dlopen()s "/proc/self/fd/N".  Where
 * that cannot work (no memfd_create, no /proc, an anonymous file that
 * cannot be mapped executable, or EMBEDCFG_ONEFILE_EXTRACT=1), each module
 * is extracted once into a private directory,
 * $XDG_RUNTIME_DIR/embedcfg/onefile-ID (or $TMPDIR or /tmp:
 * embedcfg-UID/onefile-ID), mode 0700, which is checked as a pycache prefix
 * is (pathsec.h) before anything in it is loaded, and reused by later
 * starts of the same payload.  Modules get __file__ and __spec__.origin =
 * "<executable>/<module path><suffix>", a virtual path.  Include after
 * Python.h and handle.h. */

#ifndef EMBEDCFG_EXTENSION_IMPORTER_H
#define EMBEDCFG_EXTENSION_IMPORTER_H

/* With the GIL, between the core and the main phase of init: put the
 * finder of the payload's extension modules on sys.meta_path, after the
 * archives (the main phase appends PathFinder after it).  Nothing without a
 * payload or once installed. */
int embedcfg__install_extensions(embedcfg_handle *h);

/* Whether the handle has a payload with extension modules to install. */
int embedcfg__has_extensions(const embedcfg_handle *h);

#endif /* EMBEDCFG_EXTENSION_IMPORTER_H */
