"""A plugin, importable once the document's module_search_paths is attached."""


def hello() -> str:
    return "hello from a plugin"
