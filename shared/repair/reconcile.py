"""Reconcile, the scheduled job: repair what the live stream missed, through the dirty keys.

For each connected project, one run:

1. events Stripe reports undelivered since the last 3 days, or since the day before the last
   completed run if that is older (``shared.repair.undelivered``): their objects are marked and
   the events counted as received;
2. drift (``shared.repair.drift``), per the project's ``reconcile_drift`` setting: ``sampled``
   (``reconcile_sample`` objects a run, rolling), ``full`` or ``off``.

The drainer writes what was marked. Each run is recorded in sync health as a ``reconcile`` run
with its counts, ids and counts only: ``undelivered`` (events Stripe listed), ``accepted`` (of
those, events the webhook never took, now marked and counted received), ``checked``,
``differing``, ``missing`` and ``failed`` (objects of the drift check; the differing and missing
ones are marked).

Library calls: ``run(deps, project_id, deadline=None) -> Report`` for one project, and
``projects(store)`` for the projects a scheduled run covers (the jobs function fans out one job
message per project).
"""

import secrets
from dataclasses import dataclass, field

from shared import logs
from shared.errors import NotFound
from shared.project_settings import ProjectSettings
from shared.repair import drift, health, undelivered
from shared.repair.deps import RepairDeps
from shared.repair.health import Run
from shared.store.base import Store


@dataclass(frozen=True)
class Report:
    run_id: str
    project_id: str
    counts: dict[str, int] = field(default_factory=dict)
    wrapped: bool = False  # the drift walk reached the end of the account


def projects(store: Store) -> list[str]:
    """Projects connected on both sides: the ones a scheduled reconcile covers."""
    return sorted(
        project_id
        for project_id, doc in store.scan("projects")
        if doc.get("stripe_status") == "connected"
        and doc.get("hubspot_status") == "connected"
        and not doc.get("closed_at")
    )


def last_done(store: Store, project_id: str) -> float | None:
    """When the project's last completed reconcile run started (None: none on record)."""
    done = [
        float(doc["started_at"])
        for _, doc in store.find(health.RUNS, "project_id", project_id)
        if doc.get("kind") == "reconcile" and doc.get("status") == "done"
    ]
    return max(done, default=None)


def run(deps: RepairDeps, project_id: str, deadline: float | None = None) -> Report:
    project = deps.store.get("projects", project_id)
    if project is None:
        raise NotFound(f"no project {project_id}")
    started = deps.clock.now()
    last = last_done(deps.store, project_id)
    run_id = f"rc_{secrets.token_hex(8)}"
    health.record_run(deps.store, Run(run_id, project_id, "reconcile", "running", started))
    status = "failed"
    counts: dict[str, int] = {}
    wrapped = False
    try:
        since = undelivered.since(started, last)
        found = undelivered.find(deps.stripe, deps.store, deps.clock, project_id, project, since)
        health.count(deps.store, project_id, {"received": found.marked}, deps.clock.now())
        counts.update(undelivered=found.listed, accepted=found.marked)
        settings = ProjectSettings.from_doc(project.get("settings"))
        if settings.reconcile_drift != "off":
            limit = settings.reconcile_sample if settings.reconcile_drift == "sampled" else None
            checked = drift.check(deps, project_id, project, limit, deadline)
            counts.update(
                checked=checked.checked,
                differing=checked.differing,
                missing=checked.missing,
                failed=checked.failed,
            )
            wrapped = checked.wrapped
            if checked.marked or found.marked:
                deps.woken(project_id)
        elif found.marked:
            deps.woken(project_id)
        status = "done"
    finally:
        health.record_run(
            deps.store,
            Run(run_id, project_id, "reconcile", status, started, deps.clock.now(), counts),
        )
        logs.info("reconcile run", project_id=project_id, run_id=run_id, status=status, **counts)
    return Report(run_id, project_id, counts, wrapped)
