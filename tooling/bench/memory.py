"""``make bench`` section 7: the memory of the push path over ``BENCH_MEMORY_EVENTS`` (10,000)
events of the month-start burst.

A fresh ``make run`` (the webhook and the drainer threads in one process, as in a user's
``make run``; in production they are two functions, so this is an upper bound for each) gets the
first 10,000 events of the burst, acknowledges them, and drains them to a new portal at HubSpot's
real limit. Its peak resident memory (the kernel's high-water mark, ``VmHWM``) is read once
drained, against the same process's peak when idle after start-up (the baseline) and the aim of
200 MB.
"""

import os
from pathlib import Path
from typing import Any

from tooling.bench import harness, report
from tooling.bench.report import row

EVENTS = int(os.environ.get("BENCH_MEMORY_EVENTS", "10000"))
AIM_MB = 200
HUBSPOT_LIMIT = 110


def _peak_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    kib = next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM"))
    return int(kib) / 1024


def push_path(stripe: Any, hubspot: Any, account: str, events: list[dict[str, Any]]) -> None:
    chosen = events[:EVENTS]
    report.section(
        f"7. Memory of the push path over {len(chosen):,} events",
        "A fresh `make run` receives and drains the first events of the burst to a new portal "
        f"at {HUBSPOT_LIMIT} calls / 10 s; peak resident memory (VmHWM) of the process.",
    )
    hubspot.set_rate_limit(10**6)
    portal, token = harness.portal_with_schema(hubspot)
    omniroo = harness.Omniroo(
        stripe.base_url, hubspot.base_url, {"OMNIROO_HUBSPOT_CALLS_PER_10S": str(HUBSPOT_LIMIT)}
    )
    omniroo.connect(account, portal, token)
    omniroo.start()
    assert omniroo.process is not None
    hubspot.set_rate_limit(HUBSPOT_LIMIT)
    idle = _peak_mb(omniroo.process.pid)
    delivery = harness.deliver(omniroo.url, chosen)
    drained = omniroo.wait_drained(timeout=1800)
    peak = _peak_mb(omniroo.process.pid)
    row("idle after start-up (baseline)", f"{idle:8.0f} MB", "1.00x")
    row(
        f"peak over {len(chosen):,} events, acknowledged and drained",
        f"{peak:8.0f} MB",
        f"{peak / idle:.2f}x baseline; {peak / AIM_MB:.2f}x the aim of {AIM_MB} MB",
    )
    row(
        "  events acknowledged / drained",
        f"{len(delivery.acked):8d}",
        "drained" if drained else "NOT DRAINED within 30 minutes",
    )
    omniroo.stop()
