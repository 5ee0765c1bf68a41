"""Holding a Stripe object, as Stripe's wire sends it, to the pinned library's types.

``check`` returns the problems of one object, each naming the field by its path: a field the
version lacks, a value not of its declared type, an expandable field that is not an id unless
expanded (nor an object when it is), an includable field shown without being asked for.
``missing`` names the fields Stripe always sends (its example object's) that an object lacks;
``field_path`` checks a path that code reads from an object (RELIABILITY row 46).
"""

import ast
import decimal
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import stripe

from tests.contract.stripe_types import VERSION, Cls, fields, head, resolve, resources

# Fields Stripe returns only when asked for with ``expand[]`` ("includable": documented as "not
# included by default" / "there is an includable ... property"; absent from the OpenAPI spec's
# `required` list and from the fixtures3 example objects). The library's types cannot say it.
INCLUDABLE: dict[str, frozenset[str]] = {
    "price": frozenset({"tiers", "currency_options"}),
    "plan": frozenset({"tiers"}),
    "coupon": frozenset({"applies_to", "currency_options"}),
    "customer": frozenset(
        {"subscriptions", "sources", "tax_ids", "tax", "cash_balance", "invoice_credit_balance"}
    ),
    "invoice": frozenset({"payments"}),
    "charge": frozenset({"refunds"}),  # not included by default since 2022-11-15
    "checkout.session": frozenset({"line_items"}),
}
_NUMBERS = (int, float)


def split(paths: Iterable[str], key: str) -> tuple[bool, set[str]]:
    """Whether ``key`` itself is expanded (expanding ``a.b`` expands ``a``), and the expansions
    below it."""
    paths = set(paths)
    below = {p[len(key) + 1 :] for p in paths if p.startswith(key + ".")}
    return key in paths or bool(below), below


@dataclass
class Checker:
    """Collects the problems of one object (and what it embeds) against the library's types."""

    problems: list[str]

    def resource(self, kind: str, obj: Any, expanded: set[str], path: str) -> None:
        cls = resources().get(kind)
        if cls is None:
            self.problems.append(f"{path}: no resource {kind!r} in stripe {stripe.VERSION}")
            return
        if not isinstance(obj, dict):
            self.problems.append(f"{path}: a {kind} object expected, got {type(obj).__name__}")
            return
        if obj.get("object") != kind:
            self.problems.append(f"{path}.object: {obj.get('object')!r}, expected {kind!r}")
        self.object(cls, obj, expanded, path)

    def object(self, cls: Cls, obj: dict[str, Any], expanded: set[str], path: str) -> None:
        declared = fields(cls)
        kind = cls.object_name or ""
        for key, value in obj.items():
            here = f"{path}.{key}"
            if key not in declared:
                self.problems.append(f"{here}: no such field in {VERSION} ({cls.name})")
                continue
            own, below = split(expanded, key)
            if key in INCLUDABLE.get(kind, ()) and not own:
                self.problems.append(f"{here}: includable, shown without expand[]={key}")
            self.value(cls, declared[key], value, own, below, here)

    def value(
        self, scope: Cls, note: ast.expr, value: Any, own: bool, below: set[str], path: str
    ) -> None:
        base, args = head(note)
        if base == "Optional":
            if value is not None:
                self.value(scope, args[0], value, own, below, path)
        elif base == "Union":
            self._union(scope, args, value, own, below, path)
        elif base == "Literal" or base == "Constant":
            allowed = [ast.literal_eval(a) for a in args]
            if value not in allowed:
                self.problems.append(f"{path}: {value!r} is not one of {allowed}")
        elif base == "ExpandableField":
            if not own:
                if not isinstance(value, str):
                    self.problems.append(f"{path}: expandable, must be an id unless expanded")
            elif isinstance(value, dict):
                self.value(scope, args[0], value, False, below, path)
            else:
                self.problems.append(f"{path}: expanded, but still {value!r}")
        elif base == "List":
            if not isinstance(value, list):
                self.problems.append(f"{path}: a list expected")
                return
            for index, item in enumerate(value):
                self.value(scope, args[0], item, own, below, f"{path}[{index}]")
        elif base == "ListObject":
            self._list(scope, args[0], value, below, path)
        elif base in ("UntypedStripeObject", "Dict"):
            if not isinstance(value, dict):
                self.problems.append(f"{path}: an object (hash) expected")
                return
            for key, item in value.items():
                self.value(scope, args[-1], item, own, below, f"{path}.{key}")
        else:
            self._named(scope, base, value, below, path)

    def _union(
        self, scope: Cls, args: list[ast.expr], value: Any, own: bool, below: set[str], path: str
    ) -> None:
        attempts = []
        for arg in args:
            trial = Checker([])
            trial.value(scope, arg, value, own, below, path)
            if not trial.problems:
                return
            attempts.append(trial.problems)
        self.problems.extend(min(attempts, key=len))

    def _list(self, scope: Cls, item: ast.expr, value: Any, below: set[str], path: str) -> None:
        if not isinstance(value, dict) or value.get("object") != "list":
            self.problems.append(f"{path}: a list object expected")
            return
        for key in value:
            if key not in ("object", "data", "has_more", "url", "total_count"):
                self.problems.append(f"{path}.{key}: not a field of a list object")
        if not isinstance(value.get("has_more"), bool) or not isinstance(value.get("url"), str):
            self.problems.append(f"{path}: a list object needs has_more and url")
        _, inside = split(below, "data")
        for index, entry in enumerate(value.get("data") or []):
            self.value(scope, item, entry, False, inside, f"{path}.data[{index}]")

    def _named(self, scope: Cls, name: str, value: Any, below: set[str], path: str) -> None:
        checks = {
            "str": lambda v: isinstance(v, str),
            "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
            "float": lambda v: isinstance(v, _NUMBERS) and not isinstance(v, bool),
            "bool": lambda v: isinstance(v, bool),
            "Decimal": _decimal_string,
            "Any": lambda v: True,
        }
        if name in checks:
            if not checks[name](value):
                self.problems.append(f"{path}: {value!r} is not a {name}")
            return
        cls = resolve(scope, name)
        if cls is None:
            self.problems.append(f"{path}: unknown type {name} in {scope.module}")
        elif cls.object_name:
            self.resource(cls.object_name, value, below, path)
        elif not isinstance(value, dict):
            self.problems.append(f"{path}: an object ({cls.name}) expected")
        else:
            self.object(cls, value, below, path)


def _decimal_string(value: Any) -> bool:
    # Stripe sends decimals as strings ("unit_amount_decimal": "1000.5").
    if not isinstance(value, str):
        return False
    try:
        decimal.Decimal(value)
    except decimal.InvalidOperation:
        return False
    return True


def check(obj: Any, expand: Iterable[str] = (), kind: str | None = None) -> list[str]:
    """The problems of ``obj`` (a Stripe object as JSON) against the pinned library's types,
    given the ``expand[]`` paths it was fetched with."""
    kind = kind or (obj.get("object") if isinstance(obj, dict) else None) or "?"
    checker = Checker([])
    checker.resource(kind, obj, set(expand), kind)
    return checker.problems


def missing(obj: dict[str, Any], example: dict[str, Any]) -> list[str]:
    """The fields Stripe always returns (those of its example object that the pinned version
    has, includables aside) that ``obj`` lacks; a deleted object only has id, object, deleted."""
    kind = str(example["object"])
    if obj.get("deleted") is True:
        return []
    declared = fields(resources()[kind])
    always = set(example) & set(declared) - INCLUDABLE.get(kind, frozenset())
    return [f"{kind}.{key}" for key in sorted(always - set(obj))]


def field_path(kind: str, dotted: str) -> list[str]:
    """The problems of a field path (``parent.subscription_details.subscription``) that code
    reads from a ``kind`` object: each step must be a field, through expansions and lists."""
    cls: Cls | None = resources().get(kind)
    if cls is None:
        return [f"{kind}: no such resource"]
    for step in dotted.split("."):
        if cls is None:
            return [f"{kind}.{dotted}: {step} is inside a value that is not an object"]
        declared = fields(cls)
        if step not in declared:
            return [f"{kind}.{dotted}: {step} is not a field of {cls.name} in {VERSION}"]
        cls = _target(cls, declared[step])
    return []


def _target(scope: Cls, note: ast.expr) -> Cls | None:
    """The class a field's value is (through Optional, ExpandableField, lists), if any."""
    base, args = head(note)
    if base in ("Optional", "ExpandableField", "List", "ListObject"):
        return _target(scope, args[0])
    if base == "UntypedStripeObject":
        return _target(scope, args[-1])
    if base == "Union":
        found = [t for t in (_target(scope, a) for a in args) if t is not None]
        return found[0] if len(found) == 1 else None
    return resolve(scope, base)
