"""Every pattern that validates an id, a code, an address or a path takes the whole string:
``$`` also matches before a final newline, so ``re.match(r"^...$")`` let ``"value\\n"`` through
(shared/webhook/event.py has its own test). Emails and client addresses are stripped before
they are matched, and their patterns refuse whitespace inside, so there it never showed."""

from collections.abc import Callable
from pathlib import Path

import pytest

from shared import audit, projects
from shared.accounts import access, oauth_state
from shared.clock import SystemClock
from shared.errors import BadRequest, NotFound
from shared.project_settings import ProjectSettings
from shared.store.sqlite import SqliteStore


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    return SqliteStore(tmp_path / "omniroo.db")


def test_a_next_path_with_a_newline_falls_back_to_the_default() -> None:
    assert oauth_state.safe_next("/projects/prj_1", "/") == "/projects/prj_1"
    assert oauth_state.safe_next("/projects/prj_1\n", "/") == "/"


def test_an_audit_value_with_a_newline_is_refused(store: SqliteStore) -> None:
    audit.record(store, SystemClock(), "acc_1", "sign_in", reason="wrong_password")
    with pytest.raises(ValueError, match="reason"):
        audit.record(store, SystemClock(), "acc_1", "sign_in", reason="wrong_password\n")


def test_a_store_field_name_with_a_newline_is_refused(store: SqliteStore) -> None:
    assert store.find("accounts", "email", "x") == []
    with pytest.raises(ValueError, match="field"):
        store.find("accounts", "email\n", "x")


def test_ids_with_a_newline_are_refused(store: SqliteStore) -> None:
    account_id = projects.create_account(store, "owner@example.com", 0.0)
    assert access.account_for(store, account_id)
    with pytest.raises(NotFound):
        access.account_for(store, account_id + "\n")
    with pytest.raises(BadRequest, match="stripe_account"):
        projects.create_project(
            store,
            None,  # type: ignore[arg-type]  # refused before anything is sealed
            projects.NewProject(account_id, "acct_1\n", False, "token", "1"),
            0.0,
        )


def pipeline_price(price: str) -> ProjectSettings:
    rule = {"pipeline": "p", "stage": "s", "price_ids": [price]}
    return ProjectSettings.from_doc({"pipeline_rules": [rule]})


def mapped_property(name: str) -> ProjectSettings:
    return ProjectSettings.from_doc({"metadata_mappings": {"plan": name}})


@pytest.mark.parametrize(
    ("check", "good"), [(pipeline_price, "price_1Ab"), (mapped_property, "plan_tier")]
)
def test_settings_refuse_a_trailing_newline(
    check: Callable[[str], ProjectSettings], good: str
) -> None:
    check(good)
    with pytest.raises(BadRequest):
        check(good + "\n")
