"""Health, failures, replay and backfill in a real browser on the sandbox ``make run`` serves.

Sign up -> connect Stripe -> history happens in Stripe while HubSpot is not connected yet (the
sync skips it) -> connect HubSpot -> preview the backfill (contacts to create) -> start it with
the HubSpot double refusing every contact -> progress to 100 % -> the failures appear with what
to do -> HubSpot accepts again -> replay one, confirmed -> replay the rest of its code from the
health page -> the health chart and table count the failures and the replays. A backfill held
still shows the self-refreshing progress bar and is cancelled. Every page passes the
accessibility check and is saved as a screenshot (``a11y.ARTIFACTS``).
"""

from typing import Any

from shared import wiring
from shared.config import Settings
from shared.repair import backfill, health
from tests.browser import a11y
from tests.browser.conftest import Sandboxed
from tests.browser.test_console_walk import PASSWORD, wait_for

EMAIL = "repair@omniroo.example"


def test_preview_backfill_fail_replay_and_see_it_in_health(
    a11y_page: Any, sandbox: Sandboxed
) -> None:
    page, (base, box) = a11y_page, sandbox
    runtime = wiring.local_runtime(Settings.from_env())
    store = runtime.store
    page.goto(base + "/sign-up")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.click("form[action='/sign-up'] button[type=submit]")
    page.wait_for_url(f"{base}/projects")
    page.fill("#name", "History shop")
    page.click("form[action='/projects'] button[type=submit]")
    page.wait_for_url(f"{base}/projects/prj_*")
    project_url = page.url
    project_id = project_url.rsplit("/", 1)[1]
    page.click("text=Connect Stripe")
    page.wait_for_url(project_url)
    account = store.get("projects", project_id)["stripe_account"]

    # History made before HubSpot is connected: forwarded, and skipped by the sync.
    ids = [
        box.stripe.create_customer(account, email=f"c{n}@customer.example")["id"] for n in range(3)
    ]
    product = box.stripe.create_product(account, "Pro plan")["id"]
    price = box.stripe.create_price(account, product, 4900, "usd", "month")["id"]
    box.stripe.create_subscription(account, ids[0], [{"price": price}])

    def skipped() -> bool:
        return sum(1 for _, o in store.find("outcomes", "project_id", project_id)) >= 3

    wait_for(page, skipped, "the history's events to be skipped")
    assert runtime.drainers.wait_idle(timeout=30)
    page.click("text=Connect HubSpot")
    page.wait_for_url(project_url)
    portal = int(store.get("projects", project_id)["hubspot_portal_id"])
    assert box.hubspot.records(portal, "contacts") == []

    # A backfill held still: the bar refreshes itself, can be told not to, and is cancelled.
    threads = runtime.backfills()
    resume = threads.resume
    threads.resume = lambda project_id: None  # type: ignore[method-assign]
    backfill.start(store, runtime.clock, project_id, ["customers"])
    page.goto(f"{project_url}/backfill")
    assert page.locator("[data-refresh-seconds]").count() == 1
    with page.expect_navigation(timeout=10_000):  # refresh.js reloads it while it runs
        pass
    a11y.check(page, "20-backfill-running")
    page.click("text=Stop updating automatically")
    page.wait_for_url(f"{project_url}/backfill?auto=0")
    assert page.locator("[data-refresh-seconds]").count() == 0
    a11y.check(page, "21-backfill-running-still")
    page.click("text=Cancel the backfill")
    page.wait_for_selector("text=Backfill cancelled")
    threads.resume = resume  # type: ignore[method-assign]

    for kind in ("products", "subscriptions", "customers"):
        page.check(f"#kind-{kind}")
    page.uncheck("#kind-invoices")
    page.click("#preview-button")
    page.wait_for_selector("#backfill-preview")
    a11y.check(page, "22-backfill-preview")
    contacts = page.locator("#backfill-preview tbody tr", has_text="contacts").inner_text()
    assert contacts.split("\t")[:2] == ["contacts", "3"], contacts
    deals = page.locator("#backfill-preview tbody tr", has_text="deals").inner_text()
    assert deals.split("\t")[:2] == ["deals", "1"], deals
    assert box.hubspot.records(portal, "contacts") == []  # the preview wrote nothing

    box.hubspot.fault("status", count=None, status=400, path_contains="/objects/contacts")
    page.click("#start-button")
    page.wait_for_selector("text=Backfill finished", timeout=60_000)
    bar = page.locator("#backfill-bar")
    assert bar.get_attribute("value") == bar.get_attribute("max") != "0"
    assert "(100 %)" in page.inner_text("#backfill-progress")
    a11y.check(page, "23-backfill-done")
    assert runtime.drainers.wait_idle(timeout=30)

    page.click("nav.tabs >> text=Failures")
    rows = page.locator("#outcomes tbody tr")
    failed = rows.count()
    assert failed >= 3, page.inner_text("main")
    code = page.locator("#outcomes tbody tr code[title]").first.inner_text()
    a11y.check(page, "24-failures")
    box.hubspot.clear_faults()

    rows.first.locator("text=Replay").click()
    page.wait_for_selector("#confirm-replay")
    assert "Replay 1 failure?" in page.inner_text("main")
    a11y.check(page, "25-replay-confirm")
    page.click("#confirm-replay")
    page.wait_for_selector("#replay-result")
    assert "1 failure replayed." in page.inner_text("#replay-result")
    assert runtime.drainers.wait_idle(timeout=30)
    page.reload()
    assert page.locator("#outcomes .badge", has_text="synced").count() >= 1
    a11y.check(page, "26-replayed")

    page.click("nav.tabs >> text=Health")
    a11y.check(page, "27-health-failing")
    page.click(f"text=Replay {failed - 1}")
    page.wait_for_selector("#confirm-replay")
    page.click("#confirm-replay")
    page.wait_for_selector("#replay-result")
    assert runtime.drainers.wait_idle(timeout=30)
    assert len(box.hubspot.records(portal, "contacts")) == 3

    page.click("nav.tabs >> text=Health")
    assert "No failures." in page.inner_text("main")
    assert page.locator("svg.chart rect.series-failed").count() == 1
    page.click("#health-table summary")
    today = health.day_of(runtime.clock.now())
    cells = page.locator(f"#health-table tr:has(th:text('{today}')) td").all_inner_texts()
    names = ["received", "synced", "failed", "dead", "skipped", "replayed", "runs"]
    counts = dict(zip(names, cells, strict=True))
    assert int(counts["failed"]) == failed and int(counts["replayed"]) == failed, counts
    assert int(counts["synced"]) >= failed
    assert counts["runs"].startswith("backfill cancelled (0), backfill done (4)"), counts
    a11y.check(page, "28-health")
    assert "100 %" in page.inner_text("main")  # every record of the last 24 h synced in the end
    assert f"{failed} {code}" not in page.inner_text("main")
