"""Connecting a project to Stripe (Connect OAuth, ``read_only``) and to HubSpot (OAuth v1), and
disconnecting it: the three verbs the console and the callbacks call.

``begin`` issues a state bound to the session, project and provider and returns the provider's
authorize URL; ``complete`` consumes that state (single use) before anything else, so a missing,
forged, reused or foreign state never reaches a code exchange (RELIABILITY rows 32, 33); the
redirect URIs come from ``OMNIROO_PUBLIC_URL`` only (row 34). No Stripe token is kept: the
platform key with ``Stripe-Account`` reaches the connected account. HubSpot tokens are stored
envelope-encrypted (``shared.tokens``).

What differs between the providers is one table, ``PROVIDERS``. Stripe is reached only through
``shared.stripe_gateway`` (one translation of Stripe's errors); ending a connection here is
``shared.connections.cut``, the same as when the other side ends it.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from shared import audit, connections, logs, tokens
from shared.accounts import access, oauth_state
from shared.accounts.sessions import Session
from shared.clock import Clock
from shared.config import Settings
from shared.connections import route_key
from shared.crypto.envelope import Envelope
from shared.errors import BadRequest, ConfigError, NotFound, PermanentFailure
from shared.project_settings import ProjectSettings
from shared.settings_check import unknown_stages
from shared.store.base import Doc, Store
from shared.stripe_gateway import StripeGateway

if TYPE_CHECKING:  # the Stripe callback never builds a HubSpot gateway: not imported cold
    from shared.hubspot.gateway import HubSpotGateway
    from shared.oauth.hubspot_tokens import HubSpotOAuthClient

STRIPE_CONNECT_BASE = "https://connect.stripe.com"
STRIPE_SCOPE = "read_only"  # Omniroo only reads from Stripe
# The smallest set the sync uses, each for one reason:
HUBSPOT_SCOPES = (
    "crm.objects.contacts.read",  # find a customer's contact (search by email / Stripe id)
    "crm.objects.contacts.write",  # create and update contacts
    "crm.objects.companies.read",  # company matching by domain
    "crm.objects.companies.write",  # create companies and associate contacts
    "crm.objects.deals.read",  # find a subscription's deal; read deal pipelines at connect
    "crm.objects.deals.write",  # subscriptions as deals, their stages and amounts
    "crm.objects.line_items.read",  # a deal's current line items
    "crm.objects.line_items.write",  # line items for subscription items
    "e-commerce",  # products (HubSpot gates the Products API behind this scope)
    "crm.schemas.contacts.write",  # Omniroo's property group and properties on contacts
    "crm.schemas.companies.write",  # ... on companies
    "crm.schemas.deals.write",  # ... on deals
)


@dataclass
class OAuthDeps:
    store: Store
    envelope: Envelope
    clock: Clock
    settings: Settings
    stripe: StripeGateway  # platform key, client id, Connect base
    hubspot_oauth: "HubSpotOAuthClient"
    hubspot: Callable[[str], "HubSpotGateway"]  # access token -> gateway


def redirect_uri(settings: Settings, provider: str) -> str:
    return f"{settings.public_url}/oauth/{provider}/callback"


def begin(provider: str, deps: OAuthDeps, session: Session, project_id: str) -> str:
    """The provider's authorize URL for connecting ``project_id`` (NotFound if not the
    session's account's)."""
    side = _provider(provider)
    access.project_for(deps.store, session.account_id, project_id)
    settings = deps.settings
    client_id = side.client_id(settings)
    if not client_id:
        raise ConfigError(f"missing setting: {side.client_id_setting} (see .env.example)")
    state = oauth_state.issue(
        deps.store, deps.clock, session.id_hash, session.account_id, project_id, provider
    )
    query = {
        **side.authorize_query,
        "client_id": client_id,
        "redirect_uri": redirect_uri(settings, provider),
        "state": state,
    }
    return f"{side.authorize_base(settings)}/oauth/authorize?{urlencode(query)}"


def complete(provider: str, deps: OAuthDeps, session: Session, code: str, state: str) -> str:
    """Finish a connection from the callback; returns the project id. The state is consumed
    first, so nothing is exchanged for a state this session did not start (``StateError``)."""
    side = _provider(provider)
    account_id, project_id = oauth_state.consume(
        deps.store, deps.clock, state, session.id_hash, provider
    )
    if account_id != session.account_id:
        raise oauth_state.StateError("wrong_session")
    project = access.project_for(deps.store, account_id, project_id)
    if not code:
        raise BadRequest("The provider sent no authorization code. Start again from the project.")
    reason = side.complete(deps, account_id, project_id, project, code)
    _audit_connect(deps, account_id, project_id, provider, reason)
    logs.info("connected", project_id=project_id, provider=provider, reason=reason)
    return project_id


def disconnect(provider: str, deps: OAuthDeps, session: Session, project_id: str) -> None:
    """Revoke at the provider, then forget the connection here (``shared.connections.cut``)."""
    side = _provider(provider)
    project = access.project_for(deps.store, session.account_id, project_id)
    side.revoke(deps, project_id, project)
    connections.cut(deps.store, deps.clock, project_id, provider)


# -- Stripe ---------------------------------------------------------------------------------------


def _complete_stripe(
    deps: OAuthDeps, account_id: str, project_id: str, project: Doc, code: str
) -> str:
    try:
        stripe_account, livemode = deps.stripe.connect(code)
    except PermanentFailure:
        raise BadRequest("Stripe did not accept this connection. Start again.") from None
    key = route_key(stripe_account, livemode)
    if not deps.store.create("routes", key, {"project_id": project_id}):
        route = deps.store.get("routes", key)
        if route is not None and route.get("project_id") != project_id:
            _audit_connect(deps, account_id, project_id, "stripe", "account_in_use")
            raise BadRequest(
                "This Stripe account is already connected to another project in this mode."
            )
        if route is None:
            deps.store.put("routes", key, {"project_id": project_id})
    previous = project.get("stripe_account") or ""
    if previous and route_key(previous, bool(project.get("livemode"))) != key:
        connections.drop_route(deps.store, previous, bool(project.get("livemode")), project_id)
    _set(
        deps.store,
        project_id,
        stripe_account=stripe_account,
        livemode=livemode,
        stripe_status="connected",
    )
    return ""


def _revoke_stripe(deps: OAuthDeps, project_id: str, project: Doc) -> None:
    account = project.get("stripe_account") or ""
    if not account or project.get("stripe_status") != "connected":
        return
    try:
        deps.stripe.deauthorize(account)
    except PermanentFailure as exc:
        # Already disconnected from Stripe's side: forgetting it here is all that is left.
        logs.warning("stripe deauthorize refused", code=exc.code)


# -- HubSpot --------------------------------------------------------------------------------------


def _complete_hubspot(
    deps: OAuthDeps, account_id: str, project_id: str, project: Doc, code: str
) -> str:
    grant = deps.hubspot_oauth.exchange(code, redirect_uri(deps.settings, "hubspot"))
    portal_id = deps.hubspot_oauth.portal_id(grant.access_token)
    try:
        old = tokens.load(deps.store, deps.envelope, project_id).refresh_token
    except NotFound:
        old = None
    expires_at = deps.clock.now() + grant.expires_in
    fresh = tokens.HubSpotTokens(grant.access_token, grant.refresh_token, expires_at)
    tokens.save(deps.store, deps.envelope, project_id, fresh)
    if old and old != grant.refresh_token:
        deps.hubspot_oauth.delete_refresh_token(old)  # the portal it stood for is replaced
    gateway = deps.hubspot(grant.access_token)
    gateway.ensure_schema()
    settings = ProjectSettings.from_doc(project.get("settings"))
    problems = unknown_stages(settings, gateway.pipelines())
    _set(
        deps.store,
        project_id,
        hubspot_portal_id=portal_id,
        hubspot_status="connected",
        hubspot_warnings=problems,
    )
    return "unknown_stages" if problems else ""


def _revoke_hubspot(deps: OAuthDeps, project_id: str, project: Doc) -> None:
    try:
        current = tokens.load(deps.store, deps.envelope, project_id)
    except NotFound:
        return
    if current.refresh_token:
        deps.hubspot_oauth.delete_refresh_token(current.refresh_token)


# -- what differs between the providers -----------------------------------------------------------


@dataclass(frozen=True)
class Provider:
    client_id: Callable[[Settings], str]
    client_id_setting: str
    authorize_base: Callable[[Settings], str]
    authorize_query: dict[str, str]  # besides client_id, redirect_uri and state
    complete: Callable[[OAuthDeps, str, str, Doc, str], str]  # -> the audit entry's reason
    revoke: Callable[[OAuthDeps, str, Doc], None]  # at the provider, before forgetting here


PROVIDERS: dict[str, Provider] = {
    "stripe": Provider(
        client_id=lambda settings: settings.stripe_client_id,
        client_id_setting="STRIPE_CLIENT_ID",
        authorize_base=lambda settings: settings.stripe_connect_base or STRIPE_CONNECT_BASE,
        authorize_query={"response_type": "code", "scope": STRIPE_SCOPE},
        complete=_complete_stripe,
        revoke=_revoke_stripe,
    ),
    "hubspot": Provider(
        client_id=lambda settings: settings.hubspot_client_id,
        client_id_setting="HUBSPOT_CLIENT_ID",
        authorize_base=lambda settings: settings.hubspot_auth_base,
        authorize_query={"scope": " ".join(HUBSPOT_SCOPES)},
        complete=_complete_hubspot,
        revoke=_revoke_hubspot,
    ),
}


def _provider(name: str) -> Provider:
    side = PROVIDERS.get(name)
    if side is None:
        raise NotFound("no such provider")
    return side


def _audit_connect(
    deps: OAuthDeps, account_id: str, project_id: str, provider: str, reason: str
) -> None:
    ids = {"project_id": project_id, "provider": provider, "reason": reason}
    audit.record(deps.store, deps.clock, account_id, "connect", **ids)


def _set(store: Store, project_id: str, **fields: Any) -> None:
    def change(doc: Doc | None) -> Doc | None:
        return None if doc is None else {**doc, **fields}

    store.update("projects", project_id, change)
