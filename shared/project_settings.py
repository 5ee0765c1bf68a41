"""A project's sync settings: validated on the way in (errors name the field), SYNC.md defaults.

customers_without_email   "sync" (by stripe_customer_id alone) | "skip" (recorded reason)
on_customer_deleted       "flag" (stripe_subscription_status = deleted) | "archive"
objects                   which Stripe objects sync beyond customers (all on by default)
trials_count_as_mrr       False: a trialing subscription counts 0 until paid
company_matching          "off" | "domain" | "metadata" | "domain_or_metadata"
pipeline_rules            first match wins: {"statuses": [...], "price_ids": [...] (optional),
                          "pipeline": id, "stage": id}; defaults below when none match
metadata_mappings         {"<Stripe metadata key>": "<HubSpot contact property>"}
reconcile_drift           what the scheduled reconcile compares with HubSpot: "sampled" (up to
                          reconcile_sample customers and subscriptions a run, each run going on
                          where the last stopped), "full" (all of them every run) or "off"
reconcile_sample          1 to 10,000 (default 500)
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.errors import BadRequest

SUBSCRIPTION_STATUSES = (
    "incomplete",
    "incomplete_expired",
    "trialing",
    "active",
    "past_due",
    "canceled",
    "unpaid",
    "paused",
)
OBJECTS = ("subscriptions", "invoices", "payments", "products")
_CHOICES = {
    "customers_without_email": ("sync", "skip"),
    "on_customer_deleted": ("flag", "archive"),
    "company_matching": ("off", "domain", "metadata", "domain_or_metadata"),
    "reconcile_drift": ("sampled", "full", "off"),
}
MAX_RECONCILE_SAMPLE = 10_000
# \Z, not $ ($ also matches before a final newline): these patterns are used with .match
_PROPERTY = re.compile(r"[a-z][a-z0-9_]{0,99}\Z")
# A price id is opaque (legacy plans' ids are chosen by the account, "gold-monthly"): any 1 to
# 255 visible ASCII characters, never a space or a control character.
_PRICE = re.compile(r"[!-~]{1,255}\Z")


@dataclass(frozen=True)
class PipelineRule:
    pipeline: str
    stage: str
    statuses: tuple[str, ...] = ()
    price_ids: tuple[str, ...] = ()

    def matches(self, status: str, price_ids: set[str]) -> bool:
        return (not self.statuses or status in self.statuses) and (
            not self.price_ids or bool(price_ids & set(self.price_ids))
        )


# SYNC.md defaults, in HubSpot's default "Sales Pipeline". It has no trial stage, so trials sit
# in "qualified to buy" until a project names its own trial stage in a rule.
DEFAULT_RULES = (
    PipelineRule("default", "closedwon", ("active", "past_due", "unpaid", "paused")),
    PipelineRule("default", "qualifiedtobuy", ("trialing",)),
    PipelineRule("default", "closedlost", ("canceled", "incomplete_expired")),
    PipelineRule("default", "appointmentscheduled", ("incomplete",)),
)


@dataclass(frozen=True)
class ProjectSettings:
    customers_without_email: str = "sync"
    on_customer_deleted: str = "flag"
    objects: tuple[str, ...] = OBJECTS
    trials_count_as_mrr: bool = False
    company_matching: str = "off"
    pipeline_rules: tuple[PipelineRule, ...] = ()
    metadata_mappings: tuple[tuple[str, str], ...] = field(default=())
    reconcile_drift: str = "sampled"
    reconcile_sample: int = 500

    def syncs(self, objects: str) -> bool:
        return objects in self.objects

    def stage_for(self, status: str, price_ids: set[str]) -> tuple[str, str]:
        for rule in (*self.pipeline_rules, *DEFAULT_RULES):
            if rule.matches(status, price_ids):
                return rule.pipeline, rule.stage
        return "default", "appointmentscheduled"

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any] | None) -> "ProjectSettings":
        doc = dict(doc or {})
        return cls(**{name: parse_setting(name, doc[name]) for name in sorted(doc)})

    def to_doc(self) -> dict[str, Any]:
        return {
            "customers_without_email": self.customers_without_email,
            "on_customer_deleted": self.on_customer_deleted,
            "objects": list(self.objects),
            "trials_count_as_mrr": self.trials_count_as_mrr,
            "company_matching": self.company_matching,
            "pipeline_rules": [
                {
                    "pipeline": r.pipeline,
                    "stage": r.stage,
                    "statuses": list(r.statuses),
                    "price_ids": list(r.price_ids),
                }
                for r in self.pipeline_rules
            ],
            "metadata_mappings": dict(self.metadata_mappings),
            "reconcile_drift": self.reconcile_drift,
            "reconcile_sample": self.reconcile_sample,
        }


def _choice(value: Any, name: str) -> str:
    if value not in _CHOICES[name]:
        raise BadRequest(f"setting {name} must be {' or '.join(_CHOICES[name])}, not {value!r}")
    return str(value)


def _bool(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise BadRequest(f"setting {name} must be true or false")
    return value


def _sample(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest(f"setting {name} must be a whole number")
    if not 1 <= value <= MAX_RECONCILE_SAMPLE:
        raise BadRequest(f"setting {name} must be between 1 and {MAX_RECONCILE_SAMPLE:,}")
    return value


def _strings(value: Any, name: str) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise BadRequest(f"setting {name} must be a list of strings")
    return tuple(value)


def _objects(value: Any, name: str) -> tuple[str, ...]:
    chosen = _strings(value, name)
    for item in chosen:
        if item not in OBJECTS:
            raise BadRequest(f"setting {name}: unknown object {item!r} ({', '.join(OBJECTS)})")
    return chosen


def _rules(value: Any, name: str) -> tuple[PipelineRule, ...]:
    if not isinstance(value, (list, tuple)):
        raise BadRequest(f"setting {name} must be a list of rules")
    return tuple(parse_rule(raw, f"{name}[{i}]") for i, raw in enumerate(value))


def parse_rule(raw: Any, where: str) -> PipelineRule:
    """One pipeline rule; errors name it as ``where``."""
    if not isinstance(raw, Mapping):
        raise BadRequest(f"setting {where} must be an object")
    extra = sorted(set(raw) - {"pipeline", "stage", "statuses", "price_ids"})
    if extra:
        raise BadRequest(f"setting {where}.{extra[0]} is not a rule field")
    for key in ("pipeline", "stage"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise BadRequest(f"setting {where}.{key} must name a HubSpot {key}")
    statuses = _strings(raw.get("statuses", []), f"{where}.statuses")
    for status in statuses:
        if status not in SUBSCRIPTION_STATUSES:
            raise BadRequest(f"setting {where}.statuses: {status!r} is not a Stripe status")
    prices = _strings(raw.get("price_ids", []), f"{where}.price_ids")
    for price in prices:
        if not _PRICE.match(price):
            raise BadRequest(f"setting {where}.price_ids: {price!r} is not a price id")
    return PipelineRule(raw["pipeline"].strip(), raw["stage"].strip(), statuses, prices)


def _mappings(value: Any, name: str) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, Mapping):
        raise BadRequest(f"setting {name} must map metadata keys to HubSpot properties")
    return tuple(sorted(parse_mapping(key, prop, name) for key, prop in value.items()))


def parse_mapping(key: Any, prop: Any, name: str = "metadata_mappings") -> tuple[str, str]:
    """One metadata key -> contact property pair."""
    if not isinstance(key, str) or not 0 < len(key) <= 40:
        raise BadRequest(f"setting {name}: metadata key {key!r} must be 1-40 characters")
    if not isinstance(prop, str) or not _PROPERTY.match(prop):
        raise BadRequest(f"setting {name}.{key}: {prop!r} is not a HubSpot property name")
    return key, prop


def parse_setting(name: str, value: Any) -> Any:
    """One setting's value as ``ProjectSettings`` holds it; ``BadRequest`` naming it."""
    if name not in _PARSERS:
        raise BadRequest(f"unknown setting: {name}")
    return _PARSERS[name](value, name)


_PARSERS = {
    "customers_without_email": _choice,
    "on_customer_deleted": _choice,
    "company_matching": _choice,
    "objects": _objects,
    "trials_count_as_mrr": _bool,
    "pipeline_rules": _rules,
    "metadata_mappings": _mappings,
    "reconcile_drift": _choice,
    "reconcile_sample": _sample,
}
