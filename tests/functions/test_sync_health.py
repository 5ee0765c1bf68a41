"""Sync health counts equal the outcomes: events through the webhook and the drainer on the
embedded stack, synced, skipped, refused (failed), given up after their retries (dead-lettered)
and replayed, counted per day, and each count matched against the outcome records."""

import time
from typing import Any

from shared.clock import FakeClock
from shared.drain import dirty, drainer
from shared.hubspot.gateway import HubSpotGateway
from shared.mapping.ops import Upsert
from shared.repair import health, replay
from shared.repair.deps import RepairDeps
from tests.plugins.stack import Stack


def _last(stack: Stack) -> dict[str, Any]:
    return stack.stripe.events(stack.account)[-1]


def _deliver(stack: Stack) -> None:
    response = stack.deliver(_last(stack))
    assert response.status_code == 200 and response.get_json()["outcome"] == "accepted"


def _counts(stack: Stack, until: float | None = None) -> dict[str, int]:
    """Summed over every day from now to ``until``: the drainer's clock runs hours ahead of
    the webhook's, so late in a UTC day its outcomes fall on the next one."""
    now = time.time()
    totals = dict.fromkeys(health.COUNTERS, 0)
    for day in health.days(stack.runtime.store, stack.project_id, now, until or now):
        for name, count in day.counts.items():
            totals[name] += count
    return totals


def _by_status(stack: Stack) -> dict[str, int]:
    found: dict[str, int] = {}
    for doc in stack.outcomes().values():
        found[doc["status"]] = found.get(doc["status"], 0) + max(len(doc.get("events") or []), 1)
    return found


def test_health_counts_equal_the_outcomes(stack: Stack) -> None:
    store = stack.runtime.store
    project = store.get("projects", stack.project_id) or {}
    store.put(
        "projects", stack.project_id, {**project, "settings": {"customers_without_email": "skip"}}
    )
    HubSpotGateway(stack.token, stack.clock, stack.hubspot.base_url).upsert(
        [
            Upsert(
                "contacts",
                "email",
                "taken@example.com",
                {"email": "taken@example.com", "stripe_customer_id": "cus_other"},
            )
        ]
    )
    for n in range(3):
        stack.stripe.create_customer(stack.account, email=f"h{n}@example.com")
        _deliver(stack)
    stack.stripe.create_customer(stack.account)  # no email: skipped, per the setting
    _deliver(stack)
    stack.stripe.create_customer(stack.account, email="taken@example.com")  # refused: failed
    _deliver(stack)
    stack.drain()
    assert _counts(stack) == {
        "received": 5,
        "synced": 3,
        "skipped": 1,
        "failed": 1,
        "dead_lettered": 0,
        "replayed": 0,
    }
    assert _by_status(stack) == {"synced": 3, "skipped": 1, "failed": 1}

    # HubSpot down for good: the next event's key is given up after its attempts.
    stack.runtime.drainers.close()
    stack.hubspot.fault("status", count=10_000, status=503)
    stack.stripe.create_customer(stack.account, email="down@example.com")
    _deliver(stack)
    clock = FakeClock(time.time())
    deps = drainer.DrainDeps(**{**vars(stack.runtime.drain), "clock": clock, "budgets": {}})
    for _ in range(dirty.MAX_ATTEMPTS):
        drainer.drain(stack.project_id, deps)
        clock.advance(dirty.BACKOFF_CAP)
    assert stack.dirty() == []
    counts = _counts(stack, clock.now())
    assert (counts["received"], counts["dead_lettered"], counts["failed"]) == (6, 1, 1)
    assert _by_status(stack) == {"synced": 3, "skipped": 1, "failed": 2}  # given up: failed

    # HubSpot is back: replaying every failure writes the given-up one; the refused one fails again.
    stack.hubspot.clear_faults()
    repair = RepairDeps(
        store, stack.runtime.envelope, deps.stripe, deps.hubspot, clock, calls_per_window=100
    )
    assert replay.replay_all(repair, stack.project_id).replayed == 2
    drainer.drain(stack.project_id, deps)
    assert _counts(stack, clock.now()) == {
        "received": 6,
        "synced": 3 + 1,
        "skipped": 1,
        "failed": 1 + 1,  # refused before the replay, and again after it
        "dead_lettered": 1,
        "replayed": 2,
    }
    assert _by_status(stack) == {"synced": 4, "skipped": 1, "failed": 1}
