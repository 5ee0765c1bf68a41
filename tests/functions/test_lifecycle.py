"""A subscription's whole life through the path, and a leak scan of billing data (amounts, plan
names, emails) in the store, the queued messages and the logs."""

import json
from typing import Any

import pytest

from tests.leaks import hits
from tests.plugins.stack import Stack
from tooling.demo import lifecycle


def test_lifecycle_moves_the_deal_and_leaves_no_billing_data_behind(
    stack: Stack, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    queued = stack.record_wakeups(monkeypatch)

    def deliver(event: dict[str, Any]) -> None:
        assert stack.deliver(event).status_code == 200

    def look(step: str) -> lifecycle.Snapshot:
        stack.drain()
        return lifecycle.snapshot(stack.hubspot, stack.portal_id, step)

    shots = lifecycle.run(stack.stripe, stack.account, deliver, look)
    table = [
        (s.deal_stage, s.deal_amount, s.mrr, s.lifetime_value, s.status, s.delinquent)
        for s in shots
    ]
    assert table == [
        ("qualifiedtobuy", "777.13", "0.00", "0.00", "trialing", "false"),
        ("closedwon", "777.13", "777.13", "777.13", "active", "false"),
        ("closedwon", "2331.39", "2331.39", "777.13", "active", "false"),
        ("closedwon", "2331.39", "2331.39", "777.13", "past_due", "true"),
        ("closedwon", "2331.39", "2331.39", "3108.52", "active", "false"),
        ("closedlost", "2331.39", "0.00", "3108.52", "canceled", "false"),
    ]
    assert [o for o in stack.outcomes().values() if o["status"] == "failed"] == []

    strings = [
        v
        for name in (
            "accounts",
            "projects",
            "routes",
            "tokens",
            "event_marks",
            "dirty_keys",
            "drain_leases",
            "outcomes",
            "dead_letters",
        )
        for _, doc in stack.runtime.store.scan(name)
        for v in _strings(doc)
    ]
    assert hits("\n".join(strings), lifecycle.sentinels()) == []
    assert hits(json.dumps([m.encode().decode() for m in queued]), lifecycle.sentinels()) == []
    out, err = capfd.readouterr()
    assert hits(out + err, lifecycle.sentinels()) == []


def _strings(value: Any) -> list[str]:
    """Every string inside a document (numbers are timestamps, which may contain any digits)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []
