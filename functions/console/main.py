"""Cloud Function ``console`` (HTTP, behind the load balancer at ``/*``): the pages.

Builds the dependencies once per instance and hands every request, as WSGI, to the console's
Flask app (``shared.console.app``). Connect and disconnect use ``shared.oauth.flows`` when it is
deployed; without it the buttons show "coming soon".
"""

import flask
import functions_framework
from werkzeug.wrappers import Response

from shared import logs, wiring
from shared.accounts.service import Accounts
from shared.clock import SystemClock
from shared.config import Needs, Settings
from shared.console import web
from shared.console.app import ConsoleDeps, make_app

# The console revokes connections (Stripe deauthorize with the platform key) and handles tokens.
CONSOLE = Needs(("STRIPE_SECRET_KEY",), ("GOOGLE_CLOUD_PROJECT", "OMNIROO_KMS_KEY"))
# Google's load balancer appends "<client>, <load balancer>" to X-Forwarded-For.
LOAD_BALANCER_HOPS = 2

logs.setup()
SETTINGS = Settings.from_env(needs=CONSOLE)


def build() -> ConsoleDeps:
    if SETTINGS.local:
        runtime = wiring.local_runtime(SETTINGS)
        store, envelope, clock = runtime.store, runtime.envelope, runtime.clock
    else:
        from shared.crypto.envelope import Envelope

        store, clock = wiring.build_store(SETTINGS), SystemClock()
        envelope = Envelope(wiring.build_key_service(SETTINGS))
    flows, oauth = None, None
    try:
        from shared.oauth import flows as oauth_flows

        oauth = wiring.build_oauth(SETTINGS, store, envelope, clock)
        flows = oauth_flows
    except (ImportError, AttributeError):
        logs.warning("console: OAuth flows not available; connect shows 'coming soon'")
    return ConsoleDeps(
        store=store,
        clock=clock,
        accounts=Accounts(store, clock),
        public_url=SETTINGS.public_url,
        local=SETTINGS.local,
        proxy_hops=0 if SETTINGS.local else LOAD_BALANCER_HOPS,
        flows=flows,
        oauth=oauth,
        # Form posts redirect to the providers' authorize pages: CSP form-action must allow them.
        form_hosts=(
            web.origin_of(SETTINGS.stripe_connect_base or "https://connect.stripe.com"),
            web.origin_of(SETTINGS.hubspot_auth_base),
        ),
    )


APP = make_app(build())


@functions_framework.http
def console(request: flask.Request) -> Response:
    return Response.from_app(APP.wsgi_app, request.environ)
