"""Status badges: a word a person reads at a glance and the tone it is shown in, from what the
project document and its latest outcomes say. Tables, so a new status is one line."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Badge:
    label: str
    tone: str  # ok | info | warn | alert | off (console.css)


# ``stripe_status`` / ``hubspot_status`` as the flows, the webhook and the push set them.
CONNECTION: dict[str, Badge] = {
    "connected": Badge("connected", "ok"),
    "reconnect": Badge("reconnect needed", "alert"),  # HubSpot refused the refresh token
    "revoked": Badge("reconnect needed", "alert"),  # uninstalled / deauthorized on their side
    "disconnected": Badge("not connected", "off"),
}
NEEDS_RECONNECT = frozenset({"reconnect", "revoked"})
# What happened, for the reconnect prompt, by (provider, status).
WHY_RECONNECT: dict[tuple[str, str], str] = {
    (
        "hubspot",
        "reconnect",
    ): "HubSpot no longer accepts Omniroo's access (it was revoked or expired).",
    ("hubspot", "revoked"): "The Omniroo app was uninstalled from the HubSpot portal.",
    ("stripe", "revoked"): "The Stripe account disconnected Omniroo.",
    ("stripe", "reconnect"): "Stripe no longer accepts Omniroo's access.",
}
OUTCOME_TONE = {"synced": "ok", "skipped": "off", "failed": "alert"}
RECENT_SECONDS = 15 * 60  # an outcome this fresh means events are flowing now


def connection(status: str | None) -> Badge:
    return CONNECTION.get(status or "disconnected", Badge(status or "unknown", "off"))


def sync(project: Mapping[str, Any], latest: Sequence[Mapping[str, Any]], now: float) -> Badge:
    """The project as a whole: a connection to fix first, then what the newest outcome says."""
    statuses = (project.get("stripe_status"), project.get("hubspot_status"))
    if any(s in NEEDS_RECONNECT for s in statuses):
        return Badge("reconnect needed", "alert")
    if any(s != "connected" for s in statuses):
        return Badge("not connected", "off")
    if latest and latest[0].get("status") == "failed":
        return Badge("failing", "alert")
    if latest and now - float(latest[0].get("at") or 0) < RECENT_SECONDS:
        return Badge("syncing", "info")
    return Badge("connected", "ok")
