"""Issue 13's finding on the new write path: ``hubspot_push`` once synced whatever Stripe account
a queue message named. Now a message names only a project, and a key only a project and an
object id; the drainer reads Stripe as the project's own account and writes the project's own
portal. So a wake-up, or a dirty key naming another tenant's object (a forged or mistaken mark:
replay, backfill and reconcile mark keys too), can never write into the wrong portal."""

from typing import Any

from shared.drain.dirty import DirtyKeys, Key
from shared.queue.base import WakeUp
from tests.plugins.stack import Stack, function_client
from tests.pubsub_events import post_cloud_event, pubsub_cloud_event
from tooling import ready


def wake(push: Any, project_id: str) -> int:
    """A wake-up for ``project_id`` delivered to ``hubspot_push`` as Pub/Sub pushes it."""
    return int(post_cloud_event(push, pubsub_cloud_event(WakeUp(project_id).encode())).status_code)


def contact_ids(stack: Stack, portal_id: int) -> list[str]:
    return sorted(
        str(r["properties"]["stripe_customer_id"])
        for r in stack.hubspot.records(portal_id, "contacts")
        if not r["archived"]
    )


def test_a_key_naming_another_tenants_object_never_reaches_either_portal_wrongly(
    stack: Stack,
) -> None:
    stack.runtime.drainers.close()  # only the wake-ups below drain
    runtime = stack.runtime
    other = ready.ready_project(
        stack.stripe, stack.hubspot, runtime.store, runtime.envelope, stack.clock
    )
    theirs = stack.stripe.create_customer(other.account, email="victim@tenant-b.example")["id"]
    mine = stack.stripe.create_customer(stack.account, email="mine@tenant-a.example")["id"]
    keys = DirtyKeys(runtime.store, stack.clock)
    keys.mark(Key(stack.project_id, "customer", theirs))  # names the other tenant's customer
    keys.mark(Key(stack.project_id, "customer", mine))
    keys.mark(Key(other.project_id, "customer", theirs))  # the other tenant's own key for it
    stack.stripe.reset_requests()
    push = function_client("hubspot_push", "cloudevent")

    assert wake(push, stack.project_id) == 200

    assert contact_ids(stack, stack.portal_id) == [mine]
    assert contact_ids(stack, other.portal_id) == []  # a wake-up drains its own portal only
    assert {r["account"] for r in stack.stripe.requests} == {stack.account}
    outcomes = {doc["stripe_id"]: doc for doc in stack.outcomes().values()}
    assert (outcomes[theirs]["status"], outcomes[theirs]["error_code"]) == (
        "failed",
        "stripe_resource_missing",
    )
    assert [d["project_id"] for d in stack.dirty()] == [other.project_id]

    stack.stripe.reset_requests()
    assert wake(push, other.project_id) == 200

    assert contact_ids(stack, other.portal_id) == [theirs]  # in its own portal, once
    assert contact_ids(stack, stack.portal_id) == [mine]
    assert {r["account"] for r in stack.stripe.requests} == {other.account}
    assert stack.dirty() == []


def test_a_wake_up_for_an_unknown_project_writes_nothing(stack: Stack) -> None:
    stack.runtime.drainers.close()
    stack.stripe.create_customer(stack.account, email="waiting@tenant-a.example")
    assert stack.deliver(stack.stripe.events(stack.account)[-1]).status_code == 200
    stack.hubspot.reset_requests()
    push = function_client("hubspot_push", "cloudevent")

    assert wake(push, "prj_0000000000000000") == 200

    assert [r for r in stack.hubspot.requests if r["path"].startswith("/crm/")] == []
    assert len(stack.dirty()) == 1  # this project's key waits for its own drainer
