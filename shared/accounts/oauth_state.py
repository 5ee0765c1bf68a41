"""The OAuth ``state`` of a Connect button, and the redirect checks around the callbacks.

A state is 256 random bits handed to the browser once; the store keeps only its SHA-256, with
the session it was issued to, the account, the project and the provider, for ``TTL_SECONDS`` =
10 minutes. ``consume`` claims it in one store transaction, so of two racing callbacks exactly one
wins, and any presentation uses it up, whatever the outcome. Everything that can be wrong with a
state (missing, unknown, expired, used, other provider, other session) raises ``StateError`` with
a ``reason`` code for the logs; the user sees one message (RELIABILITY rows 32 and 33).

``safe_next`` keeps ``next`` parameters on our own site (row 34). Redirect URIs need no check
here: Omniroo never takes one from a request, it sends the one built from ``OMNIROO_PUBLIC_URL``
(``shared.oauth.flows.redirect_uri``), and Stripe and HubSpot compare it with the app's registered
URI exactly.
"""

import hmac
import re
import secrets
from urllib.parse import urlsplit

from shared.accounts import access
from shared.accounts.ids import digest, store_under_token
from shared.clock import Clock
from shared.errors import BadRequest
from shared.store.base import EXPIRE_AT, Doc, Store

COLLECTION = "oauth_states"
TTL_SECONDS = 600
PROVIDERS = frozenset({"stripe", "hubspot"})
REASONS = ("missing", "unknown", "reused", "expired", "wrong_provider", "wrong_session")
_MAX_STATE_LENGTH = 128


class StateError(BadRequest):
    """The callback's state does not stand for a connection this browser started."""

    def __init__(self, reason: str) -> None:
        super().__init__(
            "This connection request is not valid any more. Start again from the project."
        )
        self.reason = reason


def issue(
    store: Store,
    clock: Clock,
    session_id_hash: str,
    account_id: str,
    project_id: str,
    provider: str,
) -> str:
    """A fresh state for the authorize URL. The project must be the account's own."""
    if provider not in PROVIDERS:
        raise ValueError(f"oauth state: unknown provider {provider!r}")
    if not session_id_hash:
        raise ValueError("oauth state: needs the signed-in session")
    access.project_for(store, account_id, project_id)
    now = clock.now()
    doc: Doc = {
        "session": session_id_hash,
        "account_id": account_id,
        "project_id": project_id,
        "provider": provider,
        "created_at": now,
        EXPIRE_AT: now + TTL_SECONDS,
    }
    return store_under_token(store, COLLECTION, doc)


def consume(
    store: Store, clock: Clock, state: str | None, session_id_hash: str, provider: str
) -> tuple[str, str]:
    """(account id, project id) that ``state`` was issued for, once; ``StateError`` otherwise."""
    if not state or len(state) > _MAX_STATE_LENGTH:
        raise StateError("missing")
    now = clock.now()
    claim = secrets.token_hex(16)

    def take(doc: Doc | None) -> Doc | None:
        if doc is None or doc.get("claim"):
            return None
        return {**doc, "claim": claim, "used_at": now}

    doc = store.update(COLLECTION, digest(state), take)
    if doc is None:
        raise StateError("unknown")
    if doc.get("claim") != claim:
        raise StateError("reused")
    if now >= doc[EXPIRE_AT]:
        raise StateError("expired")
    if doc["provider"] != provider:
        raise StateError("wrong_provider")
    if not hmac.compare_digest(doc["session"].encode(), (session_id_hash or "").encode()):
        raise StateError("wrong_session")
    return str(doc["account_id"]), str(doc["project_id"])


# A same-origin path: one "/", then no second "/" or "\" (which browsers read as "//host"), and
# only the printable ASCII that a path, query and fragment may hold.
_SAFE_PATH = re.compile(r"/(?![/\\])[A-Za-z0-9\-._~!$&'()*+,;=:@/?#%]*")
_MAX_NEXT_LENGTH = 2000


def safe_next(next_param: str | None, default: str = "/") -> str:
    """``next_param`` when it is a relative path on this site, else ``default``."""
    if not next_param or len(next_param) > _MAX_NEXT_LENGTH or not _SAFE_PATH.fullmatch(next_param):
        return default
    parts = urlsplit(next_param)
    if parts.scheme or parts.netloc:
        return default
    return next_param
