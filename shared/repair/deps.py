"""What preview, reconcile and replay run on: the store, Stripe, HubSpot gateways paced per
portal, the clock, and a way to wake a project's drainer. Built once per instance
(``shared.wiring.repair_deps``: the command line, the repair function).

``gateway(project_id)`` opens the project's HubSpot access token (refreshing it ahead of expiry
for an OAuth app, as the drainer does) and paces its calls with the portal's repair budget: half
the portal's calls per ten seconds (``shared.drain.budget.Budget``, which also books the calls
others make, as HubSpot's ``Remaining`` header tells it), so a preview or a drift check never
takes more than half of what the drainer writes with.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from shared import logs, tokens
from shared.clock import Clock
from shared.crypto.envelope import Envelope
from shared.drain.budget import Budget
from shared.hubspot.calls import Pacer
from shared.hubspot.gateway import HubSpotGateway
from shared.store.base import Store
from shared.stripe_gateway import StripeGateway

SHARE = 0.5  # of a portal's calls per window that repair reads may use


@dataclass
class RepairDeps:
    store: Store
    envelope: Envelope
    stripe: StripeGateway
    hubspot: Callable[[str, Pacer], HubSpotGateway]  # access token, pacer -> gateway
    clock: Clock
    refresher: tokens.Refresher | None = None  # None: HubSpot private-app tokens only
    wake: Callable[[str], None] | None = None  # ask for a project's drainer (best effort)
    calls_per_window: int = 100  # a portal's HubSpot calls per ten seconds
    budgets: dict[str, Budget] = field(default_factory=dict)  # per portal, in this process

    def gateway(self, project_id: str) -> HubSpotGateway:
        if self.refresher is None:
            token = tokens.load(self.store, self.envelope, project_id).access_token
        else:
            token = tokens.access_token(
                self.store, self.envelope, self.clock, project_id, self.refresher
            )
        project = self.store.get("projects", project_id) or {}
        portal = str(project.get("hubspot_portal_id") or f"project:{project_id}")
        if portal not in self.budgets:
            share = max(1, int(self.calls_per_window * SHARE))
            self.budgets[portal] = Budget(share, self.clock)
        return self.hubspot(token, self.budgets[portal])

    def woken(self, project_id: str) -> None:
        if self.wake is None:
            return
        try:
            self.wake(project_id)
        except Exception as exc:  # the sweep wakes drainers that nobody woke
            logs.warning(
                "drainer wake-up not sent", project_id=project_id, error=type(exc).__name__
            )
