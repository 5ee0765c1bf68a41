"""A busy project's pages read a bounded number of outcomes and dead letters, never all of them
(a month-start burst leaves 50,000+), and still show the newest. The console's store is wrapped
in a counting fake around the real SQLite adapter."""

import html
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.console import failure_pages
from shared.repair import replay
from shared.store.base import MAX_MANY, Doc
from tests.counting_store import CountingStore
from tests.functions.console_helpers import Console, start_console

OUTCOMES = 3000
DEAD = 50


@pytest.fixture
def counted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Console]:
    yield from start_console(tmp_path, monkeypatch, CountingStore)


def _outcome(project_id: str, i: int, at: float) -> Doc:
    """Every third synced, the rest failed; every tenth an invoice, the rest customers."""
    failed = i % 3 != 0
    return {
        "project_id": project_id,
        "event_id": f"evt_{i:05d}",
        "events": [f"evt_{i:05d}"],
        "type": "invoice.paid" if i % 10 == 0 else "customer.updated",
        "stripe_id": f"in_{i:05d}" if i % 10 == 0 else f"cus_{i:05d}",
        "status": "failed" if failed else "synced",
        "hubspot_id": "" if failed else str(100 + i),
        "error_code": "hubspot_503" if failed else "",
        "at": at,
    }


@pytest.fixture
def busy(counted: Console) -> tuple[Console, CountingStore, str]:
    counted.sign_up("busy@example.com")
    project_id = counted.create_project("Busy")
    store = counted.store
    assert isinstance(store, CountingStore)
    inner, base = store.inner, counted.clock.now() - 2 * 3600
    docs = {f"evt_{i:05d}": _outcome(project_id, i, base + i) for i in range(OUTCOMES)}
    docs["evt_other"] = _outcome("prj_other", 1, base + OUTCOMES)  # another project's newest
    ids = list(docs)
    for start in range(0, len(ids), MAX_MANY):
        inner.update_many("outcomes", ids[start : start + MAX_MANY], lambda i, _: docs[i])
    for i in range(DEAD):
        inner.put(
            "dead_letters",
            f"evt_dead{i:03d}",
            {
                "project_id": project_id,
                "event_id": f"evt_dead{i:03d}",
                "type": "customer.created",
                "at": base + i * 10,
            },
        )
    return counted, store, project_id


def _page(console: Console, store: CountingStore, path: str) -> str:
    store.read.clear()
    answer = console.client.get(path)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return html.unescape(answer.get_data(as_text=True))


def test_the_project_page_reads_its_latest_twenty(busy: tuple[Console, CountingStore, str]) -> None:
    console, store, project_id = busy
    shown = _page(console, store, f"/projects/{project_id}")
    assert store.read["outcomes"] == 20
    assert "evt_02999" in shown and "evt_02980" in shown
    assert "evt_02979" not in shown and "evt_other" not in shown


def test_the_failures_page_reads_a_page_of_the_newest(
    busy: tuple[Console, CountingStore, str],
) -> None:
    console, store, project_id = busy
    shown = _page(console, store, f"/projects/{project_id}/failures")
    assert store.read["outcomes"] <= failure_pages.SHOWN + 1  # one more: are there older?
    assert store.read["dead_letters"] <= failure_pages.SHOWN + 1
    assert "evt_02999" in shown and "evt_02998" in shown
    assert ">synced</span>" not in shown
    assert "Older ones are not shown" in shown


def test_a_type_filter_searches_a_bounded_window_and_says_so(
    busy: tuple[Console, CountingStore, str],
) -> None:
    console, store, project_id = busy
    shown = _page(console, store, f"/projects/{project_id}/failures?status=synced&type=invoice")
    assert store.read["outcomes"] <= failure_pages.WINDOW + 1 < OUTCOMES
    # the newest synced invoice: every 30th outcome, 2970 the last of them
    assert "evt_02970" in shown and "evt_02999" not in shown
    assert f"the newest {failure_pages.WINDOW} of this status were searched" in shown


def test_the_health_page_counts_the_latest_failures_only(
    busy: tuple[Console, CountingStore, str],
) -> None:
    console, store, project_id = busy
    shown = _page(console, store, f"/projects/{project_id}/health")
    assert store.read["outcomes"] <= replay.WINDOW + 1 < OUTCOMES
    assert store.read["dead_letters"] <= DEAD
    # the newest WINDOW failures are all failed outcomes: the dead letters are older
    n = replay.WINDOW
    assert f'<code class="id">hubspot_503</code></td><td class="number">{n}</td>' in shown
    assert '<code class="id">dead_lettered</code>' not in shown
    assert "older ones are not counted here" in shown


def test_the_replay_confirmation_reads_a_window(busy: tuple[Console, CountingStore, str]) -> None:
    console, store, project_id = busy
    shown = _page(console, store, f"/projects/{project_id}/replay?code=hubspot_503")
    assert store.read["outcomes"] <= replay.WINDOW + 1
    assert store.read["dead_letters"] == 0
    assert f"Replay {replay.WINDOW} or more failures?" in shown
