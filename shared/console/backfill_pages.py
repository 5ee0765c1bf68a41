"""A project's backfill: preview, start, watch, cancel.

    GET  /projects/<id>/backfill            the kinds to import and the current or last run:
                                            a <progress> bar, refreshed by a meta refresh
                                            while it runs (``?auto=0`` stops that), the counts
    POST /projects/<id>/backfill/preview    what it would do in HubSpot (``repair.preview``),
                                            writing nothing, with a Start button
    POST /projects/<id>/backfill/start      start it (``ConsoleDeps.backfills``)
    POST /projects/<id>/backfill/cancel     stop it after its current page

The kinds come from ``shared.repair.listing`` (SYNC.md: customers, subscriptions, invoices,
products). A preview's per-kind object counts ride along to Start as the backfill's estimate,
so its progress is exact from the first page; they only size the bar, so a tampered value can
do no harm beyond that, and each is bounded.
"""

from collections.abc import Mapping
from typing import Any

import flask
from werkzeug.wrappers import Response

from shared.accounts import access
from shared.accounts.sessions import Session
from shared.console.backfills import Backfills
from shared.console.pages import deps, page, redirect, repair, signed_in
from shared.errors import BadRequest, ConfigError, PermanentFailure, RemoteUnavailable
from shared.repair import backfill, listing, preview
from shared.store.base import Doc

KIND_LABELS = {
    "products": "Products and prices",
    "subscriptions": "Subscriptions (every status), with their customers",
    "customers": "Customers without a current subscription",
    "invoices": "One-off invoices",
}
RECORD_OUTCOMES = ("created", "adopted", "updated", "conflicts")
REFRESH_SECONDS = 2
MAX_ESTIMATE = 10_000_000

backfill_pages = flask.Blueprint("backfill_pages", __name__)


def _connected(project: Doc) -> bool:
    return project.get("stripe_status") == "connected" == project.get("hubspot_status")


def _kinds() -> tuple[str, ...]:
    try:
        return listing.chosen(flask.request.form.getlist("kinds"))
    except ValueError as exc:
        raise BadRequest(f"kinds: {exc}") from exc


def _estimate(form: Mapping[str, str], kinds: tuple[str, ...]) -> dict[str, int] | None:
    texts = {k: form.get(f"estimate_{k}", "") for k in kinds}
    if not all(t.isdigit() and int(t) <= MAX_ESTIMATE for t in texts.values()):
        return None  # no preview before: the bar grows with the lists
    return {k: int(t) for k, t in texts.items()}


def _render(project_id: str, project: Doc, status: int = 200, **extra: Any) -> Response:
    found = backfill.progress(deps().store, project_id)
    running = found is not None and found.status == "running"
    if running and deps().backfills is not None:
        _backfills().resume(project_id)
    auto = flask.request.args.get("auto") != "0"
    chosen = extra.pop("kinds", None) or (found.kinds if found else listing.ORDER)
    return page(
        "backfill.html",
        status,
        project_id=project_id,
        project=project,
        tab="backfill",
        connected=_connected(project),
        progress=found,
        running=running,
        refresh=REFRESH_SECONDS if running and auto else 0,
        auto=auto,
        order=listing.ORDER,
        kind_labels=KIND_LABELS,
        chosen=chosen,
        outcomes=RECORD_OUTCOMES,
        **extra,
    )


@backfill_pages.get("/projects/<project_id>/backfill")
@signed_in
def show(current: Session, project_id: str) -> Response:
    project = access.project_for(deps().store, current.account_id, project_id)
    return _render(project_id, project)


def _ready(current: Session, project_id: str) -> tuple[Doc, tuple[str, ...]]:
    """The project and the kinds posted, for a preview or a start: both need the connections."""
    project = access.project_for(deps().store, current.account_id, project_id)
    kinds = _kinds()
    if not _connected(project):
        raise BadRequest("Connect both Stripe and HubSpot before a backfill.")
    return project, kinds


@backfill_pages.post("/projects/<project_id>/backfill/preview")
@signed_in
def preview_page(current: Session, project_id: str) -> Response:
    project, kinds = _ready(current, project_id)
    try:
        found = preview.run(repair(), project_id, kinds)
    except RemoteUnavailable:
        problem = "Stripe or HubSpot could not be reached just now. Try again in a moment."
        return _render(project_id, project, 503, kinds=kinds, problem=problem)
    except PermanentFailure as exc:
        problem = f"The preview was refused ({exc.code})."
        return _render(project_id, project, 502, kinds=kinds, problem=problem)
    return _render(project_id, project, kinds=kinds, preview=found)


@backfill_pages.post("/projects/<project_id>/backfill/start")
@signed_in
def start(current: Session, project_id: str) -> Response:
    _, kinds = _ready(current, project_id)
    _backfills().launch(project_id, kinds, _estimate(flask.request.form, kinds))
    return redirect(f"/projects/{project_id}/backfill")


@backfill_pages.post("/projects/<project_id>/backfill/cancel")
@signed_in
def cancel(current: Session, project_id: str) -> Response:
    access.project_for(deps().store, current.account_id, project_id)
    backfill.cancel(deps().store, deps().clock, project_id)
    return redirect(f"/projects/{project_id}/backfill")


def _backfills() -> Backfills:
    found = deps().backfills
    if found is None:
        raise ConfigError("console: backfills are not wired (shared.wiring.console_deps)")
    return found
