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


def _number(name: str, label: str) -> PropertyDef:
    return PropertyDef(name, label, type="number", field_type="number")


def _text(name: str, label: str) -> PropertyDef:
    return PropertyDef(name, label)


# object type -> (unique Stripe id property, every property Omniroo writes there)
SCHEMA: dict[str, tuple[str, tuple[PropertyDef, ...]]] = {
    "contacts": (
        "stripe_customer_id",
        (
            PropertyDef("stripe_customer_id", "Stripe customer ID", unique=True),
            _date("stripe_customer_since", "Stripe customer since"),
            _bool("stripe_delinquent", "Stripe delinquent"),
            _text("stripe_subscription_status", "Stripe subscription status"),
            _text("stripe_dashboard_url", "Stripe dashboard link"),
            _number("stripe_mrr", "Stripe MRR"),
            _text("stripe_mrr_breakdown", "Stripe MRR by currency"),
            _text("stripe_currency", "Stripe currency"),
            _text("stripe_plan", "Stripe plan"),
            _number("stripe_lifetime_value", "Stripe lifetime value"),
            _text("stripe_lifetime_value_breakdown", "Stripe lifetime value by currency"),
            _date("stripe_last_payment_date", "Stripe last payment date"),
            _text("stripe_last_payment_status", "Stripe last payment status"),
            _date("stripe_next_renewal_date", "Stripe next renewal date"),
            _date("stripe_churn_date", "Stripe churn date"),
        ),
    ),
    "deals": (
        "stripe_subscription_id",
        (
            PropertyDef("stripe_subscription_id", "Stripe subscription ID", unique=True),
            PropertyDef("stripe_invoice_id", "Stripe invoice ID", unique=True),
            _number("stripe_mrr", "Stripe MRR"),
            _text("stripe_subscription_status", "Stripe subscription status"),
            _date("stripe_current_period_end", "Stripe current period end"),
            _bool("stripe_cancel_at_period_end", "Stripe cancels at period end"),
            _date("stripe_canceled_at", "Stripe canceled at"),
            _date("stripe_trial_end", "Stripe trial end"),
            _number("stripe_last_invoice_amount", "Stripe last invoice amount"),
            _date("stripe_last_invoice_date", "Stripe last invoice date"),
            _text("stripe_last_invoice_status", "Stripe last invoice status"),
            _text("stripe_last_invoice_url", "Stripe last invoice link"),
            _text("stripe_dashboard_url", "Stripe dashboard link"),
        ),
    ),
    "line_items": (
        "stripe_line_id",
        (PropertyDef("stripe_line_id", "Stripe line ID", unique=True),),
    ),
    "products": (
        "stripe_price_id",
        (
            PropertyDef("stripe_price_id", "Stripe price ID", unique=True),
            _text("stripe_product_id", "Stripe product ID"),
        ),
    ),
    "companies": (
        "omniroo_company_key",
        (PropertyDef("omniroo_company_key", "Omniroo company key", unique=True),),
    ),
}


def id_property(object_type: str) -> str:
    return SCHEMA[object_type][0]
