"""What the history-and-repair tests share: a project on SQLite paired with an account of the
Stripe double, the real ``StripeGateway`` reading it over HTTP, and quick ways to fill Stripe."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from doubles.stripe import StripeDouble
from shared.clock import FakeClock
from shared.drain.dirty import COLLECTION as DIRTY_KEYS
from shared.drain.dirty import Key
from shared.store.sqlite import SqliteStore
from shared.stripe_gateway import StripeGateway

PROJECT = "prj_repair"


@dataclass
class Repo:
    store: SqliteStore
    stripe: StripeDouble
    gateway: StripeGateway
    account: str
    clock: FakeClock
    project_id: str = PROJECT

    def dirty(self) -> set[Key]:
        return {
            Key(str(d["project_id"]), str(d["kind"]), str(d["object_id"]))
            for _, d in self.store.scan(DIRTY_KEYS)
        }

    def customers(self, n: int, prefix: str = "c") -> list[str]:
        return [
            self.stripe.create_customer(self.account, email=f"{prefix}{i}@example.com")["id"]
            for i in range(n)
        ]

    def subscribe(self, customers: list[str], amount: int = 1500) -> list[str]:
        product = self.stripe.create_product(self.account, "Plan")["id"]
        price = self.stripe.create_price(self.account, product, amount, interval="month")["id"]
        return [
            self.stripe.create_subscription(self.account, c, [{"price": price}])["id"]
            for c in customers
        ]


def make_repo(
    tmp_path: Path, stripe: StripeDouble, project_doc: dict[str, Any] | None = None
) -> Repo:
    store = SqliteStore(tmp_path / "omniroo.db")
    account = stripe.add_account()
    store.put(
        "projects",
        PROJECT,
        {
            "account_id": "acc_1",
            "stripe_account": account,
            "livemode": False,
            "stripe_status": "connected",
            "hubspot_status": "connected",
            "hubspot_portal_id": "",
            **(project_doc or {}),
        },
    )
    gateway = StripeGateway(stripe.platform_key, stripe.base_url)
    return Repo(store, stripe, gateway, account, FakeClock())
