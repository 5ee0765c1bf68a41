"""Project settings: a bad one is refused naming the field; rules are checked against the portal."""

import json
from typing import Any

import pytest

from shared.errors import BadRequest
from shared.project_settings import OBJECTS, PipelineRule, ProjectSettings
from shared.settings_check import unknown_stages

PORTAL = {
    "default": {"appointmentscheduled", "qualifiedtobuy", "closedwon", "closedlost"},
    "77": {"trial", "paying"},
}


def test_defaults_match_sync_md() -> None:
    s = ProjectSettings()
    assert (s.customers_without_email, s.on_customer_deleted) == ("sync", "flag")
    assert s.objects == OBJECTS and not s.trials_count_as_mrr and s.company_matching == "off"
    assert s.stage_for("active", set()) == ("default", "closedwon")
    assert s.stage_for("past_due", set()) == ("default", "closedwon")
    assert s.stage_for("trialing", set()) == ("default", "qualifiedtobuy")
    assert s.stage_for("canceled", set()) == ("default", "closedlost")
    assert s.stage_for("incomplete_expired", set()) == ("default", "closedlost")


def test_first_matching_rule_wins_then_defaults() -> None:
    s = ProjectSettings.from_doc(
        {
            "pipeline_rules": [
                {"statuses": ["trialing"], "pipeline": "77", "stage": "trial"},
                {"price_ids": ["price_Gold"], "pipeline": "77", "stage": "paying"},
                {"statuses": ["active"], "pipeline": "default", "stage": "appointmentscheduled"},
            ]
        }
    )
    assert s.stage_for("trialing", {"price_Gold"}) == ("77", "trial")
    assert s.stage_for("active", {"price_Gold"}) == ("77", "paying")
    assert s.stage_for("active", {"price_Basic"}) == ("default", "appointmentscheduled")
    assert s.stage_for("canceled", {"price_Basic"}) == ("default", "closedlost")


def test_round_trip_through_the_store_format() -> None:
    doc = {
        "objects": ["subscriptions"],
        "trials_count_as_mrr": True,
        "company_matching": "domain",
        "metadata_mappings": {"plan_tier": "plan_tier"},
        "pipeline_rules": [
            {"statuses": ["active"], "price_ids": [], "pipeline": "77", "stage": "paying"}
        ],
        "customers_without_email": "skip",
        "on_customer_deleted": "archive",
        "reconcile_drift": "full",
        "reconcile_sample": 2000,
    }
    assert ProjectSettings.from_doc(doc).to_doc() == doc


@pytest.mark.parametrize(
    ("doc", "named"),
    [
        ({"objects": ["customers"]}, "objects: unknown object 'customers'"),
        ({"objects": "subscriptions"}, "objects must be a list"),
        ({"trials_count_as_mrr": "yes"}, "trials_count_as_mrr must be true or false"),
        ({"company_matching": "fuzzy"}, "company_matching must be"),
        ({"pipeline_rules": {}}, "pipeline_rules must be a list"),
        ({"pipeline_rules": [{"stage": "x"}]}, r"pipeline_rules\[0\].pipeline"),
        ({"pipeline_rules": [{"pipeline": "p", "stage": " "}]}, r"pipeline_rules\[0\].stage"),
        (
            {"pipeline_rules": [{"pipeline": "p", "stage": "s", "statuses": ["alive"]}]},
            r"pipeline_rules\[0\].statuses: 'alive'",
        ),
        (
            {"pipeline_rules": [{"pipeline": "p", "stage": "s", "price_ids": ["gold plan"]}]},
            r"pipeline_rules\[0\].price_ids: 'gold plan'",
        ),
        (
            {"pipeline_rules": [{"pipeline": "p", "stage": "s", "when": 1}]},
            r"pipeline_rules\[0\].when",
        ),
        ({"metadata_mappings": {"tier": "Bad Name"}}, "metadata_mappings.tier"),
        ({"metadata_mappings": {"k" * 41: "ok"}}, "metadata key"),
        ({"reconcile_drift": "weekly"}, "reconcile_drift must be sampled or full or off"),
        ({"reconcile_sample": 0}, "reconcile_sample must be between 1 and 10,000"),
        ({"reconcile_sample": "500"}, "reconcile_sample must be a whole number"),
        ({"reconcile_sample": True}, "reconcile_sample must be a whole number"),
        ({"colour": "blue"}, "unknown setting: colour"),
    ],
)
def test_bad_settings_are_refused_naming_the_field(doc: dict[str, Any], named: str) -> None:
    with pytest.raises(BadRequest, match=named):
        ProjectSettings.from_doc(doc)


def test_rules_naming_what_the_portal_lacks_are_reported() -> None:
    settings = ProjectSettings(
        pipeline_rules=(
            PipelineRule("77", "trial", ("trialing",)),
            PipelineRule("88", "x"),
            PipelineRule("77", "closedwon"),
        )
    )
    assert unknown_stages(settings, PORTAL) == [
        "pipeline_rules[1]: the portal has no pipeline '88'",
        "pipeline_rules[2]: pipeline '77' has no stage 'closedwon'",
    ]
    assert unknown_stages(ProjectSettings(), PORTAL) == []
    assert "default rule" in unknown_stages(ProjectSettings(), {"77": {"trial"}})[0]


def test_settings_json_depth_counts_brackets_outside_strings_only() -> None:
    from shared.settings_check import MAX_JSON_DEPTH, load_json

    quoted = {"metadata_mappings": {'plan "[[[[[[[[[[[[" \\': "plan"}}
    assert load_json(json.dumps(quoted)) == quoted
    deepest = "[" * (MAX_JSON_DEPTH - 1) + "]" * (MAX_JSON_DEPTH - 1)
    assert load_json(f'{{"objects": {deepest}}}') == {"objects": json.loads(deepest)}
    with pytest.raises(BadRequest, match="nested too deeply"):
        load_json(f'{{"objects": [{deepest}]}}')
    for text, message in (("[]", "expected a JSON object"), ("{", "not JSON")):
        with pytest.raises(BadRequest, match=message):
            load_json(text)


def test_a_legacy_plan_id_chosen_by_the_account_is_a_price_id() -> None:
    """Price ids are opaque: a plan created with its own id ("gold-monthly") is still a price."""
    rule = {"pipeline": "p", "stage": "s", "price_ids": ["gold-monthly", "price_1Ab"]}
    settings = ProjectSettings.from_doc({"pipeline_rules": [rule]})
    assert settings.pipeline_rules[0].price_ids == ("gold-monthly", "price_1Ab")
