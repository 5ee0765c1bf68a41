"""A project's connections here: the route that finds it from a Stripe event, and ending a
connection, whoever ends it.

Stripe's side of a project is its route ``{account}:{live|test}`` (no Stripe token is kept);
HubSpot's side is its envelope-encrypted tokens. ``cut`` is the one way either side ends: the
project's owner disconnecting in the console (``shared.oauth.flows.disconnect``, after revoking at
the provider), the Stripe account deauthorizing Omniroo (``account.application.deauthorized``,
RELIABILITY row 17) or the HubSpot portal uninstalling the app (row 25). Every path forgets the
same things and leaves the same audit entry.
"""

from collections.abc import Callable
from typing import Any

from shared import audit, logs, tokens
from shared.clock import Clock
from shared.store.base import Doc, Store

BY_OWNER = ""  # the reason of an owner's own disconnect


def route_key(account: str, livemode: bool) -> str:
    return f"{account}:{'live' if livemode else 'test'}"


def drop_route(store: Store, account: str, livemode: bool, project_id: str) -> None:
    """Remove the route of ``account`` in that mode if it leads to ``project_id`` (another
    project may own it by now)."""
    key = route_key(account, livemode)
    route = store.get("routes", key)
    if route is not None and route.get("project_id") == project_id:
        store.delete("routes", key)


def _forget_stripe(store: Store, project_id: str, project: Doc) -> None:
    # Without its route the account's later events are dropped as unknown.
    if project.get("stripe_account"):
        drop_route(store, project["stripe_account"], bool(project.get("livemode")), project_id)


def _forget_hubspot(store: Store, project_id: str, project: Doc) -> None:
    tokens.delete(store, project_id)


# provider -> (what this side holds for it, the project fields its owner's disconnect empties)
_SIDES: dict[str, tuple[Callable[[Store, str, Doc], None], tuple[str, ...]]] = {
    "stripe": (_forget_stripe, ("stripe_account",)),
    "hubspot": (_forget_hubspot, ()),
}


def cut(
    store: Store, clock: Clock, project_id: str, provider: str, reason: str = BY_OWNER
) -> Doc | None:
    """End the project's connection to ``provider`` here; returns the project after, or None if
    there is none. Safe to repeat.

    ``reason`` empty: the owner disconnected it (status ``disconnected``, logged). Otherwise the
    other side ended it (``deauthorized``, ``uninstalled``): status ``revoked``, an alert, and
    the project's HubSpot tokens go too, since it cannot sync again until its owner reconnects.
    The owner's audit trail says ``disconnect`` with the provider and the reason.
    """
    project = store.get("projects", project_id)
    if project is None:
        return None
    forget, emptied = _SIDES[provider]
    forget(store, project_id, project)
    changes: dict[str, Any] = {f"{provider}_status": "revoked" if reason else "disconnected"}
    if reason:
        tokens.delete(store, project_id)
    else:
        changes.update(dict.fromkeys(emptied, ""))

    def apply(doc: Doc | None) -> Doc | None:
        return None if doc is None else {**doc, **changes}

    after = store.update("projects", project_id, apply)
    if project.get("account_id"):
        ids = {"reason": reason} if reason else {}
        audit.record(
            store,
            clock,
            str(project["account_id"]),
            "disconnect",
            project_id=project_id,
            provider=provider,
            **ids,
        )
    if reason:
        logs.alert("connection revoked", project_id=project_id, provider=provider, reason=reason)
    else:
        logs.info("connection removed", project_id=project_id, provider=provider)
    return after
