"""Each function's cold import in gcp mode, against the floor it cannot go below.

A new Cloud Functions instance loads the function's ``main.py`` through functions-framework before
its first request. The floor of a function is functions-framework loading a bare function that
imports only the clients that function truly needs (``FLOORS``); the ratio says how much more the
real function pays. Both run in fresh interpreters with ``OMNIROO_ENV=gcp``, the emulator hosts
and a local KMS endpoint, so nothing reaches a cloud; the median of ``BENCH_RUNS`` is printed,
with the outside packages the function loads beyond its floor (what to cut when a ratio is high).
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from tooling.bench import report

ROOT = Path(__file__).resolve().parents[2]
AIM = 1.2

GCP_ENV = {
    "OMNIROO_ENV": "gcp",
    "PYTHONPATH": str(ROOT),
    "GOOGLE_CLOUD_PROJECT": "bench",
    "OMNIROO_KMS_KEY": "projects/bench/locations/l/keyRings/r/cryptoKeys/k",
    "OMNIROO_KMS_ENDPOINT": "http://127.0.0.1:9",
    "FIRESTORE_EMULATOR_HOST": "127.0.0.1:9",
    "PUBSUB_EMULATOR_HOST": "127.0.0.1:9",
    "STRIPE_SECRET_KEY": "sk_test_bench",
    "STRIPE_WEBHOOK_SECRET": "whsec_bench",
    "HUBSPOT_CLIENT_SECRET": "bench-hubspot-secret",
}

# A client, as the modules its adapter imports (shared/store/firestore.py, shared/queue/pubsub.py,
# shared/crypto/cloud_kms.py, shared/stripe_gateway.py, shared/hubspot/gateway.py, ...).
CLIENTS: dict[str, tuple[str, ...]] = {
    "firestore": ("google.cloud.firestore",),
    "pubsub": ("google.cloud.pubsub_v1",),
    "kms": ("google.cloud.kms", "google_crc32c"),
    "stripe": ("stripe",),
    "hubspot": (
        "hubspot",
        "hubspot.crm.objects",
        "hubspot.crm.associations.v4",
        "hubspot.crm.properties",
        "hubspot.crm.pipelines",
        "hubspot.oauth",
    ),
    "bcrypt": ("bcrypt",),
}

# function -> (signature type, the clients it truly needs, why)
FLOORS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "stripe_webhook": (
        "http",
        ("firestore", "pubsub"),
        "routes and event marks in Firestore; the thin message to Pub/Sub",
    ),
    "hubspot_push": (
        "cloudevent",
        ("firestore", "pubsub", "kms", "stripe", "hubspot"),
        "project, keys and outcomes in Firestore; the sweep's wake-ups on Pub/Sub; tokens opened "
        "with KMS; reads Stripe, writes HubSpot",
    ),
    "stripe_oauth_callback": (
        "http",
        ("firestore", "stripe"),
        "session, state and route in Firestore; the code exchange with Stripe (no token kept)",
    ),
    "hubspot_oauth_callback": (
        "http",
        ("firestore", "kms", "hubspot"),
        "session and state in Firestore; tokens sealed with KMS; HubSpot's OAuth and schema",
    ),
    "console": (
        "http",
        ("firestore", "kms", "pubsub", "stripe", "hubspot", "bcrypt"),
        "accounts in Firestore; bcrypt; disconnect revokes at Stripe and HubSpot (KMS opens "
        "the refresh token); a replay wakes the drainer and Start queues a backfill on Pub/Sub",
    ),
    "purge": ("cloudevent", ("firestore",), "deletes what expired in Firestore"),
    "repair": (
        "cloudevent",
        ("firestore", "pubsub", "kms", "stripe", "hubspot"),
        "backfill and reconcile: keys in Firestore, follow-up jobs and dead letters on Pub/Sub, "
        "tokens opened with KMS; reads Stripe, writes HubSpot",
    ),
}

_PROBE = """
import json, sys, time
start = time.perf_counter()
import functions_framework
functions_framework.create_app({target!r}, {source!r}, {kind!r})
took = time.perf_counter() - start
ours = set(sys.stdlib_module_names) | {{"main", "shared"}}
outside = sorted(n for n in sys.modules if n.split(".")[0] not in ours and not n.startswith("_"))
print(json.dumps({{"seconds": took, "modules": outside}}))
"""


def _probe(target: str, source: Path, kind: str) -> tuple[float, set[str]]:
    """Seconds to load ``source`` through functions-framework in a fresh interpreter, and the
    outside modules it loaded."""
    code = textwrap.dedent(_PROBE.format(target=target, source=str(source), kind=kind))
    data = tempfile.mkdtemp(prefix="omniroo-bench-")
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **GCP_ENV, "OMNIROO_DATA_DIR": data},
        check=True,
        capture_output=True,
        text=True,
        cwd=tempfile.gettempdir(),
    )
    answer = json.loads(out.stdout.strip().splitlines()[-1])
    return float(answer["seconds"]), set(answer["modules"])


def floor_source(name: str, folder: Path) -> Path:
    """A bare function of the same signature type that imports only ``name``'s clients."""
    kind, clients, _ = FLOORS[name]
    decorator, argument = ("http", "request") if kind == "http" else ("cloud_event", "event")
    path = folder / name / "main.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "import functions_framework\n"
        + "".join(f"import {module}\n" for client in clients for module in CLIENTS[client])
        + f"\n\n@functions_framework.{decorator}\ndef {name}({argument}):\n    return 'ok'\n"
    )
    return path


def _pair(name: str, floor: Path, runs: int) -> tuple[float, float, set[str]]:
    """Median seconds of the floor and of the function, sampled in turn so that a busy machine
    slows both alike; and the outside modules the function loads beyond its floor."""
    kind = FLOORS[name][0]
    source = ROOT / "functions" / name / "main.py"
    floors, functions = [], []
    for _ in range(runs):
        floors.append(_probe(name, floor, kind))
        functions.append(_probe(name, source, kind))
    extra = functions[-1][1] - floors[-1][1]
    return (
        statistics.median(s for s, _ in floors),
        statistics.median(s for s, _ in functions),
        extra,
    )


def _byte_compile() -> None:
    """Bytecode for ``shared/`` and ``functions/``, as pip wrote it for the floor's packages:
    without it (``PYTHONDONTWRITEBYTECODE`` set, or a fresh clone) every function would pay for
    compiling our ~80 modules from source on each probe and its floor would not."""
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "shared", "functions"],
        cwd=ROOT,
        check=True,
        env={k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
    )


def run(runs: int) -> dict[str, float]:
    """Print each function against its floor; returns the ratios."""
    _byte_compile()
    report.section(
        f"1. Cold import in gcp mode (median of {runs} fresh interpreters; aim <= {AIM}x floor)",
        "floor = functions-framework loading a bare function that imports only the clients the "
        "function truly needs (`FLOORS` in `tooling/bench/cold_start.py`), sampled in turn with "
        "the function. `shared/` and `functions/` are byte-compiled first, as pip did for the "
        "floor's packages.",
    )
    folder = Path(tempfile.mkdtemp(prefix="omniroo-floors-"))
    report.table(
        ("function", "floor clients", "floor ms", "function ms", "ratio", "loaded beyond floor"),
        (-23, -40, 8, 11, 6, -1),
    )
    ratios: dict[str, float] = {}
    for name, (_, clients, _) in FLOORS.items():
        floor, took, beyond = _pair(name, floor_source(name, folder), runs)
        ratios[name] = took / floor
        extra = _by_package(beyond)
        report.cells(
            name,
            ", ".join(clients),
            f"{floor * 1000:.0f}",
            f"{took * 1000:.0f}",
            f"{ratios[name]:.2f}x",
            extra,
        )
    return ratios


def _by_package(modules: set[str]) -> str:
    """``stripe (412), six (1)``: outside modules by top-level package, largest first."""
    counts: dict[str, int] = {}
    for module in modules:
        counts[module.split(".")[0]] = counts.get(module.split(".")[0], 0) + 1
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return ", ".join(f"{name} ({count})" for name, count in ranked) or "-"
