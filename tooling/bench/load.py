"""The Stripe webhook under concurrent load, served as Cloud Functions serves it, against a floor.

Both servers are started by functions-framework's own command (``functions-framework --target``),
which runs gunicorn with its gthread worker (functions_framework/_http/gunicorn.py): one worker,
``THREADS`` threads, no timeout, as in a Cloud Functions (2nd gen) instance. The floor is a bare
functions-framework handler that reads the body and answers "ok", under the same settings, driven
by the same client in the same run; the webhook is whatever ``functions/stripe_webhook`` is, in
production mode (``OMNIROO_ENV=gcp``) against the Firestore and Pub/Sub emulators, with a
project whose route the events take, so every request runs the accepted path. Each event is
signed and unique.

At each level, that many senders each keep one HTTP/1.1 connection and send their share of the
requests one after another. Printed: p50 and p99 latency, requests per second, errors (no answer,
or not 2xx), the server's peak memory, and each webhook figure as a ratio to the floor's.
"""

import asyncio
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from tooling.bench import report

ROOT = Path(__file__).resolve().parents[2]
LEVELS = tuple(int(n) for n in os.environ.get("BENCH_LOAD_LEVELS", "50,200,500").split(","))
REQUESTS = int(os.environ.get("BENCH_LOAD_REQUESTS", "2000"))  # per level and server
THREADS = os.environ.get("BENCH_LOAD_THREADS", "8")
SECRET = "whsec_bench_load"
ACCOUNT = "acct_benchload"
LOAD_COLUMNS = (
    *("server", "senders", "p50 ms", "p99 ms", "req/s", "errors", "RSS MiB"),
    *("p50 / floor", "p99 / floor", "req/s / floor"),
)
FLOOR = (
    "import functions_framework\n\n\n@functions_framework.http\n"
    "def floor(request):\n    request.get_data()\n    return 'ok'\n"
)


@dataclass
class Run:
    senders: int
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0
    peak_rss_mib: int = 0
    answers: Counter[str] = field(default_factory=Counter)  # "200 accepted", "503 ..."

    def quantile(self, q: float) -> float:
        if len(self.latencies) < 2:
            return self.latencies[0] if self.latencies else float("nan")
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[round(q * 100) - 1]

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _rss_mib(pid: int) -> int:
    """Resident memory of a process and its children (gunicorn's arbiter and worker)."""
    out = subprocess.run(
        ["ps", "-o", "rss=", "--ppid", str(pid), "-p", str(pid)], capture_output=True, text=True
    ).stdout
    return sum(int(kb) for kb in out.split()) // 1024


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int


@contextmanager
def serve(target: str, source: Path, env: dict[str, str]) -> Iterator[Server]:
    """``functions-framework --target`` on a free port, in its own process group."""
    port = _free_port()
    fd, log_name = tempfile.mkstemp(prefix=f"bench-{target}-", suffix=".log")
    command = [
        str(Path(sys.executable).with_name("functions-framework")),
        f"--target={target}", f"--source={source}", "--host=127.0.0.1", f"--port={port}",
    ]  # fmt: skip
    with os.fdopen(fd, "wb") as log:
        process = subprocess.Popen(
            command,
            env={**os.environ, **env, "WORKERS": "1", "THREADS": THREADS, "PYTHONPATH": str(ROOT)},
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_listening(process, port, Path(log_name), target)
        yield Server(process, port)
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        Path(log_name).unlink(missing_ok=True)


def _wait_listening(process: subprocess.Popen[bytes], port: int, log: Path, target: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{target} did not start:\n{tail}")
        with suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{target} not listening on {port} within 60 s")
        time.sleep(0.2)


async def _exchange(
    connection: tuple[asyncio.StreamReader, asyncio.StreamWriter], request: bytes
) -> tuple[int, bytes, bool]:
    """Send one request; (status, body, whether the server keeps the connection)."""
    reader, writer = connection
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length, keep = 0, True
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection" and value.strip().lower() == b"close":
            keep = False
    return status, await reader.readexactly(length), keep


async def _sender(port: int, requests: list[bytes], run: Run) -> None:
    connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
    for request in requests:
        start = time.perf_counter()
        try:
            if connection is None:
                connection = await asyncio.open_connection("127.0.0.1", port)
            status, body, keep = await _exchange(connection, request)
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            run.errors += 1
            keep = False
        else:
            run.latencies.append(time.perf_counter() - start)
            run.answers[f"{status} {_outcome(body)}"] += 1
            if not 200 <= status < 300:
                run.errors += 1
        if not keep and connection is not None:
            connection[1].close()
            connection = None
    if connection is not None:
        connection[1].close()


def _outcome(body: bytes) -> str:
    try:
        answer = json.loads(body)
    except ValueError:
        return body[:20].decode(errors="replace")
    if not isinstance(answer, dict):
        return ""
    return str(answer.get("outcome") or answer.get("error") or "")


async def _drive(server: Server, requests: list[bytes], senders: int) -> Run:
    run = Run(senders)
    shares = [requests[i::senders] for i in range(senders)]
    peak = 0

    async def watch() -> None:
        nonlocal peak
        while True:
            peak = max(peak, _rss_mib(server.process.pid))
            await asyncio.sleep(0.5)

    watcher = asyncio.create_task(watch())
    start = time.perf_counter()
    await asyncio.gather(*(_sender(server.port, share, run) for share in shares))
    run.seconds = time.perf_counter() - start
    watcher.cancel()
    run.peak_rss_mib = max(peak, _rss_mib(server.process.pid))
    return run


def _post(path: str, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _events(count: int, level: int) -> list[bytes]:
    from shared.webhook.signature import sign

    requests = []
    for i in range(count):
        event = {
            "id": f"evt_load{level:04d}x{i:07d}",
            "object": "event",
            "type": "customer.updated",
            "account": ACCOUNT,
            "livemode": False,
            "created": int(time.time()),
            "data": {"object": {"id": f"cus_load{i:07d}", "object": "customer"}},
        }
        body = json.dumps(event).encode()
        header = sign(body, SECRET, int(time.time()))
        requests.append(_post("/", body, {"Stripe-Signature": header}))
    return requests


def _production_env(firestore: str, pubsub: str, project: str) -> dict[str, str]:
    return {
        "OMNIROO_ENV": "gcp",
        "GOOGLE_CLOUD_PROJECT": project,
        "FIRESTORE_EMULATOR_HOST": firestore,
        "PUBSUB_EMULATOR_HOST": pubsub,
        "STRIPE_WEBHOOK_SECRET": SECRET,
    }


def _seed(env: dict[str, str]) -> None:
    """A project routed from ``ACCOUNT`` in test mode, and the events topic."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import firestore, pubsub_v1  # type: ignore[attr-defined]

    from shared import projects
    from shared.crypto.envelope import Envelope
    from shared.crypto.local_keys import LocalKeyFile
    from shared.store.firestore import FirestoreStore

    os.environ.update(env)
    project = env["GOOGLE_CLOUD_PROJECT"]
    client = firestore.Client(project=project, credentials=AnonymousCredentials())  # type: ignore[no-untyped-call]
    store = FirestoreStore(client, deadline=60)
    keys = Envelope(LocalKeyFile(Path(tempfile.mkdtemp()) / "bench.key"))
    owner = projects.create_account(store, "load@bench.example", time.time())
    new = projects.NewProject(owner, ACCOUNT, False, "pat-bench-load", "1")
    projects.create_project(store, keys, new, time.time())
    publisher = pubsub_v1.PublisherClient()
    publisher.create_topic(name=publisher.topic_path(project, "stripe-events"))


def _row(label: str, run: Run, floor: Run | None) -> None:
    p50, p99 = run.quantile(0.50) * 1000, run.quantile(0.99) * 1000
    ratios = (1.0, 1.0, 1.0)
    if floor is not None:
        ratios = (
            p50 / (floor.quantile(0.50) * 1000),
            p99 / (floor.quantile(0.99) * 1000),
            run.rate / floor.rate if floor.rate else float("nan"),
        )
    report.cells(
        label,
        str(run.senders),
        f"{p50:.1f}",
        f"{p99:.1f}",
        f"{run.rate:.0f}",
        str(run.errors),
        str(run.peak_rss_mib),
        *(f"{r:.2f}x" for r in ratios),
    )


def run() -> None:
    report.section(
        f"9. Webhook under concurrent load: gunicorn gthread, 1 worker x {THREADS} threads, "
        f"{REQUESTS:,} requests per level",
        "`functions-framework --target` (gunicorn, as a Cloud Functions 2nd gen instance) in gcp "
        "mode against the Firestore and Pub/Sub emulators; the floor is a bare handler under the "
        "same server, driven by the same client in the same run.",
    )
    if shutil.which("gcloud") is None:
        report.after("NOT RUN: no gcloud on PATH for the Firestore and Pub/Sub emulators")
        return
    from tests import emulators  # the tests' launcher: the same emulators, stopped the same way

    firestore, pubsub = emulators.start("firestore"), emulators.start("pubsub")
    try:
        env = _production_env(firestore.host_port, pubsub.host_port, emulators.PROJECT)
        _seed(env)
        floor_source = Path(tempfile.mkdtemp()) / "main.py"
        floor_source.write_text(FLOOR)
        report.table(
            LOAD_COLUMNS,
            (-22, 7, 9, 9, 9, 6, 7, 11, 11, 13),
        )
        source = ROOT / "functions" / "stripe_webhook" / "main.py"
        with serve("floor", floor_source, {}) as bare, serve("stripe_webhook", source, env) as hook:
            for level in LEVELS:
                floor = asyncio.run(_drive(bare, _events(REQUESTS, level), level))
                webhook = asyncio.run(_drive(hook, _events(REQUESTS, level), level))
                _row("bare handler (floor)", floor, None)
                _row("stripe_webhook", webhook, floor)
                answers = ", ".join(f"{n} x {a}" for a, n in webhook.answers.most_common())
                report.after(f"{level} senders, webhook answers: {answers or 'none'}")
    finally:
        pubsub.stop()
        firestore.stop()
