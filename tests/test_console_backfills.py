"""The console's two ways of getting a backfill stepped (``shared.console.backfills``), with a
project on SQLite and the Stripe double: a thread of this process locally, the jobs topic in gcp
mode (a list standing in for Pub/Sub, which has its own emulator tests)."""

import json
from pathlib import Path

import pytest

from doubles.stripe import StripeDouble
from shared.console.backfills import QueuedBackfills, ThreadBackfills
from shared.errors import QueueUnavailable
from shared.repair import backfill
from tests.repair_fixtures import make_repo


class Refusing:
    def publish(self, data: bytes, **attributes: str) -> None:
        raise QueueUnavailable("jobs topic unreachable")


class Kept:
    def __init__(self) -> None:
        self.sent: list[tuple[bytes, dict[str, str]]] = []

    def publish(self, data: bytes, **attributes: str) -> None:
        self.sent.append((data, attributes))


def test_a_thread_steps_the_backfill_to_the_end_and_wakes_the_drainer(
    tmp_path: Path, stripe_double: StripeDouble
) -> None:
    repo = make_repo(tmp_path, stripe_double)
    for n in range(3):
        stripe_double.create_customer(repo.account, email=f"c{n}@example.com")
    woken: list[str] = []
    threads = ThreadBackfills(repo.store, repo.clock, repo.gateway, woken.append)
    threads.launch(repo.project_id, ["customers"], {"customers": 3})
    assert threads.join(repo.project_id, timeout=30)
    done = backfill.progress(repo.store, repo.project_id)
    assert done is not None and (done.status, done.marked) == ("done", 3)
    assert woken == [repo.project_id]
    threads.resume(repo.project_id)  # nothing left to step: the thread ends at once
    assert threads.join(repo.project_id, timeout=30)


def test_the_jobs_topic_gets_the_first_step_or_the_backfill_is_cancelled(
    tmp_path: Path, stripe_double: StripeDouble
) -> None:
    repo = make_repo(tmp_path, stripe_double)
    kept = Kept()
    QueuedBackfills(repo.store, repo.clock, kept).launch(repo.project_id, ["customers"], None)
    [(data, attributes)] = kept.sent
    assert json.loads(data) == {"job": "backfill", "project_id": repo.project_id}
    assert attributes == {"job": "backfill"}
    backfill.cancel(repo.store, repo.clock, repo.project_id)

    with pytest.raises(QueueUnavailable):
        QueuedBackfills(repo.store, repo.clock, Refusing()).launch(
            repo.project_id, ["customers"], None
        )
    found = backfill.progress(repo.store, repo.project_id)
    assert found is not None and found.status == "cancelled"
    QueuedBackfills(repo.store, repo.clock, kept).launch(repo.project_id, ["customers"], None)
