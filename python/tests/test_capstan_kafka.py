"""The Kafka producer helper of the Python runtime without a broker: settings read from the task's
CAPSTAN_CONN_* environment, the errors a task sees when a connection is missing or of another kind,
values encoded as documented, and a broker that cannot be reached named with the connection.
Producing to a real broker, and refused credentials, are tested in test/streams/kafka-sensor.test.ts."""

import pytest

from capstan import kafka


@pytest.fixture
def events(monkeypatch):
    monkeypatch.setenv("CAPSTAN_CONN_EVENTS_SASL_KIND", "kafka")
    monkeypatch.setenv("CAPSTAN_CONN_EVENTS_SASL_BOOTSTRAP_SERVERS", "127.0.0.1:1,127.0.0.1:2")
    monkeypatch.setenv("CAPSTAN_CONN_EVENTS_SASL_SASL_MECHANISM", "SCRAM-SHA-256")
    monkeypatch.setenv("CAPSTAN_CONN_EVENTS_SASL_SASL_USERNAME", "capstan")
    monkeypatch.setenv("CAPSTAN_CONN_EVENTS_SASL_SASL_PASSWORD", "s3cret")
    monkeypatch.setenv("CAPSTAN_CONN_EVENTS_SASL_TLS", "true")
    yield "events-sasl"
    kafka.close()


def test_reads_the_connection_from_the_environment(events):
    assert kafka.connection_settings(events) == {
        "bootstrap_servers": ["127.0.0.1:1", "127.0.0.1:2"],
        "tls": True,
        "sasl_mechanism": "SCRAM-SHA-256",
        "sasl_username": "capstan",
        "sasl_password": "s3cret",
    }


def test_a_connection_not_given_to_the_task_says_how_to_give_it(monkeypatch):
    monkeypatch.delenv("CAPSTAN_CONN_WAREHOUSE_KIND", raising=False)
    with pytest.raises(kafka.KafkaConnectionError, match=r"connection 'warehouse' is not given to this task: list it in the task's connections \(connections: \[warehouse\]\)"):
        kafka.produce(connection="warehouse", topic="t", value=1)


def test_a_connection_of_another_kind_is_refused(monkeypatch):
    monkeypatch.setenv("CAPSTAN_CONN_DB_KIND", "postgres")
    with pytest.raises(kafka.KafkaConnectionError, match=r"connection 'db' is a postgres connection, not kafka"):
        kafka.produce(connection="db", topic="t", value=1)


def test_values_keys_and_headers_are_checked_before_connecting(events):
    with pytest.raises(TypeError, match=r"value cannot be sent: .*give bytes, str, or a value json.dumps accepts"):
        kafka.produce(connection=events, topic="t", value=object())
    with pytest.raises(TypeError, match=r"key must be str or bytes, not int"):
        kafka.produce(connection=events, topic="t", value=1, key=7)
    with pytest.raises(TypeError, match=r"header 'n' must be str or bytes, not int"):
        kafka.produce(connection=events, topic="t", value=1, headers={"n": 1})
    with pytest.raises(TypeError, match=r"topic must be the name of a topic"):
        kafka.produce(connection=events, topic="", value=1)


def test_values_are_encoded_as_documented():
    assert kafka._as_bytes("value", {"a": 1}, allow_json=True) == b'{"a":1}'
    assert kafka._as_bytes("value", None, allow_json=True) == b"null"
    assert kafka._as_bytes("value", "é", allow_json=True) == "é".encode("utf-8")
    assert kafka._as_bytes("value", b"\x00\xff", allow_json=True) == b"\x00\xff"
    assert kafka._as_bytes("key", None, allow_json=False) is None


def test_a_broker_that_cannot_be_reached_is_named_with_the_connection(monkeypatch):
    monkeypatch.setenv("CAPSTAN_CONN_DOWN_KIND", "kafka")
    monkeypatch.setenv("CAPSTAN_CONN_DOWN_BOOTSTRAP_SERVERS", "127.0.0.1:1")
    with pytest.raises(kafka.KafkaProduceError, match=r"connection 'down' \(127\.0\.0\.1:1\) could not be reached, or did not answer in time"):
        kafka.produce(connection="down", topic="t", value=1, timeout=1)
