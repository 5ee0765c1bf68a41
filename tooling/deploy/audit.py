"""``python -m tooling.deploy.audit``: pip-audit of the deployed requirements, said plainly.

pip-audit resolves ``requirements.txt`` (with its transitive dependencies) and asks PyPI's JSON API
for the known vulnerabilities of each exact release (``/pypi/NAME/VERSION/json``). A known
vulnerability fails the scan. Where that per-release endpoint does not answer (some networks serve
only ``/pypi/NAME/json``), a release that is the project's latest is audited from the project
endpoint instead, whose ``vulnerabilities`` are those of the latest release. Anything left is
*not audited*, which pip-audit reports only as a skip with exit code 0: this wrapper says so in a
line of its own, with the count, so that a scan that checked nothing never reads as a clean one.
``--strict`` makes that a failure too.
"""

import argparse
import importlib.util
import json
import re

# pip-audit runs with an argument list, never through a shell.
import subprocess  # nosec B404
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tooling.deploy.spec import ROOT

_UNREACHABLE = ("ConnectionError", "Max retries exceeded", "Temporary failure in name resolution")
_SKIPPED_VERSION = re.compile(r"\(([^()]+)\)\s*$")
PYPI = "https://pypi.org/pypi"

Fetch = Callable[[str], dict[str, Any] | None]  # project name -> PyPI's project JSON, or None


@dataclass
class Report:
    audited: list[str] = field(default_factory=list)
    vulnerable: list[str] = field(default_factory=list)  # "name version: ID, ID"
    not_audited: list[tuple[str, str]] = field(default_factory=list)  # (name, version)


def parse(raw: dict[str, Any]) -> Report:
    report = Report()
    for dep in raw.get("dependencies", []):
        if "skip_reason" in dep:
            found = _SKIPPED_VERSION.search(str(dep["skip_reason"]))
            report.not_audited.append((str(dep.get("name")), found.group(1) if found else ""))
            continue
        _record(report, f"{dep.get('name')} {dep.get('version', '')}", dep.get("vulns", []))
    return report


def fallback(report: Report, fetch: Fetch) -> Report:
    """Audit what pip-audit skipped from the project endpoint, where the release is the latest."""
    left: list[tuple[str, str]] = []
    for name, version in report.not_audited:
        project = fetch(name) if version else None
        if project is None or project.get("info", {}).get("version") != version:
            left.append((name, version))
            continue
        live = [v for v in project.get("vulnerabilities", []) if not v.get("withdrawn")]
        _record(report, f"{name} {version}", live)
    report.not_audited = left
    return report


def fetch_project(name: str) -> dict[str, Any] | None:
    import requests

    try:
        response = requests.get(f"{PYPI}/{name}/json", timeout=10)
    except requests.RequestException:
        return None
    if response.status_code != 200:
        return None
    found: dict[str, Any] = response.json()
    return found


def _record(report: Report, name: str, vulns: list[dict[str, Any]]) -> None:
    report.audited.append(name)
    ids = [str(v.get("id", "?")) for v in vulns]
    if ids:
        report.vulnerable.append(f"{name}: {', '.join(ids)}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tooling.deploy.audit", description=__doc__)
    parser.add_argument("--requirements", default=str(ROOT / "requirements.txt"))
    parser.add_argument("--strict", action="store_true", help="fail when a package is not audited")
    args = parser.parse_args(argv)
    if importlib.util.find_spec("pip_audit") is None:
        print("pip-audit: not installed (make installs it from requirements-dev.txt)")
        return 2
    result = subprocess.run(  # noqa: S603  # nosec B603
        [
            sys.executable,
            "-m",
            "pip_audit",
            "-r",
            args.requirements,
            "-f",
            "json",
            "--progress-spinner",
            "off",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        report = fallback(parse(json.loads(result.stdout)), fetch_project)
    except ValueError:
        reason = result.stderr.strip().splitlines()[-1:] or ["no output"]
        if any(marker in result.stderr for marker in _UNREACHABLE):
            print(
                "pip-audit: NOT RUN: the vulnerability database (PyPI's JSON API) is unreachable "
                f"from this machine ({reason[0]}); nothing was audited"
            )
            return 1 if args.strict else 0
        print(f"pip-audit: failed: {reason[0]}")
        return 2
    for line in report.vulnerable:
        print(f"pip-audit: VULNERABLE {line}")
    total = len(report.audited) + len(report.not_audited)
    print(
        f"pip-audit: {len(report.audited)} of {total} packages audited, "
        f"{len(report.vulnerable)} with a known vulnerability"
    )
    if report.not_audited:
        print(
            f"pip-audit: NOT AUDITED: {len(report.not_audited)} of {total} packages, because the "
            "vulnerability database did not answer for their exact release from this machine: "
            + ", ".join(f"{name} {version}".strip() for name, version in report.not_audited)
        )
    if report.vulnerable:
        return 1
    return 1 if args.strict and report.not_audited else 0


if __name__ == "__main__":
    sys.exit(main())
