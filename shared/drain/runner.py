"""The embedded mode's drainers: threads in the ``make run`` process instead of Pub/Sub and
Cloud Functions.

``wake(project_id)`` (the webhook's waker) queues a project; ``workers`` threads drain queued
projects in parallel, each portal under its lease and budget exactly as in production (a second
thread woken for a portal being drained finds the lease taken and moves on). A sweeper thread
wakes every project with keys due every ``sweep_every`` seconds: that drains what a crashed run
left in SQLite as soon as ``make run`` starts again, and keys whose backoff ran out.
"""

import threading
import time

from shared import logs
from shared.drain import drainer
from shared.drain.dirty import DirtyKeys
from shared.errors import QueueUnavailable

WORKERS = 4
SWEEP_EVERY = 1.0


class LocalDrainer:
    def __init__(
        self,
        deps: drainer.DrainDeps,
        workers: int = WORKERS,
        sweep_every: float = SWEEP_EVERY,
    ) -> None:
        self.deps = deps
        self._keys = DirtyKeys(deps.store, deps.clock)
        self._sweep_every = sweep_every
        self._changed = threading.Condition()
        self._queued: dict[str, None] = {}  # an ordered set
        self._active: set[str] = set()
        self._closed = False
        self.reports: list[drainer.Report] = []
        self._threads = [
            threading.Thread(target=self._work, name=f"omniroo-drainer-{i}", daemon=True)
            for i in range(workers)
        ]
        self._threads.append(
            threading.Thread(target=self._sweep, name="omniroo-drain-sweep", daemon=True)
        )
        for thread in self._threads:
            thread.start()

    def wake(self, project_id: str) -> None:
        with self._changed:
            if self._closed:
                raise QueueUnavailable("the local drainers are stopped")
            if project_id not in self._active:
                self._queued[project_id] = None
            self._changed.notify()

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait (in real time) until no key is due and no drainer runs; for tests and demos."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._changed:
                busy = bool(self._queued or self._active)
            if not busy and not self._keys.due_projects(1):
                with self._changed:
                    if not (self._queued or self._active):
                        return True
            for project_id in [] if busy else self._keys.due_projects():
                self.wake(project_id)
            time.sleep(0.02)
        return False

    def close(self, timeout: float = 10.0) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        for thread in self._threads:
            thread.join(timeout)

    def _work(self) -> None:
        while True:
            with self._changed:
                while not self._queued and not self._closed:
                    self._changed.wait()
                if self._closed:
                    return
                project_id = next(iter(self._queued))
                del self._queued[project_id]
                self._active.add(project_id)
            try:
                self.reports.append(drainer.drain(project_id, self.deps))
            except Exception as exc:  # a drainer must outlive anything; the sweep retries
                logs.alert(
                    "local drainer failed", project_id=project_id, error_type=type(exc).__name__
                )
            finally:
                with self._changed:
                    self._active.discard(project_id)
                    self._changed.notify_all()

    def _sweep(self) -> None:
        while True:
            with self._changed:
                if self._changed.wait_for(lambda: self._closed, self._sweep_every):
                    return
            try:
                due = self._keys.due_projects()
            except Exception as exc:
                logs.warning("drain sweep failed", error_type=type(exc).__name__)
                continue
            for project_id in due:
                try:
                    self.wake(project_id)
                except QueueUnavailable:
                    return
