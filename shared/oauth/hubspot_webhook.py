"""HubSpot's app webhook: the portal uninstalled Omniroo (RELIABILITY row 25).

Verify before parse: ``X-HubSpot-Signature-v3`` is base64(HMAC-SHA256(client secret, method +
URI + body + timestamp)) with the millisecond timestamp of ``X-HubSpot-Request-Timestamp``, which
must lie within 5 minutes either way (HubSpot only asks for "not older"; a future-dated request
is refused too). The URI is the public one HubSpot called, rebuilt from ``OMNIROO_PUBLIC_URL``.

Each uninstall event names a ``portalId``: every project on that portal stops syncing (status
``revoked``), its tokens are deleted here (HubSpot already revoked them) and the owner's audit
trail says so: ``shared.connections.cut``, as for every connection that ends. The event type
names are HubSpot's app-lifecycle ones as we understand them; anything else is acknowledged and
ignored.
"""

import base64
import hashlib
import hmac
import json
import re

from shared import connections
from shared.errors import BadRequest, SignatureError
from shared.oauth.flows import OAuthDeps

TOLERANCE_MS = 5 * 60 * 1000
# ASCII digits only: str.isdigit() also accepts '²' (which int() refuses) and int() takes other
# scripts' digits; 15 digits of milliseconds reach the year 33658.
_MILLIS = re.compile(r"[0-9]{1,15}")
UNINSTALL_TYPES = frozenset({"app.uninstalled", "app.uninstall", "app_lifecycle_event.uninstall"})


def sign(secret: str, method: str, uri: str, body: bytes, timestamp_ms: int) -> str:
    """The v3 signature HubSpot sends; public so tests and the double make valid requests."""
    message = method.upper().encode() + uri.encode() + body + str(timestamp_ms).encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def verify(
    secret: str,
    method: str,
    uri: str,
    body: bytes,
    signature: str | None,
    timestamp: str | None,
    now: float,
) -> None:
    if not secret or not signature or not timestamp or not _MILLIS.fullmatch(timestamp):
        raise SignatureError("missing HubSpot signature")
    if abs(int(timestamp) - int(now * 1000)) > TOLERANCE_MS:
        raise SignatureError("HubSpot signature timestamp out of tolerance")
    expected = sign(secret, method, uri, body, int(timestamp))
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise SignatureError("HubSpot signature does not match")


def receive(
    deps: OAuthDeps,
    method: str,
    path: str,
    body: bytes,
    signature: str | None,
    timestamp: str | None,
) -> int:
    """Verify and act; returns how many projects were stopped."""
    uri = f"{deps.settings.public_url}{path}"
    verify(
        deps.settings.hubspot_client_secret,
        method,
        uri,
        body,
        signature,
        timestamp,
        deps.clock.now(),
    )
    try:
        events = json.loads(body)
    except ValueError:
        raise BadRequest("body is not JSON") from None
    if isinstance(events, dict):
        events = [events]
    if not isinstance(events, list):
        raise BadRequest("expected a list of events")
    stopped = 0
    for item in events:
        if not isinstance(item, dict):
            continue
        kind = str(item.get("subscriptionType") or item.get("eventType") or "")
        if kind in UNINSTALL_TYPES and item.get("portalId") is not None:
            stopped += _uninstalled(deps, str(item["portalId"]))
    return stopped


def _uninstalled(deps: OAuthDeps, portal_id: str) -> int:
    found = deps.store.find("projects", "hubspot_portal_id", portal_id)
    for project_id, _ in found:
        connections.cut(deps.store, deps.clock, project_id, "hubspot", reason="uninstalled")
    return len(found)
