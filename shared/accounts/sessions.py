"""Sessions: random cookie tokens, kept in the store only as their SHA-256.

- A token is 256 random bits (``secrets.token_urlsafe(32)``; ASVS 5.0 7.2.3 asks for 128). The
  ``sessions`` document id is its SHA-256, so the store never holds a usable token.
- Idle timeout ``IDLE_SECONDS`` = 2 h, absolute lifetime ``ABSOLUTE_SECONDS`` = 7 days (ASVS 7.3.1,
  7.3.2): enough for a settings page left open over lunch, short enough that a lost laptop's cookie
  dies within the day. ``last_seen`` is written at most every ``TOUCH_SECONDS`` = 5 min, so a busy
  page costs no write per request and the idle timeout errs early by at most that much.
  ``expire_at`` is the earlier of the two expiries; the Firestore TTL and the purge job use it, and
  every read checks it too, since TTL deletion lags.
- Signing in always makes a new token and deletes the one the browser had (ASVS 7.2.4); a password
  change ends every session of the account (ASVS 7.4.3); sign-out deletes the document (7.4.1).
- Any number of sessions per account (one per browser); ``revoke_all`` ends them all.
- Cookie: ``HttpOnly``, ``Secure`` outside local mode, ``SameSite=Lax`` (Strict would drop the
  cookie on the way back from Stripe's and HubSpot's OAuth pages, and the OAuth state is bound to
  the session), ``Path=/``, and the ``__Host-`` name prefix, which browsers accept only with
  Secure, Path=/ and no Domain.
- CSRF: the token for a session's forms is an HMAC of a fixed label keyed with the session token
  itself. Nothing more to store or to configure, nothing derivable from a copy of the store, and
  it changes whenever the session does. Compared with ``hmac.compare_digest``.
"""

import base64
import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any

from shared.accounts.ids import digest, store_under_token
from shared.clock import Clock
from shared.errors import BadRequest
from shared.store.base import EXPIRE_AT, Doc, Store

COLLECTION = "sessions"
IDLE_SECONDS = 2 * 3600
ABSOLUTE_SECONDS = 7 * 86400
TOUCH_SECONDS = 300
COOKIE_NAME = "__Host-omniroo_session"
LOCAL_COOKIE_NAME = "omniroo_session"  # plain http://localhost cannot set a __Host- cookie
_CSRF_LABEL = b"omniroo csrf v1"
_MAX_TOKEN_LENGTH = 128


class CsrfError(BadRequest):
    status = 403

    def __init__(self) -> None:
        super().__init__("This form has expired. Reload the page and try again.")


@dataclass(frozen=True)
class Session:
    id_hash: str  # SHA-256 of the token: the document id, and what OAuth states are bound to
    account_id: str
    created_at: float
    last_seen: float
    token: str = field(repr=False, compare=False)  # the cookie value, in memory only

    @property
    def expires_at(self) -> float:
        return _expiry(self.created_at, self.last_seen)


def start(store: Store, clock: Clock, account_id: str, replacing: str | None = None) -> Session:
    """A new session for ``account_id``; the browser's previous token, if any, stops working."""
    if replacing:
        end(store, replacing)
    now = clock.now()
    doc: Doc = {
        "account_id": account_id,
        "created_at": now,
        "last_seen": now,
        EXPIRE_AT: _expiry(now, now),
    }
    token = store_under_token(store, COLLECTION, doc)
    return Session(digest(token), account_id, now, now, token)


def load(store: Store, clock: Clock, token: str | None) -> Session | None:
    """The live session of a cookie value, or None (missing, unknown, expired or revoked)."""
    if not token or len(token) > _MAX_TOKEN_LENGTH:
        return None
    id_hash = digest(token)
    doc = store.get(COLLECTION, id_hash)
    if doc is None:
        return None
    now = clock.now()
    if now >= _expiry(doc["created_at"], doc["last_seen"]):
        store.delete(COLLECTION, id_hash)
        return None
    if now - doc["last_seen"] >= TOUCH_SECONDS:

        def touch(current: Doc | None) -> Doc | None:
            if current is None:  # revoked meanwhile: stay revoked
                return None
            return {**current, "last_seen": now, EXPIRE_AT: _expiry(current["created_at"], now)}

        doc = store.update(COLLECTION, id_hash, touch)
        if doc is None:
            return None
    return Session(id_hash, doc["account_id"], doc["created_at"], doc["last_seen"], token)


def end(store: Store, token: str) -> None:
    if token and len(token) <= _MAX_TOKEN_LENGTH:
        store.delete(COLLECTION, digest(token))


def revoke_all(store: Store, account_id: str, keep: str | None = None) -> int:
    """End every session of ``account_id`` but the one whose hash is ``keep``; how many ended."""
    ended = 0
    for id_hash, _ in store.find(COLLECTION, "account_id", account_id):
        if id_hash != keep:
            store.delete(COLLECTION, id_hash)
            ended += 1
    return ended


def cookie_name(local: bool) -> str:
    return LOCAL_COOKIE_NAME if local else COOKIE_NAME


def session_cookie(token: str, local: bool) -> dict[str, Any]:
    """Keyword arguments for werkzeug's ``Response.set_cookie``."""
    return {
        "key": cookie_name(local),
        "value": token,
        "max_age": ABSOLUTE_SECONDS,
        "path": "/",
        "secure": not local,
        "httponly": True,
        "samesite": "Lax",
    }


def clear_cookie(local: bool) -> dict[str, Any]:
    """Keyword arguments for ``set_cookie`` that make the browser drop the session cookie."""
    return {**session_cookie("", local), "max_age": 0, "expires": 0}


def csrf_token(session: Session) -> str:
    if not session.token:
        raise ValueError("a CSRF token needs the session's own token")
    mac = hmac.new(session.token.encode("ascii"), _CSRF_LABEL, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")


def check_csrf(session: Session, submitted: str | None) -> None:
    """Raise ``CsrfError`` unless ``submitted`` is this session's CSRF token."""
    expected = csrf_token(session).encode("ascii")
    given = (submitted or "").encode("utf-8", "replace")
    if not hmac.compare_digest(expected, given):
        raise CsrfError()


def _expiry(created_at: float, last_seen: float) -> float:
    return min(last_seen + IDLE_SECONDS, created_at + ABSOLUTE_SECONDS)
