"""Cloud Function ``console`` (HTTP, behind the load balancer at ``/*``): the pages.

Builds the dependencies once per instance (``shared.wiring.console_deps``) and hands every
request, as WSGI, to the console's Flask app (``shared.console.app``).
"""

import flask
import functions_framework
from werkzeug.wrappers import Response

from shared import logs, wiring
from shared.config import Needs, Settings
from shared.console.app import make_app

# The console revokes connections (Stripe deauthorize with the platform key), and reads a portal
# with its HubSpot token (settings editor, preview, replay), refreshing it with the app's secret.
CONSOLE = Needs(
    ("STRIPE_SECRET_KEY", "HUBSPOT_CLIENT_SECRET"), ("GOOGLE_CLOUD_PROJECT", "OMNIROO_KMS_KEY")
)

logs.setup()
APP = make_app(wiring.console_deps(Settings.from_env(needs=CONSOLE)))


@functions_framework.http
def console(request: flask.Request) -> Response:
    return Response.from_app(APP.wsgi_app, request.environ)
