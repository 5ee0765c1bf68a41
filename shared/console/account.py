"""The account page: password change, configuration export, closing the account."""

import json
from typing import Any

import flask
from werkzeug.wrappers import Response

from shared import audit, closure
from shared.accounts import access, sessions
from shared.accounts.sessions import Session
from shared.accounts.throttle import Throttled
from shared.console.pages import client, deps, page, redirect, signed_in, with_session_cookie
from shared.errors import BadRequest

account = flask.Blueprint("account", __name__)


def account_page(current: Session, status: int = 200, **extra: Any) -> Response:
    store = deps().store
    doc = access.account_for(store, current.account_id)
    trail = audit.trail(store, current.account_id)[-20:]
    return page("account.html", status, account=doc, trail=trail, **extra)


@account.get("/account")
@signed_in
def show(current: Session) -> Response:
    return account_page(current)


@account.post("/account/password")
@signed_in
def password(current: Session) -> Response:
    form = flask.request.form
    try:
        new = deps().accounts.change_password(
            current, form.get("current", ""), form.get("new", ""), client()
        )
    except Throttled:
        raise
    except BadRequest as exc:
        return account_page(current, exc.status, password_error=str(exc))
    return with_session_cookie(redirect("/account?changed=1"), new)


@account.get("/account/export")
@signed_in
def export(current: Session) -> Response:
    body = json.dumps(closure.export(deps().store, current.account_id), indent=2)
    response = flask.make_response(body)
    response.headers["Content-Type"] = "application/json"
    response.headers["Content-Disposition"] = 'attachment; filename="omniroo-export.json"'
    return response


@account.post("/account/close")
@signed_in
def close(current: Session) -> Response:
    d = deps()
    try:
        closure.close(
            closure.ClosureDeps(d.store, d.clock, d.accounts, d.flows, d.oauth),
            current,
            flask.request.form.get("password", ""),
            client(),
        )
    except Throttled:
        raise
    except BadRequest as exc:
        return account_page(current, exc.status, close_error=str(exc))
    response = page("message.html", title="Account closed", message=closure.GOODBYE)
    response.set_cookie(**sessions.clear_cookie(d.local))
    return response
