"""``infra/functions.json`` as typed records: each function's trigger, sizing and roles."""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SPEC_FILE = ROOT / "infra" / "functions.json"
SECRET_ROLE = "roles/secretmanager.secretAccessor"  # noqa: S105 (a role's name)


@dataclass(frozen=True)
class Binding:
    role: str
    on: str  # project | kms_key | repository | topic:<key> | subscription:<key> | secret:<ENV>


@dataclass(frozen=True)
class Function:
    name: str
    account: str
    trigger: str  # "http", or the key of the topic that triggers it
    path: str | None
    memory: str
    timeout_seconds: int
    min_instances: int
    max_instances: int
    roles: tuple[Binding, ...]

    @property
    def public(self) -> bool:
        return self.trigger == "http"

    @property
    def secrets(self) -> tuple[str, ...]:
        """The environment names of the secrets it mounts: exactly those it may access."""
        return tuple(
            sorted(
                b.on.removeprefix("secret:")
                for b in self.roles
                if b.role == SECRET_ROLE and b.on.startswith("secret:")
            )
        )

    @property
    def folder(self) -> Path:
        return ROOT / "functions" / self.name


@dataclass(frozen=True)
class Spec:
    functions: dict[str, Function]
    identities: dict[str, tuple[Binding, ...]]
    secrets: dict[str, str]  # ENV NAME -> secret id without the prefix
    topics: dict[str, str]  # key -> topic name without the prefix
    subscriptions: dict[str, str]  # key -> subscription name without the prefix


def load(path: Path = SPEC_FILE) -> Spec:
    raw: dict[str, Any] = json.loads(path.read_text())
    functions = {
        name: Function(
            name=name,
            account=fn["account"],
            trigger=fn["trigger"],
            path=fn.get("path"),
            memory=fn["memory"],
            timeout_seconds=int(fn["timeout_seconds"]),
            min_instances=int(fn["min_instances"]),
            max_instances=int(fn["max_instances"]),
            roles=_bindings(fn["roles"]),
        )
        for name, fn in raw["functions"].items()
    }
    identities = {name: _bindings(i["roles"]) for name, i in raw["identities"].items()}
    return Spec(
        functions,
        identities,
        dict(raw["secrets"]),
        dict(raw["topics"]),
        dict(raw.get("subscriptions", {})),
    )


def _bindings(raw: list[dict[str, str]]) -> tuple[Binding, ...]:
    return tuple(Binding(b["role"], b["on"]) for b in raw)
