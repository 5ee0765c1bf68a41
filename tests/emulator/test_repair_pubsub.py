"""History and repair on the Pub/Sub emulator: the project reads its dead-letter subscription
itself (each dead-lettered event kept for replay, acknowledged only once stored; what names no
event dropped), and job messages are published to the jobs topic and come back intact."""

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shared.clock import FakeClock
from shared.errors import QueueUnavailable
from shared.queue.base import ThinMessage
from shared.queue.pull import PubSubPull
from shared.queue.topic import PubSubTopic
from shared.repair import dead_letters, health, replay
from shared.repair.jobs import Job
from shared.store.sqlite import SqliteStore
from tests.emulators import PROJECT
from tests.pubsub_events import topic_with_subscription

pytestmark = pytest.mark.emulator


@pytest.fixture
def hold(pubsub_emulator: str) -> Iterator[tuple[Any, str, Any, str]]:
    with topic_with_subscription(PROJECT, "dead-letters") as made:
        yield made


def test_dead_letters_are_kept_counted_and_acknowledged(
    hold: tuple[Any, str, Any, str], tmp_path: Path
) -> None:
    publisher, topic, subscriber, subscription = hold
    events = [
        ThinMessage(
            "prj_a", "acct_1A", f"evt_{n}", "customer.updated", f"cus_{n}", "customer", n, False
        )
        for n in range(3)
    ]
    for message in events:
        publisher.publish(topic, message.encode()).result(timeout=10)
    publisher.publish(topic, b'{"project_id":"prj_a"}').result(timeout=10)  # a wake-up
    publisher.publish(topic, b"\x00garbage").result(timeout=10)
    store, clock = SqliteStore(tmp_path / "omniroo.db"), FakeClock()
    source = PubSubPull(subscriber, subscription, timeout=3.0)
    collected = dead_letters.collect(store, source, clock)
    assert collected == dead_letters.Collected(kept=3, dropped=2)
    assert sorted(f.event_id for f in replay.failures(store, "prj_a")) == [
        "evt_0",
        "evt_1",
        "evt_2",
    ]
    assert {f.stripe_id for f in replay.failures(store, "prj_a")} == {"cus_0", "cus_1", "cus_2"}
    assert health.day(store, "prj_a", health.day_of(clock.now())).counts["dead_lettered"] == 3
    assert source.pull(10) == []  # acknowledged: nothing comes back
    assert dead_letters.collect(store, source, clock) == dead_letters.Collected()
    store.close()


def test_an_unreachable_subscription_is_queue_unavailable(pubsub_emulator: str) -> None:
    from google.cloud import pubsub_v1

    subscriber = pubsub_v1.SubscriberClient()
    missing = subscriber.subscription_path(PROJECT, f"missing-{uuid.uuid4().hex[:8]}")
    with pytest.raises(QueueUnavailable):
        PubSubPull(subscriber, missing, timeout=3.0).pull(10)


def test_job_messages_are_published_and_acknowledged_by_the_topic(
    hold: tuple[Any, str, Any, str],
) -> None:
    publisher, topic, subscriber, subscription = hold
    PubSubTopic(publisher, topic).publish(Job("backfill", "prj_a").encode(), job="backfill")
    [(_, data)] = PubSubPull(subscriber, subscription, timeout=3.0).pull(10)
    assert Job.decode(data) == Job("backfill", "prj_a")
    with pytest.raises(QueueUnavailable):
        PubSubTopic(publisher, publisher.topic_path(PROJECT, "missing-topic"), timeout=3.0).publish(
            b"{}"
        )
