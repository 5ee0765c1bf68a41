"""The security review's console findings (issue 13), each reproduced as the review did it:

- 40 posts to ``/contact`` in a burst made 40 stored reports (kept 180 days) and 40 alert lines;
- deeply nested settings JSON raised ``RecursionError``: a 500 with a traceback;
- the session of a closed account kept working.
"""

import json
from urllib.parse import urlencode

import pytest

from shared import logs
from shared.accounts import sessions
from shared.accounts.throttle import CONTACT
from tests.functions.console_helpers import ORIGIN, Console, console_fixture  # noqa: F401

BURST = 40


def _alerts(out: str, text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines() if text in line]


def test_a_burst_of_contact_posts_from_one_address_is_throttled(
    console: Console, capsys: pytest.CaptureFixture[str]
) -> None:
    logs.setup()
    capsys.readouterr()
    form = {"csrf_token": console.csrf("/contact"), "email": "eve@example.org", "message": "hi"}
    answers = [
        console.client.post("/contact", data=form, headers={"Origin": ORIGIN}) for _ in range(BURST)
    ]
    accepted = [a for a in answers if a.status_code == 200]
    refused = [a for a in answers if a.status_code == 429]
    assert len(accepted) + len(refused) == BURST
    # The free ones, and the one whose count starts the first wait.
    assert len(accepted) == CONTACT.free + 1, [a.status_code for a in answers]
    assert "Try again in" in refused[0].get_data(as_text=True)
    assert int(refused[0].headers["Retry-After"]) >= 1
    assert len(list(console.store.scan("reports"))) == len(accepted)
    assert len(_alerts(capsys.readouterr().out, "security report received")) == len(accepted)

    # Another address is not held up by this one, and this one may write again a day later.
    elsewhere = console.client.post(
        "/contact", data=form, headers={"Origin": ORIGIN}, environ_base={"REMOTE_ADDR": "10.9.9.9"}
    )
    assert elsewhere.status_code == 200
    console.clock.advance(25 * 3600)
    again = console.client.post("/contact", data=form, headers={"Origin": ORIGIN})
    assert again.status_code == 200


@pytest.mark.parametrize(
    "text",
    ["[" * 5_000, '{"a":' * 3_000 + "1" + "}" * 3_000, '{"objects": ' + "[" * 30 + "]" * 30 + "}"],
    ids=["open-brackets", "nested-objects", "nested-too-deep"],
)
def test_deeply_nested_settings_json_is_a_clear_400(console: Console, text: str) -> None:
    console.sign_up("nested@example.com")
    project_id = console.create_project()
    before = console.store.get("projects", project_id)
    path = f"/projects/{project_id}"
    answer = console.post(f"{path}/settings", {"settings": text}, csrf_from=path)
    assert answer.status_code == 400
    body = answer.get_data(as_text=True)
    assert "nested too deeply" in body and "Traceback" not in body
    assert console.store.get("projects", project_id) == before


def test_settings_json_over_the_size_limit_is_a_clear_400(console: Console) -> None:
    console.sign_up("large@example.com")
    project_id = console.create_project()
    path = f"/projects/{project_id}"
    # Under the form's own 64 KiB cap once encoded, over the settings' 32 KiB.
    text = json.dumps({"metadata_mappings": {f"k{i}": "x" * 200 for i in range(170)}})
    assert len(text) > 32 * 1024 and len(urlencode({"settings": text})) < 60 * 1024
    answer = console.post(f"{path}/settings", {"settings": text}, csrf_from=path)
    assert answer.status_code == 400 and "too large" in answer.get_data(as_text=True)
    assert console.store.get("projects", project_id)["settings"]["metadata_mappings"] == {}


def test_the_session_of_a_closed_account_is_refused(console: Console) -> None:
    account_id = console.sign_up("closing@example.com")
    assert console.client.get("/projects").status_code == 200
    token = console.client.get_cookie(sessions.LOCAL_COOKIE_NAME).value
    # A session that outlived the closure (one started while the account was being closed).
    account = console.store.get("accounts", account_id)
    console.store.put("accounts", account_id, {**account, "status": "closed"})
    answer = console.client.get("/projects")
    assert answer.status_code == 303 and answer.headers["Location"] == "/sign-in"
    assert console.client.get("/account").status_code == 303
    refused = console.client.post(
        "/projects", data={"name": "x", "mode": "test"}, headers={"Origin": ORIGIN}
    )
    assert refused.status_code in (303, 403)
    assert console.store.find("projects", "name", "x") == []
    assert sessions.load(console.store, console.clock, token) is None  # ended, not just ignored
