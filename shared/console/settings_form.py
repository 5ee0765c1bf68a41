"""The settings editor's form, both ways, with no request or store in sight.

``from_settings`` lays ``ProjectSettings`` out as rows a person edits, plus blank rows to add
with (the page has no script, so a new rule is a blank row, not a button). ``from_post`` reads
the posted form back into a settings document for ``settings_check.check``, remembering which
row each rule and mapping came from, so ``place`` can put every problem beside its field.

Posted names: ``customers_without_email``, ``on_customer_deleted``, ``company_matching``,
``objects`` (one per ticked object), ``trials_count_as_mrr``; ``rules`` (how many rule rows) and
per row ``rule-N-order``, ``rule-N-status`` (one per ticked status), ``rule-N-prices``,
``rule-N-target`` ("pipeline id/stage id" from the drop-down; or ``rule-N-pipeline`` and
``rule-N-stage`` typed, while no portal can be read), ``rule-N-remove``; ``mappings`` and per row
``map-N-key``, ``map-N-property``, ``map-N-remove``.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from werkzeug.datastructures import MultiDict

from shared.project_settings import ProjectSettings
from shared.settings_check import Problem

BLANK_RULES = 2
BLANK_MAPPINGS = 2
MAX_ROWS = 50  # a post may name at most this many rows of each kind
CHOICES = ("customers_without_email", "on_customer_deleted", "company_matching")
_SEPARATORS = re.compile(r"[\s,]+")


@dataclass
class RuleRow:
    order: str = ""
    statuses: tuple[str, ...] = ()
    prices: str = ""
    pipeline: str = ""
    stage: str = ""
    error: str = ""

    @property
    def target(self) -> str:
        return f"{self.pipeline}/{self.stage}" if self.pipeline and self.stage else ""

    @property
    def blank(self) -> bool:
        return not (self.statuses or self.prices.strip() or self.pipeline or self.stage)


@dataclass
class MappingRow:
    key: str = ""
    prop: str = ""
    error: str = ""


@dataclass
class Form:
    values: dict[str, Any]  # the single-valued settings and ``objects``
    rules: list[RuleRow]
    mappings: list[MappingRow]
    errors: dict[str, str] = field(default_factory=dict)  # setting name -> its problem
    # which row each rule / mapping of the document came from
    rule_rows: list[int] = field(default_factory=list)
    mapping_rows: dict[str, int] = field(default_factory=dict)

    def problem_count(self) -> int:
        rows = [r.error for r in self.rules] + [m.error for m in self.mappings]
        return len(self.errors) + sum(1 for error in rows if error)


def from_settings(settings: ProjectSettings) -> Form:
    doc = settings.to_doc()
    rules = [
        RuleRow(str(i + 1), r.statuses, ", ".join(r.price_ids), r.pipeline, r.stage)
        for i, r in enumerate(settings.pipeline_rules)
    ]
    start = len(rules)
    rules += [RuleRow(str(start + i + 1)) for i in range(BLANK_RULES)]
    mappings = [MappingRow(k, p) for k, p in settings.metadata_mappings]
    mappings += [MappingRow() for _ in range(BLANK_MAPPINGS)]
    values = {name: doc[name] for name in (*CHOICES, "objects", "trials_count_as_mrr")}
    return Form(values, rules, mappings)


def from_post(posted: MultiDict[str, str]) -> tuple[Form, dict[str, Any]]:
    """The form as posted (to show again) and the settings document it asks for."""
    values: dict[str, Any] = {name: posted.get(name, "") for name in CHOICES}
    values["objects"] = posted.getlist("objects")
    values["trials_count_as_mrr"] = posted.get("trials_count_as_mrr", "") == "on"
    form = Form(values, _rules(posted), _mappings(posted))
    doc: dict[str, Any] = dict(values)
    doc["pipeline_rules"] = _rules_doc(form)
    doc["metadata_mappings"] = _mappings_doc(form)
    return form, doc


def place(form: Form, problems: Sequence[Problem]) -> None:
    """Put each problem beside the field it is about."""
    for problem in problems:
        found = re.fullmatch(r"pipeline_rules\[(\d+)\]", problem.field)
        if found and int(found.group(1)) < len(form.rule_rows):
            form.rules[form.rule_rows[int(found.group(1))]].error = problem.message
        elif problem.field.startswith("metadata_mappings."):
            key = problem.field.removeprefix("metadata_mappings.")
            row = form.mapping_rows.get(key)
            if row is None:
                form.errors["metadata_mappings"] = f"{key}: {problem.message}"
            else:
                form.mappings[row].error = problem.message
        else:
            form.errors[problem.field] = problem.message


def _count(posted: MultiDict[str, str], name: str) -> int:
    try:
        return max(0, min(MAX_ROWS, int(posted.get(name, "0"))))
    except ValueError:
        return 0


def _rules(posted: MultiDict[str, str]) -> list[RuleRow]:
    rows = []
    for i in range(_count(posted, "rules")):
        if posted.get(f"rule-{i}-remove") == "on":
            continue
        target = posted.get(f"rule-{i}-target", "")
        if target:
            # HubSpot pipeline ids never hold a "/": they are a path segment of its API.
            pipeline, _, stage = target.partition("/")
        else:
            pipeline = posted.get(f"rule-{i}-pipeline", "").strip()
            stage = posted.get(f"rule-{i}-stage", "").strip()
        rows.append(
            RuleRow(
                posted.get(f"rule-{i}-order", "").strip(),
                tuple(posted.getlist(f"rule-{i}-status")),
                posted.get(f"rule-{i}-prices", "").strip(),
                pipeline,
                stage,
            )
        )
    return rows


def _rules_doc(form: Form) -> list[dict[str, Any]]:
    """The rules in the order their rows ask for (ties keep the page's order)."""
    ranked = []
    for index, row in enumerate(form.rules):
        if row.blank:
            continue
        try:
            order = float(row.order) if row.order else float(index + 1)
        except ValueError:
            row.error = "order: a number, like 1 or 2"
            continue
        if not row.stage or not row.pipeline:
            row.error = "choose the stage these deals go to"
            continue
        ranked.append((order, index))
    form.rule_rows = [index for _, index in sorted(ranked)]
    return [
        {
            "pipeline": form.rules[i].pipeline,
            "stage": form.rules[i].stage,
            "statuses": list(form.rules[i].statuses),
            "price_ids": [p for p in _SEPARATORS.split(form.rules[i].prices) if p],
        }
        for i in form.rule_rows
    ]


def _mappings(posted: MultiDict[str, str]) -> list[MappingRow]:
    rows = []
    for i in range(_count(posted, "mappings")):
        if posted.get(f"map-{i}-remove") != "on":
            key = posted.get(f"map-{i}-key", "").strip()
            rows.append(MappingRow(key, posted.get(f"map-{i}-property", "").strip()))
    return rows


def _mappings_doc(form: Form) -> dict[str, str]:
    doc: dict[str, str] = {}
    for index, row in enumerate(form.mappings):
        if not row.key and not row.prop:
            continue
        if not row.key or not row.prop:
            row.error = "name the metadata key" if not row.key else "choose a HubSpot property"
        elif row.key in doc:
            row.error = f"{row.key!r} is mapped twice"
        else:
            doc[row.key] = row.prop
            form.mapping_rows[row.key] = index
    return doc
