"""Cloud Function ``hubspot_push`` (CloudEvent, Pub/Sub trigger with retries).

Decodes the thin message and hands it to ``shared.sync.push``. A transient error propagates, the
invocation fails and Pub/Sub redelivers with backoff (dead-lettering after the configured
attempts); a message that can never be read is logged and acknowledged.
"""

import functions_framework
from cloudevents.http.event import CloudEvent

from shared import logs, wiring
from shared.config import PUSH, Settings
from shared.errors import BadRequest
from shared.queue.pubsub import decode_push
from shared.sync import push

logs.setup()
DEPS = wiring.push_deps(Settings.from_env(needs=PUSH))


@functions_framework.cloud_event
def hubspot_push(cloud_event: CloudEvent) -> None:
    try:
        message = decode_push(cloud_event.data)
    except BadRequest as exc:
        logs.alert("unreadable queue message dropped", reason=str(exc))
        return
    push.handle(message, DEPS)
