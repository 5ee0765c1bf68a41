"""Issue 13: the push path's memory over 10,000 events stays flat, at most 200 MB at its peak.

The drainer runs alone in a subprocess (``tests.faults.drain_probe``) against the doubles served
from here, so that its peak resident memory (``VmHWM``) is the push path's own: imports,
SQLite, two rounds of 5,000 keys (``drainer.ROUND_LIMIT``), the Stripe pages and the HubSpot
batches. 10,000 ``customer.created`` events, as the webhook marks them, are 10,000 keys. A run
of 1,000 events is measured alongside and printed, so the report can say how memory scales; the
assertion is the issue's bound, which holds however fast the machine is.
"""

import json
import subprocess
import sys
import time

from doubles.hubspot import HubSpotDouble
from doubles.stripe import StripeDouble
from shared.clock import SystemClock
from shared.drain.dirty import DirtyKeys, Key, Mark
from shared.store.sqlite import SqliteStore
from tests.plugins.stack import ROOT
from tooling.bench import harness

PEAK_BOUND = 200 * 1000 * 1000  # 200 MB


def peak_of(events: int) -> dict[str, object]:
    with (
        StripeDouble(platform_key=harness.PLATFORM_KEY) as stripe,
        HubSpotDouble(rate_limit=1_000_000) as hubspot,
    ):
        account = stripe.add_account()
        portal, token = harness.portal_with_schema(hubspot)
        omniroo = harness.Omniroo(
            stripe.base_url, hubspot.base_url, env={"OMNIROO_HUBSPOT_CALLS_PER_10S": "1000000"}
        )
        project_id = omniroo.connect(account, portal, token)
        for i in range(events):
            stripe.create_customer(account, email=f"m{i}@memory.example")
        created = [e for e in stripe.events(account) if e["type"] == "customer.created"]
        store = SqliteStore(omniroo.data_dir / "omniroo.db")
        DirtyKeys(store, SystemClock()).mark_many(
            [
                Mark(Key(project_id, "customer", e["data"]["object"]["id"]), e["id"], e["type"])
                for e in created
            ]
        )
        store.close()
        probe = subprocess.run(
            [sys.executable, "-m", "tests.faults.drain_probe", project_id],
            cwd=ROOT,
            env=omniroo.environment(),
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert probe.returncode == 0, probe.stderr[-2000:]
        result: dict[str, object] = json.loads(probe.stdout.strip().splitlines()[-1])
        contacts = [c for c in hubspot.records(portal, "contacts") if not c["archived"]]
    assert len(contacts) == events  # the probe did drain every key
    assert result["settled"] == {"synced": events}, result
    return result


def test_the_push_path_drains_ten_thousand_events_within_200_mb() -> None:
    began = time.monotonic()
    small = peak_of(1_000)
    large = peak_of(10_000)
    small_mb, large_mb, ready_mb = (
        int(str(value)) / 1e6
        for value in (small["peak_bytes"], large["peak_bytes"], large["ready_bytes"])
    )
    print(
        f"push path peak RSS: {ready_mb:.0f} MB before the first key, 1,000 events"
        f" {small_mb:.0f} MB, 10,000 events {large_mb:.0f} MB (x{large_mb / small_mb:.2f});"
        f" {time.monotonic() - began:.0f} s in all"
    )
    assert int(str(large["peak_bytes"])) <= PEAK_BOUND, f"peak {large_mb:.0f} MB"
