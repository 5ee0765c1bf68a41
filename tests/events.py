"""Stripe events for tests, shaped like the ones Stripe sends (see the Stripe double)."""

import secrets
import time
from typing import Any

from shared.stripe_version import API_VERSION


def event_id() -> str:
    return "evt_" + secrets.token_hex(12)


def make_event(
    type_: str,
    obj: dict[str, Any],
    account: str | None,
    livemode: bool = False,
    created: int | None = None,
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "id": event_id(),
        "object": "event",
        "api_version": API_VERSION,
        "created": created or int(time.time()),
        "data": {"object": obj},
        "livemode": livemode,
        "pending_webhooks": 1,
        "request": {"id": "req_" + secrets.token_hex(7), "idempotency_key": None},
        "type": type_,
    }
    if account:
        event["account"] = account
    return event
