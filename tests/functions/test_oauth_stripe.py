"""Stripe Connect OAuth through ``stripe_oauth_callback`` and the real ``stripe`` library against
the Stripe double: connect, the state checks (rows 32-34), refusal, accounts in use, isolation,
disconnect."""

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from shared import audit
from shared.errors import NotFound, PermanentFailure, RemoteUnavailable
from shared.oauth import flows
from shared.stripe_gateway import StripeGateway
from tests.functions.oauth_fixtures import (  # noqa: F401
    PUBLIC_URL,
    STRIPE_CLIENT_ID,
    Owner,
    add_owner,
    follow,
    oauth_env_fixture,
    owner_fixture,
    query_of,
)


def _token_calls(owner: Owner) -> int:
    return sum(1 for r in owner.stack.stripe.requests if r["path"] == "/connect/oauth/token")


def test_begin_builds_the_connect_url_with_read_only_and_the_exact_redirect(owner: Owner) -> None:
    url = flows.begin("stripe", owner.deps, owner.session, owner.project_id)
    assert url.startswith(f"{owner.stack.stripe.connect_base}/oauth/authorize?")
    query = query_of(url)
    assert query["response_type"] == "code"
    assert query["client_id"] == STRIPE_CLIENT_ID
    assert query["scope"] == "read_only"
    assert query["redirect_uri"] == f"{PUBLIC_URL}/oauth/stripe/callback"
    assert len(query["state"]) >= 43


def test_connect_stores_the_account_and_route_and_no_token(owner: Owner) -> None:
    back = follow(flows.begin("stripe", owner.deps, owner.session, owner.project_id))
    answer = owner.callback("stripe", back)
    assert answer.status_code == 303
    assert answer.headers["Location"] == f"/projects/{owner.project_id}"
    store = owner.stack.runtime.store
    project = store.get("projects", owner.project_id)
    assert project is not None
    assert project["stripe_account"].startswith("acct_")
    assert project["stripe_status"] == "connected" and project["livemode"] is False
    assert store.get("routes", f"{project['stripe_account']}:test") == {
        "project_id": owner.project_id
    }
    stored = repr(list(store.scan("tokens"))) + repr(list(store.scan("projects")))
    assert "sk_test_" not in stored and "rt_" not in stored
    assert [e["action"] for e in audit.trail(store, project["account_id"])] == ["connect"]


@pytest.mark.parametrize(
    "query",
    ["code=ac_x", "code=ac_x&state=", "code=ac_x&state=forged-state-value", "state=%00"],
)
def test_a_missing_or_forged_state_is_refused_without_an_exchange(owner: Owner, query: str) -> None:
    answer = owner.callback("stripe", query)
    assert answer.status_code == 400
    assert _token_calls(owner) == 0


def test_a_reused_state_is_refused_and_exchanges_once(owner: Owner) -> None:
    back = follow(flows.begin("stripe", owner.deps, owner.session, owner.project_id))
    assert owner.callback("stripe", back).status_code == 303
    assert owner.callback("stripe", back).status_code == 400
    assert _token_calls(owner) == 1


def test_a_state_issued_for_hubspot_does_not_complete_stripe(owner: Owner) -> None:
    url = flows.begin("hubspot", owner.deps, owner.session, owner.project_id)
    state = query_of(url)["state"]
    assert owner.callback("stripe", f"code=ac_x&state={state}").status_code == 400
    assert _token_calls(owner) == 0


def test_the_victims_callback_replayed_in_an_attackers_session_is_refused(owner: Owner) -> None:
    back = follow(flows.begin("stripe", owner.deps, owner.session, owner.project_id))
    attacker, _ = add_owner(owner.stack, "attacker@omniroo.test")
    assert owner.callback("stripe", back, session=attacker).status_code == 400
    assert _token_calls(owner) == 0
    project = owner.stack.runtime.store.get("projects", owner.project_id)
    assert project is not None and project["stripe_status"] == "disconnected"


def test_next_stays_on_our_site(owner: Owner) -> None:
    back = follow(flows.begin("stripe", owner.deps, owner.session, owner.project_id))
    answer = owner.callback("stripe", back + "&next=https://evil.example/x")
    assert answer.headers["Location"] == f"/projects/{owner.project_id}"
    back = follow(flows.begin("stripe", owner.deps, owner.session, owner.project_id))
    answer = owner.callback("stripe", back + "&next=//evil.example")
    assert answer.headers["Location"] == f"/projects/{owner.project_id}"


def test_the_user_refusing_shows_a_page_and_exchanges_nothing(owner: Owner) -> None:
    back = follow(flows.begin("stripe", owner.deps, owner.session, owner.project_id), deny="1")
    assert parse_qs(back)["error"] == ["access_denied"]
    answer = owner.callback("stripe", back)
    assert answer.status_code == 200
    assert b"did not connect Stripe" in answer.data
    assert _token_calls(owner) == 0


def test_another_accounts_project_is_not_found(owner: Owner) -> None:
    _, other_project = add_owner(owner.stack, "other@omniroo.test")
    with pytest.raises(NotFound):
        flows.begin("stripe", owner.deps, owner.session, other_project)
    with pytest.raises(NotFound):
        flows.disconnect("stripe", owner.deps, owner.session, other_project)


def test_an_account_connected_to_another_project_is_refused(owner: Owner) -> None:
    back = follow(flows.begin("stripe", owner.deps, owner.session, owner.project_id))
    owner.callback("stripe", back)
    store = owner.stack.runtime.store
    taken = (store.get("projects", owner.project_id) or {})["stripe_account"]
    other, other_project = add_owner(owner.stack, "second@omniroo.test")
    url = flows.begin("stripe", owner.deps, other, other_project)
    answer = owner.callback("stripe", follow(url, stripe_user_id=taken), session=other)
    assert answer.status_code == 400
    assert b"already connected" in answer.data
    assert store.get("routes", f"{taken}:test") == {"project_id": owner.project_id}


def test_disconnect_deauthorizes_at_stripe_and_drops_the_route(owner: Owner) -> None:
    owner.callback(
        "stripe", follow(flows.begin("stripe", owner.deps, owner.session, owner.project_id))
    )
    store = owner.stack.runtime.store
    account = (store.get("projects", owner.project_id) or {})["stripe_account"]
    flows.disconnect("stripe", owner.deps, owner.session, owner.project_id)
    assert any(r["path"] == "/connect/oauth/deauthorize" for r in owner.stack.stripe.requests)
    assert store.get("routes", f"{account}:test") is None
    project = store.get("projects", owner.project_id) or {}
    assert project["stripe_status"] == "disconnected"
    events = owner.stack.stripe.events(account)
    assert events[-1]["type"] == "account.application.deauthorized"
    actions = [e["action"] for e in audit.trail(store, project["account_id"])]
    assert actions == ["connect", "disconnect"]


def test_the_authorize_page_has_an_interactive_form(owner: Owner) -> None:
    url = flows.begin("stripe", owner.deps, owner.session, owner.project_id)
    page = requests.get(url, params={"interactive": "1"}, timeout=10)
    assert page.status_code == 200 and b"Authorize</button>" in page.content
    assert urlsplit(url).path.endswith("/oauth/authorize")


def test_disconnect_after_the_account_left_at_stripe_still_forgets_it(owner: Owner) -> None:
    owner.callback(
        "stripe", follow(flows.begin("stripe", owner.deps, owner.session, owner.project_id))
    )
    store = owner.stack.runtime.store
    account = (store.get("projects", owner.project_id) or {})["stripe_account"]
    owner.stack.stripe.deauthorize(account)  # from the account's Dashboard, event not yet here
    flows.disconnect("stripe", owner.deps, owner.session, owner.project_id)
    refused = [r for r in owner.stack.stripe.requests if r["path"] == "/connect/oauth/deauthorize"]
    assert len(refused) == 1
    assert store.get("routes", f"{account}:test") is None
    assert (store.get("projects", owner.project_id) or {})["stripe_status"] == "disconnected"


def test_disconnect_when_stripe_is_unreachable_keeps_the_connection(owner: Owner) -> None:
    owner.callback(
        "stripe", follow(flows.begin("stripe", owner.deps, owner.session, owner.project_id))
    )
    owner.deps.stripe = StripeGateway(
        "sk_test_omniroo", client_id=STRIPE_CLIENT_ID, connect_base="http://127.0.0.1:9"
    )
    with pytest.raises(RemoteUnavailable):
        flows.disconnect("stripe", owner.deps, owner.session, owner.project_id)
    project = owner.stack.runtime.store.get("projects", owner.project_id) or {}
    assert project["stripe_status"] == "connected"


def test_the_gateway_turns_connect_oauth_refusals_into_permanent_failures(owner: Owner) -> None:
    gateway = owner.deps.stripe
    with pytest.raises(PermanentFailure) as refused_code:
        gateway.connect("ac_never_issued")
    assert (refused_code.value.code, refused_code.value.status) == (
        "stripe_oauth_invalid_grant",
        400,
    )
    with pytest.raises(PermanentFailure) as refused_account:
        gateway.deauthorize("acct_neverconnected")
    assert (refused_account.value.code, refused_account.value.status) == (
        "stripe_oauth_invalid_client",
        401,
    )
