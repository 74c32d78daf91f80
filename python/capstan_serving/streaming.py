"""Intermediate responses: a handler that streams calls send_intermediate_predict_response for each
part; the server sends each as an HTTP chunk and ends the response with the handler's return value."""
import importlib.abc
import sys

# TorchServe's modules that define the helper stock streaming handlers import; both import torch.
_TORCHSERVE_HELPER_MODULES = ("ts.handler_utils.utils", "ts.protocol.otf_message_handler")


def send_intermediate_predict_response(ret, req_id_map, message, code, context=None):
    """Sends `ret[i]` for each request of `req_id_map` as one more part of a streamed answer."""
    sender = getattr(context, "_capstan_send_partial", None)
    if sender is None:
        raise RuntimeError("send_intermediate_predict_response needs the context the worker passed to handle()")
    sender(ret, req_id_map, message, code)


class _PatchingLoader(importlib.abc.Loader):
    """Runs TorchServe's module, then points its helper at ours (before the handler's import binds it)."""

    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        module.send_intermediate_predict_response = send_intermediate_predict_response

    def __getattr__(self, name):  # get_source, get_filename, … for tracebacks
        return getattr(self._loader, name)


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Patches TorchServe's helper modules when a handler imports them, and only then."""

    def find_spec(self, fullname, path, target=None):
        if fullname not in _TORCHSERVE_HELPER_MODULES:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _PatchingLoader(spec.loader)
                return spec
        return None


def patch_torchserve_streaming():
    """Points TorchServe's own helper at ours, so stock streaming handlers work unchanged. The modules
    are patched as they are imported, not imported here: they import torch, which costs seconds and
    hundreds of MB, and a handler that does not stream through them should not pay for it."""
    for name in _TORCHSERVE_HELPER_MODULES:
        module = sys.modules.get(name)
        if module is not None:
            module.send_intermediate_predict_response = send_intermediate_predict_response
    if not any(isinstance(finder, _PatchOnImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _PatchOnImport())
