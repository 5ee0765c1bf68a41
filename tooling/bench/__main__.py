"""``make bench``: cold imports, then the write path (``tooling.bench.write_path``).

1. Cold import of each function module (what a new instance pays before its first request)
   against ``import functions_framework`` alone, median of fresh interpreters.
2-6. The webhook's throughput, calls per event, the month-start burst (clean and under faults)
   and the steady state: see ``tooling/bench/write_path.py``.
"""

import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUNS = int(os.environ.get("BENCH_RUNS", "7"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "2000"))

LOCAL_ENV = {
    "OMNIROO_ENV": "local",
    "STRIPE_SECRET_KEY": "sk_test_bench",
    "STRIPE_WEBHOOK_SECRET": "whsec_bench",
    "PYTHONPATH": str(ROOT),
}
GCP_ENV = {
    **LOCAL_ENV,
    "OMNIROO_ENV": "gcp",
    "GOOGLE_CLOUD_PROJECT": "bench",
    "OMNIROO_KMS_KEY": "projects/bench/locations/l/keyRings/r/cryptoKeys/k",
    "OMNIROO_KMS_ENDPOINT": "http://127.0.0.1:9",
    "FIRESTORE_EMULATOR_HOST": "127.0.0.1:9",
    "PUBSUB_EMULATOR_HOST": "127.0.0.1:9",
    "HUBSPOT_CLIENT_SECRET": "bench-hubspot-secret",
}


def _timed_import(snippet: str, env: dict[str, str]) -> float:
    code = textwrap.dedent(f"""
        import time
        t = time.perf_counter()
        {snippet}
        print(time.perf_counter() - t)
    """)
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **env},
        check=True,
        capture_output=True,
        text=True,
        cwd=tempfile.gettempdir(),
    )
    return float(out.stdout.strip().splitlines()[-1])


def cold_imports() -> None:
    print(f"1. Cold import (median of {RUNS} fresh interpreters)")
    baseline = statistics.median(
        _timed_import("import functions_framework", LOCAL_ENV) for _ in range(RUNS)
    )
    print(f"   {'import functions_framework (baseline)':48} {baseline * 1000:7.1f} ms   1.00x")
    for name in ("stripe_webhook", "hubspot_push"):
        for mode, env in (("local", LOCAL_ENV), ("gcp", GCP_ENV)):
            data = tempfile.mkdtemp(prefix="omniroo-bench-")
            source = str(ROOT / "functions" / name / "main.py")
            kind = "http" if name == "stripe_webhook" else "cloudevent"
            snippet = (
                "import functions_framework\n        "
                f"functions_framework.create_app({name!r}, {source!r}, {kind!r})"
            )
            took = statistics.median(
                _timed_import(snippet, {**env, "OMNIROO_DATA_DIR": data}) for _ in range(RUNS)
            )
            label = f"functions/{name} ({mode})"
            print(f"   {label:48} {took * 1000:7.1f} ms  {took / baseline:5.2f}x")


if __name__ == "__main__":
    import logging

    from shared import logs
    from tooling.bench import write_path

    logs.setup(logging.WARNING)  # per-request info lines would drown the figures
    cold_imports()
    write_path.main(LOCAL_ENV)
