"""Isolation at the library level (RELIABILITY row 35): account A reaching for account B's
records by id gets what a missing id gets, a 404, and nothing of B's comes back."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from shared import audit
from shared.accounts import access, oauth_state, sessions
from shared.clock import FakeClock
from shared.errors import NotFound
from shared.store.sqlite import SqliteStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    store = SqliteStore(tmp_path / "omniroo.db")
    for account_id in ("acc_a", "acc_b"):
        store.put(
            "accounts",
            account_id,
            {"email": f"{account_id}@omniroo.test", "created_at": 0.0, "status": "open"},
        )
    store.put("projects", "prj_a1", {"account_id": "acc_a", "stripe_account": "acct_A1"})
    store.put("projects", "prj_a2", {"account_id": "acc_a", "stripe_account": "acct_A2"})
    store.put("projects", "prj_b1", {"account_id": "acc_b", "stripe_account": "acct_B1"})
    yield store
    store.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def not_found_message(call: object) -> str:
    with pytest.raises(NotFound) as refused:
        call()  # type: ignore[operator]
    assert refused.value.status == 404
    return str(refused.value)


class TestProjects:
    def test_own_project(self, store: SqliteStore) -> None:
        assert access.project_for(store, "acc_a", "prj_a1")["stripe_account"] == "acct_A1"

    def test_another_accounts_project_is_a_404_like_a_missing_one(self, store: SqliteStore) -> None:
        foreign = not_found_message(lambda: access.project_for(store, "acc_a", "prj_b1"))
        missing = not_found_message(lambda: access.project_for(store, "acc_a", "prj_nope"))
        assert foreign == missing == "no such project"

    @pytest.mark.parametrize(
        "project_id", ["", "../prj_b1", "prj_b1/tokens", "projects/prj_b1", "x" * 65, "prj b1"]
    )
    def test_malformed_ids_are_404s(self, store: SqliteStore, project_id: str) -> None:
        not_found_message(lambda: access.project_for(store, "acc_a", project_id))

    def test_no_account_reads_nothing(self, store: SqliteStore) -> None:
        not_found_message(lambda: access.project_for(store, "", "prj_a1"))
        assert access.projects_for(store, "") == []

    def test_listing_is_the_accounts_own(self, store: SqliteStore) -> None:
        assert [p for p, _ in access.projects_for(store, "acc_a")] == ["prj_a1", "prj_a2"]
        assert [p for p, _ in access.projects_for(store, "acc_b")] == ["prj_b1"]


class TestAccounts:
    def test_open_account(self, store: SqliteStore) -> None:
        assert access.account_for(store, "acc_a")["email"] == "acc_a@omniroo.test"

    def test_closed_or_missing_account(self, store: SqliteStore) -> None:
        store.update("accounts", "acc_b", lambda d: {**(d or {}), "status": "closed"})
        not_found_message(lambda: access.account_for(store, "acc_b"))
        not_found_message(lambda: access.account_for(store, "acc_nope"))
        not_found_message(lambda: access.account_for(store, "acc/../a"))


class TestAcrossModules:
    def test_no_oauth_state_for_another_accounts_project(
        self, store: SqliteStore, clock: FakeClock
    ) -> None:
        mine = sessions.start(store, clock, "acc_a")
        not_found_message(
            lambda: oauth_state.issue(store, clock, mine.id_hash, "acc_a", "prj_b1", "stripe")
        )
        assert list(store.scan("oauth_states")) == []

    def test_a_state_of_b_in_as_session_gives_nothing_of_b(
        self, store: SqliteStore, clock: FakeClock
    ) -> None:
        a, b = sessions.start(store, clock, "acc_a"), sessions.start(store, clock, "acc_b")
        state = oauth_state.issue(store, clock, b.id_hash, "acc_b", "prj_b1", "hubspot")
        with pytest.raises(oauth_state.StateError) as refused:
            oauth_state.consume(store, clock, state, a.id_hash, "hubspot")
        assert refused.value.reason == "wrong_session"
        assert "prj_b1" not in str(refused.value)

    def test_revoking_as_sessions_leaves_bs(self, store: SqliteStore, clock: FakeClock) -> None:
        a, b = sessions.start(store, clock, "acc_a"), sessions.start(store, clock, "acc_b")
        sessions.revoke_all(store, "acc_a")
        assert sessions.load(store, clock, a.token) is None
        assert sessions.load(store, clock, b.token) is not None

    def test_as_trail_holds_nothing_of_bs(self, store: SqliteStore, clock: FakeClock) -> None:
        audit.record(store, clock, "acc_a", "connect", project_id="prj_a1")
        audit.record(store, clock, "acc_b", "connect", project_id="prj_b1")
        assert [e["project_id"] for e in audit.trail(store, "acc_a")] == ["prj_a1"]
        audit.expire_account(store, "acc_a", clock.now())
        assert audit.trail(store, "acc_b")[0]["expire_at"] == clock.now() + 365 * 86400
