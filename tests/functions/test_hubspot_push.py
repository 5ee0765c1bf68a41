"""``hubspot_push`` through functions_framework: the customer path against both doubles.

Each CloudEvent carries a thin event message, as queued before dirty keys (and as a dead letter
replayed by hand): the function marks its key and drains the project, synchronously here.
Rows 14, 18, 20, 21, 27 and 29 of the reliability plan, and the contact rules of SYNC.md.
"""

from typing import Any

import pytest

from shared.queue.base import ThinMessage
from tests.plugins.stack import Stack, function_client
from tests.pubsub_events import post_cloud_event, pubsub_cloud_event


@pytest.fixture
def push(stack: Stack) -> Any:
    # Only the function drains here: no background drainer may take the lease first.
    stack.runtime.drainers.close()
    return function_client("hubspot_push", "cloudevent")


def message_for(stack: Stack, event: dict[str, Any]) -> ThinMessage:
    obj = event["data"]["object"]
    return ThinMessage(
        stack.project_id,
        stack.account,
        event["id"],
        event["type"],
        obj["id"],
        obj["object"],
        event["created"],
        event["livemode"],
    )


def push_latest(stack: Stack, push: Any) -> Any:
    return post_cloud_event(
        push, pubsub_cloud_event(message_for(stack, stack.stripe.events(stack.account)[-1]))
    )


def hubspot_calls(stack: Stack) -> int:
    return len([r for r in stack.hubspot.requests if r["path"].startswith("/crm/")])


def contact(stack: Stack) -> dict[str, str]:
    [only] = stack.contacts()
    return only["properties"]


def test_customer_maps_to_contact_in_one_call(stack: Stack, push: Any) -> None:
    stack.stripe.create_customer(
        stack.account,
        email="grace@example.com",
        name="Grace Brewster Hopper",
        phone="+1 555 0100",
        address={
            "line1": "1 Navy Way",
            "line2": "Apt 2",
            "city": "Arlington",
            "state": "VA",
            "postal_code": "22202",
            "country": "US",
        },
    )
    assert push_latest(stack, push).status_code == 200
    props = contact(stack)
    assert props["email"] == "grace@example.com"
    assert (props["firstname"], props["lastname"]) == ("Grace", "Brewster Hopper")
    assert props["address"] == "1 Navy Way, Apt 2"
    assert (props["city"], props["state"], props["zip"], props["country"]) == (
        "Arlington",
        "VA",
        "22202",
        "US",
    )
    assert props["stripe_customer_id"].startswith("cus_")
    assert props["stripe_delinquent"] == "false"
    assert props["stripe_dashboard_url"].endswith(
        f"{stack.account}/test/customers/{props['stripe_customer_id']}"
    )
    assert hubspot_calls(stack) == 1
    [outcome] = stack.outcomes().values()
    assert outcome["status"] == "synced" and outcome["hubspot_id"]


def test_email_change_follows_the_same_contact(stack: Stack, push: Any) -> None:
    cus = stack.stripe.create_customer(stack.account, email="old@example.com")
    push_latest(stack, push)
    first_id = stack.contacts()[0]["id"]
    stack.stripe.update_customer(stack.account, cus["id"], email="new@example.com")
    push_latest(stack, push)
    [only] = stack.contacts()
    assert only["id"] == first_id
    assert only["properties"]["email"] == "new@example.com"


def test_customer_without_email_syncs_by_stripe_id(stack: Stack, push: Any) -> None:
    stack.stripe.create_customer(stack.account, name="No Mail")
    push_latest(stack, push)
    props = contact(stack)
    assert props.get("email") in (None, "")
    assert props["firstname"] == "No"


def test_customer_without_email_can_be_skipped_with_a_reason(stack: Stack, push: Any) -> None:
    project = stack.runtime.store.get("projects", stack.project_id)
    assert project is not None
    project["settings"]["customers_without_email"] = "skip"
    stack.runtime.store.put("projects", stack.project_id, project)
    stack.stripe.create_customer(stack.account, name="No Mail")
    push_latest(stack, push)
    assert stack.contacts() == []
    [outcome] = stack.outcomes().values()
    assert (outcome["status"], outcome["error_code"]) == ("skipped", "customer_without_email")


def test_existing_contact_with_the_same_email_is_adopted(stack: Stack, push: Any) -> None:
    from hubspot import HubSpot
    from hubspot.crm.contacts import SimplePublicObjectInputForCreate

    api = HubSpot(access_token=stack.token, host=stack.hubspot.base_url)
    existing = api.crm.contacts.basic_api.create(
        SimplePublicObjectInputForCreate(
            properties={"email": "known@example.com", "lifecyclestage": "lead"}
        )
    )
    stack.stripe.create_customer(stack.account, email="known@example.com", name="Known Person")
    assert push_latest(stack, push).status_code == 200
    [only] = stack.contacts()
    assert only["id"] == existing.id
    assert only["properties"]["stripe_customer_id"].startswith("cus_")
    assert only["properties"]["lifecyclestage"] == "lead"
    push_latest(stack, push)  # and again: now a plain upsert
    assert len(stack.contacts()) == 1


def test_email_owned_by_another_stripe_customer_is_a_recorded_failure(
    stack: Stack, push: Any
) -> None:
    stack.stripe.create_customer(stack.account, email="shared@example.com")
    push_latest(stack, push)
    stack.stripe.create_customer(stack.account, email="shared@example.com")
    assert push_latest(stack, push).status_code == 200
    assert len(stack.contacts()) == 1
    codes = sorted(o["error_code"] for o in stack.outcomes().values())
    assert codes == ["", "email_in_use"]


def test_deleted_customer_is_flagged_by_default(stack: Stack, push: Any) -> None:
    cus = stack.stripe.create_customer(stack.account, email="gone@example.com")
    push_latest(stack, push)
    stack.stripe.delete_customer(stack.account, cus["id"])
    push_latest(stack, push)
    props = contact(stack)
    assert props["stripe_subscription_status"] == "deleted"
    assert props["email"] == "gone@example.com"


def test_deleted_customer_can_be_archived(stack: Stack, push: Any) -> None:
    project = stack.runtime.store.get("projects", stack.project_id)
    assert project is not None
    project["settings"]["on_customer_deleted"] = "archive"
    stack.runtime.store.put("projects", stack.project_id, project)
    cus = stack.stripe.create_customer(stack.account, email="bye@example.com")
    push_latest(stack, push)
    stack.stripe.delete_customer(stack.account, cus["id"])
    push_latest(stack, push)
    assert stack.contacts() == []
    assert [r["archived"] for r in stack.hubspot.records(stack.portal_id, "contacts")] == [True]


def test_deleted_customer_never_synced_is_skipped_not_created(stack: Stack, push: Any) -> None:
    cus = stack.stripe.create_customer(stack.account, email="never@example.com")
    stack.stripe.delete_customer(stack.account, cus["id"])
    push_latest(stack, push)
    assert stack.contacts() == []
    assert [o["error_code"] for o in stack.outcomes().values()] == ["not_in_hubspot"]


def test_duplicate_and_out_of_order_messages_end_at_current_state(stack: Stack, push: Any) -> None:
    cus = stack.stripe.create_customer(stack.account, email="o@example.com", name="One")
    stack.stripe.update_customer(stack.account, cus["id"], name="Two")
    events = stack.stripe.events(stack.account)
    for event in [events[1], events[0], events[1], events[0]]:
        assert (
            post_cloud_event(push, pubsub_cloud_event(message_for(stack, event))).status_code == 200
        )
    [only] = stack.contacts()
    assert only["properties"]["firstname"] == "Two"


def upsert_statuses(stack: Stack) -> list[int]:
    return [r["status"] for r in stack.hubspot.requests if r["path"].endswith("/batch/upsert")]


def test_rate_limited_hubspot_is_paced_then_succeeds(stack: Stack, push: Any) -> None:
    """Row 18: after a 429 the portal's budget pauses every call, then the call is sent again."""
    stack.stripe.create_customer(stack.account, email="busy@example.com")
    stack.hubspot.fault("status", count=2, status=429, path_contains="/batch/upsert")
    assert push_latest(stack, push).status_code == 200
    assert len(stack.contacts()) == 1
    assert upsert_statuses(stack) == [429, 429, 200]
    [budget] = stack.runtime.drain.budgets.values()
    assert budget.waited > 0


def test_persistent_rate_limit_leaves_the_key_dirty_with_backoff(stack: Stack, push: Any) -> None:
    stack.stripe.create_customer(stack.account, email="busy@example.com")
    stack.hubspot.fault("status", count=50, status=429, path_contains="/batch/upsert")
    assert push_latest(stack, push).status_code == 200  # the key is durable: nothing to redeliver
    assert upsert_statuses(stack) == [429] * 5
    [key] = stack.dirty()
    assert (key["attempts"], key["last_error"]) == (1, "hubspot_429")
    assert key["due_at"] > stack.clock.now()
    assert stack.outcomes() == {}


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_hubspot_5xx_is_retried_within_the_round(stack: Stack, push: Any, status: int) -> None:
    stack.stripe.create_customer(stack.account, email="retry@example.com")
    stack.hubspot.fault("status", count=1, status=status)
    assert push_latest(stack, push).status_code == 200
    assert upsert_statuses(stack) == [status, 200]
    assert len(stack.contacts()) == 1
    assert stack.dirty() == []


def test_a_hubspot_that_keeps_failing_leaves_the_key_for_later(stack: Stack, push: Any) -> None:
    stack.stripe.create_customer(stack.account, email="retry@example.com")
    stack.hubspot.fault("status", count=5, status=503)
    assert push_latest(stack, push).status_code == 200
    [key] = stack.dirty()
    assert key["last_error"] == "hubspot_503"
    assert stack.outcomes() == {}
    assert push_latest(stack, push).status_code == 200  # the next wake-up finds it waiting
    assert stack.contacts() == []
    stack.runtime.store.update("dirty_keys", stack.dirty_ids()[0], lambda d: {**d, "due_at": 0})
    assert push_latest(stack, push).status_code == 200
    assert len(stack.contacts()) == 1
    assert stack.dirty() == []


def test_a_hubspot_timeout_is_retried(
    stack: Stack, push: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack.stripe.create_customer(stack.account, email="slow@example.com")
    make = stack.runtime.drain.hubspot

    def impatient(token: str, pacer: Any) -> Any:
        gateway = make(token, pacer)
        gateway._timeout = (1.0, 0.3)
        return gateway

    monkeypatch.setattr(stack.runtime.drain, "hubspot", impatient)
    stack.hubspot.fault("timeout", count=1, seconds=1.0)
    assert push_latest(stack, push).status_code == 200
    assert len(stack.contacts()) == 1  # written by the retry (a late first write is an upsert too)


def test_a_stripe_outage_leaves_the_key_for_later(stack: Stack, push: Any) -> None:
    stack.stripe.create_customer(stack.account, email="s@example.com")
    stack.stripe.fail_next(3, status=500)
    assert push_latest(stack, push).status_code == 200
    [key] = stack.dirty()
    assert key["last_error"].startswith("stripe_")
    assert stack.outcomes() == {}
    assert stack.hubspot.requests == []


def test_missing_stripe_object_is_a_recorded_failure(stack: Stack, push: Any) -> None:
    message = ThinMessage(
        stack.project_id,
        stack.account,
        "evt_missing1",
        "customer.updated",
        "cus_doesnotexist",
        "customer",
        1,
        False,
    )
    assert post_cloud_event(push, pubsub_cloud_event(message)).status_code == 200
    [outcome] = stack.outcomes().values()
    assert (outcome["status"], outcome["error_code"]) == ("failed", "stripe_resource_missing")


def test_key_service_failure_fails_closed(stack: Stack, push: Any) -> None:
    """Row 27: with the key version disabled nothing is decrypted, nothing is sent, and the
    invocation fails so the wake-up is redelivered; the key waits in the store."""
    from shared.crypto.local_keys import LocalKeyFile

    LocalKeyFile(stack.settings.data_dir / "master.key").disable("1")  # the only version
    stack.stripe.create_customer(stack.account, email="locked@example.com")
    assert push_latest(stack, push).status_code == 500
    assert stack.hubspot.requests == []
    assert stack.outcomes() == {}
    assert len(stack.dirty()) == 1


def test_writes_that_failed_after_k_of_n_are_finished_later_without_duplicates(
    stack: Stack, push: Any
) -> None:
    """Row 29: the writes after the k-th of n fail; the keys wait, and once HubSpot is back
    every record is there exactly once, however often the messages come again."""
    n, k = 6, 3
    for i in range(n):
        stack.stripe.create_customer(stack.account, email=f"c{i}@example.com")
    messages = [message_for(stack, e) for e in stack.stripe.events(stack.account)]
    for m in messages[:k]:
        assert post_cloud_event(push, pubsub_cloud_event(m)).status_code == 200
    stack.hubspot.fault("status", count=10_000, status=503)
    for m in messages[k:]:
        assert post_cloud_event(push, pubsub_cloud_event(m)).status_code == 200
    assert len(stack.dirty()) == n - k
    stack.hubspot.clear_faults()
    for doc_id in stack.dirty_ids():
        stack.runtime.store.update("dirty_keys", doc_id, lambda d: {**d, "due_at": 0})
    for m in messages:  # Pub/Sub may redeliver what did not fail too
        assert post_cloud_event(push, pubsub_cloud_event(m)).status_code == 200
    emails = sorted(c["properties"]["email"] for c in stack.contacts())
    assert emails == [f"c{i}@example.com" for i in range(n)]
    assert stack.dirty() == []


def test_unreadable_message_is_acknowledged_with_an_alert(
    stack: Stack, push: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert post_cloud_event(push, pubsub_cloud_event(b"not json")).status_code == 200
    assert "unreadable queue message dropped" in capsys.readouterr().out


def test_missing_properties_are_recreated(stack: Stack, push: Any) -> None:
    from hubspot import HubSpot

    api = HubSpot(access_token=stack.token, host=stack.hubspot.base_url)
    api.crm.properties.core_api.archive("contacts", "stripe_dashboard_url")
    assert "stripe_dashboard_url" not in stack.hubspot.property_names(stack.portal_id, "contacts")
    stack.stripe.create_customer(stack.account, email="p@example.com")
    assert push_latest(stack, push).status_code == 200
    assert "stripe_dashboard_url" in stack.hubspot.property_names(stack.portal_id, "contacts")
    assert len(stack.contacts()) == 1
