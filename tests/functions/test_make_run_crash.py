"""Row 47: ``make run`` killed with SIGKILL mid-burst, restarted, Stripe redelivering what was
not answered 2xx: every acknowledged event reaches HubSpot, nothing is duplicated.

A real process (``python -m tooling.local.server``, as ``make run`` starts it) on a free port,
its SQLite store in a directory of the test's own, against the doubles served from here. HubSpot
answers slowly, so that the drain lags behind the webhook and the kill lands while acknowledged
events are still only dirty keys in SQLite.
"""

from doubles.hubspot import HubSpotDouble
from doubles.stripe import StripeDouble
from tooling.bench import harness

CUSTOMERS = 40
BEFORE_KILL = 25


def test_sigkill_mid_burst_loses_no_acknowledged_event(tmp_path: object) -> None:
    with (
        StripeDouble(platform_key=harness.PLATFORM_KEY) as stripe,
        HubSpotDouble(rate_limit=100_000) as hubspot,
    ):
        account = stripe.add_account()
        portal, token = harness.portal_with_schema(hubspot)
        omniroo = harness.Omniroo(stripe.base_url, hubspot.base_url)
        omniroo.connect(account, portal, token)
        made = [
            stripe.create_customer(account, email=f"k{i}@crash.example")["id"]
            for i in range(CUSTOMERS)
        ]
        events = [e for e in stripe.events(account) if e["type"] == "customer.created"]
        hubspot.fault("latency", count=None, seconds=1.0, path_contains="/crm/")
        try:
            omniroo.start()
            first = harness.deliver(omniroo.url, events[:BEFORE_KILL], senders=4)
            assert len(first.acked) == BEFORE_KILL
            waiting = omniroo.count("dirty_keys")
            assert waiting > 0  # acknowledged, only in SQLite: what the kill could lose
            omniroo.kill()
            down = harness.deliver(omniroo.url, events[BEFORE_KILL:], senders=2, stop_after=1.0)
            assert down.acked == {} and down.refused > 0  # Stripe keeps trying meanwhile
            omniroo.start()  # the same data directory: the keys left in SQLite are drained
            rest = harness.deliver(omniroo.url, events[BEFORE_KILL:], senders=4)
            assert len(rest.acked) == CUSTOMERS - BEFORE_KILL
            hubspot.clear_faults()
            assert omniroo.wait_drained(timeout=90)
        finally:
            omniroo.stop()
        contacts = [c for c in hubspot.records(portal, "contacts") if not c["archived"]]
    ids = [c["properties"]["stripe_customer_id"] for c in contacts]
    assert sorted(ids) == sorted(made)  # every acknowledged event reached HubSpot, once
    assert len(contacts) == CUSTOMERS
