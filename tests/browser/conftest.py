"""The sandbox ``make run`` serves (every function, the Stripe and HubSpot doubles, the event
forwarder), on free ports, for the browser tests."""

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from doubles.server import ServerThread
from shared import wiring
from shared.config import Settings
from tooling.local import env, server
from tooling.local.sandbox import Sandbox

Sandboxed = tuple[str, Sandbox]  # the console's base URL, the sandbox


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandboxed]:
    port, stripe_port, hubspot_port = free_port(), free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    values = {
        **env.SANDBOX,
        "OMNIROO_DATA_DIR": str(tmp_path / "sandbox"),
        "OMNIROO_PUBLIC_URL": base,
        "STRIPE_API_BASE": f"http://127.0.0.1:{stripe_port}",
        "STRIPE_CONNECT_BASE": f"http://127.0.0.1:{stripe_port}/connect",
        "HUBSPOT_API_BASE": f"http://127.0.0.1:{hubspot_port}",
        "HUBSPOT_AUTH_BASE": f"http://127.0.0.1:{hubspot_port}",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    box = Sandbox(f"{base}/stripe/webhook", stripe_port, hubspot_port)
    box.start()
    with ServerThread(server.build(box.describe_html), port):
        yield base, box
    wiring.local_runtime(Settings.from_env()).drainers.close()
