"""Intermediate responses: a handler that streams calls send_intermediate_predict_response for each
part; the server sends each as an HTTP chunk and ends the response with the handler's return value."""


def send_intermediate_predict_response(ret, req_id_map, message, code, context=None):
    """Sends `ret[i]` for each request of `req_id_map` as one more part of a streamed answer."""
    sender = getattr(context, "_capstan_send_partial", None)
    if sender is None:
        raise RuntimeError("send_intermediate_predict_response needs the context the worker passed to handle()")
    sender(ret, req_id_map, message, code)


def patch_torchserve_streaming():
    """Points TorchServe's own helper at ours, so stock streaming handlers work unchanged."""
    try:
        import ts.handler_utils.utils as ts_utils  # type: ignore
    except Exception:  # torchserve (or torch) not installed: nothing to patch
        return
    ts_utils.send_intermediate_predict_response = send_intermediate_predict_response
    try:
        import ts.protocol.otf_message_handler as otf  # type: ignore

        otf.send_intermediate_predict_response = send_intermediate_predict_response
    except Exception:
        pass
