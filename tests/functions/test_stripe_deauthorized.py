"""Row 17: the account disconnects Omniroo from its Stripe Dashboard. The signed
``account.application.deauthorized`` is processed although it is no data event: the route goes,
the HubSpot tokens go, the project says ``revoked``, later events of the account are dropped."""

import json

from shared import audit
from tests.plugins.stack import Stack


def _owner(stack: Stack) -> str:
    return str((stack.runtime.store.get("projects", stack.project_id) or {})["account_id"])


def test_deauthorization_stops_the_sync_and_drops_later_events(stack: Stack) -> None:
    store = stack.runtime.store
    stack.stripe.connect.connected[stack.account] = "ca_test_omniroo"
    stack.stripe.deauthorize(stack.account)
    event = stack.stripe.events(stack.account)[-1]
    assert event["type"] == "account.application.deauthorized"
    answer = stack.deliver(event)
    assert answer.status_code == 200 and answer.json["outcome"] == "revoked"
    assert store.get("routes", f"{stack.account}:test") is None
    assert store.get("tokens", stack.project_id) is None
    assert (store.get("projects", stack.project_id) or {})["stripe_status"] == "revoked"
    trail = audit.trail(store, _owner(stack))
    assert [(e["action"], e.get("reason")) for e in trail] == [("disconnect", "deauthorized")]

    stack.stripe.add_account(stack.account)
    stack.stripe.create_customer(stack.account, email="late@example.com")
    later = stack.stripe.events(stack.account)[-1]
    assert stack.deliver(later).json["outcome"] == "ignored_unknown_account"
    # A repeat of the deauthorization is harmless.
    assert stack.deliver(event).json["outcome"] == "ignored_unknown_account"


def test_an_unsigned_deauthorization_changes_nothing(stack: Stack) -> None:
    stack.stripe.deauthorize(stack.account)
    event = stack.stripe.events(stack.account)[-1]
    answer = stack.post(json.dumps(event).encode(), header="t=1,v1=00")
    assert answer.status_code == 400
    assert stack.runtime.store.get("routes", f"{stack.account}:test") is not None
