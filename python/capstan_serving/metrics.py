"""`context.metrics` for handlers: the add_* calls TorchServe's handlers make, kept per batch and
written to the worker's log as `[METRICS]` lines (the server's log collects them)."""
import logging
import time

logger = logging.getLogger("capstan_serving.metrics")


class _Metric:
    def __init__(self, store, name, unit, dimension_names):
        self._store = store
        self.name = name
        self.unit = unit
        self.dimension_names = dimension_names or []

    def add_or_update(self, value, dimension_values=None, request_id=None):
        self._store.emit(self.name, value, self.unit)

    update = add_or_update


class MetricsStore:
    """Collects the metrics a handler reports."""

    def __init__(self, model_name):
        self.model_name = model_name
        self.request_ids = None
        self.store = []

    def emit(self, name, value, unit):
        self.store.append((name, value, unit))
        logger.info("[METRICS]%s.%s:%s|#ModelName:%s|%d", name, unit, value, self.model_name, int(time.time()))

    def add_time(self, name, value, idx=None, unit="ms", metric_type=None):
        self.emit(name, value, unit)

    def add_size(self, name, value, idx=None, unit="MB", metric_type=None):
        self.emit(name, value, unit)

    def add_percent(self, name, value, idx=None, metric_type=None):
        self.emit(name, value, "percent")

    def add_counter(self, name, value, idx=None, dimensions=None, metric_type=None):
        self.emit(name, value, "count")

    def add_error(self, name, value, dimensions=None):
        self.emit(name, value, "error")

    def add_metric(self, name, value, unit, idx=None, dimensions=None, metric_type=None):
        self.emit(name, value, unit)

    def add_metric_to_cache(self, metric_name, unit, dimension_names=None, metric_type=None):
        return _Metric(self, metric_name, unit, dimension_names)

    def get_metric(self, metric_name, metric_type=None):
        return _Metric(self, metric_name, "", None)
