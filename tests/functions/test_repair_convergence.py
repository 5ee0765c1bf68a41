"""History and repair end to end on the embedded stack (webhook, dirty keys, issue 10's drainer,
both doubles): after each failure HubSpot ends equal to Stripe.

- RELIABILITY row 30: the endpoint is down longer than Stripe retries (and the scheduler with
  it); reconcile lists what Stripe could not deliver and the drainer writes it; Stripe's late
  retries are then duplicates;
- reconcile repairs drift made by hand in the HubSpot double;
- replay after a HubSpot outage that outlasted every retry converges.
"""

import time
from collections.abc import Iterator
from typing import Any

import pytest

from shared.clock import FakeClock
from shared.drain import dirty, drainer
from shared.hubspot.gateway import HubSpotGateway
from shared.repair import reconcile, replay
from shared.repair.deps import RepairDeps
from tests.plugins.stack import Stack

DAY = 24 * 3600


@pytest.fixture
def manual(stack: Stack) -> Iterator[dict[str, Any]]:
    """The stack's drainer threads stopped: the test drains, on a clock it moves."""
    stack.runtime.drainers.close()
    clock = FakeClock(time.time())
    deps = drainer.DrainDeps(**{**vars(stack.runtime.drain), "clock": clock, "budgets": {}})
    repair = RepairDeps(
        stack.runtime.store, stack.runtime.envelope, deps.stripe, deps.hubspot, clock
    )
    yield {"clock": clock, "drain": deps, "repair": repair}


def _drain(stack: Stack, manual: dict[str, Any]) -> drainer.Report:
    """Drain now: the webhook marks keys on the real clock, so the test's clock catches up."""
    manual["clock"].t = max(manual["clock"].t, time.time())
    return drainer.drain(stack.project_id, manual["drain"])


def _set(stack: Stack, **settings: Any) -> None:
    project = stack.runtime.store.get("projects", stack.project_id) or {}
    stack.runtime.store.put("projects", stack.project_id, {**project, "settings": settings})


def _contacts(stack: Stack) -> dict[str, dict[str, Any]]:
    return {c["properties"]["stripe_customer_id"]: c["properties"] for c in stack.contacts()}


def test_row_30_an_outage_longer_than_stripes_retries_is_reconciled(
    stack: Stack, manual: dict[str, Any]
) -> None:
    clock = manual["clock"]
    reconcile.run(manual["repair"], stack.project_id)  # the last run before the outage
    customers = []
    for n in range(3):
        customers.append(
            stack.stripe.create_customer(
                stack.account, email=f"down{n}@example.com", name=f"Down {n}"
            )["id"]
        )
    stack.stripe.update_customer(stack.account, customers[0], name="Renamed Later")
    for event in stack.stripe.events(stack.account):  # every attempt met a dead endpoint
        stack.stripe.record_delivery(stack.account, event["id"], 503)
    stack.stripe.advance(5 * DAY)  # Stripe gave up after 3 days; the scheduler was down too
    clock.t = stack.stripe.now()
    report = reconcile.run(manual["repair"], stack.project_id)
    assert report.counts["undelivered"] == report.counts["accepted"] == 4
    drainer.drain(stack.project_id, manual["drain"])
    held = _contacts(stack)
    assert sorted(held) == sorted(customers)
    assert held[customers[0]]["firstname"] == "Renamed"
    # A late delivery of one of those events is a duplicate now: answered 2xx, nothing redone.
    late = stack.stripe.events(stack.account)[0]
    response = stack.deliver(late)
    assert (response.status_code, response.get_json()["outcome"]) == (200, "duplicate")
    assert stack.dirty() == []


def test_reconcile_repairs_drift_made_by_hand_in_hubspot(
    stack: Stack, manual: dict[str, Any]
) -> None:
    customers = [
        stack.stripe.create_customer(stack.account, email=f"d{n}@example.com", name=f"Dee {n}")[
            "id"
        ]
        for n in range(3)
    ]
    for event in stack.stripe.events(stack.account):
        assert stack.deliver(event).status_code == 200
        stack.stripe.record_delivery(stack.account, event["id"], 200)
    _drain(stack, manual)
    hubspot = HubSpotGateway(stack.token, manual["clock"], stack.hubspot.base_url)
    edited = _contacts_ids(stack)[customers[1]]
    hubspot.update("contacts", edited, {"firstname": "Typo", "phone": "+15550199"})
    hubspot.archive("contacts", [_contacts_ids(stack)[customers[2]]])
    _set(stack, reconcile_drift="full")
    report = reconcile.run(manual["repair"], stack.project_id)
    assert (report.counts["differing"], report.counts["missing"]) == (1, 1)
    _drain(stack, manual)
    held = _contacts(stack)
    assert sorted(held) == sorted(customers)
    assert (held[customers[1]]["firstname"], held[customers[1]].get("phone") or "") == ("Dee", "")
    again = reconcile.run(manual["repair"], stack.project_id)
    assert (again.counts["differing"], again.counts["missing"]) == (0, 0)


def test_replay_after_a_hubspot_outage_converges(stack: Stack, manual: dict[str, Any]) -> None:
    clock = manual["clock"]
    stack.hubspot.fault("status", count=100_000, status=503)
    customers = []
    for n in range(4):
        customers.append(
            stack.stripe.create_customer(stack.account, email=f"o{n}@example.com", name=f"Oh {n}")[
                "id"
            ]
        )
        assert stack.deliver(stack.stripe.events(stack.account)[-1]).status_code == 200
    clock.t = time.time()
    for _ in range(dirty.MAX_ATTEMPTS):  # every retry meets the outage, until given up
        drainer.drain(stack.project_id, manual["drain"])
        clock.advance(dirty.BACKOFF_CAP)
    assert stack.dirty() == [] and stack.contacts() == []
    assert replay.by_code(stack.runtime.store, stack.project_id) == {"hubspot_503": 4}
    stack.hubspot.clear_faults()
    done = replay.replay_all(manual["repair"], stack.project_id)
    assert done.replayed == 4
    drainer.drain(stack.project_id, manual["drain"])
    held = _contacts(stack)
    assert sorted(held) == sorted(customers)
    assert {p["firstname"] for p in held.values()} == {"Oh"}
    assert replay.failures(stack.runtime.store, stack.project_id) == []


def _contacts_ids(stack: Stack) -> dict[str, str]:
    return {c["properties"]["stripe_customer_id"]: c["id"] for c in stack.contacts()}
