"""HubSpot's wire format for the HubSpot double: error bodies, timestamps and object type names.

Object type ids (``0-1`` contacts, ``0-2`` companies, ``0-3`` deals, ``0-7`` products, ``0-8``
line items) are HubSpot's (https://developers.hubspot.com/docs/api/crm/understanding-the-crm,
"Object type IDs"); error bodies carry ``status``, ``message``, ``correlationId`` and
``category`` (https://developers.hubspot.com/docs/api/error-handling).
"""

import json
import uuid
from datetime import UTC, datetime
from typing import Any

# object type -> (object type id, the name HubSpot uses for it in messages)
OBJECT_TYPES: dict[str, tuple[str, str]] = {
    "contacts": ("0-1", "CONTACT"),
    "companies": ("0-2", "COMPANY"),
    "deals": ("0-3", "DEAL"),
    "products": ("0-7", "PRODUCT"),
    "line_items": ("0-8", "LINE_ITEM"),
}
_ALIASES = {
    **{type_id: name for name, (type_id, _) in OBJECT_TYPES.items()},
    **{name.rstrip("s"): name for name in OBJECT_TYPES},
    "company": "companies",
    "line_item": "line_items",
}


class HubSpotError(Exception):
    """An error answer: its status, JSON body and any extra headers."""

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None):
        super().__init__(body.get("message", ""))
        self.status = status
        self.body = body
        self.headers = headers or {}


def correlation_id() -> str:
    return str(uuid.uuid4())


def error(status: int, message: str, category: str, **extra: Any) -> HubSpotError:
    body = {"status": "error", "message": message, "correlationId": correlation_id()}
    body.update(extra)
    body["category"] = category
    return HubSpotError(status, body)


def validation(message: str, **extra: Any) -> HubSpotError:
    return error(400, message, "VALIDATION_ERROR", **extra)


def not_found(message: str = "resource not found", **extra: Any) -> HubSpotError:
    return error(404, message, "OBJECT_NOT_FOUND", **extra)


# One refused property value: its name, HubSpot's error code, the message and (when a value
# was given, as HubSpot echoes it back) the value itself.
Problem = tuple[str, str, str, str | None]


def property_errors(portal_id: int, problems: list[Problem]) -> HubSpotError:
    """HubSpot's 400 for bad property values: a JSON list quoted inside the message, and the same
    problems again in ``errors`` as its newer responses carry them."""
    items = []
    for name, code, message, value in problems:
        item: dict[str, Any] = {
            "isValid": False,
            "message": message,
            "error": code,
            "name": name,
            "localizedErrorMessage": message,
        }
        if value is not None:
            item["propertyValue"] = value
        item["portalId"] = portal_id
        items.append(item)
    listed = json.dumps(items, separators=(",", ":"))
    details = [
        {"message": message, "code": code, "context": {"propertyName": [name]}}
        for name, code, message, _ in problems
    ]
    return validation(f"Property values were not valid: {listed}", errors=details)


def batch_reply(
    now: float, results: list[Any], errors: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The envelope of every batch answer; ``errors`` (the 207 case) adds ``numErrors``."""
    reply: dict[str, Any] = {"status": "COMPLETE", "results": results}
    if errors:
        reply["numErrors"] = len(errors)
        reply["errors"] = errors
    reply["startedAt"] = iso(now)
    reply["completedAt"] = iso(now)
    return reply


def iso(timestamp: float) -> str:
    """ISO-8601 with milliseconds and Z, as every HubSpot timestamp."""
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def canonical_type(name: str) -> str:
    lowered = name.lower()
    found = lowered if lowered in OBJECT_TYPES else _ALIASES.get(lowered)
    if found is None:
        raise validation(f"Unable to infer object type from: {name}")
    return found


def type_label(object_type: str) -> str:
    return OBJECT_TYPES[object_type][1]


def type_id(object_type: str) -> str:
    return OBJECT_TYPES[object_type][0]


def as_value(value: Any) -> str:
    """HubSpot keeps every property value as a string."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
