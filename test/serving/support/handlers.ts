/** Python handlers used by the serving tests, as source text to put into archives. */

/** A class handler: echoes JSON with the model's settings and request headers; `{"fail": true}` raises. */
export const ECHO_HANDLER = `
import json, os

class EchoHandler:
    def initialize(self, context):
        self.context = context
        self.config = context.model_yaml_config
        self.initialized = True

    def handle(self, data, context):
        out = []
        for idx, row in enumerate(data):
            body = row.get("data") if row.get("data") is not None else row.get("body")
            if isinstance(body, dict) and body.get("fail"):
                raise ValueError("asked to fail")
            if isinstance(body, dict) and body.get("status"):
                context.set_response_status(body["status"], "custom", idx)
            context.set_response_content_type(idx, "application/json")
            context.set_response_header(idx, "x-echo", "yes")
            if isinstance(body, (bytes, bytearray)):
                body = body.decode("utf-8", "replace")
            out.append(json.dumps({
                "echo": body,
                "batch": len(data),
                "pid": os.getpid(),
                "model": context.model_name,
                "version": context.manifest["model"]["modelVersion"],
                "gpu": context.system_properties.get("gpu_id"),
                "batch_size": context.system_properties.get("batch_size"),
                "config": self.config,
                "header": context.get_request_header(idx, "x-client"),
                "explain": context.get_request_header(idx, "explain"),
            }))
        return out
`;

/** A module:function handler that returns text; `sleep` sleeps, `exit` kills the worker, `stream` streams. */
export const FUNCTION_HANDLER = `
import os, time
from capstan_serving import send_intermediate_predict_response

def handle(data, context):
    if data is None:
        return None
    out = []
    for idx, row in enumerate(data):
        text = row.get("body")
        if isinstance(text, (bytes, bytearray)):
            text = text.decode()
        if text.startswith("sleep"):
            time.sleep(float(text.split()[1]))
        if text == "exit":
            os._exit(3)
        if text == "stream":
            for part in ["one ", "two "]:
                send_intermediate_predict_response([part], context.request_ids, "partial", 200, context)
            out.append("three")
            continue
        out.append("fn:" + text)
    return out
`;
