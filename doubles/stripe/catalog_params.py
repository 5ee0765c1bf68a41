"""How the Stripe double reads catalog parameters: amounts, tiers, recurring, and updates.

Pure functions shared by products, prices and coupons; each refuses a bad value as Stripe does,
naming the parameter.
"""

from decimal import Decimal, InvalidOperation
from typing import Any

from doubles.stripe.core import one_of, text
from doubles.stripe.wire import (
    as_bool,
    as_int,
    as_list,
    check_keys,
    invalid,
    merge_metadata,
    missing_parameter,
)

_RECURRING = ("interval", "interval_count", "usage_type", "meter", "trial_period_days")
_TIER_KEYS = ("up_to", "unit_amount", "unit_amount_decimal", "flat_amount", "flat_amount_decimal")
_MAX_COUNT = {"day": 365, "week": 52, "month": 12, "year": 1}  # Stripe bills at most yearly


def parse_currency(value: Any, param: str = "currency") -> str:
    if not (isinstance(value, str) and len(value) == 3 and value.isalpha()):
        raise invalid(f"Invalid currency: {value}", param)
    return value.lower()


def parse_decimal(value: Any, param: str) -> str:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise invalid(f"Invalid decimal: {value}", param) from None
    if number < 0:
        raise invalid(f"Invalid {param}: must be greater than or equal to 0", param)
    return format(number.normalize(), "f")


def parse_amount(
    params: dict[str, Any], name: str, prefix: str = ""
) -> tuple[int | None, str | None]:
    """``name`` and ``name_decimal`` as Stripe shows them, from either parameter."""

    def param(key: str) -> str:
        return f"{prefix}[{key}]" if prefix else key

    if params.get(name) not in (None, ""):
        value = as_int(params[name], param(name))
        if value < 0:
            raise invalid(f"Invalid {param(name)}: must be at least 0", param(name))
        return value, str(value)
    if params.get(f"{name}_decimal") not in (None, ""):
        decimal = parse_decimal(params[f"{name}_decimal"], param(f"{name}_decimal"))
        whole = Decimal(decimal)
        return (int(whole) if whole == whole.to_integral_value() else None), decimal
    return None, None


def parse_tiers(value: Any) -> list[dict[str, Any]]:
    tiers = as_list(value, "tiers")
    if not tiers:
        raise missing_parameter("tiers")
    shaped, last_bound = [], 0
    for index, tier in enumerate(tiers):
        prefix = f"tiers[{index}]"
        if not isinstance(tier, dict):
            raise invalid(f"Invalid {prefix}: must be a hash", prefix)
        check_keys(tier, _TIER_KEYS, prefix)
        if tier.get("up_to") in (None, ""):
            raise missing_parameter(f"{prefix}[up_to]")
        final = index == len(tiers) - 1
        if (tier["up_to"] == "inf") != final:
            raise invalid(
                "Only the last tier may have `up_to` set to `inf`, and it must.",
                f"{prefix}[up_to]",
            )
        up_to = None if final else as_int(tier["up_to"], f"{prefix}[up_to]")
        if up_to is not None and up_to <= last_bound:
            raise invalid("Tiers must be in ascending order of `up_to`.", f"{prefix}[up_to]")
        last_bound = up_to or last_bound
        unit, unit_decimal = parse_amount(tier, "unit_amount", prefix)
        flat, flat_decimal = parse_amount(tier, "flat_amount", prefix)
        if unit_decimal is None and flat_decimal is None:
            raise invalid(f"Either unit_amount or flat_amount is required on {prefix}.", prefix)
        shaped.append(
            {
                "flat_amount": flat,
                "flat_amount_decimal": flat_decimal,
                "unit_amount": unit,
                "unit_amount_decimal": unit_decimal,
                "up_to": up_to,
            }
        )
    return shaped


def parse_recurring(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid("Invalid recurring: must be a hash", "recurring")
    check_keys(value, _RECURRING, "recurring")
    if not value.get("interval"):
        raise missing_parameter("recurring[interval]")
    interval = one_of(value["interval"], ("day", "month", "week", "year"), "recurring[interval]")
    count = as_int(value.get("interval_count", 1), "recurring[interval_count]")
    if not 1 <= count <= _MAX_COUNT[interval]:
        raise invalid(
            "Invalid recurring[interval_count]: the maximum billing period is one year.",
            "recurring[interval_count]",
        )
    usage = one_of(value.get("usage_type", "licensed"), ("licensed", "metered"), "usage_type")
    # Since 2025-03-31.basil a metered price is backed by a billing meter (``aggregate_usage`` is
    # gone); the double keeps the meter's id without modelling meters.
    meter = value.get("meter") or None
    if usage == "metered" and meter is None:
        raise missing_parameter("recurring[meter]")
    if usage != "metered" and meter is not None:
        raise invalid("meter can only be set when usage_type is `metered`.", "recurring[meter]")
    return {
        "interval": interval,
        "interval_count": count,
        "meter": meter,
        "trial_period_days": (
            as_int(value["trial_period_days"], "recurring[trial_period_days]")
            if value.get("trial_period_days") not in (None, "")
            else None
        ),
        "usage_type": usage,
    }


def apply_product(product: dict[str, Any], params: dict[str, Any]) -> None:
    for key, value in params.items():
        if key == "name":
            if value in ("", None):
                raise invalid("You must provide a non-empty name for the product.", "name")
            product["name"] = str(value)
        elif key == "active":
            product["active"] = as_bool(value, "active")
        elif key == "metadata":
            product["metadata"] = merge_metadata(product["metadata"], value)
        elif key == "images":
            product["images"] = [str(v) for v in as_list(value, "images")]
        else:
            product[key] = text(value)


def apply_price(price: dict[str, Any], params: dict[str, Any]) -> None:
    for key in ("active", "nickname", "metadata", "lookup_key", "tax_behavior"):
        if key not in params:
            continue
        value = params[key]
        if key == "active":
            price["active"] = as_bool(value, "active")
        elif key == "metadata":
            price["metadata"] = merge_metadata(price["metadata"], value)
        elif key == "tax_behavior":
            choices = ("exclusive", "inclusive", "unspecified")
            price["tax_behavior"] = one_of(value, choices, "tax_behavior")
        else:
            price[key] = text(value)


def parse_transform(value: Any) -> dict[str, Any] | None:
    if value in (None, ""):
        return None
    if not isinstance(value, dict) or not value.get("divide_by"):
        raise missing_parameter("transform_quantity[divide_by]")
    check_keys(value, ("divide_by", "round"), "transform_quantity")
    rounding = one_of(value.get("round", "up"), ("down", "up"), "transform_quantity[round]")
    return {
        "divide_by": as_int(value["divide_by"], "transform_quantity[divide_by]"),
        "round": rounding,
    }


def id_in(obj: dict[str, Any], ids: Any) -> bool:
    return obj["id"] in as_list(ids, "ids")


def recurring_matches(price: dict[str, Any], wanted: Any) -> bool:
    if not isinstance(wanted, dict):
        raise invalid("Invalid recurring: must be a hash", "recurring")
    check_keys(wanted, ("interval", "usage_type", "meter"), "recurring")
    recurring = price["recurring"] or {}
    return all(recurring.get(k) == v for k, v in wanted.items())
