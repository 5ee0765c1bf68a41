"""Isolation (RELIABILITY row 35): every console route that takes an id answers 404 to another
account, reads nothing of the record and changes nothing. The list of routes is read from the
app itself, so a new id route without a case here fails the test."""

import json

from shared.console.app import ConsoleDeps, make_app
from shared.repair import backfill
from tests.functions.console_helpers import ORIGIN, Console, console_fixture, new_client  # noqa: F401

CASES = {
    ("GET", "/projects/<project_id>"): {},
    ("GET", "/projects/<project_id>/settings"): {},
    ("POST", "/projects/<project_id>/settings"): {"settings": json.dumps({"objects": []})},
    ("POST", "/projects/<project_id>/connect/<provider>"): {},
    ("POST", "/projects/<project_id>/disconnect/<provider>"): {},
    ("GET", "/projects/<project_id>/health"): {},
    ("GET", "/projects/<project_id>/failures"): {},
    ("GET", "/projects/<project_id>/replay"): {"code": "hubspot_validation_error"},
    ("POST", "/projects/<project_id>/replay"): {"code": "hubspot_validation_error"},
    ("GET", "/projects/<project_id>/backfill"): {},
    ("POST", "/projects/<project_id>/backfill/preview"): {"kinds": "customers"},
    ("POST", "/projects/<project_id>/backfill/start"): {"kinds": "customers"},
    ("POST", "/projects/<project_id>/backfill/cancel"): {},
}


def id_routes(console: Console) -> set[tuple[str, str]]:
    deps = ConsoleDeps(console.store, console.clock, None, ORIGIN, True)  # type: ignore[arg-type]
    return {
        (method, rule.rule)
        for rule in make_app(deps).url_map.iter_rules()
        if "<" in rule.rule
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }


def test_another_accounts_project_is_404_on_every_id_route(console: Console) -> None:
    console.sign_up("owner@example.com")
    project_id = console.create_project("Owner's")
    # Something for every route to act on, so only the ownership check can answer 404.
    failed = {"project_id": project_id, "event_id": "evt_owner", "type": "customer.updated",
              "stripe_id": "cus_owner", "status": "failed", "hubspot_id": "",
              "error_code": "hubspot_validation_error", "at": console.clock.now()}  # fmt: skip
    console.store.put("outcomes", "evt_owner", failed)
    backfill.start(console.store, console.clock, project_id, ["customers"])
    before = console.store.get("projects", project_id)
    running = console.store.get("backfills", project_id)
    routes = id_routes(console)
    assert routes == set(CASES), "add a cross-account case for every route that takes an id"

    intruder = Console(new_client(), console.runtime, console.clock)
    intruder.sign_up("intruder@example.com")
    own_project = intruder.create_project("Intruder's")
    for (method, rule), data in CASES.items():
        for provider in ("stripe", "hubspot"):
            path = rule.replace("<project_id>", project_id).replace("<provider>", provider)
            if method == "GET":
                answer = intruder.client.get(path, query_string=data)
            else:
                answer = intruder.post(path, data, csrf_from=f"/projects/{own_project}")
            assert answer.status_code == 404, (method, path, answer.status_code)
            assert "Owner" not in answer.get_data(as_text=True)
    for missing in ("prj_nothere", "../accounts", "a" * 100):
        assert intruder.client.get(f"/projects/{missing}").status_code == 404
    assert console.store.get("projects", project_id) == before
    assert console.store.get("outcomes", "evt_owner") == failed
    assert console.store.get("backfills", project_id) == running
    assert not console.store.find("dirty_keys", "project_id", project_id)
    listing = intruder.client.get("/projects").get_data(as_text=True)
    assert project_id not in listing and own_project in listing
