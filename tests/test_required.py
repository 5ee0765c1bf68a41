"""The emulator and browser tests' one way to skip (``tests/required.py``): under CI it fails,
so a machine without the Cloud CLI or the browser cannot count unproven tests as passing."""

import pytest

from tests.required import missing


def test_under_ci_a_missing_tool_fails_the_test(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="gcloud not on PATH"):
        missing("gcloud not on PATH")


def test_on_a_developers_machine_a_missing_tool_skips(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="gcloud not on PATH"):
        missing("gcloud not on PATH")
