"""``expand[]`` for the Stripe double: ids replaced by objects, and fields shown only on request.

Each kind names its expandable id fields (and the kind they point to; ``None`` for fields the
double always leaves null), the objects it embeds (walked through for deeper paths), and the fields
Stripe includes only when expanded (a price's ``tiers``, a customer's ``subscriptions``...).
Unknown paths are refused with Stripe's messages; on a list every path must start with ``data.``.
"""

import copy
import itertools
from collections.abc import Callable
from typing import Any

from doubles.stripe.core import Account, children, list_object
from doubles.stripe.wire import StripeError, copied

_NULL = ("application", "on_behalf_of", "test_clock", "default_source", "default_payment_method")
# kind -> expandable id field -> kind it points to (None: always null in the double). Kinds not
# named ``object`` by Stripe ("invoice_parent"...) are the sub-objects that hold such fields.
_IDS: dict[str, dict[str, str | None]] = {
    "customer": {"default_source": None, "test_clock": None},
    "subscription": {
        **dict.fromkeys(_NULL),
        **dict.fromkeys(("pending_setup_intent", "schedule")),
        "customer": "customer",
        "latest_invoice": "invoice",
        "discounts": "discount",
    },
    "subscription_item": {"discounts": "discount"},
    "invoice": {
        **dict.fromkeys(_NULL),
        **dict.fromkeys(("latest_revision", "account_tax_ids")),
        "customer": "customer",
        "discounts": "discount",
    },
    "invoice_parent_subscription": {"subscription": "subscription"},
    "line_item": {"subscription": "subscription", "discounts": "discount"},
    "price_details": {"price": "price"},
    "invoiceitem": {
        "customer": "customer",
        "invoice": "invoice",
        "discounts": "discount",
        "test_clock": None,
    },
    "invoice_payment_payment": {
        "charge": "charge",
        **dict.fromkeys(("payment_intent", "payment_record")),
    },
    "invoice_payment": {"invoice": "invoice"},
    "price": {"product": "product"},
    "plan": {"product": "product"},
    "product": {"default_price": "price", "tax_code": None},
    "discount": {"customer": "customer", "promotion_code": None},
    "discount_source": {"coupon": "coupon"},
    "charge": {
        **dict.fromkeys(("application", "application_fee", "balance_transaction", "review")),
        **dict.fromkeys(("on_behalf_of", "payment_intent", "source_transfer", "transfer")),
        "failure_balance_transaction": None,
        "customer": "customer",
    },
    "refund": {
        **dict.fromkeys(("payment_intent", "balance_transaction", "failure_balance_transaction")),
        **dict.fromkeys(("source_transfer_reversal", "transfer_reversal", "payment_method")),
        "charge": "charge",
        "customer": "customer",
    },
    "dispute": {"charge": "charge", "payment_intent": None},
    "credit_note": {
        "customer": "customer",
        "invoice": "invoice",
        "customer_balance_transaction": None,
    },
    "credit_note_refund": {"refund": "refund"},
    "checkout.session": {
        **dict.fromkeys(("payment_intent", "payment_link", "setup_intent")),
        "customer": "customer",
        "subscription": "subscription",
        "invoice": "invoice",
    },
}
# kind -> embedded object field -> its kind (a list object's items have that kind)
_EMBEDDED: dict[str, dict[str, str]] = {
    "customer": {"subscriptions": "subscription", "discount": "discount"},
    "subscription": {"items": "subscription_item"},
    "subscription_item": {"price": "price", "plan": "plan"},
    "invoice": {"lines": "line_item", "parent": "invoice_parent", "payments": "invoice_payment"},
    "invoice_parent": {"subscription_details": "invoice_parent_subscription"},
    "line_item": {"pricing": "pricing"},
    "invoiceitem": {"pricing": "pricing"},
    "pricing": {"price_details": "price_details"},
    "invoice_payment": {"payment": "invoice_payment_payment"},
    "discount": {"source": "discount_source"},
    "charge": {"refunds": "refund"},
    "credit_note": {"lines": "credit_note_line_item", "refunds": "credit_note_refund"},
    "checkout.session": {"line_items": "item"},
    "item": {"price": "price"},
}
_MAX_DEPTH = 4  # Stripe expands at most four levels


def _subscriptions(account: Account, customer: dict[str, Any]) -> dict[str, Any]:
    # Like GET /v1/subscriptions?customer=..: the customer's subscriptions not canceled, newest
    # first. Through an index by customer: a page of 100 customers scanning every subscription
    # each was quadratic, and grouping them all for every page still took 18 ms a page.
    everything = account.objects["subscription"]
    if account.subs_indexed < len(everything):
        for sub in itertools.islice(everything.values(), account.subs_indexed, None):
            account.subs_of.setdefault(sub["customer"], []).append(sub["id"])
        account.subs_indexed = len(everything)
    ids = reversed(account.subs_of.get(customer["id"], []))
    subs = [s for s in (everything[i] for i in ids) if s["status"] != "canceled"]
    shown = copied(subs[:10])
    return {
        **list_object(shown, f"/v1/customers/{customer['id']}/subscriptions"),
        "has_more": len(subs) > 10,
        "total_count": len(subs),
    }


def _refunds(account: Account, charge: dict[str, Any]) -> dict[str, Any]:
    return children(
        account, "refund", "charge", charge["id"], f"/v1/charges/{charge['id']}/refunds"
    )


def _payments(account: Account, invoice: dict[str, Any]) -> dict[str, Any]:
    url = f"/v1/invoice_payments?invoice={invoice['id']}"
    return children(account, "invoice_payment", "invoice", invoice["id"], url)


def _private(name: str) -> Callable[[Account, dict[str, Any]], Any]:
    def shown(account: Account, obj: dict[str, Any]) -> Any:
        return copy.deepcopy(account.private[obj["id"]].get(name))

    return shown


# kind -> field Stripe includes only when expanded -> how to make it
_ON_REQUEST: dict[str, dict[str, Callable[[Account, dict[str, Any]], Any]]] = {
    "customer": {"subscriptions": _subscriptions},
    "invoice": {"payments": _payments},
    "price": {"tiers": _private("tiers")},
    "charge": {"refunds": _refunds},
    "checkout.session": {"line_items": _private("line_items")},
}


def cannot(path: str, hint: str | None = None) -> StripeError:
    message = f"This property cannot be expanded ({path})."
    if hint:
        message += f" You may want to try expanding '{hint}' instead."
    return StripeError(400, {"message": message, "type": "invalid_request_error"})


def expand(
    account: Account, kind: str, obj: dict[str, Any], paths: Any, listing: bool = False
) -> dict[str, Any]:
    """``obj`` (or each object of a list) with ``paths`` expanded, as Stripe answers them."""
    account.memo.clear()  # the account does not change while one answer is expanded
    if isinstance(paths, str):
        paths = [paths]
    elif isinstance(paths, dict):
        paths = list(paths.values())
    for path in paths or []:
        segments = str(path).split(".")
        if len(segments) > _MAX_DEPTH:
            message = f"You cannot expand more than 4 levels of a property. Property: {path}"
            raise StripeError(400, {"message": message, "type": "invalid_request_error"})
        if listing:
            if segments[0] != "data":
                raise cannot(str(path), f"data.{path}")
            for item in obj["data"]:
                _walk(account, kind, item, segments[1:], [])
        else:
            _walk(account, kind, obj, segments, [])
    return obj


def _walk(
    account: Account, kind: str, node: dict[str, Any], segments: list[str], done: list[str]
) -> None:
    if not segments:
        return
    name, rest = segments[0], segments[1:]
    path = [*done, name]
    if name in _ON_REQUEST.get(kind, {}):
        node[name] = _ON_REQUEST[kind][name](account, node)
        target: str | None = _EMBEDDED.get(kind, {}).get(name, name)
    elif name in _IDS.get(kind, {}):
        target = _IDS[kind][name]
        node[name] = _fetch_all(account, target, node.get(name))
    elif name in _EMBEDDED.get(kind, {}):
        target = _EMBEDDED[kind][name]
    else:
        raise cannot(".".join(path))
    value = node.get(name)
    if not rest or value is None or target is None:
        return
    if isinstance(value, dict) and value.get("object") == "list":
        if rest[0] != "data":
            raise cannot(".".join([*path, rest[0]]))
        for item in value["data"]:
            _walk(account, target, item, rest[1:], [*path, "data"])
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                _walk(account, target, item, rest, path)
    elif isinstance(value, dict):
        _walk(account, target, value, rest, path)


def _fetch_all(account: Account, kind: str | None, value: Any) -> Any:
    if isinstance(value, list):
        return [_fetch(account, kind, v) for v in value]
    return _fetch(account, kind, value)


def _fetch(account: Account, kind: str | None, value: Any) -> Any:
    if kind is None or not isinstance(value, str):
        return value
    if kind == "customer":
        found = account.customers.get(value) or account.deleted.get(value)
    else:
        found = account.objects[kind].get(value)
    # An object gone from the store (a deleted product) stays an id, as Stripe leaves it.
    return copied(found) if found is not None else value
