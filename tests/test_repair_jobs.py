"""Job messages: a backfill chains invocations within the function's timeout and never forks; the
scheduled reconcile collects dead letters and fans out one message per connected project."""

import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from doubles.hubspot import HubSpotDouble
from doubles.stripe import StripeDouble
from shared.errors import BadRequest
from shared.queue.base import ThinMessage
from shared.repair import backfill, health, replay
from shared.repair.jobs import MARGIN, Job, JobDeps, handle, launch_backfill
from tests.repair_fixtures import PROJECT, Repo, make_repo


class Topic:
    """Stands in for the jobs topic: what was published, in order."""

    def __init__(self) -> None:
        self.published: list[tuple[Job, dict[str, str]]] = []

    def publish(self, data: bytes, **attributes: str) -> None:
        self.published.append((Job.decode(data), attributes))


class Held:
    """Stands in for the dead-letter subscription: messages until acknowledged."""

    def __init__(self, messages: Sequence[bytes]) -> None:
        self.waiting = {f"ack-{n}": data for n, data in enumerate(messages)}

    def pull(self, limit: int) -> list[tuple[str, bytes]]:
        return list(self.waiting.items())[:limit]

    def ack(self, ack_ids: Sequence[str]) -> None:
        for ack_id in ack_ids:
            self.waiting.pop(ack_id)


@pytest.fixture
def repo(
    tmp_path: Path, stripe_double: StripeDouble, hubspot_double: HubSpotDouble
) -> Iterator[Repo]:
    made = make_repo(tmp_path, stripe_double, hubspot_double, {"reconcile_drift": "off"})
    made.clock.t = time.time()
    yield made
    made.store.close()


def test_a_backfill_out_of_time_publishes_its_next_step(repo: Repo) -> None:
    repo.customers(3)
    backfill.start(repo.store, repo.clock, PROJECT, ["customers"])
    topic = Topic()
    job = Job("backfill", PROJECT)
    handle(job, JobDeps(repo.deps(), topic, timeout=MARGIN), repo.clock.now())  # no time left
    assert topic.published == [(job, {"job": "backfill"})]
    handle(job, JobDeps(repo.deps(), topic, timeout=540), repo.clock.now())
    assert len(topic.published) == 1  # finished: the chain ends
    found = backfill.progress(repo.store, PROJECT)
    assert found is not None and (found.status, found.marked) == ("done", 3)


def test_launch_starts_the_backfill_and_publishes_its_first_step(repo: Repo) -> None:
    topic = Topic()
    started = launch_backfill(repo.store, repo.clock, topic, PROJECT, ["customers"])
    assert started.status == "running"
    assert topic.published == [(Job("backfill", PROJECT), {"job": "backfill"})]
    with pytest.raises(backfill.Busy):
        launch_backfill(repo.store, repo.clock, topic, PROJECT, ["customers"])
    assert len(topic.published) == 1


def test_a_chain_never_forks_while_another_invocation_steps(repo: Repo) -> None:
    backfill.start(repo.store, repo.clock, PROJECT, ["customers"])
    other = backfill.BackfillDeps(repo.store, repo.gateway, repo.clock)
    assert backfill._lease(other, PROJECT) is not None
    topic = Topic()
    handle(Job("backfill", PROJECT), JobDeps(repo.deps(), topic, timeout=540), repo.clock.now())
    assert topic.published == []


def test_the_scheduled_reconcile_collects_dead_letters_and_fans_out(repo: Repo) -> None:
    project = repo.store.get("projects", PROJECT) or {}
    repo.store.put("projects", "prj_other", project)
    dead = ThinMessage(
        PROJECT, repo.account, "evt_dead", "customer.updated", "cus_x", "customer", 1, False
    )
    held = Held([dead.encode()])
    topic = Topic()
    handle(Job("reconcile"), JobDeps(repo.deps(), topic, 540, held), repo.clock.now())
    assert [j for j, _ in topic.published] == [
        Job("reconcile", "prj_other"),
        Job("reconcile", PROJECT),
    ]
    assert held.waiting == {}
    assert [f.event_id for f in replay.failures(repo.store, PROJECT)] == ["evt_dead"]
    repo.customers(1)
    handle(Job("reconcile", PROJECT), JobDeps(repo.deps(), topic, 540), repo.clock.now())
    [run] = health.day(repo.store, PROJECT, health.day_of(repo.clock.now())).runs
    assert (run.kind, run.status, run.counts["accepted"]) == ("reconcile", "done", 1)


def test_a_failing_project_reconcile_is_recorded_and_acknowledged(repo: Repo) -> None:
    project = repo.store.get("projects", PROJECT) or {}
    repo.store.put("projects", PROJECT, {**project, "stripe_account": "acct_revoked"})
    handle(Job("reconcile", PROJECT), JobDeps(repo.deps(), Topic(), 540), repo.clock.now())
    [run] = health.day(repo.store, PROJECT, health.day_of(repo.clock.now())).runs
    assert run.status == "failed"


def test_other_jobs_are_left_to_their_function_and_bad_messages_refused(repo: Repo) -> None:
    topic = Topic()
    handle(Job("purge"), JobDeps(repo.deps(), topic, 540), repo.clock.now())
    assert topic.published == []
    with pytest.raises(BadRequest):
        handle(Job("backfill"), JobDeps(repo.deps(), topic, 540), repo.clock.now())
    for raw in (b"nope", b"[]", b'{"job": 1}', b'{"job": "backfill", "project_id": 7}'):
        with pytest.raises(BadRequest):
            Job.decode(raw)
    assert Job.decode(Job("backfill", PROJECT).encode()) == Job("backfill", PROJECT)
