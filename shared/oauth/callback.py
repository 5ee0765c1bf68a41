"""The OAuth callbacks' one verb: from the provider's redirect back to a page of ours.

``answer`` reads the query the provider sent and the session cookie, calls ``flows.complete``
and turns the outcome into a 303 to the project (or a safe ``next``) or a small plain page:
a refusal by the user (``error``), a bad state (400), someone else's project (404), a provider
or store that is down (503). Nothing from the query is echoed back into a page.
"""

import html
from collections.abc import Mapping

from shared import logs
from shared.accounts import access, oauth_state
from shared.errors import BadRequest, NotFound, OmnirooError, TransientError
from shared.oauth import flows
from shared.oauth.flows import OAuthDeps

Response = tuple[str, int, dict[str, str]]
_NAMES = {"stripe": "Stripe", "hubspot": "HubSpot"}
_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def answer(
    provider: str, query: Mapping[str, str], cookie: str | None, deps: OAuthDeps
) -> Response:
    name = _NAMES[provider]
    if query.get("error"):
        # The user said no (or the provider refused): nothing to exchange.
        logs.info("oauth refused by provider", provider=provider, error=query.get("error", "")[:40])
        return _page(200, f"{name} was not connected", f"You did not connect {name}.")
    try:
        session = access.live_session(deps.store, deps.clock, cookie)
        if session is None:
            raise oauth_state.StateError("wrong_session")
        project_id = flows.complete(
            provider, deps, session, query.get("code", ""), query.get("state", "")
        )
    except oauth_state.StateError as exc:
        logs.warning("oauth state refused", provider=provider, reason=exc.reason)
        return _page(400, "Connection not completed", str(exc))
    except NotFound:
        return _page(404, "Not found", "There is no such project.")
    except BadRequest as exc:
        return _page(400, "Connection not completed", str(exc))
    except TransientError as exc:
        logs.alert("oauth callback failed", provider=provider, error_type=type(exc).__name__)
        return _page(503, "Try again", f"{name} could not be reached. Try again in a moment.")
    except OmnirooError as exc:
        logs.alert("oauth callback failed", provider=provider, error_type=type(exc).__name__)
        return _page(502, "Connection not completed", f"{name} refused the connection.")
    target = oauth_state.safe_next(query.get("next"), f"/projects/{project_id}")
    return "", 303, {"Location": target, "Cache-Control": "no-store"}


def _page(status: int, title: str, message: str) -> Response:
    body = (
        f"<!doctype html><html lang=en><meta charset=utf-8><title>{html.escape(title)}</title>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(message)}</p>"
        "<p><a href='/projects'>Back to your projects</a></p></html>"
    )
    return body, status, dict(_HEADERS)
