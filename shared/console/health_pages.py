"""A project's sync health: ``GET /projects/<id>/health``.

The last ``DAYS`` days of ``shared.repair.health`` counters as a chart drawn on the server
(``chart``) with the same numbers as a table for screen readers, the share of the last 24 hours'
events that synced (from those counters), and the project's latest failures grouped by error
code (``replay.counted``: ``2 * replay.WINDOW`` reads at most), each explained (``explain``)
with a link to replay them. Counts, codes and dates only.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import flask
from werkzeug.wrappers import Response

from shared.accounts import access
from shared.accounts.sessions import Session
from shared.console import chart, explain
from shared.console.pages import deps, page, signed_in
from shared.repair import health, replay

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


def share_synced(rows: Sequence[health.DayHealth], now: float) -> Share:
    """Of the events settled in the last 24 hours, how many synced of those synced or still
    failed, from the sync-health counters the page reads anyway (``rows``, newest day first),
    not from the outcomes (50,000+ of them after a burst): today's counts in full, plus
    yesterday's weighted by the part of yesterday inside the window.

    What it approximates: the share of the window's outcomes that synced. It assumes
    yesterday's events were spread evenly over the day; counts events, as the chart does (a key
    standing for three events counts three); counts dead-lettered events as failed; and takes
    replayed failures off the failed (their new result is counted again when it comes)."""
    today, yesterday = health.day_of(now), health.day_of(now - DAY_SECONDS)
    since_midnight = now - datetime.strptime(today, "%Y-%m-%d").replace(tzinfo=UTC).timestamp()
    weights = {today: 1.0, yesterday: 1 - since_midnight / DAY_SECONDS}
    total = dict.fromkeys(("synced", "failed", "dead_lettered", "replayed"), 0.0)
    for row in rows:
        for name in total:
            total[name] += weights.get(row.day, 0.0) * row.counts.get(name, 0)
    synced = round(total["synced"])
    failed = max(round(total["failed"] + total["dead_lettered"] - total["replayed"]), 0)
    return Share(synced, synced + failed)


def failure_groups(counted: replay.Counted) -> list[tuple[str, int, explain.Explanation]]:
    return [(code, n, explain.explain(code)) for code, n in counted.counts.items()]


@health_pages.get("/projects/<project_id>/health")
@signed_in
def show(current: Session, project_id: str) -> Response:
    store, now = deps().store, deps().clock.now()
    project = access.project_for(store, current.account_id, project_id)
    rows = health.days(store, project_id, now - (DAYS - 1) * DAY_SECONDS, now)
    counted = replay.counted(store, project_id)
    return page(
        "health.html",
        project_id=project_id,
        project=project,
        tab="health",
        rows=rows,
        chart=chart.build(rows),
        series=chart.SERIES,
        share=share_synced(rows, now),
        groups=failure_groups(counted),
        groups_more=counted.more,
        window=replay.WINDOW,
    )
