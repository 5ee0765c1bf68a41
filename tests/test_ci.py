"""CI stays honest: ``.ci/run`` runs the scans and ``make check``, and ``make check`` runs the
README's ``make test`` with the coverage floor enforced (read from ``make -n``, nothing runs)."""

import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def plan(target: str) -> str:
    """What ``make target`` would run, as if typed in a fresh shell (a ``make check`` running
    these tests passes its own variables down in MAKEFLAGS)."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    env.pop("COVERAGE", None)
    done = subprocess.run(
        ["make", "-n", target], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    return done.stdout


def commands() -> list[str]:
    lines = (ROOT / ".ci" / "run").read_text().splitlines()
    return [line.strip() for line in lines if re.match(r"^make\b", line.strip())]


def test_ci_runs_the_scans_and_make_check() -> None:
    assert commands() == ["make scan", "make check"]


def test_make_check_runs_lint_types_and_make_test_with_the_coverage_floor() -> None:
    planned = plan("check")
    assert "ruff check ." in planned and "mypy shared" in planned
    assert re.search(r"^\S*make test COVERAGE=1$", planned, re.MULTILINE)
    [pytest_line] = [line for line in planned.splitlines() if "-m pytest" in line]
    floor = re.search(r"--cov-fail-under=(\d+)", pytest_line)
    assert floor is not None and int(floor.group(1)) >= 80


def test_plain_make_test_measures_no_coverage() -> None:
    planned = plan("test")
    assert "-m pytest" in planned and "--cov" not in planned
