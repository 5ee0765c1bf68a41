"""Sessions on the real SQLite store with a fake clock: hashed tokens, idle and absolute expiry,
renewal, revocation, cookie attributes through werkzeug, and CSRF tokens."""

import hashlib
import inspect
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.wrappers import Response

from shared.accounts import sessions
from shared.accounts.sessions import (
    ABSOLUTE_SECONDS,
    IDLE_SECONDS,
    TOUCH_SECONDS,
    CsrfError,
    check_csrf,
    csrf_token,
    session_cookie,
)
from shared.clock import FakeClock
from shared.store.base import FIELDS
from shared.store.sqlite import SqliteStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    store = SqliteStore(tmp_path / "omniroo.db")
    yield store
    store.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


class TestTokens:
    def test_a_token_is_256_random_bits_stored_only_as_its_sha256(
        self, store: SqliteStore, clock: FakeClock
    ) -> None:
        session = sessions.start(store, clock, "acc_1")
        assert len(session.token) == 43  # 32 bytes, URL-safe base64
        assert session.id_hash == hashlib.sha256(session.token.encode()).hexdigest()
        docs = dict(store.scan("sessions"))
        assert list(docs) == [session.id_hash]
        assert set(docs[session.id_hash]) == FIELDS["sessions"]
        assert session.token not in json.dumps(docs)
        assert session.token not in repr(session)

    def test_tokens_differ(self, store: SqliteStore, clock: FakeClock) -> None:
        tokens = {sessions.start(store, clock, "acc_1").token for _ in range(50)}
        assert len(tokens) == 50

    def test_load_finds_the_session_of_a_token(self, store: SqliteStore, clock: FakeClock) -> None:
        session = sessions.start(store, clock, "acc_1")
        loaded = sessions.load(store, clock, session.token)
        assert loaded == session and loaded is not None and loaded.token == session.token

    @pytest.mark.parametrize("token", [None, "", "x" * 43, "é" * 43, "x" * 5000])
    def test_unknown_or_malformed_tokens_find_nothing(
        self, store: SqliteStore, clock: FakeClock, token: str | None
    ) -> None:
        sessions.start(store, clock, "acc_1")
        assert sessions.load(store, clock, token) is None


class TestExpiry:
    def test_two_idle_hours_end_a_session(self, store: SqliteStore, clock: FakeClock) -> None:
        assert IDLE_SECONDS == 2 * 3600
        session = sessions.start(store, clock, "acc_1")
        clock.advance(IDLE_SECONDS - 1)
        assert sessions.load(store, clock, session.token) is not None
        clock.advance(IDLE_SECONDS)
        assert sessions.load(store, clock, session.token) is None
        assert store.get("sessions", session.id_hash) is None  # deleted, not just refused

    def test_activity_keeps_a_session_for_seven_days_and_no_longer(
        self, store: SqliteStore, clock: FakeClock
    ) -> None:
        assert ABSOLUTE_SECONDS == 7 * 86400
        session = sessions.start(store, clock, "acc_1")
        for _ in range(7 * 24 - 1):
            clock.advance(3600)
            assert sessions.load(store, clock, session.token) is not None
        clock.advance(3600)
        assert sessions.load(store, clock, session.token) is None

    def test_expire_at_is_the_earlier_expiry(self, store: SqliteStore, clock: FakeClock) -> None:
        session = sessions.start(store, clock, "acc_1")
        assert store.get("sessions", session.id_hash)["expire_at"] == clock.now() + IDLE_SECONDS
        for _ in range(7 * 24 - 1):
            clock.advance(3600)
            sessions.load(store, clock, session.token)
        # Idle expiry would be an hour past the absolute one now.
        assert store.get("sessions", session.id_hash)["expire_at"] == (
            session.created_at + ABSOLUTE_SECONDS
        )

    def test_last_seen_is_written_at_most_every_five_minutes(
        self, store: SqliteStore, clock: FakeClock
    ) -> None:
        session = sessions.start(store, clock, "acc_1")
        clock.advance(TOUCH_SECONDS - 1)
        sessions.load(store, clock, session.token)
        assert store.get("sessions", session.id_hash)["last_seen"] == session.created_at
        clock.advance(1)
        sessions.load(store, clock, session.token)
        assert store.get("sessions", session.id_hash)["last_seen"] == clock.now()


class TestEnding:
    def test_a_new_session_replaces_the_browsers_old_one(
        self, store: SqliteStore, clock: FakeClock
    ) -> None:
        old = sessions.start(store, clock, "acc_1")
        new = sessions.start(store, clock, "acc_1", replacing=old.token)
        assert new.token != old.token
        assert sessions.load(store, clock, old.token) is None
        assert sessions.load(store, clock, new.token) is not None

    def test_end_deletes(self, store: SqliteStore, clock: FakeClock) -> None:
        session = sessions.start(store, clock, "acc_1")
        sessions.end(store, session.token)
        assert sessions.load(store, clock, session.token) is None

    def test_revoke_all_ends_one_accounts_sessions_but_the_kept_one(
        self, store: SqliteStore, clock: FakeClock
    ) -> None:
        mine = [sessions.start(store, clock, "acc_1") for _ in range(3)]
        theirs = sessions.start(store, clock, "acc_2")
        assert sessions.revoke_all(store, "acc_1", keep=mine[0].id_hash) == 2
        assert [sessions.load(store, clock, s.token) is not None for s in mine] == [
            True,
            False,
            False,
        ]
        assert sessions.load(store, clock, theirs.token) is not None
        assert sessions.revoke_all(store, "acc_1") == 1


class TestCookie:
    def set_cookie_header(self, local: bool) -> str:
        response = Response()
        response.set_cookie(**session_cookie("tok", local))
        return response.headers["Set-Cookie"]

    def test_production_cookie(self) -> None:
        header = self.set_cookie_header(local=False)
        assert header.startswith("__Host-omniroo_session=tok;")
        for attribute in ("HttpOnly", "Secure", "SameSite=Lax", "Path=/", "Max-Age=604800"):
            assert attribute in header
        assert "Domain" not in header

    def test_local_cookie_is_not_secure(self) -> None:
        header = self.set_cookie_header(local=True)
        assert header.startswith("omniroo_session=tok;")
        assert "Secure" not in header
        assert "HttpOnly" in header and "SameSite=Lax" in header

    def test_clearing(self) -> None:
        response = Response()
        response.set_cookie(**sessions.clear_cookie(local=False))
        assert "Max-Age=0" in response.headers["Set-Cookie"]


class TestCsrf:
    def test_a_sessions_own_token_passes(self, store: SqliteStore, clock: FakeClock) -> None:
        session = sessions.start(store, clock, "acc_1")
        token = csrf_token(session)
        assert token == csrf_token(sessions.load(store, clock, session.token))  # type: ignore[arg-type]
        check_csrf(session, token)

    @pytest.mark.parametrize("submitted", [None, "", "x", "é" * 43])
    def test_anything_else_is_refused(
        self, store: SqliteStore, clock: FakeClock, submitted: str | None
    ) -> None:
        session = sessions.start(store, clock, "acc_1")
        with pytest.raises(CsrfError) as refused:
            check_csrf(session, submitted)
        assert refused.value.status == 403

    def test_another_sessions_token_is_refused(self, store: SqliteStore, clock: FakeClock) -> None:
        mine, other = sessions.start(store, clock, "acc_1"), sessions.start(store, clock, "acc_1")
        with pytest.raises(CsrfError):
            check_csrf(mine, csrf_token(other))

    def test_not_derivable_from_the_store(self, store: SqliteStore, clock: FakeClock) -> None:
        session = sessions.start(store, clock, "acc_1")
        assert csrf_token(session) not in json.dumps(list(store.scan("sessions")))

    def test_compared_in_constant_time(self) -> None:
        assert "hmac.compare_digest(" in inspect.getsource(check_csrf)
