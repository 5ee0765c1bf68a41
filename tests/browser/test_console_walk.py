"""The console as a person uses it, in a real browser on the sandbox ``make run`` serves.

Sign up -> connect Stripe and HubSpot -> a subscription's deal lands in HubSpot's default stage
-> a pipeline rule chosen from the drop-downs, previewed, saved -> the subscription's next event
moves the deal to the chosen stage. Every page on the way passes the accessibility check
(axe-core: no serious or critical violation) and is saved as a screenshot (``a11y.ARTIFACTS``).
"""

from collections.abc import Callable
from typing import Any

from shared import wiring
from shared.config import Settings
from tests.browser import a11y
from tests.browser.conftest import Sandboxed

EMAIL = "walk@omniroo.example"
PASSWORD = "Quietly-Orbiting-Teapot-4711"


def wait_for(page: Any, found: Callable[[], Any], what: str) -> Any:
    """Poll until ``found()`` is truthy (the sandbox forwards events within a poll or two)."""
    for _ in range(150):
        value = found()
        if value:
            return value
        page.wait_for_timeout(100)
    raise AssertionError(f"timed out waiting for {what}")


def test_sign_up_connect_and_move_a_deal_with_a_rule_from_the_drop_downs(
    a11y_page: Any, sandbox: Sandboxed
) -> None:
    page, (base, box) = a11y_page, sandbox
    print(f"screenshots: {a11y.ARTIFACTS}")
    for path, name in (
        ("/", "01-home"),
        ("/security", "02-security"),
        ("/contact", "03-contact"),
        ("/sign-in", "04-sign-in"),
        ("/nowhere", "05-not-found"),
        ("/sign-up", "06-sign-up"),
    ):
        page.goto(base + path)
        a11y.check(page, name)

    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.click("form[action='/sign-up'] button[type=submit]")
    page.wait_for_url(f"{base}/projects")
    a11y.check(page, "07-projects-empty")
    page.fill("#name", "My shop")
    page.click("form[action='/projects'] button[type=submit]")
    page.wait_for_url(f"{base}/projects/prj_*")
    project_url = page.url
    project_id = project_url.rsplit("/", 1)[1]
    a11y.check(page, "08-project-new")
    page.click("text=Connect Stripe")
    page.wait_for_url(project_url)
    page.click("text=Connect HubSpot")
    page.wait_for_url(project_url)

    store = wiring.local_runtime(Settings.from_env()).store
    project = store.get("projects", project_id)
    assert project["stripe_status"] == project["hubspot_status"] == "connected"
    account, portal = project["stripe_account"], int(project["hubspot_portal_id"])
    pipeline, stages = box.hubspot.add_pipeline(
        portal, "deals", "Subscriptions", ["Trial", "Paying"], {"Paying": {"probability": "1.0"}}
    )
    customer = box.stripe.create_customer(account, email="ada@customer.example", name="Ada")
    product = box.stripe.create_product(account, "Pro plan")["id"]
    price = box.stripe.create_price(account, product, 4900, "usd", "month")["id"]
    sub = box.stripe.create_subscription(account, customer["id"], [{"price": price}])["id"]

    def deal() -> dict[str, Any]:
        found = box.hubspot.record_by(portal, "deals", "stripe_subscription_id", sub)
        return dict(found["properties"]) if found else {}

    first = wait_for(page, deal, "the subscription's deal")
    assert (first["pipeline"], first["dealstage"]) == ("default", "closedwon")
    page.reload()
    a11y.check(page, "09-project-syncing")

    page.click("text=Edit settings")
    page.wait_for_url(f"{project_url}/settings")
    a11y.check(page, "10-settings")
    page.check("#rule-0-status-active")
    page.select_option("#rule-0-target", f"{pipeline}/{stages['Paying']}")
    page.click("button[value=preview]")
    page.wait_for_selector("#preview")
    rows = page.locator("#preview tbody tr").all_inner_texts()
    assert [r.split("\t") for r in rows] == [["Subscriptions · Paying", "1"]], rows
    a11y.check(page, "11-settings-preview")
    page.click("button[value=save]")
    page.wait_for_url(f"{project_url}/settings?saved=1")
    a11y.check(page, "12-settings-saved")
    assert (
        store.get("projects", project_id)["settings"]["pipeline_rules"][0]["stage"]
        == (stages["Paying"])
    )

    # The subscription's next event (any change) is synced with the new rule.
    box.stripe.update_subscription(account, sub, metadata={"seats": "3"})
    moved = wait_for(page, lambda: deal().get("dealstage") == stages["Paying"] and deal(), "move")
    assert moved["pipeline"] == pipeline

    page.check("#rule-1-status-trialing")  # a rule without a stage: shown beside the rule
    page.click("button[value=save]")
    page.wait_for_selector(".field-error")
    a11y.check(page, "13-settings-error")
    page.goto(f"{base}/account")
    a11y.check(page, "14-account")
    page.goto(f"{base}/projects")
    a11y.check(page, "15-projects")
    store.put(
        "projects", project_id, {**store.get("projects", project_id), "hubspot_status": "revoked"}
    )
    page.goto(project_url)
    assert "needs reconnecting" in page.inner_text("main")
    a11y.check(page, "16-project-reconnect")
