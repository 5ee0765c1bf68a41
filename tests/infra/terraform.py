"""The Terraform of ``infra/`` as plain Python data, parsed with python-hcl2.

python-hcl2 keeps the quotes of string literals and marks blocks with ``__is_block__``; ``load``
strips both, so a literal reads as ``"REGIONAL"`` and an expression as ``"${var.region}"``.
"""

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import hcl2

INFRA = Path(__file__).resolve().parents[2] / "infra"


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items() if k != "__is_block__"}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


@dataclass
class Terraform:
    files: dict[str, dict[str, Any]]
    resources: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    variables: dict[str, dict[str, Any]] = field(default_factory=dict)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    locals: dict[str, Any] = field(default_factory=dict)
    terraform: list[dict[str, Any]] = field(default_factory=list)

    def resource(self, kind: str, name: str) -> dict[str, Any]:
        return self.resources[kind][name]

    def of_kind(self, kind: str) -> dict[str, dict[str, Any]]:
        return self.resources.get(kind, {})


@cache
def load() -> Terraform:
    files: dict[str, dict[str, Any]] = {}
    for path in sorted(INFRA.glob("*.tf")):
        with path.open() as handle:
            files[path.name] = _clean(hcl2.load(handle))
    tf = Terraform(files)
    for parsed in files.values():
        for block in parsed.get("resource", []):
            for kind, named in block.items():
                tf.resources.setdefault(kind, {}).update(named)
        for block in parsed.get("variable", []):
            tf.variables.update(block)
        for block in parsed.get("output", []):
            tf.outputs.update(block)
        for block in parsed.get("locals", []):
            tf.locals.update(block)
        tf.terraform.extend(parsed.get("terraform", []))
    return tf


def blocks(body: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """The nested blocks ``name`` of a resource body (python-hcl2 gives a list of them)."""
    found = body.get(name, [])
    return found if isinstance(found, list) else [found]
