"""The audit trail of account actions: who, what, when, from where. Never a secret, a password, a
token or an email address; ids, codes and the client address only.

One ``audit`` document per action, under a random id. Retention:

- an open account's entries expire after ``RETENTION_SECONDS`` = 365 days, or sooner when the
  account itself carries an expiry (set at closure): an entry never outlives its account;
- ``expire_account`` caps every entry of a closing account at closure + 29 days
  (``CLOSED_RETENTION_SECONDS``), within the security page's 30 days given Firestore's TTL lag;
  an entry written for an account that is closed or gone gets at most 29 days from its own time
  (the purge job, deleting an account for good, deletes its entries with it);
- failed sign-ins for an email that has no account (account id None) keep the client address
  for ``UNKNOWN_RETENTION_SECONDS`` = 30 days: enough to look into a spraying attack.

``activity_between`` answers the incident-response question of the security page ("we will
promptly notify affected users"): which accounts did something in a window, and where to write.
"""

import math
import re
import secrets
from typing import Any

from shared import logs
from shared.clock import Clock
from shared.store.base import EXPIRE_AT, Doc, Store

COLLECTION = "audit"
RETENTION_SECONDS = 365 * 86400
CLOSED_RETENTION_SECONDS = 29 * 86400
UNKNOWN_RETENTION_SECONDS = 30 * 86400

ACTIONS = frozenset(
    {
        "sign_up",
        "sign_in",
        "sign_in_failed",
        "sign_out",
        "password_changed",
        "connect",
        "disconnect",
        "settings_changed",
        "account_closed",
    }
)
# What an entry may say besides who, what and when. Values are short codes or ids: the pattern
# keeps out emails (no @), free text and anything with spaces or control characters.
ID_FIELDS = frozenset({"client", "project_id", "provider", "reason", "setting"})
_VALUE = re.compile(r"[A-Za-z0-9_.:,\-]{0,100}")


def record(store: Store, clock: Clock, account_id: str | None, action: str, **ids: str) -> str:
    """Write one entry; returns its id. ``ids`` may name ``client`` (the address the request came
    from), ``project_id``, ``provider``, ``reason`` (a code) and ``setting`` (a setting's name)."""
    if action not in ACTIONS:
        raise ValueError(f"audit: unknown action {action!r}")
    unknown = set(ids) - ID_FIELDS
    if unknown:
        raise ValueError(f"audit: fields not allowed: {sorted(unknown)}")
    for name, value in ids.items():
        if not isinstance(value, str) or not _VALUE.fullmatch(value) or logs.mask(value) != value:
            raise ValueError(f"audit: {name} must be a short id or code")
    now = clock.now()
    entry: Doc = {
        "account_id": account_id,
        "action": action,
        "at": now,
        **{name: value for name, value in ids.items() if value},
        EXPIRE_AT: _expiry(store, account_id, now),
    }
    entry_id = f"aud_{secrets.token_hex(10)}"
    store.put(COLLECTION, entry_id, entry)
    return entry_id


def trail(store: Store, account_id: str) -> list[Doc]:
    """An account's own entries, oldest first (the account page and the export)."""
    if not account_id:
        return []
    entries = [doc for _, doc in store.find(COLLECTION, "account_id", account_id)]
    return sorted(entries, key=lambda doc: doc["at"])


def expire_account(store: Store, account_id: str, closed_at: float) -> int:
    """Cap the expiry of every entry of ``account_id`` at ``closed_at`` + 29 days; how many."""
    limit = closed_at + CLOSED_RETENTION_SECONDS
    capped = 0
    for entry_id, _ in store.find(COLLECTION, "account_id", account_id):

        def cap(doc: Doc | None) -> Doc | None:
            if doc is None or doc.get(EXPIRE_AT, math.inf) <= limit:
                return None
            return {**doc, EXPIRE_AT: limit}

        store.update(COLLECTION, entry_id, cap)
        capped += 1
    return capped


def activity_between(store: Store, start: float, end: float) -> list[tuple[str, str]]:
    """Accounts whose trail shows any action at ``start <= at < end``, with the email to notify
    ("" once the account is gone), sorted by account id. Reads the whole trail: an operator
    command, not a request path."""
    if end <= start:
        raise ValueError("activity_between: end must come after start")
    active = {
        doc["account_id"]
        for _, doc in store.scan(COLLECTION)
        if doc.get("account_id") and start <= doc.get("at", -math.inf) < end
    }
    found = []
    for account_id in sorted(active):
        account = store.get("accounts", account_id)
        found.append((account_id, str((account or {}).get("email", ""))))
    return found


def _expiry(store: Store, account_id: str | None, now: float) -> float:
    # Read even without an account id, so a failed sign-in costs the same whether or not the
    # email has an account.
    account: dict[str, Any] | None = store.get("accounts", account_id or "-")
    if account_id is None:
        return now + UNKNOWN_RETENTION_SECONDS
    if account is None or account.get("status", "open") != "open":
        return min(now + CLOSED_RETENTION_SECONDS, (account or {}).get(EXPIRE_AT) or math.inf)
    return min(now + RETENTION_SECONDS, account.get(EXPIRE_AT) or math.inf)
