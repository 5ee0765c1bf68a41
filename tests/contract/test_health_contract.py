"""Sync health counters on both stores: exact under concurrent writers (several instances, each
its own connection or client), per day, with the day's runs; counts and ids only."""

from collections.abc import Callable

import pytest

from shared.repair import health
from shared.repair.health import Run
from shared.store.base import EXPIRE_AT, FIELDS, Store
from tests.contract.backends import race

NOON = 1_800_014_400.0  # 2027-01-15T12:00:00Z
DAY = "2027-01-15"


def test_concurrent_increments_from_many_instances_are_all_counted(
    stores: Callable[[], Store],
) -> None:
    instances = [stores() for _ in range(4)]

    def work(i: int) -> None:
        for n in range(10):
            health.count(
                instances[i % 4], "prj_a", {"received": 1, "synced": 2 if n % 2 else 0}, NOON
            )

    race(16, work)
    counts = health.day(instances[0], "prj_a", DAY).counts
    assert counts == {
        "received": 160,
        "synced": 160,
        "skipped": 0,
        "failed": 0,
        "dead_lettered": 0,
        "replayed": 0,
    }


def test_days_are_separate_and_listed_newest_first_with_their_runs(store: Store) -> None:
    health.count(store, "prj_a", {"received": 3, "failed": 1}, NOON)
    health.count(store, "prj_a", {"received": 2}, NOON + 86_400)
    health.count(store, "prj_b", {"received": 7}, NOON)  # another project's day
    health.record_run(
        store, Run("run_1", "prj_a", "backfill", "done", NOON, NOON + 60, {"customer": 120})
    )
    health.record_run(store, Run("run_2", "prj_a", "reconcile", "running", NOON + 86_400))
    listed = health.days(store, "prj_a", NOON - 86_400, NOON + 86_400)
    assert [d.day for d in listed] == ["2027-01-16", DAY, "2027-01-14"]
    assert [d.counts["received"] for d in listed] == [2, 3, 0]
    assert listed[1].counts["failed"] == 1
    assert [r.run_id for r in listed[0].runs] == ["run_2"]
    assert listed[1].runs == (
        Run("run_1", "prj_a", "backfill", "done", NOON, NOON + 60, {"customer": 120}),
    )
    assert health.day(store, "prj_a", DAY).counts["received"] == 3


def test_counter_documents_hold_counts_only_and_expire_with_the_outcomes(store: Store) -> None:
    health.count(store, "prj_a", {"replayed": 4}, NOON, shard=3)
    doc = store.get(health.COLLECTION, f"prj_a:{DAY}:3")
    assert doc is not None
    assert set(doc) <= FIELDS[health.COLLECTION]
    expiry = doc[EXPIRE_AT]
    seconds = expiry.timestamp() if hasattr(expiry, "timestamp") else float(expiry)
    assert seconds == 1_800_057_600.0 + 30 * 86_400  # end of the day + the outcomes' 30 days


def test_unknown_counters_and_run_kinds_are_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="unknown health counters"):
        health.count(store, "prj_a", {"emails": 1}, NOON)
    with pytest.raises(ValueError, match="unknown run kind"):
        health.record_run(store, Run("run_x", "prj_a", "export", "done", NOON))
