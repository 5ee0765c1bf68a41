"""What the settings editor reads through the project's own connections, and nothing it keeps:

- the portal's deal pipelines, stages and contact properties, with the project's HubSpot token
  (``shared.tokens``, refreshed ahead of expiry like the push does) through the gateway;
- the project's subscriptions, for the rule preview: the platform key with ``Stripe-Account``
  through the Stripe gateway, the newest ``PREVIEW_PAGES`` pages of 100 (``status=all``, so
  canceled subscriptions, which are deals too, count). Only counts per stage leave this module.
"""

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from shared import tokens
from shared.clock import Clock
from shared.crypto.envelope import Envelope
from shared.errors import NotFound, PermanentFailure, RemoteUnavailable
from shared.hubspot.portal import Portal
from shared.oauth import hubspot_tokens
from shared.oauth.hubspot_tokens import TokenRevoked
from shared.project_settings import ProjectSettings
from shared.store.base import Doc, Store

PREVIEW_PAGES = 10
PAGE_SIZE = 100  # what StripeGateway.list asks Stripe for


class PortalSource(Protocol):
    def portal(self) -> Portal: ...


class SubscriptionSource(Protocol):
    def list(
        self, object_type: str, account: str, params: dict[str, Any], pages: int = ...
    ) -> list[dict[str, Any]]: ...


@dataclass
class Readers:
    envelope: Envelope
    hubspot: Callable[[str], PortalSource]  # access token -> gateway
    stripe: SubscriptionSource
    refresher: tokens.Refresher | None = None  # None: private-app tokens only


@dataclass(frozen=True)
class PortalRead:
    portal: Portal | None
    problem: str = ""  # why it could not be read, for the person
    reconnect: bool = False  # HubSpot refused the project's grant for good


@dataclass(frozen=True)
class Preview:
    rows: tuple[tuple[str, int], ...] = ()  # "Pipeline · Stage", deals
    counted: int = 0
    more: bool = False  # Stripe has more subscriptions than were counted
    problem: str = ""


def read_portal(
    readers: Readers, store: Store, clock: Clock, project_id: str, project: Mapping[str, Any]
) -> PortalRead:
    if project.get("hubspot_status") != "connected":
        return PortalRead(None)
    try:
        token = _token(readers, store, clock, project_id)
        return PortalRead(readers.hubspot(token).portal())
    except (TokenRevoked, NotFound):
        hubspot_tokens.mark_reconnect(store, project_id)
        return PortalRead(None, "HubSpot no longer accepts Omniroo's access.", reconnect=True)
    except RemoteUnavailable:
        return PortalRead(None, "HubSpot could not be reached just now. Try again in a moment.")
    except PermanentFailure as exc:
        return PortalRead(
            None, f"HubSpot refused to list the portal's pipelines ({exc.code}). Reconnect it."
        )


def preview(
    readers: Readers, project: Doc, settings: ProjectSettings, portal: Portal | None
) -> Preview:
    account = str(project.get("stripe_account") or "")
    if project.get("stripe_status") != "connected" or not account:
        return Preview(problem="Connect Stripe to preview the rules on your subscriptions.")
    try:
        subscriptions, more = _newest(readers.stripe, account)
    except RemoteUnavailable:
        return Preview(problem="Stripe could not be reached just now. Try again in a moment.")
    except PermanentFailure as exc:
        return Preview(problem=f"Stripe refused to list the subscriptions ({exc.code}).")
    counts = stage_counts(settings, subscriptions)
    label = portal.stage_label if portal else (lambda p, s: f"{p} · {s}")
    rows = tuple((label(p, s), n) for (p, s), n in counts)
    return Preview(rows, len(subscriptions), more)


def stage_counts(
    settings: ProjectSettings, subscriptions: Iterable[Mapping[str, Any]]
) -> list[tuple[tuple[str, str], int]]:
    """(pipeline, stage) -> how many of these subscriptions' deals it would hold: the same
    ``stage_for`` the subscription mapping calls, on the same status and price ids."""
    counts = Counter(
        settings.stage_for(
            str(sub.get("status")),
            {item["price"]["id"] for item in (sub.get("items") or {}).get("data") or []},
        )
        for sub in subscriptions
    )
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def _newest(stripe: SubscriptionSource, account: str) -> tuple[list[dict[str, Any]], bool]:
    found: list[dict[str, Any]] = []
    params: dict[str, Any] = {"status": "all"}
    for _ in range(PREVIEW_PAGES):
        page = stripe.list("subscription", account, params, pages=1)
        found += page
        if len(page) < PAGE_SIZE:
            return found, False
        params = {**params, "starting_after": page[-1]["id"]}
    return found, True


def _token(readers: Readers, store: Store, clock: Clock, project_id: str) -> str:
    if readers.refresher is None:
        return tokens.load(store, readers.envelope, project_id).access_token
    return tokens.access_token(store, readers.envelope, clock, project_id, readers.refresher)
