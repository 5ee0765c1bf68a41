"""Replay puts failed outcomes and dead letters back on the write path: one, one code, or all."""

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from doubles.hubspot import HubSpotDouble
from doubles.stripe import StripeDouble
from shared.drain.dirty import COLLECTION as DIRTY_KEYS
from shared.drain.dirty import Key
from shared.errors import NotFound
from shared.queue.base import ThinMessage
from shared.repair import dead_letters, health, replay
from shared.sync import outcomes
from tests.repair_fixtures import PROJECT, Repo, make_repo


@pytest.fixture
def repo(
    tmp_path: Path, stripe_double: StripeDouble, hubspot_double: HubSpotDouble
) -> Iterator[Repo]:
    made = make_repo(tmp_path, stripe_double, hubspot_double)
    made.clock.t = time.time()
    yield made
    made.store.close()


def _outcome(
    repo: Repo, doc_id: str, kind_type: str, stripe_id: str, status: str, code: str, at: float
) -> None:
    repo.store.put(
        outcomes.COLLECTION,
        doc_id,
        {
            "project_id": PROJECT,
            "event_id": doc_id if doc_id.startswith("evt_") else "",
            "type": kind_type,
            "stripe_id": stripe_id,
            "status": status,
            "hubspot_id": "",
            "error_code": code,
            "at": at,
        },
    )


@pytest.fixture
def failed(repo: Repo) -> Repo:
    now = repo.clock.now()
    _outcome(repo, "evt_1", "customer.updated", "cus_1", "failed", "hubspot_503", now - 30)
    _outcome(
        repo, "evt_2", "customer.subscription.updated", "sub_2", "failed", "email_in_use", now - 20
    )
    _outcome(
        repo, f"{PROJECT}:invoice:in_3", "invoice.sync", "in_3", "failed", "hubspot_503", now - 10
    )
    _outcome(repo, "evt_4", "customer.updated", "cus_4", "synced", "", now)
    return repo


def test_failures_are_listed_newest_first_and_counted_by_code(failed: Repo) -> None:
    listed = replay.failures(failed.store, PROJECT)
    assert [(f.id, f.kind, f.stripe_id) for f in listed] == [
        (f"{PROJECT}:invoice:in_3", "invoice", "in_3"),
        ("evt_2", "subscription", "sub_2"),
        ("evt_1", "customer", "cus_1"),
    ]
    assert replay.by_code(failed.store, PROJECT) == {"hubspot_503": 2, "email_in_use": 1}
    assert [f.id for f in replay.failures(failed.store, PROJECT, "email_in_use")] == ["evt_2"]
    assert len(replay.failures(failed.store, PROJECT, limit=1)) == 1


def test_replay_one_marks_its_key_with_its_event_and_sets_it_replayed(failed: Repo) -> None:
    done = replay.replay_one(failed.deps(), PROJECT, "evt_2")
    assert (done.marked, done.replayed) == ((Key(PROJECT, "subscription", "sub_2"),), 1)
    [(_, key_doc)] = list(failed.store.scan(DIRTY_KEYS))
    assert (key_doc["events"], key_doc["event_type"]) == (
        ["evt_2"],
        "customer.subscription.updated",
    )
    assert (failed.store.get(outcomes.COLLECTION, "evt_2") or {})["status"] == "replayed"
    assert replay.by_code(failed.store, PROJECT) == {"hubspot_503": 2}
    with pytest.raises(NotFound):
        replay.replay_one(failed.deps(), PROJECT, "evt_2")  # not a failure any more
    today = health.day(failed.store, PROJECT, health.day_of(failed.clock.now()))
    assert today.counts["replayed"] == 1


def test_replay_code_and_all(failed: Repo) -> None:
    by_code = replay.replay_code(failed.deps(), PROJECT, "hubspot_503")
    assert set(by_code.marked) == {
        Key(PROJECT, "customer", "cus_1"),
        Key(PROJECT, "invoice", "in_3"),
    }
    rest = replay.replay_all(failed.deps(), PROJECT)
    assert rest.marked == (Key(PROJECT, "subscription", "sub_2"),)
    assert replay.failures(failed.store, PROJECT) == []
    assert replay.replay_all(failed.deps(), PROJECT).replayed == 0
    assert failed.dirty() == {
        Key(PROJECT, "customer", "cus_1"),
        Key(PROJECT, "invoice", "in_3"),
        Key(PROJECT, "subscription", "sub_2"),
    }


def test_dead_letters_replay_by_their_object_or_through_stripes_event(repo: Repo) -> None:
    [customer] = repo.customers(1)
    [created] = repo.stripe.events(repo.account)
    named = ThinMessage(
        PROJECT, repo.account, "evt_named", "customer.updated", "cus_named", "customer", 1, False
    )
    dead_letters.park(repo.store, named, "RemoteUnavailable", repo.clock.now())
    # an older dead letter (the in-process queue's) holds only the event id
    repo.store.put(
        "dead_letters",
        created["id"],
        {"project_id": PROJECT, "event_id": created["id"], "type": "customer.created", "at": 1.0},
    )
    repo.store.put(
        "dead_letters",
        "evt_gone",
        {"project_id": PROJECT, "event_id": "evt_gone", "type": "customer.created", "at": 2.0},
    )
    assert replay.by_code(repo.store, PROJECT) == {"dead_lettered": 3}
    done = replay.replay_all(repo.deps(), PROJECT)
    assert set(done.marked) == {
        Key(PROJECT, "customer", "cus_named"),
        Key(PROJECT, "customer", customer),
    }
    assert done.unresolved == {"event_gone": 1}
    assert [f.event_id for f in replay.failures(repo.store, PROJECT)] == ["evt_gone"]
    today = health.day(repo.store, PROJECT, health.day_of(repo.clock.now())).counts
    assert (today["dead_lettered"], today["replayed"]) == (1, 2)


def test_replay_wakes_the_drainer_once(failed: Repo) -> None:
    woken: list[str] = []
    deps = failed.deps()
    deps.wake = woken.append
    replay.replay_all(deps, PROJECT)
    assert woken == [PROJECT]
    with pytest.raises(NotFound):
        replay.replay_all(deps, "prj_nope")


def _many_failed(repo: Repo, n: int, code: str = "hubspot_503") -> None:
    now = repo.clock.now()
    for i in range(n):
        _outcome(
            repo, f"evt_m{i:03d}", "customer.updated", f"cus_m{i:03d}", "failed", code, now - i
        )


def test_replaying_a_code_goes_through_every_chunk_in_one_call(repo: Repo) -> None:
    _many_failed(repo, 25)
    _outcome(repo, "evt_other", "customer.updated", "cus_x", "failed", "email_in_use", 1.0)
    done = replay.replay_code(repo.deps(), PROJECT, "hubspot_503", chunk=10)
    assert (done.replayed, done.more, len(done.marked)) == (25, False, 25)
    assert [f.id for f in replay.failures(repo.store, PROJECT)] == ["evt_other"]


def test_a_replay_stops_at_its_cap_says_so_and_the_next_call_goes_on(repo: Repo) -> None:
    _many_failed(repo, 25)
    first = replay.replay_all(repo.deps(), PROJECT, cap=10, chunk=4)
    assert (first.replayed, first.more) == (10, True)
    assert len(replay.failures(repo.store, PROJECT)) == 15
    # the newest went first
    assert "evt_m000" not in {f.id for f in replay.failures(repo.store, PROJECT)}
    rest = replay.replay_all(repo.deps(), PROJECT, cap=100, chunk=4)
    assert (rest.replayed, rest.more) == (15, False)
    assert replay.failures(repo.store, PROJECT) == []


def test_failures_that_stay_do_not_stall_a_replay_of_older_ones(repo: Repo) -> None:
    """Dead letters whose events Stripe no longer has stay; newer than the failed outcomes and
    more of them than a chunk, they must not hide the outcomes behind them."""
    now = repo.clock.now()
    _many_failed(repo, 3)
    for i in range(5):
        repo.store.put(
            "dead_letters",
            f"evt_gone{i}",
            {
                "project_id": PROJECT,
                "event_id": f"evt_gone{i}",
                "type": "customer.created",
                "at": now + 10 + i,
            },
        )
    done = replay.replay_all(repo.deps(), PROJECT, chunk=2)
    assert (done.replayed, done.unresolved, done.more) == (3, {"event_gone": 5}, False)
    left = replay.latest(repo.store, PROJECT)
    assert sorted(f.id for f in left.failures) == [f"dl:evt_gone{i}" for i in range(5)]
    assert not left.more


def test_a_listing_reads_a_window_and_says_whether_more_exist(repo: Repo) -> None:
    _many_failed(repo, 7)
    window = replay.latest(repo.store, PROJECT, limit=5)
    assert [f.id for f in window.failures] == [f"evt_m{i:03d}" for i in range(5)]
    assert window.more
    assert not replay.latest(repo.store, PROJECT, limit=7).more
    assert replay.one_failure(repo.store, PROJECT, "evt_m003") is not None
    assert replay.one_failure(repo.store, "prj_someone_else", "evt_m003") is None
    assert replay.one_failure(repo.store, PROJECT, "dl:evt_m003") is None
