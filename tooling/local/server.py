"""``make run``: every function on 127.0.0.1:8080 with the embedded adapters.

    POST /stripe/webhook         stripe_webhook (point ``stripe listen --forward-to`` here)
    POST /pubsub/hubspot-push    hubspot_push, as Pub/Sub push would call it (CloudEvent)
    GET  /oauth/stripe/callback  stripe_oauth_callback
    GET  /oauth/hubspot/callback hubspot_oauth_callback
    GET  /healthz                liveness
    GET  /sandbox                what is running, and in sandbox mode the HubSpot contacts
         /                       the console (sign up, projects, account), as at the load balancer

Locally the webhook marks dirty keys in the SQLite store and drainer threads in this process
write them to HubSpot (``shared.drain.runner``), so the /pubsub route is only there to try the
CloudEvent entry point by hand. Keys survive a crash: started again on the same data directory,
the drainers take what was left within seconds. With no Stripe key in the environment or
``.env`` the sandbox starts: local Stripe and HubSpot doubles and a ready project (wiped at each
start, doubles included).
"""

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import flask
import functions_framework
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import WSGIRequestHandler, run_simple

from shared import logs
from shared.stripe_version import API_VERSION
from tooling.local import env

ROOT = Path(__file__).resolve().parents[2]
HOST, PORT = "127.0.0.1", env.PORT
ROUTES = (
    ("POST", "/stripe/webhook", "stripe_webhook"),
    ("POST", "/pubsub/hubspot-push", "hubspot_push"),
    ("GET", "/oauth/stripe/callback", "stripe_oauth_callback"),
    ("GET", "/oauth/hubspot/callback", "hubspot_oauth_callback"),
    ("GET", "/healthz", "liveness"),
    ("GET", "/sandbox", "sandbox"),
    ("*", "/", "console"),
)
LOCAL_PATHS = ("/healthz", "/sandbox")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class AccessLog(WSGIRequestHandler):
    """werkzeug's access log with the path only: an OAuth callback's query carries a one-time
    code and state, which no log should keep."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        full = self.path
        self.path = urlsplit(full).path
        try:
            super().log_request(code, size)
        finally:
            self.path = full


def function_app(name: str, signature_type: str = "http") -> WSGIApp:
    app: WSGIApp = functions_framework.create_app(  # type: ignore[no-untyped-call]
        name, str(ROOT / "functions" / name / "main.py"), signature_type
    )
    return app


def build(index: Callable[[], str] | None = None) -> WSGIApp:
    """The whole local bundle as one WSGI app (the environment must be prepared first)."""
    root = flask.Flask("omniroo-local")

    @root.get("/healthz")
    def healthz() -> tuple[str, int]:
        return "ok", 200

    @root.get("/sandbox")
    def home() -> str:
        rows = "".join(
            f"<tr><td>{m}</td><td><code>{p}</code></td><td>{f}</td></tr>" for m, p, f in ROUTES
        )
        extra = index() if index else ""
        return (
            "<!doctype html><html lang=en><title>Omniroo (local)</title>"
            "<h1>Omniroo, running locally</h1>"
            f"<p>Stripe API version <code>{API_VERSION}</code></p>"
            f"<table>{rows}</table>{extra}</html>"
        )

    mounts = {
        "/stripe/webhook": function_app("stripe_webhook"),
        "/pubsub/hubspot-push": function_app("hubspot_push", "cloudevent"),
        "/oauth/stripe/callback": function_app("stripe_oauth_callback"),
        "/oauth/hubspot/callback": function_app("hubspot_oauth_callback"),
    }
    functions = DispatcherMiddleware(function_app("console"), mounts)

    def dispatch(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path in LOCAL_PATHS:
            return root.wsgi_app(environ, start_response)
        if path in mounts:  # the function sees "/", as at its own URL, not a redirect to it
            environ["PATH_INFO"] = path + "/"
        return functions(environ, start_response)

    return dispatch


def main() -> None:
    os.chdir(ROOT)
    sandboxed = env.prepare(ROOT)
    logs.setup()
    index = None
    if sandboxed:
        from tooling.local.sandbox import Sandbox

        sandbox = Sandbox(f"http://{HOST}:{PORT}/stripe/webhook")
        sandbox.start()
        index = sandbox.describe_html
        print(sandbox.describe_text(), flush=True)
    else:
        print("Using the Stripe and HubSpot configured in .env / the environment.", flush=True)
    print(f"Omniroo listening on http://{HOST}:{PORT}", flush=True)
    print(f"  Stripe API version {API_VERSION} (shared/stripe_version.py)", flush=True)
    for method, path, name in ROUTES:
        print(f"  {method:5} http://{HOST}:{PORT}{path}  ({name})", flush=True)
    run_simple(
        HOST, PORT, build(index), threaded=True, use_reloader=False, request_handler=AccessLog
    )


if __name__ == "__main__":
    main()
