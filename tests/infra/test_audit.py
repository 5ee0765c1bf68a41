"""The pip-audit wrapper: vulnerabilities fail, what was not audited is said, never hidden."""

import subprocess
from typing import Any

import pytest

from tooling.deploy import audit

RAW = {
    "dependencies": [
        {"name": "flask", "version": "3.1.3", "vulns": []},
        {"name": "jinja2", "version": "3.1.0", "vulns": [{"id": "GHSA-xxxx", "fix_versions": []}]},
        {
            "name": "stripe",
            "skip_reason": "Dependency not found on PyPI and could not be audited: stripe (16.1.0)",
        },
        {
            "name": "cloudevents",
            "skip_reason": "Dependency not found on PyPI and could not be audited: "
            "cloudevents (1.12.0)",
        },
    ],
    "fixes": [],
}


def project(version: str, vulns: list[dict[str, Any]]) -> dict[str, Any]:
    return {"info": {"version": version}, "vulnerabilities": vulns}


def test_skips_are_audited_from_the_project_endpoint_only_for_the_latest_release() -> None:
    projects = {
        "stripe": project("16.1.0", [{"id": "PYSEC-1"}, {"id": "OLD", "withdrawn": "2026-01-01"}]),
        "cloudevents": project("1.13.0", []),
    }
    report = audit.fallback(audit.parse(RAW), projects.get)
    assert report.audited == ["flask 3.1.3", "jinja2 3.1.0", "stripe 16.1.0"]
    assert report.vulnerable == ["jinja2 3.1.0: GHSA-xxxx", "stripe 16.1.0: PYSEC-1"]
    assert report.not_audited == [("cloudevents", "1.12.0")]


def test_nothing_reachable_leaves_everything_skipped_not_audited() -> None:
    report = audit.fallback(audit.parse(RAW), lambda name: None)
    assert [name for name, _ in report.not_audited] == ["stripe", "cloudevents"]


@pytest.mark.parametrize(("strict", "code"), [(False, 0), (True, 1)])
def test_the_command_says_what_it_could_not_audit(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], strict: bool, code: int
) -> None:
    class Done:
        stdout = '{"dependencies": [{"name": "stripe", "skip_reason": "not found (16.1.0)"}]}'
        stderr = ""

    monkeypatch.setattr(subprocess, "run", lambda *a, **k: Done())
    monkeypatch.setattr(audit, "fetch_project", lambda name: None)
    assert audit.main(["--strict"] if strict else []) == code
    out = capsys.readouterr().out
    assert "0 of 1 packages audited" in out
    assert "NOT AUDITED: 1 of 1 packages" in out and "stripe 16.1.0" in out


def test_an_unreachable_database_is_said_and_not_a_pass_in_strict_mode(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    class Failed:
        stdout = ""
        stderr = "requests.exceptions.ConnectionError: Max retries exceeded with url: /pypi/x"

    monkeypatch.setattr(subprocess, "run", lambda *a, **k: Failed())
    assert audit.main([]) == 0
    assert "NOT RUN: the vulnerability database" in capsys.readouterr().out
    assert audit.main(["--strict"]) == 1


def test_a_vulnerability_fails(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    class Done:
        stdout = (
            '{"dependencies": [{"name": "jinja2", "version": "3.1.0", "vulns": [{"id": "G-1"}]}]}'
        )
        stderr = ""

    monkeypatch.setattr(subprocess, "run", lambda *a, **k: Done())
    assert audit.main([]) == 1
    assert "VULNERABLE jinja2 3.1.0: G-1" in capsys.readouterr().out
