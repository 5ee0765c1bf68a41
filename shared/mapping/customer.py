"""Stripe customer -> HubSpot contact (SYNC.md, contact table).

Stripe owns the mapped fields: a value removed in Stripe is cleared in HubSpot (sent as ""), except
the email, which is never cleared because it is how HubSpot recognises the person.
"""

from datetime import UTC, datetime
from typing import Any

from shared.hubspot.schema import id_property
from shared.mapping.ops import Archive, FlagDeleted, Op, Skip, Upsert
from shared.project_settings import ProjectSettings

OBJECT_TYPE = "contacts"
ID_PROPERTY = id_property(OBJECT_TYPE)

# Stripe address field -> HubSpot contact property
ADDRESS_FIELDS = (
    ("city", "city"),
    ("state", "state"),
    ("postal_code", "zip"),
    ("country", "country"),
)


def split_name(name: str | None) -> tuple[str, str]:
    words = (name or "").split()
    return (words[0], " ".join(words[1:])) if words else ("", "")


def dashboard_url(customer_id: str, account: str, livemode: bool) -> str:
    mode = "" if livemode else "test/"
    return f"https://dashboard.stripe.com/{account}/{mode}customers/{customer_id}"


def _address(address: dict[str, Any] | None) -> dict[str, str]:
    address = address or {}
    street = ", ".join(part for part in (address.get("line1"), address.get("line2")) if part)
    props = {"address": street}
    for stripe_field, hubspot_property in ADDRESS_FIELDS:
        props[hubspot_property] = address.get(stripe_field) or ""
    return props


def contact_properties(customer: dict[str, Any], account: str) -> dict[str, str]:
    first, last = split_name(customer.get("name"))
    props = {
        ID_PROPERTY: customer["id"],
        "firstname": first,
        "lastname": last,
        "phone": customer.get("phone") or "",
        **_address(customer.get("address")),
        "stripe_customer_since": datetime.fromtimestamp(customer["created"], UTC).strftime(
            "%Y-%m-%d"
        ),
        "stripe_delinquent": "true" if customer.get("delinquent") else "false",
        "stripe_dashboard_url": dashboard_url(
            customer["id"], account, bool(customer.get("livemode"))
        ),
    }
    if customer.get("email"):
        props["email"] = customer["email"].strip()
    return props


def map_customer(customer: dict[str, Any], account: str, settings: ProjectSettings) -> Op:
    """The operation that makes HubSpot match this customer as Stripe has it now."""
    if customer.get("deleted"):
        if settings.on_customer_deleted == "archive":
            return Archive(OBJECT_TYPE, ID_PROPERTY, customer["id"])
        return FlagDeleted(
            OBJECT_TYPE, ID_PROPERTY, customer["id"], {"stripe_subscription_status": "deleted"}
        )
    if not customer.get("email") and settings.customers_without_email == "skip":
        return Skip("customer_without_email")
    return Upsert(OBJECT_TYPE, ID_PROPERTY, customer["id"], contact_properties(customer, account))
