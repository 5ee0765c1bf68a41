"""Row 22: a batch with one invalid record. HubSpot refuses the whole batch; the rest is written
one by one, only the refused record fails, and the outcome names it by code."""

from typing import Any

from shared.clock import FakeClock
from shared.hubspot.gateway import HubSpotGateway
from shared.mapping.ops import Link, Ref, Upsert
from shared.sync.apply import apply


def products(*prices: str) -> list[Upsert]:
    return [
        Upsert(
            "products",
            "stripe_price_id",
            f"price_{i}",
            {"stripe_price_id": f"price_{i}", "name": f"P{i}", "price": price},
        )
        for i, price in enumerate(prices)
    ]


def test_one_invalid_record_fails_alone(hubspot_double: Any) -> None:
    portal, token = hubspot_double.add_portal()
    gateway = HubSpotGateway(token, FakeClock(), hubspot_double.base_url)
    gateway.ensure_schema(["products"])
    hubspot_double.reset_requests()
    outcome = apply(products("10.00", "not a number", "30.00"), gateway)
    assert (outcome.status, outcome.error_code) == ("failed", "hubspot_validation_error")
    names = sorted(r["properties"]["name"] for r in hubspot_double.records(portal, "products"))
    assert names == ["P0", "P2"]
    upserts = [r["status"] for r in hubspot_double.requests if r["path"].endswith("/upsert")]
    assert upserts == [400, 200, 400, 200]  # the batch, then each record once


def test_a_clean_batch_is_one_call(hubspot_double: Any) -> None:
    _, token = hubspot_double.add_portal()
    gateway = HubSpotGateway(token, FakeClock(), hubspot_double.base_url)
    gateway.ensure_schema(["products"])
    hubspot_double.reset_requests()
    assert apply(products("10.00", "20.00"), gateway).status == "synced"
    assert [r["path"] for r in hubspot_double.requests] == ["/crm/v3/objects/products/batch/upsert"]


def test_links_to_refused_records_are_skipped(hubspot_double: Any) -> None:
    portal, token = hubspot_double.add_portal()
    gateway = HubSpotGateway(token, FakeClock(), hubspot_double.base_url)
    gateway.ensure_schema(["products", "line_items", "deals"])
    deal = Upsert(
        "deals",
        "stripe_subscription_id",
        "sub_1",
        {"stripe_subscription_id": "sub_1", "dealname": "D"},
    )
    lines = [
        Upsert(
            "line_items",
            "stripe_line_id",
            f"si_{i}",
            {"stripe_line_id": f"si_{i}", "name": "L", "quantity": q},
        )
        for i, q in enumerate(("1", "many"))
    ]
    plan = [
        deal,
        *lines,
        *(
            Link(
                Ref("deals", "stripe_subscription_id", "sub_1"),
                Ref("line_items", "stripe_line_id", line.id),
            )
            for line in lines
        ),
    ]
    outcome = apply(plan, gateway)
    assert outcome.status == "failed" and outcome.hubspot_id
    [line] = hubspot_double.records(portal, "line_items")
    assert hubspot_double.associations(portal, "deals", outcome.hubspot_id, "line_items") == [
        line["id"]
    ]
