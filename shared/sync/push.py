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
from shared.hubspot.calls import HubSpotRejected
from shared.hubspot.gateway import HubSpotGateway
from shared.oauth import hubspot_tokens
from shared.oauth.hubspot_tokens import TokenRevoked
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
    refresher: tokens.Refresher | None = None  # HubSpot OAuth refresh; None: private apps only


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
        token = _token(deps, message.project_id)
        settings = ProjectSettings.from_doc(project.get("settings"))
        source = Source(deps.stripe, message.account, settings, deps.clock.now())
        try:
            return apply(collect(source, message.object_id), deps.hubspot(token))
        except HubSpotRejected as exc:
            if exc.status != 401 or deps.refresher is None:
                raise
            # Expired mid-flight (row 23): one forced refresh, one retry; writes are upserts.
            token = _token(deps, message.project_id, rejected=token)
            return apply(collect(source, message.object_id), deps.hubspot(token))
    except NotFound:
        return Outcome("skipped", error_code="project_not_connected")
    except TokenRevoked:
        hubspot_tokens.mark_reconnect(deps.store, message.project_id)
        return Outcome("failed", error_code="hubspot_reconnect_needed")


def _token(deps: PushDeps, project_id: str, rejected: str | None = None) -> str:
    if deps.refresher is None:
        return tokens.load(deps.store, deps.envelope, project_id).access_token
    return tokens.access_token(
        deps.store, deps.envelope, deps.clock, project_id, deps.refresher, rejected
    )
