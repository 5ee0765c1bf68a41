"""A closed account gives its email back at once: the same address can sign up again, while the
closed account's own records still expire within closure + 29 days (row 42) and its old password
opens nothing."""

import pytest

from shared import projects
from shared.accounts.ids import digest
from shared.accounts.service import EMAILS, Accounts, EmailTaken, email_held
from shared.closure import RETENTION_SECONDS
from shared.errors import BadRequest
from shared.store.base import EXPIRE_AT
from tests.functions.console_helpers import PASSWORD, Console, console_fixture  # noqa: F401

EMAIL = "returning@example.com"
NEW_PASSWORD = "a different passphrase, long enough"


def test_the_email_of_a_closed_account_can_sign_up_again(console: Console) -> None:
    old = console.sign_up(EMAIL)
    closed = console.post("/account/close", {"password": PASSWORD}, "/account")
    assert closed.status_code == 200
    closed_at = console.clock.now()
    assert console.store.get(EMAILS, digest(EMAIL)) is None  # the claim went with the account

    again = console.post("/sign-up", {"email": EMAIL, "password": NEW_PASSWORD})
    assert again.status_code == 303, again.get_data(as_text=True)
    claim = console.store.get(EMAILS, digest(EMAIL))
    assert claim is not None and claim["account_id"] != old
    console.post("/sign-out", {}, "/projects")

    assert console.post("/sign-in", {"email": EMAIL, "password": PASSWORD}).status_code == 401
    assert console.post("/sign-in", {"email": EMAIL, "password": NEW_PASSWORD}).status_code == 303
    before = console.store.get("accounts", old) or {}
    assert before["status"] == "closed"
    assert before[EXPIRE_AT] <= closed_at + RETENTION_SECONDS


def test_only_an_open_account_holds_its_email(console: Console) -> None:
    # An account made by the CLI has no claim document: its own document holds the email.
    store, now = console.store, console.clock.now()
    accounts = Accounts(store, console.clock)
    made = projects.create_account(store, EMAIL, now)
    assert email_held(store, EMAIL)
    with pytest.raises(EmailTaken):
        accounts.sign_up(EMAIL, NEW_PASSWORD, "127.0.0.1")
    store.update("accounts", made, lambda doc: {**(doc or {}), "status": "closed"})
    assert not email_held(store, EMAIL)
    session = accounts.sign_up(EMAIL, NEW_PASSWORD, "127.0.0.1")
    assert session.account_id != made
    with pytest.raises(BadRequest, match="exists"):
        projects.create_account(store, EMAIL, now)
