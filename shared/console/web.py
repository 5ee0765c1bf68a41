"""What every console response and every POST goes through.

Security headers: a CSP with no script at all and forms only to ourselves and the OAuth authorize
hosts, frame denial, nosniff, HSTS outside local mode, and ``Referrer-Policy: same-origin``: no
referrer leaves for another site, and our own form posts keep their ``Origin`` (under
``no-referrer`` a browser sends ``Origin: null``, which the check below would have to refuse).

CSRF. A signed-in form carries ``sessions.csrf_token(session)`` (an HMAC keyed with the session
token) and every POST checks it. The sign-in and sign-up forms have no session yet, so they use a
double submit: a random pre-session cookie (HttpOnly, SameSite=Strict, Secure outside local mode)
whose value the form also carries, compared in constant time; and every POST, signed in or not,
must come with an ``Origin`` (or, failing that, a ``Referer``) naming the console's public URL, so
a cross-site form cannot post even with a cookie it planted.

Client address: ``REMOTE_ADDR`` locally; behind Google's load balancer, which appends
"<client>, <load balancer>" to ``X-Forwarded-For``, the entry ``proxy_hops`` from the right
(anything to its left was written by the client and cannot be trusted).
"""

import hmac
import secrets
from urllib.parse import urlsplit

import flask

from shared.accounts.sessions import CsrfError

PRESESSION_COOKIE = "__Host-omniroo_presession"
LOCAL_PRESESSION_COOKIE = "omniroo_presession"
AUTHORIZE_HOSTS = ("https://connect.stripe.com", "https://app.hubspot.com")
LOAD_BALANCER_HOPS = 2  # Google's load balancer appends "<client>, <load balancer>"


def security_headers(response: flask.Response, local: bool, form_hosts: tuple[str, ...]) -> None:
    actions = " ".join(("'self'", *form_hosts))
    response.headers["Content-Security-Policy"] = (
        # Scripts only from our own origin (static/refresh.js), never inline.
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
        f"form-action {actions}; frame-ancestors 'none'; base-uri 'none'"
    )
    response.headers["X-Frame-Options"] = "DENY"
    # same-origin, not no-referrer: under no-referrer Chromium sends "Origin: null" on our own
    # form posts, which the pre-session CSRF check must refuse (seen in the browser test).
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers.setdefault("Cache-Control", "no-store")
    if not local:
        response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def check_origin(request: flask.Request, public_url: str, local: bool) -> None:
    """Refuse a POST that does not say it comes from one of our own pages."""
    allowed = {origin_of(public_url)}
    if local:  # make run is reached as 127.0.0.1 or localhost alike
        allowed.add(origin_of(request.host_url))
    origin = request.headers.get("Origin")
    if origin is None or origin == "null":
        referer = request.headers.get("Referer")
        origin = origin_of(referer) if referer else None
    if origin is None or origin.lower() not in allowed:
        raise CsrfError()


def presession_cookie_name(local: bool) -> str:
    return LOCAL_PRESESSION_COOKIE if local else PRESESSION_COOKIE


def presession_token(request: flask.Request, local: bool) -> tuple[str, bool]:
    """The browser's pre-session token, and whether it is new (to be set on the response)."""
    current = request.cookies.get(presession_cookie_name(local), "")
    if 20 <= len(current) <= 64:
        return current, False
    return secrets.token_urlsafe(32), True


def set_presession_cookie(response: flask.Response, token: str, local: bool) -> None:
    response.set_cookie(
        presession_cookie_name(local),
        token,
        max_age=3600,
        path="/",
        secure=not local,
        httponly=True,
        samesite="Strict",
    )


def check_presession(request: flask.Request, local: bool) -> None:
    cookie = request.cookies.get(presession_cookie_name(local), "")
    submitted = request.form.get("csrf_token", "")
    if not cookie or not hmac.compare_digest(cookie.encode(), submitted.encode()):
        raise CsrfError()


def client_address(request: flask.Request, proxy_hops: int) -> str:
    if proxy_hops > 0:
        hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",")]
        hops = [h for h in hops if h]
        if len(hops) >= proxy_hops:
            return hops[-proxy_hops]
    return request.remote_addr or ""
