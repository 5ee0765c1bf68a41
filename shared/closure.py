"""Closing an account, and the configuration export a person can download first.

``close`` checks the password (throttled like a sign-in), then, at once:

- every connection is revoked: ``shared.oauth.flows.disconnect`` for each connected provider when
  the OAuth flows are deployed (it deauthorizes at Stripe and deletes the refresh token at
  HubSpot); the HubSpot tokens here are deleted and the route removed either way, so no event is
  synced for the account again;
- the password hash, OAuth states, sessions, sign-in throttle entries and email claim of the
  account go now (so the address can sign up again at once);
- every record that remains (the account, its projects, audit entries, the outcomes, event marks,
  dead letters and dirty keys of its projects) gets ``expire_at`` no later than closure + 29 days:
  Firestore's TTL deletes them within about a day after that, and the ``purge`` job is the
  guarantee, so the security page's "deleted within 30 days" holds;
- the audit trail says ``account_closed``.

``export`` is the account's configuration as JSON: projects, their settings and connection
status. Never a token, a secret, a password hash or the audit trail's client addresses.
"""

import math
from dataclasses import dataclass
from typing import Any

from shared import audit, connections, logs, tokens
from shared.accounts import access, sessions
from shared.accounts.ids import digest
from shared.accounts.service import CREDENTIALS, EMAILS, Accounts, SignInFailed, _address
from shared.accounts.sessions import Session
from shared.accounts.throttle import COLLECTION as THROTTLE
from shared.accounts.throttle import EMAIL, PAIR, client_key
from shared.clock import Clock
from shared.store.base import EXPIRE_AT, FIELDS, Doc, Store

RETENTION_SECONDS = 29 * 86400
GOODBYE = (
    "Your account is closed: its connections are revoked, and its configuration will be "
    "deleted for good within 30 days."
)
PROJECT_RECORDS = ("outcomes", "event_marks", "dead_letters", "dirty_keys")
# A project holds only configuration (its tokens live in ``tokens``), so the export is all of it
# but the owner's id and the deletion bookkeeping.
_EXPORTED = sorted(FIELDS["projects"] - {"account_id", "closed_at", EXPIRE_AT})


@dataclass
class ClosureDeps:
    store: Store
    clock: Clock
    accounts: Accounts
    flows: Any = None  # shared.oauth.flows when deployed
    oauth: Any = None


def export(store: Store, account_id: str) -> dict[str, Any]:
    account = access.account_for(store, account_id)
    return {
        "account": {
            "id": account_id,
            "email": account["email"],
            "created_at": account["created_at"],
        },
        "projects": [
            {"id": project_id, **{name: doc.get(name) for name in _EXPORTED}}
            for project_id, doc in access.projects_for(store, account_id)
        ],
    }


def close(deps: ClosureDeps, session: Session, password: str, client: str) -> float:
    """Close the session's account; returns the time every remaining record expires by."""
    store, account_id = deps.store, session.account_id
    account = access.account_for(store, account_id)
    email = str(account["email"])
    attempt = deps.accounts.throttle.admit(email, client)
    credentials = store.get(CREDENTIALS, account_id)
    if credentials is None or not deps.accounts.hasher.verify(
        password, credentials["password_hash"]
    ):
        attempt.failed()
        raise SignInFailed("The password is not right.")
    attempt.succeeded()
    now = deps.clock.now()
    limit = now + RETENTION_SECONDS
    for project_id, project in access.projects_for(store, account_id):
        _revoke(deps, session, project_id, project)
        cap(store, "projects", project_id, limit, closed_at=now)
        for collection in PROJECT_RECORDS:
            for doc_id, _ in store.find(collection, "project_id", project_id):
                cap(store, collection, doc_id, limit)
    for doc_id, _ in store.find("oauth_states", "account_id", account_id):
        store.delete("oauth_states", doc_id)
    sessions.revoke_all(store, account_id)
    store.delete(CREDENTIALS, account_id)
    _forget_throttle(
        store, email, [client] + [e.get("client", "") for e in audit.trail(store, account_id)]
    )
    for doc_id, _ in store.find(EMAILS, "account_id", account_id):
        store.delete(EMAILS, doc_id)  # the address may sign up again at once
    cap(store, "accounts", account_id, limit, status="closed", closed_at=now)
    audit.record(store, deps.clock, account_id, "account_closed", client=_address(client))
    audit.expire_account(store, account_id, now)
    logs.info("account closed", account_id=account_id)
    return limit


def cap(store: Store, collection: str, doc_id: str, limit: float, **changes: Any) -> None:
    """Set ``expire_at`` to ``limit`` unless it is already earlier; apply ``changes``."""

    def apply(doc: Doc | None) -> Doc | None:
        if doc is None:
            return None
        current = doc.get(EXPIRE_AT)
        expiry = limit if current is None else min(_seconds(current), limit)
        return {**doc, **changes, EXPIRE_AT: expiry}

    store.update(collection, doc_id, apply)


def _revoke(deps: ClosureDeps, session: Session, project_id: str, project: Doc) -> None:
    for provider in ("stripe", "hubspot"):
        if deps.flows is None or project.get(f"{provider}_status") in (None, "", "disconnected"):
            continue
        try:
            deps.flows.disconnect(provider, deps.oauth, session, project_id)
        except Exception as exc:  # revoked here whatever the other side answers
            logs.alert(
                "disconnect at closure failed", provider=provider, error_type=type(exc).__name__
            )
    tokens.delete(deps.store, project_id)
    if project.get("stripe_account"):
        account, livemode = project["stripe_account"], bool(project.get("livemode"))
        connections.drop_route(deps.store, account, livemode, project_id)

    def revoked(doc: Doc | None) -> Doc | None:
        if doc is None:
            return None
        return {**doc, "stripe_status": "revoked", "hubspot_status": "revoked"}

    deps.store.update("projects", project_id, revoked)


def _forget_throttle(store: Store, email: str, clients: list[str]) -> None:
    """Sign-in counters and trusted pairs named after the email (as SHA-256) go with it."""
    ids = {digest(EMAIL.kind, email)}
    for address in {c for c in clients if c}:
        ids.add(digest(PAIR.kind, email, client_key(address)))
    # A client address's own counter is not the account's: it stays until it expires.
    for doc_id in ids:
        store.delete(THROTTLE, doc_id)


def _seconds(value: Any) -> float:
    if hasattr(value, "timestamp"):
        return float(value.timestamp())
    return float(value) if value is not None else math.inf
