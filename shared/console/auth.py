"""Sign up, sign in and sign out."""

import flask
from werkzeug.wrappers import Response

from shared.accounts import sessions
from shared.accounts.throttle import Throttled
from shared.console.pages import client, deps, page, redirect, with_session_cookie
from shared.errors import BadRequest

auth = flask.Blueprint("auth", __name__)


@auth.route("/sign-up", methods=["GET", "POST"])
def sign_up() -> Response:
    if flask.request.method == "GET":
        return page("sign_up.html")
    form = flask.request.form
    try:
        new = deps().accounts.sign_up(form.get("email", ""), form.get("password", ""), client())
    except Throttled:
        raise
    except BadRequest as exc:
        return page("sign_up.html", 400, error=str(exc), email=form.get("email", ""))
    return with_session_cookie(redirect("/projects"), new)


@auth.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> Response:
    if flask.request.method == "GET":
        return page("sign_in.html")
    form = flask.request.form
    previous = flask.request.cookies.get(sessions.cookie_name(deps().local))
    try:
        new = deps().accounts.sign_in(
            form.get("email", ""), form.get("password", ""), client(), replacing=previous
        )
    except Throttled:
        raise
    except BadRequest as exc:
        return page("sign_in.html", exc.status, error=str(exc), email=form.get("email", ""))
    return with_session_cookie(redirect("/projects"), new)


@auth.post("/sign-out")
def sign_out() -> Response:
    local = deps().local
    token = flask.request.cookies.get(sessions.cookie_name(local))
    if token:
        deps().accounts.sign_out(token, client())
    response = redirect("/sign-in")
    response.set_cookie(**sessions.clear_cookie(local))
    return response
