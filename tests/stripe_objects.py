"""Hypothesis strategies for Stripe objects as JSON, built from the pinned ``stripe`` library's own
field annotations (``stripe.Subscription.__annotations__`` and so on, stripe==16.1.0).

Every field the library declares is present, as Stripe sends it (``null`` when empty). What the
types allow is what is drawn: an enum is one of its literals or, as ``Union[Literal[...], str]``
says, a value Stripe may add later; an expandable field is an id or the expanded object; a list
object is ``{"object": "list", "data": [...], "has_more": ...}``. Where Stripe's API reference
constrains a value beyond its type, the strategy follows the reference (integers are not negative
but for credits and balances, ``divide_by`` and ``interval_count`` are at least 1, decimals are
decimal strings, currencies are ISO codes); those constraints are in the tables below, each with
its reason.
Nesting is bounded: past ``MAX_DEPTH`` objects, optional fields are null, lists empty and
expandable fields ids.
"""

import decimal
import functools
import inspect
import string
import types
import typing
from typing import Any, ForwardRef, Literal, Union

import stripe
from hypothesis import strategies as st
from stripe._list_object import ListObject
from stripe._stripe_object import StripeObject

MAX_DEPTH = 2
MAX_LIST = 2
# Zero-, two- and three-decimal currencies (https://docs.stripe.com/currencies).
CURRENCIES = ("usd", "eur", "gbp", "jpy", "kwd")
# Stripe's API reference: the smallest value each of these integer fields takes.
AT_LEAST = {
    "divide_by": 1,  # transform_quantity.divide_by: "Divide usage by this number"
    "interval_count": 1,  # recurring.interval_count: "at least 1"
    "up_to": 1,  # tiers[].up_to: a positive quantity, or null for the last tier
    "amount_off": 1,  # coupons: "A positive integer"
}
# Integer fields that may be negative: credits and balances (an invoice line for a proration
# credit, a customer balance owed to them).
SIGNED = frozenset({"amount", "balance", "subtotal", "total", "starting_balance", "ending_balance"})
INT_MAX = 2**31 - 1  # amounts in minor units and unix times both fit
PERCENT = frozenset({"percent_off"})  # a number above 0, at most 100


def _id(prefix: str) -> st.SearchStrategy[str]:
    return st.text(string.ascii_letters + string.digits, min_size=1, max_size=14).map(
        lambda tail: f"{prefix}_{tail}"
    )


def _prefix(cls: type) -> str:
    name = getattr(cls, "OBJECT_NAME", cls.__name__.lower())
    return "".join(word[:3] for word in str(name).split("_"))[:6] or "obj"


def _resolve(ref: ForwardRef) -> type | None:
    found = getattr(stripe, ref.__forward_arg__, None)
    return found if isinstance(found, type) else None


def _is_stripe_class(kind: Any) -> bool:
    return isinstance(kind, type) and issubclass(kind, StripeObject)


def _int(name: str) -> st.SearchStrategy[int]:
    low = AT_LEAST.get(name, -INT_MAX if name in SIGNED else 0)
    return st.integers(min_value=low, max_value=INT_MAX)


def _str(name: str) -> st.SearchStrategy[str]:
    if name == "currency":
        return st.sampled_from(CURRENCIES)
    if name == "email":
        return st.one_of(st.emails(), st.text(max_size=30))
    return st.text(max_size=24)


def _scalar(kind: Any, name: str) -> st.SearchStrategy[Any] | None:
    table: dict[Any, st.SearchStrategy[Any]] = {
        bool: st.booleans(),
        int: _int(name),
        str: _str(name),
        float: (
            st.floats(min_value=0.01, max_value=100.0)
            if name in PERCENT
            else st.floats(min_value=0, max_value=1e9, allow_nan=False, allow_infinity=False)
        ),
        # JSON carries decimals as strings ("1234.5"), which the library reads as Decimal.
        decimal.Decimal: st.decimals(
            min_value=0, max_value=10**9, places=4, allow_nan=False, allow_infinity=False
        ).map(str),
        type(None): st.none(),
        typing.Any: st.text(max_size=10),
        object: st.text(max_size=10),
    }
    return table.get(kind)


def value(kind: Any, name: str, depth: int) -> st.SearchStrategy[Any]:
    """A JSON value for a field declared as ``kind``."""
    if isinstance(kind, str):  # a bare string annotation: a resource named before it exists
        kind = ForwardRef(kind)
    scalar = _scalar(kind, name)
    if scalar is not None:
        return scalar
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin is Literal:
        return st.sampled_from(args)
    if origin in (Union, types.UnionType):
        return _union(args, name, depth)
    if origin in (list, typing.List):  # noqa: UP006 (the library's own spelling)
        if depth >= MAX_DEPTH:
            return st.just([])
        return st.lists(value(args[0], name, depth + 1), max_size=MAX_LIST)
    if origin in (dict, typing.Dict) or (  # noqa: UP006
        isinstance(origin, type) and issubclass(origin, dict) and not _is_stripe_class(origin)
    ):
        return _mapping(args[-1] if args else str, name, depth)
    if origin is ListObject or kind is ListObject:
        item = args[0] if args else typing.Any
        data = (
            st.just([])
            if depth >= MAX_DEPTH
            else st.lists(value(item, name, depth + 1), max_size=MAX_LIST)
        )
        return st.fixed_dictionaries(
            {
                "object": st.just("list"),
                "data": data,
                "has_more": st.booleans(),
                "url": st.just("/v1/x"),
            }
        )
    if isinstance(origin, type) and issubclass(origin, StripeObject):  # UntypedStripeObject[X]
        return _mapping(args[0] if args else str, name, depth)
    if isinstance(kind, ForwardRef):
        resolved = _resolve(kind)
        return _id("obj") if resolved is None else objects(resolved, depth + 1)
    if _is_stripe_class(kind):
        return objects(kind, depth + 1)
    if isinstance(kind, typing.TypeVar):
        return st.text(max_size=10)
    raise TypeError(f"no strategy for {name}: {kind!r}")


def _mapping(item: Any, name: str, depth: int) -> st.SearchStrategy[dict[str, Any]]:
    if depth >= MAX_DEPTH:
        return st.just({})
    keys = st.sampled_from(CURRENCIES) if name == "currency_options" else st.text(max_size=12)
    return st.dictionaries(keys, value(item, name, depth + 1), max_size=MAX_LIST)


def _union(args: tuple[Any, ...], name: str, depth: int) -> st.SearchStrategy[Any]:
    members = [a for a in args if a is not type(None)]
    optional = len(members) < len(args)
    if optional and depth >= MAX_DEPTH:
        return st.none()
    literals = [a for a in members if typing.get_origin(a) is Literal]
    if literals and str in members:
        # An enum Stripe may extend: its documented values, or one it adds later.
        known = [v for lit in literals for v in typing.get_args(lit)]
        choice = st.one_of(st.sampled_from(known), st.just("a_value_added_later"))
        members = [a for a in members if a is not str and typing.get_origin(a) is not Literal]
        drawn = st.one_of(choice, *(value(m, name, depth) for m in members))
    elif str in members and len(members) == 2:
        # An expandable field: the object's id, or the object itself when expanded.
        other = next(m for m in members if m is not str)
        other = ForwardRef(other) if isinstance(other, str) else other
        target = _resolve(other) if isinstance(other, ForwardRef) else other
        prefix = _prefix(target) if isinstance(target, type) else "obj"
        drawn = (
            _id(prefix) if depth >= MAX_DEPTH else st.one_of(_id(prefix), value(other, name, depth))
        )
    else:
        drawn = st.one_of(*(value(m, name, depth) for m in members))
    return st.one_of(st.none(), drawn) if optional else drawn


@functools.cache
def objects(cls: type, depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    """Every field ``cls`` declares, drawn as its annotation allows."""
    if depth > MAX_DEPTH + 3:  # a required object inside required objects, this deep: its id
        return st.fixed_dictionaries({"id": _id(_prefix(cls))})
    fields: dict[str, st.SearchStrategy[Any]] = {}
    for name, kind in _annotations(cls).items():
        if name.startswith("_") or typing.get_origin(kind) is typing.ClassVar:
            continue
        if name == "id":
            fields[name] = _id(_prefix(cls))
        else:
            fields[name] = value(kind, name, depth)
    return st.fixed_dictionaries(fields)


def _annotations(cls: type) -> dict[str, Any]:
    """The fields a class declares, its bases' first. They are evaluated already, but for the
    resources named as strings (``ForwardRef("Price")``), which ``_resolve`` finds on ``stripe``."""
    merged: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        merged.update(inspect.get_annotations(klass))
    return merged
