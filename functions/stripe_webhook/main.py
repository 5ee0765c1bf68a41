"""Cloud Function ``stripe_webhook`` (HTTP): Stripe's Connect webhook endpoint.

Reads the raw, size-capped body and hands it to ``shared.webhook.ingest``; answers 2xx only once
the event is durably queued, 4xx for what the sender sent wrong, 5xx so Stripe retries.
"""

import flask
import functions_framework

from shared import logs, request_body, wiring
from shared.config import WEBHOOK, Settings
from shared.errors import OmnirooError
from shared.http import Response, error_response, reply
from shared.webhook import ingest

logs.setup()
SETTINGS = Settings.from_env(needs=WEBHOOK)
DEPS = wiring.webhook_deps(SETTINGS)
request_body.limit(SETTINGS.webhook_max_bytes)


@functions_framework.http
def stripe_webhook(request: flask.Request) -> Response:
    if request.method != "POST":
        return reply(405, error="POST only")
    try:
        body = request_body.read(request, SETTINGS.webhook_max_bytes)
        result = ingest.receive(body, request.headers.get("Stripe-Signature"), DEPS)
    except OmnirooError as exc:
        return error_response(exc, "webhook")
    return reply(result.status, received=True, outcome=result.outcome)
