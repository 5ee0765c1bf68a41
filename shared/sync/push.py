"""From a thin message to HubSpot: load the project, refetch the object, map, apply, record.

Refetching the *current* object from Stripe is what makes duplicates and out-of-order delivery
harmless: whichever event arrives, HubSpot ends equal to Stripe's latest state. Transient errors
propagate so the queue redelivers; permanent ones become an outcome and the message is acked.
"""

from collections.abc import Callable
from dataclasses import dataclass

from shared import logs, tokens
from shared.billing.mrr import BillingDataError
from shared.clock import Clock
from shared.crypto.envelope import Envelope
from shared.errors import NotFound, PermanentFailure
from shared.hubspot.gateway import HubSpotGateway
from shared.project_settings import ProjectSettings
from shared.queue.base import ThinMessage
from shared.store.base import Store
from shared.stripe_gateway import StripeGateway
from shared.sync import outcomes
from shared.sync.apply import apply
from shared.sync.collect import COLLECTORS, Source
from shared.sync.outcomes import Outcome


@dataclass
class PushDeps:
    store: Store
    envelope: Envelope
    stripe: StripeGateway
    hubspot: Callable[[str], HubSpotGateway]  # access token -> gateway
    clock: Clock


def handle(message: ThinMessage, deps: PushDeps) -> Outcome:
    try:
        outcome = _sync(message, deps)
    except PermanentFailure as exc:
        outcome = Outcome("failed", error_code=exc.code)
    except BillingDataError:
        # A Stripe object lacked what MRR needs: a bug of ours, never a guessed number.
        logs.alert("billing data incomplete", event_id=message.event_id, type=message.type)
        outcome = Outcome("failed", error_code="billing_data_incomplete")
    outcomes.record(deps.store, message, outcome, deps.clock.now())
    logs.info(
        "push done",
        event_id=message.event_id,
        type=message.type,
        project_id=message.project_id,
        status=outcome.status,
        error_code=outcome.error_code,
        hubspot_id=outcome.hubspot_id,
    )
    return outcome


def _sync(message: ThinMessage, deps: PushDeps) -> Outcome:
    project = deps.store.get("projects", message.project_id)
    if project is None or project.get("hubspot_status") != "connected":
        return Outcome("skipped", error_code="project_not_connected")
    collect = COLLECTORS.get(message.object_type)
    if collect is None:
        return Outcome("skipped", error_code=f"unsupported_object_{message.object_type}")
    try:
        token = tokens.load(deps.store, deps.envelope, message.project_id).access_token
    except NotFound:
        return Outcome("skipped", error_code="project_not_connected")
    settings = ProjectSettings.from_doc(project.get("settings"))
    source = Source(deps.stripe, message.account, settings, deps.clock.now())
    return apply(collect(source, message.object_id), deps.hubspot(token))
