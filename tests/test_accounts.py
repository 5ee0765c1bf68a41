"""Sign up, sign in, sign out and password change with real bcrypt (cost 12) on the real SQLite
store: RELIABILITY rows 36 (same answer and time for an unknown email, throttling) and 37 at
sign-in. A bcrypt call costs about a third of a second, so accounts are seeded with one hash made
per module, and each test makes as few calls as it can; the comments count them.
"""

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import bcrypt
import pytest

from shared import audit
from shared.accounts import passwords, sessions
from shared.accounts.ids import digest
from shared.accounts.passwords import PasswordHasher, PasswordRejected
from shared.accounts.service import Accounts, EmailTaken, SignInFailed
from shared.accounts.throttle import PAIR, Throttled
from shared.clock import FakeClock
from shared.store.base import FIELDS
from shared.store.sqlite import SqliteStore
from tests import leaks

EMAIL = "owner@omniroo.test"
PASSWORD = "otters hold paws while sleeping"
NEW_PASSWORD = "a different river, a quieter bank"
CLIENT = "198.51.100.7"


class CountingHasher(PasswordHasher):
    """The real hasher, counting bcrypt checks (real or dummy) and hashes."""

    def __init__(self) -> None:
        super().__init__()
        self.checks = 0
        self.hashes = 0
        self.costs: list[int] = []  # the bcrypt cost of each check, read off the hash checked

    def hash(self, password: str) -> str:
        self.hashes += 1
        return super().hash(password)

    def verify(self, password: str, hashed: str) -> bool:
        self.checks += 1
        self.costs.append(int(hashed.split("$")[2]))
        return super().verify(password, hashed)

    def verify_dummy(self, password: str) -> None:
        self.checks += 1
        self.costs.append(int(passwords._dummy_hash(self.cost).split(b"$")[2]))
        super().verify_dummy(password)


@pytest.fixture(scope="module")
def seeded_hash() -> str:
    return PasswordHasher().hash(PASSWORD)  # 1 hash per module


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    store = SqliteStore(tmp_path / "omniroo.db")
    yield store
    store.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def accounts(store: SqliteStore, clock: FakeClock) -> Accounts:
    return Accounts(store, clock, CountingHasher())


def seed(store: SqliteStore, hashed: str, email: str = EMAIL, account_id: str = "acc_own") -> str:
    store.put("accounts", account_id, {"email": email, "created_at": 0.0, "status": "open"})
    store.create("account_emails", digest(email), {"account_id": account_id})
    store.put("credentials", account_id, {"password_hash": hashed, "changed_at": 0.0})
    return account_id


def hasher_of(accounts: Accounts) -> CountingHasher:
    assert isinstance(accounts.hasher, CountingHasher)
    return accounts.hasher


class TestSignUp:
    def test_creates_a_normalised_account_and_signs_it_in(
        self, accounts: Accounts, store: SqliteStore
    ) -> None:
        session = accounts.sign_up("  Owner@Omniroo.TEST ", PASSWORD, CLIENT)  # 1 hash
        account = store.get("accounts", session.account_id)
        assert account is not None and account["email"] == EMAIL
        credentials = store.get("credentials", session.account_id)
        assert credentials is not None and credentials["password_hash"].startswith("$2b$12$")
        assert store.get("account_emails", digest(EMAIL)) == {"account_id": session.account_id}
        assert sessions.load(store, accounts.clock, session.token) == session
        assert [e["action"] for e in audit.trail(store, session.account_id)] == ["sign_up"]

    def test_a_taken_email_in_any_case_is_refused(
        self, accounts: Accounts, store: SqliteStore, seeded_hash: str
    ) -> None:
        seed(store, seeded_hash)
        with pytest.raises(EmailTaken):
            accounts.sign_up("OWNER@omniroo.test", NEW_PASSWORD, CLIENT)  # 1 hash, same time
        assert hasher_of(accounts).hashes == 1
        assert len(list(store.scan("accounts"))) == 1

    def test_an_account_made_without_a_claim_still_holds_its_email(
        self, accounts: Accounts, store: SqliteStore
    ) -> None:
        store.put("accounts", "acc_cli", {"email": EMAIL, "created_at": 0.0, "status": "open"})
        with pytest.raises(EmailTaken):
            accounts.sign_up(EMAIL, PASSWORD, CLIENT)  # 1 hash

    def test_two_racing_sign_ups_make_one_account(
        self, store: SqliteStore, clock: FakeClock
    ) -> None:
        pair = [Accounts(store, clock), Accounts(store, clock)]
        results: list[str] = ["", ""]
        barrier = threading.Barrier(2)

        def run(i: int) -> None:
            barrier.wait()
            try:
                pair[i].sign_up(EMAIL, PASSWORD, f"192.0.2.{i}")  # 2 hashes, in parallel
                results[i] = "created"
            except EmailTaken:
                results[i] = "taken"

        threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert sorted(results) == ["created", "taken"]
        assert len(list(store.scan("accounts"))) == 1

    @pytest.mark.parametrize(
        ("email", "password", "message"),
        [
            ("not an email", PASSWORD, "email"),
            (EMAIL, "short one", "at least 15"),
            (EMAIL, "owner12345678901234", "too common"),
            (EMAIL, "x" * 73, "72 bytes"),
        ],
    )
    def test_refusals_before_any_hash(
        self, accounts: Accounts, email: str, password: str, message: str
    ) -> None:
        with pytest.raises(Exception, match=message):
            accounts.sign_up(email, password, CLIENT)
        assert hasher_of(accounts).hashes == 0


class TestSignIn:
    def test_right_password_starts_a_new_session_replacing_the_old(
        self, accounts: Accounts, store: SqliteStore, seeded_hash: str
    ) -> None:
        account_id = seed(store, seeded_hash)
        old = sessions.start(store, accounts.clock, account_id)
        session = accounts.sign_in(" OWNER@omniroo.test", PASSWORD, CLIENT, replacing=old.token)
        assert session.account_id == account_id and session.token != old.token
        assert sessions.load(store, accounts.clock, old.token) is None
        assert hasher_of(accounts).checks == 1 and hasher_of(accounts).hashes == 0
        entry = audit.trail(store, account_id)[-1]
        assert entry["action"] == "sign_in" and entry["client"] == CLIENT

    def test_unknown_email_wrong_password_and_closed_account_look_the_same(
        self, accounts: Accounts, store: SqliteStore, seeded_hash: str
    ) -> None:
        seed(store, seeded_hash)
        seed(store, seeded_hash, "closed@omniroo.test", "acc_closed")
        store.update("accounts", "acc_closed", lambda d: {**(d or {}), "status": "closed"})
        answers = []
        for email in (EMAIL, "nobody@omniroo.test", "closed@omniroo.test"):
            with pytest.raises(SignInFailed) as failed:
                accounts.sign_in(email, "not the password at all", CLIENT)  # 1 check each
            answers.append((type(failed.value), str(failed.value), failed.value.status))
        assert answers == [(SignInFailed, "Wrong email or password.", 401)] * 3
        # The same work on each path: one bcrypt check, real or dummy, at the same cost (a
        # wall-clock comparison here would only measure how busy the machine is).
        assert hasher_of(accounts).checks == 3
        assert hasher_of(accounts).costs == [PasswordHasher().cost] * 3

    def test_failed_sign_ins_are_audited_without_the_email(
        self, accounts: Accounts, store: SqliteStore, seeded_hash: str
    ) -> None:
        account_id = seed(store, seeded_hash)
        for email in (EMAIL, "nobody@omniroo.test"):
            with pytest.raises(SignInFailed):
                accounts.sign_in(email, "not the password at all", CLIENT)  # 2 checks
        entries = sorted((d for _, d in store.scan("audit")), key=lambda d: d["reason"])
        assert [(e["account_id"], e["reason"]) for e in entries] == [
            (None, "unknown_email"),
            (account_id, "wrong_password"),
        ]
        assert "nobody" not in json.dumps(entries)

    def test_over_72_bytes_is_refused_with_its_reason(self, accounts: Accounts) -> None:
        with pytest.raises(PasswordRejected, match="at most 72 bytes"):
            accounts.sign_in(EMAIL, "\U0001f510" * 19, CLIENT)
        assert hasher_of(accounts).checks == 0

    def test_throttled_alike_for_known_and_unknown_emails(
        self, accounts: Accounts, store: SqliteStore, seeded_hash: str
    ) -> None:
        seed(store, seeded_hash)
        answers = []
        for email in (EMAIL, "nobody@omniroo.test"):
            for _ in range(PAIR.free):  # the free failures, spent without bcrypt
                accounts.throttle.admit(email, CLIENT).failed()
            with pytest.raises(SignInFailed):
                accounts.sign_in(email, "not the password at all", CLIENT)  # 1 check each
            with pytest.raises(Throttled) as refused:
                accounts.sign_in(email, PASSWORD, CLIENT)  # refused before any check
            answers.append(str(refused.value))
        assert answers == ["Too many sign-in attempts. Try again in 1 second."] * 2
        assert hasher_of(accounts).checks == 2
        # The owner elsewhere is not held up.
        accounts.sign_in(EMAIL, PASSWORD, "192.0.2.55")  # 1 check

    def test_a_cheaper_hash_is_replaced_at_sign_in(
        self, accounts: Accounts, store: SqliteStore
    ) -> None:
        account_id = seed(store, bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode())
        accounts.sign_in(EMAIL, PASSWORD, CLIENT)  # 1 cheap check, 1 hash
        credentials = store.get("credentials", account_id)
        assert credentials is not None and credentials["password_hash"].startswith("$2b$12$")


class TestSignOutAndPasswordChange:
    def test_sign_out_ends_the_session(
        self, accounts: Accounts, store: SqliteStore, seeded_hash: str
    ) -> None:
        account_id = seed(store, seeded_hash)
        session = sessions.start(store, accounts.clock, account_id)
        accounts.sign_out(session.token, CLIENT)
        assert sessions.load(store, accounts.clock, session.token) is None
        assert audit.trail(store, account_id)[-1]["action"] == "sign_out"
        accounts.sign_out(session.token, CLIENT)  # twice is harmless

    def test_change_needs_the_current_password(
        self, accounts: Accounts, store: SqliteStore, seeded_hash: str
    ) -> None:
        account_id = seed(store, seeded_hash)
        session = sessions.start(store, accounts.clock, account_id)
        with pytest.raises(SignInFailed, match="current password is not right"):
            accounts.change_password(session, "not the password at all", NEW_PASSWORD, CLIENT)
        assert store.get("credentials", account_id)["password_hash"] == seeded_hash
        assert sessions.load(store, accounts.clock, session.token) is not None

    def test_change_ends_every_session_and_hands_back_a_new_one(
        self, accounts: Accounts, store: SqliteStore, seeded_hash: str
    ) -> None:
        account_id = seed(store, seeded_hash)
        current = sessions.start(store, accounts.clock, account_id)
        elsewhere = sessions.start(store, accounts.clock, account_id)
        fresh = accounts.change_password(current, PASSWORD, NEW_PASSWORD, CLIENT)  # 1+1
        for old in (current, elsewhere):
            assert sessions.load(store, accounts.clock, old.token) is None
        assert sessions.load(store, accounts.clock, fresh.token) == fresh
        assert audit.trail(store, account_id)[-1]["action"] == "password_changed"
        with pytest.raises(SignInFailed):
            accounts.sign_in(EMAIL, PASSWORD, CLIENT)  # 1
        accounts.sign_in(EMAIL, NEW_PASSWORD, CLIENT)  # 1

    def test_the_new_password_meets_the_policy(
        self, accounts: Accounts, store: SqliteStore, seeded_hash: str
    ) -> None:
        session = sessions.start(store, accounts.clock, seed(store, seeded_hash))
        with pytest.raises(PasswordRejected):
            accounts.change_password(session, PASSWORD, "owner2024!!!!!!!!", CLIENT)
        assert hasher_of(accounts).checks == 0


def test_the_store_holds_no_password_token_or_stray_field(
    accounts: Accounts, store: SqliteStore
) -> None:
    session = accounts.sign_up(EMAIL, PASSWORD, CLIENT)  # 1 hash
    again = accounts.sign_in(EMAIL, PASSWORD, CLIENT, replacing=session.token)  # 1 check
    with pytest.raises(SignInFailed):
        accounts.sign_in("nobody@omniroo.test", PASSWORD, CLIENT)  # 1 check
    everything = {name: list(store.scan(name)) for name in FIELDS}
    assert leaks.store_violations(everything) == []
    dump = leaks.dump(everything)
    assert leaks.hits(dump, [PASSWORD, session.token, again.token, "nobody@omniroo.test"]) == []
    assert leaks.hits(dump, [sessions.csrf_token(again)]) == []
