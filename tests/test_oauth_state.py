"""OAuth state, next parameters and redirect URIs: RELIABILITY rows 32 (missing, forged, reused
state), 33 (a victim's callback replayed in another session) and 34 (open redirects, redirect URI
variants). Single use is raced on SQLite and on the Firestore emulator."""

import hashlib
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from shared.accounts import oauth_state
from shared.accounts.oauth_state import (
    TTL_SECONDS,
    StateError,
    consume,
    issue,
    safe_next,
)
from shared.clock import FakeClock
from shared.errors import NotFound
from shared.store.base import FIELDS, Store
from shared.store.sqlite import SqliteStore

MY_SESSION = hashlib.sha256(b"my session token").hexdigest()
THEIR_SESSION = hashlib.sha256(b"their session token").hexdigest()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    store = SqliteStore(tmp_path / "omniroo.db")
    seed(store)
    yield store
    store.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def seed(store: Store) -> None:
    store.put("projects", "prj_mine", {"account_id": "acc_me"})
    store.put("projects", "prj_theirs", {"account_id": "acc_them"})


def reason(call: Callable[[], Any]) -> str:
    with pytest.raises(StateError) as refused:
        call()
    assert str(refused.value) == (
        "This connection request is not valid any more. Start again from the project."
    )
    assert refused.value.status == 400
    return refused.value.reason


class TestState:
    def test_round_trip(self, store: SqliteStore, clock: FakeClock) -> None:
        state = issue(store, clock, MY_SESSION, "acc_me", "prj_mine", "stripe")
        assert consume(store, clock, state, MY_SESSION, "stripe") == ("acc_me", "prj_mine")

    def test_stored_hashed_with_what_it_is_bound_to(
        self, store: SqliteStore, clock: FakeClock
    ) -> None:
        state = issue(store, clock, MY_SESSION, "acc_me", "prj_mine", "hubspot")
        docs = dict(store.scan("oauth_states"))
        doc = docs[hashlib.sha256(state.encode()).hexdigest()]
        assert len(state) == 43 and state not in json.dumps(docs)
        assert set(doc) <= FIELDS["oauth_states"]
        assert doc["session"] == MY_SESSION and doc["provider"] == "hubspot"
        assert doc["expire_at"] == clock.now() + TTL_SECONDS == clock.now() + 600

    @pytest.mark.parametrize("state", [None, "", "x" * 500])
    def test_missing(self, store: SqliteStore, clock: FakeClock, state: str | None) -> None:
        assert reason(lambda: consume(store, clock, state, MY_SESSION, "stripe")) == "missing"

    def test_forged(self, store: SqliteStore, clock: FakeClock) -> None:
        issue(store, clock, MY_SESSION, "acc_me", "prj_mine", "stripe")
        forged = "A" * 43
        assert reason(lambda: consume(store, clock, forged, MY_SESSION, "stripe")) == "unknown"

    def test_reused(self, store: SqliteStore, clock: FakeClock) -> None:
        state = issue(store, clock, MY_SESSION, "acc_me", "prj_mine", "stripe")
        consume(store, clock, state, MY_SESSION, "stripe")
        assert reason(lambda: consume(store, clock, state, MY_SESSION, "stripe")) == "reused"

    def test_expired_after_ten_minutes(self, store: SqliteStore, clock: FakeClock) -> None:
        early = issue(store, clock, MY_SESSION, "acc_me", "prj_mine", "stripe")
        late = issue(store, clock, MY_SESSION, "acc_me", "prj_mine", "stripe")
        clock.advance(599)
        assert consume(store, clock, early, MY_SESSION, "stripe") == ("acc_me", "prj_mine")
        clock.advance(1)
        assert reason(lambda: consume(store, clock, late, MY_SESSION, "stripe")) == "expired"

    def test_other_provider(self, store: SqliteStore, clock: FakeClock) -> None:
        state = issue(store, clock, MY_SESSION, "acc_me", "prj_mine", "stripe")
        assert reason(lambda: consume(store, clock, state, MY_SESSION, "hubspot")) == (
            "wrong_provider"
        )

    def test_victims_callback_replayed_in_another_session(
        self, store: SqliteStore, clock: FakeClock
    ) -> None:
        # Row 33: the attacker's browser presents the victim's state; it is refused and used up.
        state = issue(store, clock, MY_SESSION, "acc_me", "prj_mine", "stripe")
        assert reason(lambda: consume(store, clock, state, THEIR_SESSION, "stripe")) == (
            "wrong_session"
        )
        assert reason(lambda: consume(store, clock, state, MY_SESSION, "stripe")) == "reused"

    def test_only_for_the_accounts_own_project(self, store: SqliteStore, clock: FakeClock) -> None:
        with pytest.raises(NotFound):
            issue(store, clock, MY_SESSION, "acc_me", "prj_theirs", "stripe")
        with pytest.raises(ValueError, match="provider"):
            issue(store, clock, MY_SESSION, "acc_me", "prj_mine", "github")
        with pytest.raises(ValueError, match="session"):
            issue(store, clock, "", "acc_me", "prj_mine", "stripe")
        assert list(store.scan("oauth_states")) == []


def race_consume(stores: list[Store], clock: FakeClock, count: int) -> list[str]:
    state = issue(stores[0], clock, MY_SESSION, "acc_me", "prj_mine", "stripe")
    barrier = threading.Barrier(count)
    results: list[str] = [""] * count

    def run(i: int) -> None:
        barrier.wait()
        try:
            consume(stores[i % len(stores)], clock, state, MY_SESSION, "stripe")
            results[i] = "won"
        except StateError as refused:
            results[i] = refused.reason

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


class TestSingleUseRace:
    def test_sqlite_twenty_racing_callbacks_one_wins(
        self, tmp_path: Path, clock: FakeClock
    ) -> None:
        stores = [SqliteStore(tmp_path / "race.db"), SqliteStore(tmp_path / "race.db")]
        seed(stores[0])
        results = race_consume(list(stores), clock, 20)
        assert results.count("won") == 1
        assert results.count("reused") == 19
        for store in stores:
            store.close()

    @pytest.mark.emulator
    def test_firestore_racing_callbacks_on_two_instances_one_wins(
        self, firestore_store: Any, clock: FakeClock
    ) -> None:
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import firestore

        from shared.store.firestore import FirestoreStore
        from tests.emulators import PROJECT

        client = firestore.Client(project=PROJECT, credentials=AnonymousCredentials())
        try:
            twin = FirestoreStore(client, prefix=firestore_store.prefix)
            seed(firestore_store)
            results = race_consume([firestore_store, twin], clock, 4)
        finally:
            client.close()
        assert results.count("won") == 1
        assert results.count("reused") == 3


class TestSafeNext:
    @pytest.mark.parametrize(
        "value",
        [
            "https://evil.example",
            "http://evil.example/projects",
            "//evil.example",
            "///evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r\nSet-Cookie: x=1",
            "javascript:alert(1)",
            "data:text/html,x",
            "http:/evil.example",
            "evil.example/projects",
            "projects",
            " /projects",
            "/projects\x00",
            "/\u3000/evil.example",
            "\uff0f\uff0fevil.example",
            "",
            None,
            "/" + "a" * 2001,
        ],
    )
    def test_refused(self, value: str | None) -> None:
        assert safe_next(value) == "/"
        assert safe_next(value, default="/projects") == "/projects"

    @pytest.mark.parametrize(
        "value",
        ["/", "/projects", "/projects/prj_1?tab=hubspot#status", "/a/b%2F%2Fc", "/@me"],
    )
    def test_kept(self, value: str) -> None:
        assert safe_next(value) == value


def test_reason_codes_are_the_documented_ones() -> None:
    assert set(oauth_state.REASONS) == {
        "missing",
        "unknown",
        "reused",
        "expired",
        "wrong_provider",
        "wrong_session",
    }
