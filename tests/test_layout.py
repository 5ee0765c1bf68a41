"""The floor plan held by a test: the rules of ``tests/import_graph.py`` pass on this repository,
and each one fails, naming the exact import, on a small tree with that one bad import planted."""

import textwrap
from pathlib import Path

import pytest

from tests import import_graph
from tests.import_graph import ADAPTERS, OUTSIDE, edges, modules, violations

ROOT = Path(__file__).resolve().parents[1]


def plant(root: Path, files: dict[str, str]) -> Path:
    """A tree with the five top folders and ``files`` (path -> source)."""
    for folder in import_graph.FOLDERS:
        (root / folder).mkdir(parents=True, exist_ok=True)
        (root / folder / "__init__.py").touch()
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        for parent in path.relative_to(root).parents:
            if parent.parts and parent.parts[0] != "functions":
                (root / parent / "__init__.py").touch()
        path.write_text(textwrap.dedent(source))
    return root


def test_this_repository_keeps_every_rule() -> None:
    broken = violations(ROOT)
    assert not broken, "\n".join(["the floor plan is broken:", *broken])


def test_the_checker_reads_the_whole_tree() -> None:
    found = modules(ROOT)
    assert {"shared.wiring", "functions.stripe_webhook.main", "tooling.cli"} <= set(found)
    assert {"doubles.stripe.app", "tests.test_layout"} <= set(found)
    graph = edges(ROOT)
    assert any(e.source == "shared.stripe_gateway" and e.target == "stripe" for e in graph)


def test_every_adapter_named_exists_and_needs_its_allowance() -> None:
    """The allowlist cannot rot: each entry is a real module importing each outside name."""
    graph = edges(ROOT)
    for module, (allowed, why) in ADAPTERS.items():
        assert module in modules(ROOT), module
        assert why, module
        used = {
            name
            for e in graph
            if e.source == module
            for name in OUTSIDE
            if e.target == name or e.target.startswith(name + ".")
        }
        assert set(allowed) <= used, (module, set(allowed) - used)


def test_a_planted_sdk_import_in_the_pure_core_is_named(tmp_path: Path) -> None:
    root = plant(tmp_path, {"shared/mapping/bad.py": "import stripe\n"})
    assert violations(root) == [
        "shared/mapping/bad.py:1: shared.mapping.bad imports stripe: only the adapters in "
        "ADAPTERS may import the Stripe SDK",
        "shared.mapping.bad: the pure core reaches the Stripe SDK: shared.mapping.bad -> stripe",
    ]


def test_the_pure_core_may_not_reach_a_store_through_another_module(tmp_path: Path) -> None:
    root = plant(
        tmp_path,
        {
            "shared/billing/mrr.py": "from shared import helper\n",
            "shared/helper.py": "def f():\n    from shared.store.base import Store\n",
            "shared/store/base.py": "Store = object\n",
        },
    )
    assert violations(root) == [
        "shared.billing.mrr: the pure core reaches a store: "
        "shared.billing.mrr -> shared.helper -> shared.store.base",
    ]


def test_the_pure_core_may_not_import_an_adapter(tmp_path: Path) -> None:
    root = plant(
        tmp_path,
        {
            "shared/mapping/ops.py": "from ..hubspot.gateway import Upsert\n",
            "shared/hubspot/gateway.py": "Upsert = object\n",
        },
    )
    assert violations(root) == [
        "shared.mapping.ops: the pure core reaches an adapter: "
        "shared.mapping.ops -> shared.hubspot.gateway",
    ]


@pytest.mark.parametrize(
    ("name", "source", "expected"),
    [
        (
            "shared/sandbox.py",
            "from doubles.stripe import StripeDouble\n",
            "shared/sandbox.py:1: shared.sandbox imports doubles.stripe: doubles/ are test "
            "infrastructure: not deployed",
        ),
        (
            "shared/cli.py",
            "import tooling.cli\n",
            "shared/cli.py:1: shared.cli imports tooling.cli: tooling/ is not deployed: the "
            "import fails in production",
        ),
        (
            "shared/x.py",
            "def f():\n    from tests import leaks\n",
            "shared/x.py:2: shared.x imports tests: tests/ are not deployed",
        ),
        (
            "functions/a/main.py",
            "from functions.b.main import APP\n",
            "functions/a/main.py:1: functions.a.main imports functions.b.main: each function "
            "deploys alone: another function is not there",
        ),
        (
            "shared/queue/fast.py",
            "import httpx\n",
            "shared/queue/fast.py:1: shared.queue.fast imports httpx: only the adapters in "
            "ADAPTERS may import an HTTP client",
        ),
        (
            "functions/a/main.py",
            "from google.cloud import firestore\n",
            "functions/a/main.py:1: functions.a.main imports google.cloud: only the adapters in "
            "ADAPTERS may import Google Cloud clients",
        ),
    ],
)
def test_a_planted_bad_import_is_named(
    tmp_path: Path, name: str, source: str, expected: str
) -> None:
    files = {name: source, "functions/b/main.py": "APP = 1\n"}
    assert violations(plant(tmp_path, files)) == [expected]


def test_an_adapter_may_import_its_sdk_and_tooling_may_import_anything(tmp_path: Path) -> None:
    root = plant(
        tmp_path,
        {
            "shared/store/firestore.py": "from google.cloud import firestore\n",
            "shared/store/base.py": "",
            "tooling/run.py": "import stripe\nfrom doubles import x\nfrom shared import y\n",
            "tests/test_x.py": "import functions\nfrom tooling import run\n",
        },
    )
    assert violations(root) == []


def test_an_import_loop_is_named_even_through_a_lazy_import(tmp_path: Path) -> None:
    root = plant(
        tmp_path,
        {
            "shared/a.py": "from shared import b\n",
            "shared/b.py": "def later():\n    from shared.c import thing\n",
            "shared/c.py": "import shared.a\nthing = 1\n",
        },
    )
    assert violations(root) == ["import loop among shared.a, shared.b, shared.c"]


def test_a_package_that_imports_its_own_module_back_is_a_loop(tmp_path: Path) -> None:
    """Importing ``shared.p.m`` runs ``shared/p/__init__.py`` first."""
    root = plant(
        tmp_path,
        {
            "shared/p/__init__.py": "from shared.q import x\n",
            "shared/p/m.py": "",
            "shared/q.py": "from shared.p.m import y\n",
        },
    )
    assert violations(root) == ["import loop among shared.p, shared.q"]
