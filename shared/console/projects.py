"""The projects list, a new project, one project's page, and its connect / disconnect buttons.

Every route that takes an id reads the project through ``shared.accounts.access`` with the
signed-in account, so another account's project answers 404 exactly like a missing one.
"""

from typing import Any

import flask
from werkzeug.wrappers import Response

from shared import projects as shared_projects
from shared.accounts import access
from shared.accounts.sessions import Session
from shared.console import badges
from shared.console.pages import deps, page, redirect, signed_in
from shared.errors import BadRequest, ConfigError, NotFound
from shared.project_settings import ProjectSettings
from shared.sync import outcomes

PROVIDERS = ("stripe", "hubspot")
LATEST = 20  # outcomes the project page shows, read newest first and no more

projects = flask.Blueprint("projects", __name__)


@projects.route("/projects", methods=["GET", "POST"])
@signed_in
def listing(current: Session) -> Response:
    error = ""
    if flask.request.method == "POST":
        try:
            project_id = create_project(current.account_id, flask.request.form)
            return redirect(f"/projects/{project_id}")
        except BadRequest as exc:
            error = str(exc)
    rows = access.projects_for(deps().store, current.account_id)
    return page("projects.html", 400 if error else 200, projects=rows, error=error)


def project_page(current: Session, project_id: str, status: int = 200, **extra: Any) -> Response:
    store = deps().store
    project = access.project_for(store, current.account_id, project_id)
    settings = ProjectSettings.from_doc(project.get("settings"))
    latest = [doc for _, doc in outcomes.latest(store, project_id, LATEST)]
    return page(
        "project.html",
        status,
        project_id=project_id,
        project=project,
        outcomes=latest,
        sync=badges.sync(project, latest, deps().clock.now()),
        settings=settings,
        tab="overview",
        **extra,
    )


@projects.get("/projects/<project_id>")
@signed_in
def show(current: Session, project_id: str) -> Response:
    return project_page(current, project_id)


@projects.post("/projects/<project_id>/connect/<provider>")
@signed_in
def connect(current: Session, project_id: str, provider: str) -> Response:
    flows = _flows(current, project_id, provider)
    return redirect(flows.begin(provider, deps().oauth, current, project_id))


@projects.post("/projects/<project_id>/disconnect/<provider>")
@signed_in
def disconnect(current: Session, project_id: str, provider: str) -> Response:
    _flows(current, project_id, provider).disconnect(provider, deps().oauth, current, project_id)
    return redirect(f"/projects/{project_id}")


def _flows(current: Session, project_id: str, provider: str) -> Any:
    access.project_for(deps().store, current.account_id, project_id)
    if provider not in PROVIDERS:
        raise NotFound("no such provider")
    flows = deps().flows
    if flows is None:
        raise ConfigError("console: the OAuth flows are not wired (shared.wiring.console_deps)")
    return flows


def create_project(account_id: str, form: Any) -> str:
    """A project with no connection yet: the OAuth flows fill in Stripe and HubSpot."""
    name = " ".join(str(form.get("name", "")).split())
    if not 1 <= len(name) <= 80:
        raise BadRequest("name: between 1 and 80 characters")
    mode = form.get("mode", "")
    if mode not in ("test", "live"):
        raise BadRequest("mode: test or live")
    return shared_projects.add_unconnected(
        deps().store, account_id, name, mode == "live", deps().clock.now()
    )
