"""The audit trail: what an entry may hold, how long it is kept, and the incident-response query."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from shared import audit
from shared.clock import FakeClock
from shared.store.base import FIELDS
from shared.store.sqlite import SqliteStore

DAY = 86400


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    store = SqliteStore(tmp_path / "omniroo.db")
    for account_id, email in (("acc_a", "a@omniroo.test"), ("acc_b", "b@omniroo.test")):
        store.put("accounts", account_id, {"email": email, "created_at": 0.0, "status": "open"})
    yield store
    store.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


class TestRecord:
    def test_who_what_when_where(self, store: SqliteStore, clock: FakeClock) -> None:
        entry_id = audit.record(
            store, clock, "acc_a", "connect", client="203.0.113.5", project_id="prj_1",
            provider="hubspot",
        )  # fmt: skip
        entry = store.get("audit", entry_id)
        assert entry == {
            "account_id": "acc_a",
            "action": "connect",
            "at": clock.now(),
            "client": "203.0.113.5",
            "project_id": "prj_1",
            "provider": "hubspot",
            "expire_at": clock.now() + 365 * DAY,
        }
        assert set(entry) <= FIELDS["audit"]

    def test_every_action_of_the_issue(self, store: SqliteStore, clock: FakeClock) -> None:
        for action in (
            "sign_up", "sign_in", "sign_in_failed", "sign_out", "password_changed", "connect",
            "disconnect", "settings_changed", "account_closed",
        ):  # fmt: skip
            audit.record(store, clock, "acc_a", action, client="2001:db8::1")
        assert len(audit.trail(store, "acc_a")) == 9

    def test_unknown_action_or_field_is_refused(self, store: SqliteStore, clock: FakeClock) -> None:
        with pytest.raises(ValueError, match="action"):
            audit.record(store, clock, "acc_a", "looked_around")
        with pytest.raises(ValueError, match="not allowed"):
            audit.record(store, clock, "acc_a", "sign_in", password="hunter2")
        with pytest.raises(ValueError, match="not allowed"):
            audit.record(store, clock, "acc_a", "sign_in", email="a@omniroo.test")
        assert list(store.scan("audit")) == []

    @pytest.mark.parametrize(
        "value",
        [
            "a@omniroo.test",
            "sk_test_51AbCdEf",
            "whsec_abc123",
            "two words",
            "line\nbreak",
            "x" * 101,
            "pat-na1-0c2f",
        ],
    )
    def test_values_are_short_codes_never_secrets_or_emails(
        self, store: SqliteStore, clock: FakeClock, value: str
    ) -> None:
        with pytest.raises(ValueError, match="short id or code"):
            audit.record(store, clock, "acc_a", "settings_changed", setting=value)

    def test_trail_is_one_accounts_oldest_first(self, store: SqliteStore, clock: FakeClock) -> None:
        audit.record(store, clock, "acc_a", "sign_in")
        clock.advance(60)
        audit.record(store, clock, "acc_b", "sign_in")
        audit.record(store, clock, "acc_a", "sign_out")
        assert [e["action"] for e in audit.trail(store, "acc_a")] == ["sign_in", "sign_out"]
        assert audit.trail(store, "") == []


class TestRetention:
    def test_an_open_accounts_entries_keep_a_year(
        self, store: SqliteStore, clock: FakeClock
    ) -> None:
        entry = store.get("audit", audit.record(store, clock, "acc_a", "sign_in"))
        assert entry is not None and entry["expire_at"] == clock.now() + 365 * DAY

    def test_closing_caps_every_entry_at_closure_plus_29_days(
        self, store: SqliteStore, clock: FakeClock
    ) -> None:
        old = audit.record(store, clock, "acc_a", "sign_in")
        clock.advance(100 * DAY)
        closed_at = clock.now()
        last = audit.record(store, clock, "acc_a", "account_closed")
        other = audit.record(store, clock, "acc_b", "sign_in")
        assert audit.expire_account(store, "acc_a", closed_at) == 2
        for entry_id in (old, last):
            assert store.get("audit", entry_id)["expire_at"] == closed_at + 29 * DAY
        assert store.get("audit", other)["expire_at"] == clock.now() + 365 * DAY

    def test_capping_never_extends(self, store: SqliteStore, clock: FakeClock) -> None:
        entry_id = audit.record(store, clock, None, "sign_in_failed", reason="unknown_email")
        store.update("audit", entry_id, lambda d: {**(d or {}), "account_id": "acc_a"})
        audit.expire_account(store, "acc_a", clock.now())
        assert store.get("audit", entry_id)["expire_at"] == clock.now() + 29 * DAY

    def test_an_entry_never_outlives_its_closing_account(
        self, store: SqliteStore, clock: FakeClock
    ) -> None:
        expiry = clock.now() + 10 * DAY
        store.put(
            "accounts",
            "acc_a",
            {"email": "a@omniroo.test", "created_at": 0.0, "status": "closed", "expire_at": expiry},
        )
        late = store.get("audit", audit.record(store, clock, "acc_a", "disconnect"))
        gone = store.get("audit", audit.record(store, clock, "acc_gone", "disconnect"))
        assert late["expire_at"] == expiry
        assert gone["expire_at"] == clock.now() + 29 * DAY

    def test_failures_for_unknown_emails_keep_30_days(
        self, store: SqliteStore, clock: FakeClock
    ) -> None:
        entry_id = audit.record(
            store, clock, None, "sign_in_failed", client="203.0.113.5", reason="unknown_email"
        )
        entry = store.get("audit", entry_id)
        assert entry["account_id"] is None and entry["expire_at"] == clock.now() + 30 * DAY


class TestActivityBetween:
    def test_accounts_active_in_a_window_with_the_email_to_notify(
        self, store: SqliteStore, clock: FakeClock
    ) -> None:
        start = clock.now()
        audit.record(store, clock, "acc_a", "sign_in", client="203.0.113.5")
        clock.advance(3600)
        audit.record(store, clock, "acc_b", "sign_in_failed", client="203.0.113.5")
        audit.record(store, clock, None, "sign_in_failed", client="203.0.113.5")
        clock.advance(3600)
        audit.record(store, clock, "acc_a", "connect", project_id="prj_1")
        audit.record(store, clock, "acc_c", "sign_in")  # an account since purged

        assert audit.activity_between(store, start, start + 7200 + 1) == [
            ("acc_a", "a@omniroo.test"),
            ("acc_b", "b@omniroo.test"),
            ("acc_c", ""),
        ]
        # The end is exclusive, the start inclusive.
        assert audit.activity_between(store, start + 1, start + 3600) == []
        assert audit.activity_between(store, start + 3600, start + 7200) == [
            ("acc_b", "b@omniroo.test")
        ]

    def test_an_empty_window_is_refused(self, store: SqliteStore, clock: FakeClock) -> None:
        with pytest.raises(ValueError):
            audit.activity_between(store, clock.now(), clock.now())
