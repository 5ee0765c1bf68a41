"""The Queue contract: the in-process worker (delivery, retries, dead letters, drain, close) and
Pub/Sub (delivery through the emulator, an unreachable service, decoding push deliveries).
"""

import base64
import json
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from shared.clock import FakeClock
from shared.errors import (
    BadRequest,
    PermanentFailure,
    QueueUnavailable,
    RemoteUnavailable,
    StoreUnavailable,
)
from shared.queue.base import ThinMessage
from shared.queue.inproc import InProcQueue
from shared.queue.pubsub import PubSubQueue, decode_push
from tests.emulators import PROJECT, free_port


def message(n: int = 1, **overrides: Any) -> ThinMessage:
    fields: dict[str, Any] = {
        "project_id": "prj_test",
        "account": "acct_1Test",
        "event_id": f"evt_{n}",
        "type": "customer.updated",
        "object_id": f"cus_{n}",
        "object_type": "customer",
        "created": 1_800_000_000 + n,
        "livemode": False,
    }
    return ThinMessage(**{**fields, **overrides})


class Recorder:
    """A handler that fails as scripted, then succeeds, recording every call."""

    def __init__(self, *failures: Exception) -> None:
        self.failures = list(failures)
        self.handled: list[ThinMessage] = []
        self.calls: list[ThinMessage] = []

    def __call__(self, msg: ThinMessage) -> None:
        self.calls.append(msg)
        if self.failures:
            raise self.failures.pop(0)
        self.handled.append(msg)


class LogLines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def text(self) -> str:
        return "\n".join(f"{r.getMessage()} {getattr(r, 'fields', {})}" for r in self.records)


@pytest.fixture
def log_lines() -> Iterator[LogLines]:
    handler = LogLines()
    logger = logging.getLogger("omniroo")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def dead() -> list[tuple[ThinMessage, Exception]]:
    return []


@pytest.fixture
def make_queue(clock: FakeClock, dead: list[tuple[ThinMessage, Exception]]) -> Iterator[Any]:
    queues: list[InProcQueue] = []

    def make(handler: Any, **kwargs: Any) -> InProcQueue:
        kwargs.setdefault("on_dead_letter", lambda m, e: dead.append((m, e)))
        queues.append(InProcQueue(handler, clock, **kwargs))
        return queues[-1]

    yield make
    for queue in queues:
        queue.close()


# --- In-process -----------------------------------------------------------------------------


class TestInProcDelivery:
    def test_delivered_intact(self, make_queue: Any) -> None:
        handler = Recorder()
        queue = make_queue(handler)
        queue.publish(message(1))
        assert queue.drain(5)
        assert handler.handled == [message(1)]
        assert queue.attempts == [("evt_1", 1)]

    def test_in_order(self, make_queue: Any) -> None:
        handler = Recorder()
        queue = make_queue(handler)
        for n in range(20):
            queue.publish(message(n))
        assert queue.drain(5)
        assert handler.handled == [message(n) for n in range(20)]

    def test_handler_return_value_is_ignored(self, make_queue: Any) -> None:
        queue = make_queue(lambda m: "an outcome")
        queue.publish(message())
        assert queue.drain(5)

    def test_publish_returns_before_handling(self, make_queue: Any) -> None:
        release = threading.Event()
        queue = make_queue(lambda m: release.wait(5))
        started = time.monotonic()
        queue.publish(message())
        assert time.monotonic() - started < 1
        release.set()
        assert queue.drain(5)


class TestInProcRetries:
    def test_transient_errors_are_retried_with_growing_jittered_backoff(
        self, make_queue: Any, clock: FakeClock, dead: list[Any]
    ) -> None:
        handler = Recorder(RemoteUnavailable("429"), StoreUnavailable("down"), RemoteUnavailable())
        queue = make_queue(handler, backoff=2.0)
        queue.publish(message(7))
        assert queue.drain(5)
        assert handler.handled == [message(7)]
        assert queue.attempts == [("evt_7", 1), ("evt_7", 2), ("evt_7", 3), ("evt_7", 4)]
        assert len(clock.sleeps) == 3
        for attempt, slept in enumerate(clock.sleeps, start=1):
            ceiling = 2.0 * 2 ** (attempt - 1)
            assert ceiling / 2 <= slept <= ceiling
        assert dead == []

    def test_dead_lettered_after_max_attempts(
        self, make_queue: Any, clock: FakeClock, dead: list[Any]
    ) -> None:
        handler = Recorder(*[RemoteUnavailable(str(i)) for i in range(10)])
        queue = make_queue(handler, max_attempts=3)
        queue.publish(message(3))
        assert queue.drain(5)
        assert queue.attempts == [("evt_3", 1), ("evt_3", 2), ("evt_3", 3)]
        assert len(clock.sleeps) == 2  # no wait after the last attempt
        [(msg, error)] = dead
        assert msg == message(3)
        assert isinstance(error, RemoteUnavailable)
        assert handler.handled == []

    @pytest.mark.parametrize(
        "error", [ValueError("bug"), PermanentFailure("hubspot_400"), BadRequest("nope")]
    )
    def test_other_errors_are_dead_lettered_at_once(
        self, make_queue: Any, clock: FakeClock, dead: list[Any], error: Exception
    ) -> None:
        queue = make_queue(Recorder(error))
        queue.publish(message(4))
        assert queue.drain(5)
        assert queue.attempts == [("evt_4", 1)]
        assert clock.sleeps == []
        assert dead == [(message(4), error)]

    def test_without_a_dead_letter_callback_it_is_logged(
        self, clock: FakeClock, log_lines: LogLines
    ) -> None:
        queue = InProcQueue(Recorder(ValueError("x")), clock)
        queue.publish(message(5))
        assert queue.drain(5)
        queue.close()
        assert "evt_5" in log_lines.text()

    def test_logs_carry_ids_not_error_text(self, make_queue: Any, log_lines: LogLines) -> None:
        secret = "jane.doe@example.com said card 4242"
        queue = make_queue(Recorder(RemoteUnavailable(secret), ValueError(secret)))
        queue.publish(message(6))
        assert queue.drain(5)
        text = log_lines.text()
        assert "evt_6" in text
        assert "jane.doe" not in text and "4242" not in text


class TestInProcResilience:
    def test_worker_survives_handler_failures(self, make_queue: Any, dead: list[Any]) -> None:
        handler = Recorder(RuntimeError("boom"), KeyError("k"))
        queue = make_queue(handler)
        for n in range(3):
            queue.publish(message(n))
        assert queue.drain(5)
        assert handler.handled == [message(2)]
        assert [m for m, _ in dead] == [message(0), message(1)]

    def test_worker_survives_a_failing_dead_letter_callback(self, make_queue: Any) -> None:
        def broken(msg: ThinMessage, error: Exception) -> None:
            raise StoreUnavailable("cannot park it either")

        handler = Recorder(ValueError("first fails"))
        queue = make_queue(handler, on_dead_letter=broken)
        queue.publish(message(1))
        queue.publish(message(2))
        assert queue.drain(5)
        assert handler.handled == [message(2)]

    def test_drain_waits_for_the_message_in_flight(self, make_queue: Any) -> None:
        release = threading.Event()
        queue = make_queue(lambda m: release.wait(5))
        queue.publish(message())
        assert queue.drain(0.2) is False
        release.set()
        assert queue.drain(5) is True

    def test_drain_of_an_idle_queue(self, make_queue: Any) -> None:
        assert make_queue(Recorder()).drain(0.1) is True

    def test_publish_after_close_is_refused(self, make_queue: Any) -> None:
        queue = make_queue(Recorder())
        queue.close()
        with pytest.raises(QueueUnavailable):
            queue.publish(message())

    def test_close_finishes_what_was_queued(self, make_queue: Any) -> None:
        handler = Recorder()
        queue = make_queue(handler)
        for n in range(5):
            queue.publish(message(n))
        queue.close()
        assert len(handler.handled) == 5

    def test_max_attempts_must_be_positive(self, clock: FakeClock) -> None:
        with pytest.raises(ValueError):
            InProcQueue(Recorder(), clock, max_attempts=0)


# --- Pub/Sub --------------------------------------------------------------------------------


@pytest.fixture
def pubsub_topic(pubsub_emulator: str) -> Iterator[tuple[Any, str, Any, str]]:
    from google.cloud import pubsub_v1

    publisher = pubsub_v1.PublisherClient()
    subscriber = pubsub_v1.SubscriberClient()
    name = f"events-{uuid.uuid4().hex[:8]}"
    topic = publisher.topic_path(PROJECT, name)
    subscription = subscriber.subscription_path(PROJECT, name)
    publisher.create_topic(name=topic)
    subscriber.create_subscription(name=subscription, topic=topic)
    yield publisher, topic, subscriber, subscription
    subscriber.delete_subscription(subscription=subscription)
    publisher.delete_topic(topic=topic)
    subscriber.close()
    publisher.stop()


@pytest.mark.emulator
def test_pubsub_delivers_the_message_intact(pubsub_topic: Any) -> None:
    publisher, topic, subscriber, subscription = pubsub_topic
    PubSubQueue(publisher, topic).publish(message(9))
    response = subscriber.pull(subscription=subscription, max_messages=10, timeout=10)
    [received] = response.received_messages
    subscriber.acknowledge(subscription=subscription, ack_ids=[received.ack_id])
    assert ThinMessage.decode(received.message.data) == message(9)
    assert dict(received.message.attributes) == {
        "event_id": "evt_9",
        "project_id": "prj_test",
        "type": "customer.updated",
    }
    assert received.message.ordering_key == ""


@pytest.mark.emulator
def test_pubsub_push_payload_decodes(pubsub_topic: Any) -> None:
    """What the emulator delivers, wrapped as the Pub/Sub CloudEvent a function receives."""
    publisher, topic, subscriber, subscription = pubsub_topic
    PubSubQueue(publisher, topic).publish(message(10))
    [received] = subscriber.pull(
        subscription=subscription, max_messages=1, timeout=10
    ).received_messages
    data = {
        "message": {
            "data": base64.b64encode(received.message.data).decode(),
            "attributes": dict(received.message.attributes),
            "messageId": received.message.message_id,
            "publishTime": received.message.publish_time.isoformat(),
        },
        "subscription": subscription,
    }
    assert decode_push(data) == message(10)


def test_pubsub_unreachable_is_queue_unavailable_within_the_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from google.cloud import pubsub_v1

    # The client reads the emulator address when it is built: point it at a port nobody serves.
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", f"127.0.0.1:{free_port()}")
    publisher = pubsub_v1.PublisherClient()
    queue = PubSubQueue(publisher, publisher.topic_path(PROJECT, "events"), timeout=1.0)
    started = time.monotonic()
    with pytest.raises(QueueUnavailable):
        queue.publish(message())
    assert time.monotonic() - started < 3.0
    publisher.stop()


def _push(data: bytes, **attributes: str) -> dict[str, Any]:
    return {
        "message": {
            "data": base64.b64encode(data).decode(),
            "attributes": attributes,
            "messageId": "11937923475392",
            "message_id": "11937923475392",
            "publishTime": "2026-11-29T05:13:39.123Z",
            "publish_time": "2026-11-29T05:13:39.123Z",
        },
        "subscription": f"projects/{PROJECT}/subscriptions/hubspot-push",
    }


def test_decode_push_round_trip() -> None:
    sent = message(11, livemode=True)
    data = _push(sent.encode(), event_id=sent.event_id, project_id="prj_test", type=sent.type)
    assert decode_push(data) == sent


def test_decode_push_without_attributes() -> None:
    data = _push(message().encode())
    del data["message"]["attributes"]
    assert decode_push(data) == message()


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(None, id="not-an-object"),
        pytest.param([], id="a-list"),
        pytest.param({}, id="no-message"),
        pytest.param({"message": "text"}, id="message-not-an-object"),
        pytest.param({"message": {}}, id="no-data"),
        pytest.param({"message": {"data": 42}}, id="data-not-a-string"),
        pytest.param({"message": {"data": ""}}, id="empty-data"),
        pytest.param({"message": {"data": "%%% not base64 %%%"}}, id="not-base64"),
        pytest.param(_push(b"not json"), id="not-json"),
        pytest.param(_push(b"[1, 2]"), id="json-not-an-object"),
        pytest.param(_push(json.dumps({"event_id": "evt_1"}).encode()), id="missing-fields"),
        pytest.param(_push(message().encode(), event_id="evt_other"), id="attributes-disagree"),
        pytest.param(
            {"message": {"data": base64.b64encode(message().encode()).decode(), "attributes": []}},
            id="attributes-not-an-object",
        ),
    ],
)
def test_decode_push_refuses_malformed(data: Any) -> None:
    with pytest.raises(BadRequest, match="malformed"):
        decode_push(data)
