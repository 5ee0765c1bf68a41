"""The production Queue: Cloud Pub/Sub carries wake-ups to ``hubspot_push``.

``PubSubWaker.wake`` returns only once Pub/Sub has acknowledged the wake-up, within a bounded
time; any failure becomes ``QueueUnavailable``. The attributes carry the project id only.
"""

from google.cloud import pubsub_v1  # type: ignore[attr-defined]

from shared.queue.base import WakeUp
from shared.queue.topic import PubSubTopic


class PubSubWaker:
    def __init__(
        self, publisher: pubsub_v1.PublisherClient, topic_path: str, timeout: float = 10.0
    ) -> None:
        self._topic = PubSubTopic(publisher, topic_path, timeout)

    def wake(self, project_id: str) -> None:
        self.publish(WakeUp(project_id))

    def publish(self, message: WakeUp) -> None:
        self._topic.publish(message.encode(), project_id=message.project_id)
