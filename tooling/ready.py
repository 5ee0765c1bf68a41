"""A project ready to sync: a Stripe account paired with a HubSpot portal that has Omniroo's
properties. ``pair`` is what the operator's ``create-project`` does against the real services;
``ready_project`` does it against the local doubles (a new Stripe account, a new portal and an
owner), the one setup the sandbox, the demo, the bench and the tests start from. ``contact_row``
is what the sandbox's page and the demo show of each contact that reached the portal.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shared import projects
from shared.clock import Clock
from shared.crypto.envelope import Envelope
from shared.hubspot.gateway import HubSpotGateway
from shared.store.base import Store

if TYPE_CHECKING:
    from doubles.hubspot import HubSpotDouble
    from doubles.stripe import StripeDouble


# What a person trying Omniroo sees of each HubSpot contact: (column, contact property).
CONTACT_COLUMNS = (
    ("Stripe id", "stripe_customer_id"),
    ("email", "email"),
    ("first name", "firstname"),
    ("last name", "lastname"),
    ("status", "stripe_subscription_status"),
)


def contact_row(contact: dict[str, Any]) -> list[str]:
    """A HubSpot double's contact record as the ``CONTACT_COLUMNS``."""
    return [str(contact["properties"].get(name) or "") for _, name in CONTACT_COLUMNS]


@dataclass(frozen=True)
class Ready:
    account: str  # the Stripe account
    portal_id: int
    token: str  # the portal's access token
    owner: str  # the Omniroo account
    project_id: str


def pair(
    store: Store,
    envelope: Envelope,
    clock: Clock,
    new: projects.NewProject,
    hubspot_api_base: str | None,
    setup_hubspot: bool = True,
) -> str:
    """Create Omniroo's property group and properties in the portal (unless told not to), then
    the project; returns its id."""
    if setup_hubspot:
        HubSpotGateway(new.hubspot_token, clock, hubspot_api_base).ensure_schema()
    return projects.create_project(store, envelope, new, clock.now())


def ready_project(
    stripe: "StripeDouble",
    hubspot: "HubSpotDouble",
    store: Store,
    envelope: Envelope,
    clock: Clock,
    email: str = "",
) -> Ready:
    """A new account in the Stripe double and portal in the HubSpot double, paired as a test-mode
    project of a new Omniroo account with ``email`` (by default one named after the account)."""
    account = stripe.add_account()
    portal_id, token = hubspot.add_portal()
    owner = projects.create_account(store, email or f"{account}@omniroo.local", clock.now())
    new = projects.NewProject(owner, account, False, token, str(portal_id))
    project_id = pair(store, envelope, clock, new, hubspot.base_url)
    return Ready(account, portal_id, token, owner, project_id)
