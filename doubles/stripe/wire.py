"""Stripe's wire format for the Stripe double: form bodies, error bodies, ids, lists, objects.

Kept apart from the HTTP plumbing in ``doubles.stripe.app`` so each stays small. ``API_VERSION`` is
the one version the double speaks (Omniroo's, ``shared/stripe_version.py``; the double keeps its own
copy because it stands for Stripe, and tests hold the two equal). The event type names are copied
from stripe-python 15.3.1 (the only names ``enabled_events`` accepts, besides ``*``).
"""

import marshal
import re
import secrets
import string
from collections.abc import Callable, Iterable, Mapping
from typing import Any

API_VERSION = "2026-10-28.endive"
_ALNUM = string.ascii_letters + string.digits
_TOKEN = re.compile(r"\[([^\]]*)\]")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_KEY_PREFIX = re.compile(r"^((?:sk|rk|pk)_(?:test|live)_)")
ADDRESS_FIELDS = ("city", "country", "line1", "line2", "postal_code", "state")


class StripeError(Exception):
    """An API error: the HTTP status and the ``error`` object of Stripe's body."""

    def __init__(self, status: int, error: dict[str, Any]) -> None:
        super().__init__(error.get("message", ""))
        self.status = status
        self.error = error

    def body(self) -> dict[str, Any]:
        return {"error": self.error}


def invalid(message: str, param: str | None = None, code: str | None = None) -> StripeError:
    error: dict[str, Any] = {"message": message, "type": "invalid_request_error"}
    if code:
        error["code"] = code
        error["doc_url"] = f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"
    if param:
        error["param"] = param
    return StripeError(400, dict(sorted(error.items())))


def unknown_parameter(param: str) -> StripeError:
    return invalid(f"Received unknown parameter: {param}", param, "parameter_unknown")


def missing_parameter(param: str) -> StripeError:
    return invalid(f"Missing required param: {param}.", param, "parameter_missing")


def no_such(kind: str, object_id: str, param: str = "id") -> StripeError:
    error = invalid(f"No such {kind}: '{object_id}'", param, "resource_missing")
    error.status = 404
    return error


def mask_key(key: str) -> str:
    """The key as Stripe quotes it in errors: its prefix, asterisks, and at most the last 4."""
    match = _KEY_PREFIX.match(key)
    prefix = match.group(1) if match else ""
    rest = key[len(prefix) :]
    shown = rest[-4:] if len(rest) > 8 else ""
    return prefix + "*" * (len(rest) - len(shown)) + shown


def random_id(prefix: str, length: int) -> str:
    return prefix + "".join(secrets.choice(_ALNUM) for _ in range(length))


def decode_form(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """``a[b][0]=x`` pairs into nested dicts and lists (``a[]=x`` appends)."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        head, bracket, rest = key.partition("[")
        tokens = [head, *_TOKEN.findall(bracket + rest)]
        node = root
        for depth, token in enumerate(tokens):
            if token == "":
                token = str(len(node))
            if depth == len(tokens) - 1:
                node[token] = value
                continue
            child = node.get(token)
            if not isinstance(child, dict):
                child = node[token] = {}
            node = child
    decoded: dict[str, Any] = _listify(root, parent="")
    return decoded


def _listify(node: Any, parent: str) -> Any:
    if not isinstance(node, dict):
        return node
    items = {k: _listify(v, k) for k, v in node.items()}
    # Metadata keys may be digits; everywhere else digit keys are array indexes.
    if items and parent not in ("", "metadata") and all(k.isdigit() for k in items):
        return [items[k] for k in sorted(items, key=int)]
    return items


def as_int(value: Any, param: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise invalid(f"Invalid integer: {value}", param) from None


def as_bool(value: Any, param: str) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return bool(value == "true")
    raise invalid(f"Invalid boolean: {value}", param)


def as_list(value: Any, param: str) -> list[Any]:
    if value == "":
        return []
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, dict):
        return list(value.values())
    raise invalid("Invalid array", param)


def check_keys(params: Mapping[str, Any], allowed: Iterable[str], prefix: str = "") -> None:
    allowed = set(allowed)
    for key in params:
        if key not in allowed:
            raise unknown_parameter(f"{prefix}[{key}]" if prefix else key)


def merge_metadata(current: dict[str, str], update: Any) -> dict[str, str]:
    """Stripe's metadata update: keys merge, a key set to "" goes, metadata="" empties it."""
    if update == "" or update is None:
        return {}
    if not isinstance(update, dict):
        raise invalid("Invalid metadata: metadata must be a hash", "metadata")
    merged = dict(current)
    for key, value in update.items():
        if value in ("", None):
            merged.pop(key, None)
        else:
            merged[str(key)] = str(value)
    return merged


def previous_attributes(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """The old values of what changed; metadata lists only its changed keys, as Stripe does."""
    previous: dict[str, Any] = {}
    for key in old.keys() | new.keys():
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        if key == "metadata" and isinstance(before, dict) and isinstance(after, dict):
            changed = sorted(before.keys() | after.keys())
            previous[key] = {k: before.get(k) for k in changed if before.get(k) != after.get(k)}
        else:
            previous[key] = before
    return dict(sorted(previous.items()))


def page(
    items: list[dict[str, Any]], params: Mapping[str, Any], url: str, kind: str
) -> dict[str, Any]:
    """One page of a list (``items`` newest first), with Stripe's cursor semantics."""
    limit = as_int(params.get("limit", 10), "limit")
    if limit < 1 or limit > 100:
        bound = "greater than or equal to 1" if limit < 1 else "less than or equal to 100"
        raise invalid(f"This value must be {bound}.", "limit")
    ids = [item["id"] for item in items]
    after, before = params.get("starting_after"), params.get("ending_before")
    if after:
        if after not in ids:
            raise no_such(kind, str(after), "starting_after")
        start = ids.index(after) + 1
        data, has_more = items[start : start + limit], start + limit < len(items)
    elif before:
        if before not in ids:
            raise no_such(kind, str(before), "ending_before")
        end = ids.index(before)
        start = max(0, end - limit)
        data, has_more = items[start:end], start > 0
    else:
        data, has_more = items[:limit], limit < len(items)
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


def page_of(
    objects: Mapping[str, dict[str, Any]],
    keeps: Callable[[dict[str, Any]], bool],
    params: Mapping[str, Any],
    url: str,
    kind: str,
) -> dict[str, Any]:
    """``page`` over ``objects`` (oldest first, as stored) that ``keeps`` keeps, scanning only as
    far as the page reaches: filtering a whole account on every page made listing it quadratic
    (12,500 subscriptions: 125 pages, each testing every subscription), which real Stripe is not.
    """
    limit = as_int(params.get("limit", 10), "limit")
    after = params.get("starting_after")
    if params.get("ending_before") or limit < 1 or limit > 100:
        return page([o for o in reversed(list(objects.values())) if keeps(o)], params, url, kind)
    order = list(objects)
    start = len(order)
    if after:
        if after not in objects or not keeps(objects[str(after)]):
            raise no_such(kind, str(after), "starting_after")
        start = order.index(after)
    data: list[dict[str, Any]] = []
    for index in range(start - 1, -1, -1):
        obj = objects[order[index]]
        if keeps(obj):
            if len(data) == limit:
                return {"object": "list", "data": data, "has_more": True, "url": url}
            data.append(obj)
    return {"object": "list", "data": data, "has_more": False, "url": url}


def copied(value: Any) -> Any:
    """A deep copy of stored JSON-shaped data: ``marshal`` makes it four times faster than a
    JSON round trip, itself five times faster than ``copy.deepcopy`` (a page of 100 expanded
    objects is copied on every list request)."""
    return marshal.loads(marshal.dumps(value))


def created_matches(created: int, condition: Any) -> bool:
    """Stripe's ``created`` filter: an exact timestamp or a hash of gt/gte/lt/lte."""
    if condition in (None, ""):
        return True
    if not isinstance(condition, dict):
        return created == as_int(condition, "created")
    tests = {
        "gt": lambda bound: created > bound,
        "gte": lambda bound: created >= bound,
        "lt": lambda bound: created < bound,
        "lte": lambda bound: created <= bound,
    }
    check_keys(condition, tests, "created")
    return all(tests[op](as_int(v, f"created[{op}]")) for op, v in condition.items())


def valid_email(value: str) -> bool:
    return bool(_EMAIL.match(value))


_EVENT_TYPE_NAMES = """
account.application.authorized account.application.deauthorized
account.external_account.created account.external_account.deleted
account.external_account.updated account.updated application_fee.created
application_fee.refund.updated application_fee.refunded balance.available
balance_settings.updated billing.alert.triggered billing.credit_balance_transaction.created
billing.credit_grant.created billing.credit_grant.updated billing.meter.created
billing.meter.deactivated billing.meter.reactivated billing.meter.updated
billing_portal.configuration.created billing_portal.configuration.updated
billing_portal.session.created capability.updated cash_balance.funds_available
charge.captured charge.dispute.closed charge.dispute.created charge.dispute.funds_reinstated
charge.dispute.funds_withdrawn charge.dispute.updated charge.expired charge.failed
charge.pending charge.refund.updated charge.refunded charge.succeeded charge.updated
checkout.session.async_payment_failed checkout.session.async_payment_succeeded
checkout.session.completed checkout.session.expired climate.order.canceled
climate.order.created climate.order.delayed climate.order.delivered
climate.order.product_substituted climate.product.created climate.product.pricing_updated
coupon.created coupon.deleted coupon.updated credit_note.created credit_note.updated
credit_note.voided customer.created customer.deleted customer.discount.created
customer.discount.deleted customer.discount.updated customer.source.created
customer.source.deleted customer.source.expiring customer.source.updated
customer.subscription.created customer.subscription.deleted customer.subscription.paused
customer.subscription.pending_update_applied customer.subscription.pending_update_expired
customer.subscription.resumed customer.subscription.trial_will_end
customer.subscription.updated customer.tax_id.created customer.tax_id.deleted
customer.tax_id.updated customer.updated customer_cash_balance_transaction.created
entitlements.active_entitlement_summary.updated file.created
financial_connections.account.account_numbers_updated financial_connections.account.created
financial_connections.account.deactivated financial_connections.account.disconnected
financial_connections.account.reactivated financial_connections.account.refreshed_balance
financial_connections.account.refreshed_ownership
financial_connections.account.refreshed_transactions
financial_connections.account.upcoming_account_number_expiry
identity.verification_session.canceled identity.verification_session.created
identity.verification_session.processing identity.verification_session.redacted
identity.verification_session.requires_input identity.verification_session.verified
invoice.created invoice.deleted invoice.finalization_failed invoice.finalized
invoice.marked_uncollectible invoice.overdue invoice.overpaid invoice.paid
invoice.payment_action_required invoice.payment_attempt_required invoice.payment_failed
invoice.payment_succeeded invoice.sent invoice.upcoming invoice.updated invoice.voided
invoice.will_be_due invoice_payment.paid invoiceitem.created invoiceitem.deleted
issuing_authorization.created issuing_authorization.request issuing_authorization.updated
issuing_card.created issuing_card.updated issuing_cardholder.created
issuing_cardholder.updated issuing_dispute.closed issuing_dispute.created
issuing_dispute.funds_reinstated issuing_dispute.funds_rescinded issuing_dispute.submitted
issuing_dispute.updated issuing_personalization_design.activated
issuing_personalization_design.deactivated issuing_personalization_design.rejected
issuing_personalization_design.updated issuing_token.created issuing_token.updated
issuing_transaction.created issuing_transaction.purchase_details_receipt_updated
issuing_transaction.updated mandate.updated payment_intent.amount_capturable_updated
payment_intent.canceled payment_intent.created payment_intent.partially_funded
payment_intent.payment_failed payment_intent.processing payment_intent.requires_action
payment_intent.succeeded payment_link.created payment_link.updated payment_method.attached
payment_method.automatically_updated payment_method.detached payment_method.updated
payout.canceled payout.created payout.failed payout.paid payout.reconciliation_completed
payout.updated person.created person.deleted person.updated plan.created plan.deleted
plan.updated price.created price.deleted price.updated product.created product.deleted
product.updated promotion_code.created promotion_code.updated quote.accepted quote.canceled
quote.created quote.finalized radar.early_fraud_warning.created
radar.early_fraud_warning.updated refund.created refund.failed refund.updated
reporting.report_run.failed reporting.report_run.succeeded reporting.report_type.updated
reserve.hold.created reserve.hold.updated reserve.plan.created reserve.plan.disabled
reserve.plan.expired reserve.plan.updated reserve.release.created review.closed
review.opened setup_intent.canceled setup_intent.created setup_intent.requires_action
setup_intent.setup_failed setup_intent.succeeded sigma.scheduled_query_run.created
source.canceled source.chargeable source.failed source.mandate_notification
source.refund_attributes_required source.transaction.created source.transaction.updated
subscription_schedule.aborted subscription_schedule.canceled subscription_schedule.completed
subscription_schedule.created subscription_schedule.expiring subscription_schedule.released
subscription_schedule.updated tax.settings.updated tax_rate.created tax_rate.updated
terminal.reader.action_failed terminal.reader.action_succeeded
terminal.reader.action_updated test_helpers.test_clock.advancing
test_helpers.test_clock.created test_helpers.test_clock.deleted
test_helpers.test_clock.internal_failure test_helpers.test_clock.ready topup.canceled
topup.created topup.failed topup.reversed topup.succeeded transfer.created transfer.reversed
transfer.updated treasury.credit_reversal.created treasury.credit_reversal.posted
treasury.debit_reversal.completed treasury.debit_reversal.created
treasury.debit_reversal.initial_credit_granted treasury.financial_account.closed
treasury.financial_account.created treasury.financial_account.features_status_updated
treasury.inbound_transfer.canceled treasury.inbound_transfer.created
treasury.inbound_transfer.failed treasury.inbound_transfer.succeeded
treasury.outbound_payment.canceled treasury.outbound_payment.created
treasury.outbound_payment.expected_arrival_date_updated treasury.outbound_payment.failed
treasury.outbound_payment.posted treasury.outbound_payment.returned
treasury.outbound_payment.tracking_details_updated treasury.outbound_transfer.canceled
treasury.outbound_transfer.created treasury.outbound_transfer.expected_arrival_date_updated
treasury.outbound_transfer.failed treasury.outbound_transfer.posted
treasury.outbound_transfer.returned treasury.outbound_transfer.tracking_details_updated
treasury.received_credit.created treasury.received_credit.failed
treasury.received_credit.succeeded treasury.received_debit.created
"""
EVENT_TYPES = frozenset(_EVENT_TYPE_NAMES.split())
