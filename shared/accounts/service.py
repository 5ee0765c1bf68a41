"""Sign up, sign in, sign out and password change: the flows the console pages call.

- An email is normalised (trimmed, lower case) and unique among open accounts: sign-up claims the
  SHA-256 of it in ``account_emails`` with an atomic create, so two racing sign-ups cannot both
  get it; closing the account deletes the claim, so the address can sign up again.
- The password hash lives in ``credentials`` (one document per account id), apart from the
  account document that pages read all the time.
- Sign-in gives one answer for a wrong password, an unknown email and a closed account, and spends
  the same work on each: the same store reads, one bcrypt check (against a dummy hash of the same
  cost when there is no account) and one audit entry (ASVS 5.0 6.3.8). Every attempt goes through
  the ``throttle`` first. A hash made at a lower cost than today's is replaced at sign-in.
- Sign-up hashes before it looks at the email, so a taken email answers in the same time; its
  answer does say that the email is taken, and each such answer counts as a failed attempt for
  the client address, which slows down harvesting. Hiding it fully needs email verification.
- Password change needs the current password (ASVS 6.2.3), is throttled like a sign-in, and ends
  every session of the account, the current one included, handing back a fresh one (ASVS 7.4.3).
"""

import contextlib
import re

from shared import audit, logs
from shared.accounts import sessions
from shared.accounts.ids import digest, new_id
from shared.accounts.passwords import (
    MAX_BYTES,
    PasswordHasher,
    PasswordRejected,
    check_new,
    too_long_message,
    utf8_size,
)
from shared.accounts.sessions import Session
from shared.accounts.throttle import Throttle
from shared.clock import Clock
from shared.errors import BadRequest, NotFound, StoreUnavailable
from shared.store.base import Doc, Store

EMAILS = "account_emails"
CREDENTIALS = "credentials"
MAX_EMAIL_LENGTH = 254
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_NO_ACCOUNT = "-"  # a document id that never exists, so every path makes the same reads


class SignInFailed(BadRequest):
    status = 401

    def __init__(self, message: str = "Wrong email or password.") -> None:
        super().__init__(message)


class EmailTaken(BadRequest):
    def __init__(self) -> None:
        super().__init__("email: an account with this address exists; sign in instead")


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


class Accounts:
    def __init__(self, store: Store, clock: Clock, hasher: PasswordHasher | None = None) -> None:
        self.store = store
        self.clock = clock
        self.hasher = hasher or PasswordHasher()
        self.throttle = Throttle(store, clock)

    def sign_up(self, email: str, password: str, client: str) -> Session:
        email = normalise_email(email)
        if len(email) > MAX_EMAIL_LENGTH or not _EMAIL.fullmatch(email):
            raise BadRequest("email: not a valid address")
        check_new(password, (email,))
        attempt = self.throttle.admit_client(client)
        hashed = self.hasher.hash(password)
        account_id = new_id("acc")
        if email_held(self.store, email) or not self.store.create(
            EMAILS, digest(email), {"account_id": account_id}
        ):
            attempt.failed()
            raise EmailTaken()
        try:
            now = self.clock.now()
            self.store.put(
                "accounts", account_id, {"email": email, "created_at": now, "status": "open"}
            )
            self.store.put(CREDENTIALS, account_id, {"password_hash": hashed, "changed_at": now})
        except BaseException:
            # Best effort, so the email is not held by an account that was never finished.
            for collection, doc_id in ((EMAILS, digest(email)), ("accounts", account_id)):
                with contextlib.suppress(StoreUnavailable):
                    self.store.delete(collection, doc_id)
            raise
        attempt.succeeded()
        audit.record(self.store, self.clock, account_id, "sign_up", client=_address(client))
        return sessions.start(self.store, self.clock, account_id)

    def sign_in(
        self, email: str, password: str, client: str, replacing: str | None = None
    ) -> Session:
        """A new session, replacing the browser's previous one (``replacing``, its token).
        Raises ``SignInFailed`` or ``Throttled``."""
        size = utf8_size(password)
        if size > MAX_BYTES:  # says nothing about the email: any account refuses it alike
            raise PasswordRejected(too_long_message(size))
        email = normalise_email(email)
        attempt = self.throttle.admit(email, client)
        account_id, hashed = self._credentials(email)
        if hashed is None:
            self.hasher.verify_dummy(password)
            ok = False
        else:
            ok = self.hasher.verify(password, hashed)
        if not ok or account_id is None or hashed is None:
            attempt.failed()
            reason = "wrong_password" if account_id else "unknown_email"
            audit.record(
                self.store,
                self.clock,
                account_id,
                "sign_in_failed",
                client=_address(client),
                reason=reason,
            )
            logs.info("sign-in failed", reason=reason)
            raise SignInFailed()
        attempt.succeeded()
        if self.hasher.needs_rehash(hashed):
            self._set_password(account_id, password)
        audit.record(self.store, self.clock, account_id, "sign_in", client=_address(client))
        return sessions.start(self.store, self.clock, account_id, replacing=replacing)

    def sign_out(self, token: str, client: str) -> None:
        session = sessions.load(self.store, self.clock, token)
        sessions.end(self.store, token)
        if session is not None:
            audit.record(
                self.store, self.clock, session.account_id, "sign_out", client=_address(client)
            )

    def change_password(self, session: Session, current: str, new: str, client: str) -> Session:
        account = self.store.get("accounts", session.account_id)
        if account is None:
            raise NotFound("no such account")
        check_new(new, (account["email"],))
        attempt = self.throttle.admit(account["email"], client)
        credentials = self.store.get(CREDENTIALS, session.account_id)
        if credentials is None or not self.hasher.verify(current, credentials["password_hash"]):
            attempt.failed()
            audit.record(
                self.store,
                self.clock,
                session.account_id,
                "sign_in_failed",
                client=_address(client),
                reason="password_change",
            )
            raise SignInFailed("The current password is not right.")
        attempt.succeeded()
        self._set_password(session.account_id, new)
        sessions.revoke_all(self.store, session.account_id)
        audit.record(
            self.store, self.clock, session.account_id, "password_changed", client=_address(client)
        )
        return sessions.start(self.store, self.clock, session.account_id)

    def _credentials(self, email: str) -> tuple[str | None, str | None]:
        """(account id, bcrypt hash) of an open account with this email; Nones otherwise. The
        same three reads whether or not the account exists."""
        claim = self.store.get(EMAILS, digest(email)) if email else None
        account_id = str(claim["account_id"]) if claim else None
        account = self.store.get("accounts", account_id or _NO_ACCOUNT)
        credentials = self.store.get(CREDENTIALS, account_id or _NO_ACCOUNT)
        if account_id is None or account is None or account.get("status") != "open":
            return None, None
        if credentials is None:  # an account made without a password (the CLI's)
            return account_id, None
        return account_id, str(credentials["password_hash"])

    def _set_password(self, account_id: str, password: str) -> None:
        doc: Doc = {"password_hash": self.hasher.hash(password), "changed_at": self.clock.now()}
        self.store.put(CREDENTIALS, account_id, doc)


def email_held(store: Store, email: str) -> bool:
    """Whether an open account has ``email``. A closed account gives its claim back at closure;
    the document of an account made before emails were claimed (the CLI's) holds it while open."""
    claim = store.get(EMAILS, digest(email))
    if claim is not None:
        return True
    return any(doc.get("status") != "closed" for _, doc in store.find("accounts", "email", email))


def _address(client: str) -> str:
    """The client address as the audit trail keeps it ("" when it is not an address)."""
    client = (client or "").strip()
    return client if re.fullmatch(r"[0-9A-Fa-f.:]{2,45}", client) else ""
