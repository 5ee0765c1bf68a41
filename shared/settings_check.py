"""Settings on their way in: one check for the console's editor and ``tooling.cli settings``.

``load_json``: settings as JSON text (the CLI's file, the console's import box), refused with a
clear ``BadRequest`` when over ``MAX_JSON_BYTES`` or nested deeper than ``MAX_JSON_DEPTH``, both
checked before parsing: Python's parser recurses, and deep nesting would raise ``RecursionError``
(a 500) instead of a refusal. Settings nest four levels at most (``pipeline_rules[i].statuses``).

``check(doc, portal)``: every problem at once, each naming its setting (a rule by its index, a
metadata mapping by its key), so a form can show it beside the field:

- the value itself (``ProjectSettings``' own parsing, one rule and one mapping at a time);
- a metadata mapping onto a contact property the sync already writes from Stripe (SYNC.md's
  contact table): the two would overwrite each other on every event;
- against the portal, when there is one (``against_portal``: the CLI's ``--force`` saves anyway):
  a rule naming a pipeline or stage HubSpot does not have (it would fail on every deal), a
  default rule that can still apply and names one, a mapping onto a contact property the portal
  lacks or that HubSpot computes itself.
"""

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from shared.errors import BadRequest
from shared.hubspot.portal import Portal
from shared.hubspot.schema import SCHEMA
from shared.project_settings import (
    DEFAULT_RULES,
    PipelineRule,
    ProjectSettings,
    parse_mapping,
    parse_rule,
    parse_setting,
)

MAX_JSON_BYTES = 32 * 1024
MAX_JSON_DEPTH = 8


def load_json(text: str) -> dict[str, Any]:
    """The JSON object in ``text``; ``BadRequest`` naming what is wrong otherwise."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_JSON_BYTES:
        raise BadRequest(f"settings: too large (at most {MAX_JSON_BYTES // 1024} KiB of JSON)")
    if _deeper_than(text, MAX_JSON_DEPTH):
        raise BadRequest(f"settings: nested too deeply (at most {MAX_JSON_DEPTH} levels)")
    try:
        parsed = json.loads(text)
    except ValueError as exc:
        raise BadRequest(f"settings: not JSON ({exc})") from None
    if not isinstance(parsed, dict):
        raise BadRequest("settings: expected a JSON object")
    return parsed


def _deeper_than(text: str, limit: int) -> bool:
    """Whether brackets outside strings nest deeper than ``limit`` (malformed text is left to
    the parser to refuse)."""
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


# What the customer mapping writes on a contact (SYNC.md): a metadata mapping must not fight it.
MANAGED_CONTACT_PROPERTIES = frozenset(
    {"email", "firstname", "lastname", "phone", "address", "city", "state", "zip", "country"}
    | {p.name for p in SCHEMA["contacts"][1]}
)


# The fields ``unknown_stages`` names: its lines start with one of these.
STAGE_PROBLEM_FIELDS = ("pipeline_rules[", "default rule")


@dataclass(frozen=True)
class Problem:
    field: str  # "company_matching", "pipeline_rules[2]", "metadata_mappings.plan", "default rule"
    message: str
    against_portal: bool = False

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


@dataclass(frozen=True)
class Checked:
    settings: ProjectSettings | None  # None when a value is invalid
    problems: tuple[Problem, ...]

    @property
    def saveable(self) -> bool:
        return self.settings is not None and not self.problems


def check(doc: Mapping[str, Any], portal: Portal | None) -> Checked:
    problems, rules, mappings = _values(doc)
    if portal is not None:
        problems += _stage_problems(rules, portal.stage_ids())
        problems += _property_problems(mappings, portal)
    invalid = any(not p.against_portal for p in problems)
    return Checked(None if invalid else ProjectSettings.from_doc(doc), tuple(problems))


Rules = list[tuple[str, PipelineRule]]  # (where, rule): the rules that parsed


def _values(doc: Mapping[str, Any]) -> tuple[list[Problem], Rules, list[tuple[str, str]]]:
    """Problems of the values, and the rules and mappings that are valid in themselves."""
    problems: list[Problem] = []
    rules: Rules = []
    mappings: list[tuple[str, str]] = []
    for name, value in sorted(doc.items()):
        if name == "pipeline_rules" and isinstance(value, list):
            for i, raw in enumerate(value):
                where = f"{name}[{i}]"
                rule = _parsed(problems, where, parse_rule, raw, where)
                if rule is not None:
                    rules.append((where, rule))
        elif name == "metadata_mappings" and isinstance(value, Mapping):
            for key, prop in value.items():
                where = f"{name}.{key}"
                pair = _parsed(problems, where, parse_mapping, key, prop, name)
                if prop in MANAGED_CONTACT_PROPERTIES:
                    problems.append(Problem(where, f"Omniroo already writes {prop!r} from Stripe"))
                elif pair is not None:
                    mappings.append(pair)
        else:
            _parsed(problems, str(name), parse_setting, name, value)
    return problems, rules, mappings


def _parsed[T](
    problems: list[Problem], where: str, parse: Callable[..., T], *args: Any
) -> T | None:
    """``parse(*args)``, or None with its problem added (without the setting's name in front)."""
    try:
        return parse(*args)
    except BadRequest as exc:
        message = str(exc).removeprefix("setting ")
        for prefix in (where, where.split(".")[0]):
            if message.startswith(prefix):
                message = message[len(prefix) :].lstrip(".: ")
                break
        problems.append(Problem(where, message))
        return None


def _stage_problems(rules: Rules, pipelines: dict[str, set[str]]) -> list[Problem]:
    problems = []
    own = [rule for _, rule in rules]
    defaults = [("default rule", rule) for rule in DEFAULT_RULES if _reachable(rule, own)]
    for where, rule in [*rules, *defaults]:
        if rule.pipeline not in pipelines:
            message = f"the portal has no pipeline {rule.pipeline!r}"
        elif rule.stage not in pipelines[rule.pipeline]:
            message = f"pipeline {rule.pipeline!r} has no stage {rule.stage!r}"
        else:
            continue
        if where == "default rule":
            message += f" (add a rule for {', '.join(rule.statuses)})"
        problems.append(Problem(where, message, against_portal=True))
    return problems


def _reachable(default: PipelineRule, own: list[PipelineRule]) -> bool:
    """Whether some subscription can still fall through to this default rule: one of its
    statuses is not caught by a project rule that applies whatever the prices."""
    catch_all = [r for r in own if not r.price_ids]
    return any(
        not any(not r.statuses or status in r.statuses for r in catch_all)
        for status in default.statuses
    )


def _property_problems(mappings: list[tuple[str, str]], portal: Portal) -> list[Problem]:
    problems = []
    for key, name in mappings:
        found = portal.contact_property(name)
        if found is None:
            message = f"the portal has no contact property {name!r}"
        elif found.read_only:
            message = f"HubSpot computes {name!r} itself; choose another property"
        else:
            continue
        problems.append(Problem(f"metadata_mappings.{key}", message, against_portal=True))
    return problems


def unknown_stages(settings: ProjectSettings, pipelines: dict[str, set[str]]) -> list[str]:
    """The rules naming what the portal lacks, as lines (the connect flow's warnings)."""
    rules = [(f"pipeline_rules[{i}]", r) for i, r in enumerate(settings.pipeline_rules)]
    return [str(p) for p in _stage_problems(rules, pipelines)]
