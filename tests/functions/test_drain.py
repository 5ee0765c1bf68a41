"""The drainer on the embedded stack, against both doubles: a key marked again during its write
is written again, a record HubSpot refuses fails alone, the Stripe account is always the
project's own, the daily limit waits, and events that cannot change a deal's structure cost one
or two calls."""

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from shared.drain import drainer, lease
from shared.drain.dirty import DirtyKeys, Key, Mark
from shared.hubspot.gateway import HubSpotGateway
from tests.plugins.stack import Stack, function_client
from tests.pubsub_events import post_cloud_event, pubsub_cloud_event


@pytest.fixture
def drain(stack: Stack) -> Any:
    """Drain the project here, synchronously: no background drainer takes the lease first."""
    stack.runtime.drainers.close()

    def run() -> drainer.Report:
        return drainer.drain(stack.project_id, stack.runtime.drain)

    return run


def crm_calls(stack: Stack) -> list[dict[str, Any]]:
    return [r for r in stack.hubspot.requests if r["path"].startswith("/crm/")]


def deliver_latest(stack: Stack) -> None:
    assert stack.deliver(stack.stripe.events(stack.account)[-1]).status_code == 200


def on_first_upsert(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, hook: Callable[[], None], after: bool = False
) -> None:
    """Run ``hook`` once, as the drain's first batch upsert is sent (or once it was)."""
    make = stack.runtime.drain.hubspot
    first = threading.Lock()  # the writer sends a round's batches from a few threads

    def gateway(token: str, pacer: Any) -> HubSpotGateway:
        made = make(token, pacer)
        upsert = made.upsert

        def hooked(ops: Any) -> Any:
            mine = first.acquire(blocking=False)
            if mine and not after:
                hook()
            written = upsert(ops)
            if mine and after:
                hook()
            return written

        monkeypatch.setattr(made, "upsert", hooked)
        return made

    monkeypatch.setattr(stack.runtime.drain, "hubspot", gateway)


def test_a_key_marked_again_during_its_write_is_written_again(
    stack: Stack, drain: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    cus = stack.stripe.create_customer(stack.account, email="race@example.com", name="Before")
    deliver_latest(stack)

    def change() -> None:  # the customer changes, and its event arrives, mid-write
        stack.stripe.update_customer(stack.account, cus["id"], name="After Change")
        deliver_latest(stack)

    on_first_upsert(stack, monkeypatch, change, after=True)
    report = drain()
    assert report.rounds == 2  # the first write could not clear the key: it was marked again
    [contact] = stack.contacts()
    assert contact["properties"]["firstname"] == "After"
    assert stack.dirty() == []
    upserts = [r for r in crm_calls(stack) if r["path"].endswith("/batch/upsert")]
    assert len(upserts) == 2


def test_the_next_round_reads_stripe_while_the_last_one_writes(
    stack: Stack, drain: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = stack.stripe.create_customer(stack.account, email="one@example.com", name="One")
    deliver_latest(stack)
    second = stack.stripe.create_customer(stack.account, email="two@example.com", name="Two")
    deliver_latest(stack)
    monkeypatch.setattr(stack.runtime.drain, "round_limit", 1)
    overlapped: list[bool] = []

    def read_of_second() -> bool:
        return any(second["id"] in r["path"] for r in list(stack.stripe.requests))

    def wait_for_the_next_read() -> None:  # the first round's write waits (at most 10 s)
        deadline = time.monotonic() + 10
        while not read_of_second() and time.monotonic() < deadline:
            time.sleep(0.01)
        overlapped.append(read_of_second())

    on_first_upsert(stack, monkeypatch, wait_for_the_next_read)
    report = drain()
    assert overlapped == [True]
    assert report.rounds == 2 and report.settled == {"synced": 2}
    made = {c["properties"]["email"]: int(c["id"]) for c in stack.contacts()}
    assert made["one@example.com"] < made["two@example.com"]  # rounds write in their order
    assert first["id"] != second["id"] and stack.dirty() == []


def test_a_backfills_rounds_share_pages_and_a_change_is_read_afresh(
    stack: Stack, drain: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keys a backfill marked may be served by pages read since it began: three rounds read
    the charges once. A customer that changes mid-drain (its event marks its key) is read
    again, not served from the first round's pages."""
    began = stack.clock.now()
    product = stack.stripe.create_product(stack.account, "Team")["id"]
    price = stack.stripe.create_price(stack.account, product, 1000, "usd", "month")["id"]
    subs, email_of = [], {}
    for i in range(18):
        cus = stack.stripe.create_customer(stack.account, email=f"b{i}@example.com", name="Before")
        subs.append(stack.stripe.create_subscription(stack.account, cus["id"], [{"price": price}]))
        email_of[cus["id"]] = cus["email"]
    keys = DirtyKeys(stack.runtime.store, stack.clock)
    keys.mark_many(
        [Mark(Key(stack.project_id, "subscription", s["id"]), since=began) for s in subs]
    )
    taken_last = keys.take([stack.project_id], 18)[-1].key.object_id
    changing = next(s["customer"] for s in subs if s["id"] == taken_last)
    monkeypatch.setattr(stack.runtime.drain, "history_round", 6)

    def change() -> None:  # during the first round's write: a later round's customer changes
        stack.stripe.update_customer(stack.account, changing, name="After Change")
        deliver_latest(stack)

    on_first_upsert(stack, monkeypatch, change)
    stack.stripe.reset_requests()
    report = drain()
    assert report.settled == {"synced": 19} and stack.dirty() == []
    names = {c["properties"]["email"]: c["properties"]["firstname"] for c in stack.contacts()}
    assert sorted(set(names.values())) == ["After", "Before"]
    assert [e for e, n in names.items() if n == "After"] == [email_of[changing]]
    charges = [r for r in stack.stripe.requests if r["path"] == "/v1/charges"]
    # Listed by the first round and served to the next two; then asked for the changed
    # customer alone (each of the three rounds reading its own pages: four).
    assert len(charges) == 2


def _round_sizes(capsys: pytest.CaptureFixture[str]) -> list[int]:
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line[:1] == "{"]
    return [line["keys"] for line in lines if line.get("message") == "drain round"]


def test_a_backfills_keys_go_in_growing_rounds_and_a_change_in_a_full_one(
    stack: Stack, drain: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A backfill's first round is small, so its writes start soon; later ones double up to
    the round limit. A change among the keys takes a full round, and history starts small
    again after it."""
    began = stack.clock.now()
    made = [
        stack.stripe.create_customer(stack.account, email=f"h{i}@example.com") for i in range(13)
    ]
    keys = DirtyKeys(stack.runtime.store, stack.clock)
    walked = [Mark(Key(stack.project_id, "customer", c["id"]), since=began) for c in made]
    monkeypatch.setattr(stack.runtime.drain, "history_round", 2)
    monkeypatch.setattr(stack.runtime.drain, "round_limit", 5)
    keys.mark_many(walked)
    assert all(t.history for t in keys.take([stack.project_id], 13))
    capsys.readouterr()
    assert drain().rounds == 4
    assert _round_sizes(capsys) == [2, 4, 5, 2]
    keys.mark_many(walked[:8])
    keys.mark(walked[0].key, "evt_1", "customer.updated")  # a change waits on one of them
    drain()
    assert _round_sizes(capsys) == [5, 2, 1]
    assert len(stack.contacts()) == 13 and stack.dirty() == []


def test_a_record_hubspot_refuses_fails_alone_with_its_code(stack: Stack, drain: Any) -> None:
    from hubspot import HubSpot
    from hubspot.crm.properties import PropertyCreate

    HubSpot(access_token=stack.token, host=stack.hubspot.base_url).crm.properties.core_api.create(
        "contacts",
        PropertyCreate(
            name="seats", label="Seats", type="number", field_type="number", group_name="omniroo"
        ),
    )
    project = stack.runtime.store.get("projects", stack.project_id) or {}
    project["settings"]["metadata_mappings"] = {"seats": "seats"}
    stack.runtime.store.put("projects", stack.project_id, project)
    for i, seats in enumerate(["3", "4", "many", "5", "6"]):
        stack.stripe.create_customer(
            stack.account, email=f"s{i}@example.com", metadata={"seats": seats}
        )
        deliver_latest(stack)
    drain()
    assert sorted(c["properties"]["email"] for c in stack.contacts()) == [
        "s0@example.com",
        "s1@example.com",
        "s3@example.com",
        "s4@example.com",
    ]
    outcomes = sorted((o["status"], o["error_code"]) for o in stack.outcomes().values())
    assert outcomes == [("failed", "hubspot_validation_error")] + [("synced", "")] * 4
    assert stack.dirty() == []  # refused for good: a visible outcome, not a retry loop


def test_a_message_naming_another_tenants_account_never_reaches_this_portal(
    stack: Stack,
) -> None:
    """Issue 13's finding: the drainer reads Stripe as the project's own account, whatever a
    queued message says, so another tenant's customer cannot be written into this portal."""
    from shared.queue.base import ThinMessage

    stack.runtime.drainers.close()
    other = stack.stripe.add_account()
    theirs = stack.stripe.create_customer(other, email="victim@other.example")
    message = ThinMessage(
        stack.project_id,
        other,
        "evt_forged1",
        "customer.created",
        theirs["id"],
        "customer",
        1,
        False,
    )
    stack.stripe.reset_requests()
    push = function_client("hubspot_push", "cloudevent")
    assert post_cloud_event(push, pubsub_cloud_event(message)).status_code == 200
    assert stack.contacts() == []
    assert {r["account"] for r in stack.stripe.requests} == {stack.account}
    [outcome] = stack.outcomes().values()
    assert (outcome["status"], outcome["error_code"]) == ("failed", "stripe_resource_missing")


def test_the_daily_limit_defers_keys_without_counting_an_attempt(stack: Stack, drain: Any) -> None:
    stack.stripe.create_customer(stack.account, email="daily@example.com")
    deliver_latest(stack)
    stack.hubspot.fault("status", count=1, status=429, path_contains="/batch/upsert")
    # An injected 429 is ten-secondly; make the next one the daily kind.
    stack.hubspot.clear_faults()
    from doubles.hubspot.limits import RateLimiter

    stack.hubspot._limits = RateLimiter(100_000, 10_000, lambda: 0.0, lambda: 0.0, daily_limit=0)
    drain()
    [key] = stack.dirty()
    assert key["attempts"] == 0
    assert key["due_at"] >= stack.clock.now() + drainer.DAILY_WAIT - 5
    assert stack.outcomes() == {}


def subscribed(stack: Stack, drain: Any, email: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A customer with a subscription, synced: the customer and the subscription."""
    product = stack.stripe.create_product(stack.account, "Plan")["id"]
    price = stack.stripe.create_price(stack.account, product, 1000, "usd", "month")["id"]
    cus = stack.stripe.create_customer(stack.account, email=email)
    sub = stack.stripe.create_subscription(
        stack.account, cus["id"], [{"price": price, "quantity": 1}]
    )
    for event in stack.stripe.events(stack.account):
        stack.deliver(event)
    drain()
    return cus, sub


def test_events_that_cannot_change_a_deal_cost_one_or_two_calls(stack: Stack, drain: Any) -> None:
    cus, sub = subscribed(stack, drain, "steady@example.com")
    [deal] = [d for d in stack.hubspot.records(stack.portal_id, "deals") if not d["archived"]]
    assert len(stack.hubspot.associations(stack.portal_id, "deals", deal["id"], "line_items")) == 1

    def calls_for(change: Any) -> list[str]:
        stack.hubspot.reset_requests()
        change()
        deliver_latest(stack)
        drain()
        return sorted(r["path"].split("/")[4] for r in crm_calls(stack))

    assert calls_for(lambda: stack.stripe.update_customer(stack.account, cus["id"], name="N")) == [
        "contacts"
    ]
    update = lambda: stack.stripe.update_subscription(stack.account, sub["id"], metadata={"a": "b"})  # noqa: E731
    assert calls_for(update) == ["contacts", "deals"]
    add_seat = lambda: stack.stripe.update_subscription(  # noqa: E731
        stack.account,
        sub["id"],
        items=[{"id": sub["items"]["data"][0]["id"], "quantity": 2}],
        proration_behavior="none",
    )
    assert "line_items" in calls_for(add_seat)  # the items changed: written in full
    lines = stack.hubspot.associations(stack.portal_id, "deals", deal["id"], "line_items")
    assert len(lines) == 1


def test_after_a_drainer_died_the_next_writes_everything(stack: Stack, drain: Any) -> None:
    _, sub = subscribed(stack, drain, "crash@example.com")
    [(handover, left)] = list(stack.runtime.store.scan(lease.COLLECTION))  # released: deleted
    stack.runtime.store.put(lease.COLLECTION, handover, {**left, "clean": False})
    stack.hubspot.reset_requests()
    DirtyKeys(stack.runtime.store, stack.clock).mark(
        Key(stack.project_id, "invoice", sub["latest_invoice"]), "evt_x", "invoice.paid"
    )
    drain()
    assert "line_items" in {r["path"].split("/")[4] for r in crm_calls(stack)}
