"""Structured logs: one JSON entry per line, secrets and emails masked (rows 39 and 40)."""

import json

import pytest

from shared import logs


@pytest.fixture(autouse=True)
def _json_logs() -> None:
    logs.setup()


def entries(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines()]


def test_each_entry_is_one_json_line(capsys: pytest.CaptureFixture[str]) -> None:
    logs.info('hello\r\n{"severity": "ERROR"}', reason="a\nb")
    [entry] = entries(capsys.readouterr().out)
    assert entry["severity"] == "INFO" and entry["reason"] == "a\nb"


@pytest.mark.parametrize(
    "secret",
    [
        "sk_live_51HxAbCdEf",
        "sk_test_abc123",
        "rk_live_xyz",
        "whsec_abcdef_123",
        "pat-na1-11111111-2222-3333-4444-555555555555",
        "Bearer eyJhbGciOi.x.y",
        "ada@example.com",
    ],
)
def test_secrets_and_emails_are_masked(secret: str, capsys: pytest.CaptureFixture[str]) -> None:
    logs.warning(f"failed with {secret}", detail=secret, items=[secret])
    out = capsys.readouterr().out
    assert secret not in out
    assert "[redacted]" in out


def test_alerts_are_marked_for_log_based_alerting(capsys: pytest.CaptureFixture[str]) -> None:
    logs.alert("dead letter", event_id="evt_1")
    [entry] = entries(capsys.readouterr().out)
    assert entry == {
        "alert": True,
        "event_id": "evt_1",
        "message": "dead letter",
        "severity": "ERROR",
    }
