"""HubSpot OAuth through ``hubspot_oauth_callback`` and ``hubspot-api-client`` against the
HubSpot double: connect (tokens encrypted, schema, pipelines), disconnect, and token upkeep:
refresh ahead of expiry with one refresh for 20 workers (row 24), a 401 mid-flight (row 23), a
dead refresh token (row 25)."""

import threading
import time
from typing import Any

import pytest

from shared import audit, tokens
from shared.drain import drainer
from shared.drain.dirty import DirtyKeys, Key
from shared.errors import NotFound
from shared.oauth import flows
from shared.oauth.hubspot_tokens import HubSpotOAuthClient, TokenRevoked
from tests.functions.oauth_fixtures import (  # noqa: F401
    HUBSPOT_CLIENT_ID,
    HUBSPOT_CLIENT_SECRET,
    PUBLIC_URL,
    Owner,
    add_owner,
    follow,
    oauth_env_fixture,
    owner_fixture,
    query_of,
)


def _connect(owner: Owner, **extra: str) -> Any:
    url = flows.begin("hubspot", owner.deps, owner.session, owner.project_id)
    return owner.callback("hubspot", follow(url, **extra))


def test_begin_asks_for_the_smallest_scopes_and_the_exact_redirect(owner: Owner) -> None:
    query = query_of(flows.begin("hubspot", owner.deps, owner.session, owner.project_id))
    assert query["client_id"] == HUBSPOT_CLIENT_ID
    assert query["redirect_uri"] == f"{PUBLIC_URL}/oauth/hubspot/callback"
    scopes = query["scope"].split()
    assert scopes == list(flows.HUBSPOT_SCOPES)
    assert not [s for s in scopes if s.endswith(".delete") or "settings" in s or "users" in s]


def test_connect_stores_encrypted_tokens_builds_the_schema_and_reads_pipelines(
    owner: Owner,
) -> None:
    answer = _connect(owner)
    assert answer.status_code == 303
    store = owner.stack.runtime.store
    project = store.get("projects", owner.project_id) or {}
    assert project["hubspot_status"] == "connected"
    portal = int(project["hubspot_portal_id"])
    assert "omniroo" in owner.stack.hubspot.groups(portal, "contacts")
    assert project["hubspot_warnings"] == []
    doc = store.get("tokens", owner.project_id) or {}
    held = tokens.load(store, owner.stack.runtime.envelope, owner.project_id)
    assert held.refresh_token and held.access_token not in repr(doc)
    assert held.refresh_token not in repr(doc)
    assert held.expires_at == pytest.approx(owner.stack.clock.now() + 1800, abs=5)
    assert [e.get("provider") for e in audit.trail(store, project["account_id"])] == ["hubspot"]


def test_a_forged_state_makes_no_token_call(owner: Owner) -> None:
    answer = owner.callback("hubspot", "code=abc&state=forged")
    assert answer.status_code == 400
    assert owner.stack.hubspot.token_requests() == 0


def test_disconnect_deletes_the_refresh_token_at_hubspot_and_here(owner: Owner) -> None:
    _connect(owner)
    store, envelope = owner.stack.runtime.store, owner.stack.runtime.envelope
    refresh = tokens.load(store, envelope, owner.project_id).refresh_token
    assert refresh
    flows.disconnect("hubspot", owner.deps, owner.session, owner.project_id)
    assert store.get("tokens", owner.project_id) is None
    client = HubSpotOAuthClient(
        HUBSPOT_CLIENT_ID, HUBSPOT_CLIENT_SECRET, owner.stack.hubspot.base_url
    )
    with pytest.raises(TokenRevoked):
        client.refresh(refresh)
    assert (store.get("projects", owner.project_id) or {})["hubspot_status"] == "disconnected"


class AheadClock:
    """Our instances' clock, ``ahead`` seconds past real time; waits yield for a millisecond
    instead of sleeping them (the HubSpot double keeps real time)."""

    def __init__(self, ahead: float) -> None:
        self.ahead = ahead
        self.waits = 0

    def now(self) -> float:
        return time.time() + self.ahead

    def sleep(self, seconds: float) -> None:
        self.waits += 1
        threading.Event().wait(0.001)


def _refresher(owner: Owner) -> Any:
    base = owner.stack.hubspot.base_url
    return HubSpotOAuthClient(HUBSPOT_CLIENT_ID, HUBSPOT_CLIENT_SECRET, base).refresh


def test_twenty_workers_at_expiry_make_exactly_one_refresh(owner: Owner) -> None:
    _connect(owner)
    store, envelope = owner.stack.runtime.store, owner.stack.runtime.envelope
    old = tokens.load(store, envelope, owner.project_id).access_token
    clock = AheadClock(1800 - 120)  # two minutes before expiry: inside the refresh margin
    before = owner.stack.hubspot.token_requests()
    refresher = _refresher(owner)
    got: list[str] = []
    start = threading.Barrier(20)

    def worker() -> None:
        start.wait()
        got.append(tokens.access_token(store, envelope, clock, owner.project_id, refresher))

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert owner.stack.hubspot.token_requests() - before == 1
    assert len(got) == 20 and len(set(got)) == 1 and got[0] != old
    doc = store.get("tokens", owner.project_id) or {}
    assert "refresh_lease_owner" not in doc


def test_a_fresh_token_is_used_without_a_refresh(owner: Owner) -> None:
    _connect(owner)
    store, envelope = owner.stack.runtime.store, owner.stack.runtime.envelope
    before = owner.stack.hubspot.token_requests()
    token = tokens.access_token(store, envelope, AheadClock(0), owner.project_id, _refresher(owner))
    assert token == tokens.load(store, envelope, owner.project_id).access_token
    assert owner.stack.hubspot.token_requests() == before


def test_a_token_rejected_mid_flight_is_refreshed_once(owner: Owner) -> None:
    _connect(owner)
    store, envelope = owner.stack.runtime.store, owner.stack.runtime.envelope
    old = tokens.load(store, envelope, owner.project_id).access_token
    before = owner.stack.hubspot.token_requests()
    refresher = _refresher(owner)
    new = tokens.access_token(store, envelope, AheadClock(0), owner.project_id, refresher, old)
    assert new != old
    # A second worker holding the same rejected token gets the new one, with no second refresh.
    again = tokens.access_token(store, envelope, AheadClock(0), owner.project_id, refresher, old)
    assert again == new
    assert owner.stack.hubspot.token_requests() - before == 1


def _drain(owner: Owner, customer: str, ahead: float) -> dict[str, Any]:
    """Mark the customer dirty and drain the project on a clock ``ahead`` of real time; the
    outcome recorded for its event."""
    runtime = owner.stack.runtime
    runtime.drainers.close()  # only this test drains
    clock = AheadClock(ahead)
    deps = drainer.DrainDeps(
        **{**vars(runtime.drain), "clock": clock, "refresher": _refresher(owner), "budgets": {}}
    )
    key = Key(owner.project_id, "customer", customer)
    DirtyKeys(runtime.store, clock).mark(key, f"evt_{customer}", "customer.created")
    drainer.drain(owner.project_id, deps)
    return runtime.store.get("outcomes", f"evt_{customer}") or {}


def _route_to_stack_account(owner: Owner) -> None:
    store = owner.stack.runtime.store
    project = store.get("projects", owner.project_id) or {}
    project.update(stripe_account=owner.stack.account, stripe_status="connected")
    store.put("projects", owner.project_id, project)


def test_the_push_refreshes_ahead_of_expiry_and_syncs(owner: Owner) -> None:
    _connect(owner)
    _route_to_stack_account(owner)
    customer = owner.stack.stripe.create_customer(owner.stack.account, email="a@example.com")
    before = owner.stack.hubspot.token_requests()
    outcome = _drain(owner, customer["id"], 1800 - 60)
    assert outcome["status"] == "synced"
    assert owner.stack.hubspot.token_requests() - before == 1


def test_an_uninstalled_app_marks_the_project_reconnect_and_acks(
    owner: Owner, caplog: pytest.LogCaptureFixture
) -> None:
    _connect(owner)
    _route_to_stack_account(owner)
    store = owner.stack.runtime.store
    portal = int((store.get("projects", owner.project_id) or {})["hubspot_portal_id"])
    owner.stack.hubspot.uninstall(portal, HUBSPOT_CLIENT_ID)
    customer = owner.stack.stripe.create_customer(owner.stack.account, email="b@example.com")
    outcome = _drain(owner, customer["id"], 1800 - 60)
    assert (outcome["status"], outcome["error_code"]) == ("failed", "hubspot_reconnect_needed")
    assert (store.get("projects", owner.project_id) or {})["hubspot_status"] == "reconnect"
    assert "token refresh failed" in caplog.text
    later = _drain(owner, customer["id"], 1800 - 60)
    assert later["error_code"] == "project_not_connected"


def test_a_401_mid_flight_refreshes_once_and_retries(owner: Owner) -> None:
    _connect(owner)
    _route_to_stack_account(owner)
    customer = owner.stack.stripe.create_customer(owner.stack.account, email="c@example.com")
    owner.stack.hubspot.fault("status", count=1, status=401, path_contains="/crm/")
    before = owner.stack.hubspot.token_requests()
    outcome = _drain(owner, customer["id"], 0)
    assert outcome["status"] == "synced"
    assert owner.stack.hubspot.token_requests() - before == 1


def test_the_user_cancelling_at_hubspot_exchanges_nothing(owner: Owner) -> None:
    answer = _connect(owner, deny="1")
    assert answer.status_code == 200 and b"did not connect HubSpot" in answer.data
    assert owner.stack.hubspot.token_requests() == 0


def test_another_accounts_project_cannot_be_connected_or_disconnected(owner: Owner) -> None:
    _, other_project = add_owner(owner.stack, "neighbour@omniroo.test")
    with pytest.raises(NotFound):
        flows.begin("hubspot", owner.deps, owner.session, other_project)
    with pytest.raises(NotFound):
        flows.disconnect("hubspot", owner.deps, owner.session, other_project)
    with pytest.raises(NotFound):
        flows.begin("dropbox", owner.deps, owner.session, owner.project_id)
