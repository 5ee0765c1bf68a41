"""``hubspot_push`` through functions_framework: the customer path against both doubles.

Rows 14, 18, 20, 21, 27 and 29 of the reliability plan, and the contact rules of SYNC.md.
"""

from typing import Any

import pytest

from shared.queue.base import ThinMessage
from tests.plugins.stack import Stack, function_client
from tests.pubsub_events import post_cloud_event, pubsub_cloud_event


@pytest.fixture
def push(stack: Stack) -> Any:
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


def test_rate_limited_hubspot_is_paced_then_succeeds(stack: Stack, push: Any) -> None:
    stack.stripe.create_customer(stack.account, email="busy@example.com")
    stack.hubspot.fault("status", count=2, status=429, path_contains="/batch/upsert")
    assert push_latest(stack, push).status_code == 200
    assert len(stack.contacts()) == 1
    assert len(stack.clock.sleeps) == 2
    assert all(0 < s <= 10 for s in stack.clock.sleeps)
    upserts = [r for r in stack.hubspot.requests if r["path"].endswith("/batch/upsert")]
    assert [r["status"] for r in upserts] == [429, 429, 200]


def test_persistent_rate_limit_gives_up_for_redelivery(stack: Stack, push: Any) -> None:
    stack.stripe.create_customer(stack.account, email="busy@example.com")
    stack.hubspot.fault("status", count=50, status=429, path_contains="/batch/upsert")
    assert push_latest(stack, push).status_code == 500
    assert len(stack.clock.sleeps) == 4
    assert stack.outcomes() == {}


@pytest.mark.parametrize("status", [500, 502, 503])
def test_hubspot_5xx_fails_the_invocation_so_pubsub_redelivers(
    stack: Stack, push: Any, status: int
) -> None:
    stack.stripe.create_customer(stack.account, email="retry@example.com")
    stack.hubspot.fault("status", count=1, status=status)
    assert push_latest(stack, push).status_code == 500
    assert stack.outcomes() == {}
    assert push_latest(stack, push).status_code == 200
    assert len(stack.contacts()) == 1


def test_hubspot_timeout_fails_the_invocation(
    stack: Stack, push: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack.stripe.create_customer(stack.account, email="slow@example.com")
    gateway = stack.runtime.push.hubspot(stack.token)
    monkeypatch.setattr(gateway, "_timeout", (1.0, 0.3))
    stack.hubspot.fault("timeout", count=1, seconds=1.0)
    assert push_latest(stack, push).status_code == 500
    assert push_latest(stack, push).status_code == 200
    assert len(stack.contacts()) == 1


def test_stripe_outage_fails_the_invocation(stack: Stack, push: Any) -> None:
    stack.stripe.create_customer(stack.account, email="s@example.com")
    stack.stripe.fail_next(3, status=500)
    assert push_latest(stack, push).status_code == 500
    assert stack.outcomes() == {}


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
    message is redelivered rather than dropped."""
    from shared.crypto.local_keys import LocalKeyFile

    LocalKeyFile(stack.settings.data_dir / "master.key").disable("1")  # the only version
    stack.stripe.create_customer(stack.account, email="locked@example.com")
    assert push_latest(stack, push).status_code == 500
    assert stack.hubspot.requests == []
    assert stack.outcomes() == {}


def test_redelivery_after_a_crash_midway_finishes_without_duplicates(
    stack: Stack, push: Any
) -> None:
    """Row 29: the writes after the k-th of n fail; redelivering all n ends with n contacts."""
    n, k = 6, 3
    for i in range(n):
        stack.stripe.create_customer(stack.account, email=f"c{i}@example.com")
    messages = [message_for(stack, e) for e in stack.stripe.events(stack.account)]
    for m in messages[:k]:
        assert post_cloud_event(push, pubsub_cloud_event(m)).status_code == 200
    stack.hubspot.fault("status", count=n - k, status=503)
    assert [post_cloud_event(push, pubsub_cloud_event(m)).status_code for m in messages[k:]] == [
        500
    ] * (n - k)
    for m in messages:  # Pub/Sub redelivers what failed, and may redeliver what did not
        assert post_cloud_event(push, pubsub_cloud_event(m)).status_code == 200
    emails = sorted(c["properties"]["email"] for c in stack.contacts())
    assert emails == [f"c{i}@example.com" for i in range(n)]


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
