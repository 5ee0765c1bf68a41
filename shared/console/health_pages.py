"""A project's sync health: ``GET /projects/<id>/health``.

The last ``DAYS`` days of ``shared.repair.health`` counters as a chart drawn on the server
(``chart``) with the same numbers as a table for screen readers, the share of the last 24 hours'
outcomes that synced, and the project's failures grouped by error code, each explained
(``explain``) with a link to replay them. Counts, codes and dates only.
"""

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import flask
from werkzeug.wrappers import Response

from shared.accounts import access
from shared.accounts.sessions import Session
from shared.console import chart, explain
from shared.console.pages import deps, page, signed_in
from shared.repair import health, replay
from shared.sync import outcomes

DAYS = 30
DAY_SECONDS = 24 * 3600

health_pages = flask.Blueprint("health_pages", __name__)


@dataclass(frozen=True)
class Share:
    synced: int
    settled: int  # synced + failed: skipped records were never meant to be written

    @property
    def percent(self) -> int | None:
        return None if not self.settled else int(100 * self.synced / self.settled)


def share_synced(latest: Sequence[Mapping[str, Any]], now: float) -> Share:
    """Of the outcomes recorded in the last 24 hours, how many synced of those synced or failed."""
    recent = Counter(
        str(o.get("status")) for o in latest if now - float(o.get("at") or 0) <= DAY_SECONDS
    )
    return Share(recent["synced"], recent["synced"] + recent["failed"])


def failure_groups(project_id: str) -> list[tuple[str, int, explain.Explanation]]:
    return [
        (code, n, explain.explain(code))
        for code, n in replay.by_code(deps().store, project_id).items()
    ]


@health_pages.get("/projects/<project_id>/health")
@signed_in
def show(current: Session, project_id: str) -> Response:
    store, now = deps().store, deps().clock.now()
    project = access.project_for(store, current.account_id, project_id)
    rows = health.days(store, project_id, now - (DAYS - 1) * DAY_SECONDS, now)
    return page(
        "health.html",
        project_id=project_id,
        project=project,
        tab="health",
        rows=rows,
        chart=chart.build(rows),
        series=chart.SERIES,
        share=share_synced(outcomes.for_project(store, project_id), now),
        groups=failure_groups(project_id),
    )
