"""Accounts and projects: the configuration Omniroo keeps, and nothing else.

A project pairs one Stripe account in one mode with one HubSpot portal. Its route
``{account}:{live|test}`` lets the webhook find it with a single read.
"""

import re
from dataclasses import dataclass
from typing import Any

from shared import tokens
from shared.accounts.ids import new_id
from shared.accounts.service import email_held
from shared.connections import route_key
from shared.crypto.envelope import Envelope
from shared.errors import BadRequest
from shared.project_settings import ProjectSettings
from shared.store.base import Doc, Store

_ACCOUNT_ID = re.compile(r"acct_[0-9A-Za-z]{1,255}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True)
class NewProject:
    account_id: str
    stripe_account: str
    livemode: bool
    hubspot_token: str
    hubspot_portal_id: str = ""
    settings: dict[str, Any] | None = None


def document(account_id: str, livemode: bool, now: float, name: str = "", **fields: Any) -> Doc:
    """A project as stored, connected to nothing unless ``fields`` say otherwise: the one list
    of what a project holds (``shared.store.base.FIELDS`` allows exactly these and what the
    connections and closure add)."""
    return {
        "account_id": account_id,
        "name": name,
        "stripe_account": "",
        "livemode": livemode,
        "stripe_status": "disconnected",
        "hubspot_portal_id": "",
        "hubspot_status": "disconnected",
        "settings": ProjectSettings().to_doc(),
        "created_at": now,
        **fields,
    }


def add_unconnected(store: Store, account_id: str, name: str, livemode: bool, now: float) -> str:
    """A new project with no connection yet (the console's): the OAuth flows connect it."""
    project_id = new_id("prj")
    store.put("projects", project_id, document(account_id, livemode, now, name))
    return project_id


def create_account(store: Store, email: str, now: float) -> str:
    email = email.strip().lower()
    if not _EMAIL.fullmatch(email):
        raise BadRequest("email: not a valid address")
    account_id = new_id("acc")
    if email_held(store, email):
        raise BadRequest("email: an account with this address exists")
    store.put("accounts", account_id, {"email": email, "created_at": now, "status": "open"})
    return account_id


def create_project(store: Store, envelope: Envelope, new: NewProject, now: float) -> str:
    """Store the project, its route and its encrypted token. Refuses a second project for the
    same Stripe account and mode, which would make routing ambiguous."""
    if store.get("accounts", new.account_id) is None:
        raise BadRequest("account: no such account")
    if not _ACCOUNT_ID.fullmatch(new.stripe_account):
        raise BadRequest("stripe_account: expected acct_...")
    if not new.hubspot_token.strip():
        raise BadRequest("hubspot_token: empty")
    settings = ProjectSettings.from_doc(new.settings)
    project_id = new_id("prj")
    key = route_key(new.stripe_account, new.livemode)
    if not store.create("routes", key, {"project_id": project_id}):
        raise BadRequest("stripe_account: already connected to another project in this mode")
    project = document(
        new.account_id,
        new.livemode,
        now,
        stripe_account=new.stripe_account,
        stripe_status="connected",
        hubspot_portal_id=new.hubspot_portal_id,
        hubspot_status="connected",
        settings=settings.to_doc(),
    )
    store.put("projects", project_id, project)
    tokens.save(store, envelope, project_id, tokens.HubSpotTokens(new.hubspot_token.strip()))
    return project_id
