"""The production Queue: Cloud Pub/Sub, and the decoding of its push deliveries.

``PubSubQueue.publish`` returns only once Pub/Sub has acknowledged the message, within a bounded
time; any failure becomes ``QueueUnavailable`` so the webhook answers 5xx and Stripe retries.
Attributes carry ids and the event type only, for filtering and tracing without the body.
"""

import base64
import binascii
from typing import Any

from google.api_core import retry as api_retry
from google.cloud import pubsub_v1  # type: ignore[attr-defined]

from shared.errors import BadRequest, QueueUnavailable
from shared.queue.base import ThinMessage


class PubSubQueue:
    def __init__(
        self, publisher: pubsub_v1.PublisherClient, topic_path: str, timeout: float = 10.0
    ) -> None:
        self._publisher = publisher
        self._topic = topic_path
        self._timeout = timeout
        self._retry = api_retry.Retry(initial=0.1, maximum=1.0, multiplier=2.0, timeout=timeout)

    def publish(self, message: ThinMessage) -> None:
        try:
            future = self._publisher.publish(
                self._topic,
                message.encode(),
                retry=self._retry,
                timeout=self._timeout,
                event_id=message.event_id,
                project_id=message.project_id,
                type=message.type,
            )
            future.result(timeout=self._timeout)
        except Exception as exc:
            raise QueueUnavailable(f"pubsub publish failed: {type(exc).__name__}") from exc


def decode_push(cloud_event_data: dict[str, Any]) -> ThinMessage:
    """The thin message inside a Pub/Sub CloudEvent's data:
    ``{"message": {"data": <base64>, "attributes": {...}, "messageId": ...}, "subscription": ...}``.
    """
    envelope = cloud_event_data.get("message") if isinstance(cloud_event_data, dict) else None
    if not isinstance(envelope, dict):
        raise BadRequest("malformed push message: no 'message' object")
    data = envelope.get("data")
    if not isinstance(data, str) or not data:
        raise BadRequest("malformed push message: 'message.data' is not a base64 string")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadRequest("malformed push message: 'message.data' is not valid base64") from exc
    message = ThinMessage.decode(raw)
    attributes = envelope.get("attributes")
    if attributes is None:
        attributes = {}
    if not isinstance(attributes, dict):
        raise BadRequest("malformed push message: 'message.attributes' is not an object")
    claimed = attributes.get("event_id")
    if claimed is not None and claimed != message.event_id:
        raise BadRequest("malformed push message: attributes name another event")
    return message
