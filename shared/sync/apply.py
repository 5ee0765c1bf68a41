"""Carry out one mapped operation against HubSpot, handling the ways HubSpot says no.

- 409 "Contact already exists. Existing ID: N": the email belongs to a contact HubSpot already
  has. If that contact carries no Stripe id (or ours), adopt it; if it belongs to another Stripe
  customer, or our customer already has another contact, report ``email_in_use``.
- 400 PROPERTY_DOESNT_EXIST: someone deleted our properties; create them and try once more.
"""

import re

from shared.errors import PermanentFailure
from shared.hubspot.calls import HubSpotRejected
from shared.hubspot.gateway import HubSpotGateway, Upsert, Written
from shared.mapping.ops import Archive, FlagDeleted, Op, Skip
from shared.sync.outcomes import Outcome

_EXISTING_ID = re.compile(r"Existing ID: (\d+)")


def apply(op: Op, hubspot: HubSpotGateway) -> Outcome:
    if isinstance(op, Skip):
        return Outcome("skipped", error_code=op.reason)
    if isinstance(op, Upsert):
        return Outcome("synced", hubspot_id=_upsert(op, hubspot).hubspot_id)
    if isinstance(op, FlagDeleted):
        try:
            hubspot_id = hubspot.update(op.object_type, op.id, op.properties, op.id_property)
        except HubSpotRejected as exc:
            if exc.status != 404 and exc.category != "OBJECT_NOT_FOUND":
                raise
            return Outcome("skipped", error_code="not_in_hubspot")
        return Outcome("synced", hubspot_id=hubspot_id)
    return _archive(op, hubspot)


def _archive(op: Archive, hubspot: HubSpotGateway) -> Outcome:
    found = hubspot.read(op.object_type, [op.id], [op.id_property], id_property=op.id_property)
    if op.id not in found:
        return Outcome("skipped", error_code="not_in_hubspot")
    hubspot_id = found[op.id]["id"]
    hubspot.archive(op.object_type, [hubspot_id])
    return Outcome("synced", hubspot_id=hubspot_id)


def _upsert(op: Upsert, hubspot: HubSpotGateway, schema_checked: bool = False) -> Written:
    try:
        return hubspot.upsert([op])[0]
    except HubSpotRejected as exc:
        if exc.status == 409 and (match := _EXISTING_ID.search(exc.detail)):
            return _adopt(op, match.group(1), hubspot)
        if exc.status == 400 and "PROPERTY_DOESNT_EXIST" in exc.detail and not schema_checked:
            hubspot.ensure_schema([op.object_type])
            return _upsert(op, hubspot, schema_checked=True)
        raise


def _adopt(op: Upsert, existing_id: str, hubspot: HubSpotGateway) -> Written:
    existing = hubspot.read(op.object_type, [existing_id], [op.id_property])
    owner = existing.get(existing_id, {}).get("properties", {}).get(op.id_property)
    if owner and owner != op.id:
        raise PermanentFailure("email_in_use", 409)
    ours = hubspot.read(op.object_type, [op.id], [op.id_property], id_property=op.id_property)
    if op.id in ours and ours[op.id]["id"] != existing_id:
        raise PermanentFailure("email_in_use", 409)
    return Written(op.id, hubspot.update(op.object_type, existing_id, op.properties), new=False)
