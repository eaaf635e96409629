// pybind11-host: a C++ program that owns its interpreter through pybind11's
// embedding API and takes the interpreter's configuration from a document:
// embedcfg_fill_pyconfig() fills the PyConfig that py::scoped_interpreter
// initializes from.
//
//     pybind11-host DOCUMENT.json SCRIPT.py [ARG...]
//
// The host gives the script an embedded module, `host`, and runs it.  Exit
// status: the script's (SystemExit included); 1 when it raises; 78
// (EMBEDCFG_EXIT_CONFIG) with one line "pybind11-host: error: ..." when the
// document is refused before CPython starts.

#include <pybind11/embed.h>

#include <cstdio>
#include <memory>
#include <string>

#include "embedcfg.h"

namespace py = pybind11;

PYBIND11_EMBEDDED_MODULE(host, m) {
    m.doc() = "What the C++ host offers to its scripts.";
    m.def("name", [] { return std::string("pybind11-host"); });
    m.def("add", [](int a, int b) { return a + b; });
}

namespace {

constexpr int ex_usage = 64;

// The document's options, written into `config`; false (message printed)
// when the document is refused.
bool configure(const char *document, PyConfig *config) {
    std::unique_ptr<embedcfg_handle, decltype(&embedcfg_free)> h(embedcfg_create(),
                                                                 &embedcfg_free);
    if (!h) {
        std::fprintf(stderr, "pybind11-host: error: out of memory\n");
        return false;
    }
    if (embedcfg_load_file(h.get(), document) < 0
        || embedcfg_fill_pyconfig(h.get(), config) < 0) {
        std::fprintf(stderr, "pybind11-host: error: %s\n", embedcfg_get_error(h.get()));
        return false;
    }
    return true;
}

int run_script(const char *script) {
    try {
        py::dict scope = py::module_::import("__main__").attr("__dict__");
        scope["__file__"] = script;
        py::eval_file(script, scope);
        return 0;
    } catch (py::error_already_set &e) {
        if (e.matches(PyExc_SystemExit)) {
            py::object code = e.value().attr("code");
            if (code.is_none()) {
                return 0;
            }
            if (py::isinstance<py::int_>(code)) {
                return code.cast<int>();
            }
            std::fprintf(stderr, "%s\n", py::str(code).cast<std::string>().c_str());
            return 1;
        }
        e.restore();
        PyErr_Print();
        return 1;
    }
}

}  // namespace

int main(int argc, char **argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: pybind11-host DOCUMENT.json SCRIPT.py [ARG...]\n");
        return ex_usage;
    }
    // The preset must be the document's profile ("isolated" here).
    PyConfig config;
    PyConfig_InitIsolatedConfig(&config);
    if (!configure(argv[1], &config)) {
        PyConfig_Clear(&config);
        return EMBEDCFG_EXIT_CONFIG;
    }
    try {
        // pybind11 sets argv itself (PyConfig_SetBytesArgv), replacing any
        // argv from the document, so the script's arguments are given here.
        // add_program_dir_to_path = false: pybind11 would otherwise put a
        // directory in front of the document's sys.path after init.
        py::scoped_interpreter guard(&config, argc - 2, argv + 2, false);
        return run_script(argv[2]);
    } catch (const std::exception &e) {
        // Only init failures get here (PyConfig is cleared by pybind11).
        std::fprintf(stderr, "pybind11-host: error: %s\n", e.what());
        return EMBEDCFG_EXIT_CONFIG;
    }
}
