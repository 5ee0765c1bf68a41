"""Drift: HubSpot records whose Omniroo properties no longer say what Stripe says now (edited by
hand, or left wrong by an event that never arrived).

A drift check walks the project's customers and subscriptions pages, plans each one with the
drainer's collectors (``shared.repair.planning``: exactly what a sync would write now), reads the
records the plans name from HubSpot (batch reads of 100 by their unique Stripe-id properties) and
marks the key of every object whose records are missing or hold another value in a property
Omniroo writes. The drainer then rewrites them. Associations are not compared.

The walk's position is kept per project between runs (``drift_cursors``, ids only): a ``sampled``
run checks up to ``limit`` objects and the next run goes on from there, so successive runs cover
the whole account; a ``full`` run goes to the end. Either way, once the last page is checked the
next run starts again at the top.

Values are compared as HubSpot stores them: an empty value and an absent one are equal, numbers
by value ("15" = "15.00"), emails without case, and a date equals the same day at midnight UTC.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from shared.drain.dirty import DirtyKeys, Key, Mark
from shared.hubspot.gateway import HubSpotGateway
from shared.mapping.ops import Upsert
from shared.project_settings import ProjectSettings
from shared.repair import listing, planning
from shared.repair.deps import RepairDeps
from shared.store.base import EXPIRE_AT, Doc
from shared.sync.outcomes import TTL_SECONDS

CURSORS = "drift_cursors"
CHUNK = 5000  # objects planned together, as a drain round plans them (shared Stripe pages)
WALKED = ("subscriptions", "customers")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Drift:
    checked: int = 0  # objects planned and compared
    differing: int = 0  # objects with a record holding another value
    missing: int = 0  # objects with a record HubSpot does not have
    failed: int = 0  # objects the sync would fail for anyway (not marked)
    marked: tuple[Key, ...] = ()
    wrapped: bool = False  # this run reached the end: the next starts at the top


def check(
    deps: RepairDeps,
    project_id: str,
    project: Doc,
    limit: int | None,
    deadline: float | None = None,
) -> Drift:
    """Check up to ``limit`` objects (None: to the end), stopping early at ``deadline``."""
    account = str(project.get("stripe_account") or "")
    settings = ProjectSettings.from_doc(project.get("settings"))
    hubspot = deps.gateway(project_id)
    cursor = deps.store.get(CURSORS, project_id) or {"kind": 0, "trail": []}
    kind, trail = int(cursor["kind"]) % len(WALKED), tuple(cursor["trail"])
    totals: dict[str, int] = {"checked": 0, "differing": 0, "missing": 0, "failed": 0}
    marked: list[Key] = []
    pending: list[Key] = []
    read_so_far, wrapped = 0, False

    def flush() -> None:
        """Compare and mark what was read, then save the position after it (never before:
        a crash re-checks a chunk, it never skips one)."""
        found = _compare(deps, hubspot, account, settings, pending, totals)
        DirtyKeys(deps.store, deps.clock).mark_many([Mark(k) for k in found])
        marked.extend(found)
        pending.clear()
        _save(deps, project_id, kind, trail)

    while limit is None or read_so_far < limit:
        if deadline is not None and deps.clock.now() >= deadline:
            break
        size = listing.PAGE if limit is None else min(listing.PAGE, limit - read_so_far)
        walk = listing.walk(WALKED[kind], WALKED)
        read = listing.read_page(deps.stripe, account, walk, trail, size)
        keys = listing.keys_of(project_id, walk, read.objects)
        pending += keys
        read_so_far += len(keys)
        trail = listing.advanced(read)
        if not read.more:
            kind, trail = kind + 1, ()
            if kind == len(WALKED):
                kind, wrapped = 0, True
        if len(pending) >= CHUNK or wrapped:
            flush()
        if wrapped:
            break
    flush()
    return Drift(**totals, marked=tuple(dict.fromkeys(marked)), wrapped=wrapped)


def _save(deps: RepairDeps, project_id: str, kind: int, trail: Sequence[str]) -> None:
    doc = {"project_id": project_id, "kind": kind, "trail": list(trail)}
    deps.store.put(CURSORS, project_id, {**doc, EXPIRE_AT: deps.clock.now() + TTL_SECONDS})


def _compare(
    deps: RepairDeps,
    hubspot: HubSpotGateway,
    account: str,
    settings: ProjectSettings,
    keys: Sequence[Key],
    totals: dict[str, int],
) -> list[Key]:
    """The keys whose records differ from their plans (counting into ``totals``)."""
    planned = planning.plan(deps.stripe, account, settings, deps.clock.now(), keys)
    totals["checked"] += len(keys)
    totals["failed"] += len(planned.failed)
    held: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    for (object_type, id_property), ops in planning.by_type(planned.upserts()).items():
        names = sorted({name for op in ops for name in op.properties})
        held[(object_type, id_property)] = planning.read_by(
            hubspot, object_type, id_property, [op.id for op in ops], names
        )
    differing: list[Key] = []
    for key, plan in planned.ops.items():
        upserts = [op for op in plan if isinstance(op, Upsert)]
        records = [held[(op.object_type, op.id_property)].get(op.id) for op in upserts]
        if any(record is None for record in records):
            totals["missing"] += 1
            differing.append(key)
        elif any(
            not _matches(op.properties, (record or {}).get("properties") or {})
            for op, record in zip(upserts, records, strict=True)
        ):
            totals["differing"] += 1
            differing.append(key)
    return differing


def _matches(ours: Mapping[str, str], theirs: Mapping[str, Any]) -> bool:
    return all(same(name, value, theirs.get(name)) for name, value in ours.items())


def same(name: str, ours: Any, theirs: Any) -> bool:
    """Whether HubSpot's stored ``theirs`` is the value Omniroo writes as ``ours``."""
    a, b = str(ours if ours is not None else "").strip(), str(theirs if theirs is not None else "")
    b = b.strip()
    if a == b:
        return True
    if not a or not b:
        return False
    if name == "email":
        return a.lower() == b.lower()
    if _DAY.match(a) and b.startswith(a + "T00:00:00"):
        return True
    try:
        return Decimal(a) == Decimal(b)
    except InvalidOperation:
        return False
