"""What ``hubspot_push`` does with a queued message.

- a wake-up for a project: drain that project's portal (``drainer.drain``), unless another
  drainer holds its lease, which then drains what is due;
- the sweep (Cloud Scheduler, every minute): wake every project that has keys due, so that a
  wake-up that was never sent, a key whose backoff ran out, and the keys of a drainer that died
  are all drained without waiting for a new event;
- a thin event message (what the webhook queued before dirty keys, or a dead letter replayed by
  hand): mark its object's key in the project it names, then drain. The message's Stripe
  account is ignored: the drainer reads Stripe as the project's own account.

A drain that reaches ``time_limit`` stops between rounds, releases the lease and wakes its
project again, so that the next invocation carries on before the platform's timeout.
"""

from dataclasses import dataclass

from shared import logs
from shared.drain import drainer
from shared.drain.dirty import DirtyKeys, Key
from shared.errors import QueueUnavailable
from shared.queue.base import Message, ThinMessage, Waker, WakeUp


@dataclass(frozen=True)
class Entry:
    deps: drainer.DrainDeps
    waker: Waker | None = None  # None: sweeps drain each project here, one after the other


def handle(message: Message, entry: Entry) -> list[drainer.Report]:
    if isinstance(message, WakeUp) and message.sweep:
        return sweep(entry)
    project_id = message.project_id
    if isinstance(message, ThinMessage):
        key = Key(message.project_id, message.object_type, message.object_id)
        DirtyKeys(entry.deps.store, entry.deps.clock).mark(key, message.event_id, message.type)
    report = drainer.drain(project_id, entry.deps)
    if report.unfinished:
        _wake(entry, project_id)
    return [report]


def sweep(entry: Entry) -> list[drainer.Report]:
    due = DirtyKeys(entry.deps.store, entry.deps.clock).due_projects()
    logs.info("drain sweep", projects=len(due))
    if entry.waker is None:
        return [drainer.drain(project_id, entry.deps) for project_id in due]
    for project_id in due:
        _wake(entry, project_id)
    return []


def _wake(entry: Entry, project_id: str) -> None:
    if entry.waker is None:
        return
    try:
        entry.waker.wake(project_id)
    except QueueUnavailable:
        logs.warning("drainer wake-up not sent; the sweep will find the key", project_id=project_id)
