"""Pipeline rules checked against the portal: a rule naming a pipeline or stage HubSpot does not
have is reported by name, not left to fail silently on every deal."""

from shared.project_settings import DEFAULT_RULES, ProjectSettings


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
