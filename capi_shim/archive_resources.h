/* embedcfg: importlib.resources for the archive importer
 * (archive_importer.c): the loader's get_resource_reader(fullname) and the
 * listing of an archive's data files that the reader's Traversable walks.
 *
 * The reader and the Traversable are two small Python classes, compiled
 * from source held here the first time a finder is asked for a reader
 * (never at start-up); their data come from the C side: the data index is
 * sorted by name, so the files under a directory are one range of it, found
 * by a binary search.  Files are read through the loader's get_data, the
 * one place that reads data blobs.  Include after Python.h. */

#ifndef EMBEDCFG_ARCHIVE_RESOURCES_H
#define EMBEDCFG_ARCHIVE_RESOURCES_H

#include <stddef.h>

#include "archive.h"

/* loader._data_names(dir): the sorted names (a list of str) of the files
 * and directories directly in directory `dir` of the data files ("pkg/res";
 * "" is the archive's top), empty when it holds no data file. */
PyObject *embedcfg__data_names(const embedcfg_archive *a, PyObject *dir);

/* loader._data_is_file(path): True when `path` ("pkg/res/data.txt") is a
 * data file of the archive. */
PyObject *embedcfg__data_is_file(const embedcfg_archive *a, PyObject *path);

/* loader.get_resource_reader(fullname) for module `m` of the archive at
 * `archive_path` (a str): a reader over the package's directory (for a
 * module: the directory it is in, as importlib's FileReader does).
 * *reader_class caches the compiled class (a finder state's reference). */
PyObject *embedcfg__resource_reader(PyObject **reader_class,
                                    PyObject *loader, PyObject *archive_path,
                                    const embedcfg_archive_module *m);

#endif /* EMBEDCFG_ARCHIVE_RESOURCES_H */
