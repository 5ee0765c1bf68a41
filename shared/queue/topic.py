"""Publishing bytes to a Pub/Sub topic and waiting for the acknowledgement: the jobs topic's
chained and fanned-out job messages (``shared.repair.jobs``). Attributes carry ids only."""

from google.api_core import retry as api_retry
from google.cloud import pubsub_v1  # type: ignore[attr-defined]

from shared.errors import QueueUnavailable


class PubSubTopic:
    def __init__(
        self, publisher: pubsub_v1.PublisherClient, topic_path: str, timeout: float = 10.0
    ) -> None:
        self._publisher = publisher
        self._topic = topic_path
        self._timeout = timeout
        self._retry = api_retry.Retry(initial=0.1, maximum=1.0, multiplier=2.0, timeout=timeout)

    def publish(self, data: bytes, **attributes: str) -> None:
        try:
            future = self._publisher.publish(
                self._topic, data, retry=self._retry, timeout=self._timeout, **attributes
            )
            future.result(timeout=self._timeout)
        except Exception as exc:
            raise QueueUnavailable(f"pubsub publish failed: {type(exc).__name__}") from exc
