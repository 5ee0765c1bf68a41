"""The console's pages through the ``console`` function: sign-up, sign-in, sign-out, password
change, projects, settings, CSRF refusals, security headers and sign-in throttling."""

import json
import re

import flask
import pytest
from flask import Response

from shared import logs, wiring
from shared.accounts.ids import digest
from shared.accounts.service import Accounts
from shared.accounts.throttle import PAIR, client_key
from shared.config import Settings
from shared.console import web
from shared.console.app import ConsoleDeps, make_app
from shared.oauth import flows
from tests.functions.console_helpers import ORIGIN, PASSWORD, Console, console_fixture  # noqa: F401

EMAIL = "ada@example.com"


def test_sign_up_sign_out_sign_in_and_change_password(console: Console) -> None:
    account_id = console.sign_up(EMAIL)
    assert "Projects" in console.client.get("/projects").get_data(as_text=True)
    assert console.post("/sign-out", csrf_from="/projects").status_code == 303
    assert console.client.get("/projects").headers["Location"] == "/sign-in"

    wrong = console.post("/sign-in", {"email": EMAIL, "password": "not the password"})
    assert wrong.status_code == 401 and "Wrong email or password." in wrong.get_data(as_text=True)
    signed_in = console.post("/sign-in", {"email": EMAIL, "password": PASSWORD})
    assert signed_in.status_code == 303 and signed_in.headers["Location"] == "/projects"
    cookie = signed_in.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie

    new = "violet Harbor 42 cinnamon"
    changed = console.post("/account/password", {"current": PASSWORD, "new": new}, "/account")
    assert changed.status_code == 303
    assert console.client.get("/account").status_code == 200  # the fresh session works
    actions = [doc["action"] for _, doc in console.store.find("audit", "account_id", account_id)]
    assert {"sign_up", "sign_out", "sign_in", "sign_in_failed", "password_changed"} <= set(actions)


def test_a_password_over_72_bytes_is_refused_with_a_clear_message(console: Console) -> None:
    answer = console.post("/sign-up", {"email": EMAIL, "password": "é" * 40})
    assert answer.status_code == 400 and "72" in answer.get_data(as_text=True)


def test_sign_in_and_sign_up_refuse_posts_without_the_pre_session_cookie_or_origin(
    console: Console,
) -> None:
    token = console.csrf("/sign-in")
    form = {"csrf_token": token, "email": EMAIL, "password": PASSWORD}
    assert console.client.post("/sign-in", data=form).status_code == 403  # no Origin
    evil = {"Origin": "https://evil.example"}
    assert console.client.post("/sign-in", data=form, headers=evil).status_code == 403
    referer = {"Referer": "https://evil.example/sign-in"}
    assert console.client.post("/sign-up", data=form, headers=referer).status_code == 403
    forged = {**form, "csrf_token": "x" * 43}
    ours = {"Origin": ORIGIN}
    assert console.client.post("/sign-in", data=forged, headers=ours).status_code == 403
    fresh = console.client.__class__(console.client.application)  # a browser without the cookie
    assert fresh.post("/sign-up", data=form, headers=ours).status_code == 403
    assert console.store.find("accounts", "email", EMAIL) == []


def test_signed_in_forms_refuse_a_missing_or_foreign_csrf_token(console: Console) -> None:
    console.sign_up(EMAIL)
    for path in ("/projects", "/sign-out", "/account/password", "/account/close"):
        for token in (None, "forged"):
            data = {"name": "x", "mode": "test"} | ({"csrf_token": token} if token else {})
            answer = console.client.post(path, data=data, headers={"Origin": ORIGIN})
            assert answer.status_code == 403, path
    assert console.store.find("projects", "name", "x") == []
    assert console.client.get("/projects").status_code == 200  # still signed in


def test_every_response_carries_the_security_headers(console: Console) -> None:
    for path in (
        "/sign-in",
        "/sign-up",
        "/contact",
        "/security",
        "/assets/console.css",
        "/nowhere",
        "/",
    ):
        headers = console.client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self';" in csp and "frame-ancestors 'none'" in csp, path
        assert "unsafe-inline" not in csp
        assert "default-src 'self'" in csp and "base-uri 'none'" in csp
        assert "form-action 'self' https://connect.stripe.com https://app.hubspot.com" in csp
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert "Strict-Transport-Security" not in headers  # local mode is plain http
    page = console.client.get("/sign-in").get_data(as_text=True)
    assert "<script" not in page and "style=" not in page and "<main" in page
    assert '<label for="email">' in page


def test_hsts_outside_local_mode() -> None:
    response = Response("")
    web.security_headers(response, False, web.AUTHORIZE_HOSTS)
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_projects_are_created_and_shown_with_their_settings(console: Console) -> None:
    console.sign_up(EMAIL)
    project_id = console.create_project("Shop", "live")
    page = console.client.get(f"/projects/{project_id}").get_data(as_text=True)
    assert "Shop" in page and "live" in page and "not connected" in page
    assert "Connect Stripe" in page and "Connect HubSpot" in page
    listing = console.client.get("/projects").get_data(as_text=True)
    assert f"/projects/{project_id}" in listing
    bad = console.post("/projects", {"name": "", "mode": "test"})
    assert bad.status_code == 400 and "name:" in bad.get_data(as_text=True)

    path = f"/projects/{project_id}/settings"
    wrong = console.post(path, {"settings": '{"company_matching": "sometimes"}'}, path[:-9])
    assert wrong.status_code == 400 and "company_matching" in wrong.get_data(as_text=True)
    garbled = console.post(path, {"settings": "{"}, path[:-9])
    assert garbled.status_code == 400 and "not JSON" in garbled.get_data(as_text=True)
    saved = console.post(path, {"settings": json.dumps({"company_matching": "domain"})}, path[:-9])
    assert saved.status_code == 303
    assert console.store.get("projects", project_id)["settings"]["company_matching"] == "domain"


def test_reconnect_is_shown_when_hubspot_needs_it(console: Console) -> None:
    console.sign_up(EMAIL)
    project_id = console.create_project()
    doc = console.store.get("projects", project_id)
    console.store.put("projects", project_id, {**doc, "hubspot_status": "reconnect"})
    page = console.client.get(f"/projects/{project_id}").get_data(as_text=True)
    assert "needs reconnecting" in page and "Reconnect HubSpot" in page


def test_the_console_function_has_the_oauth_flows_wired_and_names_a_missing_setting(
    console: Console, capsys: pytest.CaptureFixture[str]
) -> None:
    """No "coming soon" fallback: connect reaches ``shared.oauth.flows``, which refuses to start
    without the app's client id, and the operator's alert names the setting."""
    console.sign_up(EMAIL)
    project_id = console.create_project()
    logs.setup()
    capsys.readouterr()
    path = f"/projects/{project_id}"
    answer = console.post(f"{path}/connect/hubspot", csrf_from=path)
    assert answer.status_code == 503
    [alert] = [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if "console" in line
    ]
    assert "HUBSPOT_CLIENT_ID" in alert["reason"]
    assert wiring.console_deps(Settings.from_env()).flows is flows
    page = console.client.get(path).get_data(as_text=True)
    assert "coming soon" not in page and "disabled" not in page


def test_a_throttled_sign_in_answers_429_with_retry_after(console: Console) -> None:
    now = console.clock.now()
    pair = digest(PAIR.kind, EMAIL, client_key("127.0.0.1"))
    console.store.put(
        "login_throttle",
        pair,
        {"kind": "pair", "failures": 9, "next_at": now + 120, "expire_at": now + 3600},
    )
    answer = console.post("/sign-in", {"email": EMAIL, "password": PASSWORD})
    assert answer.status_code == 429
    assert answer.headers["Retry-After"] == "120"


class RecordingFlows:
    """Stands in for shared.oauth.flows: the console's side of the contract only."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []

    def begin(self, provider: str, deps: object, session: object, project_id: str) -> str:
        self.calls.append(("begin", provider, project_id))
        return f"https://connect.stripe.com/oauth/authorize?state=s&p={project_id}"

    def disconnect(self, provider: str, deps: object, session: object, project_id: str) -> None:
        self.calls.append(("disconnect", provider, project_id))


def test_connect_redirects_to_the_authorize_page_and_disconnect_calls_the_flows(
    console: Console,
) -> None:
    console.sign_up(EMAIL)
    project_id = console.create_project()
    flows = RecordingFlows()
    accounts = Accounts(console.store, console.clock)
    deps = ConsoleDeps(console.store, console.clock, accounts, ORIGIN, True, flows=flows)
    client = make_app(deps).test_client()
    client.set_cookie("omniroo_session", console.client.get_cookie("omniroo_session").value)
    page = client.get(f"/projects/{project_id}").get_data(as_text=True)
    assert "coming soon" not in page and "disabled" not in page
    csrf = console.csrf(f"/projects/{project_id}")
    headers = {"Origin": ORIGIN}
    connect = client.post(
        f"/projects/{project_id}/connect/stripe", data={"csrf_token": csrf}, headers=headers
    )
    assert connect.status_code == 303
    assert connect.headers["Location"].startswith("https://connect.stripe.com/oauth/authorize")
    gone = client.post(
        f"/projects/{project_id}/disconnect/hubspot", data={"csrf_token": csrf}, headers=headers
    )
    assert gone.status_code == 303 and gone.headers["Location"] == f"/projects/{project_id}"
    unknown = client.post(
        f"/projects/{project_id}/connect/paypal", data={"csrf_token": csrf}, headers=headers
    )
    assert unknown.status_code == 404
    assert flows.calls == [("begin", "stripe", project_id), ("disconnect", "hubspot", project_id)]


def test_the_client_address_is_the_load_balancers_entry_never_what_the_client_wrote() -> None:
    app = flask.Flask("t")
    forwarded = {"X-Forwarded-For": "6.6.6.6, 203.0.113.5, 130.211.0.1"}
    with app.test_request_context("/", headers=forwarded, environ_base={"REMOTE_ADDR": "10.1.1.1"}):
        assert web.client_address(flask.request, 2) == "203.0.113.5"
        assert web.client_address(flask.request, 0) == "10.1.1.1"
    with app.test_request_context("/", environ_base={"REMOTE_ADDR": "10.1.1.1"}):
        assert web.client_address(flask.request, 2) == "10.1.1.1"


def test_password_forms_state_the_rules_the_service_enforces(console: Console) -> None:
    from shared.accounts import passwords

    rule = f'minlength="{passwords.MIN_LENGTH}"'
    assert rule in console.client.get("/sign-up").get_data(as_text=True)
    console.sign_up(EMAIL)
    assert rule in console.client.get("/account").get_data(as_text=True)


def test_the_front_page_says_what_omniroo_does_and_links_the_security_page(
    console: Console,
) -> None:
    page = console.client.get("/").get_data(as_text=True)
    assert "HubSpot" in page and "Stripe" in page and 'href="/security"' in page
    assert 'href="/sign-up"' in page
    console.sign_up(EMAIL)
    assert console.client.get("/").headers["Location"] == "/projects"


def test_the_stylesheets_and_icons_are_served_from_our_own_origin(console: Console) -> None:
    page = console.client.get("/sign-in").get_data(as_text=True)
    sheets = re.findall(r'<link rel="stylesheet" href="([^"]+)">', page)
    assert sheets and all(s.startswith("/assets/") for s in sheets)
    for sheet in sheets:
        answer = console.client.get(sheet)
        assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/css")
    icons = console.client.get("/assets/pico-icons.css").get_data(as_text=True)
    for icon in re.findall(r'url\("([^"]+)"\)', icons):
        assert console.client.get(icon).headers["Content-Type"] == "image/svg+xml"
    assert 'url("data:' not in icons
    assert console.client.get("/assets/../app.py").status_code == 404
    assert console.client.get("/assets/vendor/pico/LICENSE.md").status_code == 404


def test_a_revoked_hubspot_shows_why_and_a_reconnect_button(console: Console) -> None:
    console.sign_up(EMAIL)
    project_id = console.create_project()
    doc = console.store.get("projects", project_id)
    warnings = ["default rule: the portal has no pipeline 'default' (add a rule for active)"]
    console.store.put(
        "projects",
        project_id,
        {**doc, "hubspot_status": "revoked", "hubspot_warnings": warnings},
    )
    page = console.client.get(f"/projects/{project_id}").get_data(as_text=True)
    assert "uninstalled from the HubSpot portal" in page and "Reconnect HubSpot" in page
    assert 'role="alert"' in page and "reconnect needed" in page
    assert "the portal has no pipeline &#39;default&#39;" in page
