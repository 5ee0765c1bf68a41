"""Closing an account (RELIABILITY row 42): the export first, then every connection revoked at
once, tokens, sessions and credentials gone, every remaining record expiring within closure + 29
days; and after ``purge`` with the clock 29 days ahead nothing of the account is left."""

import json
from typing import Any

from shared import purge, tokens
from shared.accounts import sessions
from shared.accounts.ids import digest
from shared.accounts.service import Accounts
from shared.closure import RETENTION_SECONDS, ClosureDeps, close
from shared.drain.dirty import Key, Taken
from shared.store.base import EXPIRE_AT, FIELDS
from shared.sync import outcomes
from shared.sync.outcomes import Outcome
from tests.functions.console_helpers import PASSWORD, Console, console_fixture  # noqa: F401

EMAIL = "leaving@example.com"
DAY = 86400


class FakeFlows:
    """Stands in for shared.oauth.flows: records disconnects; HubSpot's fails like a network."""

    def __init__(self) -> None:
        self.disconnected: list[tuple[str, str]] = []

    def disconnect(self, provider: str, deps: Any, session: Any, project_id: str) -> None:
        self.disconnected.append((provider, project_id))
        if provider == "hubspot":
            raise ConnectionError("HubSpot is down")


def connect(console: Console, project_id: str, stripe_account: str) -> None:
    """What the OAuth callbacks leave behind: statuses, route, tokens, and some sync history."""
    store = console.store
    doc = store.get("projects", project_id)
    store.put(
        "projects",
        project_id,
        {**doc, "stripe_account": stripe_account, "stripe_status": "connected",
         "hubspot_status": "connected", "hubspot_portal_id": "123"},
    )  # fmt: skip
    store.put("routes", f"{stripe_account}:test", {"project_id": project_id})
    tokens.save(store, console.runtime.envelope, project_id, tokens.HubSpotTokens("at", "rt", 1.0))
    now = console.clock.now()
    taken = Taken(Key(project_id, "customer", "cus_1"), "gen", events=("evt_1",),
                  event_type="customer.created")  # fmt: skip
    outcomes.record_keys(store, [(taken, Outcome("synced", "901"))], now)
    store.put("event_marks", "evt_1", {"state": "done", "project_id": project_id,
                                       EXPIRE_AT: now + 40 * DAY})  # fmt: skip
    store.put("dead_letters", "evt_2", {"project_id": project_id, "event_id": "evt_2",
                                        "at": now, EXPIRE_AT: now + 30 * DAY})  # fmt: skip


def leftovers(console: Console, needles: list[str]) -> list[str]:
    found = []
    for collection in FIELDS:
        for doc_id, doc in console.store.scan(collection):
            text = doc_id + json.dumps(doc, default=str)
            found += [f"{collection}/{doc_id}: {n}" for n in needles if n in text]
    return found


def test_export_then_close_then_purge_leaves_nothing_of_the_account(console: Console) -> None:
    account_id = console.sign_up(EMAIL)
    project_id = console.create_project("Leaving")
    connect(console, project_id, "acct_leaving1")

    export = console.client.get("/account/export")
    assert export.headers["Content-Disposition"].startswith("attachment")
    data = export.get_json()
    assert data["account"]["email"] == EMAIL
    assert [p["id"] for p in data["projects"]] == [project_id]
    assert data["projects"][0]["settings"]["company_matching"] == "off"
    text = export.get_data(as_text=True)
    assert "token" not in text and "password" not in text and "$2b$" not in text

    wrong = console.post("/account/close", {"password": "not it at all"}, "/account")
    assert (
        wrong.status_code == 401 and console.store.get("accounts", account_id)["status"] == "open"
    )
    closed = console.post("/account/close", {"password": PASSWORD}, "/account")
    assert closed.status_code == 200 and "Account closed" in closed.get_data(as_text=True)
    now = console.clock.now()

    assert console.client.get("/projects").status_code == 303  # signed out everywhere
    assert console.store.find("sessions", "account_id", account_id) == []
    assert console.store.get("tokens", project_id) is None
    assert console.store.get("routes", "acct_leaving1:test") is None
    assert console.store.get("credentials", account_id) is None
    assert console.store.get("accounts", account_id)["status"] == "closed"
    audit = [d["action"] for _, d in console.store.find("audit", "account_id", account_id)]
    assert "account_closed" in audit
    needles = [account_id, project_id, EMAIL, digest(EMAIL), "acct_leaving1"]
    for collection in FIELDS:
        for doc_id, doc in console.store.scan(collection):
            if any(n in doc_id + json.dumps(doc, default=str) for n in needles):
                assert doc[EXPIRE_AT] <= now + RETENTION_SECONDS, (collection, doc_id)
    signed_in = console.post("/sign-in", {"email": EMAIL, "password": PASSWORD})
    assert signed_in.status_code == 401

    console.clock.advance(RETENTION_SECONDS - DAY)
    purge.run(console.store, console.clock)
    assert console.store.get("accounts", account_id) is not None  # not yet
    console.clock.advance(DAY)
    purge.run(console.store, console.clock)
    assert leftovers(console, needles) == []


def test_closure_disconnects_every_provider_and_revokes_here_even_when_one_fails(
    console: Console,
) -> None:
    account_id = console.sign_up(EMAIL)
    project_id = console.create_project()
    connect(console, project_id, "acct_leaving2")
    token = console.client.get_cookie("omniroo_session").value
    session = sessions.load(console.store, console.clock, token)
    assert session is not None
    flows = FakeFlows()
    deps = ClosureDeps(console.store, console.clock, Accounts(console.store, console.clock), flows)
    close(deps, session, PASSWORD, "127.0.0.1")
    assert flows.disconnected == [("stripe", project_id), ("hubspot", project_id)]
    project = console.store.get("projects", project_id)
    assert project["stripe_status"] == project["hubspot_status"] == "revoked"
    assert console.store.get("tokens", project_id) is None
    assert console.store.get("routes", "acct_leaving2:test") is None
    assert console.store.get("accounts", account_id)["status"] == "closed"
