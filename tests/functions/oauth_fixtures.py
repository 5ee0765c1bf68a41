"""The OAuth settings for function tests, and a signed-in owner with an unconnected project."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from shared import projects
from shared.accounts import sessions
from shared.accounts.ids import new_id
from shared.accounts.sessions import Session
from shared.oauth.flows import OAuthDeps
from tests.plugins.stack import Stack, function_client

STRIPE_CLIENT_ID = "ca_test_omniroo"
HUBSPOT_CLIENT_ID = "hs-client-omniroo"
HUBSPOT_CLIENT_SECRET = "hs-secret-omniroo"
PUBLIC_URL = "https://omniroo.test"


@dataclass
class Owner:
    stack: Stack
    deps: OAuthDeps
    session: Session
    project_id: str

    def callback(self, provider: str, query: str, session: Session | None = None) -> Any:
        client = function_client(f"{provider}_oauth_callback")
        who = session if session is not None else self.session
        client.set_cookie(sessions.LOCAL_COOKIE_NAME, who.token)
        return client.get(f"/?{query}")


@pytest.fixture(name="oauth_env")
def oauth_env_fixture(
    monkeypatch: pytest.MonkeyPatch, stripe_double: Any, hubspot_double: Any
) -> None:
    monkeypatch.setenv("STRIPE_CLIENT_ID", STRIPE_CLIENT_ID)
    monkeypatch.setenv("STRIPE_CONNECT_BASE", stripe_double.connect_base)
    monkeypatch.setenv("HUBSPOT_CLIENT_ID", HUBSPOT_CLIENT_ID)
    monkeypatch.setenv("HUBSPOT_CLIENT_SECRET", HUBSPOT_CLIENT_SECRET)
    monkeypatch.setenv("HUBSPOT_AUTH_BASE", hubspot_double.base_url)
    monkeypatch.setenv("OMNIROO_PUBLIC_URL", PUBLIC_URL)
    hubspot_double.register_oauth_app(
        HUBSPOT_CLIENT_ID, HUBSPOT_CLIENT_SECRET, f"{PUBLIC_URL}/oauth/hubspot/callback"
    )


def add_owner(stack: Stack, email: str) -> tuple[Session, str]:
    """An account with a session and a project connected to nothing yet."""
    store, now = stack.runtime.store, stack.clock.now()
    account_id = new_id("acc")
    store.put("accounts", account_id, {"email": email, "created_at": now, "status": "open"})
    project_id = projects.add_unconnected(store, account_id, "", False, now)
    return sessions.start(store, stack.clock, account_id), project_id


@pytest.fixture(name="owner")
def owner_fixture(oauth_env: None, stack: Stack) -> Iterator[Owner]:
    session, project_id = add_owner(stack, "oauth-owner@omniroo.test")
    yield Owner(stack, stack.runtime.oauth(), session, project_id)


def follow(authorize_url: str, **extra: str) -> str:
    """Visit the provider's authorize page (the double consents at once); the query it sends
    the browser back with."""
    answer = requests.get(authorize_url, params=extra, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    return urlsplit(answer.headers["Location"]).query


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
