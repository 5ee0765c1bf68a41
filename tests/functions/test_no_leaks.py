"""Rows 40 and 41 on the embedded path: after the demo scenario, with sentinel values, no
Stripe customer value or secret is in the store, in a queued message or in the logs."""

import json
from typing import Any

import pytest

from tests.leaks import dump, hits, store_violations
from tests.plugins.stack import PLATFORM_KEY, SECRETS, Stack
from tooling.demo import scenario


def test_scenario_leaves_only_ids_behind(
    stack: Stack, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    queued = stack.record_wakeups(monkeypatch)

    def deliver(event: dict[str, Any]) -> str:
        response = stack.deliver(event)
        stack.drain()
        return str(response.get_json()["outcome"])

    scenario.run(stack.stripe, stack.account, deliver)
    assert scenario.summary(stack.contacts()) == scenario.EXPECTED

    collections = {
        name: list(stack.runtime.store.scan(name))
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
    }
    assert store_violations(collections) == []
    forbidden = [*scenario.sentinels(), stack.token, PLATFORM_KEY, *SECRETS]
    assert hits(dump(collections), forbidden) == []
    assert len(queued) == 7
    assert hits(json.dumps([m.encode().decode() for m in queued]), forbidden) == []
    db = (stack.settings.data_dir / "omniroo.db").read_bytes()
    assert hits(db.decode("latin-1"), forbidden) == []
    out, err = capfd.readouterr()
    assert "push done" in out
    assert hits(out + err, forbidden) == []
