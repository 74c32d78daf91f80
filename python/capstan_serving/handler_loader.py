"""Finds an archive's handler the way TorchServe's model loader does: `module`, `module.py` or
`module:function` in the model folder, else a TorchServe built-in handler (`ts.torch_handler.*`).
A function is called once with `(None, context)` to initialise; a module's single class is
instantiated, `initialize(context)` runs, and `handle(data, context)` answers each batch."""
import importlib
import inspect
import os
import sys


class HandlerLoadError(Exception):
    """The handler could not be found, imported or initialised; the message says which and why."""


def _classes_defined_in(module):
    return [
        member
        for _, member in inspect.getmembers(module, inspect.isclass)
        if member.__module__ == module.__name__
    ]


def _import_handler_module(model_dir, module_name):
    in_archive = os.path.isfile(os.path.join(model_dir, module_name + ".py")) or os.path.isdir(
        os.path.join(model_dir, module_name)
    )
    if in_archive:
        return importlib.import_module(module_name)
    try:
        return importlib.import_module(module_name)
    except ImportError as own_error:
        builtin = "ts.torch_handler." + module_name
        try:
            return importlib.import_module(builtin)
        except ImportError as builtin_error:
            if builtin_error.name not in ("ts", "ts.torch_handler", builtin):
                # the built-in handler exists but needs what this Python lacks (torch, as a rule)
                raise HandlerLoadError(
                    f"TorchServe's built-in handler '{module_name}' could not be imported: {builtin_error} "
                    f"(the stock handlers need torch, the vision ones torchvision, in the worker's Python: {sys.executable})"
                ) from builtin_error
            raise HandlerLoadError(
                f"handler '{module_name}' is not a file of the archive, an importable module, or a "
                f"TorchServe built-in handler (built-in handlers need the torchserve Python package): {own_error}"
            ) from own_error


def load_handler(model_dir, handler):
    """Returns (entry point, initialize function) for the manifest's `handler` field."""
    if not handler:
        raise HandlerLoadError("the manifest names no handler (model.handler)")
    module_part, _, function_name = handler.partition(":")
    if module_part.endswith(".py"):
        module_part = module_part[:-3]
    module_name = module_part.split("/")[-1]
    module = _import_handler_module(model_dir, module_name)
    function_name = function_name or "handle"
    if hasattr(module, function_name) and not inspect.isclass(getattr(module, function_name)):
        entry = getattr(module, function_name)
        return entry, lambda context: entry(None, context)
    classes = _classes_defined_in(module)
    if len(classes) != 1:
        names = ", ".join(c.__name__ for c in classes) or "none"
        raise HandlerLoadError(
            f"handler module '{module_name}' must define one class with handle() or a function "
            f"'{function_name}'; classes defined: {names}"
        )
    service = classes[0]()
    if not hasattr(service, "handle"):
        raise HandlerLoadError(f"class {classes[0].__name__} of handler '{module_name}' has no handle() method")
    initialize = getattr(service, "initialize", None) or (lambda context: None)
    return service.handle, initialize
