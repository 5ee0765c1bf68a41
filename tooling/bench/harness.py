"""What the write-path bench runs on: ``make run`` as a real process against the local doubles,
and Stripe's side of a webhook delivery (signed, several at once, retried until answered 2xx).

The doubles are served from the bench's own process; Omniroo is the ``tooling.local.server``
process a user starts, in its non-sandbox mode (a Stripe key in the environment), with its
SQLite store in a directory of its own, so that what is measured is the whole path: HTTP in,
dirty keys in SQLite, drainer threads, HTTP out to the doubles.
"""

import json
import os
import queue
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from shared import projects
from shared.clock import SystemClock
from shared.crypto.envelope import Envelope
from shared.crypto.local_keys import LocalKeyFile
from shared.hubspot.gateway import HubSpotGateway
from shared.store.sqlite import SqliteStore
from shared.webhook.signature import sign

ROOT = Path(__file__).resolve().parents[2]
PLATFORM_KEY = "sk_test_bench"
SECRET = "whsec_bench_write_path"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Omniroo:
    """``make run`` in a subprocess: its URL, its data directory, its log file."""

    stripe_base: str
    hubspot_base: str
    env: dict[str, str] = field(default_factory=dict)
    data_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="omniroo-bench-")))
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environment(self) -> dict[str, str]:
        return {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "OMNIROO_ENV": "local",
            "OMNIROO_PORT": str(self.port),
            "OMNIROO_DATA_DIR": str(self.data_dir),
            "STRIPE_SECRET_KEY": PLATFORM_KEY,
            "STRIPE_WEBHOOK_SECRET": SECRET,
            "STRIPE_API_BASE": self.stripe_base,
            "HUBSPOT_API_BASE": self.hubspot_base,
            **self.env,
        }

    def connect(self, account: str, portal: int, token: str) -> str:
        """A project pairing the Stripe account with the portal, stored before the start."""
        store = SqliteStore(self.data_dir / "omniroo.db")
        envelope = Envelope(LocalKeyFile(self.data_dir / "master.key"))
        email = f"bench-{self.port}-{account.lower()}@omniroo.local"
        owner = projects.create_account(store, email, time.time())
        project_id = projects.create_project(
            store,
            envelope,
            projects.NewProject(owner, account, False, token, str(portal)),
            time.time(),
        )
        store.close()
        return project_id

    def start(self, timeout: float = 60.0) -> None:
        log = open(self.data_dir / "server.log", "ab")  # noqa: SIM115 (the process owns it)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tooling.local.server"],
            cwd=ROOT,
            env=self.environment(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"make run exited with {self.process.returncode}")
            try:
                if requests.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError("make run did not answer /healthz in time")

    def kill(self) -> None:
        """SIGKILL the whole process group: no cleanup, no flush, as a crash."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def count(self, collection: str, where: str = "") -> int:
        """Documents of a collection in the running server's SQLite file (read alongside it)."""
        with sqlite3.connect(f"file:{self.data_dir / 'omniroo.db'}?mode=ro", uri=True) as db:
            db.execute("PRAGMA busy_timeout = 5000")
            row = db.execute(
                "SELECT COUNT(*) FROM docs WHERE collection = ?" + where, (collection,)
            ).fetchone()
        return int(row[0])

    def memory(self) -> int:
        """The server's resident memory, in bytes (Linux)."""
        assert self.process is not None
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        kib = next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS"))
        return int(kib) * 1024

    def outcomes(self) -> dict[str, int]:
        with sqlite3.connect(f"file:{self.data_dir / 'omniroo.db'}?mode=ro", uri=True) as db:
            db.execute("PRAGMA busy_timeout = 5000")
            rows = db.execute(
                "SELECT json_extract(doc, '$.status'), COUNT(*) FROM docs"
                " WHERE collection = 'outcomes' GROUP BY 1"
            ).fetchall()
        return {str(status): int(n) for status, n in rows}

    def wait_drained(self, timeout: float) -> bool:
        """Until no dirty key is left (those waiting out a backoff included), then until the
        outcomes stop growing: a round records them just after it clears its keys, and a run
        once read (and stopped) mid-way through 4,300 of them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.count("dirty_keys") == 0:
                recorded = -1
                while recorded != self.count("outcomes") and time.monotonic() < deadline:
                    recorded = self.count("outcomes")
                    time.sleep(1.0)
                return True
            time.sleep(0.25)
        return False


def portal_with_schema(hubspot: Any) -> tuple[int, str]:
    portal, token = hubspot.add_portal()
    HubSpotGateway(token, SystemClock(), hubspot.base_url).ensure_schema()
    return portal, token


@dataclass
class Delivery:
    first_sent: float = 0.0
    last_acked: float = 0.0
    acked: dict[str, float] = field(default_factory=dict)  # event id -> when answered 2xx
    latencies: list[float] = field(default_factory=list)  # seconds each 2xx took to come
    attempts: int = 0
    refused: int = 0  # answered other than 2xx, or not at all: sent again later


def deliver(
    url: str,
    events: Sequence[dict[str, Any]],
    senders: int = 8,
    stop_after: float | None = None,
    rate: float | None = None,
) -> Delivery:
    """Deliver events as Stripe does: several at once, each signed when sent, and sent again
    (after a pause) until answered 2xx. ``stop_after``: give up on what is left after so many
    seconds (for a crash test, which delivers the rest once the server is back); ``rate``: at
    most so many first sends a second."""
    result = Delivery()
    todo: queue.Queue[tuple[str, bytes]] = queue.Queue()
    for event in events:
        todo.put((event["id"], json.dumps(event).encode()))
    lock = threading.Lock()
    started = time.time()
    result.first_sent = started
    sent = [0]

    def send() -> None:
        session = requests.Session()
        while True:
            if stop_after is not None and time.time() - started > stop_after:
                return
            try:
                event_id, body = todo.get_nowait()
            except queue.Empty:
                return
            if rate is not None:
                with lock:
                    due, sent[0] = started + sent[0] / rate, sent[0] + 1
                time.sleep(max(0.0, due - time.time()))
            header = sign(body, SECRET, int(time.time()))
            began = time.time()
            try:
                answer = session.post(
                    f"{url}/stripe/webhook",
                    data=body,
                    headers={"Stripe-Signature": header, "Content-Type": "application/json"},
                    timeout=30,
                ).status_code
            except requests.RequestException:
                answer = 0
            now = time.time()
            with lock:
                result.attempts += 1
                if 200 <= answer < 300:
                    result.acked[event_id] = now
                    result.latencies.append(now - began)
                    result.last_acked = max(result.last_acked, now)
                    continue
                result.refused += 1
            time.sleep(0.2)
            todo.put((event_id, body))

    threads = [threading.Thread(target=send, daemon=True) for _ in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return result
