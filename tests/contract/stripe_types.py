"""The contract for Stripe objects: the pinned ``stripe`` library's own resource types.

stripe-python's typed resource classes list every field of the API version the library sends
(``stripe.api_version``, which is Omniroo's, ``shared/stripe_version.py``), each with its type:
``ExpandableField[X]`` is an id unless expanded, ``ListObject[X]`` a list object, nested classes
describe sub-objects. They are read here with ``ast`` at test time, the way
``../shared/specs/stripe/gen_shapes.py`` reads them (nothing of the library is imported but its
location), so the contract moves with the pinned library and never with a copy of our own.
``tests/contract/stripe_shapes.py`` holds objects to them.
"""

import ast
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import stripe

ROOT = Path(stripe.__file__).parent
VERSION = str(stripe.api_version)


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


def head(node: ast.expr) -> tuple[str, list[ast.expr]]:
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
