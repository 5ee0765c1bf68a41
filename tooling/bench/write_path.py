"""``make bench``, the write path: the webhook's throughput, HubSpot and Stripe calls per event,
and the month-start burst against doubles with HubSpot's real limit (110 calls / 10 s, an OAuth
app), clean and under faults, then the steady state one event at a time.

The burst is what issue 10 asks to be judged by: every subscription of a portal renews at once,
``BENCH_SUBSCRIPTIONS`` (12,500) of them, four events each (invoice finalized and paid, charge
succeeded, subscription), delivered to ``make run`` as Stripe delivers them. The drain — first
event sent to last HubSpot write — is compared with the floor, the largest of:

- HubSpot: records written / 100 inputs a call / the portal's 11 calls a second;
- Stripe: objects read / 100 a list page / 100 reads a second (Stripe's live-mode rate);
- the webhook: how long it took to acknowledge the whole burst.
"""

import functools
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tooling.bench import harness

SUBSCRIPTIONS = int(os.environ.get("BENCH_SUBSCRIPTIONS", "12500"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "2000"))
STEADY = int(os.environ.get("BENCH_STEADY_EVENTS", "30"))
HUBSPOT_LIMIT = 110  # calls per ten seconds: an OAuth app's budget per portal
STRIPE_READS = 100  # per second, Stripe's live-mode rate
BURST_TYPES = (
    "invoice.finalized",
    "invoice.paid",
    "charge.succeeded",
    "customer.subscription.created",
)


def row(label: str, value: str, note: str = "") -> None:
    print(f"   {label:48} {value:>14}  {note}")


# -- 2. the webhook alone ---------------------------------------------------------------------


class NullWaker:
    def __init__(self) -> None:
        self.woken = 0

    def wake(self, project_id: str) -> None:
        self.woken += 1


def webhook_throughput(local_env: dict[str, str]) -> None:
    import functions_framework

    from shared import projects, wiring
    from shared.config import Settings
    from shared.webhook.signature import sign

    print(f"\n2. Webhook requests per second ({REQUESTS} requests, one client thread)")
    bare_src = Path(tempfile.mkdtemp()) / "main.py"
    bare_src.write_text(
        "import functions_framework\n\n@functions_framework.http\n"
        "def bare(request):\n    request.get_data()\n    return 'ok'\n"
    )
    bare = functions_framework.create_app("bare", str(bare_src)).test_client()  # type: ignore[no-untyped-call]
    os.environ.update({**local_env, "OMNIROO_DATA_DIR": tempfile.mkdtemp()})
    runtime = wiring.local_runtime(Settings.from_env())
    runtime.drainers.close()
    waker = NullWaker()
    runtime.drainers = waker  # type: ignore[assignment]
    owner = projects.create_account(runtime.store, "bench@omniroo.local", time.time())
    projects.create_project(
        runtime.store,
        runtime.envelope,
        projects.NewProject(owner, "acct_bench", False, "pat-bench", ""),
        time.time(),
    )
    webhook = functions_framework.create_app(  # type: ignore[no-untyped-call]
        "stripe_webhook", str(harness.ROOT / "functions/stripe_webhook/main.py")
    ).test_client()
    bodies = []
    for i in range(REQUESTS):
        event = {
            "id": f"evt_bench{i:08d}",
            "object": "event",
            "type": "customer.updated",
            "account": "acct_bench",
            "livemode": False,
            "created": int(time.time()),
            "api_version": "2023-08-16",
            "pending_webhooks": 1,
            "data": {"object": {"id": f"cus_bench{i:06d}", "object": "customer"}},
        }
        body = json.dumps(event).encode()
        bodies.append((body, sign(body, local_env["STRIPE_WEBHOOK_SECRET"], int(time.time()))))

    def rate(client: Any) -> float:
        start = time.perf_counter()
        for body, header in bodies:
            response = client.post("/", data=body, headers={"Stripe-Signature": header})
            assert response.status_code == 200, response.get_data()
        return REQUESTS / (time.perf_counter() - start)

    bare_rps = rate(bare)
    hook_rps = rate(webhook)
    assert waker.woken == REQUESTS  # every key was new: one wake-up each
    print(f"   {'bare functions-framework handler (baseline)':48} {bare_rps:8.0f} req/s  1.00x")
    print(
        f"   {'stripe_webhook (SQLite marks and keys)':48} {hook_rps:8.0f} req/s "
        f"{hook_rps / bare_rps:5.2f}x"
    )


# -- 3. calls per event, one event at a time --------------------------------------------------


def calls_per_event(local_env: dict[str, str]) -> None:
    from collections import defaultdict

    from doubles.hubspot import HubSpotDouble
    from doubles.stripe import StripeDouble
    from shared import projects, wiring
    from shared.config import Settings
    from shared.drain import drainer
    from shared.drain.dirty import DirtyKeys, Key
    from shared.events import EVENT_OBJECTS
    from tooling.demo import lifecycle

    print("\n3. API calls per event, by event type (each event drained alone against the doubles)")
    stripe = StripeDouble(platform_key=local_env["STRIPE_SECRET_KEY"])
    hubspot = HubSpotDouble(rate_limit=10**6)
    stripe.start()
    hubspot.start()
    os.environ.update(
        {
            **local_env,
            "OMNIROO_DATA_DIR": tempfile.mkdtemp(),
            "STRIPE_API_BASE": stripe.base_url,
            "HUBSPOT_API_BASE": hubspot.base_url,
        }
    )
    runtime = wiring.local_runtime(Settings.from_env())
    runtime.drainers.close()
    account = stripe.add_account()
    portal, token = harness.portal_with_schema(hubspot)
    owner = projects.create_account(runtime.store, "calls@omniroo.local", time.time())
    project_id = projects.create_project(
        runtime.store,
        runtime.envelope,
        projects.NewProject(owner, account, False, token, str(portal)),
        time.time(),
    )
    keys = DirtyKeys(runtime.store, runtime.clock)
    calls: dict[str, list[tuple[int, int]]] = defaultdict(list)
    seen: set[str] = set()

    def handle(event: dict[str, Any]) -> None:
        seen.add(event["id"])
        if event["type"] not in EVENT_OBJECTS:
            return
        obj = event["data"]["object"]
        changed = tuple(event["data"].get("previous_attributes") or {})
        hubspot.reset_requests()
        stripe.reset_requests()
        keys.mark(
            Key(project_id, obj["object"], obj["id"]),
            event["id"],
            event["type"],
            changed if "previous_attributes" in event["data"] else None,
        )
        drainer.drain(project_id, runtime.drain)
        crm = len([r for r in hubspot.requests if r["path"].startswith("/crm/")])
        calls[event["type"]].append((crm, len(stripe.requests)))

    start = time.perf_counter()
    for i in range(20):
        cus = stripe.create_customer(account, email=f"c{i}@bench.example", name=f"C {i}")
        stripe.update_customer(account, cus["id"], name=f"Renamed {i}")
    lifecycle.run(stripe, account, handle, lambda step: lifecycle.Snapshot(step, *[""] * 6))
    customer = stripe.create_customer(account, email="pay@bench.example")["id"]
    charge = stripe.create_charge(account, customer, 5000)
    stripe.refund_charge(account, charge["id"], 1000)
    stripe.create_invoice(account, customer, items=[{"amount": 900, "currency": "usd"}])
    for event in stripe.events(account):
        if event["id"] not in seen:
            handle(event)
    took = time.perf_counter() - start
    total_events = sum(len(v) for v in calls.values())
    print(f"   {'event type':36} {'events':>6} {'HubSpot/event':>14} {'Stripe/event':>13}")
    for event_type in sorted(calls):
        rows = calls[event_type]
        crm = sum(c for c, _ in rows) / len(rows)
        reads = sum(r for _, r in rows) / len(rows)
        print(f"   {event_type:36} {len(rows):6d} {crm:14.2f} {reads:13.2f}")
    print(
        f"   {total_events} events in {took:.1f} s ({took / total_events * 1000:.1f} ms/event, "
        "including the doubles' own work)"
    )
    stripe.stop()
    hubspot.stop()


# -- 4. the month-start burst -----------------------------------------------------------------


def _account(stripe: Any) -> tuple[str, list[tuple[str, str]]]:
    account = stripe.add_account()
    with stripe.held_still():
        product = stripe.create_product(account, "Team plan")["id"]
        price = stripe.create_price(account, product, 2500, "usd", "month")["id"]
        made = []
        for i in range(SUBSCRIPTIONS):
            customer = stripe.create_customer(account, email=f"s{i}@burst.example", name=f"S {i}")
            sub = stripe.create_subscription(account, customer["id"], [{"price": price}])
            made.append((customer["id"], sub["id"]))
    return account, made


def _burst(stripe: Any, hubspot: Any, account: str, **env: str) -> tuple[Any, int]:
    portal, token = harness.portal_with_schema(hubspot)
    omniroo = harness.Omniroo(
        stripe.base_url,
        hubspot.base_url,
        {"OMNIROO_HUBSPOT_CALLS_PER_10S": str(HUBSPOT_LIMIT), **env},
    )
    omniroo.connect(account, portal, token)
    omniroo.start()
    return omniroo, portal


def _records(hubspot: Any, portal: int) -> dict[str, int]:
    return {
        kind: len([r for r in hubspot.records(portal, kind) if not r["archived"]])
        for kind in ("contacts", "deals", "line_items")
    }


@dataclass
class Burst:
    drain: float  # first event sent to last HubSpot write
    ack: float  # first event sent to last 2xx
    calls: int  # HubSpot CRM calls, 429s and 5xx included
    records: dict[str, int]
    drained: bool


def _report_burst(label: str, omniroo: Any, hubspot: Any, portal: int, delivery: Any) -> Burst:
    drained = omniroo.wait_drained(timeout=1800)
    crm = [r for r in hubspot.requests if r["portal"] == portal and r["path"].startswith("/crm/")]
    last_write = max(r["at"] for r in crm if r["method"] == "POST")
    burst = Burst(
        last_write - delivery.first_sent,
        delivery.last_acked - delivery.first_sent,
        len(crm),
        _records(hubspot, portal),
        drained,
    )
    records = " ".join(f"{kind}={n}" for kind, n in burst.records.items())
    row(f"{label}: drained (first event in to last write)", f"{burst.drain:8.1f} s")
    row("  webhook acknowledged the burst in", f"{burst.ack:8.1f} s")
    row("  HubSpot calls (429s and 5xx included)", f"{burst.calls:8d}")
    row("  records in the portal", f"{sum(burst.records.values()):8d}", records)
    row(
        "  dirty keys left / outcomes", f"{omniroo.count('dirty_keys'):8d}", f"{omniroo.outcomes()}"
    )
    return burst


def month_start_burst() -> None:
    from doubles.hubspot import HubSpotDouble
    from doubles.stripe import StripeDouble

    print(f"\n4. Month-start burst: {SUBSCRIPTIONS} subscriptions, {4 * SUBSCRIPTIONS} events")
    stripe = StripeDouble(platform_key=harness.PLATFORM_KEY)
    hubspot = HubSpotDouble(rate_limit=10**6)  # set-up first; the real limit for the burst
    stripe.start()
    hubspot.start()
    started = time.perf_counter()
    account, made = _account(stripe)
    events = [e for e in stripe.events(account) if e["type"] in BURST_TYPES]
    row("set-up (Stripe account built, not measured)", f"{time.perf_counter() - started:8.1f} s")
    omniroo, portal = _burst(stripe, hubspot, account)
    hubspot.set_rate_limit(HUBSPOT_LIMIT)
    hubspot.reset_requests()
    delivery = harness.deliver(omniroo.url, events)
    clean = _report_burst("clean", omniroo, hubspot, portal, delivery)
    objects = 4 * SUBSCRIPTIONS  # customers, subscriptions, invoices and charges to read
    floors = {
        "HubSpot (records / 100 / 11 calls a second)": (
            sum(clean.records.values()) / 100 / (HUBSPOT_LIMIT / 10)
        ),
        "Stripe (objects / 100 a page / 100 reads a second)": objects / 100 / STRIPE_READS,
        "webhook (time to acknowledge the burst)": clean.ack,
    }
    for name, seconds in floors.items():
        row(f"  floor, {name}", f"{seconds:8.1f} s")
    floor = max(floors.values())
    row("  drain / floor", f"{clean.drain / floor:8.2f}x", "(aim: at most 2x)")
    row("  HubSpot calls per event", f"{clean.calls / len(events):8.4f}", "(aim: at most 0.05)")
    steady_state(omniroo, stripe, hubspot, account, portal, made)
    omniroo.stop()

    print(
        "\n5. The same burst under faults: 20 % 429s, 5 % 503s, 5 % timeouts (HubSpot, at random)"
    )
    hubspot.set_rate_limit(10**6)
    faulty, portal = _burst(stripe, hubspot, account, OMNIROO_HUBSPOT_TIMEOUT="2")
    hubspot.set_rate_limit(HUBSPOT_LIMIT)
    hubspot.reset_requests()
    hubspot.fault("status", count=None, status=429, path_contains="/crm/", share=0.2)
    hubspot.fault("status", count=None, status=503, path_contains="/crm/", share=0.05)
    hubspot.fault("timeout", count=None, seconds=3.0, path_contains="/crm/", share=0.05)
    delivery = harness.deliver(faulty.url, events)
    faults = _report_burst("faults", faulty, hubspot, portal, delivery)
    hubspot.clear_faults()
    lost = SUBSCRIPTIONS * 3 - sum(faults.records.values())
    row("  nothing lost", "yes" if faults.drained and lost == 0 else f"NO ({lost} missing)")
    faulty.stop()
    stripe.stop()
    hubspot.stop()


# -- 6. steady state --------------------------------------------------------------------------


def steady_state(
    omniroo: Any, stripe: Any, hubspot: Any, account: str, portal: int, made: list[tuple[str, str]]
) -> None:
    import stripe as stripe_library

    print(f"\n6. Steady state, one event at a time ({STEADY} of each, after the burst)")
    client = stripe_library.StripeClient(
        harness.PLATFORM_KEY, base_addresses={"api": stripe.base_url}
    )

    def newest_event() -> dict[str, Any]:
        page = client.raw_request("get", "/v1/events", limit=1, stripe_account=account)
        found: dict[str, Any] = json.loads(page.body)["data"][0]
        return found

    def one(change: Any) -> tuple[float, int]:
        before = len(hubspot.requests)
        change()
        event = newest_event()
        sent = time.time()
        harness.deliver(omniroo.url, [event], senders=1)
        omniroo.wait_drained(timeout=60)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not [
            r for r in hubspot.requests[before:] if r["method"] == "POST"
        ]:
            time.sleep(0.02)
        mine = [
            r
            for r in hubspot.requests[before:]
            if r["portal"] == portal and r["path"].startswith("/crm/")
        ]
        return max((r["at"] for r in mine), default=sent) - sent, len(mine)

    changes: dict[str, Callable[[int], Any]] = {
        "customer.updated": lambda i: stripe.update_customer(
            account, made[i][0], name=f"Renamed {i}"
        ),
        "customer.subscription.updated": lambda i: stripe.update_subscription(
            account, made[i][1], metadata={"seen": str(i)}
        ),
    }
    for label, change in changes.items():
        results = [one(functools.partial(change, i)) for i in range(STEADY)]
        latencies = sorted(r[0] for r in results)
        calls = statistics.mean(r[1] for r in results)
        p50 = latencies[len(latencies) // 2]
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        row(f"{label}: HubSpot calls per event", f"{calls:8.2f}")
        row(f"{label}: webhook -> HubSpot p50 / p99", f"{p50 * 1000:6.0f} / {p99 * 1000:.0f} ms")


def main(local_env: dict[str, str]) -> None:
    webhook_throughput(local_env)
    calls_per_event(local_env)
    month_start_burst()
