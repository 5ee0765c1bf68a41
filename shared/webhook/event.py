"""The minimal parse of a verified Stripe event: ids and types, nothing else survives it.

Two payloads reach the webhook (https://docs.stripe.com/event-destinations#event-payloads):

- a snapshot event (``"object": "event"``, what webhook endpoints send): the object's id and kind
  under ``data.object``, the connected account in ``account``, ``created`` a unix time;
- a thin event (``"object": "v2.core.event"``, from event destinations; stripe-python's
  ``stripe.v2.core._event.EventNotification``): the object under ``related_object`` (``id``,
  ``type``, ``url``; a singleton such as a customer's discount has only a URL), the account in
  ``context``, ``created`` an RFC 3339 time, and the type of an API v1 event prefixed ``v1.``
  (``v1.customer.updated``). Both become the same ``EventHead``; the push refetches the object
  either way, so a thin event loses nothing.

Ids are opaque: Stripe's versioning policy lets their length, format and prefix change
(https://docs.stripe.com/upgrades#what-changes-does-stripe-consider-to-be-backward-compatible,
v2 ids look like ``evt_test_65R...``). An event, account or object id is any string of 1 to 255
printable ASCII characters, matched whole (``re.fullmatch``: no trailing newline slips through);
a control character, or a longer string, is a malformed event.
"""

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shared.errors import BadRequest
from shared.events import OWNER_URLS, OWNERS

# printable ASCII (space to tilde), at least one visible character; never a control character
_ID = re.compile(r"(?=.*[!-~])[ -~]{1,255}", re.DOTALL)
_TYPE = re.compile(r"[a-z0-9_.]{1,100}")
_FIELD_NAME = re.compile(r"[a-z0-9_]{1,64}")
SNAPSHOT, THIN = "event", "v2.core.event"
THIN_V1 = "v1."  # thin events of API v1 resources: "v1." + the snapshot event's type


@dataclass(frozen=True)
class EventHead:
    id: str
    type: str
    account: str | None
    livemode: bool
    created: int
    object_id: str
    object_type: str
    # The names of the fields an ``*.updated`` event says changed (``data.previous_attributes``,
    # names only); None when the event does not say (thin events never do).
    changed: tuple[str, ...] | None = None


def _field(
    raw: dict[str, Any], name: str, kind: type, pattern: re.Pattern[str] | None = None
) -> Any:
    value = raw.get(name)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise BadRequest(f"malformed event: {name} missing or not a {kind.__name__}")
    if pattern is not None and not pattern.fullmatch(str(value)):
        raise BadRequest(f"malformed event: {name} has an unexpected format")
    return value


def _optional_id(raw: dict[str, Any], name: str) -> str | None:
    value = raw.get(name)
    if value is None:
        return None
    return str(_field(raw, name, str, _ID))


def parse(body: bytes) -> EventHead:
    """Parse a *verified* body. Raises ``BadRequest`` naming the first bad field."""
    try:
        raw = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # nesting deeper than the stack
        raise BadRequest("malformed event: body is not JSON") from exc
    if not isinstance(raw, dict):
        raise BadRequest("malformed event: body is not a JSON object")
    if raw.get("object") == THIN:
        return _thin(raw)
    data = raw.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(obj, dict):
        raise BadRequest("malformed event: data.object missing")
    object_type, object_id = _owned(obj, _field(obj, "object", str, _TYPE))
    previous = data.get("previous_attributes") if isinstance(data, dict) else None
    changed = (
        tuple(sorted(k for k in previous if isinstance(k, str) and _FIELD_NAME.fullmatch(k)))[:50]
        if isinstance(previous, dict)
        else None
    )
    return EventHead(
        changed=changed,
        id=_field(raw, "id", str, _ID),
        type=_field(raw, "type", str, _TYPE),
        account=_optional_id(raw, "account"),
        livemode=_field(raw, "livemode", bool),
        created=_field(raw, "created", int),
        object_id=object_id,
        object_type=object_type,
    )


def _owned(obj: dict[str, Any], kind: str) -> tuple[str, str]:
    """(kind, id) of what to refetch for this object: itself, or what owns it (``OWNERS``)."""
    for field, owner_kind in OWNERS.get(kind, ()):
        if obj.get(field) is not None:
            return owner_kind, str(_field(obj, field, str, _ID))
    if kind in OWNERS:
        raise BadRequest(f"malformed event: {kind} names no owner")
    return kind, str(_field(obj, "id", str, _ID))


def _thin(raw: dict[str, Any]) -> EventHead:
    event_type = str(_field(raw, "type", str, _TYPE)).removeprefix(THIN_V1)
    related = raw.get("related_object")
    if not isinstance(related, dict):
        raise BadRequest("malformed event: related_object missing")
    kind = str(_field(related, "type", str, _TYPE))
    if kind in OWNERS:
        object_type, object_id = _owner_of(str(_field(related, "url", str)), kind)
    else:
        object_type, object_id = kind, str(_field(related, "id", str, _ID))
    return EventHead(
        id=_field(raw, "id", str, _ID),
        type=event_type,
        account=_context_account(raw),
        livemode=_field(raw, "livemode", bool),
        created=_timestamp(_field(raw, "created", str)),
        object_id=object_id,
        object_type=object_type,
    )


def _owner_of(url: str, kind: str) -> tuple[str, str]:
    for pattern, owner_kind in OWNER_URLS:
        found = pattern.fullmatch(url)
        if found and _ID.fullmatch(found.group(1)):
            return owner_kind, found.group(1)
    raise BadRequest(f"malformed event: related_object.url names no owner of the {kind}")


def _context_account(raw: dict[str, Any]) -> str | None:
    """The connected account a thin event is about: its ``context`` (the Stripe-Context of the
    account, ``acct_...``; a nested context ``acct_a/acct_b`` names the innermost last)."""
    context = _optional_id(raw, "context")
    return context.rsplit("/", 1)[-1] if context else None


def _timestamp(created: str) -> int:
    try:
        moment = datetime.fromisoformat(created.replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadRequest("malformed event: created is not an RFC 3339 time") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())
