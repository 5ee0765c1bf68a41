"""The console's Flask app: ``make_app(deps)`` builds it once per instance from the page modules.

    public    GET /  /security  /.well-known/security.txt  /console.css;  GET POST /contact
    auth      GET POST /sign-up  /sign-in;  POST /sign-out
    projects  GET POST /projects;  GET /projects/<id>
              POST /projects/<id>/connect/<provider>  /projects/<id>/disconnect/<provider>
    editor    GET POST /projects/<id>/settings  (the settings editor, its preview, JSON import)
    health    GET /projects/<id>/health  (sync health: chart, last 24 h, failures by code)
    failures  GET /projects/<id>/failures  /projects/<id>/replay;  POST /projects/<id>/replay
    backfill  GET /projects/<id>/backfill;  POST /projects/<id>/backfill/preview  .../start
              .../cancel
    account   GET /account  /account/export;  POST /account/password  /account/close

Every POST passes the CSRF and Origin checks below before any page code runs; every response
gets the security headers of ``web``.
"""

from pathlib import Path

import flask
from werkzeug.wrappers import Response

from shared import logs
from shared.accounts import passwords, sessions
from shared.accounts.throttle import Throttled
from shared.console import badges, web
from shared.console.account import account
from shared.console.auth import auth
from shared.console.backfill_pages import backfill_pages
from shared.console.deps import ConsoleDeps
from shared.console.editor import editor
from shared.console.failure_pages import failure_pages
from shared.console.health_pages import health_pages
from shared.console.pages import EXTENSION, deps, page, session
from shared.console.projects import projects
from shared.console.public import public
from shared.errors import BadRequest, ConfigError, NotFound, OmnirooError

__all__ = ["ConsoleDeps", "make_app"]

HERE = Path(__file__).resolve().parent
PRE_SESSION_POSTS = frozenset({"/sign-in", "/sign-up", "/contact"})
MAX_FORM_BYTES = 64 * 1024
BLUEPRINTS = (public, auth, projects, editor, health_pages, failure_pages, backfill_pages, account)


def make_app(console: ConsoleDeps) -> flask.Flask:
    app = flask.Flask(
        "omniroo_console", template_folder=str(HERE / "templates"), static_folder=None
    )
    app.config["MAX_CONTENT_LENGTH"] = MAX_FORM_BYTES
    app.extensions[EXTENSION] = console
    # The forms state the password rules the service enforces, from the same constants.
    app.jinja_env.globals.update(
        password_min=passwords.MIN_LENGTH,
        password_max_bytes=passwords.MAX_BYTES,
        connection=badges.connection,
        needs_reconnect=badges.NEEDS_RECONNECT,
        why_reconnect=badges.WHY_RECONNECT,
        outcome_tone=badges.OUTCOME_TONE,
    )
    app.before_request(check_post)
    app.after_request(headers)
    app.register_error_handler(OmnirooError, refused)
    app.register_error_handler(404, missing)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    return app


def check_post() -> None:
    if flask.request.method != "POST":
        return
    current = deps()
    web.check_origin(flask.request, current.public_url, current.local)
    signed = session()
    if flask.request.path in PRE_SESSION_POSTS and signed is None:
        web.check_presession(flask.request, current.local)
    elif signed is not None:
        sessions.check_csrf(signed, flask.request.form.get("csrf_token"))


def headers(response: Response) -> Response:
    web.security_headers(response, deps().local, deps().form_hosts)  # type: ignore[arg-type]
    return response


def refused(exc: OmnirooError) -> Response:
    if isinstance(exc, (BadRequest, NotFound)):
        response = page("message.html", exc.status, title="Not possible", message=str(exc))
        if isinstance(exc, Throttled):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    # A ConfigError names the missing setting (never its value): the operator needs it.
    reason = str(exc) if isinstance(exc, ConfigError) else ""
    logs.alert("console failed", error_type=type(exc).__name__, reason=reason)
    return page("message.html", 503, title="Unavailable", message="Try again shortly.")


def missing(_: Exception) -> Response:
    return page("message.html", 404, title="Not found", message="No such page.")
