"""What a backfill's document tells the operator: ``Progress``, the view the console, the command
line and the jobs read (``shared.repair.backfill`` keeps the document)."""

from collections.abc import Mapping
from dataclasses import dataclass

from shared.repair import listing
from shared.store.base import Doc

FINAL = ("done", "cancelled", "failed")


@dataclass(frozen=True)
class Progress:
    project_id: str
    run_id: str
    status: str  # running | done | cancelled | failed
    kinds: tuple[str, ...]
    done: Mapping[str, int]  # keys marked per kind
    estimate: int  # the total expected; exact once ``estimate_exact``
    estimate_exact: bool
    current: str  # the kind being walked ("" once finished)
    started_at: float
    updated_at: float
    finished_at: float = 0.0
    error_code: str = ""

    @property
    def marked(self) -> int:
        return sum(self.done.values())

    @property
    def finished(self) -> bool:
        return self.status in FINAL


def progress_of(doc: Doc) -> Progress:
    kinds = tuple(str(k) for k in doc["kinds"])
    done = {k: int(doc["done"].get(k, 0)) for k in kinds}
    exact = bool(doc.get("exact"))
    index = int(doc["kind"])
    if exact:
        estimate = sum(max(int(doc["estimate"].get(k, 0)), done[k]) for k in kinds)
    else:
        # Stripe lists give no totals: what is marked, plus a page for a list not yet at its end.
        ahead = listing.PAGE if doc["status"] == "running" and doc.get("more") else 0
        estimate = sum(done.values()) + ahead
    running = doc["status"] == "running"
    return Progress(
        project_id=str(doc["project_id"]),
        run_id=str(doc["run_id"]),
        status=str(doc["status"]),
        kinds=kinds,
        done=done,
        estimate=estimate,
        estimate_exact=exact or not running,
        current=kinds[index] if running else "",
        started_at=float(doc["started_at"]),
        updated_at=float(doc["updated_at"]),
        finished_at=float(doc.get("finished_at") or 0.0),
        error_code=str(doc.get("error_code") or ""),
    )
