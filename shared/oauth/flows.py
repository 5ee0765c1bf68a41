"""Connecting a project to Stripe (Connect OAuth, ``read_only``) and to HubSpot (OAuth v1), and
disconnecting it: the three verbs the console and the callbacks call.

``begin`` issues a state bound to the session, project and provider and returns the provider's
authorize URL; ``complete`` consumes that state (single use) before anything else, so a missing,
forged, reused or foreign state never reaches a code exchange (RELIABILITY rows 32, 33); the
redirect URIs come from ``OMNIROO_PUBLIC_URL`` only (row 34). No Stripe token is kept: the
platform key with ``Stripe-Account`` reaches the connected account. HubSpot tokens are stored
envelope-encrypted (``shared.tokens``).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import stripe

from shared import audit, connections, logs, tokens
from shared.accounts import access, oauth_state
from shared.accounts.sessions import Session
from shared.clock import Clock
from shared.config import Settings
from shared.connections import route_key
from shared.crypto.envelope import Envelope
from shared.errors import BadRequest, ConfigError, NotFound, RemoteUnavailable
from shared.hubspot.gateway import HubSpotGateway
from shared.oauth.hubspot_tokens import HubSpotOAuthClient
from shared.project_settings import ProjectSettings
from shared.settings_check import unknown_stages
from shared.store.base import Doc, Store

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
PROVIDERS = ("stripe", "hubspot")


@dataclass
class OAuthDeps:
    store: Store
    envelope: Envelope
    clock: Clock
    settings: Settings
    stripe: stripe.StripeClient  # platform key, client_id, connect base
    hubspot_oauth: HubSpotOAuthClient
    hubspot: Callable[[str], HubSpotGateway]  # access token -> gateway


def redirect_uri(settings: Settings, provider: str) -> str:
    return f"{settings.public_url}/oauth/{provider}/callback"


def begin(provider: str, deps: OAuthDeps, session: Session, project_id: str) -> str:
    """The provider's authorize URL for connecting ``project_id`` (NotFound if not the
    session's account's)."""
    _known(provider)
    access.project_for(deps.store, session.account_id, project_id)
    settings = deps.settings
    state = oauth_state.issue(
        deps.store, deps.clock, session.id_hash, session.account_id, project_id, provider
    )
    if provider == "stripe":
        _require(settings.stripe_client_id, "STRIPE_CLIENT_ID")
        base = settings.stripe_connect_base or STRIPE_CONNECT_BASE
        query = {
            "response_type": "code",
            "client_id": settings.stripe_client_id,
            "scope": STRIPE_SCOPE,
            "state": state,
            "redirect_uri": redirect_uri(settings, "stripe"),
        }
    else:
        _require(settings.hubspot_client_id, "HUBSPOT_CLIENT_ID")
        base = settings.hubspot_auth_base
        query = {
            "client_id": settings.hubspot_client_id,
            "scope": " ".join(HUBSPOT_SCOPES),
            "redirect_uri": redirect_uri(settings, "hubspot"),
            "state": state,
        }
    return f"{base}/oauth/authorize?{urlencode(query)}"


def complete(provider: str, deps: OAuthDeps, session: Session, code: str, state: str) -> str:
    """Finish a connection from the callback; returns the project id. The state is consumed
    first, so nothing is exchanged for a state this session did not start (``StateError``)."""
    _known(provider)
    account_id, project_id = oauth_state.consume(
        deps.store, deps.clock, state, session.id_hash, provider
    )
    if account_id != session.account_id:
        raise oauth_state.StateError("wrong_session")
    project = access.project_for(deps.store, account_id, project_id)
    if not code:
        raise BadRequest("The provider sent no authorization code. Start again from the project.")
    if provider == "stripe":
        _complete_stripe(deps, account_id, project_id, project, code)
    else:
        _complete_hubspot(deps, account_id, project_id, project, code)
    return project_id


def disconnect(provider: str, deps: OAuthDeps, session: Session, project_id: str) -> None:
    """Revoke at the provider, then forget the connection here (``shared.connections.cut``)."""
    _known(provider)
    project = access.project_for(deps.store, session.account_id, project_id)
    if provider == "stripe":
        account = project.get("stripe_account") or ""
        if account and project.get("stripe_status") == "connected":
            _stripe_call(
                lambda: deps.stripe.oauth.deauthorize({"stripe_user_id": account}),
                tolerate_gone=True,
            )
    else:
        try:
            current = tokens.load(deps.store, deps.envelope, project_id)
        except NotFound:
            current = None
        if current is not None and current.refresh_token:
            deps.hubspot_oauth.delete_refresh_token(current.refresh_token)
    connections.cut(deps.store, deps.clock, project_id, provider)


# -- Stripe ---------------------------------------------------------------------------------------


def _complete_stripe(
    deps: OAuthDeps, account_id: str, project_id: str, project: Doc, code: str
) -> None:
    answer = _stripe_call(
        lambda: deps.stripe.oauth.token({"grant_type": "authorization_code", "code": code})
    )
    stripe_account, livemode = str(answer["stripe_user_id"]), bool(answer["livemode"])
    key = route_key(stripe_account, livemode)
    if not deps.store.create("routes", key, {"project_id": project_id}):
        route = deps.store.get("routes", key)
        if route is not None and route.get("project_id") != project_id:
            audit.record(
                deps.store,
                deps.clock,
                account_id,
                "connect",
                project_id=project_id,
                provider="stripe",
                reason="account_in_use",
            )
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
    audit.record(
        deps.store, deps.clock, account_id, "connect", project_id=project_id, provider="stripe"
    )
    logs.info("stripe connected", project_id=project_id, livemode=livemode)


def _stripe_call(fn: Callable[[], Any], tolerate_gone: bool = False) -> Any:
    try:
        return fn()
    except stripe.oauth_error.OAuthError as exc:
        if tolerate_gone:
            logs.warning("stripe deauthorize refused", code=str(exc.code))
            return None
        raise BadRequest("Stripe did not accept this connection. Start again.") from None
    except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
        raise RemoteUnavailable("stripe_unavailable") from exc
    except stripe.StripeError as exc:
        if (exc.http_status or 500) >= 500:
            raise RemoteUnavailable("stripe_unavailable") from exc
        if tolerate_gone:
            logs.warning("stripe deauthorize refused", status=exc.http_status)
            return None
        raise BadRequest("Stripe did not accept this connection. Start again.") from None


# -- HubSpot --------------------------------------------------------------------------------------


def _complete_hubspot(
    deps: OAuthDeps, account_id: str, project_id: str, project: Doc, code: str
) -> None:
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
    audit.record(
        deps.store,
        deps.clock,
        account_id,
        "connect",
        project_id=project_id,
        provider="hubspot",
        reason="unknown_stages" if problems else "",
    )
    logs.info("hubspot connected", project_id=project_id, unknown_stages=len(problems))


# -- helpers --------------------------------------------------------------------------------------


def _known(provider: str) -> None:
    if provider not in PROVIDERS:
        raise NotFound("no such provider")


def _require(value: str, name: str) -> None:
    if not value:
        raise ConfigError(f"missing setting: {name} (see .env.example)")


def _set(store: Store, project_id: str, **fields: Any) -> None:
    def change(doc: Doc | None) -> Doc | None:
        return None if doc is None else {**doc, **fields}

    store.update("projects", project_id, change)
