"""``make bench``, the write path at small scale: the webhook's throughput (2) and HubSpot and
Stripe calls per event type, each event drained alone (3); then ``tooling.bench.burst``: the
month-start burst, clean and under faults (4, 5), and the steady state (6).
"""

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from tooling.bench import harness, report
from tooling.bench.report import row

REQUESTS = int(os.environ.get("BENCH_REQUESTS", "2000"))


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

    report.section(
        f"2. Webhook requests per second ({REQUESTS:,} requests, one client thread)",
        "In-process through functions-framework's test client, `make run`'s SQLite store; the "
        "baseline is a bare handler that reads the body, in the same run.",
    )
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
    row("bare functions-framework handler (baseline)", f"{bare_rps:8.0f} req/s", "1.00x")
    row(
        "stripe_webhook (SQLite marks and keys)",
        f"{hook_rps:8.0f} req/s",
        f"{hook_rps / bare_rps:.2f}x",
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

    report.section(
        "3. API calls per event, by event type",
        "Each event of a customer's lifecycle drained alone against the doubles: what one event "
        "costs when nothing batches it.",
    )
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
    report.table(("event type", "events", "HubSpot/event", "Stripe/event"), (-36, 6, 14, 13))
    for event_type in sorted(calls):
        rows = calls[event_type]
        crm = sum(c for c, _ in rows) / len(rows)
        reads = sum(r for _, r in rows) / len(rows)
        report.cells(event_type, str(len(rows)), f"{crm:.2f}", f"{reads:.2f}")
    report.after(
        f"{total_events} events in {took:.1f} s ({took / total_events * 1000:.1f} ms/event, "
        "including the doubles' own work)"
    )
    stripe.stop()
    hubspot.stop()


def main(local_env: dict[str, str]) -> None:
    from tooling.bench import burst

    webhook_throughput(local_env)
    calls_per_event(local_env)
    burst.month_start_burst()
