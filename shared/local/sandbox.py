"""Sandbox mode of ``make run``: local Stripe and HubSpot doubles, a ready project, and a
forwarder delivering every Stripe event to the webhook, so a newcomer can try everything at once.
"""

import html
import time

from doubles.hubspot_double import HubSpotDouble
from doubles.server import ServerThread
from doubles.stripe_double import StripeDouble
from shared import projects, wiring
from shared.config import Settings
from shared.hubspot.gateway import HubSpotGateway
from shared.local import env
from shared.local.forwarder import Forwarder


class Sandbox:
    def __init__(self, webhook_url: str) -> None:
        self.webhook_url = webhook_url
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
        for double, port in (
            (self.stripe, env.SANDBOX_STRIPE_PORT),
            (self.hubspot, env.SANDBOX_HUBSPOT_PORT),
        ):
            double.base_url = ServerThread(double, port).start()
        self.account = self.stripe.add_account()
        self.portal_id, self.token = self.hubspot.add_portal()
        runtime = wiring.local_runtime(settings)
        HubSpotGateway(self.token, runtime.clock, settings.hubspot_api_base).ensure_schema()
        owner = projects.create_account(runtime.store, "sandbox@omniroo.local", time.time())
        self.project_id = projects.create_project(
            runtime.store,
            runtime.envelope,
            projects.NewProject(owner, self.account, False, self.token, str(self.portal_id)),
            time.time(),
        )
        Forwarder(
            settings.stripe_secret_key,
            self.stripe.base_url,
            self.webhook_url,
            settings.stripe_webhook_secrets[0],
            lambda: [self.account],
        ).start()

    def describe_text(self) -> str:
        key = env.SANDBOX["STRIPE_SECRET_KEY"]
        return "\n".join(
            [
                "Sandbox mode: no STRIPE_SECRET_KEY configured, so Stripe and HubSpot are doubles.",
                f"  Stripe double   {self.stripe.base_url}  (key {key}, account {self.account})",
                f"  HubSpot double  {self.hubspot.base_url}  (portal {self.portal_id})",
                f"  Project         {self.project_id}",
                "Create a Stripe customer; it shows as a HubSpot contact at http://127.0.0.1:8080/",
                f"  curl {self.stripe.base_url}/v1/customers -u {key}: "
                f"-H 'Stripe-Account: {self.account}' "
                "-d email=ada@example.com -d name='Ada Lovelace'",
            ]
        )

    def describe_html(self) -> str:
        rows = "".join(
            "<tr>"
            + "".join(
                f"<td>{html.escape(str(c['properties'].get(p) or ''))}</td>"
                for p in (
                    "stripe_customer_id",
                    "email",
                    "firstname",
                    "lastname",
                    "stripe_subscription_status",
                )
            )
            + "</tr>"
            for c in self.hubspot.records(self.portal_id, "contacts")
            if not c["archived"]
        )
        return (
            "<h2>Sandbox</h2><pre>" + html.escape(self.describe_text()) + "</pre>"
            "<h2>HubSpot contacts (sandbox portal)</h2><table><tr><th>Stripe id</th><th>email</th>"
            "<th>first name</th><th>last name</th><th>status</th></tr>" + rows + "</table>"
        )
