"""Pulling a Pub/Sub subscription: how the project reads its own dead-letter topic
(``shared.repair.dead_letters``) instead of an operator with ``gcloud pubsub subscriptions pull``.

A pull waits at most ``timeout`` for messages; a subscription with nothing waiting answers empty
(or the wait runs out, which is the same answer). Any other failure is ``QueueUnavailable``.
"""

from collections.abc import Sequence

from google.api_core import exceptions as api_exceptions
from google.cloud import pubsub_v1  # type: ignore[attr-defined]

from shared.errors import QueueUnavailable


class PubSubPull:
    def __init__(
        self, subscriber: pubsub_v1.SubscriberClient, subscription_path: str, timeout: float = 5.0
    ) -> None:
        self._subscriber = subscriber
        self._subscription = subscription_path
        self._timeout = timeout

    def pull(self, limit: int) -> list[tuple[str, bytes]]:
        try:
            response = self._subscriber.pull(
                request={"subscription": self._subscription, "max_messages": limit},
                timeout=self._timeout,
            )
        except api_exceptions.DeadlineExceeded:
            return []
        except Exception as exc:
            raise QueueUnavailable(f"pubsub pull failed: {type(exc).__name__}") from exc
        return [(m.ack_id, bytes(m.message.data)) for m in response.received_messages]

    def ack(self, ack_ids: Sequence[str]) -> None:
        if not ack_ids:
            return
        try:
            self._subscriber.acknowledge(
                request={"subscription": self._subscription, "ack_ids": list(ack_ids)},
                timeout=self._timeout,
            )
        except Exception as exc:
            raise QueueUnavailable(f"pubsub acknowledge failed: {type(exc).__name__}") from exc
