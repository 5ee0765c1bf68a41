"""``make demo``: the embedded stack and both doubles, a scripted series of Stripe events, the
resulting HubSpot contacts, and proof that the store kept nothing but configuration,
encrypted tokens and ids."""

import json
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

from doubles.hubspot import HubSpotDouble
from doubles.server import ServerThread
from doubles.stripe import StripeDouble
from shared import logs, wiring
from shared.config import Settings
from shared.store.base import FIELDS
from shared.webhook.signature import sign
from tooling import ready
from tooling.demo import lifecycle, scenario

SECRET = "whsec_demo_local_only"
KEY = "sk_test_demo"


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    body = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join([line, "  ".join("-" * w for w in widths), *body])


def main() -> int:
    data_dir = Path(tempfile.mkdtemp(prefix="omniroo-demo-"))
    # The demo sends bursts faster than a real portal's 10-second budget; pacing has its tests.
    stripe, hubspot = StripeDouble(platform_key=KEY), HubSpotDouble(rate_limit=100_000)
    stripe.start()
    hubspot.start()
    os.environ.update(
        {
            "OMNIROO_ENV": "local",
            "OMNIROO_DATA_DIR": str(data_dir),
            "STRIPE_SECRET_KEY": KEY,
            "STRIPE_WEBHOOK_SECRET": SECRET,
            "STRIPE_API_BASE": stripe.base_url,
            "HUBSPOT_API_BASE": hubspot.base_url,
        }
    )
    settings = Settings.from_env()
    runtime = wiring.local_runtime(settings)
    from tooling.local import server

    omniroo = ServerThread(server.build())
    base = omniroo.start()
    print(
        f"Omniroo (embedded) on {base}; Stripe double {stripe.base_url}; "
        f"HubSpot double {hubspot.base_url}\n"
    )

    project = ready.ready_project(
        stripe, hubspot, runtime.store, runtime.envelope, runtime.clock, "demo@omniroo.local"
    )
    account, portal_id, token = project.account, project.portal_id, project.token
    print(
        f"Project {project.project_id}: Stripe {account} (test mode) -> HubSpot portal {portal_id}"
    )
    print()

    def deliver(event: dict[str, Any]) -> str:
        body = json.dumps(event).encode()
        response = requests.post(
            f"{base}/stripe/webhook",
            data=body,
            timeout=10,
            headers={
                "Stripe-Signature": sign(body, SECRET, int(time.time())),
                "Content-Type": "application/json",
            },
        )
        runtime.drainers.wait_idle(timeout=30)
        return f"{response.status_code} {response.json().get('outcome', '')}"

    hubspot.reset_requests()
    steps = scenario.run(stripe, account, deliver)
    print(
        table(
            ["step", "event", "webhook answer"], [[s.what, s.event_type, s.outcome] for s in steps]
        )
    )

    contacts = hubspot.records(portal_id, "contacts")
    print(
        "\nHubSpot contacts now:\n"
        + table(
            ["hubspot id", *(column for column, _ in ready.CONTACT_COLUMNS), "archived"],
            [[c["id"], *ready.contact_row(c), str(c["archived"])] for c in contacts],
        )
    )
    calls = len([r for r in hubspot.requests if r["path"].startswith("/crm/")])
    synced = sum(1 for _, o in runtime.store.scan("outcomes") if o["status"] == "synced")
    print(f"\nHubSpot CRM calls: {calls} for {synced} synced events")

    ok = scenario.summary([c for c in contacts if not c["archived"]]) == scenario.EXPECTED
    print("HubSpot matches Stripe's current state:", "yes" if ok else "NO")
    ok &= show_lifecycle(stripe, hubspot, runtime, deliver)
    return 0 if ok and audit_store(runtime, [token, KEY, SECRET, *lifecycle.sentinels()]) else 1


def show_lifecycle(stripe: Any, hubspot: Any, runtime: wiring.LocalRuntime, deliver: Any) -> bool:
    """A subscription's life in its own Stripe account and portal."""
    project = ready.ready_project(
        stripe, hubspot, runtime.store, runtime.envelope, runtime.clock, "billing@omniroo.local"
    )
    account, portal_id = project.account, project.portal_id
    print(f"\nA subscription's life (Stripe {account} -> HubSpot portal {portal_id}):")
    shots = lifecycle.run(
        stripe, account, deliver, lambda step: lifecycle.snapshot(hubspot, portal_id, step)
    )
    print(
        table(
            [
                "step",
                "deal stage",
                "deal amount",
                "contact MRR",
                "lifetime value",
                "status",
                "delinquent",
                "last payment",
            ],
            [
                [
                    s.step,
                    s.deal_stage,
                    s.deal_amount,
                    s.mrr,
                    s.lifetime_value,
                    s.status,
                    s.delinquent,
                    s.last_payment,
                ]
                for s in shots
            ],
        )
    )
    ends = (shots[-1].deal_stage, shots[-1].mrr) == ("closedlost", "0.00")
    print("The deal moved through the pipeline and MRR ended at 0:", "yes" if ends else "NO")
    return ends


def audit_store(runtime: wiring.LocalRuntime, secrets: list[str]) -> bool:
    print("\nWhat the store holds:")
    everything = []
    clean = True
    for name, allowed in FIELDS.items():
        docs = list(runtime.store.scan(name))
        fields = sorted({f for _, d in docs for f in d})
        print(f"  {name:13} {len(docs):3} docs  fields: {', '.join(fields) or '-'}")
        clean &= set(fields) <= allowed
        everything.append(json.dumps(docs))
    dump = "\n".join(everything).lower()
    found = [v for v in [*scenario.sentinels(), *secrets] if v.lower() in dump]
    print(
        f"Stripe customer values or secrets found in the store: {len(found)}"
        f" (searched for {len(scenario.sentinels())} customer values and {len(secrets)} secrets)"
    )
    print("Only allowlisted collections and fields:", "yes" if clean else "NO")
    return clean and not found


if __name__ == "__main__":
    logs.setup(logging.WARNING)  # the demo prints its own tables; warnings and alerts still show
    raise SystemExit(main())
