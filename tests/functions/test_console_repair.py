"""The console's health, failures, replay and backfill pages through the ``console`` function, on
the embedded stack: a backfill previewed and started from the page runs in the console's own
thread, the HubSpot double refuses a batch, the failures show with what to do, a confirmed replay
writes them, and the health page counts all of it. Pages and logs carry ids and counts only."""

import html
import re
from typing import Any

import pytest

from shared.accounts import sessions
from shared.repair import backfill, health
from tests.functions.console_helpers import ORIGIN
from tests.plugins.stack import Stack, function_client

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
EMAILS = ("ada@customer.example", "grace@customer.example", "alan@customer.example")


class Pages:
    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        store = stack.runtime.store
        [(owner, _)] = store.find("accounts", "email", "owner@omniroo.test")
        session = sessions.start(store, stack.clock, owner)
        self.client = function_client("console")
        self.client.set_cookie(sessions.LOCAL_COOKIE_NAME, session.token)
        self.base = f"/projects/{stack.project_id}"

    def get(self, path: str, status: int = 200) -> str:
        answer = self.client.get(self.base + path)
        assert answer.status_code == status, answer.get_data(as_text=True)
        return html.unescape(answer.get_data(as_text=True))

    def post(self, path: str, fields: dict[str, Any], csrf: bool = True) -> Any:
        token = _CSRF.search(self.get("/health")) if csrf else None
        data = {**fields, **({"csrf_token": token.group(1)} if token else {})}
        return self.client.post(self.base + path, data=data, headers={"Origin": ORIGIN})


@pytest.fixture
def pages(stack: Stack) -> Pages:
    return Pages(stack)


def customers(stack: Stack) -> list[str]:
    return [
        stack.stripe.create_customer(stack.account, email=email, name="Someone")["id"]
        for email in EMAILS
    ]


def test_backfill_a_refusal_a_confirmed_replay_and_the_health_page(
    pages: Pages, stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = customers(stack)
    assert 'name="kinds" value="customers" checked' in pages.get("/backfill")

    previewed = pages.post("/backfill/preview", {"kinds": ["customers"]})
    assert previewed.status_code == 200
    text = html.unescape(previewed.get_data(as_text=True))
    assert re.search(r"<th scope=\"row\">contacts</th><td class=\"number\">3</td>", text), text
    assert 'name="estimate_customers" value="3"' in text
    assert stack.contacts() == []  # the preview wrote nothing

    # HubSpot refuses every contact (the batch, then each one alone) until the fault is cleared.
    stack.hubspot.fault("status", count=None, status=400, path_contains="/objects/contacts")
    started = pages.post("/backfill/start", {"kinds": "customers", "estimate_customers": "3"})
    assert started.status_code == 303
    assert stack.runtime.backfills().join(stack.project_id, timeout=30)
    stack.drain()
    done = pages.get("/backfill")
    assert "Backfill finished" in done and '<progress id="backfill-bar" value="3" max="3">' in done
    assert 'http-equiv="refresh"' not in done

    failing = pages.get("/failures")
    codes = set(re.findall(r'<code class="id" title="[^"]*">([a-z_0-9]+)</code>', failing))
    assert len(codes) == 1, failing
    [code] = codes
    assert all(i in failing for i in ids)
    shown = pages.get("/health")
    assert f'<code class="id">{code}</code></td><td class="number">3</td>' in shown
    assert "HubSpot refused a value Omniroo sent" in shown  # the plain-language line

    stack.hubspot.clear_faults()
    confirm = pages.get(f"/replay?code={code}")
    assert "Replay 3 failures?" in confirm and 'name="code" value="' + code + '"' in confirm
    assert stack.runtime.store.get("outcomes", next(iter(stack.outcomes()))) is not None
    answer = pages.post("/replay", {"code": code})
    assert answer.status_code == 303
    assert "replayed=3" in answer.headers["Location"]
    stack.drain()
    after = pages.get("/failures?status=all&replayed=3")
    assert "3 failures replayed." in after
    assert after.count(">synced</span>") == 3 and ">failed</span>" not in after
    assert len(stack.contacts()) == 3

    shown = pages.get("/health")
    today = health.day_of(stack.clock.now())
    row = re.search(rf"<tr><th scope=\"row\">{today}</th>(.*?)</tr>", shown)
    assert row, shown
    cells = re.findall(r'<td class="number">(\d+)</td>', row.group(1))
    # received, synced, failed, dead-lettered, skipped, replayed: a backfill receives no event
    assert list(map(int, cells)) == [0, 3, 3, 0, 0, 3]
    assert re.search(r'<rect class="series-failed" [^>]*><title>[^<]*: 3 failed</title>', shown)
    assert "No failures." in shown and "100 %" in shown

    out = capsys.readouterr().out + capsys.readouterr().err
    every_page = done + failing + confirm + after + shown
    for email in EMAILS:
        assert email not in out and email not in every_page
    assert "Someone" not in every_page


def test_filters_take_only_their_fixed_values(pages: Pages, stack: Stack) -> None:
    assert "No failures." in pages.get("/failures")
    assert "Nothing here." in pages.get("/failures?status=synced&type=subscription")
    for query in ("status=bogus", "type=<script>", "status=failed&type=../x"):
        refused = pages.get(f"/failures?{query}", 400)
        assert "<script>" not in refused
        assert "one of" in refused


def test_replay_needs_one_choice_a_real_failure_and_the_csrf_token(
    pages: Pages, stack: Stack
) -> None:
    pages.get("/replay", 400)
    pages.get("/replay?code=a&failure=b", 400)
    pages.get("/replay?code=hubspot_validation_error", 404)
    assert pages.post("/replay", {"code": "x"}, csrf=False).status_code == 403


def test_a_running_backfill_refreshes_itself_until_cancelled(
    pages: Pages, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A backfill nobody steps, so it stays running while the page is looked at.
    monkeypatch.setattr(stack.runtime.backfills(), "resume", lambda project_id: None)
    backfill.start(stack.runtime.store, stack.clock, stack.project_id, ["customers"], None)
    running = pages.get("/backfill")
    # A script of our own origin reloads it; without scripts, the <noscript> meta refresh does.
    assert 'data-refresh-seconds="2"' in running and 'src="/assets/refresh.js"' in running
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in running
    assert "Stop updating automatically" in running and "Cancel the backfill" in running
    assert 'id="preview-button"' not in running  # no second start while one runs
    quiet = pages.get("/backfill?auto=0")
    assert "refresh" not in quiet.split("<body")[0] and "<progress" in quiet
    assert "data-refresh-seconds" not in quiet
    busy = pages.post("/backfill/start", {"kinds": "customers"})
    assert busy.status_code == 409
    assert pages.post("/backfill/cancel", {}).status_code == 303
    cancelled = pages.get("/backfill")
    assert "Backfill cancelled" in cancelled and "data-refresh-seconds" not in cancelled
    assert 'http-equiv="refresh"' not in cancelled
    assert pages.post("/backfill/start", {"kinds": "everything"}).status_code == 400


def test_a_project_not_connected_is_told_to_connect_first(pages: Pages, stack: Stack) -> None:
    store = stack.runtime.store
    project = store.get("projects", stack.project_id)
    store.put("projects", stack.project_id, {**project, "hubspot_status": "revoked"})
    assert "Connect Stripe and HubSpot first." in pages.get("/backfill")
    assert pages.post("/backfill/preview", {"kinds": "customers"}).status_code == 400
    assert pages.post("/backfill/start", {"kinds": "customers"}).status_code == 400
