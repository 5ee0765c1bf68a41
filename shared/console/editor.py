"""The settings editor: ``GET`` and ``POST /projects/<id>/settings``.

The form (``settings_form``) goes through the same ``settings_check.check`` as ``tooling.cli
settings``, against the portal read with the project's own token (``readers``); every problem is
shown beside its field and nothing is saved while there is one. "Preview" runs the rules over
the project's subscriptions instead of saving. A ``settings`` field instead of the form is an
import of settings as JSON (``settings_check.load_json``: size and depth limited).
"""

from typing import Any

import flask
from werkzeug.wrappers import Response

from shared import audit, settings_check
from shared.accounts import access
from shared.accounts.sessions import Session
from shared.console import readers, settings_form
from shared.console.pages import audit_client, deps, page, redirect, signed_in
from shared.console.settings_form import Form
from shared.errors import BadRequest
from shared.hubspot.portal import Portal
from shared.project_settings import DEFAULT_RULES, OBJECTS, SUBSCRIPTION_STATUSES, ProjectSettings
from shared.store.base import Doc

editor = flask.Blueprint("editor", __name__)

OBJECT_LABELS = {
    "subscriptions": "Subscriptions, as deals with line items",
    "invoices": "Invoices: the latest on each deal; one-off invoices as deals of their own",
    "payments": "Payments: lifetime value and last payment on each contact",
    "products": "Products and prices, as HubSpot products",
}
CHOICE_LABELS = {
    "customers_without_email": {
        "sync": "Sync it by its Stripe customer id alone",
        "skip": "Skip it, and record why",
    },
    "on_customer_deleted": {
        "flag": "Keep the contact, marked deleted",
        "archive": "Archive the contact",
    },
    "company_matching": {
        "off": "Off",
        "domain": "By the email's domain (free-mail domains never make a company)",
        "metadata": "By the customer's metadata.company",
        "domain_or_metadata": "By the email's domain, else metadata.company",
    },
}


@editor.get("/projects/<project_id>/settings")
@signed_in
def show(current: Session, project_id: str) -> Response:
    project = access.project_for(deps().store, current.account_id, project_id)
    form = settings_form.from_settings(ProjectSettings.from_doc(project.get("settings")))
    saved = flask.request.args.get("saved") == "1"
    return _render(project_id, project, form, _portal(project_id, project), saved=saved)


@editor.post("/projects/<project_id>/settings")
@signed_in
def save(current: Session, project_id: str) -> Response:
    project = access.project_for(deps().store, current.account_id, project_id)
    posted = flask.request.form
    read = _portal(project_id, project)
    if "settings" in posted:
        return _import(current, project_id, project, read, posted["settings"])
    form, doc = settings_form.from_post(posted)
    checked = settings_check.check(doc, read.portal)
    settings_form.place(form, checked.problems)
    if read.problem:  # connected, yet the stages could not be checked: never save unchecked
        form.errors["hubspot"] = read.problem
    if posted.get("action") == "preview":
        preview = None
        if checked.settings is not None and not form.problem_count():
            preview = readers.preview(_readers(), project, checked.settings, read.portal)
        return _render(project_id, project, form, read, preview=preview)
    if form.problem_count() or not checked.saveable or checked.settings is None:
        return _render(project_id, project, form, read, status=400)
    _store(current, project_id, project, checked.settings, checked_against_portal=bool(read.portal))
    return redirect(f"/projects/{project_id}/settings?saved=1")


def _import(
    current: Session, project_id: str, project: Doc, read: readers.PortalRead, text: str
) -> Response:
    form = settings_form.from_settings(ProjectSettings.from_doc(project.get("settings")))
    try:
        checked = settings_check.check(settings_check.load_json(text), read.portal)
        problems = [str(p) for p in checked.problems] + ([read.problem] if read.problem else [])
    except BadRequest as exc:
        checked, problems = None, [str(exc)]
    if checked is None or checked.settings is None or problems:
        return _render(project_id, project, form, read, status=400, import_errors=problems,
                       import_text=text)  # fmt: skip
    _store(current, project_id, project, checked.settings, checked_against_portal=bool(read.portal))
    return redirect(f"/projects/{project_id}/settings?saved=1")


def _store(
    current: Session,
    project_id: str,
    project: Doc,
    settings: ProjectSettings,
    checked_against_portal: bool,
) -> None:
    changes: Doc = {"settings": settings.to_doc()}
    if checked_against_portal:
        # The portal just confirmed every stage: the warnings from connect time are answered.
        kept = [w for w in project.get("hubspot_warnings") or [] if not _about_stages(w)]
        changes["hubspot_warnings"] = kept
    store = deps().store

    def apply(doc: Doc | None) -> Doc | None:
        return None if doc is None else {**doc, **changes}

    store.update("projects", project_id, apply)
    audit.record(
        store, deps().clock, current.account_id, "settings_changed",
        project_id=project_id, client=audit_client(),
    )  # fmt: skip


def _about_stages(warning: str) -> bool:
    return warning.startswith(settings_check.STAGE_PROBLEM_FIELDS)


def _readers() -> readers.Readers:
    found = deps().readers
    if found is None:
        raise BadRequest("Previews are not available here.")
    return found


def _portal(project_id: str, project: Doc) -> readers.PortalRead:
    found = deps().readers
    if found is None:
        return readers.PortalRead(None)
    return readers.read_portal(found, deps().store, deps().clock, project_id, project)


def _render(
    project_id: str,
    project: Doc,
    form: Form,
    read: readers.PortalRead,
    status: int = 200,
    **extra: Any,
) -> Response:
    if read.reconnect:
        project = {**project, "hubspot_status": "reconnect"}
    portal = read.portal
    return page(
        "settings.html",
        status,
        project_id=project_id,
        project=project,
        form=form,
        portal=portal,
        targets={f"{p.id}/{s.id}" for p in portal.pipelines for s in p.stages} if portal else set(),
        properties=_mappable(portal),
        read_problem=read.problem,
        statuses=SUBSCRIPTION_STATUSES,
        objects=OBJECTS,
        object_labels=OBJECT_LABELS,
        choice_labels=CHOICE_LABELS,
        defaults=_defaults(portal),
        **extra,
    )


def _defaults(portal: Portal | None) -> list[tuple[str, str]]:
    """The rules that apply when none of the project's match: statuses, and where deals go."""
    label = portal.stage_label if portal else (lambda p, s: f"{p} · {s}")
    return [(", ".join(r.statuses), label(r.pipeline, r.stage)) for r in DEFAULT_RULES]


def _mappable(portal: Portal | None) -> list[tuple[str, str]]:
    """Contact properties a mapping may write: the portal's, less what HubSpot computes and
    what the sync writes itself."""
    if portal is None:
        return []
    return sorted(
        (p.label, p.name)
        for p in portal.contact_properties
        if not p.read_only and p.name not in settings_check.MANAGED_CONTACT_PROPERTIES
    )
