"""The Queue port and the messages it carries.

A ``WakeUp`` asks for one project's HubSpot portal to be drained now (the webhook sends one when
it marks a new dirty key), or, with ``sweep``, for every project that has keys due (the scheduled
sweep, which also catches a wake-up that never arrived). A ``ThinMessage`` names one event and
its object: what the webhook published before dirty keys, still read so that messages already
queued and dead letters replayed by hand are drained, never lost. No message carries a Stripe
field other than ids and types.
"""

import json
from dataclasses import asdict, dataclass, fields
from typing import Any, Protocol

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


@dataclass(frozen=True)
class WakeUp:
    project_id: str = ""
    sweep: bool = False

    def encode(self) -> bytes:
        return json.dumps(asdict(self), separators=(",", ":"), sort_keys=True).encode()


Message = WakeUp | ThinMessage


def decode(data: bytes) -> Message:
    """A queued message of either kind; ``BadRequest`` for anything else."""
    try:
        raw: Any = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("malformed queue message: not JSON") from exc
    if not isinstance(raw, dict):
        raise BadRequest("malformed queue message: not an object")
    if "event_id" in raw:
        return ThinMessage.decode(data)
    project_id, sweep = raw.get("project_id", ""), raw.get("sweep", False)
    if not isinstance(project_id, str) or not isinstance(sweep, bool) or not (project_id or sweep):
        raise BadRequest("malformed queue message: names no project and is no sweep")
    return WakeUp(project_id, sweep)


class Waker(Protocol):
    def wake(self, project_id: str) -> None:
        """Ask for the project's portal to be drained; ``QueueUnavailable`` when the request
        could not be handed over (the sweep will find the project's keys anyway)."""
        ...
