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
        (s.deal_stage, s.deal_amount, s.mrr, s.lifetime_value, s.status, s.last_payment)
        for s in shots
    ]
    # One deal throughout (the snapshot takes the only one): the renewal invoice updates it.
    assert table == [
        ("qualifiedtobuy", "777.13", "0.00", "0.00", "trialing", ""),
        ("closedwon", "777.13", "777.13", "777.13", "active", "succeeded"),
        ("closedwon", "2331.39", "2331.39", "777.13", "active", "succeeded"),
        # the customer's own 10% applies to the deal as to the contact: 2331.39 x 0.9
        ("closedwon", "2098.25", "2098.25", "777.13", "active", "succeeded"),
        ("closedwon", "2098.25", "2098.25", "777.13", "past_due", "failed"),
        ("closedwon", "2098.25", "2098.25", "2875.38", "active", "succeeded"),
        ("closedwon", "2098.25", "2098.25", "2775.38", "active", "succeeded"),
        ("closedwon", "2098.25", "2098.25", "2775.38", "active", "disputed"),
        ("closedwon", "2098.25", "2098.25", "1998.25", "active", "succeeded"),
        ("closedlost", "2098.25", "0.00", "1998.25", "canceled", "succeeded"),
    ]
    assert [s.delinquent for s in shots].count("true") == 1
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
