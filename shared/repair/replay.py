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

- ``failures(store, project_id, code=None, limit=None) -> list[Failure]``, newest first;
- ``by_code(store, project_id) -> dict[str, int]``: the latest failures counted by error code;
- ``replay_one(deps, project_id, failure_id) -> Replayed``;
- ``replay_code(deps, project_id, code) -> Replayed``; ``replay_all(deps, project_id)``.
"""

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
        "dead_lettered",
        float(doc.get("at") or 0),
    )


def failures(
    store: Store, project_id: str, code: str | None = None, limit: int | None = None
) -> list[Failure]:
    """The project's failures, newest first; only those of ``code`` when given."""
    found = [
        _from_outcome(i, d)
        for i, d in store.find(outcomes.COLLECTION, "project_id", project_id)
        if d.get("status") == "failed"
    ] + [_from_dead_letter(i, d) for i, d in store.find(DEAD_LETTERS, "project_id", project_id)]
    chosen = [f for f in found if code is None or f.error_code == code]
    chosen.sort(key=lambda f: (-f.at, f.id))
    return chosen if limit is None else chosen[:limit]


def by_code(store: Store, project_id: str) -> dict[str, int]:
    counted = Counter(f.error_code for f in failures(store, project_id))
    return dict(sorted(counted.items(), key=lambda item: (-item[1], item[0])))


def replay_one(deps: RepairDeps, project_id: str, failure_id: str) -> Replayed:
    chosen = [f for f in failures(deps.store, project_id) if f.id == failure_id]
    if not chosen:
        raise NotFound(f"no failure {failure_id} in project {project_id}")
    return _replay(deps, project_id, chosen)


def replay_code(deps: RepairDeps, project_id: str, code: str) -> Replayed:
    return _replay(deps, project_id, failures(deps.store, project_id, code))


def replay_all(deps: RepairDeps, project_id: str) -> Replayed:
    return _replay(deps, project_id, failures(deps.store, project_id))


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
        if doc is None or doc.get("status") != "failed":
            return None  # written again meanwhile
        return {**doc, "status": "replayed"}

    store.update(outcomes.COLLECTION, failure.id, replayed)
