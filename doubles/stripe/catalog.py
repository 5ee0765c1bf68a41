"""Products, prices and coupons of the Stripe double: their 2026-10-28.endive shapes, rules, events.

A price's ``tiers`` live in ``Account.private``: Stripe returns them only with ``expand[]=tiers``.
Prices have no DELETE in the API (only the Dashboard deletes them), so ``delete_price`` is reached
from test code alone.
"""

import copy
from typing import Any

from doubles.stripe.catalog_params import (
    apply_price,
    apply_product,
    id_in,
    parse_amount,
    parse_currency,
    parse_decimal,
    parse_recurring,
    parse_tiers,
    parse_transform,
    recurring_matches,
)
from doubles.stripe.core import ApiBase, Call, field_is, one_of, text
from doubles.stripe.objects import deleted_stub
from doubles.stripe.wire import (
    as_bool,
    as_int,
    as_list,
    check_keys,
    invalid,
    merge_metadata,
    missing_parameter,
    random_id,
)

_PRODUCT_FIELDS = ("name", "active", "description", "metadata", "images", "url", "unit_label")
_PRODUCT_MORE = (
    *("statement_descriptor", "tax_code", "shippable", "package_dimensions"),
    "marketing_features",
)
_PRICE_UPDATABLE = ("active", "nickname", "metadata", "lookup_key", "transfer_lookup_key")
_PRICE_CREATE = (
    *_PRICE_UPDATABLE,
    *("currency", "product", "product_data", "unit_amount", "unit_amount_decimal", "recurring"),
    *("billing_scheme", "tiers_mode", "tiers", "tax_behavior", "transform_quantity", "expand"),
)
_COUPON_CREATE = (
    *("id", "percent_off", "amount_off", "currency", "duration", "duration_in_months", "name"),
    *("max_redemptions", "redeem_by", "metadata", "expand", "applies_to"),
)


class CatalogApi(ApiBase):
    """Products, prices and coupons."""

    # -- products ------------------------------------------------------------------------------

    def create_product(self, call: Call) -> dict[str, Any]:
        params = call.params
        check_keys(params, (*_PRODUCT_FIELDS, *_PRODUCT_MORE, "id", "default_price_data", "expand"))
        if not params.get("name"):
            raise missing_parameter("name")
        product_id = str(params.get("id") or random_id("prod_", 14))
        if product_id in call.account.objects["product"]:
            raise invalid("Product already exists.", "id", "resource_already_exists")
        now = self._now()
        product = {
            "id": product_id,
            "object": "product",
            "active": True,
            "created": now,
            "default_price": None,
            "description": None,
            "images": [],
            "livemode": call.account.livemode,
            "marketing_features": [],
            "metadata": {},
            "name": "",
            "package_dimensions": None,
            "shippable": None,
            "statement_descriptor": None,
            "tax_code": None,
            "type": "service",
            "unit_label": None,
            "updated": now,
            "url": None,
        }
        apply_product(product, {k: v for k, v in params.items() if k in _PRODUCT_FIELDS})
        price = None
        if params.get("default_price_data"):
            data = params["default_price_data"]
            if not isinstance(data, dict):
                raise invalid("Invalid default_price_data: must be a hash", "default_price_data")
            price = self._new_price(call, {**data, "product": product_id}, product)
            product["default_price"] = price["id"]
        self._put(call, "product", product)
        self._emit(call, "product.created", product)
        if price is not None:
            self._store_price(call, price)
        return copy.deepcopy(product)

    def get_product(self, call: Call, object_id: str) -> dict[str, Any]:
        return copy.deepcopy(self._get(call.account, "product", object_id))

    def update_product(self, call: Call, object_id: str) -> dict[str, Any]:
        check_keys(call.params, (*_PRODUCT_FIELDS, *_PRODUCT_MORE, "default_price", "expand"))
        before = self._get(call.account, "product", object_id)
        after = copy.deepcopy(before)
        apply_product(after, {k: v for k, v in call.params.items() if k in _PRODUCT_FIELDS})
        if "default_price" in call.params:
            price_id = text(call.params["default_price"])
            if price_id is not None:
                price = self._get(call.account, "price", price_id, "default_price")
                if price["product"] != object_id:
                    message = f"The price `{price_id}` does not belong to product `{object_id}`."
                    raise invalid(message, "default_price")
                if not price["active"]:
                    message = (
                        "The price specified is inactive. This field only accepts active prices."
                    )
                    raise invalid(message, "default_price")
            after["default_price"] = price_id
        if after != before:
            after["updated"] = self._now()
        call.account.objects["product"][object_id] = after
        return copy.deepcopy(self._changed(call, "product.updated", before, after))

    def delete_product(self, call: Call, object_id: str) -> dict[str, Any]:
        product = self._get(call.account, "product", object_id)
        if any(p["product"] == object_id for p in call.account.objects["price"].values()):
            message = (
                "This product cannot be deleted because it has one or more user-created prices."
            )
            raise invalid(message)
        del call.account.objects["product"][object_id]
        self._emit(call, "product.deleted", product)
        return deleted_stub(object_id, "product")

    def list_products(self, call: Call) -> dict[str, Any]:
        filters = {"active": field_is("active"), "ids": id_in, "shippable": field_is("shippable")}
        return self._list(call, "product", "/v1/products", {**filters, "url": field_is("url")})

    # -- prices --------------------------------------------------------------------------------

    def create_price(self, call: Call) -> dict[str, Any]:
        check_keys(call.params, _PRICE_CREATE)
        params = dict(call.params)
        product = None
        if params.get("product_data"):
            data = params.pop("product_data")
            if not isinstance(data, dict) or not data.get("name"):
                raise missing_parameter("product_data[name]")
            product = self.create_product(Call(call.account, data, call.request))
            params["product"] = product["id"]
        price = self._new_price(call, params, product)
        return self._store_price(call, price)

    def _store_price(self, call: Call, price: dict[str, Any]) -> dict[str, Any]:
        tiers = price.pop("tiers", None)
        if tiers is not None:
            call.account.private[price["id"]]["tiers"] = tiers
        if call.params.get("transfer_lookup_key") not in (None, "", "false", False):
            self._release_lookup_key(call, price["lookup_key"], price["id"])
        self._put(call, "price", price)
        self._emit(call, "price.created", price)
        return copy.deepcopy(price)

    def _new_price(
        self, call: Call, params: dict[str, Any], product: dict[str, Any] | None
    ) -> dict[str, Any]:
        if not params.get("product"):
            raise missing_parameter("product")
        if product is None:
            product = self._get(call.account, "product", str(params["product"]), "product")
        if not params.get("currency"):
            raise missing_parameter("currency")
        scheme = one_of(
            params.get("billing_scheme", "per_unit"), ("per_unit", "tiered"), "billing_scheme"
        )
        price: dict[str, Any] = {
            "id": random_id("price_", 24),
            "object": "price",
            "active": True,
            "billing_scheme": scheme,
            "created": self._now(),
            "currency": parse_currency(params["currency"]),
            "custom_unit_amount": None,
            "livemode": call.account.livemode,
            "lookup_key": None,
            "metadata": {},
            "nickname": None,
            "product": product["id"],
            "recurring": parse_recurring(params["recurring"]) if params.get("recurring") else None,
            "tax_behavior": one_of(
                params.get("tax_behavior", "unspecified"),
                ("exclusive", "inclusive", "unspecified"),
                "tax_behavior",
            ),
            "tiers_mode": None,
            "transform_quantity": parse_transform(params.get("transform_quantity")),
            "type": "recurring" if params.get("recurring") else "one_time",
            "unit_amount": None,
            "unit_amount_decimal": None,
        }
        if params.get("tiers") or scheme == "tiered":
            if not params.get("tiers_mode"):
                raise missing_parameter("tiers_mode")
            if scheme != "tiered":
                raise invalid("Tiers may only be set when `billing_scheme` is `tiered`.", "tiers")
            if params.get("unit_amount") not in (None, ""):
                message = "You may not set `unit_amount` when `billing_scheme` is `tiered`."
                raise invalid(message, "unit_amount")
            price["tiers_mode"] = one_of(
                params["tiers_mode"], ("graduated", "volume"), "tiers_mode"
            )
            price["tiers"] = parse_tiers(params.get("tiers", []))
        else:
            unit, decimal = parse_amount(params, "unit_amount")
            if decimal is None:
                raise invalid(
                    "Must provide one of `unit_amount`, `unit_amount_decimal`, or "
                    "`custom_unit_amount` when `billing_scheme` is `per_unit`.",
                    "unit_amount",
                )
            price["unit_amount"], price["unit_amount_decimal"] = unit, decimal
        apply_price(price, params)
        self._check_lookup_key(call, price, params)
        return price

    def _check_lookup_key(self, call: Call, price: dict[str, Any], params: dict[str, Any]) -> None:
        key = price["lookup_key"]
        if key is None or as_bool(params.get("transfer_lookup_key", False), "transfer_lookup_key"):
            return
        for other in call.account.objects["price"].values():
            if other["lookup_key"] == key and other["id"] != price["id"]:
                message = f"A price (`{other['id']}`) already uses that lookup key."
                raise invalid(message, "lookup_key")

    def _release_lookup_key(self, call: Call, key: str | None, keeper: str) -> None:
        for other in list(call.account.objects["price"].values()):
            if key is not None and other["lookup_key"] == key and other["id"] != keeper:
                changed = {**copy.deepcopy(other), "lookup_key": None}
                call.account.objects["price"][other["id"]] = changed
                self._changed(call, "price.updated", other, changed)

    def get_price(self, call: Call, object_id: str) -> dict[str, Any]:
        return copy.deepcopy(self._get(call.account, "price", object_id))

    def update_price(self, call: Call, object_id: str) -> dict[str, Any]:
        check_keys(call.params, (*_PRICE_UPDATABLE, "tax_behavior", "expand"))
        before = self._get(call.account, "price", object_id)
        after = copy.deepcopy(before)
        apply_price(after, call.params)
        product = call.account.objects["product"].get(after["product"])
        if not after["active"] and product and product["default_price"] == object_id:
            message = (
                "This price cannot be archived because it is the default price of its product."
            )
            raise invalid(message, "active")
        self._check_lookup_key(call, after, call.params)
        if as_bool(call.params.get("transfer_lookup_key", False), "transfer_lookup_key"):
            self._release_lookup_key(call, after["lookup_key"], object_id)
        call.account.objects["price"][object_id] = after
        return copy.deepcopy(self._changed(call, "price.updated", before, after))

    def list_prices(self, call: Call) -> dict[str, Any]:
        filters = {
            "active": field_is("active"),
            "currency": field_is("currency"),
            "product": field_is("product"),
            "type": field_is("type"),
            "lookup_keys": lambda price, keys: price["lookup_key"] in as_list(keys, "lookup_keys"),
            "recurring": recurring_matches,
        }
        return self._list(call, "price", "/v1/prices", filters)

    def delete_price(self, call: Call, object_id: str) -> dict[str, Any]:
        """The Dashboard's delete: only for a price nothing was ever billed with."""
        price = self._get(call.account, "price", object_id)
        if self._price_in_use(call, object_id):
            raise invalid("This price cannot be deleted because it has been used.")
        product = call.account.objects["product"].get(price["product"])
        if product and product["default_price"] == object_id:
            self._changed(call, "product.updated", product, {**product, "default_price": None})
            call.account.objects["product"][product["id"]] = {**product, "default_price": None}
        del call.account.objects["price"][object_id]
        self._emit(call, "price.deleted", price)
        return deleted_stub(object_id, "price")

    @staticmethod
    def _price_in_use(call: Call, price_id: str) -> bool:
        objects = call.account.objects
        items = (item for sub in objects["subscription"].values() for item in sub["items"]["data"])
        if any(item["price"]["id"] == price_id for item in items):
            return True
        priced = [
            *objects["invoiceitem"].values(),
            *(line for invoice in objects["invoice"].values() for line in invoice["lines"]["data"]),
        ]
        return any(obj["pricing"]["price_details"]["price"] == price_id for obj in priced)

    # -- coupons -------------------------------------------------------------------------------

    def create_coupon(self, call: Call) -> dict[str, Any]:
        params = call.params
        check_keys(params, _COUPON_CREATE)
        coupon_id = str(params.get("id") or random_id("", 8).upper())
        if coupon_id in call.account.objects["coupon"]:
            raise invalid("Coupon already exists.", "id", "resource_already_exists")
        percent, amount = params.get("percent_off"), params.get("amount_off")
        if (percent in (None, "")) == (amount in (None, "")):
            raise invalid("Must provide exactly one of percent_off or amount_off.", "percent_off")
        coupon: dict[str, Any] = {
            "id": coupon_id,
            "object": "coupon",
            "amount_off": None,
            "created": self._now(),
            "currency": None,
            "duration": one_of(
                params.get("duration", "once"), ("forever", "once", "repeating"), "duration"
            ),
            "duration_in_months": None,
            "livemode": call.account.livemode,
            "max_redemptions": None,
            "metadata": merge_metadata({}, params.get("metadata", {})),
            "name": text(params.get("name")),
            "percent_off": None,
            "redeem_by": None,
            "times_redeemed": 0,
            "valid": True,
        }
        if percent not in (None, ""):
            value = float(parse_decimal(percent, "percent_off"))
            if not 0 < value <= 100:
                raise invalid("Invalid percent_off: must be between 0 and 100", "percent_off")
            coupon["percent_off"] = value
        else:
            coupon["amount_off"] = as_int(amount, "amount_off")
            if not params.get("currency"):
                raise missing_parameter("currency")
            coupon["currency"] = parse_currency(params["currency"])
        months = params.get("duration_in_months")
        if coupon["duration"] == "repeating":
            if months in (None, ""):
                raise missing_parameter("duration_in_months")
            coupon["duration_in_months"] = as_int(months, "duration_in_months")
        elif months not in (None, ""):
            message = "duration_in_months may only be set when duration is `repeating`."
            raise invalid(message, "duration_in_months")
        for key in ("max_redemptions", "redeem_by"):
            if params.get(key) not in (None, ""):
                coupon[key] = as_int(params[key], key)
        self._put(call, "coupon", coupon)
        self._emit(call, "coupon.created", coupon)
        return copy.deepcopy(coupon)

    def get_coupon(self, call: Call, object_id: str) -> dict[str, Any]:
        return copy.deepcopy(self._get(call.account, "coupon", object_id))

    def update_coupon(self, call: Call, object_id: str) -> dict[str, Any]:
        return self._edit(call, "coupon", object_id, ("name",), "coupon.updated")

    def delete_coupon(self, call: Call, object_id: str) -> dict[str, Any]:
        # Like Stripe, discounts already made from the coupon keep it; no new ones can be.
        coupon = self._get(call.account, "coupon", object_id)
        del call.account.objects["coupon"][object_id]
        self._emit(call, "coupon.deleted", coupon)
        return deleted_stub(object_id, "coupon")

    def list_coupons(self, call: Call) -> dict[str, Any]:
        return self._list(call, "coupon", "/v1/coupons", {})

    def _redeemable(self, call: Call, coupon_id: str, param: str) -> dict[str, Any]:
        coupon: dict[str, Any] = self._get(call.account, "coupon", coupon_id, param)
        expired = coupon["redeem_by"] is not None and coupon["redeem_by"] <= self._now()
        used_up = coupon["max_redemptions"] is not None and (
            coupon["times_redeemed"] >= coupon["max_redemptions"]
        )
        if expired or used_up or not coupon["valid"]:
            raise invalid(f"Coupon expired: {coupon_id}", param, "coupon_expired")
        return coupon
