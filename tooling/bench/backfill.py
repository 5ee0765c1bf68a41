"""``make bench``, the backfill: ``BENCH_BACKFILL_CUSTOMERS`` customers (10,000) with a
subscription each imported as a user would, ``python -m tooling.cli backfill`` next to a running
``make run`` whose drainer threads write to the HubSpot double at an OAuth app's real limit.

The ceiling is the double's limit x 100 inputs per call per window (110 calls / 10 s: 1,100
records a second): nothing writes records faster through HubSpot's batch endpoints. Reported:
records written (contacts, deals, line items) per second, from the backfill's start to the last
HubSpot write, as a share of that ceiling; the HubSpot calls by kind; and the Stripe calls the
whole import took (the backfill's pages and the drainer's reads), per object imported.
"""

import os
import subprocess
import sys
import time
from collections import Counter
from typing import Any

from tooling.bench import harness, report
from tooling.bench.burst import HUBSPOT_LIMIT
from tooling.bench.report import row

CUSTOMERS = int(os.environ.get("BENCH_BACKFILL_CUSTOMERS", "10000"))
LIMIT = int(os.environ.get("BENCH_BACKFILL_LIMIT", str(HUBSPOT_LIMIT)))  # calls per 10 s
RECORDS = ("contacts", "deals", "line_items")


def _account(stripe: Any) -> str:
    account = stripe.add_account()
    with stripe.held_still():
        product = stripe.create_product(account, "Team plan")["id"]
        price = stripe.create_price(account, product, 2500, "usd", "month")["id"]
        for i in range(CUSTOMERS):
            customer = stripe.create_customer(
                account, email=f"b{i}@backfill.example", name=f"B {i}"
            )
            stripe.create_subscription(account, customer["id"], [{"price": price}])
    return str(account)


def _call_kind(request: dict[str, Any]) -> str:
    path = str(request["path"])
    if "/associations/" in path:
        return "associations " + path.rsplit("/", 1)[-1]
    parts = path.split("/")
    return " ".join(parts[4:6]) + (f" {parts[-1]}" if len(parts) > 6 else "")


def main() -> None:
    from doubles.hubspot import HubSpotDouble
    from doubles.stripe import StripeDouble

    report.section(
        f"8. Backfill: {CUSTOMERS:,} customers and {CUSTOMERS:,} subscriptions, "
        f"HubSpot at {LIMIT} calls / 10 s",
        "`python -m tooling.cli backfill` next to a running `make run` whose drainer threads "
        "write to the HubSpot double; the ceiling is the limit x 100 inputs per call per window.",
    )
    stripe = StripeDouble(platform_key=harness.PLATFORM_KEY)
    hubspot = HubSpotDouble(rate_limit=10**6)  # set-up first; the real limit for the backfill
    stripe.start()
    hubspot.start()
    started = time.perf_counter()
    account = _account(stripe)
    row("set-up (Stripe account built, not measured)", f"{time.perf_counter() - started:8.1f} s")
    portal, token = harness.portal_with_schema(hubspot)
    omniroo = harness.Omniroo(
        stripe.base_url, hubspot.base_url, {"OMNIROO_HUBSPOT_CALLS_PER_10S": str(LIMIT)}
    )
    project_id = omniroo.connect(account, portal, token)
    omniroo.start()
    hubspot.set_rate_limit(LIMIT)
    hubspot.reset_requests()
    stripe.reset_requests()
    began = time.time()
    command = [sys.executable, "-m", "tooling.cli", "backfill", project_id]
    done = subprocess.run(
        [*command, "--kinds", "customers,subscriptions"],
        env=omniroo.environment(),
        cwd=harness.ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    marked = time.time() - began
    drained = omniroo.wait_drained(timeout=3600)
    crm = [r for r in hubspot.requests if r["portal"] == portal and r["path"].startswith("/crm/")]
    writes = [r for r in crm if r["method"] == "POST" and not r["path"].endswith("/read")]
    took = max(r["at"] for r in writes) - began
    records = {
        kind: len([r for r in hubspot.records(portal, kind) if not r["archived"]])
        for kind in RECORDS
    }
    written = sum(records.values())
    ceiling = LIMIT * 100 / 10
    row("backfill command", f"exit {done.returncode}", done.stdout.strip().split("\n")[-1])
    row("  keys marked by the backfill in", f"{marked:8.1f} s")
    row(
        "  records in the portal", f"{written:8d}", " ".join(f"{k}={n}" for k, n in records.items())
    )
    row("ceiling (limit x 100 inputs per window)", f"{ceiling:8.0f} /s", "1.00x")
    row(
        "backfill, start to last HubSpot write",
        f"{written / took:8.0f} /s",
        f"{written / took / ceiling:.2f}x  ({took:.1f} s; aim: at least 0.90x)",
    )
    calls = Counter(_call_kind(r) for r in crm)
    row("  HubSpot calls", f"{len(crm):8d}", ", ".join(f"{k} {n}" for k, n in calls.most_common()))
    row("  429s from HubSpot", f"{sum(1 for r in crm if r['status'] == 429):8d}")
    row(
        "  Stripe calls (backfill pages and drainer reads)",
        f"{len(stripe.requests):8d}",
        f"{len(stripe.requests) / (2 * CUSTOMERS):.3f} per object imported",
    )
    row(
        "  drained, dirty keys left / outcomes",
        f"{omniroo.count('dirty_keys'):8d}",
        f"{omniroo.outcomes()}",
    )
    if not drained:
        row("  NOT DRAINED", "within an hour")
    omniroo.stop()
    stripe.stop()
    hubspot.stop()


if __name__ == "__main__":  # run apart by ``make bench`` (``report.apart``), or alone
    import logging

    from shared import logs

    logs.setup(logging.WARNING)
    main()
    report.hand_back()
