"""The rule preview's counting and paging, with a fake Stripe list (the HTTP path is covered
through the Stripe double in tests/functions/test_console_settings.py)."""

from typing import Any

from shared.console import readers
from shared.project_settings import ProjectSettings

RULES = ProjectSettings.from_doc(
    {
        "pipeline_rules": [
            {"statuses": ["active"], "price_ids": ["price_gold"], "pipeline": "77", "stage": "vip"},
            {"statuses": ["trialing"], "pipeline": "77", "stage": "trial"},
        ]
    }
)


def sub(n: int, status: str = "active", price: str = "price_basic") -> dict[str, Any]:
    return {"id": f"sub_{n}", "status": status, "items": {"data": [{"price": {"id": price}}]}}


class FakeStripe:
    """Stripe's list of subscriptions, newest first, 100 a page, following ``starting_after``."""

    def __init__(self, subscriptions: list[dict[str, Any]]) -> None:
        self.subscriptions = subscriptions
        self.calls: list[dict[str, Any]] = []

    def list(
        self, object_type: str, account: str, params: dict[str, Any], pages: int = 20
    ) -> list[dict[str, Any]]:
        assert (object_type, account, params["status"], pages) == (
            "subscription",
            "acct_1",
            "all",
            1,
        )
        self.calls.append(params)
        start = 0
        if "starting_after" in params:
            start = 1 + [s["id"] for s in self.subscriptions].index(params["starting_after"])
        return self.subscriptions[start : start + readers.PAGE_SIZE]


def preview(stripe: FakeStripe) -> readers.Preview:
    found = readers.Readers(None, lambda token: None, stripe)  # type: ignore[arg-type]
    project = {"stripe_status": "connected", "stripe_account": "acct_1"}
    return readers.preview(found, project, RULES, None)


def test_each_stage_counts_the_deals_the_mapping_would_put_there() -> None:
    subs = [sub(1), sub(2, price="price_gold"), sub(3, "trialing"), sub(4, "canceled")]
    shown = preview(FakeStripe(subs))
    assert shown.rows == (
        ("77 · trial", 1),
        ("77 · vip", 1),
        ("default · closedlost", 1),
        ("default · closedwon", 1),
    )
    assert (shown.counted, shown.more, shown.problem) == (4, False, "")


def test_the_preview_pages_through_stripe_and_says_when_there_are_more() -> None:
    stripe = FakeStripe([sub(n) for n in range(readers.PREVIEW_PAGES * readers.PAGE_SIZE + 1)])
    shown = preview(stripe)
    assert shown.counted == readers.PREVIEW_PAGES * readers.PAGE_SIZE and shown.more
    assert len(stripe.calls) == readers.PREVIEW_PAGES
    assert stripe.calls[1]["starting_after"] == "sub_99"
    short = FakeStripe([sub(n) for n in range(150)])
    assert (preview(short).counted, preview(short).more) == (150, False)
