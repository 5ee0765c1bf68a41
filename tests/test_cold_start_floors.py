"""The cold-start bench's floors (``tooling/bench/cold_start.py``) stay true to the tree: one per
deployed function, each a bare function functions-framework can load, importing only real
modules. The timings themselves are measured by ``make bench``, never asserted here."""

from pathlib import Path

import functions_framework
import pytest

from tooling.bench import cold_start

ROOT = Path(__file__).resolve().parents[1]


def test_every_function_has_a_floor_and_every_floor_a_function() -> None:
    folders = {path.parent.name for path in (ROOT / "functions").glob("*/main.py")}
    assert set(cold_start.FLOORS) == folders


@pytest.mark.parametrize("name", sorted(cold_start.FLOORS))
def test_each_floor_is_a_loadable_function_of_the_same_kind(name: str, tmp_path: Path) -> None:
    kind, clients, why = cold_start.FLOORS[name]
    assert why and set(clients) <= set(cold_start.CLIENTS)
    source = cold_start.floor_source(name, tmp_path)
    app = functions_framework.create_app(name, str(source), kind)
    assert app is not None


def test_modules_beyond_the_floor_are_counted_by_package() -> None:
    extra = {"stripe", "stripe._charge", "hubspot.crm", "six"}
    assert cold_start._by_package(extra) == "stripe (2), hubspot (1), six (1)"
    assert cold_start._by_package(set()) == "-"
