"""``shared.connections.cut``: the one way a connection ends, whoever ends it (the owner, the
Stripe account's deauthorization, HubSpot's uninstall). On a real SQLite store."""

import json
from pathlib import Path

import pytest

from shared import audit, connections, logs, tokens
from shared.clock import FakeClock
from shared.crypto.envelope import Envelope
from shared.crypto.local_keys import LocalKeyFile
from shared.store.base import Doc, Store
from shared.store.sqlite import SqliteStore

ACCOUNT = "acct_1Cut"
PROJECT = "prj_cut"
OWNER = "acc_owner"


@pytest.fixture(name="store")
def store_fixture(tmp_path: Path) -> Store:
    store = SqliteStore(tmp_path / "omniroo.db")
    envelope = Envelope(LocalKeyFile(tmp_path / "master.key"))
    store.put(
        "projects",
        PROJECT,
        {
            "account_id": OWNER,
            "stripe_account": ACCOUNT,
            "livemode": False,
            "stripe_status": "connected",
            "hubspot_portal_id": "42",
            "hubspot_status": "connected",
        },
    )
    store.put("routes", connections.route_key(ACCOUNT, False), {"project_id": PROJECT})
    tokens.save(store, envelope, PROJECT, tokens.HubSpotTokens("access", "refresh", 1.0))
    return store


def _project(store: Store) -> Doc:
    return store.get("projects", PROJECT) or {}


def _trail(store: Store) -> list[tuple[str, str, str]]:
    return [(e["action"], e["provider"], e.get("reason", "")) for e in audit.trail(store, OWNER)]


def test_the_owners_stripe_disconnect_drops_the_route_and_keeps_hubspot(store: Store) -> None:
    after = connections.cut(store, FakeClock(), PROJECT, "stripe")
    assert after is not None and after == _project(store)
    assert store.get("routes", f"{ACCOUNT}:test") is None
    assert (after["stripe_status"], after["stripe_account"]) == ("disconnected", "")
    assert after["hubspot_status"] == "connected"
    assert store.get("tokens", PROJECT) is not None
    assert _trail(store) == [("disconnect", "stripe", "")]


def test_the_owners_hubspot_disconnect_deletes_the_tokens_and_keeps_the_route(
    store: Store,
) -> None:
    connections.cut(store, FakeClock(), PROJECT, "hubspot")
    assert store.get("tokens", PROJECT) is None
    assert store.get("routes", f"{ACCOUNT}:test") == {"project_id": PROJECT}
    assert (_project(store)["hubspot_status"], _project(store)["stripe_status"]) == (
        "disconnected",
        "connected",
    )


def test_a_deauthorization_revokes_stripe_drops_route_and_tokens_and_alerts(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    logs.setup()
    connections.cut(store, FakeClock(), PROJECT, "stripe", reason="deauthorized")
    project = _project(store)
    assert project["stripe_status"] == "revoked"
    assert project["stripe_account"] == ACCOUNT  # the page can still say which account left
    assert store.get("routes", f"{ACCOUNT}:test") is None
    assert store.get("tokens", PROJECT) is None
    assert _trail(store) == [("disconnect", "stripe", "deauthorized")]
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {"message": "connection revoked", "alert": True, "provider": "stripe"}.items() <= (
        lines[-1].items()
    )


def test_an_uninstall_revokes_hubspot_and_keeps_the_route(store: Store) -> None:
    connections.cut(store, FakeClock(), PROJECT, "hubspot", reason="uninstalled")
    assert _project(store)["hubspot_status"] == "revoked"
    assert store.get("tokens", PROJECT) is None
    assert store.get("routes", f"{ACCOUNT}:test") == {"project_id": PROJECT}
    assert _trail(store) == [("disconnect", "hubspot", "uninstalled")]


def test_a_route_another_project_owns_by_now_stays(store: Store) -> None:
    store.put("routes", f"{ACCOUNT}:test", {"project_id": "prj_other"})
    connections.cut(store, FakeClock(), PROJECT, "stripe", reason="deauthorized")
    assert store.get("routes", f"{ACCOUNT}:test") == {"project_id": "prj_other"}


def test_a_missing_project_is_left_alone(store: Store) -> None:
    assert connections.cut(store, FakeClock(), "prj_gone", "stripe", reason="deauthorized") is None
    assert store.get("routes", f"{ACCOUNT}:test") == {"project_id": PROJECT}
    assert _trail(store) == []
