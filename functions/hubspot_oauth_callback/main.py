"""Cloud Function ``hubspot_oauth_callback``: where HubSpot sends the browser back after the user
approves (or refuses) the connection (GET, to ``shared.oauth.callback``), and HubSpot's signed
app webhook for uninstalls (POST, to ``shared.oauth.hubspot_webhook``).
"""

import flask
import functions_framework

from shared import logs, request_body, wiring
from shared.accounts import sessions
from shared.config import HUBSPOT_OAUTH, Settings
from shared.errors import OmnirooError
from shared.http import error_response, reply
from shared.oauth import callback, hubspot_webhook

logs.setup()
SETTINGS = Settings.from_env(needs=HUBSPOT_OAUTH)
DEPS = wiring.oauth_deps(SETTINGS)
request_body.limit(SETTINGS.webhook_max_bytes)


@functions_framework.http
def hubspot_oauth_callback(request: flask.Request) -> callback.Response:
    if request.method == "POST":
        try:
            body = request_body.read(request, SETTINGS.webhook_max_bytes)
            stopped = hubspot_webhook.receive(
                DEPS,
                "POST",
                request.full_path.rstrip("?"),
                body,
                request.headers.get("X-HubSpot-Signature-v3"),
                request.headers.get("X-HubSpot-Request-Timestamp"),
            )
        except OmnirooError as exc:
            return error_response(exc, "hubspot webhook")
        return reply(200, received=True, stopped=stopped)
    if request.method != "GET":
        return "GET or POST only", 405, {"Allow": "GET, POST"}
    cookie = request.cookies.get(sessions.cookie_name(SETTINGS.local))
    return callback.answer("hubspot", request.args.to_dict(), cookie, DEPS)
