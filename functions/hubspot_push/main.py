"""Cloud Function ``hubspot_push`` (CloudEvent, Pub/Sub trigger with retries): the drainer.

Decodes the queued message (a wake-up, the scheduled sweep, or a legacy thin event message) and
hands it to ``shared.drain.entry``, which drains the project's HubSpot portal under its lease and
budget. Dirty keys live in the store, so an acknowledged message never holds work: a failure
that escapes (the store or the key service down) fails the invocation and Pub/Sub redelivers the
wake-up; a message that can never be read is logged and acknowledged.
"""

import functions_framework
from cloudevents.http.event import CloudEvent

from shared import logs, wiring
from shared.config import PUSH, Settings
from shared.drain import entry
from shared.errors import BadRequest
from shared.queue.push import decode_push

logs.setup()
ENTRY = wiring.drain_entry(Settings.from_env(needs=PUSH))


@functions_framework.cloud_event
def hubspot_push(cloud_event: CloudEvent) -> None:
    try:
        message = decode_push(cloud_event.data)
    except BadRequest as exc:
        logs.alert("unreadable queue message dropped", reason=str(exc))
        return
    entry.handle(message, ENTRY)
