"""Pages anyone may see: the front page, the security page and security.txt, the contact form
for security reports, and the stylesheet."""

from pathlib import Path

import flask
from werkzeug.wrappers import Response

from shared import reports
from shared.accounts.throttle import CONTACT
from shared.console.pages import client, deps, page, redirect, session
from shared.errors import BadRequest

STATIC = Path(__file__).resolve().parent / "static"
# What /assets serves from static/: each file its own route (no path converter, so no path to
# traverse). Not /static: functions-framework's own Flask app answers that prefix itself.
STATIC_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".js": "text/javascript; charset=utf-8",
}

public = flask.Blueprint("public", __name__)


def _static(path: Path) -> None:
    def serve() -> Response:
        response = flask.make_response(path.read_bytes())
        response.headers["Content-Type"] = STATIC_TYPES[path.suffix]
        response.headers["Cache-Control"] = "public, max-age=3600"
        return response

    url = f"/assets/{path.relative_to(STATIC).as_posix()}"
    public.add_url_rule(url, "asset" + url.replace("/", "_").replace(".", "_"), serve)


for _path in sorted(STATIC.rglob("*")):
    if _path.suffix in STATIC_TYPES:
        _static(_path)


@public.get("/")
def home() -> Response:
    """Signed in: the projects. Otherwise two lines on what Omniroo does, and the way in."""
    return redirect("/projects") if session() else page("home.html")


@public.route("/contact", methods=["GET", "POST"])
def contact() -> Response:
    """A security report; each one is stored 180 days and alerts the team, so one client
    address gets a few a day (``throttle.CONTACT``); a refused form costs nothing."""
    if flask.request.method == "GET":
        return page("contact.html")
    form = flask.request.form
    current = deps()
    attempt = current.accounts.throttle.admit_client(client(), CONTACT)
    try:
        reports.receive(
            current.store, current.clock, form.get("name", ""), form.get("email", ""),
            form.get("message", ""),
        )  # fmt: skip
    except BadRequest as exc:
        attempt.succeeded()  # nothing was stored: give the reservation back
        return page("contact.html", 400, error=str(exc), form=form)
    attempt.failed()  # the reservation stands: it was the report
    return page("message.html", title="Thank you", message=reports.THANKS)


@public.get("/security")
def security() -> Response:
    return page("security.html")


@public.get("/.well-known/security.txt")
def security_txt() -> Response:
    current = deps()
    text = reports.security_txt(current.public_url, current.clock.now())
    response = flask.make_response(text)
    response.headers["Content-Type"] = "text/plain; charset=utf-8"
    return response
