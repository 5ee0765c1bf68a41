"""A project's sync settings: validated on the way in, with the defaults of SYNC.md."""

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from shared.errors import BadRequest

_CHOICES = {
    "customers_without_email": ("sync", "skip"),
    "on_customer_deleted": ("flag", "archive"),
}


@dataclass(frozen=True)
class ProjectSettings:
    customers_without_email: str = "sync"
    on_customer_deleted: str = "flag"

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any] | None) -> "ProjectSettings":
        doc = dict(doc or {})
        unknown = sorted(set(doc) - set(_CHOICES))
        if unknown:
            raise BadRequest(f"unknown setting: {unknown[0]}")
        for name, value in doc.items():
            if value not in _CHOICES[name]:
                allowed = " or ".join(_CHOICES[name])
                raise BadRequest(f"setting {name} must be {allowed}, not {value!r}")
        return cls(**doc)

    def to_doc(self) -> dict[str, Any]:
        return asdict(self)
