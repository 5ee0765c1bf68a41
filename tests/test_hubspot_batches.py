"""The gateway's batch calls of the write path against the HubSpot double, through the real
``hubspot-api-client``: upserts read as plain JSON, association reads of 1,000 records a call,
association writes of 2,000 (split when refused for their size)."""

from typing import Any

import pytest

from doubles.hubspot import HubSpotDouble
from shared.clock import FakeClock
from shared.hubspot.gateway import HubSpotGateway
from shared.mapping.ops import Upsert


@pytest.fixture
def hubspot_double() -> Any:
    with HubSpotDouble(rate_limit=100_000) as double:
        yield double


@pytest.fixture
def gateway(hubspot_double: HubSpotDouble) -> HubSpotGateway:
    _, token = hubspot_double.add_portal()
    gateway = HubSpotGateway(token, FakeClock(), hubspot_double.base_url)
    gateway.ensure_schema()
    hubspot_double.reset_requests()
    return gateway


def deals(n: int, start: int = 0) -> list[Upsert]:
    return [
        Upsert("deals", "stripe_subscription_id", f"sub_{i}", {"dealname": f"Deal {i}"})
        for i in range(start, start + n)
    ]


def test_upsert_answers_what_it_wrote_and_whether_it_is_new(gateway: HubSpotGateway) -> None:
    first = gateway.upsert(deals(3))
    assert [(w.stripe_id, w.new) for w in first] == [
        ("sub_0", True),
        ("sub_1", True),
        ("sub_2", True),
    ]
    again = gateway.upsert(deals(2, start=1) + deals(1, start=7))
    assert [(w.stripe_id, w.new) for w in again] == [
        ("sub_1", False),
        ("sub_2", False),
        ("sub_7", True),
    ]
    assert again[0].hubspot_id == first[1].hubspot_id


def test_associated_reads_a_thousand_records_a_call(
    gateway: HubSpotGateway, hubspot_double: HubSpotDouble
) -> None:
    made = gateway.upsert(deals(100) + deals(100, start=100))
    made += gateway.upsert(deals(100, start=200))
    contact = gateway.upsert([Upsert("contacts", "stripe_customer_id", "cus_1", {})])[0]
    linked = [w.hubspot_id for w in made[:150]]
    gateway.associate("deals", "contacts", [(d, contact.hubspot_id) for d in linked], 2000)
    hubspot_double.reset_requests()
    ids = [w.hubspot_id for w in made] * 4  # 1,200 inputs, 300 records
    found = gateway.associated("deals", "contacts", [*ids[:1200], "999999"])
    reads = [r for r in hubspot_double.requests if r["path"].endswith("/batch/read")]
    assert len(reads) == 1  # the 300 records asked for, once each
    assert found["999999"] == set()
    assert {d for d, targets in found.items() if targets == {contact.hubspot_id}} == set(linked)
    assert all(found[w.hubspot_id] == set() for w in made[150:])


def test_associate_splits_a_call_refused_for_its_size(
    gateway: HubSpotGateway, hubspot_double: HubSpotDouble
) -> None:
    made = gateway.upsert(deals(100)) + gateway.upsert(deals(100, start=100))
    contact = gateway.upsert([Upsert("contacts", "stripe_customer_id", "cus_1", {})])[0]
    hubspot_double.fault("status", count=1, status=400, path_contains="/associate/default")
    pairs = [(w.hubspot_id, contact.hubspot_id) for w in made]
    gateway.associate("deals", "contacts", pairs, 2000)
    calls = [r for r in hubspot_double.requests if "/associate/default" in r["path"]]
    assert [r["status"] for r in calls] == [400, 200, 200]
    portal = hubspot_double.requests[0]["portal"]
    assert all(
        hubspot_double.associations(portal, "deals", w.hubspot_id, "contacts")
        == [contact.hubspot_id]
        for w in made
    )
