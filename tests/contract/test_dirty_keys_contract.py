"""Dirty keys on every Store backend (SQLite, Firestore on the emulator): mark, take, clear only
what is unchanged, fail with backoff, give up and replay, and the ids-only promise."""

from collections.abc import Callable

import pytest

from shared.clock import FakeClock
from shared.drain import dirty
from shared.drain.dirty import DirtyKeys, Key, Mark
from shared.store.base import FIELDS, Store
from tests.contract.backends import race

A, B = "prj_A", "prj_B"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def keys(store: Store, clock: FakeClock) -> DirtyKeys:
    return DirtyKeys(store, clock)


def cus(n: int, project: str = A) -> Key:
    return Key(project, "customer", f"cus_{n}")


def ids(taken: list[dirty.Taken]) -> list[str]:
    return [t.key.object_id for t in taken]


class TestMark:
    def test_a_new_key_is_due_at_once_and_reported_new(self, keys: DirtyKeys) -> None:
        assert keys.mark(cus(1), "evt_1", "customer.created") is True
        [taken] = keys.take([A], 10)
        assert taken.key == cus(1)
        assert (taken.events, taken.event_type, taken.event_count) == (
            ("evt_1",),
            "customer.created",
            1,
        )
        assert taken.attempts == 0 and taken.gen

    def test_marking_again_keeps_one_key_and_collects_the_events(self, keys: DirtyKeys) -> None:
        assert keys.mark(cus(1), "evt_1", "customer.created") is True
        first = keys.take([A], 10)[0]
        assert keys.mark(cus(1), "evt_2", "customer.updated") is False
        assert keys.mark(cus(1), "evt_2", "customer.updated") is False  # Stripe's retry
        [again] = keys.take([A], 10)
        assert again.events == ("evt_1", "evt_2") and again.event_count == 2
        assert again.event_type == "customer.updated"
        assert again.gen != first.gen

    def test_events_riding_along_are_bounded(self, keys: DirtyKeys) -> None:
        for n in range(dirty.MAX_EVENTS + 5):
            keys.mark(cus(1), f"evt_{n}")
        [taken] = keys.take([A], 10)
        assert len(taken.events) == dirty.MAX_EVENTS
        assert taken.events[-1] == f"evt_{dirty.MAX_EVENTS + 4}"
        assert taken.event_count == dirty.MAX_EVENTS + 5

    def test_a_mark_without_an_event(self, keys: DirtyKeys) -> None:
        keys.mark(cus(1))
        [taken] = keys.take([A], 10)
        assert (taken.events, taken.event_count, taken.event_type) == ((), 0, "")

    def test_the_fields_events_said_changed_add_up_and_unknown_wins(self, keys: DirtyKeys) -> None:
        sub = Key(A, "subscription", "sub_1")
        keys.mark(sub, "evt_1", "customer.subscription.updated", ("status",))
        keys.mark(sub, "evt_2", "customer.subscription.updated", ("metadata", "status"))
        [taken] = keys.take([A], 10)
        assert taken.changed == frozenset({"status", "metadata"})
        keys.mark(sub, "evt_3", "customer.subscription.created")  # says nothing: anything
        [taken] = keys.take([A], 10)
        assert taken.changed is None
        keys.mark(sub, "evt_4", "customer.subscription.updated", ("status",))
        assert keys.take([A], 10)[0].changed is None

    def test_which_reads_may_serve_a_key(self, keys: DirtyKeys, clock: FakeClock) -> None:
        """A change needs a read begun after it (a clock skew later); a backfill's mark any read
        since the backfill began; marks together need what the newest of them needs."""
        began = clock.now()
        clock.advance(60)
        keys.mark_many([Mark(cus(1), since=began), Mark(cus(2), since=began)])
        keys.mark(cus(2), "evt_1", "customer.updated")
        taken = {t.key: t.read_after for t in keys.take([A], 10)}
        assert taken == {cus(1): began, cus(2): clock.now() + dirty.CLOCK_SKEW}
        assert [t.history for t in keys.take([A], 10)] == [True, False]  # cus(2) had a change
        keys.mark_many([Mark(cus(2), since=began)])  # an older need does not loosen a newer one
        assert keys.take([A], 10)[1].read_after == taken[cus(2)]

    def test_a_key_stored_before_keys_said_which_reads_serve_it(
        self, keys: DirtyKeys, store: Store, clock: FakeClock
    ) -> None:
        keys.mark(cus(1), "evt_1")
        [(doc_id, doc)] = store.query(dirty.COLLECTION, {"project_id": A}, "due_at", clock.now(), 9)
        store.put(dirty.COLLECTION, doc_id, {k: v for k, v in doc.items() if k != "read_after"})
        assert keys.take([A], 10)[0].read_after == float("inf")  # nothing may serve it from old
        keys.mark_many([Mark(cus(1), since=clock.now() - 60)])  # nor after a backfill's mark
        assert keys.take([A], 10)[0].read_after == clock.now() + dirty.CLOCK_SKEW

    def test_mark_many_reports_each_new_key_once(self, keys: DirtyKeys) -> None:
        keys.mark(cus(2))
        marks = [Mark(cus(1), "evt_a"), Mark(cus(1), "evt_b"), Mark(cus(2), "evt_c")]
        assert keys.mark_many(marks) == [True, False, False]
        assert sorted(ids(keys.take([A], 10))) == ["cus_1", "cus_2"]

    def test_mark_many_beyond_one_transaction(self, keys: DirtyKeys) -> None:
        marks = [Mark(cus(n)) for n in range(dirty.MAX_MANY + 10)]
        assert keys.mark_many(marks) == [True] * len(marks)
        assert len(keys.take([A], 1000)) == len(marks)

    @pytest.mark.parametrize("object_id", ["cus_a/b", "in_ü%2F", "x" * 255, "sub_1.2:3"])
    def test_opaque_ids_are_kept_as_they_are(self, keys: DirtyKeys, object_id: str) -> None:
        keys.mark(Key(A, "subscription", object_id))
        [taken] = keys.take([A], 10)
        assert taken.key == Key(A, "subscription", object_id)
        assert keys.clear([taken]) == [taken]
        assert keys.take([A], 10) == []

    def test_stores_ids_only_within_the_allowlist(self, keys: DirtyKeys, store: Store) -> None:
        keys.mark(cus(1), "evt_1", "customer.updated")
        [(_, doc)] = list(store.scan(dirty.COLLECTION))
        assert set(doc) <= FIELDS[dirty.COLLECTION]
        assert doc["object_id"] == "cus_1" and doc["project_id"] == A
        assert doc["expire_at"] > doc["marked_at"] + 7 * 24 * 3600

    def test_instances_racing_on_one_key_make_one_key(self, stores: Callable[[], Store]) -> None:
        clock = FakeClock()
        pool = [DirtyKeys(stores(), clock), DirtyKeys(stores(), clock)]
        # Kept small: on the Firestore emulator every conflict costs a lock timeout (~2 s).
        fresh = race(4, lambda i: pool[i % 2].mark(cus(1), f"evt_{i}"))
        assert fresh.count(True) == 1
        [taken] = pool[0].take([A], 10)
        assert taken.event_count == 4


class TestTake:
    def test_only_the_projects_asked_for_oldest_first(
        self, keys: DirtyKeys, clock: FakeClock
    ) -> None:
        keys.mark(cus(1))
        clock.advance(1)
        keys.mark(cus(2, B))
        clock.advance(1)
        keys.mark(cus(3))
        assert ids(keys.take([A], 10)) == ["cus_1", "cus_3"]
        assert ids(keys.take([A, B], 10)) == ["cus_1", "cus_2", "cus_3"]
        assert ids(keys.take([B], 10)) == ["cus_2"]

    def test_limit(self, keys: DirtyKeys, clock: FakeClock) -> None:
        for n in range(5):
            keys.mark(cus(n))
            clock.advance(1)
        assert ids(keys.take([A], 2)) == ["cus_0", "cus_1"]

    def test_keys_being_written_are_passed_over_and_the_limit_still_filled(
        self, keys: DirtyKeys, clock: FakeClock
    ) -> None:
        for n in range(5):
            keys.mark(cus(n, "prj/odd"))  # an opaque project id: compared by document id
            clock.advance(1)
        writing = keys.take(["prj/odd"], 2)
        besides = {t.key.doc_id for t in writing}
        assert ids(keys.take(["prj/odd"], 2, besides=besides)) == ["cus_2", "cus_3"]
        keys.mark(cus(0, "prj/odd"))  # marked again during its write: still passed over
        assert ids(keys.take(["prj/odd"], 10, besides=besides)) == ["cus_2", "cus_3", "cus_4"]

    def test_take_writes_nothing(self, keys: DirtyKeys) -> None:
        keys.mark(cus(1))
        assert keys.take([A], 10) == keys.take([A], 10)

    def test_one_projects_backlog_hides_no_other_project(
        self, keys: DirtyKeys, store: Store, clock: FakeClock
    ) -> None:
        for project in (A, B):
            store.put("projects", project, {"name": project})
        keys.mark_many([Mark(cus(n)) for n in range(6)])
        clock.advance(1)
        keys.mark(cus(1, B))
        assert keys.due_projects(limit=3) == [A, B]

    def test_due_projects(self, keys: DirtyKeys, clock: FakeClock) -> None:
        keys.mark(cus(1, B))
        keys.mark(cus(2, A))
        keys.defer(keys.take([B], 10), 60)
        assert keys.due_projects() == [A]
        clock.advance(61)
        assert sorted(keys.due_projects()) == [A, B]


class TestClear:
    def test_clear_deletes_what_was_written(self, keys: DirtyKeys) -> None:
        keys.mark(cus(1))
        keys.mark(cus(2))
        taken = keys.take([A], 10)
        assert keys.clear(taken) == taken
        assert keys.take([A], 10) == []

    def test_a_key_marked_during_its_write_stays_dirty(self, keys: DirtyKeys) -> None:
        keys.mark(cus(1), "evt_1")
        taken = keys.take([A], 10)
        keys.mark(cus(1), "evt_2")  # while the drainer writes what it read
        assert keys.clear(taken) == []
        [again] = keys.take([A], 10)
        assert again.events == ("evt_1", "evt_2")
        assert keys.clear([again]) == [again]
        assert keys.take([A], 10) == []

    def test_clearing_a_key_already_gone_is_harmless(self, keys: DirtyKeys) -> None:
        keys.mark(cus(1))
        taken = keys.take([A], 10)
        keys.clear(taken)
        assert keys.clear(taken) == []

    def test_marked_again_after_clearing_is_a_new_key(self, keys: DirtyKeys) -> None:
        keys.mark(cus(1))
        keys.clear(keys.take([A], 10))
        assert keys.mark(cus(1), "evt_9") is True


class TestFail:
    def test_a_failed_key_waits_its_backoff(self, keys: DirtyKeys, clock: FakeClock) -> None:
        keys.mark(cus(1))
        assert keys.fail(keys.take([A], 10), "hubspot_503") == []
        assert keys.take([A], 10) == []
        clock.advance(dirty.BACKOFF_BASE)
        [taken] = keys.take([A], 10)
        assert taken.attempts == 1 and taken.partial  # written in full next time

    def test_backoff_grows_to_its_cap(self) -> None:
        assert dirty.backoff(1, 0.0) == dirty.BACKOFF_BASE / 2
        assert dirty.backoff(1, 0.999) < dirty.BACKOFF_BASE
        assert dirty.backoff(4, 0.0) == dirty.BACKOFF_BASE * 4
        assert dirty.backoff(40, 0.999) <= dirty.BACKOFF_CAP

    def test_a_mark_does_not_cut_a_backoff_short(self, keys: DirtyKeys, clock: FakeClock) -> None:
        keys.mark(cus(1))
        keys.fail(keys.take([A], 10), "hubspot_503")
        assert keys.mark(cus(1), "evt_2") is False
        assert keys.take([A], 10) == []

    def test_gives_up_after_max_attempts(self, keys: DirtyKeys, clock: FakeClock) -> None:
        keys.mark(cus(1), "evt_1")
        for _ in range(dirty.MAX_ATTEMPTS - 1):
            assert keys.fail(keys.take([A], 10), "hubspot_503") == []
            clock.advance(dirty.BACKOFF_CAP)
        last = keys.take([A], 10)
        assert keys.fail(last, "hubspot_503") == last
        assert keys.take([A], 10) == []
        clock.advance(dirty.BACKOFF_CAP)
        assert keys.take([A], 10) == []
        assert keys.mark(cus(1), "evt_2") is True  # a replay starts afresh
        assert keys.take([A], 10)[0].attempts == 0

    def test_never_gives_up_a_key_marked_meanwhile(self, keys: DirtyKeys, clock: FakeClock) -> None:
        keys.mark(cus(1))
        for _ in range(dirty.MAX_ATTEMPTS - 1):
            keys.fail(keys.take([A], 10), "hubspot_503")
            clock.advance(dirty.BACKOFF_CAP)
        last = keys.take([A], 10)
        keys.mark(cus(1), "evt_new")
        assert keys.fail(last, "hubspot_503") == []
        clock.advance(dirty.BACKOFF_CAP)
        assert ids(keys.take([A], 10)) == ["cus_1"]

    def test_defer_waits_without_counting(self, keys: DirtyKeys, clock: FakeClock) -> None:
        keys.mark(cus(1))
        keys.defer(keys.take([A], 10), 3600)
        clock.advance(3599)
        assert keys.take([A], 10) == []
        clock.advance(1)
        [taken] = keys.take([A], 10)
        assert taken.attempts == 0 and taken.partial
