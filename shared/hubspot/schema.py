"""The property group and properties Omniroo creates in a portal, per object type.

Each synced record carries its Stripe id in a property with ``hasUniqueValue`` so upserts by that
property can never create a second record for the same Stripe object.
"""

from dataclasses import dataclass

GROUP_NAME = "omniroo"
GROUP_LABEL = "Omniroo (Stripe)"


@dataclass(frozen=True)
class PropertyDef:
    name: str
    label: str
    type: str = "string"
    field_type: str = "text"
    unique: bool = False


def _bool(name: str, label: str) -> PropertyDef:
    return PropertyDef(name, label, type="bool", field_type="booleancheckbox")


def _date(name: str, label: str) -> PropertyDef:
    return PropertyDef(name, label, type="date", field_type="date")


# object type -> (unique Stripe id property, every property Omniroo writes there)
SCHEMA: dict[str, tuple[str, tuple[PropertyDef, ...]]] = {
    "contacts": (
        "stripe_customer_id",
        (
            PropertyDef("stripe_customer_id", "Stripe customer ID", unique=True),
            _date("stripe_customer_since", "Stripe customer since"),
            _bool("stripe_delinquent", "Stripe delinquent"),
            PropertyDef("stripe_subscription_status", "Stripe subscription status"),
            PropertyDef("stripe_dashboard_url", "Stripe dashboard link"),
        ),
    ),
}


def id_property(object_type: str) -> str:
    return SCHEMA[object_type][0]
