"""The moving parts of a fault-suite run: Omniroo in gcp mode against the emulators, a Stripe
that delivers like Stripe, and ``hubspot_push`` instances as processes that can be killed.

- ``Sender``: Stripe's side of webhook delivery: several deliveries at once, each signed when
  sent, and any delivery not answered 2xx sent again after a pause (Stripe retries for days).
- ``Worker``: ``python -m tests.faults.worker`` (the drainer as its own process), its output in a
  log file the suite scans for customer values.
"""

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from shared.webhook.signature import sign
from tests.plugins.stack import ROOT, SECRETS, function_client

SENDERS = 4
RETRY_PAUSE = 0.2


class Sender:
    def __init__(self, events: list[dict[str, Any]]) -> None:
        self.total = len(events)
        self.acked = 0
        self.refused: Counter[int] = Counter()  # answers other than 2xx, by status (sent again)
        self._todo: queue.Queue[bytes] = queue.Queue()
        for event in events:
            self._todo.put(json.dumps(event).encode())
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._send, daemon=True) for _ in range(SENDERS)]

    def start(self) -> "Sender":
        for thread in self._threads:
            thread.start()
        return self

    def join(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return self.acked == self.total

    def run(self, timeout: float = 120.0) -> bool:
        return self.start().join(timeout)

    def _send(self) -> None:
        webhook = function_client("stripe_webhook")  # an instance of the function per sender
        while True:
            with self._lock:
                if self.acked == self.total:
                    return
            try:
                body = self._todo.get(timeout=0.1)
            except queue.Empty:
                continue
            header = sign(body, SECRETS[0], int(time.time()))
            status = webhook.post(
                "/",
                data=body,
                headers={"Stripe-Signature": header},
                content_type="application/json",
            ).status_code
            with self._lock:
                if 200 <= status < 300:
                    self.acked += 1
                    continue
                self.refused[status] += 1
            time.sleep(RETRY_PAUSE)
            self._todo.put(body)


class Worker:
    def __init__(self, log: Path, env: dict[str, str]) -> None:
        self.log = log
        with open(log, "ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tests.faults.worker"],
                cwd=ROOT,
                env={**os.environ, "PYTHONPATH": str(ROOT), **env},
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill(self) -> None:
        """SIGKILL: no cleanup, no lease released, as a crashed instance."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def wait_for(check: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
