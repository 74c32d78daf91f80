"""A model worker: loads one archive's handler and answers the batches the server sends on fd 3.
Run as `python -m capstan_serving.worker`; see protocol.py for the frames and docs/serving.md."""
import json
import logging
import os
import sys
import time
import traceback

from .context import Context, RequestProcessor
from .handler_loader import load_handler
from .metrics import MetricsStore
from .protocol import Channel
from .streaming import patch_torchserve_streaming

logger = logging.getLogger("capstan_serving.worker")
SERVER_VERSION = "capstan-0.1.0"


def _decode_input(content_type, value):
    if content_type == "application/json":
        try:
            return json.loads(bytes(value).decode("utf-8"))
        except Exception:
            return bytearray(value)
    if content_type.startswith("text"):
        try:
            return bytes(value).decode("utf-8")
        except Exception:
            return bytearray(value)
    return bytearray(value)


def _encode_output(value):
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    if type(value).__module__.startswith("torch"):
        import io

        import torch  # type: ignore

        buffer = io.BytesIO()
        torch.save(value, buffer)
        return buffer.getvalue()
    return json.dumps(value, indent=2).encode("utf-8")


class Worker:
    """Holds the loaded handler and turns batches into answers."""

    def __init__(self, channel):
        self.channel = channel
        self.entry = None
        self.context = None

    def load(self, spec):
        model_dir = spec["modelDir"]
        if model_dir not in sys.path:
            sys.path.insert(0, model_dir)
        patch_torchserve_streaming()
        metrics = MetricsStore(spec["modelName"])
        gpu = spec.get("gpuId")
        self.context = Context(
            spec["modelName"], model_dir, spec.get("manifest"), spec.get("batchSize", 1),
            gpu if gpu is not None and gpu >= 0 else None, SERVER_VERSION,
            spec.get("limitMaxImagePixels", True), metrics, spec.get("modelYamlConfig") or {},
        )
        self.context._capstan_send_partial = self._send_partial
        entry, initialize = load_handler(model_dir, spec.get("handler"))
        initialize(self.context)
        self.entry = entry

    def _answers(self, results, ids, message, code, more):
        context = self.context
        items, parts = [], []
        for idx, request_id in ids.items():
            body = _encode_output(results[idx])
            status, phrase = context.get_response_status(idx)
            headers = dict(context.get_response_headers(idx))
            content_type = headers.pop("content-type", None)
            headers.pop("ts_stream_next", None)
            items.append({
                "id": request_id, "status": status if status is not None else 200, "phrase": phrase or "",
                "contentType": content_type, "headers": headers, "size": len(body), "more": more,
            })
            parts.append(body)
        self.channel.send({"type": "result", "code": code, "message": message, "responses": items}, parts)

    def _send_partial(self, results, ids, message, code):
        self._answers(results, ids, message, code, True)

    def predict(self, header, body):
        processors, batch, ids = [], [], {}
        offset = 0
        for idx, request in enumerate(header["requests"]):
            model_in, headers = {}, dict(request.get("headers") or {})
            for item in request["inputs"]:
                size = item["size"]
                value = body[offset : offset + size]
                offset += size
                model_in[item["name"]] = _decode_input(item["contentType"], value)
                headers[item["name"]] = {"content-type": item["contentType"]}
            processors.append(RequestProcessor(headers))
            batch.append(model_in)
            ids[idx] = request["id"]
        context = self.context
        context.request_ids = ids
        context.request_processor = processors
        context.metrics.request_ids = ids
        started = time.time()
        try:
            results = self.entry(batch, context)
        except MemoryError:
            logger.error("out of memory in the handler", exc_info=True)
            return self._fail(507, "Out of resources")
        except Exception as error:  # the handler's own failure answers this batch only
            code = getattr(error, "error_code", None)
            message = getattr(error, "message", None)
            if isinstance(code, int) and isinstance(message, str):
                logger.error("handler raised %s", message, exc_info=True)
                return self._fail(code, message)
            if "CUDA" in str(error):
                logger.error("CUDA error in the handler", exc_info=True)
                return self._fail(507, "Out of resources")
            logger.warning("handler failed", exc_info=True)
            return self._fail(503, "Prediction failed")
        if not isinstance(results, list):
            logger.warning("handler of %s returned %s, not a list", context.model_name, type(results).__name__)
            return self._fail(503, "Invalid model predict output")
        if len(results) != len(batch):
            logger.warning("handler returned %d answers for %d requests", len(results), len(batch))
            return self._fail(503, "number of batch response mismatched")
        context.metrics.add_time("PredictionTime", round((time.time() - started) * 1000, 2))
        try:
            self._answers(results, ids, "Prediction success", 200, False)
        except TypeError:
            logger.warning("handler output could not be serialised", exc_info=True)
            self._fail(503, "Unsupported model output data type.")

    def _fail(self, code, message):
        self.channel.send({"type": "result", "code": code, "message": message, "responses": []})


def main():
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    channel = Channel(int(os.environ.get("CAPSTAN_WORKER_FD", "3")))
    worker = Worker(channel)
    try:
        header, _ = channel.receive()
        worker.load(header)
    except EOFError:
        return 0
    except BaseException as error:  # report why the model cannot load, then stop
        traceback.print_exc()
        channel.send({"type": "loaded", "code": 500, "message": f"{type(error).__name__}: {error}"})
        return 1
    channel.send({"type": "loaded", "code": 200, "message": "loaded", "pid": os.getpid()})
    while True:
        try:
            header, body = channel.receive()
        except EOFError:
            return 0
        if header.get("type") == "predict":
            worker.predict(header, body)


if __name__ == "__main__":
    sys.exit(main())
