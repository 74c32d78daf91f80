"""Capstan's model worker: runs a TorchServe model archive's handler behind `capstan serve`."""
from .context import Context, RequestProcessor  # noqa: F401
from .errors import PredictionException  # noqa: F401
from .streaming import send_intermediate_predict_response  # noqa: F401
