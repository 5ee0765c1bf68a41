"""The security page's disclosure and incident promises: the contact form stores a report for
the operator and raises an alert that names the report id only; security.txt (RFC 9116) points
at it; /security renders the promises; ``incident`` lists the accounts to notify."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from shared import audit, logs
from tests.functions.console_helpers import ORIGIN, Console, console_fixture  # noqa: F401
from tooling import cli

SECRET_DETAIL = "the admin endpoint leaks tokens when you add ?debug=1"


def test_a_security_report_is_stored_and_alerted_by_id_only(
    console: Console, capsys: pytest.CaptureFixture[str]
) -> None:
    logs.setup()
    capsys.readouterr()
    answer = console.post(
        "/contact", {"name": "Eve", "email": "eve@example.org", "message": SECRET_DETAIL}
    )
    assert answer.status_code == 200 and "Thank you" in answer.get_data(as_text=True)
    [(report_id, report)] = list(console.store.scan("reports"))
    assert report["message"] == SECRET_DETAIL and report["email"] == "eve@example.org"
    assert report["expire_at"] > console.clock.now()
    out = capsys.readouterr().out
    [alert] = [json.loads(line) for line in out.splitlines() if "security report" in line]
    assert alert["report_id"] == report_id and alert["alert"] is True
    assert "debug" not in out and "eve@example.org" not in out


def test_a_report_without_an_email_or_message_is_refused_naming_the_field(
    console: Console,
) -> None:
    answer = console.post("/contact", {"email": "nope", "message": "x"})
    assert answer.status_code == 400 and "email:" in answer.get_data(as_text=True)
    answer = console.post("/contact", {"email": "eve@example.org", "message": " "})
    assert answer.status_code == 400 and "message:" in answer.get_data(as_text=True)
    forged = console.client.post(
        "/contact", data={"email": "eve@example.org", "message": "hi"}, headers={"Origin": ORIGIN}
    )
    assert forged.status_code == 403
    assert list(console.store.scan("reports")) == []


def test_security_txt_and_the_security_page(console: Console) -> None:
    answer = console.client.get("/.well-known/security.txt")
    assert answer.headers["Content-Type"].startswith("text/plain")
    fields = dict(
        line.split(": ", 1) for line in answer.get_data(as_text=True).splitlines() if line
    )
    assert fields["Contact"] == f"{ORIGIN}/contact"
    assert fields["Policy"] == f"{ORIGIN}/security"
    assert fields["Preferred-Languages"] == "en"
    expires = datetime.strptime(fields["Expires"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    now = datetime.fromtimestamp(console.clock.now(), UTC)
    assert now < expires <= now + timedelta(days=365)
    page = console.client.get("/security").get_data(as_text=True)
    assert "bcrypt" in page and "30 days" in page and 'href="/contact"' in page


def test_incident_lists_accounts_active_in_the_window_with_their_email(
    console: Console, capsys: pytest.CaptureFixture[str]
) -> None:
    store, clock = console.store, console.clock
    start = clock.now()
    store.put(
        "accounts", "acc_a", {"email": "a@example.com", "created_at": start, "status": "open"}
    )
    store.put(
        "accounts", "acc_b", {"email": "b@example.com", "created_at": start, "status": "open"}
    )
    audit.record(store, clock, "acc_a", "sign_in", client="10.0.0.1")
    clock.advance(7200)
    audit.record(store, clock, "acc_b", "sign_in", client="10.0.0.2")

    def iso(seconds: float) -> str:
        return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    capsys.readouterr()
    assert cli.main(["incident", "--since", iso(start - 60), "--until", iso(start + 3600)]) == 0
    assert capsys.readouterr().out.strip() == "acc_a\ta@example.com"
    assert cli.main(["incident", "--since", iso(start + 3600), "--until", iso(start)]) == 2
    with pytest.raises(SystemExit):
        cli.main(["incident", "--since", "2026-11-01T00:00:00", "--until", iso(start)])
