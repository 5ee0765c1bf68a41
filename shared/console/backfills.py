"""How the console's Start button gets a backfill stepped: ``Backfills.launch``.

- gcp mode (``QueuedBackfills``): ``shared.repair.jobs.launch_backfill`` starts it and publishes
  its first step on the jobs topic; the repair function chains the steps within its timeout.
- local mode (``ThreadBackfills``): ``make run`` has no jobs topic, so a daemon thread of the
  console's process steps it, as ``tooling.repair_cli`` does in the foreground, until it is
  finished or cancelled. ``resume`` starts the thread again for a backfill left running by an
  earlier process (the page calls it whenever it shows a running backfill).

Both only mark dirty keys; the drainers write HubSpot, woken through ``wake``.
"""

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from shared import logs
from shared.clock import Clock
from shared.errors import OmnirooError, TransientError
from shared.repair import backfill, jobs, listing
from shared.repair.progress import Progress
from shared.store.base import Store

STEP_SECONDS = 5.0  # a step commits its pages and gives the thread back this often
IDLE_SECONDS = 0.5  # a step that moved nothing (drainer behind, lease elsewhere) waits this long


class Backfills(Protocol):
    def launch(
        self, project_id: str, kinds: Sequence[str], estimate: Mapping[str, int] | None
    ) -> Progress:
        """Start the project's backfill (``backfill.Busy`` if one runs) and get it stepped."""
        ...

    def resume(self, project_id: str) -> None:
        """Make sure a running backfill is being stepped."""
        ...


class QueuedBackfills:
    def __init__(self, store: Store, clock: Clock, queue: jobs.JobQueue) -> None:
        self.store, self.clock, self.queue = store, clock, queue

    def launch(
        self, project_id: str, kinds: Sequence[str], estimate: Mapping[str, int] | None
    ) -> Progress:
        """``jobs.launch_backfill``; if the jobs topic refuses the first step, the backfill is
        cancelled before the error goes up, so it does not sit "running" with nobody stepping
        it, and Start can simply be pressed again."""
        try:
            return jobs.launch_backfill(
                self.store, self.clock, self.queue, project_id, kinds, estimate
            )
        except TransientError:
            if (found := backfill.progress(self.store, project_id)) and not found.finished:
                backfill.cancel(self.store, self.clock, project_id)
            raise

    def resume(self, project_id: str) -> None:
        """The jobs chain itself; a broken chain is the repair function's to alert on."""


class ThreadBackfills:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        stripe: listing.Pages,
        wake: Callable[[str], None] | None = None,
    ) -> None:
        self.store, self.clock, self.stripe, self.wake = store, clock, stripe, wake
        self._threads: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def launch(
        self, project_id: str, kinds: Sequence[str], estimate: Mapping[str, int] | None
    ) -> Progress:
        started = backfill.start(self.store, self.clock, project_id, kinds, estimate)
        self.resume(project_id)
        return started

    def resume(self, project_id: str) -> None:
        with self._lock:
            alive = self._threads.get(project_id)
            if alive is not None and alive.is_alive():
                return
            thread = threading.Thread(
                target=self._run, args=(project_id,), name="omniroo-backfill", daemon=True
            )
            self._threads[project_id] = thread
            thread.start()

    def join(self, project_id: str, timeout: float) -> bool:
        """Wait (real time) for the project's thread to end; for tests and demos."""
        thread = self._threads.get(project_id)
        if thread is not None:
            thread.join(timeout)
        return thread is None or not thread.is_alive()

    def close(self) -> None:
        self._stop.set()

    def _run(self, project_id: str) -> None:
        steps = backfill.BackfillDeps(self.store, self.stripe, self.clock, self.wake)
        try:
            progress = backfill.progress(self.store, project_id)
            while progress is not None and not progress.finished and not self._stop.is_set():
                before = progress.updated_at
                progress = backfill.step(steps, project_id, self.clock.now() + STEP_SECONDS)
                if progress.status == "running" and progress.updated_at == before:
                    self._stop.wait(IDLE_SECONDS)
        except OmnirooError as exc:  # the next page view resumes it
            logs.warning("backfill paused", project_id=project_id, error_type=type(exc).__name__)
