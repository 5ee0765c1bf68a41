"""``make bench``: cold imports, webhook throughput, and API calls per customer event.

1. Cold import of each function in gcp mode (what a new instance pays before its first request)
   against a floor of functions-framework and the clients it truly needs (``cold_start``).
2. Webhook requests per second through functions-framework's app against a bare
   functions-framework handler, same client, same process, same run.
3. HubSpot and Stripe calls per customer event on the full local path (aim: 1 HubSpot call).
4. The webhook under 50, 200 and 500 concurrent senders through gunicorn (``load.py``).
"""

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from tooling.bench import cold_start

ROOT = Path(__file__).resolve().parents[2]
RUNS = int(os.environ.get("BENCH_RUNS", "7"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "2000"))

LOCAL_ENV = {
    "OMNIROO_ENV": "local",
    "STRIPE_SECRET_KEY": "sk_test_bench",
    "STRIPE_WEBHOOK_SECRET": "whsec_bench",
    "PYTHONPATH": str(ROOT),
}


class NullQueue:
    def __init__(self) -> None:
        self.published = 0

    def publish(self, message: Any) -> None:
        self.published += 1


def webhook_throughput() -> None:
    import functions_framework

    from shared import wiring
    from shared.config import Settings
    from shared.webhook.signature import sign

    print(f"\n2. Webhook requests per second ({REQUESTS} requests, one client thread)")
    bare_src = Path(tempfile.mkdtemp()) / "main.py"
    bare_src.write_text(
        "import functions_framework\n\n@functions_framework.http\n"
        "def bare(request):\n    request.get_data()\n    return 'ok'\n"
    )
    bare = functions_framework.create_app("bare", str(bare_src)).test_client()  # type: ignore[no-untyped-call]
    os.environ.update({**LOCAL_ENV, "OMNIROO_DATA_DIR": tempfile.mkdtemp()})
    settings = Settings.from_env()
    runtime = wiring.local_runtime(settings)
    runtime.queue.close()
    runtime.queue = NullQueue()  # type: ignore[assignment]
    from shared import projects

    owner = projects.create_account(runtime.store, "bench@omniroo.local", time.time())
    projects.create_project(
        runtime.store,
        runtime.envelope,
        projects.NewProject(owner, "acct_bench", False, "pat-bench", ""),
        time.time(),
    )
    webhook = functions_framework.create_app(  # type: ignore[no-untyped-call]
        "stripe_webhook", str(ROOT / "functions/stripe_webhook/main.py")
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
        bodies.append((body, sign(body, "whsec_bench", int(time.time()))))

    def rate(client: Any) -> float:
        start = time.perf_counter()
        for body, header in bodies:
            response = client.post("/", data=body, headers={"Stripe-Signature": header})
            assert response.status_code == 200, response.get_data()
        return REQUESTS / (time.perf_counter() - start)

    bare_rps = rate(bare)
    hook_rps = rate(webhook)
    assert runtime.queue.published == REQUESTS  # type: ignore[attr-defined]
    print(f"   {'bare functions-framework handler (baseline)':48} {bare_rps:8.0f} req/s  1.00x")
    print(
        f"   {'stripe_webhook (SQLite marks, null queue)':48} {hook_rps:8.0f} req/s "
        f"{hook_rps / bare_rps:5.2f}x"
    )


def calls_per_event() -> None:
    from collections import defaultdict

    from doubles.hubspot import HubSpotDouble
    from doubles.stripe import StripeDouble
    from shared import wiring
    from shared.config import Settings
    from shared.events import EVENT_OBJECTS
    from shared.queue.base import ThinMessage
    from shared.sync import push
    from shared.webhook.event import parse
    from tooling import ready
    from tooling.demo import lifecycle

    print("\n3. API calls per event, by event type (full local path against the doubles)")
    stripe, hubspot = StripeDouble(platform_key="sk_test_bench"), HubSpotDouble(rate_limit=10**6)
    stripe.start()
    hubspot.start()
    os.environ.update(
        {
            **LOCAL_ENV,
            "OMNIROO_DATA_DIR": tempfile.mkdtemp(),
            "STRIPE_API_BASE": stripe.base_url,
            "HUBSPOT_API_BASE": hubspot.base_url,
        }
    )
    runtime = wiring.local_runtime(Settings.from_env())
    ready_project = ready.ready_project(
        stripe, hubspot, runtime.store, runtime.envelope, runtime.clock, "calls@omniroo.local"
    )
    account, project_id = ready_project.account, ready_project.project_id
    calls: dict[str, list[tuple[int, int]]] = defaultdict(list)
    seen: set[str] = set()

    def handle(event: dict[str, Any]) -> None:
        seen.add(event["id"])
        if event["type"] not in EVENT_OBJECTS:
            return
        head = parse(json.dumps(event).encode())  # what the webhook queues: a discount's owner
        hubspot.reset_requests()
        stripe.reset_requests()
        push.handle(
            ThinMessage(
                project_id,
                account,
                event["id"],
                event["type"],
                head.object_id,
                head.object_type,
                event["created"],
                False,
            ),
            runtime.push,
        )
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
    runtime.queue.close()
    stripe.stop()
    hubspot.stop()


if __name__ == "__main__":
    import logging

    from shared import logs
    from tooling.bench import load

    logs.setup(logging.WARNING)  # per-request info lines would drown the figures
    cold_start.run(RUNS)
    webhook_throughput()
    calls_per_event()
    load.run()
