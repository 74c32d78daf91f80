"""similar-users/serve/handler: a TorchServe handler (no TorchServe import needed) that answers
{"user_id": ID, "k": K?} with the K users whose embeddings are most similar by cosine, best first.

The model folder it loads (built by package.py from the train and features outputs):
embeddings.npy (users x factors, float32), user_ids.json (ids in row order), serve_config.json
({"k": default k}), and this file, with MAR-INF/MANIFEST.json naming it as the handler.
"""

from __future__ import annotations

import json
import os

import numpy as np


def bad_request(message: str, error_code: int = 400) -> ValueError:
    """An error TorchServe's contract answers with this status (it reads message and error_code);
    a function, not a class, since the handler module must define exactly one class."""
    error = ValueError(message)
    error.message = message  # type: ignore[attr-defined]
    error.error_code = error_code  # type: ignore[attr-defined]
    return error


class SimilarUsersHandler:
    def __init__(self) -> None:
        self.unit: np.ndarray | None = None
        self.ids: list = []
        self.row_of: dict[str, int] = {}
        self.default_k = 10

    def initialize(self, context) -> None:
        model_dir = context.system_properties.get("model_dir") or os.getcwd()
        embeddings = np.load(os.path.join(model_dir, "embeddings.npy")).astype(np.float32)
        with open(os.path.join(model_dir, "user_ids.json"), encoding="utf-8") as f:
            self.ids = json.load(f)
        if len(self.ids) != embeddings.shape[0]:
            raise ValueError(f"user_ids.json lists {len(self.ids)} users but embeddings.npy has {embeddings.shape[0]} rows")
        config_path = os.path.join(model_dir, "serve_config.json")
        if os.path.exists(config_path):
            with open(config_path, encoding="utf-8") as f:
                self.default_k = int(json.load(f).get("k", self.default_k))
        norms = np.linalg.norm(embeddings, axis=1)
        inverse = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
        self.unit = embeddings * inverse[:, None]
        # Ids are looked up as text, so {"user_id": 12} and {"user_id": "12"} name the same user.
        self.row_of = {str(user): row for row, user in enumerate(self.ids)}

    def _request(self, item: dict) -> tuple[str, int]:
        body = item.get("body", item.get("data", item))
        if isinstance(body, (bytes, bytearray)):
            try:
                body = json.loads(body.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as error:
                raise bad_request(f"the body is not JSON: {error}") from error
        if not isinstance(body, dict) or "user_id" not in body:
            raise bad_request('send {"user_id": ID} (and optionally "k")')
        k = body.get("k", self.default_k)
        if not isinstance(k, int) or isinstance(k, bool) or k < 1:
            raise bad_request(f"k must be a positive integer, got {k!r}")
        return str(body["user_id"]), min(k, len(self.ids) - 1)

    def handle(self, data, context):
        assert self.unit is not None
        answers = []
        for item in data:
            user, k = self._request(item)
            row = self.row_of.get(user)
            if row is None:
                raise bad_request(f"unknown user_id {user!r}", 404)
            scores = self.unit @ self.unit[row]
            scores[row] = -np.inf
            top = np.argpartition(-scores, k)[:k]
            top = top[np.argsort(-scores[top], kind="stable")]
            answers.append(
                {
                    "user_id": self.ids[row],
                    "similar": [{"user_id": self.ids[i], "score": round(float(scores[i]), 6)} for i in top],
                }
            )
        return answers
