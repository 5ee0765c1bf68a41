"""The embedded stack wired to the doubles, and a client for each deployed entry point.

Each test gets its own data directory, a Stripe account in the Stripe double, a portal in the
HubSpot double and a project pairing them, then drives the functions through
``functions_framework.create_app(...).test_client()`` exactly as Cloud Functions would load them.
"""

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import functions_framework
import pytest

from shared import wiring
from shared.config import Settings
from shared.queue.base import WakeUp
from shared.webhook.signature import sign
from tooling import ready

ROOT = Path(__file__).resolve().parents[2]
SECRETS = ("whsec_test_current", "whsec_test_previous")
PLATFORM_KEY = "sk_test_omniroo"


class QuickClock:
    """Real time, but waits are recorded instead of slept, so retry paths run fast."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


def function_client(name: str, signature_type: str = "http") -> Any:
    app = functions_framework.create_app(
        name, str(ROOT / "functions" / name / "main.py"), signature_type
    )
    return app.test_client()


@dataclass
class Stack:
    settings: Settings
    runtime: wiring.LocalRuntime
    stripe: Any  # StripeDouble
    hubspot: Any  # HubSpotDouble
    account: str
    portal_id: int
    token: str
    project_id: str
    clock: QuickClock
    webhook: Any = None
    sent: list[str] = field(default_factory=list)

    def post(self, body: bytes, header: str | None = None, **kwargs: Any) -> Any:
        if header is None:
            header = sign(body, SECRETS[0], int(time.time()))
        headers = {"Stripe-Signature": header} if header else {}
        return self.webhook.post(
            "/", data=body, headers=headers, content_type="application/json", **kwargs
        )

    def deliver(self, event: dict[str, Any]) -> Any:
        """Send a Stripe event as Stripe would: its JSON, signed now."""
        self.sent.append(event["id"])
        return self.post(json.dumps(event).encode())

    def deliver_all(self) -> list[int]:
        return [self.deliver(e).status_code for e in self.stripe.events(self.account)]

    def record_wakeups(self, monkeypatch: pytest.MonkeyPatch) -> list[WakeUp]:
        """Every wake-up the webhook sends from now on (as it would queue them), still handed
        to the drainers."""
        # The webhook's own wake-ups only: the drainers' sweeper (and wait_idle) wake through
        # the same object on their own schedule, so counting there depended on timing.
        from shared.webhook import ingest

        queued: list[WakeUp] = []
        wake = ingest._wake

        def spy(waker: Any, project_id: str) -> None:
            queued.append(WakeUp(project_id))
            wake(waker, project_id)

        monkeypatch.setattr(ingest, "_wake", spy)
        return queued

    def drain(self) -> None:
        assert self.runtime.drainers.wait_idle(timeout=30), "the drainers did not finish in time"

    def dirty(self) -> list[dict[str, Any]]:
        return [doc for _, doc in self.runtime.store.scan("dirty_keys")]

    def dirty_ids(self) -> list[str]:
        return [doc_id for doc_id, _ in self.runtime.store.scan("dirty_keys")]

    def contacts(self) -> list[dict[str, Any]]:
        return [r for r in self.hubspot.records(self.portal_id, "contacts") if not r["archived"]]

    def outcomes(self) -> dict[str, dict[str, Any]]:
        return dict(self.runtime.store.scan("outcomes"))


@pytest.fixture
def stack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stripe_double: Any, hubspot_double: Any
) -> Iterator[Stack]:
    env = {
        "OMNIROO_ENV": "local",
        "OMNIROO_DATA_DIR": str(tmp_path / "data"),
        "STRIPE_SECRET_KEY": PLATFORM_KEY,
        "STRIPE_WEBHOOK_SECRET": ",".join(SECRETS),
        "STRIPE_API_BASE": stripe_double.base_url,
        "HUBSPOT_API_BASE": hubspot_double.base_url,
        # The clock records waits instead of sleeping them: a budget it could exhaust would
        # spin. Budgets are tested on their own (tests/test_drain_budget.py, row 48).
        "OMNIROO_HUBSPOT_CALLS_PER_10S": "100000",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = Settings.from_env()
    clock = QuickClock()
    runtime = wiring.LocalRuntime(settings, clock=clock)
    wiring._runtimes[settings] = runtime
    project = ready.ready_project(
        stripe_double, hubspot_double, runtime.store, runtime.envelope, clock, "owner@omniroo.test"
    )
    stack = Stack(
        settings,
        runtime,
        stripe_double,
        hubspot_double,
        project.account,
        project.portal_id,
        project.token,
        project.project_id,
        clock,
    )
    stack.webhook = function_client("stripe_webhook")
    hubspot_double.reset_requests()
    yield stack
    runtime.drainers.close()
    wiring._runtimes.pop(settings, None)
