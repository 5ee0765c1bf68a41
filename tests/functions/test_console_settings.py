"""The settings editor through the ``console`` function, on the embedded stack: the portal's
pipelines and contact properties read from the HubSpot double with the project's own token, the
subscriptions for the preview from the Stripe double, one check with ``cli settings``, every
problem beside its field, nothing saved while there is one."""

import html
import re
import time
from typing import Any

import pytest

from shared import tokens
from shared.accounts import sessions
from shared.oauth.hubspot_tokens import HubSpotOAuthClient
from tests.functions.console_helpers import ORIGIN
from tests.plugins.stack import Stack, function_client

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Editor:
    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        store = stack.runtime.store
        [(owner, _)] = store.find("accounts", "email", "owner@omniroo.test")
        self.account_id = owner
        session = sessions.start(store, stack.clock, owner)
        self.client = function_client("console")
        self.client.set_cookie(sessions.LOCAL_COOKIE_NAME, session.token)
        self.path = f"/projects/{stack.project_id}/settings"

    def page(self) -> str:
        answer = self.client.get(self.path)
        assert answer.status_code == 200, answer.get_data(as_text=True)
        return str(answer.get_data(as_text=True))

    def post(self, fields: dict[str, Any]) -> Any:
        csrf = _CSRF.search(self.page())
        assert csrf
        return self.client.post(
            self.path, data={"csrf_token": csrf.group(1), **fields}, headers={"Origin": ORIGIN}
        )

    def settings(self) -> dict[str, Any]:
        return dict(self.stack.runtime.store.get("projects", self.stack.project_id)["settings"])


def form(**extra: Any) -> dict[str, Any]:
    """The editor's fields as the page sends them with SYNC.md's defaults, plus ``extra``."""
    return {
        "customers_without_email": "sync",
        "on_customer_deleted": "flag",
        "company_matching": "off",
        "objects": ["subscriptions", "invoices", "payments", "products"],
        "rules": "2",
        "mappings": "2",
        "action": "save",
        **extra,
    }


@pytest.fixture
def editor(stack: Stack) -> Editor:
    return Editor(stack)


@pytest.fixture
def pipeline(stack: Stack) -> tuple[str, dict[str, str]]:
    return stack.hubspot.add_pipeline(  # type: ignore[no-any-return]
        stack.portal_id, "deals", "Subscriptions", ["Trial", "Paying"]
    )


def test_the_rules_offer_the_portals_own_pipelines_and_stages(
    editor: Editor, pipeline: tuple[str, dict[str, str]]
) -> None:
    pipeline_id, stages = pipeline
    page = editor.page()
    assert (
        '<optgroup label="Sales Pipeline">' in page and '<optgroup label="Subscriptions">' in page
    )
    assert f'<option value="{pipeline_id}/{stages["Trial"]}">Trial</option>' in page
    assert '<option value="default/closedwon">Closed Won</option>' in page
    # Mappings offer what a mapping may write: not what the sync writes, nor what HubSpot computes.
    assert 'value="company"' in page and 'value="email"' not in page
    assert 'value="stripe_mrr"' not in page
    assert "Sales Pipeline · Closed Won" in page  # the defaults, by their labels
    for control in re.findall(r'<(?:input|select|textarea)[^>]*\bid="([^"]+)"', page):
        assert f'for="{control}"' in page, f"{control} has no label"


def test_a_rule_chosen_from_the_drop_downs_is_saved_and_the_stage_warnings_cleared(
    editor: Editor, stack: Stack, pipeline: tuple[str, dict[str, str]]
) -> None:
    pipeline_id, stages = pipeline
    store = stack.runtime.store
    project = store.get("projects", stack.project_id)
    warnings = ["default rule: the portal has no pipeline 'default'", "missing scope: e-commerce"]
    store.put("projects", stack.project_id, {**project, "hubspot_warnings": warnings})
    answer = editor.post(
        form(
            **{
                "rule-0-order": "2",
                "rule-0-status": ["active", "past_due"],
                "rule-0-target": f"{pipeline_id}/{stages['Paying']}",
                "rule-1-order": "1",
                "rule-1-status": "trialing",
                "rule-1-prices": "price_1Gold, price_1Silver",
                "rule-1-target": f"{pipeline_id}/{stages['Trial']}",
                "map-0-key": "tier",
                "map-0-property": "company",
            }
        )
    )
    assert answer.status_code == 303, answer.get_data(as_text=True)
    assert answer.headers["Location"] == f"{editor.path}?saved=1"
    saved = editor.settings()
    assert saved["pipeline_rules"] == [
        {
            "pipeline": pipeline_id,
            "stage": stages["Trial"],
            "statuses": ["trialing"],
            "price_ids": ["price_1Gold", "price_1Silver"],
        },
        {
            "pipeline": pipeline_id,
            "stage": stages["Paying"],
            "statuses": ["active", "past_due"],
            "price_ids": [],
        },
    ]
    assert saved["metadata_mappings"] == {"tier": "company"}
    assert store.get("projects", stack.project_id)["hubspot_warnings"] == [warnings[1]]
    actions = [d["action"] for _, d in store.find("audit", "account_id", editor.account_id)]
    assert "settings_changed" in actions
    shown = editor.client.get(f"{editor.path}?saved=1").get_data(as_text=True)
    assert (
        "Settings saved" in shown and f'value="{pipeline_id}/{stages["Trial"]}" selected' in shown
    )


def test_every_problem_is_shown_beside_its_field_and_nothing_is_saved(
    editor: Editor, pipeline: tuple[str, dict[str, str]]
) -> None:
    pipeline_id, _ = pipeline
    before = editor.settings()
    answer = editor.post(
        form(
            company_matching="sometimes",
            **{
                "rule-0-status": "active",  # no stage chosen
                "rule-1-status": "trialing",
                "rule-1-target": f"{pipeline_id}/closedwon",  # not a stage of that pipeline
                "map-0-key": "mail",
                "map-0-property": "email",  # written by the sync itself
                "map-1-key": "tier",
                "map-1-property": "no_such_property",
            },
        )
    )
    assert answer.status_code == 400
    page = html.unescape(answer.get_data(as_text=True))
    assert "5 problems" in page
    assert 'id="company_matching-error"' in page and 'aria-invalid="true"' in page
    assert "choose the stage these deals go to" in page
    assert f"pipeline '{pipeline_id}' has no stage 'closedwon'" in page
    assert "Omniroo already writes 'email' from Stripe" in page
    assert "the portal has no contact property 'no_such_property'" in page
    assert 'value="trialing" checked' in page  # what was typed is kept
    assert editor.settings() == before


def test_the_preview_counts_the_deals_each_stage_would_get_without_saving(
    editor: Editor, stack: Stack, pipeline: tuple[str, dict[str, str]]
) -> None:
    pipeline_id, stages = pipeline
    stripe, account = stack.stripe, stack.account
    product = stripe.create_product(account, "Pro")["id"]
    price = stripe.create_price(account, product, 4900, "usd", "month")["id"]
    for n, trial in enumerate((None, None, int(time.time()) + 7 * 86400)):
        customer = stripe.create_customer(account, email=f"p{n}@example.com")["id"]
        more = {"trial_end": trial} if trial else {}
        stripe.create_subscription(account, customer, [{"price": price}], **more)
    before = editor.settings()
    answer = editor.post(
        form(
            action="preview",
            **{"rule-0-status": "trialing", "rule-0-target": f"{pipeline_id}/{stages['Trial']}"},
        )
    )
    assert answer.status_code == 200
    rows = re.findall(
        r'<tr><td>([^<]+)</td><td class="number">(\d+)</td></tr>', answer.get_data(as_text=True)
    )
    assert rows == [("Sales Pipeline · Closed Won", "2"), ("Subscriptions · Trial", "1")]
    assert editor.settings() == before


def test_a_project_without_stripe_says_what_the_preview_needs(editor: Editor, stack: Stack) -> None:
    store = stack.runtime.store
    project = store.get("projects", stack.project_id)
    store.put("projects", stack.project_id, {**project, "stripe_status": "revoked"})
    answer = editor.post(form(action="preview"))
    assert "Connect Stripe to preview" in answer.get_data(as_text=True)


def test_an_unreachable_hubspot_blocks_saving_unchecked_settings(
    editor: Editor, stack: Stack
) -> None:
    editor.page()
    stack.hubspot.fault("status", count=None, status=503, path_contains="/crm/v3/pipelines")
    before = editor.settings()
    answer = editor.post(form(company_matching="domain"))
    assert answer.status_code == 400
    assert "HubSpot could not be reached" in answer.get_data(as_text=True)
    assert editor.settings() == before
    stack.hubspot.clear_faults()
    assert editor.post(form(company_matching="domain")).status_code == 303
    assert editor.settings()["company_matching"] == "domain"


def test_a_connection_without_its_token_asks_to_reconnect(editor: Editor, stack: Stack) -> None:
    stack.runtime.store.delete("tokens", stack.project_id)
    page = editor.page()
    assert "HubSpot needs reconnecting" in page and "Reconnect HubSpot" in page
    assert stack.runtime.store.get("projects", stack.project_id)["hubspot_status"] == "reconnect"


def test_a_refused_refresh_token_asks_to_reconnect(
    editor: Editor, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An OAuth grant past its expiry whose refresh token HubSpot (the double's OAuth endpoint,
    through the real client) no longer knows: the project is marked for reconnecting."""
    store, envelope = stack.runtime.store, stack.runtime.envelope
    tokens.save(store, envelope, stack.project_id, tokens.HubSpotTokens("gone", "rt-gone", 0.0))
    stack.hubspot.register_oauth_app("hs-client", "hs-secret", f"{ORIGIN}/oauth/hubspot/callback")
    oauth = HubSpotOAuthClient("hs-client", "hs-secret", stack.hubspot.base_url)
    monkeypatch.setattr(stack.runtime.drain, "refresher", oauth.refresh)
    fresh = Editor(stack)  # the console built after the refresher is in place
    answer = fresh.client.get(fresh.path).get_data(as_text=True)
    assert "HubSpot needs reconnecting" in answer and "Reconnect HubSpot" in answer
    assert store.get("projects", stack.project_id)["hubspot_status"] == "reconnect"


def test_without_hubspot_the_ids_are_typed_and_checked_at_connect(
    editor: Editor, stack: Stack
) -> None:
    store = stack.runtime.store
    project = store.get("projects", stack.project_id)
    store.put("projects", stack.project_id, {**project, "hubspot_status": "disconnected"})
    page = editor.page()
    assert 'name="rule-0-pipeline"' in page and "<optgroup" not in page
    answer = editor.post(
        form(**{"rule-0-status": "active", "rule-0-pipeline": "77", "rule-0-stage": "won"})
    )
    assert answer.status_code == 303
    assert editor.settings()["pipeline_rules"][0]["stage"] == "won"
