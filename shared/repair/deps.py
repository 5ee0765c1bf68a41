"""What preview, reconcile and replay run on: the store, Stripe, a HubSpot gateway per token, the
clock, and a way to wake a project's drainer. Built once per instance (``tooling.cli``, the jobs
function); ``token`` opens the project's HubSpot access token, refreshing it ahead of expiry when
the app is an OAuth app, as the drainer does."""

from collections.abc import Callable
from dataclasses import dataclass

from shared import logs, tokens
from shared.clock import Clock
from shared.crypto.envelope import Envelope
from shared.hubspot.gateway import HubSpotGateway
from shared.store.base import Store
from shared.stripe_gateway import StripeGateway


@dataclass
class RepairDeps:
    store: Store
    envelope: Envelope
    stripe: StripeGateway
    hubspot: Callable[[str], HubSpotGateway]  # access token -> gateway
    clock: Clock
    refresher: tokens.Refresher | None = None  # None: HubSpot private-app tokens only
    wake: Callable[[str], None] | None = None  # ask for a project's drainer (best effort)

    def gateway(self, project_id: str) -> HubSpotGateway:
        if self.refresher is None:
            token = tokens.load(self.store, self.envelope, project_id).access_token
        else:
            token = tokens.access_token(
                self.store, self.envelope, self.clock, project_id, self.refresher
            )
        return self.hubspot(token)

    def woken(self, project_id: str) -> None:
        if self.wake is None:
            return
        try:
            self.wake(project_id)
        except Exception as exc:  # the sweep wakes drainers that nobody woke
            logs.warning(
                "drainer wake-up not sent", project_id=project_id, error=type(exc).__name__
            )
