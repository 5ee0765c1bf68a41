"""The Queue port and the thin message it carries.

A message names an event and the object it is about, and nothing else: no Stripe field other than
ids and types ever rides on it.
"""

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from typing import Protocol

from shared.errors import BadRequest


@dataclass(frozen=True)
class ThinMessage:
    project_id: str
    account: str
    event_id: str
    type: str
    object_id: str
    object_type: str
    created: int
    livemode: bool

    def encode(self) -> bytes:
        return json.dumps(asdict(self), separators=(",", ":"), sort_keys=True).encode()

    @classmethod
    def decode(cls, data: bytes) -> "ThinMessage":
        try:
            raw = json.loads(data)
            kwargs = {f.name: raw[f.name] for f in fields(cls)}
        except (ValueError, KeyError, TypeError) as exc:
            raise BadRequest(f"malformed queue message: {type(exc).__name__}") from exc
        return cls(**kwargs)


Handler = Callable[[ThinMessage], None]


class Queue(Protocol):
    def publish(self, message: ThinMessage) -> None:
        """Return only once the queue has durably accepted the message; raise
        ``QueueUnavailable`` otherwise."""
        ...
