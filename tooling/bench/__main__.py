"""``make bench``: every figure, printed and written to ``docs/benchmarks.md`` (``report``).

1. Cold import of each function in gcp mode (what a new instance pays before its first request)
   against a floor of functions-framework and the clients it truly needs (``cold_start``).
2-6. The webhook's throughput, calls per event, the month-start burst, the steady state and the
   burst under faults: see ``tooling/bench/write_path.py`` and ``burst.py``.
7. The push path's peak memory over 10,000 events of the burst (``memory.py``).
8. A backfill of 10,000 customers and 10,000 subscriptions against its ceiling (``backfill.py``,
   in a process of its own: ``report.apart``).
9. The webhook under 50, 200 and 500 concurrent senders through gunicorn (``load.py``).

``BENCH_*`` variables shrink a run while working on the bench; the committed
``docs/benchmarks.md`` comes from a run at the full sizes (none set).
"""

import os
import time
from pathlib import Path

from tooling.bench import cold_start, report

ROOT = Path(__file__).resolve().parents[2]
RUNS = int(os.environ.get("BENCH_RUNS", "7"))

LOCAL_ENV = {
    "OMNIROO_ENV": "local",
    "STRIPE_SECRET_KEY": "sk_test_bench",
    "STRIPE_WEBHOOK_SECRET": "whsec_bench",
    "PYTHONPATH": str(ROOT),
}


if __name__ == "__main__":
    import logging

    from shared import logs
    from tooling.bench import load, write_path

    logs.setup(logging.WARNING)  # per-request info lines would drown the figures
    started = time.monotonic()
    cold_start.run(RUNS)
    write_path.main(LOCAL_ENV)
    report.apart("tooling.bench.backfill")
    load.run()
    sizes = {k: v for k, v in os.environ.items() if k.startswith("BENCH_")}
    report.write(ROOT / "docs" / "benchmarks.md", sizes, time.monotonic() - started)
