"""Digests and ids for account records.

Secrets and personal values never become document ids: a session token, an OAuth state, an email
or a client address is stored as the SHA-256 of its text, so a copy of the store cannot be replayed
as a cookie or a callback.
"""

import hashlib
import secrets

from shared.store.base import Doc, Store


def digest(*parts: str) -> str:
    """SHA-256 hex of ``parts`` joined by NUL (which none of them can contain ambiguously)."""
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def new_token() -> str:
    """256 random bits, URL-safe (43 characters)."""
    return secrets.token_urlsafe(32)


def store_under_token(store: Store, collection: str, doc: Doc) -> str:
    """Store ``doc`` under the digest of a fresh token and return the token: only its holder can
    name the record again. A collision would be a broken RNG; it draws again."""
    while True:
        token = new_token()
        if store.create(collection, digest(token), doc):
            return token


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(8)}"
