"""The Stripe objects the Stripe double keeps: their exact shape and how parameters change them.

Shapes follow stripe-python's resource types for API version 2026-10-28.endive, and Stripe's
example objects (stripe/openapi ``fixtures3.json``) for the fields every object carries.
Parameters arrive either form-decoded (strings) or as Python values from test helpers; both go
through the same functions here.
"""

import secrets
from collections.abc import Mapping
from typing import Any

from doubles.stripe.wire import (
    ADDRESS_FIELDS,
    EVENT_TYPES,
    as_bool,
    as_int,
    as_list,
    check_keys,
    invalid,
    merge_metadata,
    missing_parameter,
    random_id,
    valid_email,
)

_CUSTOMER_WRITABLE = (
    "address",
    "balance",
    "business_name",
    "individual_name",
    "description",
    "email",
    "invoice_prefix",
    "invoice_settings",
    "metadata",
    "name",
    "next_invoice_sequence",
    "phone",
    "preferred_locales",
    "shipping",
    "tax_exempt",
)
# Accepted as Stripe does, but they touch objects this double does not model. (``coupon`` and
# ``promotion_code`` are gone since 2025-03-31.basil: a customer's discount is made in the
# Dashboard, ``StripeDouble.add_customer_discount`` here.)
_CUSTOMER_IGNORED = (
    "expand",
    "payment_method",
    "source",
    "tax",
    "tax_id_data",
    "cash_balance",
    "validate",
    "default_source",
)
_INVOICE_SETTINGS = ("custom_fields", "default_payment_method", "footer", "rendering_options")
_TEXT_FIELDS = ("business_name", "description", "individual_name", "name", "phone")
_ENDPOINT_FIELDS = ("url", "enabled_events", "description", "metadata", "expand")


def new_customer(created: int, livemode: bool) -> dict[str, Any]:
    return {
        "id": random_id("cus_", 14),
        "object": "customer",
        "address": None,
        "balance": 0,
        "business_name": None,
        "created": created,
        "currency": None,
        "customer_account": None,
        "default_source": None,
        "delinquent": False,
        "description": None,
        "discount": None,
        "email": None,
        "individual_name": None,
        "invoice_prefix": secrets.token_hex(4).upper(),
        "invoice_settings": {field: None for field in _INVOICE_SETTINGS},
        "livemode": livemode,
        "metadata": {},
        "name": None,
        "next_invoice_sequence": 1,
        "phone": None,
        "preferred_locales": [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
    }


def _address(value: Any, param: str) -> dict[str, Any] | None:
    if value in ("", None):
        return None
    if not isinstance(value, dict):
        raise invalid(f"Invalid {param}: must be a hash", param)
    check_keys(value, ADDRESS_FIELDS, param)
    return {field: (value.get(field) or None) for field in ADDRESS_FIELDS}


def _shipping(value: Any) -> dict[str, Any] | None:
    if value in ("", None):
        return None
    if not isinstance(value, dict):
        raise invalid("Invalid shipping: must be a hash", "shipping")
    check_keys(value, ("address", "name", "phone"), "shipping")
    for required in ("address", "name"):
        if not value.get(required):
            raise missing_parameter(f"shipping[{required}]")
    return {
        "address": _address(value["address"], "shipping[address]"),
        "name": value["name"],
        "phone": value.get("phone") or None,
    }


def apply_customer(customer: dict[str, Any], params: Mapping[str, Any], creating: bool) -> None:
    """Change ``customer`` in place as a create or update with ``params`` would."""
    create_only = ("test_clock",) if creating else ()
    check_keys(params, (*_CUSTOMER_WRITABLE, *_CUSTOMER_IGNORED, *create_only))
    for key, value in params.items():
        if key in _TEXT_FIELDS:
            customer[key] = str(value) if value not in ("", None) else None
        elif key == "email":
            if value not in ("", None) and not valid_email(str(value)):
                raise invalid(f"Invalid email address: {value}", "email", "email_invalid")
            customer["email"] = str(value) if value not in ("", None) else None
        elif key == "address":
            customer["address"] = _address(value, "address")
        elif key == "shipping":
            customer["shipping"] = _shipping(value)
        elif key in ("balance", "next_invoice_sequence"):
            customer[key] = as_int(value, key)
        elif key == "metadata":
            customer["metadata"] = merge_metadata(customer["metadata"], value)
        elif key == "preferred_locales":
            customer["preferred_locales"] = [str(v) for v in as_list(value, key)]
        elif key == "tax_exempt":
            if value not in ("none", "exempt", "reverse"):
                raise invalid("Invalid tax_exempt: must be one of none, exempt, or reverse", key)
            customer["tax_exempt"] = value
        elif key == "invoice_prefix":
            if not (3 <= len(str(value)) <= 12 and str(value).isalnum()):
                raise invalid("Invalid invoice_prefix", key)
            customer["invoice_prefix"] = str(value).upper()
        elif key == "invoice_settings":
            if not isinstance(value, dict):
                raise invalid("Invalid invoice_settings: must be a hash", key)
            check_keys(value, _INVOICE_SETTINGS, key)
            settings = dict(customer["invoice_settings"])
            settings.update({k: (v if v != "" else None) for k, v in value.items()})
            customer["invoice_settings"] = settings
        elif key == "test_clock":
            customer["test_clock"] = value or None


def deleted_stub(object_id: str, kind: str) -> dict[str, Any]:
    return {"id": object_id, "object": kind, "deleted": True}


def _enabled_events(value: Any) -> list[str]:
    events = [str(v) for v in as_list(value, "enabled_events")]
    if not events:
        raise missing_parameter("enabled_events")
    for index, name in enumerate(events):
        if name != "*" and name not in EVENT_TYPES:
            allowed = ", ".join(["*", *sorted(EVENT_TYPES)])
            raise invalid(
                f"Invalid enabled_events[{index}]: must be one of {allowed}",
                f"enabled_events[{index}]",
            )
    return events


def new_webhook_endpoint(
    params: Mapping[str, Any], created: int, livemode: bool
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The endpoint as the API shows it, and what only the double keeps (secret, connect)."""
    check_keys(params, (*_ENDPOINT_FIELDS, "api_version", "connect"))
    if not params.get("url"):
        raise missing_parameter("url")
    if "enabled_events" not in params:
        raise missing_parameter("enabled_events")
    endpoint: dict[str, Any] = {
        "id": random_id("we_", 24),
        "object": "webhook_endpoint",
        "api_version": params.get("api_version") or None,
        "application": None,
        "created": created,
        "description": None,
        "enabled_events": [],
        "livemode": livemode,
        "metadata": {},
        "status": "enabled",
        "url": "",
    }
    update_webhook_endpoint(endpoint, {k: v for k, v in params.items() if k in _ENDPOINT_FIELDS})
    private = {
        "secret": random_id("whsec_", 32),
        "connect": as_bool(params.get("connect", False), "connect"),
    }
    return endpoint, private


def update_webhook_endpoint(endpoint: dict[str, Any], params: Mapping[str, Any]) -> None:
    check_keys(params, (*_ENDPOINT_FIELDS, "disabled"))
    for key, value in params.items():
        if key == "url":
            if not str(value).startswith(("http://", "https://")):
                raise invalid(f"Invalid URL: {value}", "url", "url_invalid")
            endpoint["url"] = str(value)
        elif key == "enabled_events":
            endpoint["enabled_events"] = _enabled_events(value)
        elif key == "description":
            endpoint["description"] = str(value) if value not in ("", None) else None
        elif key == "metadata":
            endpoint["metadata"] = merge_metadata(endpoint["metadata"], value)
        elif key == "disabled":
            endpoint["status"] = "disabled" if as_bool(value, "disabled") else "enabled"
