"""The console's routes. ``make_app(deps)`` builds the Flask app once per instance.

    GET       /                              to the projects, or to sign-in
    GET POST  /sign-up  /sign-in             pre-session CSRF (double submit + Origin)
    POST      /sign-out
    GET POST  /projects                      list; create (name, Stripe mode)
    GET       /projects/<id>                 connections, latest outcomes, settings
    POST      /projects/<id>/settings        JSON validated by ProjectSettings
    POST      /projects/<id>/connect/<p>     303 to the provider's authorize page
    POST      /projects/<id>/disconnect/<p>
    GET       /account                       password change, export, close
    POST      /account/password  /account/close
    GET       /account/export                the configuration as a JSON download
    GET POST  /contact                       security reports
    GET       /security  /.well-known/security.txt  /console.css

Every route that takes an id reads it through ``shared.accounts.access`` with the signed-in
account, so another account's project answers 404 exactly like a missing one.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import flask
from werkzeug.wrappers import Response

from shared import audit, closure, logs, projects, reports
from shared.accounts import access, passwords, sessions
from shared.accounts.service import Accounts
from shared.accounts.sessions import Session
from shared.accounts.throttle import Throttled
from shared.clock import Clock
from shared.console import web
from shared.errors import BadRequest, ConfigError, NotFound, OmnirooError
from shared.project_settings import ProjectSettings
from shared.store.base import Store
from shared.sync import outcomes

HERE = Path(__file__).resolve().parent
PROVIDERS = ("stripe", "hubspot")
PRE_SESSION_POSTS = frozenset({"/sign-in", "/sign-up", "/contact"})
MAX_FORM_BYTES = 64 * 1024


@dataclass
class ConsoleDeps:
    store: Store
    clock: Clock
    accounts: Accounts
    public_url: str
    local: bool
    proxy_hops: int = 0  # 2 behind Google's load balancer; 0 reads REMOTE_ADDR
    flows: Any = None  # shared.oauth.flows, once it exists
    oauth: Any = None  # its OAuthDeps
    form_hosts: tuple[str, ...] = web.AUTHORIZE_HOSTS


def make_app(deps: ConsoleDeps) -> flask.Flask:
    app = flask.Flask(
        "omniroo_console", template_folder=str(HERE / "templates"), static_folder=None
    )
    app.config["MAX_CONTENT_LENGTH"] = MAX_FORM_BYTES
    # The forms state the password rules the service enforces, from the same constants.
    app.jinja_env.globals.update(
        password_min=passwords.MIN_LENGTH, password_max_bytes=passwords.MAX_BYTES
    )

    def session() -> Session | None:
        cached: Session | None = flask.g.get("session")
        if "session" not in flask.g:
            token = flask.request.cookies.get(sessions.cookie_name(deps.local))
            cached = flask.g.session = sessions.load(deps.store, deps.clock, token)
        return cached

    def client() -> str:
        return web.client_address(flask.request, deps.proxy_hops)

    def page(template: str, status: int = 200, **context: Any) -> Response:
        current = session()
        if current is not None:
            csrf, fresh = sessions.csrf_token(current), False
        else:
            csrf, fresh = web.presession_token(flask.request, deps.local)
        html = flask.render_template(template, csrf=csrf, signed_in=current is not None, **context)
        response = flask.make_response(html, status)
        if fresh:
            web.set_presession_cookie(response, csrf, deps.local)
        return response

    def signed_in(view: Callable[..., Response]) -> Callable[..., Response]:
        def wrapper(**kwargs: Any) -> Response:
            current = session()
            if current is None:
                return flask.redirect("/sign-in", 303)
            return view(current, **kwargs)

        wrapper.__name__ = view.__name__
        return wrapper

    def with_session_cookie(response: Response, new: Session) -> Response:
        response.set_cookie(**sessions.session_cookie(new.token, deps.local))
        return response

    @app.before_request
    def check_post() -> None:
        if flask.request.method != "POST":
            return
        web.check_origin(flask.request, deps.public_url, deps.local)
        current = session()
        if flask.request.path in PRE_SESSION_POSTS and current is None:
            web.check_presession(flask.request, deps.local)
        elif current is not None:
            sessions.check_csrf(current, flask.request.form.get("csrf_token"))

    @app.after_request
    def headers(response: Response) -> Response:
        web.security_headers(response, deps.local, deps.form_hosts)  # type: ignore[arg-type]
        return response

    @app.errorhandler(OmnirooError)
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

    @app.errorhandler(404)
    def missing(_: Exception) -> Response:
        return page("message.html", 404, title="Not found", message="No such page.")

    @app.get("/console.css")
    def css() -> Response:
        response = flask.make_response((HERE / "static" / "console.css").read_text())
        response.headers["Content-Type"] = "text/css; charset=utf-8"
        response.headers["Cache-Control"] = "public, max-age=3600"
        return response

    @app.get("/")
    def home() -> Response:
        return flask.redirect("/projects" if session() else "/sign-in", 303)

    @app.route("/sign-up", methods=["GET", "POST"])
    def sign_up() -> Response:
        if flask.request.method == "GET":
            return page("sign_up.html")
        form = flask.request.form
        try:
            new = deps.accounts.sign_up(form.get("email", ""), form.get("password", ""), client())
        except BadRequest as exc:
            if isinstance(exc, Throttled):
                raise
            return page("sign_up.html", 400, error=str(exc), email=form.get("email", ""))
        return with_session_cookie(flask.redirect("/projects", 303), new)

    @app.route("/sign-in", methods=["GET", "POST"])
    def sign_in() -> Response:
        if flask.request.method == "GET":
            return page("sign_in.html")
        form = flask.request.form
        previous = flask.request.cookies.get(sessions.cookie_name(deps.local))
        try:
            new = deps.accounts.sign_in(
                form.get("email", ""), form.get("password", ""), client(), replacing=previous
            )
        except Throttled:
            raise
        except BadRequest as exc:
            return page("sign_in.html", exc.status, error=str(exc), email=form.get("email", ""))
        return with_session_cookie(flask.redirect("/projects", 303), new)

    @app.post("/sign-out")
    def sign_out() -> Response:
        token = flask.request.cookies.get(sessions.cookie_name(deps.local))
        if token:
            deps.accounts.sign_out(token, client())
        response = flask.redirect("/sign-in", 303)
        response.set_cookie(**sessions.clear_cookie(deps.local))
        return response

    @app.route("/projects", methods=["GET", "POST"])
    @signed_in
    def projects(current: Session) -> Response:
        error = ""
        if flask.request.method == "POST":
            try:
                project_id = create_project(deps, current.account_id, flask.request.form)
                return flask.redirect(f"/projects/{project_id}", 303)
            except BadRequest as exc:
                error = str(exc)
        rows = access.projects_for(deps.store, current.account_id)
        return page("projects.html", 400 if error else 200, projects=rows, error=error)

    def project_page(
        current: Session, project_id: str, status: int = 200, **extra: Any
    ) -> Response:
        project = access.project_for(deps.store, current.account_id, project_id)
        settings = ProjectSettings.from_doc(project.get("settings")).to_doc()
        return page(
            "project.html",
            status,
            project_id=project_id,
            project=project,
            outcomes=outcomes.for_project(deps.store, project_id)[:20],
            settings_json=extra.pop("settings_json", json.dumps(settings, indent=2)),
            oauth=deps.flows is not None,
            **extra,
        )

    @app.get("/projects/<project_id>")
    @signed_in
    def project(current: Session, project_id: str) -> Response:
        return project_page(current, project_id)

    @app.post("/projects/<project_id>/settings")
    @signed_in
    def project_settings(current: Session, project_id: str) -> Response:
        project = access.project_for(deps.store, current.account_id, project_id)
        text = flask.request.form.get("settings", "")
        try:
            parsed = json.loads(text)
            new = ProjectSettings.from_doc(parsed if isinstance(parsed, dict) else None)
            if not isinstance(parsed, dict):
                raise BadRequest("settings: expected a JSON object")
        except ValueError as exc:
            message = exc if isinstance(exc, BadRequest) else f"settings: not JSON ({exc})"
            return project_page(current, project_id, 400, error=str(message), settings_json=text)
        except BadRequest as exc:
            return project_page(current, project_id, 400, error=str(exc), settings_json=text)
        deps.store.put("projects", project_id, {**project, "settings": new.to_doc()})
        audit.record(
            deps.store, deps.clock, current.account_id, "settings_changed",
            project_id=project_id, client=_address(client()),
        )  # fmt: skip
        return flask.redirect(f"/projects/{project_id}", 303)

    @app.post("/projects/<project_id>/connect/<provider>")
    @signed_in
    def connect(current: Session, project_id: str, provider: str) -> Response:
        access.project_for(deps.store, current.account_id, project_id)
        if provider not in PROVIDERS:
            raise NotFound("no such provider")
        if deps.flows is None:
            raise BadRequest("Connecting is coming soon.")
        url = deps.flows.begin(provider, deps.oauth, current, project_id)
        return flask.redirect(url, 303)

    @app.post("/projects/<project_id>/disconnect/<provider>")
    @signed_in
    def disconnect(current: Session, project_id: str, provider: str) -> Response:
        access.project_for(deps.store, current.account_id, project_id)
        if provider not in PROVIDERS:
            raise NotFound("no such provider")
        if deps.flows is None:
            raise BadRequest("Disconnecting is coming soon.")
        deps.flows.disconnect(provider, deps.oauth, current, project_id)
        return flask.redirect(f"/projects/{project_id}", 303)

    @app.get("/account")
    @signed_in
    def account(current: Session) -> Response:
        return account_page(current)

    def account_page(current: Session, status: int = 200, **extra: Any) -> Response:
        doc = access.account_for(deps.store, current.account_id)
        trail = audit.trail(deps.store, current.account_id)[-20:]
        return page("account.html", status, account=doc, trail=trail, **extra)

    @app.post("/account/password")
    @signed_in
    def password(current: Session) -> Response:
        form = flask.request.form
        try:
            new = deps.accounts.change_password(
                current, form.get("current", ""), form.get("new", ""), client()
            )
        except Throttled:
            raise
        except BadRequest as exc:
            return account_page(current, exc.status, password_error=str(exc))
        return with_session_cookie(flask.redirect("/account?changed=1", 303), new)

    @app.get("/account/export")
    @signed_in
    def export(current: Session) -> Response:
        body = json.dumps(closure.export(deps.store, current.account_id), indent=2)
        response = flask.make_response(body)
        response.headers["Content-Type"] = "application/json"
        response.headers["Content-Disposition"] = 'attachment; filename="omniroo-export.json"'
        return response

    @app.post("/account/close")
    @signed_in
    def close(current: Session) -> Response:
        try:
            closure.close(
                closure.ClosureDeps(deps.store, deps.clock, deps.accounts, deps.flows, deps.oauth),
                current,
                flask.request.form.get("password", ""),
                client(),
            )
        except Throttled:
            raise
        except BadRequest as exc:
            return account_page(current, exc.status, close_error=str(exc))
        response = page("message.html", title="Account closed", message=closure.GOODBYE)
        response.set_cookie(**sessions.clear_cookie(deps.local))
        return response

    @app.route("/contact", methods=["GET", "POST"])
    def contact() -> Response:
        if flask.request.method == "GET":
            return page("contact.html")
        form = flask.request.form
        try:
            reports.receive(
                deps.store, deps.clock, form.get("name", ""), form.get("email", ""),
                form.get("message", ""),
            )  # fmt: skip
        except BadRequest as exc:
            return page("contact.html", 400, error=str(exc), form=form)
        return page("message.html", title="Thank you", message=reports.THANKS)

    @app.get("/security")
    def security() -> Response:
        return page("security.html")

    @app.get("/.well-known/security.txt")
    def security_txt() -> Response:
        text = reports.security_txt(deps.public_url, deps.clock.now())
        response = flask.make_response(text)
        response.headers["Content-Type"] = "text/plain; charset=utf-8"
        return response

    return app


def create_project(deps: ConsoleDeps, account_id: str, form: Any) -> str:
    """A project with no connection yet: the OAuth flows fill in Stripe and HubSpot."""
    name = " ".join(str(form.get("name", "")).split())
    if not 1 <= len(name) <= 80:
        raise BadRequest("name: between 1 and 80 characters")
    mode = form.get("mode", "")
    if mode not in ("test", "live"):
        raise BadRequest("mode: test or live")
    return projects.add_unconnected(deps.store, account_id, name, mode == "live", deps.clock.now())


def _address(client: str) -> str:
    from shared.accounts.service import _address as address

    return address(client)
