"""Reads scoped to the signed-in account. Every helper takes the account id, and a record of
another account answers exactly like a missing one: ``NotFound`` (404), so ids cannot be probed
(ASVS 5.0 8.2.2). Route handlers take ids from the URL only through these helpers.
"""

import re

from shared.accounts import sessions
from shared.accounts.sessions import Session
from shared.clock import Clock
from shared.errors import NotFound
from shared.store.base import Doc, Store

# Ids as Omniroo makes them (``prj_`` + hex); anything else cannot name a record, and a "/" would
# be a path to Firestore.
_ID = re.compile(r"[A-Za-z0-9_\-]{1,64}")


def account_for(store: Store, account_id: str) -> Doc:
    """The open account ``account_id``; NotFound when it is missing or closed."""
    account = store.get("accounts", account_id) if _ID.fullmatch(account_id or "") else None
    if account is None or account.get("status", "open") != "open":
        raise NotFound("no such account")
    return account


def live_session(store: Store, clock: Clock, token: str | None) -> Session | None:
    """The cookie's session when its account is still open. A session of a closed (or deleted)
    account is ended here: closing revokes them all, but one started while the account was
    being closed would otherwise outlive it."""
    session = sessions.load(store, clock, token)
    if session is None:
        return None
    account = store.get("accounts", session.account_id)
    if account is None or account.get("status", "open") != "open":
        sessions.end(store, session.token)
        return None
    return session


def project_for(store: Store, account_id: str, project_id: str) -> Doc:
    """The project ``project_id`` when it belongs to ``account_id``; NotFound otherwise."""
    if not account_id or not _ID.fullmatch(project_id or ""):
        raise NotFound("no such project")
    project = store.get("projects", project_id)
    if project is None or project.get("account_id") != account_id:
        raise NotFound("no such project")
    return project


def projects_for(store: Store, account_id: str) -> list[tuple[str, Doc]]:
    """The account's projects, by id."""
    if not account_id:
        return []
    return sorted(store.find("projects", "account_id", account_id), key=lambda item: item[0])
