"""What a customer paid: lifetime value and the last payment (SYNC.md, contact table).

Recomputed from complete lists (its charges, the disputes of its disputed charges, its newest
invoices), never incremented, so a repeated or late event cannot count twice. Charges, disputes
and invoices are read as API version 2026-10-28.endive shapes them (a charge names neither its
invoice nor its dispute: disputes are listed per disputed charge).
"""

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from shared.billing.money import hubspot_currency, to_units

StripeObject = dict[str, Any]

# A dispute still to be decided (https://docs.stripe.com/api/disputes/object#dispute_object-status)
OPEN_DISPUTES = frozenset(
    {
        "warning_needs_response",
        "warning_under_review",
        "needs_response",
        "under_review",
        "appeal_needs_response",
        "appeal_under_review",
    }
)
DISPUTED = "disputed"


def hubspot_date(timestamp: float | None) -> str:
    return "" if timestamp is None else datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")


def latest[T](objects: Iterable[T], when: Callable[[T], tuple[Any, ...]]) -> T | None:
    return max(objects, key=when, default=None)


def is_paid(charge: StripeObject) -> bool:
    """Succeeded and captured: an authorisation not captured yet has taken no money."""
    return charge.get("status") == "succeeded" and charge.get("captured") is True


def lifetime_value(
    charges: list[StripeObject], disputes: Sequence[StripeObject] = ()
) -> dict[str, Decimal]:
    """Paid minus refunded minus disputes lost, per currency (uppercase code), in currency units.

    A captured charge's ``amount - amount_refunded`` is what it kept: a capture below the
    authorised amount refunds the rest (https://docs.stripe.com/api/charges/capture). A dispute
    lost takes its ``amount`` back; one won or still open takes nothing (yet).
    """
    minor: dict[str, int] = defaultdict(int)
    paid = {c.get("id") for c in charges if is_paid(c)}
    for charge in filter(is_paid, charges):
        minor[charge["currency"]] += int(charge["amount"]) - int(charge.get("amount_refunded") or 0)
    for dispute in disputes:
        if dispute.get("status") == "lost" and _charge_id(dispute) in paid:
            minor[dispute["currency"]] -= int(dispute["amount"])
    return {hubspot_currency(c): to_units(amount, c) for c, amount in minor.items()}


def _charge_id(dispute: StripeObject) -> str:
    charge = dispute.get("charge")
    return str(charge.get("id") if isinstance(charge, dict) else charge)


def is_open(dispute: StripeObject) -> bool:
    return dispute.get("status") in OPEN_DISPUTES


def last_payment_date(charges: list[StripeObject]) -> str:
    newest = latest(filter(is_paid, charges), lambda c: (c["created"], c["id"]))
    return hubspot_date(newest["created"] if newest else None)


def _invoice_attempt(invoice: StripeObject) -> tuple[int, str] | None:
    """(when, outcome) of an invoice's latest collection attempt, None when it had none."""
    transitions = invoice.get("status_transitions") or {}
    status = invoice.get("status")
    if status == "paid" and invoice.get("amount_paid"):
        return (int(transitions.get("paid_at") or invoice["created"]), "succeeded")
    if status in ("open", "uncollectible") and invoice.get("attempted"):
        return (int(transitions.get("finalized_at") or invoice["created"]), "failed")
    return None


def last_payment_status(
    charges: list[StripeObject],
    invoices: list[StripeObject],
    disputes: Sequence[StripeObject] = (),
) -> str:
    """``disputed`` while a dispute of the customer's payments is open; otherwise the outcome of
    the latest attempt: a charge's own status, or a paid/failed invoice.

    A charge wins a tie with an invoice: it is the attempt itself.
    """
    if any(is_open(d) for d in disputes):
        return DISPUTED
    attempts = [(c["created"], 1, c["id"], str(c.get("status", ""))) for c in charges]
    for invoice in invoices:
        attempt = _invoice_attempt(invoice)
        if attempt:
            attempts.append((attempt[0], 0, invoice["id"], attempt[1]))
    return max(attempts, default=(0, 0, "", ""))[3]
