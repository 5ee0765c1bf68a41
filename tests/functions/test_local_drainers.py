"""The embedded mode's drainer threads: projects on different portals drain in parallel, each
under its own portal's lease; the sweep drains keys nobody woke a drainer for; after close,
wake-ups are refused."""

from typing import Any

import pytest

from shared import projects
from shared.drain.dirty import DirtyKeys, Key
from shared.errors import QueueUnavailable
from shared.hubspot.gateway import HubSpotGateway
from tests.plugins.stack import Stack


def second_project(stack: Stack) -> tuple[str, str, int]:
    account = stack.stripe.add_account()
    portal, token = stack.hubspot.add_portal()
    HubSpotGateway(token, stack.clock, stack.hubspot.base_url).ensure_schema()
    owner = projects.create_account(stack.runtime.store, "second@omniroo.test", stack.clock.now())
    project_id = projects.create_project(
        stack.runtime.store,
        stack.runtime.envelope,
        projects.NewProject(owner, account, False, token, str(portal)),
        stack.clock.now(),
    )
    return project_id, account, portal


def test_projects_on_two_portals_drain_at_the_same_time(stack: Stack) -> None:
    _, other_account, other_portal = second_project(stack)
    # Every HubSpot call takes SLOW seconds: drained one after the other, the second portal's
    # first call would start at least SLOW after the first portal's; drained in parallel, both
    # first calls are in flight together. (A margin for proof of overlap, not a speed target.)
    slow = 3.0
    stack.hubspot.fault("latency", count=None, seconds=slow, path_contains="/crm/")
    for account, n in ((stack.account, 3), (other_account, 3)):
        for i in range(n):
            stack.stripe.create_customer(account, email=f"p{i}@{account}.example")
    stack.hubspot.reset_requests()
    for event in [*stack.stripe.events(stack.account), *stack.stripe.events(other_account)]:
        assert stack.deliver(event).status_code in (200,)
    stack.drain()
    first = {}
    for portal in (stack.portal_id, other_portal):
        times = [r["at"] for r in stack.hubspot.requests if r["portal"] == portal]
        assert times, portal
        first[portal] = min(times)
    assert abs(first[stack.portal_id] - first[other_portal]) < slow  # in flight together
    assert len([c for c in stack.hubspot.records(other_portal, "contacts")]) == 3
    assert len(stack.contacts()) == 3


def test_the_sweep_drains_a_key_nobody_woke_a_drainer_for(stack: Stack) -> None:
    customer = stack.stripe.create_customer(stack.account, email="swept@example.com")
    DirtyKeys(stack.runtime.store, stack.clock).mark(
        Key(stack.project_id, "customer", customer["id"])
    )
    stack.drain()
    assert [c["properties"]["email"] for c in stack.contacts()] == ["swept@example.com"]
    assert stack.dirty() == []


def test_closed_drainers_refuse_wake_ups(stack: Stack) -> None:
    stack.runtime.drainers.close()
    with pytest.raises(QueueUnavailable):
        stack.runtime.drainers.wake(stack.project_id)


def test_a_failing_drain_is_logged_and_the_threads_carry_on(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from shared.drain import drainer

    calls: list[str] = []
    real = drainer.drain

    def flaky(project_id: str, deps: Any) -> Any:
        calls.append(project_id)
        if len(calls) == 1:
            raise RuntimeError("a bug")
        return real(project_id, deps)

    monkeypatch.setattr(drainer, "drain", flaky)
    stack.stripe.create_customer(stack.account, email="later@example.com")
    assert stack.deliver(stack.stripe.events(stack.account)[-1]).status_code == 200
    stack.drain()
    assert len(stack.contacts()) == 1
    assert "local drainer failed" in capsys.readouterr().out
