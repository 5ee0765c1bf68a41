"""The local bundle (what ``make run`` serves) in a real headless Chromium."""

from typing import Any

from doubles.server import ServerThread
from tests.plugins.stack import Stack
from tooling.local import server


def test_the_local_bundle_answers_in_a_browser(stack: Stack, page: Any) -> None:
    with ServerThread(server.build()) as base:
        response = page.goto(f"{base}/healthz")
        assert response.status == 200
        assert page.inner_text("body") == "ok"
        page.goto(base + "/")
        assert "Omniroo" in page.title()
