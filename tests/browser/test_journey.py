"""The user's journey in a real browser, on the sandbox ``make run`` serves: sign up -> create a
project -> connect Stripe (double) -> connect HubSpot (double) -> a signed event syncs ->
disconnect -> close the account; then ``purge`` with the clock 29 days ahead leaves nothing of
the account in the store."""

import os
from typing import Any

from shared import purge, wiring
from shared.clock import FakeClock
from shared.config import Settings
from shared.store.base import FIELDS
from tests.browser.conftest import Sandboxed

EMAIL = "journey@omniroo.example"
PASSWORD = "Quietly-Orbiting-Teapot-4711"


def test_a_person_goes_from_sign_up_to_closure(page: Any, sandbox: Sandboxed) -> None:
    base, box = sandbox
    runtime = wiring.local_runtime(Settings.from_env())

    page.goto(f"{base}/sign-up")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.click("form[action='/sign-up'] button[type=submit]")
    page.wait_for_load_state()
    assert page.url == f"{base}/projects", page.inner_text("main")

    page.fill("#name", "My shop")
    page.click("form[action='/projects'] button[type=submit]")
    page.wait_for_url(f"{base}/projects/prj_*")
    project_url = page.url
    project_id = project_url.rsplit("/", 1)[1]

    page.click("text=Connect Stripe")
    page.wait_for_url(project_url)
    page.click("text=Connect HubSpot")
    page.wait_for_url(project_url)
    connections = page.inner_text("main")
    assert page.locator("text=Disconnect Stripe").count() == 1, connections
    assert page.locator("text=Disconnect HubSpot").count() == 1, connections

    project = runtime.store.get("projects", project_id)
    assert project is not None and project["stripe_status"] == "connected"
    box.stripe.create_customer(
        project["stripe_account"], email="first@customer.example", name="First Customer"
    )
    portal = int(project["hubspot_portal_id"])
    for _ in range(100):  # the sandbox forwarder delivers within a poll or two
        if box.hubspot.record_by(portal, "contacts", "email", "first@customer.example"):
            break
        page.wait_for_timeout(100)
    assert box.hubspot.record_by(portal, "contacts", "email", "first@customer.example")
    page.reload()
    assert page.locator("td", has_text="customer.created").count() >= 1

    page.click("text=Disconnect HubSpot")
    page.wait_for_url(project_url)
    page.click("text=Disconnect Stripe")
    page.wait_for_url(project_url)
    assert page.locator("text=Connect Stripe").count() == 1

    page.goto(f"{base}/account")
    page.fill("form[action='/account/close'] input[type=password]", PASSWORD)
    page.click("form[action='/account/close'] button[type=submit]")
    page.wait_for_load_state()

    [account_id] = [a for a, doc in runtime.store.scan("accounts") if doc.get("email") == EMAIL]
    later = FakeClock(runtime.clock.now() + 29 * 24 * 3600 + 60)
    purge.run(runtime.store, later)
    left = {
        name: [
            doc_id
            for doc_id, doc in runtime.store.scan(name)
            if account_id in (doc_id, doc.get("account_id"))
            or doc.get("project_id") == project_id
            or doc_id == project_id
        ]
        for name in FIELDS
    }
    assert {name: ids for name, ids in left.items() if ids} == {}
    assert os.environ["OMNIROO_PUBLIC_URL"] == base
