"""Sandbox mode of ``make run``: local Stripe and HubSpot doubles, a ready project, and a
forwarder delivering every Stripe event to the webhook, so a newcomer can try everything at once.
"""

import html

from doubles.hubspot import HubSpotDouble
from doubles.stripe import StripeDouble
from shared import wiring
from shared.config import Settings
from shared.store.base import Store
from tooling import ready
from tooling.local import env
from tooling.local.forwarder import Forwarder


def connected_accounts(store: Store) -> list[str]:
    """Every Stripe account a project is connected to, including those connected in the console."""
    return sorted({key.split(":")[0] for key, _ in store.scan("routes")})


class Sandbox:
    def __init__(
        self,
        webhook_url: str,
        stripe_port: int = env.SANDBOX_STRIPE_PORT,
        hubspot_port: int = env.SANDBOX_HUBSPOT_PORT,
    ) -> None:
        self.webhook_url = webhook_url
        self.ports = (stripe_port, hubspot_port)
        self.stripe = StripeDouble(platform_key=env.SANDBOX["STRIPE_SECRET_KEY"])
        self.hubspot = HubSpotDouble()
        self.account = ""
        self.portal_id = 0
        self.token = ""
        self.project_id = ""

    def start(self) -> None:
        settings = Settings.from_env()
        for stale in ("omniroo.db", "omniroo.db-wal", "omniroo.db-shm"):
            (settings.data_dir / stale).unlink(missing_ok=True)
        # Fixed ports, so the printed curl lines and .env values stay true across restarts.
        self.stripe.start(self.ports[0])
        self.hubspot.start(self.ports[1])
        runtime = wiring.local_runtime(settings)
        project = ready.ready_project(
            self.stripe,
            self.hubspot,
            runtime.store,
            runtime.envelope,
            runtime.clock,
            "sandbox@omniroo.local",
        )
        self.account, self.portal_id, self.token = project.account, project.portal_id, project.token
        self.project_id = project.project_id
        # The console's "Connect HubSpot" goes through the double's install page.
        self.hubspot.register_oauth_app(
            settings.hubspot_client_id,
            settings.hubspot_client_secret,
            f"{settings.public_url}/oauth/hubspot/callback",
        )
        Forwarder(
            settings.stripe_secret_key,
            self.stripe.base_url,
            self.webhook_url,
            settings.stripe_webhook_secrets[0],
            lambda: connected_accounts(runtime.store),
            on_result=self.stripe.record_delivery,
        ).start()

    def describe_text(self) -> str:
        key = env.SANDBOX["STRIPE_SECRET_KEY"]
        return "\n".join(
            [
                "Sandbox mode: no STRIPE_SECRET_KEY configured, so Stripe and HubSpot are doubles.",
                f"  Stripe double   {self.stripe.base_url}  (key {key}, account {self.account})",
                f"  HubSpot double  {self.hubspot.base_url}  (portal {self.portal_id})",
                f"  Project         {self.project_id}",
                "Create a Stripe customer; it shows as a HubSpot contact at "
                + self.webhook_url.removesuffix("/stripe/webhook")
                + "/sandbox",
                f"  curl {self.stripe.base_url}/v1/customers -u {key}: "
                f"-H 'Stripe-Account: {self.account}' "
                "-d email=ada@example.com -d name='Ada Lovelace'",
            ]
        )

    def describe_html(self) -> str:
        rows = "".join(
            "<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in ready.contact_row(c)) + "</tr>"
            for c in self.hubspot.records(self.portal_id, "contacts")
            if not c["archived"]
        )
        head = "".join(f"<th>{html.escape(column)}</th>" for column, _ in ready.CONTACT_COLUMNS)
        return (
            "<h2>Sandbox</h2><pre>" + html.escape(self.describe_text()) + "</pre>"
            "<h2>HubSpot contacts (sandbox portal)</h2><table><tr>"
            + head
            + "</tr>"
            + rows
            + "</table>"
        )
