"""The pure customer -> contact mapping (SYNC.md contact table)."""

from typing import Any

import pytest

from shared.mapping.customer import map_customer, split_name
from shared.mapping.ops import Archive, FlagDeleted, Skip, Upsert
from shared.project_settings import ProjectSettings

DEFAULTS = ProjectSettings()


def customer(**fields: Any) -> dict[str, Any]:
    return {
        "id": "cus_1",
        "object": "customer",
        "created": 1_700_000_000,
        "livemode": False,
        "email": None,
        "name": None,
        "phone": None,
        "address": None,
        "delinquent": False,
        **fields,
    }


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Ada Lovelace", ("Ada", "Lovelace")),
        ("Cher", ("Cher", "")),
        ("  Grace  Brewster   Hopper ", ("Grace", "Brewster Hopper")),
        (None, ("", "")),
        ("", ("", "")),
    ],
)
def test_name_split(name: str | None, expected: tuple[str, str]) -> None:
    assert split_name(name) == expected


def test_full_customer() -> None:
    op = map_customer(
        customer(
            email=" ada@example.com ",
            name="Ada Lovelace",
            phone="+44",
            delinquent=True,
            livemode=True,
            address={
                "line1": "1 Road",
                "line2": "Flat 2",
                "city": "London",
                "state": None,
                "postal_code": "N1",
                "country": "GB",
            },
        ),
        "acct_1",
        DEFAULTS,
    )
    assert isinstance(op, Upsert)
    assert (op.object_type, op.id_property, op.id) == ("contacts", "stripe_customer_id", "cus_1")
    assert op.properties == {
        "stripe_customer_id": "cus_1",
        "email": "ada@example.com",
        "firstname": "Ada",
        "lastname": "Lovelace",
        "phone": "+44",
        "address": "1 Road, Flat 2",
        "city": "London",
        "state": "",
        "zip": "N1",
        "country": "GB",
        "stripe_customer_since": "2023-11-14",
        "stripe_delinquent": "true",
        "stripe_dashboard_url": "https://dashboard.stripe.com/acct_1/customers/cus_1",
    }


def test_removed_values_are_cleared_but_email_is_never_sent_empty() -> None:
    op = map_customer(customer(), "acct_1", DEFAULTS)
    assert isinstance(op, Upsert)
    assert "email" not in op.properties
    assert op.properties["phone"] == "" and op.properties["firstname"] == ""
    assert op.properties["stripe_dashboard_url"].endswith("/acct_1/test/customers/cus_1")


def test_no_email_can_be_skipped() -> None:
    settings = ProjectSettings(customers_without_email="skip")
    assert map_customer(customer(), "acct_1", settings) == Skip("customer_without_email")
    assert isinstance(map_customer(customer(email="a@b.co"), "acct_1", settings), Upsert)


def test_deleted_customer_is_flagged_or_archived() -> None:
    deleted = {"id": "cus_1", "object": "customer", "deleted": True}
    assert map_customer(deleted, "acct_1", DEFAULTS) == FlagDeleted(
        "contacts", "stripe_customer_id", "cus_1", {"stripe_subscription_status": "deleted"}
    )
    archive = ProjectSettings(on_customer_deleted="archive")
    assert map_customer(deleted, "acct_1", archive) == Archive(
        "contacts", "stripe_customer_id", "cus_1"
    )


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"colour": "blue"}, "unknown setting: colour"),
        ({"customers_without_email": "maybe"}, "customers_without_email must be sync or skip"),
        ({"on_customer_deleted": 1}, "on_customer_deleted must be flag or archive"),
    ],
)
def test_bad_settings_are_refused_by_name(doc: dict[str, Any], message: str) -> None:
    from shared.errors import BadRequest

    with pytest.raises(BadRequest, match=message):
        ProjectSettings.from_doc(doc)
