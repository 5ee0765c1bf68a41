"""Cloud Function ``purge`` (CloudEvent, Pub/Sub ``jobs`` topic, published daily by Cloud
Scheduler): deletes closed accounts for good once expired, and every expired document.
``shared.purge`` says what; Firestore's TTL does the same within about a day, this is the
guarantee."""

import functions_framework
from cloudevents.http.event import CloudEvent

from shared import logs, wiring
from shared import purge as purging
from shared.clock import SystemClock
from shared.config import Needs, Settings

PURGE = Needs(())

logs.setup()
SETTINGS = Settings.from_env(needs=PURGE)
STORE = wiring.build_store(SETTINGS)


@functions_framework.cloud_event
def purge(cloud_event: CloudEvent) -> None:
    # The jobs topic carries the repair function's jobs too (backfill, reconcile): not ours.
    attributes = ((cloud_event.data or {}).get("message") or {}).get("attributes") or {}
    if attributes.get("job", "purge") != "purge":
        return
    purging.run(STORE, SystemClock())
