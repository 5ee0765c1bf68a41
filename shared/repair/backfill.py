"""Backfill: bring a project's existing Stripe objects into HubSpot through the write path.

A backfill walks the project's Stripe objects of the chosen kinds (``shared.repair.listing``),
100 a page, and marks a dirty key for each; the per-portal drainer then reads, maps and writes
them in batches under the portal's budget, exactly as it does for webhook events. Nothing here
writes to HubSpot.

One document per project (collection ``backfills``, id = project id) holds the run: the kinds,
the kind being walked and its cursor trail, counts per kind, the estimate, the status, and a lease
so that two invocations never step the same backfill at once. Ids and counts only.

Nothing duplicated or missing after a crash: a page's keys are durably marked *before* the cursor
moves past it, and the cursor moves only in a transaction that checks the lease. A crash between
the two re-reads and re-marks that page: marks are idempotent and HubSpot writes are upserts by
Stripe id, so nothing is written twice as a new record, and no page is ever skipped.

Paced by the drainer: a step marks no more while the project's oldest due key has waited longer
than ``LAG`` seconds, so live events never queue behind more than about that much backfill work.

Library calls (the console and ``tooling.cli`` use these; ``Progress`` is what they show):

- ``start(store, clock, project_id, kinds, estimate=None) -> Progress`` (``Busy`` if one runs);
- ``step(deps, project_id, deadline) -> Progress``: walk pages until done, cancelled or the
  deadline (gcp mode chains invocations, each stepping within the function's timeout:
  ``shared.repair.jobs``, through ``try_step``);
- ``cancel(store, clock, project_id) -> Progress``; ``progress(store, project_id)``.
"""

import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from shared import logs
from shared.clock import Clock
from shared.drain.dirty import COLLECTION as DIRTY_KEYS
from shared.drain.dirty import DirtyKeys
from shared.errors import BadRequest, NotFound, PermanentFailure
from shared.repair import health, listing
from shared.repair.health import Run
from shared.repair.progress import FINAL, Progress, progress_of
from shared.store.base import EXPIRE_AT, Doc, Store
from shared.sync import outcomes

COLLECTION = "backfills"
LEASE_SECONDS = 30.0
LAG = 30.0  # seconds the project's oldest due key may wait before the backfill stops marking
PAUSE = 2.0
TTL_SECONDS = outcomes.TTL_SECONDS


class Busy(BadRequest):
    """A backfill of this project is already running."""

    status = 409


@dataclass
class BackfillDeps:
    store: Store
    stripe: listing.Pages
    clock: Clock
    wake: Callable[[str], None] | None = None  # ask for the project's drainer (best effort)
    lag: float = LAG
    lease: float = LEASE_SECONDS  # how long a step owns the backfill past its last page
    owner: str = field(default_factory=lambda: secrets.token_hex(8))


def start(
    store: Store,
    clock: Clock,
    project_id: str,
    kinds: Sequence[str],
    estimate: Mapping[str, int] | None = None,
) -> Progress:
    """Begin a backfill of ``kinds``; ``estimate`` (per kind, e.g. a preview's counts) makes the
    progress exact from the start."""
    try:
        walked = listing.chosen(kinds)
    except ValueError as exc:
        raise BadRequest(str(exc)) from exc
    if store.get("projects", project_id) is None:
        raise NotFound(f"no project {project_id}")
    now = clock.now()
    fresh: Doc = {
        "project_id": project_id,
        "run_id": f"bf_{secrets.token_hex(8)}",
        "status": "running",
        "kinds": list(walked),
        "kind": 0,
        "trail": [],
        "done": dict.fromkeys(walked, 0),
        "estimate": {k: int((estimate or {}).get(k, 0)) for k in walked},
        "exact": estimate is not None,
        "more": True,
        "error_code": "",
        "started_at": now,
        "updated_at": now,
        "finished_at": 0.0,
        "lease_owner": "",
        "lease_until": 0.0,
        EXPIRE_AT: now + TTL_SECONDS,
    }

    def begin(doc: Doc | None) -> Doc | None:
        return fresh if doc is None or doc.get("status") in FINAL else None

    stored = store.update(COLLECTION, project_id, begin)
    if stored is None or stored["run_id"] != fresh["run_id"]:
        raise Busy(f"a backfill of {project_id} is already running")
    _record(store, stored)
    logs.info("backfill started", project_id=project_id, run_id=fresh["run_id"])
    return progress_of(stored)


def progress(store: Store, project_id: str) -> Progress | None:
    doc = store.get(COLLECTION, project_id)
    return None if doc is None else progress_of(doc)


def cancel(store: Store, clock: Clock, project_id: str) -> Progress:
    """Stop a running backfill after its current page (a finished one is left as it is). Keys
    already marked still sync."""
    now = clock.now()

    def stop(doc: Doc | None) -> Doc | None:
        if doc is None or doc.get("status") in FINAL:
            return None
        return {**doc, "status": "cancelled", "finished_at": now, "updated_at": now}

    doc = store.update(COLLECTION, project_id, stop)
    if doc is None:
        raise NotFound(f"no backfill of {project_id}")
    _record(store, doc)
    return progress_of(doc)


def step(deps: BackfillDeps, project_id: str, deadline: float) -> Progress:
    """Walk pages until the backfill is finished or ``deadline`` (seconds since the epoch).
    Returns at once, changing nothing, when another invocation holds the lease."""
    stepped = try_step(deps, project_id, deadline)
    if stepped is not None:
        return stepped
    found = progress(deps.store, project_id)
    if found is None:
        raise NotFound(f"no backfill of {project_id}")
    return found


def try_step(deps: BackfillDeps, project_id: str, deadline: float) -> Progress | None:
    """``step``, or None when the backfill is not running or another invocation holds it (it
    then chains its own next step: a chained job uses this to never fork a second chain)."""
    doc = _lease(deps, project_id)
    if doc is None:
        return None
    project = deps.store.get("projects", project_id) or {}
    account = str(project.get("stripe_account") or "")
    keys = DirtyKeys(deps.store, deps.clock)
    try:
        while doc["status"] == "running" and deps.clock.now() < deadline:
            if _behind(deps, project_id):
                deps.clock.sleep(min(PAUSE, max(0.0, deadline - deps.clock.now())))
                _lease(deps, project_id)  # still ours, for longer
                continue
            doc = _page(deps, keys, doc, account)
    except PermanentFailure as exc:
        _finish(deps, project_id, doc["run_id"], exc.code)
    finally:
        _release(deps, project_id)
    current = deps.store.get(COLLECTION, project_id)
    if current is None:
        raise NotFound(f"no backfill of {project_id}")
    _record(deps.store, current)
    return progress_of(current)


def _page(deps: BackfillDeps, keys: DirtyKeys, doc: Doc, account: str) -> Doc:
    name = doc["kinds"][doc["kind"]]
    walk = listing.walk(name, doc["kinds"])
    read = listing.read_page(deps.stripe, account, walk, doc["trail"])
    found = listing.keys_of(doc["project_id"], walk, read.objects)
    # durable before the cursor moves
    fresh = keys.mark_many(listing.marks(found, float(doc["started_at"])))
    if any(fresh) and deps.wake is not None:
        try:
            deps.wake(doc["project_id"])
        except Exception as exc:  # the sweep wakes drainers anyway
            logs.warning("backfill wake-up not sent", error_type=type(exc).__name__)
    trail, more, now = listing.advanced(read), read.more, deps.clock.now()
    owner = deps.owner

    def commit(current: Doc | None) -> Doc | None:
        if current is None or current.get("lease_owner") != owner:
            return None
        if current["status"] != "running" or current["run_id"] != doc["run_id"]:
            return None
        done = {**current["done"], name: int(current["done"][name]) + len(found)}
        kind, last = int(current["kind"]), int(current["kind"]) + 1 == len(current["kinds"])
        moved: Doc = {
            **current,
            "done": done,
            "updated_at": now,
            "trail": list(trail),
            "lease_until": now + deps.lease,
            EXPIRE_AT: now + TTL_SECONDS,
        }
        if more:
            return {**moved, "more": True}
        if last:
            return {**moved, "status": "done", "finished_at": now, "more": False}
        return {**moved, "kind": kind + 1, "trail": [], "more": True}

    after = deps.store.update(COLLECTION, doc["project_id"], commit)
    if after is None or after.get("lease_owner") != owner or after["run_id"] != doc["run_id"]:
        return {**doc, "status": "lost"}  # cancelled, restarted or taken over: stop here
    return after


def behind(store: Store, clock: Clock, project_id: str, lag: float = LAG) -> bool:
    """Whether the project's oldest due key has waited longer than ``lag`` seconds: the drainer
    is behind (or not running), so a backfill waits rather than pile up more keys."""
    now = clock.now()
    oldest = store.query(DIRTY_KEYS, {"project_id": project_id}, "due_at", now, 1)
    return bool(oldest) and now - float(oldest[0][1].get("marked_at") or now) > lag


def _behind(deps: BackfillDeps, project_id: str) -> bool:
    return behind(deps.store, deps.clock, project_id, deps.lag)


def _lease(deps: BackfillDeps, project_id: str) -> Doc | None:
    now, owner = deps.clock.now(), deps.owner

    def take(doc: Doc | None) -> Doc | None:
        if doc is None or doc.get("status") != "running":
            return None
        if doc.get("lease_owner") not in ("", owner) and float(doc.get("lease_until") or 0) > now:
            return None
        return {**doc, "lease_owner": owner, "lease_until": now + deps.lease}

    doc = deps.store.update(COLLECTION, project_id, take)
    return doc if doc is not None and doc.get("lease_owner") == owner else None


def _release(deps: BackfillDeps, project_id: str) -> Doc | None:
    owner = deps.owner

    def free(doc: Doc | None) -> Doc | None:
        if doc is None or doc.get("lease_owner") != owner:
            return None
        return {**doc, "lease_owner": "", "lease_until": 0.0}

    return deps.store.update(COLLECTION, project_id, free)


def _finish(deps: BackfillDeps, project_id: str, run_id: str, code: str) -> None:
    now = deps.clock.now()

    def end(doc: Doc | None) -> Doc | None:
        if doc is None or doc.get("status") in FINAL or doc.get("run_id") != run_id:
            return None
        return {**doc, "status": "failed", "error_code": code, "finished_at": now}

    logs.warning("backfill failed", project_id=project_id, run_id=run_id, error_code=code)
    deps.store.update(COLLECTION, project_id, end)


def _record(store: Store, doc: Doc) -> None:
    progress = progress_of(doc)
    run = Run(
        progress.run_id,
        progress.project_id,
        "backfill",
        progress.status,
        progress.started_at,
        progress.finished_at,
        dict(progress.done),
    )
    health.record_run(store, run)
