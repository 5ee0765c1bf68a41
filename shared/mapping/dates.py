"""How Stripe's unix timestamps become HubSpot date values."""

from datetime import UTC, datetime
from typing import Any


def day(timestamp: Any) -> str:
    """ "YYYY-MM-DD" (UTC) for a Stripe timestamp, "" (clears the property) for none."""
    if not isinstance(timestamp, int) or isinstance(timestamp, bool):
        return ""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")


def flag(value: Any) -> str:
    return "true" if value else "false"
