"""``settings_check.check``: the one check behind the console's editor and ``cli settings``.
Every problem at once, each naming its setting; against a real portal read through
``hubspot-api-client`` from the HubSpot double."""

from typing import Any

from shared.clock import FakeClock
from shared.hubspot.gateway import HubSpotGateway
from shared.hubspot.portal import Pipeline, Portal, Property, Stage
from shared.settings_check import check

PORTAL = Portal(
    (
        Pipeline(
            "default",
            "Sales Pipeline",
            tuple(
                Stage(s, s.title())
                for s in ("appointmentscheduled", "qualifiedtobuy", "closedwon", "closedlost")
            ),
        ),
        Pipeline("77", "Subscriptions", (Stage("801", "Trial"), Stage("802", "Paying"))),
    ),
    (Property("plan_tier", "Plan tier"), Property("hs_object_id", "Record ID", read_only=True)),
)


def _fields(doc: dict[str, Any], portal: Portal | None = PORTAL) -> dict[str, str]:
    return {p.field: p.message for p in check(doc, portal).problems}


def test_valid_settings_pass_and_are_returned() -> None:
    doc = {
        "pipeline_rules": [{"statuses": ["trialing"], "pipeline": "77", "stage": "801"}],
        "metadata_mappings": {"tier": "plan_tier"},
    }
    checked = check(doc, PORTAL)
    assert checked.saveable and checked.settings is not None
    assert checked.settings.stage_for("trialing", set()) == ("77", "801")


def test_every_invalid_value_is_named_at_once() -> None:
    found = _fields(
        {
            "company_matching": "sometimes",
            "pipeline_rules": [
                {"statuses": ["trialing"], "pipeline": "77", "stage": "801"},
                {"statuses": ["alive"], "pipeline": "77", "stage": "801"},
            ],
            "metadata_mappings": {"tier": "Plan Tier", "mail": "email"},
        }
    )
    assert set(found) == {
        "company_matching",
        "pipeline_rules[1]",
        "metadata_mappings.tier",
        "metadata_mappings.mail",
    }
    assert found["pipeline_rules[1]"] == "statuses: 'alive' is not a Stripe status"
    assert "already writes 'email'" in found["metadata_mappings.mail"]
    assert check({"company_matching": "sometimes"}, PORTAL).settings is None


def test_against_the_portal_stages_and_properties() -> None:
    doc = {
        "pipeline_rules": [{"statuses": ["active"], "pipeline": "77", "stage": "closedwon"}],
        "metadata_mappings": {"tier": "tier_of_plan", "id": "hs_object_id"},
    }
    checked = check(doc, PORTAL)
    assert checked.settings is not None and not checked.saveable
    assert all(p.against_portal for p in checked.problems)
    found = _fields(doc)
    assert found["pipeline_rules[0]"] == "pipeline '77' has no stage 'closedwon'"
    assert found["metadata_mappings.tier"] == "the portal has no contact property 'tier_of_plan'"
    assert "computes 'hs_object_id'" in found["metadata_mappings.id"]
    assert _fields(doc, None) == {}  # no portal to check against: values only


def test_a_default_rule_is_reported_only_while_it_can_still_apply() -> None:
    bare = Portal((Pipeline("77", "Subscriptions", (Stage("801", "Trial"),)),), ())
    found = check({}, bare).problems
    assert {p.field for p in found} == {"default rule"} and len(found) == 4
    assert any("add a rule for trialing" in p.message for p in found)
    covering = {"pipeline_rules": [{"pipeline": "77", "stage": "801"}]}  # any status
    assert check(covering, bare).saveable
    by_price = {"pipeline_rules": [{"pipeline": "77", "stage": "801", "price_ids": ["price_1"]}]}
    assert len(check(by_price, bare).problems) == 4  # a price rule leaves the defaults reachable


def test_the_gateway_reads_the_portal_pipelines_stages_and_contact_properties(
    hubspot_double: Any,
) -> None:
    portal_id, token = hubspot_double.add_portal()
    pipeline, stages = hubspot_double.add_pipeline(
        portal_id, "deals", "Subscriptions", ["Trial", "Paying"]
    )
    portal = HubSpotGateway(token, FakeClock(), hubspot_double.base_url).portal()
    assert [p.label for p in portal.pipelines] == ["Sales Pipeline", "Subscriptions"]
    assert [s.label for s in portal.pipelines[1].stages] == ["Trial", "Paying"]
    assert portal.stage_ids()[pipeline] == set(stages.values())
    assert portal.stage_label(pipeline, stages["Paying"]) == "Subscriptions · Paying"
    assert portal.stage_label("default", "closedwon") == "Sales Pipeline · Closed Won"
    email = portal.contact_property("email")
    assert email is not None and email.label == "Email" and not email.read_only
