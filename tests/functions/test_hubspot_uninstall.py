"""Row 25 from HubSpot's side: the app webhook says the portal uninstalled Omniroo. Signed for
real with the v3 scheme; a bad or stale signature changes nothing."""

import time
from typing import Any

from shared import audit
from shared.oauth import flows, hubspot_webhook
from tests.functions.oauth_fixtures import (  # noqa: F401
    HUBSPOT_CLIENT_ID,
    HUBSPOT_CLIENT_SECRET,
    PUBLIC_URL,
    Owner,
    follow,
    oauth_env_fixture,
    owner_fixture,
)
from tests.plugins.stack import function_client


def _connected_portal(owner: Owner) -> int:
    url = flows.begin("hubspot", owner.deps, owner.session, owner.project_id)
    assert owner.callback("hubspot", follow(url)).status_code == 303
    project = owner.stack.runtime.store.get("projects", owner.project_id) or {}
    return int(project["hubspot_portal_id"])


def _post(body: bytes, headers: dict[str, str]) -> Any:
    return function_client("hubspot_oauth_callback").post("/", data=body, headers=headers)


def test_an_uninstall_stops_the_projects_of_that_portal(owner: Owner) -> None:
    portal = _connected_portal(owner)
    body, headers = owner.stack.hubspot.uninstall_webhook(
        portal, HUBSPOT_CLIENT_ID, HUBSPOT_CLIENT_SECRET, f"{PUBLIC_URL}/"
    )
    answer = _post(body, headers)
    assert answer.status_code == 200 and answer.json["stopped"] == 1
    store = owner.stack.runtime.store
    project = store.get("projects", owner.project_id) or {}
    assert project["hubspot_status"] == "revoked"
    assert store.get("tokens", owner.project_id) is None
    reasons = [e.get("reason") for e in audit.trail(store, project["account_id"])]
    assert reasons[-1] == "uninstalled"


def test_a_forged_or_stale_signature_changes_nothing(owner: Owner) -> None:
    portal = _connected_portal(owner)
    body, headers = owner.stack.hubspot.uninstall_webhook(
        portal, HUBSPOT_CLIENT_ID, "not-the-secret", f"{PUBLIC_URL}/"
    )
    assert _post(body, headers).status_code == 400
    stale = str(int((time.time() - 301) * 1000))
    signature = hubspot_webhook.sign(
        HUBSPOT_CLIENT_SECRET, "POST", f"{PUBLIC_URL}/", body, int(stale)
    )
    old = {"X-HubSpot-Signature-v3": signature, "X-HubSpot-Request-Timestamp": stale}
    assert _post(body, old).status_code == 400
    future = str(int((time.time() + 301) * 1000))
    signature = hubspot_webhook.sign(
        HUBSPOT_CLIENT_SECRET, "POST", f"{PUBLIC_URL}/", body, int(future)
    )
    ahead = {"X-HubSpot-Signature-v3": signature, "X-HubSpot-Request-Timestamp": future}
    assert _post(body, ahead).status_code == 400
    project = owner.stack.runtime.store.get("projects", owner.project_id) or {}
    assert project["hubspot_status"] == "connected"
