"""The minimal parse of a verified Stripe event: ids and types, nothing else survives it."""

import json
import re
from dataclasses import dataclass
from typing import Any

from shared.errors import BadRequest

_EVENT_ID = re.compile(r"^evt_[0-9A-Za-z]{1,255}$")
_ACCOUNT_ID = re.compile(r"^acct_[0-9A-Za-z]{1,255}$")
_OBJECT_ID = re.compile(r"^[a-z]{2,8}_[0-9A-Za-z_]{1,255}$")
_TYPE = re.compile(r"^[a-z0-9_.]{1,100}$")


@dataclass(frozen=True)
class EventHead:
    id: str
    type: str
    account: str | None
    livemode: bool
    created: int
    object_id: str
    object_type: str


def _field(
    raw: dict[str, Any], name: str, kind: type, pattern: re.Pattern[str] | None = None
) -> Any:
    value = raw.get(name)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise BadRequest(f"malformed event: {name} missing or not a {kind.__name__}")
    if pattern is not None and not pattern.match(str(value)):
        raise BadRequest(f"malformed event: {name} has an unexpected format")
    return value


def parse(body: bytes) -> EventHead:
    """Parse a *verified* body. Raises ``BadRequest`` naming the first bad field."""
    try:
        raw = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # nesting deeper than the stack
        raise BadRequest("malformed event: body is not JSON") from exc
    if not isinstance(raw, dict):
        raise BadRequest("malformed event: body is not a JSON object")
    data = raw.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(obj, dict):
        raise BadRequest("malformed event: data.object missing")
    account = raw.get("account")
    if account is not None and not (isinstance(account, str) and _ACCOUNT_ID.match(account)):
        raise BadRequest("malformed event: account has an unexpected format")
    return EventHead(
        id=_field(raw, "id", str, _EVENT_ID),
        type=_field(raw, "type", str, _TYPE),
        account=account,
        livemode=_field(raw, "livemode", bool),
        created=_field(raw, "created", int),
        object_id=_field(obj, "id", str, _OBJECT_ID),
        object_type=_field(obj, "object", str, _TYPE),
    )
