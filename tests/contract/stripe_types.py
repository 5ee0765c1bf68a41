"""The contract for Stripe objects: the pinned ``stripe`` library's own resource types.

stripe-python's typed resource classes list every field of the API version the library sends
(``stripe.api_version``, which is Omniroo's, ``shared/stripe_version.py``), each with its type:
``ExpandableField[X]`` is an id unless expanded, ``ListObject[X]`` a list object, nested classes
describe sub-objects. They are read here with ``ast`` at test time, the way
``../shared/specs/stripe/gen_shapes.py`` reads them (nothing of the library is imported but its
location), so the contract moves with the pinned library and never with a copy of our own.

``check`` holds one JSON object (as Stripe's wire sends it) to those types: no field the version
lacks, every value of its declared type, expandable fields ids unless expanded, includable fields
only when expanded. It returns the problems, each naming the field by its path.
"""

import ast
import decimal
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import stripe

ROOT = Path(stripe.__file__).parent
VERSION = str(stripe.api_version)

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


@dataclass(frozen=True)
class Cls:
    """One class of the library: a resource (``object_name`` set) or a nested sub-object."""

    module: str  # file path relative to the library root, e.g. "_invoice.py"
    chain: tuple[str, ...]  # class names from the module level down, e.g. ("Invoice", "Parent")
    object_name: str | None

    @property
    def name(self) -> str:
        return ".".join(self.chain)


@cache
def _module(module: str) -> ast.Module:
    return ast.parse((ROOT / module).read_text())


def _class_node(cls: Cls) -> ast.ClassDef:
    body: list[ast.stmt] = _module(cls.module).body
    node: ast.ClassDef | None = None
    for name in cls.chain:
        node = next(n for n in body if isinstance(n, ast.ClassDef) and n.name == name)
        body = node.body
    assert node is not None
    return node


def _object_name(node: ast.ClassDef) -> str | None:
    for stmt in node.body:
        if (
            isinstance(stmt, ast.AnnAssign)
            and isinstance(stmt.target, ast.Name)
            and stmt.target.id == "OBJECT_NAME"
            and stmt.value is not None
        ):
            value = ast.literal_eval(stmt.value)
            return str(value)
    return None


@cache
def resources() -> dict[str, Cls]:
    """Every resource class of the library, by the ``object`` value Stripe gives it."""
    found: dict[str, Cls] = {}
    for path in sorted(ROOT.rglob("*.py")):
        module = str(path.relative_to(ROOT))
        if module.startswith("params/") or "OBJECT_NAME" not in path.read_text():
            continue
        for node in _module(module).body:
            if isinstance(node, ast.ClassDef) and (name := _object_name(node)):
                found.setdefault(name, Cls(module, (node.name,), name))
    return found


@cache
def fields(cls: Cls) -> dict[str, ast.expr]:
    """Field name -> its annotation, as the class declares them."""
    out: dict[str, ast.expr] = {}
    for stmt in _class_node(cls).body:
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            name = stmt.target.id
            if not name.startswith("_") and name != "OBJECT_NAME":
                out[name] = stmt.annotation
    return out


@cache
def _imports(module: str) -> dict[str, str]:
    """Imported name -> the library module it comes from (TYPE_CHECKING imports included)."""
    found: dict[str, str] = {}
    for node in ast.walk(_module(module)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("stripe."):
            path = node.module.removeprefix("stripe.").replace(".", "/") + ".py"  # type: ignore[union-attr]
            for alias in node.names:
                found[alias.asname or alias.name] = f"{path}:{alias.name}"
    return found


def resolve(scope: Cls, name: str) -> Cls | None:
    """The class ``name`` means inside ``scope``: a nested class (innermost first), a class of
    the module, or an imported resource; None for a name that is not a class of the library."""
    for depth in range(len(scope.chain), 0, -1):
        outer = Cls(scope.module, scope.chain[:depth], None)
        for stmt in _class_node(outer).body:
            if isinstance(stmt, ast.ClassDef) and stmt.name == name:
                return Cls(scope.module, (*outer.chain, name), _object_name(stmt))
    for stmt in _module(scope.module).body:
        if isinstance(stmt, ast.ClassDef) and stmt.name == name:
            return Cls(scope.module, (name,), _object_name(stmt))
    target = _imports(scope.module).get(name)
    if target is None:
        return None
    module, _, class_name = target.partition(":")
    if not (ROOT / module).exists():
        return None
    for stmt in _module(module).body:
        if isinstance(stmt, ast.ClassDef) and stmt.name == class_name:
            return Cls(module, (class_name,), _object_name(stmt))
    return None


def _forward(node: ast.expr) -> ast.expr:
    """A quoted forward reference ("Customer") as the expression it names."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return ast.parse(node.value, mode="eval").body
    return node


def _head(node: ast.expr) -> tuple[str, list[ast.expr]]:
    node = _forward(node)
    if isinstance(node, ast.Subscript):
        base = node.value.id if isinstance(node.value, ast.Name) else ast.unparse(node.value)
        inner = node.slice
        args = list(inner.elts) if isinstance(inner, ast.Tuple) else [inner]
        return base, args
    if isinstance(node, ast.Name):
        return node.id, []
    if isinstance(node, ast.Constant):
        return "Constant", [node]
    return ast.unparse(node), []


def split(paths: Iterable[str], key: str) -> tuple[bool, set[str]]:
    """Whether ``key`` itself is expanded, and the expansions below it."""
    paths = set(paths)
    below = {p[len(key) + 1 :] for p in paths if p.startswith(key + ".")}
    return key in paths, below


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
        if obj.get("deleted") is True and kind:
            declared = {k: v for k, v in declared.items() if k in ("id", "object", "deleted")}
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
        base, args = _head(note)
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
    base, args = _head(note)
    if base in ("Optional", "ExpandableField", "List", "ListObject"):
        return _target(scope, args[0])
    if base == "UntypedStripeObject":
        return _target(scope, args[-1])
    if base == "Union":
        found = [t for t in (_target(scope, a) for a in args) if t is not None]
        return found[0] if len(found) == 1 else None
    return resolve(scope, base)
