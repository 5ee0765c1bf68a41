"""The production Queue: Cloud Pub/Sub carries wake-ups to ``hubspot_push``.

``PubSubWaker.wake`` returns only once Pub/Sub has acknowledged the wake-up, within a bounded
time; any failure becomes ``QueueUnavailable``. The attributes carry the project id only.
"""

from google.api_core import retry as api_retry
from google.cloud import pubsub_v1  # type: ignore[attr-defined]

from shared.errors import QueueUnavailable
from shared.queue.base import WakeUp


class PubSubWaker:
    def __init__(
        self, publisher: pubsub_v1.PublisherClient, topic_path: str, timeout: float = 10.0
    ) -> None:
        self._publisher = publisher
        self._topic = topic_path
        self._timeout = timeout
        self._retry = api_retry.Retry(initial=0.1, maximum=1.0, multiplier=2.0, timeout=timeout)

    def wake(self, project_id: str) -> None:
        self.publish(WakeUp(project_id))

    def publish(self, message: WakeUp) -> None:
        try:
            future = self._publisher.publish(
                self._topic,
                message.encode(),
                retry=self._retry,
                timeout=self._timeout,
                project_id=message.project_id,
            )
            future.result(timeout=self._timeout)
        except Exception as exc:
            raise QueueUnavailable(f"pubsub publish failed: {type(exc).__name__}") from exc
