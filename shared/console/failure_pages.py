"""Failures a person can act on.

    GET  /projects/<id>/failures?status=&type=   the newest outcomes of a status (fixed lists;
                                                 anything else is refused), ``SHOWN`` of them,
                                                 a type sought among the newest ``WINDOW``; each
                                                 failure with a Replay link
    GET  /projects/<id>/replay?failure=ID        the confirmation: what would be replayed
    GET  /projects/<id>/replay?code=CODE
    POST /projects/<id>/replay                   replays (``shared.repair.replay``), then shows
                                                 the outcomes with the replay's result

A failed outcome replayed is marked ``replayed`` and its key dirty again; the drainer's next
outcome for it is recorded under the same event id, so the row then says ``synced`` (or fails
again, with its code). Ids and codes only.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import flask
from werkzeug.wrappers import Response

from shared.accounts import access
from shared.accounts.sessions import Session
from shared.console import explain
from shared.console.pages import deps, page, redirect, repair, signed_in
from shared.errors import BadRequest, NotFound
from shared.events import EVENT_OBJECTS
from shared.repair import replay
from shared.repair.replay import Failure
from shared.sync import outcomes

FAILED = "failed"  # failed outcomes and dead letters: what replay takes
STATUSES = (FAILED, "all", "synced", "skipped", "replayed")
TYPES = ("all", *sorted(set(EVENT_OBJECTS.values())))
SHOWN = 50  # rows one page shows: the newest of the status chosen
WINDOW = 1000  # newest of the status searched for a type (one bounded query, never all)

failure_pages = flask.Blueprint("failure_pages", __name__)


def _choice(args: Mapping[str, str], name: str, allowed: tuple[str, ...]) -> str:
    value = args.get(name) or allowed[0]
    if value not in allowed:
        raise BadRequest(f"{name}: one of {', '.join(allowed)}")
    return value


def _count(args: Mapping[str, str], name: str) -> int:
    text = args.get(name, "")
    return int(text) if text.isdigit() and len(text) < 10 else 0


@dataclass(frozen=True)
class Row:
    """One line of the outcomes table: ids, codes and a status, nothing of the record."""

    failure_id: str  # what replay takes; "" when the row is not a failure
    status: str
    event_type: str
    kind: str
    stripe_id: str
    event_id: str
    code: str
    hubspot_id: str
    at: float


def _of_failure(f: Failure) -> Row:
    status = "dead-lettered" if f.source == "dead_letter" else FAILED
    return Row(f.id, status, f.event_type, f.kind, f.stripe_id, f.event_id, f.error_code, "", f.at)


def _of_outcome(doc_id: str, doc: Mapping[str, Any]) -> Row:
    status, event_type = str(doc.get("status") or ""), str(doc.get("type") or "")
    return Row(
        doc_id if status == FAILED else "",
        status,
        event_type,
        replay.kind_of(event_type),
        str(doc.get("stripe_id") or ""),
        str(doc.get("event_id") or ""),
        str(doc.get("error_code") or ""),
        str(doc.get("hubspot_id") or ""),
        float(doc.get("at") or 0),
    )


@dataclass(frozen=True)
class Found:
    rows: list[Row]  # newest first, at most SHOWN
    searched: int  # how many of the newest of the status were read
    more: bool  # older ones (or more of the type) may exist beyond those shown


def rows(project_id: str, status: str, kind: str) -> Found:
    """The project's newest outcomes (or failures) of ``status`` and ``kind``: one bounded read,
    ``SHOWN`` documents of the status, or a ``WINDOW`` of them filtered by type (one more, to
    tell whether older ones exist)."""
    store = deps().store
    limit = SHOWN if kind == "all" else WINDOW
    if status == FAILED:
        window = replay.latest(store, project_id, limit=limit)
        found, full = [_of_failure(f) for f in window.failures], window.more
    else:
        read = outcomes.latest(store, project_id, limit + 1, None if status == "all" else status)
        found, full = [_of_outcome(i, doc) for i, doc in read[:limit]], len(read) > limit
    chosen = [r for r in found if kind == "all" or r.kind == kind]
    return Found(chosen[:SHOWN], limit, full or len(chosen) > SHOWN)


@failure_pages.get("/projects/<project_id>/failures")
@signed_in
def listing(current: Session, project_id: str) -> Response:
    project = access.project_for(deps().store, current.account_id, project_id)
    status = _choice(flask.request.args, "status", STATUSES)
    kind = _choice(flask.request.args, "type", TYPES)
    found = rows(project_id, status, kind)
    return page(
        "failures.html",
        project_id=project_id,
        project=project,
        tab="failures",
        shown=status,
        kind=kind,
        statuses=STATUSES,
        types=TYPES,
        rows=found.rows,
        searched=found.searched,
        more=found.more,
        replayed=_count(flask.request.args, "replayed"),
        unresolved=_count(flask.request.args, "unresolved"),
        capped=_count(flask.request.args, "capped"),
        explain=explain.explain,
    )


def _chosen(project_id: str, form: Mapping[str, str]) -> tuple[str, str, list[Failure], bool]:
    """(failure id, code, the failures they name, whether older ones of the code may exist):
    exactly one of the two is given; a code's are the newest ``replay.WINDOW``."""
    failure_id, code = form.get("failure", ""), form.get("code", "")
    if bool(failure_id) == bool(code):
        raise BadRequest("choose one failure or one error code to replay")
    store = deps().store
    if failure_id:
        one = replay.one_failure(store, project_id, failure_id)
        found, more = ([] if one is None else [one]), False
    else:
        window = replay.latest(store, project_id, code)
        found, more = list(window.failures), window.more
    if not found:
        raise NotFound("nothing of that to replay: it may have been replayed already")
    return failure_id, code, found, more


@failure_pages.get("/projects/<project_id>/replay")
@signed_in
def confirm(current: Session, project_id: str) -> Response:
    project = access.project_for(deps().store, current.account_id, project_id)
    failure_id, code, found, more = _chosen(project_id, flask.request.args)
    return page(
        "replay.html",
        project_id=project_id,
        project=project,
        tab="failures",
        failure_id=failure_id,
        code=code,
        found=found[:SHOWN],
        total=len(found),
        more=more,
        codes=sorted({f.error_code for f in found}),
        explain=explain.explain,
    )


@failure_pages.post("/projects/<project_id>/replay")
@signed_in
def run(current: Session, project_id: str) -> Response:
    access.project_for(deps().store, current.account_id, project_id)
    failure_id, code, _, _ = _chosen(project_id, flask.request.form)
    repairs = repair()
    done = (
        replay.replay_one(repairs, project_id, failure_id)
        if failure_id
        else replay.replay_code(repairs, project_id, code)
    )
    query: dict[str, Any] = {
        "status": "all",
        "replayed": done.replayed,
        "unresolved": sum(done.unresolved.values()),
    }
    if done.more:
        query["capped"] = 1
    return redirect(f"/projects/{project_id}/failures?{urlencode(query)}")
