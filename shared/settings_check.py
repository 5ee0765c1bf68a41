"""Settings on their way in, one way for the console and ``tooling.cli settings``.

``load_json``: settings as JSON text (the CLI's file, the console's import box), refused with a
clear ``BadRequest`` when over ``MAX_JSON_BYTES`` or nested deeper than ``MAX_JSON_DEPTH``, both
checked before parsing: Python's parser recurses, and deep nesting would raise ``RecursionError``
(a 500) instead of a refusal. Settings nest four levels at most (``pipeline_rules[i].statuses``).

``unknown_stages``: pipeline rules checked against the portal: a rule naming a pipeline or stage
HubSpot does not have is reported by name, not left to fail silently on every deal.
"""

import json
from typing import Any

from shared.errors import BadRequest
from shared.project_settings import DEFAULT_RULES, ProjectSettings

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


def unknown_stages(settings: ProjectSettings, pipelines: dict[str, set[str]]) -> list[str]:
    problems = []
    rules = [(f"pipeline_rules[{i}]", rule) for i, rule in enumerate(settings.pipeline_rules)]
    rules += [("default rule", rule) for rule in DEFAULT_RULES]
    for where, rule in rules:
        if rule.pipeline not in pipelines:
            problems.append(f"{where}: the portal has no pipeline {rule.pipeline!r}")
        elif rule.stage not in pipelines[rule.pipeline]:
            problems.append(f"{where}: pipeline {rule.pipeline!r} has no stage {rule.stage!r}")
    return problems
