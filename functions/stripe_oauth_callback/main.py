"""Cloud Function ``stripe_oauth_callback`` (HTTP GET): where Stripe sends the browser back after
the user approves (or refuses) the connection. Hands the query and the session cookie to
``shared.oauth.callback``; everything else happens there.
"""

import flask
import functions_framework

from shared import logs, request_body, wiring
from shared.accounts import sessions
from shared.config import STRIPE_OAUTH, Settings
from shared.oauth import callback

logs.setup()
SETTINGS = Settings.from_env(needs=STRIPE_OAUTH)
DEPS = wiring.oauth_deps(SETTINGS)
request_body.limit(SETTINGS.webhook_max_bytes)  # GET only: no body is read


@functions_framework.http
def stripe_oauth_callback(request: flask.Request) -> callback.Response:
    if request.method != "GET":
        return "GET only", 405, {"Allow": "GET"}
    cookie = request.cookies.get(sessions.cookie_name(SETTINGS.local))
    return callback.answer("stripe", request.args.to_dict(), cookie, DEPS)
