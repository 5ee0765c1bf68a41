"""What the history-and-repair tests share: a project on SQLite paired with an account of the
Stripe double, the real ``StripeGateway`` reading it over HTTP, and quick ways to fill Stripe."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from doubles.hubspot import HubSpotDouble
from doubles.stripe import StripeDouble
from shared import tokens
from shared.clock import FakeClock
from shared.crypto.envelope import Envelope
from shared.crypto.local_keys import LocalKeyFile
from shared.drain import drainer
from shared.drain.dirty import COLLECTION as DIRTY_KEYS
from shared.drain.dirty import Key
from shared.drain.drainer import DrainDeps, Report
from shared.hubspot.gateway import HubSpotGateway
from shared.mapping.ops import Upsert
from shared.repair.deps import RepairDeps
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
    hubspot: HubSpotDouble | None = None
    portal_id: int = 0
    token: str = ""
    envelope: Envelope | None = None

    def deps(self) -> RepairDeps:
        assert self.hubspot is not None and self.envelope is not None
        base = self.hubspot.base_url
        return RepairDeps(
            self.store,
            self.envelope,
            self.gateway,
            lambda token, pacer: HubSpotGateway(token, self.clock, base, pacer=pacer),
            self.clock,
        )

    def drain_deps(self) -> DrainDeps:
        assert self.hubspot is not None and self.envelope is not None
        base = self.hubspot.base_url
        return DrainDeps(
            self.store,
            self.envelope,
            self.gateway,
            lambda token, pacer: HubSpotGateway(token, self.clock, base, pacer=pacer),
            self.clock,
        )

    def drain(self) -> Report:
        """The project's portal drained by issue 10's drainer, in this thread, until no key is
        due."""
        return drainer.drain(self.project_id, self.drain_deps())

    def contacts(self) -> list[dict[str, Any]]:
        assert self.hubspot is not None
        return [r for r in self.hubspot.records(self.portal_id, "contacts") if not r["archived"]]

    def hubspot_contact(self, email: str, **properties: str) -> str:
        """A contact made in HubSpot by hand (by email), as a portal has before Omniroo."""
        gateway = HubSpotGateway(
            self.token, self.clock, self.hubspot.base_url if self.hubspot else ""
        )
        props = {"email": email, **properties}
        [written] = gateway.upsert([Upsert("contacts", "email", email, props)])
        return written.hubspot_id

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
    tmp_path: Path,
    stripe: StripeDouble,
    hubspot: HubSpotDouble | None = None,
    settings: dict[str, Any] | None = None,
) -> Repo:
    """A project on SQLite in ``tmp_path``; with ``hubspot``, paired with a fresh portal (our
    properties created, its private-app token stored encrypted)."""
    store = SqliteStore(tmp_path / "omniroo.db")
    account = stripe.add_account()
    portal_id, token = hubspot.add_portal() if hubspot else (0, "")
    store.put(
        "projects",
        PROJECT,
        {
            "account_id": "acc_1",
            "stripe_account": account,
            "livemode": False,
            "stripe_status": "connected",
            "hubspot_status": "connected",
            "hubspot_portal_id": str(portal_id or ""),
            "settings": settings or {},
        },
    )
    gateway = StripeGateway(stripe.platform_key, stripe.base_url)
    clock = FakeClock()
    envelope = None
    if hubspot is not None:
        envelope = Envelope(LocalKeyFile(tmp_path / "master.key"))
        tokens.save(store, envelope, PROJECT, tokens.HubSpotTokens(token))
        HubSpotGateway(token, clock, hubspot.base_url).ensure_schema()
    return Repo(
        store, stripe, gateway, account, clock, PROJECT, hubspot, portal_id, token, envelope
    )
