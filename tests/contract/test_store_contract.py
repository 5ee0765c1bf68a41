"""One contract for every Store adapter (SQLite in a temp dir, Firestore on the emulator), then
what is specific to each: file modes and broken files for SQLite, a dead backend for Firestore.
"""

import math
import os
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from shared.errors import StoreUnavailable
from shared.store.base import DELETE, MAX_MANY, Doc, Store
from shared.store.sqlite import SqliteStore
from tests.contract.backends import race

ROOT = Path(__file__).resolve().parents[2]


def assert_same(actual: Any, expected: Any) -> None:
    """Equal and of the same types all the way down (in Python, 1 == 1.0 == True)."""
    assert type(actual) is type(expected), (actual, expected)
    if isinstance(expected, dict):
        assert actual.keys() == expected.keys()
        for key in expected:
            assert_same(actual[key], expected[key])
    elif isinstance(expected, list):
        assert len(actual) == len(expected)
        for got, want in zip(actual, expected, strict=True):
            assert_same(got, want)
    else:
        assert actual == expected


# Every JSON type, nested. No list directly inside a list: Firestore arrays cannot hold arrays.
EVERY_TYPE: Doc = {
    "str": "héllo ✓",
    "empty": "",
    "zero": 0,
    "int": -42,
    "big": 2**62,
    "float": 0.5,
    "whole_float": 1.0,
    "tiny": -1e-300,
    "true": True,
    "false": False,
    "none": None,
    "map": {"a": 1, "b": {"c": [1, "two", 3.0, None, False, {"d": "e"}]}},
    "list": [{"x": 1}, {"x": 2.5}],
    "empty_map": {},
    "empty_list": [],
}


class TestBasics:
    def test_get_missing_is_none(self, store: Store) -> None:
        assert store.get("projects", "nope") is None

    def test_put_then_get(self, store: Store) -> None:
        store.put("projects", "p1", {"name": "a", "n": 1})
        assert store.get("projects", "p1") == {"name": "a", "n": 1}

    def test_put_replaces_the_whole_document(self, store: Store) -> None:
        store.put("projects", "p1", {"name": "a", "n": 1})
        store.put("projects", "p1", {"name": "b"})
        assert store.get("projects", "p1") == {"name": "b"}

    def test_collections_are_separate(self, store: Store) -> None:
        store.put("projects", "same", {"from": "projects"})
        store.put("tokens", "same", {"from": "tokens"})
        assert store.get("projects", "same") == {"from": "projects"}
        assert store.get("tokens", "same") == {"from": "tokens"}

    def test_delete(self, store: Store) -> None:
        store.put("projects", "p1", {"n": 1})
        store.delete("projects", "p1")
        assert store.get("projects", "p1") is None

    def test_delete_missing_is_no_error(self, store: Store) -> None:
        store.delete("projects", "never-was")

    def test_twins_share_data(self, stores: Callable[[], Store]) -> None:
        first, second = stores(), stores()
        first.put("projects", "p1", {"n": 1})
        assert second.get("projects", "p1") == {"n": 1}

    # Stripe's event ids are opaque (any printable string): keys Firestore would refuse as
    # document ids round-trip like any other.
    ODD_KEYS = ("evt_a/b", ".", "..", "__name__", "50%", "%2F", "x" * 255, "evt 1~!")

    @pytest.mark.parametrize("key", ODD_KEYS)
    def test_any_printable_key_round_trips(self, store: Store, key: str) -> None:
        assert store.create("event_marks", key, {"k": key}) is True
        assert store.create("event_marks", key, {"k": "again"}) is False
        assert store.get("event_marks", key) == {"k": key}
        assert store.update("event_marks", key, lambda d: {**(d or {}), "n": 1}) == {
            "k": key,
            "n": 1,
        }
        assert [k for k, _ in store.scan("event_marks")] == [key]
        assert store.find("event_marks", "k", key) == [(key, {"k": key, "n": 1})]
        store.delete("event_marks", key)
        assert store.get("event_marks", key) is None


class TestCreate:
    def test_create_new(self, store: Store) -> None:
        assert store.create("event_marks", "evt_1", {"at": 1}) is True
        assert store.get("event_marks", "evt_1") == {"at": 1}

    def test_create_existing_is_false_and_leaves_the_original(self, store: Store) -> None:
        store.create("event_marks", "evt_1", {"at": 1})
        assert store.create("event_marks", "evt_1", {"at": 2, "other": True}) is False
        assert store.get("event_marks", "evt_1") == {"at": 1}

    def test_create_after_delete(self, store: Store) -> None:
        store.create("event_marks", "evt_1", {"at": 1})
        store.delete("event_marks", "evt_1")
        assert store.create("event_marks", "evt_1", {"at": 2}) is True

    def test_twenty_racing_creates_one_wins(self, stores: Callable[[], Store]) -> None:
        pool = [stores(), stores()]
        won = race(20, lambda i: pool[i % 2].create("event_marks", "evt_race", {"by": i}))
        assert won.count(True) == 1
        assert pool[0].get("event_marks", "evt_race") == {"by": won.index(True)}


def increment(doc: Doc | None) -> Doc:
    return {"n": (doc or {"n": 0})["n"] + 1}


class TestUpdate:
    def test_ten_threads_increment_exactly_ten_times(self, store: Store) -> None:
        store.put("projects", "counter", {"n": 0})
        results = race(10, lambda i: store.update("projects", "counter", increment))
        assert store.get("projects", "counter") == {"n": 10}
        assert sorted(r["n"] for r in results) == list(range(1, 11))

    def test_two_instances_racing_lose_no_increment(self, stores: Callable[[], Store]) -> None:
        # Separate connections or clients, so the backend's own transactions must arbitrate.
        # Kept small: on the Firestore emulator every conflict costs a lock timeout (~2 s).
        pool = [stores(), stores()]
        pool[0].put("projects", "counter", {"n": 0})
        race(4, lambda i: pool[i % 2].update("projects", "counter", increment))
        assert pool[1].get("projects", "counter") == {"n": 4}

    def test_returns_what_is_stored(self, store: Store) -> None:
        store.put("projects", "p1", {"n": 1, "keep": "x"})
        after = store.update("projects", "p1", lambda d: {**(d or {}), "n": 2})
        assert after == {"n": 2, "keep": "x"}
        assert store.get("projects", "p1") == after

    def test_none_leaves_the_document_unchanged(self, store: Store) -> None:
        store.put("projects", "p1", {"n": 1})
        assert store.update("projects", "p1", lambda d: None) == {"n": 1}
        assert store.get("projects", "p1") == {"n": 1}

    def test_missing_document_is_passed_as_none(self, store: Store) -> None:
        seen: list[Doc | None] = []

        def create(doc: Doc | None) -> Doc:
            seen.append(doc)
            return {"n": 1}

        assert store.update("projects", "new", create) == {"n": 1}
        assert seen[-1] is None
        assert store.get("projects", "new") == {"n": 1}

    def test_missing_document_stays_missing_on_none(self, store: Store) -> None:
        assert store.update("projects", "absent", lambda d: None) is None
        assert store.get("projects", "absent") is None

    def test_an_error_in_fn_propagates_and_writes_nothing(self, store: Store) -> None:
        store.put("projects", "p1", {"n": 1})

        def fail(doc: Doc | None) -> Doc:
            raise ValueError("refused by the caller")

        with pytest.raises(ValueError, match="refused by the caller"):
            store.update("projects", "p1", fail)
        assert store.get("projects", "p1") == {"n": 1}
        assert store.update("projects", "p1", increment) == {"n": 2}


class TestUpdateMany:
    def test_creates_updates_deletes_and_leaves_in_one_call(self, store: Store) -> None:
        store.put("dirty_keys", "keep", {"n": 1})
        store.put("dirty_keys", "bump", {"n": 1})
        store.put("dirty_keys", "drop", {"n": 1})

        def change(doc_id: str, doc: Doc | None) -> Any:
            return {
                "new": {"n": 0},
                "bump": {"n": (doc or {"n": 0})["n"] + 1},
                "drop": DELETE,
                "keep": None,
                "absent": None,
            }[doc_id]

        after = store.update_many("dirty_keys", ["new", "bump", "drop", "keep", "absent"], change)
        assert after == {
            "new": {"n": 0},
            "bump": {"n": 2},
            "drop": None,
            "keep": {"n": 1},
            "absent": None,
        }
        assert sorted(store.scan("dirty_keys")) == [
            ("bump", {"n": 2}),
            ("keep", {"n": 1}),
            ("new", {"n": 0}),
        ]

    def test_fn_sees_each_document_and_its_id(self, store: Store) -> None:
        store.put("dirty_keys", "a", {"v": "A"})
        seen: dict[str, Doc | None] = {}

        def record(doc_id: str, doc: Doc | None) -> None:
            seen[doc_id] = doc

        store.update_many("dirty_keys", ["a", "b", "a"], record)
        assert seen == {"a": {"v": "A"}, "b": None}

    def test_an_error_in_fn_writes_nothing(self, store: Store) -> None:
        store.put("dirty_keys", "a", {"n": 1})

        def fail_on_b(doc_id: str, doc: Doc | None) -> Any:
            if doc_id == "b":
                raise ValueError("refused by the caller")
            return DELETE

        with pytest.raises(ValueError, match="refused by the caller"):
            store.update_many("dirty_keys", ["a", "b"], fail_on_b)
        assert store.get("dirty_keys", "a") == {"n": 1}

    def test_round_trip_of_every_type(self, store: Store) -> None:
        after = store.update_many("projects", ["p1"], lambda i, d: EVERY_TYPE)
        assert_same(after["p1"], EVERY_TYPE)
        assert_same(store.get("projects", "p1"), EVERY_TYPE)

    def test_refuses_more_than_max_many(self, store: Store) -> None:
        with pytest.raises(ValueError):
            too_many = [str(i) for i in range(MAX_MANY + 1)]
            store.update_many("dirty_keys", too_many, lambda i, d: None)

    def test_racing_instances_lose_no_increment(self, stores: Callable[[], Store]) -> None:
        # update_many and update on the same documents from two instances: every change lands.
        pool = [stores(), stores()]
        pool[0].put("dirty_keys", "a", {"n": 0})
        pool[0].put("dirty_keys", "b", {"n": 0})

        def bump_both(i: int) -> Any:
            if i % 2:
                return pool[i % 2].update("dirty_keys", "a", increment)
            return pool[i % 2].update_many(
                "dirty_keys", ["a", "b"], lambda doc_id, doc: increment(doc)
            )

        race(4, bump_both)
        assert pool[1].get("dirty_keys", "a") == {"n": 4}
        assert pool[1].get("dirty_keys", "b") == {"n": 2}


class TestQuery:
    @pytest.fixture(autouse=True)
    def docs(self, store: Store) -> None:
        store.put("dirty_keys", "a1", {"project_id": "A", "due_at": 30.0})
        store.put("dirty_keys", "a2", {"project_id": "A", "due_at": 10})
        store.put("dirty_keys", "a3", {"project_id": "A", "due_at": 10})
        store.put("dirty_keys", "a4", {"project_id": "A", "due_at": 50})
        store.put("dirty_keys", "a5", {"project_id": "A", "due_at": "10"})
        store.put("dirty_keys", "a6", {"project_id": "A"})
        store.put("dirty_keys", "b1", {"project_id": "B", "due_at": 5})
        store.put("outcomes", "a7", {"project_id": "A", "due_at": 1})

    def test_equal_fields_and_at_most_upto_in_order(self, store: Store) -> None:
        found = store.query("dirty_keys", {"project_id": "A"}, "due_at", 30, 10)
        assert [i for i, _ in found] == ["a2", "a3", "a1"]
        assert found[0][1] == {"project_id": "A", "due_at": 10}

    def test_limit(self, store: Store) -> None:
        assert [i for i, _ in store.query("dirty_keys", {"project_id": "A"}, "due_at", 99, 2)] == [
            "a2",
            "a3",
        ]

    def test_without_equalities_spans_every_document(self, store: Store) -> None:
        found = store.query("dirty_keys", {}, "due_at", 10, 10)
        assert [i for i, _ in found] == ["b1", "a2", "a3"]

    def test_nothing_due(self, store: Store) -> None:
        assert store.query("dirty_keys", {"project_id": "A"}, "due_at", 9.5, 10) == []
        assert store.query("dirty_keys", {"project_id": "C"}, "due_at", 99, 10) == []

    def test_descending_is_newest_first_by_field_then_id(self, store: Store) -> None:
        found = store.query("dirty_keys", {"project_id": "A"}, "due_at", 30, 10, descending=True)
        assert [i for i, _ in found] == ["a1", "a3", "a2"]
        assert found[0][1] == {"project_id": "A", "due_at": 30.0}

    def test_descending_limit_takes_the_newest(self, store: Store) -> None:
        found = store.query("dirty_keys", {"project_id": "A"}, "due_at", 99, 2, descending=True)
        assert [i for i, _ in found] == ["a4", "a1"]

    def test_infinity_bounds_nothing_and_skips_non_numbers(self, store: Store) -> None:
        found = store.query("dirty_keys", {"project_id": "A"}, "due_at", math.inf, 10, True)
        assert [i for i, _ in found] == ["a4", "a1", "a3", "a2"]

    def test_descending_with_two_equalities(self, store: Store) -> None:
        for n in range(5):
            status = "failed" if n % 2 else "synced"
            store.put("outcomes", f"o{n}", {"project_id": "P", "status": status, "at": n})
        store.put("outcomes", "q1", {"project_id": "Q", "status": "failed", "at": 9})
        equals = {"project_id": "P", "status": "failed"}
        found = store.query("outcomes", equals, "at", math.inf, 10, descending=True)
        assert [i for i, _ in found] == ["o3", "o1"]
        assert [i for i, _ in store.query("outcomes", equals, "at", 2, 10, True)] == ["o1"]


class TestFind:
    @pytest.fixture(autouse=True)
    def docs(self, store: Store) -> None:
        store.put("routes", "a", {"kind": "x", "live": True, "n": 1})
        store.put("routes", "b", {"kind": "y", "live": False, "n": 0})
        store.put("routes", "c", {"kind": "x", "live": 1, "n": True})
        store.put("projects", "d", {"kind": "x", "live": True, "n": 1})

    def test_str(self, store: Store) -> None:
        assert sorted(i for i, _ in store.find("routes", "kind", "x")) == ["a", "c"]

    def test_bool_is_not_an_int(self, store: Store) -> None:
        assert [i for i, _ in store.find("routes", "live", True)] == ["a"]
        assert [i for i, _ in store.find("routes", "live", False)] == ["b"]

    def test_int_is_not_a_bool(self, store: Store) -> None:
        assert [i for i, _ in store.find("routes", "n", 1)] == ["a"]
        assert [i for i, _ in store.find("routes", "n", 0)] == ["b"]

    def test_returns_whole_documents(self, store: Store) -> None:
        assert store.find("routes", "kind", "y") == [("b", {"kind": "y", "live": False, "n": 0})]

    def test_no_match(self, store: Store) -> None:
        assert store.find("routes", "kind", "z") == []
        assert store.find("routes", "missing_field", "x") == []
        assert store.find("accounts", "kind", "x") == []


class TestScan:
    def test_every_document_of_the_collection(self, store: Store) -> None:
        for i in range(5):
            store.put("outcomes", f"evt_{i}", {"i": i})
        store.put("dead_letters", "evt_0", {"other": True})
        assert sorted(store.scan("outcomes")) == [(f"evt_{i}", {"i": i}) for i in range(5)]

    def test_empty(self, store: Store) -> None:
        assert list(store.scan("outcomes")) == []


class TestIncrement:
    def test_creates_then_adds_and_sets_the_fields(self, store: Store) -> None:
        store.increment("health", "h1", {"a": 2, "b": 0}, {"day": "d1", "expire_at": 1000.0})
        assert_same(store.get("health", "h1"), {"a": 2, "b": 0, "day": "d1", "expire_at": 1000.0})
        store.increment("health", "h1", {"a": 3, "c": -1}, {"day": "d2"})
        assert_same(
            store.get("health", "h1"),
            {"a": 5, "b": 0, "c": -1, "day": "d2", "expire_at": 1000.0},
        )

    def test_leaves_other_fields_alone(self, store: Store) -> None:
        store.put("health", "h1", {"a": 1, "kept": {"x": [1, "y"]}})
        store.increment("health", "h1", {"a": 1}, {})
        assert_same(store.get("health", "h1"), {"a": 2, "kept": {"x": [1, "y"]}})

    def test_concurrent_increments_are_all_counted(self, stores: Callable[[], Store]) -> None:
        instances = [stores() for _ in range(3)]

        def work(i: int) -> None:
            for _ in range(20):
                instances[i % 3].increment("health", "hot", {"n": 1, "m": 2}, {"day": "d"})

        race(12, work)
        assert_same(instances[0].get("health", "hot"), {"n": 240, "m": 480, "day": "d"})


class TestRoundTrip:
    def test_put_get(self, store: Store) -> None:
        store.put("projects", "p1", EVERY_TYPE)
        assert_same(store.get("projects", "p1"), EVERY_TYPE)

    def test_create_get(self, store: Store) -> None:
        store.create("projects", "p1", EVERY_TYPE)
        assert_same(store.get("projects", "p1"), EVERY_TYPE)

    def test_update(self, store: Store) -> None:
        assert_same(store.update("projects", "p1", lambda d: EVERY_TYPE), EVERY_TYPE)
        assert_same(store.update("projects", "p1", lambda d: None), EVERY_TYPE)
        assert_same(store.get("projects", "p1"), EVERY_TYPE)

    def test_find_and_scan(self, store: Store) -> None:
        store.put("projects", "p1", EVERY_TYPE)
        [(_, found)] = store.find("projects", "str", "héllo ✓")
        assert_same(found, EVERY_TYPE)
        [(_, scanned)] = list(store.scan("projects"))
        assert_same(scanned, EVERY_TYPE)


# --- SQLite only ---------------------------------------------------------------------------


def test_sqlite_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "new" / "dir" / "omniroo.db"
    store = SqliteStore(path)
    store.put("tokens", "p1", {"sealed": "x"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for directory in (path.parent, path.parent.parent):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    for companion in path.parent.glob("omniroo.db-*"):
        assert stat.S_IMODE(companion.stat().st_mode) == 0o600, companion
    store.close()


def test_sqlite_shared_across_processes(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "omniroo.db"
    store = SqliteStore(path)
    store.put("projects", "p1", {"n": 0})
    script = (
        "import sys; from shared.store.sqlite import SqliteStore\n"
        "s = SqliteStore(sys.argv[1])\n"
        "for _ in range(20): s.update('projects', 'p1', lambda d: {'n': d['n'] + 1})\n"
    )
    children = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(path)], env={**os.environ, "PYTHONPATH": str(ROOT)}
        )
        for _ in range(3)
    ]
    for _ in range(20):
        store.update("projects", "p1", lambda d: {"n": (d or {})["n"] + 1})
    assert [child.wait(60) for child in children] == [0, 0, 0]
    assert store.get("projects", "p1") == {"n": 80}
    store.close()


def _every_operation(store: Store) -> dict[str, Callable[[], Any]]:
    return {
        "get": lambda: store.get("projects", "p1"),
        "create": lambda: store.create("projects", "p1", {}),
        "put": lambda: store.put("projects", "p1", {}),
        "delete": lambda: store.delete("projects", "p1"),
        "update": lambda: store.update("projects", "p1", increment),
        "find": lambda: store.find("projects", "n", 1),
        "scan": lambda: list(store.scan("projects")),
        "update_many": lambda: store.update_many("projects", ["p1"], lambda i, d: None),
        "query": lambda: store.query("projects", {"a": "b"}, "n", 1, 1),
    }


def test_sqlite_parent_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "blocker").write_text("not a directory")
    store = SqliteStore(tmp_path / "blocker" / "omniroo.db")
    for operation in _every_operation(store).values():
        with pytest.raises(StoreUnavailable):
            operation()


def test_sqlite_garbage_file(tmp_path: Path) -> None:
    path = tmp_path / "omniroo.db"
    path.write_bytes(os.urandom(8192))
    store = SqliteStore(path)
    for operation in _every_operation(store).values():
        with pytest.raises(StoreUnavailable):
            operation()


def test_sqlite_recovers_once_the_path_is_usable(tmp_path: Path) -> None:
    (tmp_path / "later").write_text("in the way")
    store = SqliteStore(tmp_path / "later" / "omniroo.db")
    with pytest.raises(StoreUnavailable):
        store.get("projects", "p1")
    (tmp_path / "later").unlink()
    store.put("projects", "p1", {"n": 1})
    assert store.get("projects", "p1") == {"n": 1}
    store.close()


def test_sqlite_increment_rejects_odd_field_names(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "omniroo.db")
    with pytest.raises(ValueError, match="unsupported field name"):
        store.increment("health", "h1", {"a') --": 1}, {})
    with pytest.raises(ValueError, match="unsupported field name"):
        store.increment("health", "h1", {}, {"$.x": 1})
    store.close()


def test_sqlite_find_rejects_odd_field_names(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "omniroo.db")
    with pytest.raises(ValueError):
        store.find("projects", "a.b') OR 1=1 --", "x")
    store.close()


# --- Firestore only ------------------------------------------------------------------------


def _timed_failure(operation: Callable[[], Any]) -> float:
    started = time.monotonic()
    with pytest.raises(StoreUnavailable):
        operation()
    return time.monotonic() - started


@pytest.mark.emulator
def test_firestore_stopped_backend_fails_fast(killable_firestore: Any) -> None:
    store = killable_firestore.store
    store.put("projects", "p1", {"n": 1})
    killable_firestore.stop()
    bound = killable_firestore.deadline + 3.0
    for name in ("create", "get", "update", "update_many", "query"):
        elapsed = _timed_failure(_every_operation(store)[name])
        assert elapsed < bound, f"{name} took {elapsed:.1f} s"


@pytest.mark.emulator
def test_firestore_stopped_in_the_middle_of_an_update(killable_firestore: Any) -> None:
    store = killable_firestore.store
    store.put("projects", "p1", {"n": 1})
    stopped_at: list[float] = []

    def stop_then_write(doc: Doc | None) -> Doc:
        killable_firestore.stop()
        stopped_at.append(time.monotonic())
        return increment(doc)

    with pytest.raises(StoreUnavailable):
        store.update("projects", "p1", stop_then_write)
    elapsed = time.monotonic() - stopped_at[0]
    assert elapsed < killable_firestore.deadline + 3.0, f"update took {elapsed:.1f} s"


@pytest.mark.emulator
def test_firestore_collection_names(firestore_store: Any) -> None:
    assert firestore_store.collection_names() == []
    firestore_store.put("projects", "p1", {"n": 1})
    firestore_store.put("tokens", "p1", {"sealed": "x"})
    assert firestore_store.collection_names() == ["projects", "tokens"]
