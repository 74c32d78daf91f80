"""Producing to Kafka from a task through a team connection (docs/streams.md, "Producing from a task").

The task lists the connection (`connections: [events]`); Capstan puts its settings and credentials
into the task's environment as CAPSTAN_CONN_<NAME>_<FIELD> (docs/connections.md), and this module
reads them there:

    from capstan import kafka
    kafka.produce(connection="events", topic="scores", value={"user": 7, "score": 0.4},
                  key="user-7", headers={"source": "retrain"})

A value that is a dict, list, number, bool or None is sent as JSON; str as UTF-8; bytes as they are.
Each call waits until the broker has the message and returns its topic, partition and offset.
Producers are kept per connection for the life of the process and flushed when it exits.
"""

import atexit
import json
import logging
import os

__all__ = ["KafkaConnectionError", "KafkaProduceError", "close", "connection_settings", "produce"]


class KafkaConnectionError(Exception):
    """The connection is not given to this task, is not a kafka connection, or its settings are incomplete."""


class KafkaProduceError(Exception):
    """The broker could not be reached, refused the credentials, or did not take the message."""


_producers = {}


class _ClientWarnings(logging.Handler):
    """Keeps the client's last warning, and the one saying the broker refused the credentials: the
    client only logs these and then reports that it could not bootstrap."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.auth = None
        self.last = None

    def emit(self, record):
        text = record.getMessage()
        self.last = text
        if "Authentication" in text or "SaslAuthenticationFailed" in text:
            self.auth = text


def _env_name(connection, field):
    return "CAPSTAN_CONN_%s_%s" % (connection.upper().replace("-", "_"), field.upper())


def connection_settings(connection):
    """The settings of a kafka connection as this task's environment carries them."""
    if not isinstance(connection, str) or not connection:
        raise KafkaConnectionError("connection must be the name of a kafka connection of the team, e.g. connection=\"events\"")
    kind = os.environ.get(_env_name(connection, "kind"))
    if kind is None:
        raise KafkaConnectionError(
            "connection %r is not given to this task: list it in the task's connections (connections: [%s]); "
            "its settings then arrive as %s_*" % (connection, connection, _env_name(connection, "")[:-1])
        )
    if kind != "kafka":
        raise KafkaConnectionError("connection %r is a %s connection, not kafka" % (connection, kind))
    servers = [s for s in os.environ.get(_env_name(connection, "bootstrap_servers"), "").split(",") if s]
    if not servers:
        raise KafkaConnectionError("connection %r has no bootstrap servers (%s is empty)" % (connection, _env_name(connection, "bootstrap_servers")))
    return {
        "bootstrap_servers": servers,
        "tls": os.environ.get(_env_name(connection, "tls")) == "true",
        "sasl_mechanism": os.environ.get(_env_name(connection, "sasl_mechanism")),
        "sasl_username": os.environ.get(_env_name(connection, "sasl_username")),
        "sasl_password": os.environ.get(_env_name(connection, "sasl_password")),
    }


def _producer(connection, timeout):
    producer = _producers.get(connection)
    if producer is not None:
        return producer
    settings = connection_settings(connection)
    from kafka import KafkaProducer
    from kafka.errors import KafkaError

    options = {
        "bootstrap_servers": settings["bootstrap_servers"],
        "client_id": "capstan-task",
        "acks": "all",
        "retries": 3,
        "request_timeout_ms": int(timeout * 1000),
        "max_block_ms": int(timeout * 1000),
        "bootstrap_timeout_ms": int(timeout * 1000),
        "delivery_timeout_ms": int(timeout * 1000) + 5000,
    }
    mechanism = settings["sasl_mechanism"]
    if mechanism:
        options["security_protocol"] = "SASL_SSL" if settings["tls"] else "SASL_PLAINTEXT"
        options["sasl_mechanism"] = mechanism
        options["sasl_plain_username"] = settings["sasl_username"] or ""
        options["sasl_plain_password"] = settings["sasl_password"] or ""
    else:
        options["security_protocol"] = "SSL" if settings["tls"] else "PLAINTEXT"
    warnings = _ClientWarnings()
    client_log = logging.getLogger("kafka")
    client_log.addHandler(warnings)
    try:
        producer = KafkaProducer(**options)
    except KafkaError as error:
        raise KafkaProduceError(_describe(connection, settings, error, warnings.auth or warnings.last)) from None
    finally:
        client_log.removeHandler(warnings)
    _producers[connection] = producer
    return producer


def _describe(connection, settings, error, client_said=None):
    text = "%s: %s" % (type(error).__name__, error)
    if client_said is not None:
        text = "%s (%s)" % (client_said, text)
    lowered = text.lower()
    where = "connection %r (%s)" % (connection, ",".join(settings["bootstrap_servers"]))
    if "authentication" in lowered or "sasl" in lowered:
        return "%s refused the credentials of user %r (%s): check the connection's sasl_username and the secret behind sasl_password" % (
            where, settings["sasl_username"], text)
    if "nobrokersavailable" in lowered or "timeout" in lowered:
        if settings["sasl_mechanism"]:
            return "%s could not be reached, or did not accept the %s login of user %r in time (check the servers, the connection's sasl_username and the secret behind sasl_password): %s" % (
                where, settings["sasl_mechanism"], settings["sasl_username"], text)
        return "%s could not be reached, or did not answer in time: %s" % (where, text)
    return "%s: %s" % (where, text)


def _as_bytes(what, value, allow_json):
    if value is None and not allow_json:
        return None
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    if allow_json:
        try:
            return json.dumps(value, separators=(",", ":")).encode("utf-8")
        except (TypeError, ValueError) as error:
            raise TypeError("%s cannot be sent: %s; give bytes, str, or a value json.dumps accepts" % (what, error)) from None
    raise TypeError("%s must be str or bytes, not %s" % (what, type(value).__name__))


def produce(connection, topic, value, key=None, headers=None, partition=None, timeout=30):
    """Sends one message and waits until the broker has it; returns {"topic", "partition", "offset"}.

    `timeout` (seconds) bounds reaching the broker the first time and each send.
    """
    if not isinstance(topic, str) or not topic:
        raise TypeError("topic must be the name of a topic")
    payload = _as_bytes("value", value, allow_json=True)
    key_bytes = _as_bytes("key", key, allow_json=False)
    header_list = []
    for name, header in (headers or {}).items():
        if not isinstance(name, str):
            raise TypeError("header names must be str, not %s" % type(name).__name__)
        header_list.append((name, _as_bytes("header %r" % name, header, allow_json=False) or b""))
    producer = _producer(connection, timeout)
    from kafka.errors import KafkaError

    try:
        future = producer.send(topic, value=payload, key=key_bytes, headers=header_list or None, partition=partition)
        metadata = future.get(timeout=timeout)
    except KafkaError as error:
        raise KafkaProduceError("topic %r: %s" % (topic, _describe(connection, connection_settings(connection), error))) from None
    return {"topic": metadata.topic, "partition": metadata.partition, "offset": metadata.offset}


def close():
    """Flushes and closes the producers this process opened."""
    while _producers:
        _, producer = _producers.popitem()
        try:
            producer.flush(timeout=10)
        finally:
            producer.close(timeout=10)


atexit.register(close)
