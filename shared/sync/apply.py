"""Carry out a plan (the operations mapped from one event) against HubSpot.

Order: single-record flags and archives, then upserts batched per object type (contacts first, so
deals can link to them), then prunes, then links batched per type pair. The outcome names the
first record written. HubSpot's refusals are handled here:

- 409 "Contact already exists. Existing ID: N": the email belongs to a contact HubSpot already
  has. If that contact carries no Stripe id (or ours), adopt it; if it belongs to another Stripe
  customer, or our customer already has another contact, report ``email_in_use``.
- 400 PROPERTY_DOESNT_EXIST: someone deleted our properties; create them and try once more.
"""

import re
from collections import defaultdict
from collections.abc import Sequence

from shared.errors import PermanentFailure
from shared.hubspot.calls import HubSpotRejected
from shared.hubspot.gateway import HubSpotGateway, Written
from shared.mapping.ops import Archive, FlagDeleted, Link, Op, Prune, Ref, Skip, Upsert, ref
from shared.sync.outcomes import Outcome

_EXISTING_ID = re.compile(r"Existing ID: (\d+)")
ORDER = ("contacts", "companies", "products", "deals", "line_items")


def apply(plan: Sequence[Op] | Op, hubspot: HubSpotGateway) -> Outcome:
    ops = list(plan) if isinstance(plan, Sequence) else [plan]
    first: Outcome | None = None
    written: dict[Ref, str] = {}
    failures: list[str] = []
    for op in ops:
        if isinstance(op, Skip | FlagDeleted | Archive):
            first = first or _single(op, hubspot)
    upserts = [op for op in ops if isinstance(op, Upsert)]
    groups = sorted({(u.object_type, u.id_property) for u in upserts}, key=_rank)
    for object_type, id_property in groups:
        batch = [u for u in upserts if (u.object_type, u.id_property) == (object_type, id_property)]
        for result in _upsert_all(batch, hubspot, failures):
            written[Ref(object_type, id_property, result.stripe_id)] = result.hubspot_id
    links = [op for op in ops if isinstance(op, Link)]
    prunes = [op for op in ops if isinstance(op, Prune)]
    current = _current_associations(links, prunes, written, hubspot)
    for prune in prunes:
        _prune(prune, written, current, hubspot)
    _link(links, written, current, hubspot)
    if upserts:
        primary = written.get(ref(upserts[0]), "")
        if failures:  # the rest is written; the refused records are named by their code
            return Outcome("failed", hubspot_id=primary, error_code=failures[0])
        return Outcome("synced", hubspot_id=primary)
    return first or Outcome("skipped", error_code="nothing_to_sync")


def _rank(group: tuple[str, str]) -> tuple[int, str]:
    object_type, id_property = group
    return (ORDER.index(object_type) if object_type in ORDER else len(ORDER), id_property)


def _single(op: Skip | FlagDeleted | Archive, hubspot: HubSpotGateway) -> Outcome:
    if isinstance(op, Skip):
        return Outcome("skipped", error_code=op.reason)
    if isinstance(op, FlagDeleted):
        try:
            hubspot_id = hubspot.update(op.object_type, op.id, op.properties, op.id_property)
        except HubSpotRejected as exc:
            if exc.status != 404 and exc.category != "OBJECT_NOT_FOUND":
                raise
            return Outcome("skipped", error_code="not_in_hubspot")
        return Outcome("synced", hubspot_id=hubspot_id)
    found = hubspot.read(op.object_type, [op.id], [op.id_property], id_property=op.id_property)
    if op.id not in found:
        return Outcome("skipped", error_code="not_in_hubspot")
    hubspot_id = found[op.id]["id"]
    hubspot.archive(op.object_type, [hubspot_id])
    return Outcome("synced", hubspot_id=hubspot_id)


def _upsert_all(batch: list[Upsert], hubspot: HubSpotGateway, failures: list[str]) -> list[Written]:
    if batch[0].object_type == "contacts":
        # Contacts can collide on email, which HubSpot reports for the whole batch: one by one.
        return [upsert_one(op, hubspot) for op in batch]
    try:
        written = hubspot.upsert(batch)
    except HubSpotRejected as exc:
        if exc.status == 400 and "PROPERTY_DOESNT_EXIST" in exc.detail:
            hubspot.ensure_schema([batch[0].object_type])
            written = []
        elif len(batch) > 1:
            written = []  # one bad record refuses the whole batch: find it below, keep the rest
        else:
            raise
    done = {w.stripe_id for w in written}
    # Records a batch did not write (refused with it, or missing from a 207) go one by one.
    for op in [op for op in batch if op.id not in done]:
        try:
            written += hubspot.upsert([op])
        except HubSpotRejected as exc:
            failures.append(exc.code)
    return written


def upsert_one(op: Upsert, hubspot: HubSpotGateway, schema_checked: bool = False) -> Written:
    """One record, with the refusals handled above: a contact whose email HubSpot already
    has is adopted (or ``email_in_use``), missing properties are created once."""
    try:
        return hubspot.upsert([op])[0]
    except HubSpotRejected as exc:
        if exc.status == 409 and (match := _EXISTING_ID.search(exc.detail)):
            return _adopt(op, match.group(1), hubspot)
        if exc.status == 400 and "PROPERTY_DOESNT_EXIST" in exc.detail and not schema_checked:
            hubspot.ensure_schema([op.object_type])
            return upsert_one(op, hubspot, schema_checked=True)
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


def _current_associations(
    links: list[Link], prunes: list[Prune], written: dict[Ref, str], hubspot: HubSpotGateway
) -> dict[Ref, dict[str, set[str]]]:
    """What each parent record is associated with now: one read per parent, so that links
    already there cost nothing and stale children can be found."""
    wanted: dict[Ref, set[str]] = defaultdict(set)
    for link in links:
        wanted[link.source].add(link.target.object_type)
    for prune in prunes:
        wanted[prune.parent].add(prune.child_type)
    return {
        parent: hubspot.associations_of(parent.object_type, written[parent], sorted(types))
        for parent, types in sorted(wanted.items(), key=lambda item: item[0].id)
        if parent in written
    }


def _prune(
    op: Prune,
    written: dict[Ref, str],
    current: dict[Ref, dict[str, set[str]]],
    hubspot: HubSpotGateway,
) -> None:
    if op.parent not in current:
        return
    keep = {hid for r, hid in written.items() if r.object_type == op.child_type}
    stale = sorted(current[op.parent].get(op.child_type, set()) - keep)
    if stale:
        hubspot.archive(op.child_type, stale)


def _link(
    links: list[Link],
    written: dict[Ref, str],
    current: dict[Ref, dict[str, set[str]]],
    hubspot: HubSpotGateway,
) -> None:
    pairs: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for link in links:
        source, target = written.get(link.source), written.get(link.target)
        there = current.get(link.source, {}).get(link.target.object_type, set())
        if source and target and target not in there:
            pairs[(link.source.object_type, link.target.object_type)].append((source, target))
    for (from_type, to_type), found in sorted(pairs.items()):
        hubspot.associate(from_type, to_type, found)
