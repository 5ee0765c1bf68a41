"""Cloud Function ``repair`` (CloudEvent, Pub/Sub ``jobs`` topic, retries on): backfill steps,
reconcile runs and their fan-out (``shared.repair.jobs``). A transient failure propagates, so
Pub/Sub redelivers the job message with backoff; a message that can never be read is logged and
acknowledged. Locally, a job and every job it publishes run here, one after the other."""

import functions_framework
from cloudevents.http.event import CloudEvent

from shared import logs, wiring
from shared.clock import SystemClock
from shared.config import REPAIR, Settings
from shared.errors import BadRequest
from shared.repair import jobs

TIMEOUT_SECONDS = 540  # infra/functions.json: the function's timeout (tests/infra checks it)

logs.setup()
SETTINGS = Settings.from_env(needs=REPAIR)
DEPS = wiring.job_deps(SETTINGS, TIMEOUT_SECONDS)
CLOCK = SystemClock()


@functions_framework.cloud_event
def repair(cloud_event: CloudEvent) -> None:
    started = CLOCK.now()
    try:
        job = jobs.Job.from_push(cloud_event.data)
    except BadRequest as exc:
        logs.alert("unreadable job message dropped", reason=str(exc))
        return
    if SETTINGS.local:
        jobs.run_all(job, DEPS, CLOCK.now)
    else:
        jobs.handle(job, DEPS, started)
