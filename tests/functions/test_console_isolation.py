"""Isolation (RELIABILITY row 35): every console route that takes an id answers 404 to another
account, reads nothing of the record and changes nothing. The list of routes is read from the
app itself, so a new id route without a case here fails the test."""

import json

from shared.console.app import ConsoleDeps, make_app
from tests.functions.console_helpers import ORIGIN, Console, console_fixture, new_client  # noqa: F401

CASES = {
    ("GET", "/projects/<project_id>"): {},
    ("GET", "/projects/<project_id>/settings"): {},
    ("POST", "/projects/<project_id>/settings"): {"settings": json.dumps({"objects": []})},
    ("POST", "/projects/<project_id>/connect/<provider>"): {},
    ("POST", "/projects/<project_id>/disconnect/<provider>"): {},
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
    before = console.store.get("projects", project_id)
    routes = id_routes(console)
    assert routes == set(CASES), "add a cross-account case for every route that takes an id"

    intruder = Console(new_client(), console.runtime, console.clock)
    intruder.sign_up("intruder@example.com")
    own_project = intruder.create_project("Intruder's")
    for (method, rule), data in CASES.items():
        for provider in ("stripe", "hubspot"):
            path = rule.replace("<project_id>", project_id).replace("<provider>", provider)
            if method == "GET":
                answer = intruder.client.get(path)
            else:
                answer = intruder.post(path, data, csrf_from=f"/projects/{own_project}")
            assert answer.status_code == 404, (method, path, answer.status_code)
            assert "Owner" not in answer.get_data(as_text=True)
    for missing in ("prj_nothere", "../accounts", "a" * 100):
        assert intruder.client.get(f"/projects/{missing}").status_code == 404
    assert console.store.get("projects", project_id) == before
    listing = intruder.client.get("/projects").get_data(as_text=True)
    assert project_id not in listing and own_project in listing
