"""Sync health: per project and UTC day, how many events were received, synced, skipped, failed,
dead-lettered and replayed, and which backfill and reconcile runs there were (ids and counts only,
never customer data).

Library calls (the console's sync-health page uses these):

- ``count(store, project_id, {"received": 1}, now)`` adds to a day's counters (the webhook,
  reconcile, replay, the dead letters); ``count_settled`` adds a drain round's outcomes;
- ``day(store, project_id, "2026-11-30") -> DayHealth`` and
  ``days(store, project_id, since, until) -> list[DayHealth]`` read them back, newest day first,
  each with the day's runs (``Run``: id, kind, status, counts);
- ``record_run(store, run)`` stores or updates one run.

Counters are sharded (firebase.google.com/docs/firestore/solutions/counters): an increment is one
blind ``Store.increment`` write (Firestore's server-side ``Increment``; one SQL upsert locally) to
one of ``SHARDS`` documents of its (project, day), picked at random. No read, so concurrent
writers (webhook instances, drainers) never abort each other and none loses another's increment,
and the load on one document is a ``SHARDS``-th of the project's. A day is read by summing its
shards. A caller that settles many keys at once adds them in one call. (A first version used
``Store.update`` transactions: 16 writers on 8 shards made the Firestore emulator abort them.)
Counter and run documents expire with the outcomes (30 days after their day ends).
"""

import random
from collections import Counter, defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from shared import logs
from shared.drain.dirty import Taken
from shared.errors import StoreUnavailable
from shared.store.base import EXPIRE_AT, Doc, Store
from shared.sync.outcomes import TTL_SECONDS, Outcome

COLLECTION = "health"
RUNS = "runs"
SHARDS = 8
COUNTERS = ("received", "synced", "skipped", "failed", "dead_lettered", "replayed")
RUN_KINDS = ("backfill", "reconcile")
DAY_SECONDS = 24 * 3600


def day_of(moment: float) -> str:
    """The UTC day of a moment, as ``YYYY-MM-DD``."""
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d")


def _day_end(day: str) -> float:
    start = datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC)
    return (start + timedelta(days=1)).timestamp()


@dataclass(frozen=True)
class Run:
    """One backfill or reconcile run: its id, what it is, and what it counted."""

    run_id: str
    project_id: str
    kind: str  # backfill | reconcile
    status: str  # running | done | cancelled | failed
    started_at: float
    finished_at: float = 0.0
    counts: Mapping[str, int] = field(default_factory=dict)

    def to_doc(self) -> Doc:
        return {
            "project_id": self.project_id,
            "kind": self.kind,
            "status": self.status,
            "day": day_of(self.started_at),
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "counts": {name: int(value) for name, value in sorted(self.counts.items())},
            EXPIRE_AT: _day_end(day_of(self.started_at)) + TTL_SECONDS,
        }

    @classmethod
    def from_doc(cls, run_id: str, doc: Doc) -> "Run":
        return cls(
            run_id,
            str(doc["project_id"]),
            str(doc["kind"]),
            str(doc["status"]),
            float(doc["started_at"]),
            float(doc.get("finished_at") or 0.0),
            {str(k): int(v) for k, v in (doc.get("counts") or {}).items()},
        )


@dataclass(frozen=True)
class DayHealth:
    project_id: str
    day: str
    counts: Mapping[str, int]  # every name of COUNTERS, 0 when nothing happened
    runs: tuple[Run, ...] = ()


def count(
    store: Store,
    project_id: str,
    counts: Mapping[str, int],
    now: float,
    shard: int | None = None,
) -> None:
    """Add ``counts`` (names of ``COUNTERS``) to the project's counters of the day of ``now``."""
    unknown = set(counts) - set(COUNTERS)
    if unknown:
        raise ValueError(f"unknown health counters: {sorted(unknown)}")
    adding = {name: int(n) for name, n in counts.items() if n}
    if not adding:
        return
    day = day_of(now)
    chosen = random.randrange(SHARDS) if shard is None else shard % SHARDS  # noqa: S311
    fields = {"project_id": project_id, "day": day, EXPIRE_AT: _day_end(day) + TTL_SECONDS}
    store.increment(COLLECTION, f"{project_id}:{day}:{chosen}", adding, fields)


def count_settled(
    store: Store,
    settled: Sequence[tuple[Taken, Outcome]],
    given_up: Collection[Taken],
    now: float,
) -> None:
    """What a drain round settled, counted per project in one increment each: every key counts
    its events (at least one: a key a backfill or reconcile marked has none) under its outcome's
    status, or ``dead_lettered`` when its retries ran out. A count the store refuses is logged:
    the round's keys are already settled, and retrying them would write HubSpot again."""
    by_project: dict[str, Counter[str]] = defaultdict(Counter)
    for taken, outcome in settled:
        name = "dead_lettered" if taken in given_up else outcome.status
        if name in COUNTERS:
            by_project[taken.key.project_id][name] += max(taken.event_count, 1)
    for project_id, counts in sorted(by_project.items()):
        try:
            count(store, project_id, counts, now)
        except StoreUnavailable:
            logs.warning("sync health not counted", project_id=project_id)


def record_run(store: Store, run: Run) -> None:
    if run.kind not in RUN_KINDS:
        raise ValueError(f"unknown run kind {run.kind!r}")
    store.put(RUNS, run.run_id, run.to_doc())


def run(store: Store, run_id: str) -> Run | None:
    doc = store.get(RUNS, run_id)
    return None if doc is None else Run.from_doc(run_id, doc)


def day(store: Store, project_id: str, day: str) -> DayHealth:
    """One day's counters and runs of a project."""
    totals = dict.fromkeys(COUNTERS, 0)
    for shard in range(SHARDS):
        doc = store.get(COLLECTION, f"{project_id}:{day}:{shard}")
        for name in COUNTERS:
            totals[name] += int((doc or {}).get(name) or 0)
    runs = [Run.from_doc(i, d) for i, d in store.find(RUNS, "project_id", project_id)]
    return DayHealth(project_id, day, totals, _of_day(runs, day))


def days(store: Store, project_id: str, since: float, until: float) -> list[DayHealth]:
    """Every day from the day of ``since`` to the day of ``until``, newest first (one query for
    the counters and one for the runs, however many days)."""
    wanted: list[str] = []
    moment = since
    while day_of(moment) <= day_of(until):
        wanted.append(day_of(moment))
        moment += DAY_SECONDS
    totals = {d: dict.fromkeys(COUNTERS, 0) for d in wanted}
    for _, doc in store.find(COLLECTION, "project_id", project_id):
        if doc.get("day") in totals:
            for name in COUNTERS:
                totals[str(doc["day"])][name] += int(doc.get(name) or 0)
    runs = [Run.from_doc(i, d) for i, d in store.find(RUNS, "project_id", project_id)]
    return [DayHealth(project_id, d, totals[d], _of_day(runs, d)) for d in reversed(wanted)]


def _of_day(runs: list[Run], day: str) -> tuple[Run, ...]:
    return tuple(
        sorted((r for r in runs if day_of(r.started_at) == day), key=lambda r: r.started_at)
    )
