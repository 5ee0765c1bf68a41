"""Job messages on the jobs topic, and how long work chains within a function's timeout.

    {"job": "reconcile"}                     Cloud Scheduler's run: collect the dead letters,
                                             then one message per connected project
    {"job": "reconcile", "project_id": P}    reconcile one project
    {"job": "backfill", "project_id": P}     step P's backfill until ``MARGIN`` seconds before
                                             the timeout; if it is not finished, publish the
                                             same message again: the next invocation goes on
    {"job": "purge"}                         the ``purge`` function's; ignored here

``launch_backfill`` starts a backfill and publishes its first step (the console's call). A
message carries ids only. Handlers come from ``HANDLERS`` (a table, not a switch). A chain
never forks: an invocation that finds the backfill stepped by another (its lease) publishes
nothing, since that other invocation chains. A transient failure propagates, so Pub/Sub
redelivers the message with backoff; a permanent one is recorded by the work itself (a failed
backfill or reconcile run) and the message is acknowledged.
"""

import base64
import binascii
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from shared import logs
from shared.clock import Clock
from shared.errors import BadRequest, PermanentFailure
from shared.repair import backfill, dead_letters, reconcile
from shared.repair.dead_letters import DeadLetterSource
from shared.repair.deps import RepairDeps
from shared.repair.progress import Progress
from shared.store.base import Store

MARGIN = 30.0  # seconds left for the last page, the lease's release and the next publish


@dataclass(frozen=True)
class Job:
    job: str
    project_id: str = ""

    def encode(self) -> bytes:
        return json.dumps(asdict(self), separators=(",", ":"), sort_keys=True).encode()

    @classmethod
    def from_push(cls, cloud_event_data: Any) -> "Job":
        """The job inside a Pub/Sub CloudEvent: ``{"message": {"data": <base64>, ...}}``."""
        message = cloud_event_data.get("message") if isinstance(cloud_event_data, dict) else None
        data = message.get("data") if isinstance(message, dict) else None
        if not isinstance(data, str):
            raise BadRequest("malformed push message: no base64 'message.data'")
        try:
            return cls.decode(base64.b64decode(data, validate=True))
        except (binascii.Error, ValueError) as exc:
            raise BadRequest("malformed push message: 'message.data' is not base64") from exc

    @classmethod
    def decode(cls, data: bytes) -> "Job":
        try:
            raw: Any = json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadRequest("malformed job message: not JSON") from exc
        if not isinstance(raw, dict) or not isinstance(raw.get("job"), str):
            raise BadRequest("malformed job message: no job named")
        project_id = raw.get("project_id", "")
        if not isinstance(project_id, str):
            raise BadRequest("malformed job message: project_id is not a string")
        return cls(raw["job"], project_id)


class JobQueue(Protocol):
    def publish(self, data: bytes, **attributes: str) -> None:
        """Return once the jobs topic has durably accepted the message (``QueueUnavailable``
        otherwise); ``shared.queue.topic.PubSubTopic``."""
        ...


def publish(queue: JobQueue, job: Job) -> None:
    queue.publish(job.encode(), job=job.job)


def launch_backfill(
    store: Store,
    clock: Clock,
    queue: JobQueue,
    project_id: str,
    kinds: Sequence[str],
    estimate: Mapping[str, int] | None = None,
) -> Progress:
    """Start a backfill and hand its first step to the jobs topic (the console's button):
    ``backfill.start``'s refusals (``Busy``, ``BadRequest``, ``NotFound``) come through."""
    started = backfill.start(store, clock, project_id, kinds, estimate)
    publish(queue, Job("backfill", project_id))
    return started


class LocalJobs:
    """The embedded mode's jobs topic: messages wait in memory for ``run_all``."""

    def __init__(self) -> None:
        self.waiting: list[bytes] = []

    def publish(self, data: bytes, **attributes: str) -> None:
        self.waiting.append(data)


@dataclass
class JobDeps:
    repair: RepairDeps
    jobs: JobQueue
    timeout: float  # the function's timeout, seconds
    dead_letters: DeadLetterSource | None = None


def handle(job: Job, deps: JobDeps, started: float) -> None:
    """Do one job message that arrived at ``started``."""
    handler = HANDLERS.get(job.job)
    if handler is None:
        logs.info("job not ours", job=job.job)
        return
    handler(job, deps, started + deps.timeout - MARGIN)


def run_all(first: Job, deps: JobDeps, clock_now: Callable[[], float]) -> int:
    """Embedded mode: do ``first`` and every job it publishes, in order (``LocalJobs``);
    how many were done."""
    if not isinstance(deps.jobs, LocalJobs):
        raise TypeError("run_all runs the embedded mode's jobs only")
    queued, done = [first], 0
    while queued:
        handle(queued.pop(0), deps, clock_now())
        done += 1
        queued += [Job.decode(data) for data in deps.jobs.waiting]
        deps.jobs.waiting.clear()
    return done


def _backfill(job: Job, deps: JobDeps, deadline: float) -> None:
    if not job.project_id:
        raise BadRequest("a backfill job names its project")
    steps = backfill.BackfillDeps(
        deps.repair.store, deps.repair.stripe, deps.repair.clock, deps.repair.woken
    )
    progress = backfill.try_step(steps, job.project_id, deadline)
    if progress is None:
        logs.info("backfill stepped elsewhere", project_id=job.project_id)
        return
    if not progress.finished:
        publish(deps.jobs, job)  # the next invocation goes on from the saved cursor


def _reconcile(job: Job, deps: JobDeps, deadline: float) -> None:
    if job.project_id:
        try:
            reconcile.run(deps.repair, job.project_id, deadline)
        except PermanentFailure as exc:  # recorded as a failed run; retrying will not help
            logs.warning("reconcile failed", project_id=job.project_id, error_code=exc.code)
        return
    if deps.dead_letters is not None:
        dead_letters.collect(deps.repair.store, deps.dead_letters, deps.repair.clock)
    for project_id in reconcile.projects(deps.repair.store):
        publish(deps.jobs, Job("reconcile", project_id))


HANDLERS: dict[str, Callable[[Job, JobDeps, float], None]] = {
    "backfill": _backfill,
    "reconcile": _reconcile,
}
