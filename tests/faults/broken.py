"""Deliberately broken builds, for showing that the fault suite fails when Omniroo breaks a
promise it tests. Each is a patch over the real code, applied in the test process (the webhook)
or in a worker process (the drainer, through ``FAULTS_BROKEN``):

- ``stale``: the drainer skips the refetch and writes a stale copy: the first answer Stripe gave
  for an object is served again for every later round (what serving an event's own payload, or
  any cache of Stripe objects, does);
- ``ack_first``: the webhook answers 2xx before the key is durable: it checks the signature,
  answers ``accepted`` and does the rest afterwards, in the background (the 200-then-lost bug).
"""

import threading
from collections.abc import Callable
from typing import Any

from shared import logs
from shared.drain import reads, snapshot
from shared.stripe_gateway import MAX_PAGES
from shared.webhook import event, ingest, signature

Patch = Callable[[str, Any, Any], None]  # setattr(module, name, value), e.g. monkeypatch's
PENDING: list[threading.Thread] = []  # ``ack_first``'s work still running after its answer


def settle() -> None:
    """Wait for whatever a broken build still does in the background, so that what the suite
    then finds missing is lost for good, not late."""
    while PENDING:
        PENDING.pop().join()


class _StaleSnapshot(snapshot.Snapshot):
    seen: dict[str, Any] = {}  # every round of the process shares it: nothing is read twice

    def prime(self, *args: Any, **kwargs: Any) -> None:
        return None  # every read goes through fetch / list, and so through the stale copies

    def fetch(self, object_type: str, object_id: str, account: str, expand: Any = ()) -> Any:
        key = repr(("fetch", account, object_type, object_id, tuple(expand)))
        if key not in self.seen:
            self.seen[key] = super().fetch(object_type, object_id, account, expand)
        return self.seen[key]

    def list(self, object_type: str, account: str, params: Any, pages: int = MAX_PAGES) -> Any:
        key = repr(("list", account, object_type, sorted(params.items()), pages))
        if key not in self.seen:
            self.seen[key] = super().list(object_type, account, params, pages)
        return self.seen[key]


def _stale_snapshot(stripe: Any, account: str) -> snapshot.Snapshot:
    return _StaleSnapshot(stripe, account, reads.EXPAND)


def _ack_first(real: Callable[..., ingest.Result]) -> Callable[..., ingest.Result]:
    def receive(body: bytes, header: str | None, deps: ingest.IngestDeps) -> ingest.Result:
        signature.verify(body, header, deps.secrets, deps.clock.now())
        head = event.parse(body)

        def later() -> None:
            try:
                real(body, header, deps)
            except Exception as exc:  # nobody is left to tell: the delivery was answered
                logs.warning("late ingest failed", error_type=type(exc).__name__)

        worker = threading.Thread(target=later, daemon=True)
        PENDING.append(worker)
        worker.start()
        return ingest.Result("accepted", head.id)

    return receive


def apply(name: str, patch: Patch) -> None:
    if name == "stale":
        patch(reads, "snapshot", _stale_snapshot)
    elif name == "ack_first":
        patch(ingest, "receive", _ack_first(ingest.receive))
    elif name:
        raise ValueError(f"no broken build named {name!r}")
