"""Accounts and projects: the configuration Omniroo keeps, and nothing else.

A project pairs one Stripe account in one mode with one HubSpot portal. Its route
``{account}:{live|test}`` lets the webhook find it with a single read.
"""

import re
import secrets
from dataclasses import dataclass
from typing import Any

from shared import tokens
from shared.connections import route_key
from shared.crypto.envelope import Envelope
from shared.errors import BadRequest
from shared.project_settings import ProjectSettings
from shared.store.base import Doc, Store

_ACCOUNT_ID = re.compile(r"^acct_[0-9A-Za-z]{1,255}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class NewProject:
    account_id: str
    stripe_account: str
    livemode: bool
    hubspot_token: str
    hubspot_portal_id: str = ""
    settings: dict[str, Any] | None = None


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(8)}"


def create_account(store: Store, email: str, now: float) -> str:
    email = email.strip().lower()
    if not _EMAIL.match(email):
        raise BadRequest("email: not a valid address")
    account_id = new_id("acc")
    if store.find("accounts", "email", email):
        raise BadRequest("email: an account with this address exists")
    store.put("accounts", account_id, {"email": email, "created_at": now, "status": "open"})
    return account_id


def create_project(store: Store, envelope: Envelope, new: NewProject, now: float) -> str:
    """Store the project, its route and its encrypted token. Refuses a second project for the
    same Stripe account and mode, which would make routing ambiguous."""
    if store.get("accounts", new.account_id) is None:
        raise BadRequest("account: no such account")
    if not _ACCOUNT_ID.match(new.stripe_account):
        raise BadRequest("stripe_account: expected acct_...")
    if not new.hubspot_token.strip():
        raise BadRequest("hubspot_token: empty")
    settings = ProjectSettings.from_doc(new.settings)
    project_id = new_id("prj")
    key = route_key(new.stripe_account, new.livemode)
    if not store.create("routes", key, {"project_id": project_id}):
        raise BadRequest("stripe_account: already connected to another project in this mode")
    project: Doc = {
        "account_id": new.account_id,
        "stripe_account": new.stripe_account,
        "livemode": new.livemode,
        "stripe_status": "connected",
        "hubspot_portal_id": new.hubspot_portal_id,
        "hubspot_status": "connected",
        "settings": settings.to_doc(),
        "created_at": now,
    }
    store.put("projects", project_id, project)
    tokens.save(store, envelope, project_id, tokens.HubSpotTokens(new.hubspot_token.strip()))
    return project_id


def projects_of(store: Store, account_id: str) -> list[tuple[str, Doc]]:
    return store.find("projects", "account_id", account_id)
