"""What every console page shares: the running app's dependencies, the signed-in session, the
client address, rendering a template with its CSRF token, and the ``signed_in`` guard."""

import functools
from collections.abc import Callable
from typing import Any, cast

import flask
from werkzeug.wrappers import Response

from shared.accounts import access, sessions
from shared.accounts.service import _address
from shared.accounts.sessions import Session
from shared.console import web
from shared.console.deps import ConsoleDeps
from shared.errors import ConfigError
from shared.repair.deps import RepairDeps

EXTENSION = "omniroo_console"


def deps() -> ConsoleDeps:
    return cast(ConsoleDeps, flask.current_app.extensions[EXTENSION])


def repair() -> RepairDeps:
    """Replay and preview's dependencies; a console wired without them cannot offer those."""
    found = deps().repair
    if found is None:
        raise ConfigError("console: repair is not wired (shared.wiring.console_deps)")
    return found


def session() -> Session | None:
    """The request's live session, read once per request."""
    if "session" not in flask.g:
        current = deps()
        token = flask.request.cookies.get(sessions.cookie_name(current.local))
        flask.g.session = access.live_session(current.store, current.clock, token)
    return cast(Session | None, flask.g.session)


def client() -> str:
    return web.client_address(flask.request, deps().proxy_hops)


def audit_client() -> str:
    """The client address as the audit trail keeps it."""
    return _address(client())


def page(template: str, status: int = 200, **context: Any) -> Response:
    current = session()
    if current is not None:
        csrf, fresh = sessions.csrf_token(current), False
    else:
        csrf, fresh = web.presession_token(flask.request, deps().local)
    html = flask.render_template(template, csrf=csrf, signed_in=current is not None, **context)
    response = flask.make_response(html, status)
    if fresh:
        web.set_presession_cookie(response, csrf, deps().local)
    return response


def signed_in(view: Callable[..., Response]) -> Callable[..., Response]:
    """Run ``view(session, **url_values)`` for a signed-in visitor; send others to sign in."""

    @functools.wraps(view)
    def wrapper(**kwargs: Any) -> Response:
        current = session()
        if current is None:
            return flask.redirect("/sign-in", 303)
        return view(current, **kwargs)

    return wrapper


def with_session_cookie(response: Response, new: Session) -> Response:
    response.set_cookie(**sessions.session_cookie(new.token, deps().local))
    return response


def redirect(path: str) -> Response:
    return flask.redirect(path, 303)
