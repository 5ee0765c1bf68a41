"""CloudEvents as Eventarc delivers Pub/Sub messages to a 2nd-gen function."""

import base64
import json
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from shared.queue.base import ThinMessage


def pubsub_cloud_event(
    message: ThinMessage | bytes, attributes: dict[str, str] | None = None
) -> dict[str, Any]:
    data = message.encode() if isinstance(message, ThinMessage) else message
    message_id = str(secrets.randbelow(10**12))
    return {
        "specversion": "1.0",
        "type": "google.cloud.pubsub.topic.v1.messagePublished",
        "source": "//pubsub.googleapis.com/projects/omniroo-test/topics/stripe-events",
        "id": message_id,
        "datacontenttype": "application/json",
        "data": {
            "message": {
                "data": base64.b64encode(data).decode(),
                "attributes": attributes or {},
                "messageId": message_id,
                "publishTime": "2026-11-29T05:00:00.000Z",
            },
            "subscription": "projects/omniroo-test/subscriptions/hubspot-push",
        },
    }


def post_cloud_event(client: Any, event: dict[str, Any]) -> Any:
    return client.post(
        "/", data=json.dumps(event), headers={"Content-Type": "application/cloudevents+json"}
    )


@contextmanager
def topic_with_subscription(project: str, prefix: str) -> Iterator[tuple[Any, str, Any, str]]:
    """A fresh topic and its pull subscription on the Pub/Sub emulator, removed afterwards:
    (publisher, topic path, subscriber, subscription path)."""
    from google.cloud import pubsub_v1  # type: ignore[attr-defined]

    publisher, subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    topic = publisher.topic_path(project, name)
    subscription = subscriber.subscription_path(project, name)
    publisher.create_topic(name=topic)
    subscriber.create_subscription(name=subscription, topic=topic)
    try:
        yield publisher, topic, subscriber, subscription
    finally:
        subscriber.delete_subscription(subscription=subscription)
        publisher.delete_topic(topic=topic)
        subscriber.close()
        publisher.stop()
