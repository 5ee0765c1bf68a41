"""Replay: put failed and dead-lettered work back on the write path, by marking its keys again.

A failure is either a ``failed`` sync outcome (a record HubSpot refused, or a key the drainer gave
up on after its retries) or a dead letter (an event id that ran out of queue deliveries, with the
object it named when known). Replaying one marks the key of its Stripe object again, with the
event it stood for, so the drainer refetches the object and writes it, and the outcome it then
records replaces the failed one. The failure is set ``replayed`` (an outcome) or removed (a dead
letter) so it is not replayed twice, and each replay is counted in sync health.

A dead letter that names no object is resolved through Stripe's Retrieve Event (events stay
retrievable for 30 days); one Stripe no longer has stays and is reported ``unresolved``.

Library calls (the console's failures page and ``tooling.cli replay``):

- ``latest(store, project_id, code=None, limit=WINDOW) -> Latest``: the newest ``limit``
  failures (of ``code``), and whether older ones may exist; ``failures(...)`` the same as a list;
- ``counted(store, project_id) -> Counted`` / ``by_code(store, project_id) -> dict[str, int]``:
  the latest ``WINDOW`` failures counted by error code;
- ``one_failure(store, project_id, failure_id) -> Failure | None``: one, by id (one read);
- ``replay_one(deps, project_id, failure_id) -> Replayed``;
- ``replay_code(deps, project_id, code) -> Replayed``; ``replay_all(deps, project_id)``.

Nothing reads all of a project's outcomes or dead letters (a month-start burst leaves 50,000+):
a listing is one newest-first query of each, at most ``WINDOW`` documents apiece, and replaying
a code or all goes through them a chunk at a time, newest first, until none is left or
``REPLAY_CAP`` failures were tried in the call (``Replayed.more`` then says so: call again).
"""

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from shared.drain.dirty import DirtyKeys, Key, Mark
from shared.errors import NotFound, PermanentFailure
from shared.events import EVENT_OBJECTS
from shared.repair import health
from shared.repair.deps import RepairDeps
from shared.store.base import Doc, Store
from shared.sync import outcomes

DEAD_LETTERS = "dead_letters"
DEAD = "dl:"  # a dead letter's failure id is its event id behind this prefix
DEAD_LETTERED = "dead_lettered"  # the error code every dead letter shows
FAILED = "failed"
WINDOW = 1000  # newest failed outcomes, and newest dead letters, one listing reads at most
CHUNK = 200  # failures one replay step marks at once
REPLAY_CAP = 10_000  # failures one replay_code / replay_all call tries at most


@dataclass(frozen=True)
class Failure:
    id: str  # the outcome's id, or DEAD + the dead letter's event id
    project_id: str
    source: str  # "outcome" | "dead_letter"
    event_id: str
    event_type: str
    stripe_id: str  # "" when a dead letter does not name its object
    kind: str
    error_code: str
    at: float


@dataclass(frozen=True)
class Replayed:
    marked: tuple[Key, ...] = ()
    replayed: int = 0  # failures put back on the write path
    unresolved: dict[str, int] = field(default_factory=dict)  # reason -> failures left as they are
    more: bool = False  # stopped at REPLAY_CAP: failures may be left, call again


@dataclass(frozen=True)
class Latest:
    failures: tuple[Failure, ...]  # newest first
    more: bool  # older failures may exist beyond these


@dataclass(frozen=True)
class Counted:
    counts: dict[str, int]  # error code -> failures, most first
    more: bool  # counted among the newest WINDOW of each source only; older ones may exist


def kind_of(event_type: str) -> str:
    """The Stripe object an outcome's type names: an event type, or ``<kind>.sync`` for a key
    marked without an event (backfill, reconcile)."""
    return EVENT_OBJECTS.get(event_type) or event_type.removesuffix(".sync")


def _from_outcome(doc_id: str, doc: Doc) -> Failure:
    event_type = str(doc.get("type") or "")
    return Failure(
        doc_id,
        str(doc["project_id"]),
        "outcome",
        str(doc.get("event_id") or ""),
        event_type,
        str(doc.get("stripe_id") or ""),
        kind_of(event_type),
        str(doc.get("error_code") or ""),
        float(doc.get("at") or 0),
    )


def _from_dead_letter(doc_id: str, doc: Doc) -> Failure:
    event_type = str(doc.get("type") or "")
    return Failure(
        DEAD + doc_id,
        str(doc["project_id"]),
        "dead_letter",
        str(doc.get("event_id") or doc_id),
        event_type,
        str(doc.get("object_id") or ""),
        str(doc.get("object_type") or "") or EVENT_OBJECTS.get(event_type, ""),
        DEAD_LETTERED,
        float(doc.get("at") or 0),
    )


def latest(
    store: Store,
    project_id: str,
    code: str | None = None,
    limit: int = WINDOW,
    upto: float = math.inf,
) -> Latest:
    """The project's newest ``limit`` failures recorded at ``upto`` or before (of ``code`` when
    given): one query of at most ``limit + 1`` failed outcomes and one of at most ``limit + 1``
    dead letters (the one more tells whether older ones exist), merged."""
    limit = max(limit, 1)
    found: list[Failure] = []
    if code != DEAD_LETTERED:
        failed = outcomes.latest(store, project_id, limit + 1, FAILED, code, upto)
        found += [_from_outcome(i, d) for i, d in failed]
    if code in (None, DEAD_LETTERED):
        dead = store.query(
            DEAD_LETTERS, {"project_id": project_id}, "at", upto, limit + 1, descending=True
        )
        found += [_from_dead_letter(i, d) for i, d in dead]
    found.sort(key=lambda f: (-f.at, f.id))
    return Latest(tuple(found[:limit]), len(found) > limit)


def failures(
    store: Store, project_id: str, code: str | None = None, limit: int | None = None
) -> list[Failure]:
    """The project's newest failures (``WINDOW`` at most), newest first; of ``code`` when given."""
    return list(latest(store, project_id, code, min(limit or WINDOW, WINDOW)).failures)


def counted(store: Store, project_id: str) -> Counted:
    """The newest ``WINDOW`` failures counted by error code, most first: ``2 * (WINDOW + 1)``
    reads at most."""
    window = latest(store, project_id)
    counts = Counter(f.error_code for f in window.failures)
    return Counted(dict(sorted(counts.items(), key=lambda item: (-item[1], item[0]))), window.more)


def by_code(store: Store, project_id: str) -> dict[str, int]:
    return counted(store, project_id).counts


def one_failure(store: Store, project_id: str, failure_id: str) -> Failure | None:
    """One failure of the project by its id, or None (replayed already, or never one)."""
    found: Failure | None = None
    if failure_id.startswith(DEAD):
        doc_id = failure_id.removeprefix(DEAD)
        doc = store.get(DEAD_LETTERS, doc_id)
        found = None if doc is None else _from_dead_letter(doc_id, doc)
    else:
        doc = store.get(outcomes.COLLECTION, failure_id)
        if doc is not None and doc.get("status") == FAILED:
            found = _from_outcome(failure_id, doc)
    return found if found is not None and found.project_id == project_id else None


def replay_one(deps: RepairDeps, project_id: str, failure_id: str) -> Replayed:
    chosen = one_failure(deps.store, project_id, failure_id)
    if chosen is None:
        raise NotFound(f"no failure {failure_id} in project {project_id}")
    return _replay(deps, project_id, [chosen])


def replay_code(
    deps: RepairDeps, project_id: str, code: str, cap: int = REPLAY_CAP, chunk: int = CHUNK
) -> Replayed:
    return _replay_every(deps, project_id, code, cap, chunk)


def replay_all(
    deps: RepairDeps, project_id: str, cap: int = REPLAY_CAP, chunk: int = CHUNK
) -> Replayed:
    return _replay_every(deps, project_id, None, cap, chunk)


def _replay_every(
    deps: RepairDeps, project_id: str, code: str | None, cap: int, chunk: int
) -> Replayed:
    """Every failure (of ``code``), newest first, ``chunk`` at a time: a replayed failure leaves
    the failed set, so asking again for the newest advances. One that stays (its event gone) is
    remembered and, once a whole window is of those, the window moves below it. Stops after
    ``cap`` failures tried, with ``more`` set if any may be left."""
    tried: set[str] = set()
    marked: dict[Key, None] = {}
    replayed, unresolved = 0, Counter[str]()
    upto = math.inf
    while True:
        if len(tried) >= cap:
            probe = latest(deps.store, project_id, code, chunk, upto)
            more = probe.more or bool(_fresh(probe, tried))
            break
        window = latest(deps.store, project_id, code, min(chunk, cap - len(tried)), upto)
        fresh = _fresh(window, tried)
        if fresh:
            done = _replay(deps, project_id, fresh)
            tried.update(f.id for f in fresh)
            marked.update(dict.fromkeys(done.marked))
            replayed += done.replayed
            unresolved.update(done.unresolved)
            continue
        if not window.more:
            more = False
            break
        upto = math.nextafter(min(f.at for f in window.failures), -math.inf)
    if not tried:
        _replay(deps, project_id, [])  # still refuses a project that does not exist
    return Replayed(tuple(marked), replayed, dict(unresolved), more)


def _fresh(window: Latest, tried: set[str]) -> list[Failure]:
    return [f for f in window.failures if f.id not in tried]


def _replay(deps: RepairDeps, project_id: str, chosen: Sequence[Failure]) -> Replayed:
    project = deps.store.get("projects", project_id)
    if project is None:
        raise NotFound(f"no project {project_id}")
    account = str(project.get("stripe_account") or "")
    marks: list[tuple[Failure, Mark]] = []
    unresolved: Counter[str] = Counter()
    for failure in chosen:
        kind, object_id = failure.kind, failure.stripe_id
        if not object_id:
            kind, object_id, reason = _resolve(deps, account, failure.event_id)
            if reason:
                unresolved[reason] += 1
                continue
        marks.append(
            (failure, Mark(Key(project_id, kind, object_id), failure.event_id, failure.event_type))
        )
    DirtyKeys(deps.store, deps.clock).mark_many([m for _, m in marks])  # before the records go
    for failure, _ in marks:
        _settle(deps.store, failure)
    health.count(deps.store, project_id, {"replayed": len(marks)}, deps.clock.now())
    if marks:
        deps.woken(project_id)
    keys = tuple(dict.fromkeys(m.key for _, m in marks))
    return Replayed(keys, len(marks), dict(unresolved))


def _resolve(deps: RepairDeps, account: str, event_id: str) -> tuple[str, str, str]:
    """(kind, object id, "") of an event's object, or ("", "", why not)."""
    try:
        event = deps.stripe.fetch("event", event_id, account)
    except PermanentFailure as exc:
        return "", "", "event_gone" if exc.code == "stripe_resource_missing" else exc.code
    obj = (event.get("data") or {}).get("object") or {}
    object_id, kind = str(obj.get("id") or ""), str(obj.get("object") or "")
    if not object_id or not kind:
        return "", "", "event_without_object"
    return kind, object_id, ""


def _settle(store: Store, failure: Failure) -> None:
    if failure.source == "dead_letter":
        store.delete(DEAD_LETTERS, failure.id.removeprefix(DEAD))
        return

    def replayed(doc: Doc | None) -> Doc | None:
        if doc is None or doc.get("status") != FAILED:
            return None  # written again meanwhile
        return {**doc, "status": "replayed"}

    store.update(outcomes.COLLECTION, failure.id, replayed)
