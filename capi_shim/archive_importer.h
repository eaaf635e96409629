/* embedcfg: the archive importer, the shim's side of the document's
 * `archives` key.  A sys.meta_path finder and loader over one archive
 * (archive.h), written in C beside the static importer and built the same
 * way: a module object whose state owns the mapped archive.  Modules get
 * __spec__ (origin: the virtual path below), __loader__ (the finder),
 * __file__ = "<archive path>/<module path>.py" (".../__init__.py" for a
 * package), __cached__ = the same path ending in ".pyc" (the bytecode inside
 * the archive), and __path__ = ["<archive path>/<package path>"] for
 * packages; the loader has get_code, get_source (when packed with
 * --with-source), get_filename, is_package, get_data (package data
 * files, by their virtual path) and get_resource_reader (importlib.resources,
 * archive_resources.h).  Include after Python.h and handle.h. */

#ifndef EMBEDCFG_ARCHIVE_IMPORTER_H
#define EMBEDCFG_ARCHIVE_IMPORTER_H

#include <stddef.h>

#include "archive.h"
#include "jsonparse.h"

/* One archive of a document: opened and checked when the document is
 * loaded, before init; the mapping moves to its finder at install. */
typedef struct embedcfg__archive_item {
    embedcfg_archive archive;
    char *path;         /* expanded and made absolute (malloc) */
    int after_path;     /* position = "after_path" */
} embedcfg__archive_item;

/* document.c: the `archives` array of a document.  Each archive is opened
 * and checked now (a missing, truncated, corrupt or other-CPython archive
 * is the handle's error: the launcher exits 78 before init). */
int embedcfg__load_archives(embedcfg_handle *h,
                            const embedcfg_json_value *list);

/* With the GIL, between the core and the main phase of init, again after
 * init, or on attach: put a finder for each archive not installed yet on
 * sys.meta_path, "before_path" ones where importlib's PathFinder is (at the
 * end while init has not appended it yet), "after_path" ones after it (so
 * only once it is there).  Installing "before_path" archives in the gap is
 * what lets a packed standard library provide encodings and everything
 * else init imports. */
int embedcfg__install_archives(embedcfg_handle *h);

/* Whether the document has a "before_path" archive: init then stops after
 * its core phase for embedcfg__install_archives (apply_pep587.c). */
int embedcfg__has_archives_before_path(const embedcfg_handle *h);

/* embedcfg_free: unmap what was not installed. */
void embedcfg__free_archives(embedcfg_handle *h);

#endif /* EMBEDCFG_ARCHIVE_IMPORTER_H */
