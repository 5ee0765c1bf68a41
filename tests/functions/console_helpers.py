"""A console driven through ``functions_framework.create_app`` on the embedded stack, with a
clock the test moves. Each sign-up costs one bcrypt hash (~0.3 s), so tests make few accounts."""

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from shared import wiring
from shared.clock import FakeClock
from shared.config import Settings
from shared.store.base import Store
from tests.plugins.stack import PLATFORM_KEY, SECRETS, function_client

ORIGIN = "http://localhost:8080"
PASSWORD = "plum Orbit 7 lantern quietly"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Console:
    client: Any
    runtime: wiring.LocalRuntime
    clock: FakeClock

    @property
    def store(self) -> Any:
        return self.runtime.store

    def csrf(self, path: str) -> str:
        page = self.client.get(path)
        assert page.status_code == 200, page.get_data(as_text=True)
        found = _CSRF.search(page.get_data(as_text=True))
        assert found, f"no CSRF field on {path}"
        return found.group(1)

    def post(self, path: str, data: dict[str, str] | None = None, csrf_from: str = "") -> Any:
        """POST a form as the browser would: with the page's CSRF token and our Origin."""
        form = {"csrf_token": self.csrf(csrf_from or path), **(data or {})}
        return self.client.post(path, data=form, headers={"Origin": ORIGIN})

    def sign_up(self, email: str, password: str = PASSWORD) -> str:
        answer = self.post("/sign-up", {"email": email, "password": password})
        assert answer.status_code == 303, answer.get_data(as_text=True)
        [(account_id, _)] = self.store.find("accounts", "email", email)
        return str(account_id)

    def create_project(self, name: str = "Main", mode: str = "test") -> str:
        answer = self.post("/projects", {"name": name, "mode": mode})
        assert answer.status_code == 303, answer.get_data(as_text=True)
        return str(answer.headers["Location"]).rsplit("/", 1)[1]


def new_client() -> Any:
    return function_client("console")


def start_console(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, wrap: Callable[[Store], Store] | None = None
) -> Iterator[Console]:
    """A console on the embedded stack; ``wrap`` replaces the store the console is wired to
    (e.g. a counting fake around it) before the console is built."""
    for name, value in {
        "OMNIROO_ENV": "local",
        "OMNIROO_DATA_DIR": str(tmp_path / "data"),
        "STRIPE_SECRET_KEY": PLATFORM_KEY,
        "STRIPE_WEBHOOK_SECRET": ",".join(SECRETS),
        "OMNIROO_PUBLIC_URL": ORIGIN,
    }.items():
        monkeypatch.setenv(name, value)
    settings = Settings.from_env()
    clock = FakeClock()
    runtime = wiring.LocalRuntime(settings, clock=clock)
    if wrap is not None:
        runtime.store = wrap(runtime.store)
    wiring._runtimes[settings] = runtime
    yield Console(new_client(), runtime, clock)
    runtime.drainers.close()
    wiring._runtimes.pop(settings, None)


@pytest.fixture(name="console")
def console_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Console]:
    yield from start_console(tmp_path, monkeypatch)
