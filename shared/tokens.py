"""HubSpot tokens at rest: envelope-encrypted, one document per project, never in clear; and
``access_token``, which refreshes OAuth tokens ahead of expiry with one refresh across instances
(RELIABILITY rows 23 and 24)."""

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from shared.clock import Clock
from shared.crypto.envelope import Envelope, Sealed
from shared.errors import NotFound, PermanentFailure, TransientError
from shared.store.base import Doc, Store

COLLECTION = "tokens"
ACCESS_FIELD = "hubspot_access_token"
REFRESH_FIELD = "hubspot_refresh_token"


@dataclass(frozen=True)
class HubSpotTokens:
    access_token: str
    refresh_token: str | None = None
    expires_at: float | None = None  # None: a private-app token that does not expire


def save(store: Store, envelope: Envelope, project_id: str, tokens: HubSpotTokens) -> None:
    store.put(
        COLLECTION, project_id, {"project_id": project_id, **_sealed(envelope, project_id, tokens)}
    )


def _sealed(envelope: Envelope, project_id: str, tokens: HubSpotTokens) -> Doc:
    doc: Doc = {
        ACCESS_FIELD: envelope.seal_text(tokens.access_token, project_id, ACCESS_FIELD).to_doc(),
        "expires_at": tokens.expires_at,
    }
    if tokens.refresh_token:
        doc[REFRESH_FIELD] = envelope.seal_text(
            tokens.refresh_token, project_id, REFRESH_FIELD
        ).to_doc()
    return doc


def load(store: Store, envelope: Envelope, project_id: str) -> HubSpotTokens:
    doc = store.get(COLLECTION, project_id)
    if doc is None:
        raise NotFound("no HubSpot connection for this project")
    return _open(envelope, project_id, doc)


def delete(store: Store, project_id: str) -> None:
    store.delete(COLLECTION, project_id)


# -- Access with refresh ahead of expiry, single flight across instances ------------------------

REFRESH_AHEAD_SECONDS = 300  # HubSpot: refresh before expiry, a 401 is not a reliable signal
LEASE_SECONDS = 30  # longer than a refresh call's timeout; a dead holder's lease runs out
WAIT_SECONDS = 0.1
WAIT_ROUNDS = 150
LEASE_UNTIL = "refresh_lease_until"
LEASE_OWNER = "refresh_lease_owner"


class Grant(Protocol):
    @property
    def access_token(self) -> str: ...
    @property
    def refresh_token(self) -> str: ...
    @property
    def expires_in(self) -> int: ...


Refresher = Callable[[str], Grant]  # refresh token -> new grant; raises on refusal


class RefreshBusy(TransientError):
    """Another instance holds the refresh lease and has not finished: try again later."""


def access_token(
    store: Store,
    envelope: Envelope,
    clock: Clock,
    project_id: str,
    refresher: Refresher,
    rejected: str | None = None,
) -> str:
    """A usable access token for the project. Stored tokens within ``REFRESH_AHEAD_SECONDS`` of
    expiry (or equal to ``rejected``, one HubSpot just answered 401 to) are refreshed by exactly
    one caller across every instance: it takes a lease on the tokens document, the others wait
    and re-read. Private-app tokens (no refresh token) are returned as they are. A refusal of the
    refresh token propagates, after a re-read shows no other instance rotated it meanwhile."""
    for _ in range(WAIT_ROUNDS):
        doc = store.get(COLLECTION, project_id)
        if doc is None:
            raise NotFound("no HubSpot connection for this project")
        current = _open(envelope, project_id, doc)
        now = clock.now()
        if current.refresh_token is None or current.expires_at is None:
            return current.access_token
        due = now >= current.expires_at - REFRESH_AHEAD_SECONDS
        if not due and current.access_token != rejected:
            return current.access_token
        owner = secrets.token_hex(8)
        if _take_lease(store, project_id, doc, owner, now):
            try:
                return _refresh(store, envelope, clock, project_id, current, owner, refresher)
            except PermanentFailure:
                # Refused for good: unless another instance rotated it meanwhile (re-read).
                if refresh_token_changed(store, envelope, project_id, current.refresh_token):
                    continue
                raise
        clock.sleep(WAIT_SECONDS)
    raise RefreshBusy("hubspot token refresh still in progress elsewhere")


def _open(envelope: Envelope, project_id: str, doc: Doc) -> HubSpotTokens:
    access = envelope.open_text(Sealed.from_doc(doc[ACCESS_FIELD]), project_id, ACCESS_FIELD)
    refresh = None
    if doc.get(REFRESH_FIELD):
        refresh = envelope.open_text(Sealed.from_doc(doc[REFRESH_FIELD]), project_id, REFRESH_FIELD)
    return HubSpotTokens(access, refresh, doc.get("expires_at"))


def _take_lease(store: Store, project_id: str, seen: Doc, owner: str, now: float) -> bool:
    def take(doc: Doc | None) -> Doc | None:
        if doc is None or doc.get(ACCESS_FIELD) != seen.get(ACCESS_FIELD):
            return None  # gone, or already refreshed by someone else: re-read
        if (doc.get(LEASE_UNTIL) or 0) > now:
            return None
        return {**doc, LEASE_UNTIL: now + LEASE_SECONDS, LEASE_OWNER: owner}

    after = store.update(COLLECTION, project_id, take)
    return after is not None and after.get(LEASE_OWNER) == owner


def _refresh(
    store: Store,
    envelope: Envelope,
    clock: Clock,
    project_id: str,
    current: HubSpotTokens,
    owner: str,
    refresher: Refresher,
) -> str:
    assert current.refresh_token is not None
    try:
        grant = refresher(current.refresh_token)
    except Exception:
        _release(store, project_id, owner)
        raise
    fresh = HubSpotTokens(grant.access_token, grant.refresh_token, clock.now() + grant.expires_in)
    sealed = _sealed(envelope, project_id, fresh)

    def write(doc: Doc | None) -> Doc | None:
        if doc is None or doc.get(LEASE_OWNER) != owner:
            return None  # disconnected meanwhile, or our lease was taken over: keep theirs
        kept = {k: v for k, v in doc.items() if k not in (LEASE_UNTIL, LEASE_OWNER)}
        return {**kept, **sealed}

    store.update(COLLECTION, project_id, write)
    return grant.access_token


def _release(store: Store, project_id: str, owner: str) -> None:
    def release(doc: Doc | None) -> Doc | None:
        if doc is None or doc.get(LEASE_OWNER) != owner:
            return None
        return {k: v for k, v in doc.items() if k not in (LEASE_UNTIL, LEASE_OWNER)}

    store.update(COLLECTION, project_id, release)


def refresh_token_changed(store: Store, envelope: Envelope, project_id: str, old: str) -> bool:
    """True when the stored refresh token is no longer ``old`` (another instance rotated it)."""
    doc = store.get(COLLECTION, project_id)
    return doc is not None and _open(envelope, project_id, doc).refresh_token != old
