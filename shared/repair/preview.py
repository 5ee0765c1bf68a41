"""Preview: what a backfill of a project would do in HubSpot, before it writes anything.

It walks the same pages a backfill walks (``shared.repair.listing``), plans each key with the
drainer's collectors (``shared.repair.planning``) and reads HubSpot to classify every record the
plans would write, writing nothing anywhere:

- contacts: ``created``; ``updated`` (already synced: its ``stripe_customer_id`` is there);
  ``adopted`` (a contact with the customer's email and no Stripe id, or ours, is taken over);
  ``conflicts`` (the email belongs to another Stripe customer's contact, in HubSpot or earlier in
  this same backfill: the sync records ``email_in_use`` for it, as ``shared.sync.apply`` does);
- deals, line items, products, companies: ``created`` or ``updated``, by their unique Stripe id;
- ``skipped`` and ``failed``: keys the sync would skip or fail, by reason code.

``objects`` is what the backfill would mark per kind: pass it as the backfill's estimate.

Library call (the console's preview page): ``run(deps, project_id, kinds, on_page=None) ->
Preview``. Emails are compared in memory for the length of the call and never stored.
"""

from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from shared.drain.dirty import Key
from shared.errors import BadRequest, NotFound
from shared.hubspot.gateway import HubSpotGateway
from shared.mapping.ops import Skip, Upsert
from shared.project_settings import ProjectSettings
from shared.repair import listing, planning
from shared.repair.deps import RepairDeps

# Keys planned together, as many as a drain round takes: Stripe's list pages are shared by the
# chunk, so the bigger it is the fewer pages each object costs.
CHUNK = 5000
CONTACTS = "contacts"
EMAIL = "email"


@dataclass(frozen=True)
class Preview:
    project_id: str
    kinds: tuple[str, ...]
    objects: Mapping[str, int]  # keys a backfill would mark, per kind
    records: Mapping[str, Mapping[str, int]]  # object type -> created/updated/adopted/conflicts
    skipped: Mapping[str, int]  # reason -> keys
    failed: Mapping[str, int]  # error code -> keys
    stripe_calls: int
    hubspot_calls: int
    search_calls: int = 0  # every lookup is a batch read by a unique property

    def count(self, object_type: str, outcome: str) -> int:
        return int(self.records.get(object_type, {}).get(outcome, 0))


@dataclass
class _Tally:
    objects: Counter[str] = field(default_factory=Counter)
    records: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    skipped: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    planned: set[Key] = field(default_factory=set)
    seen: set[tuple[str, str, str]] = field(default_factory=set)
    emails: dict[str, str] = field(default_factory=dict)  # email -> customer id claiming it


def run(
    deps: RepairDeps,
    project_id: str,
    kinds: Sequence[str],
    on_page: Callable[[int], None] | None = None,
) -> Preview:
    """Walk, plan and classify; ``on_page(objects so far)`` after each page."""
    try:
        walked = listing.chosen(kinds)
    except ValueError as exc:
        raise BadRequest(str(exc)) from exc
    project = deps.store.get("projects", project_id)
    if project is None:
        raise NotFound(f"no project {project_id}")
    account = str(project.get("stripe_account") or "")
    settings = ProjectSettings.from_doc(project.get("settings"))
    hubspot = deps.gateway(project_id)
    stripe_before, hubspot_before = deps.stripe.calls, hubspot.calls
    tally = _Tally()
    pending: list[Key] = []
    for name in walked:
        trail: tuple[str, ...] = ()
        while True:
            walk = listing.walk(name, walked)
            read = listing.read_page(deps.stripe, account, walk, trail)
            keys = listing.keys_of(project_id, walk, read.objects)
            tally.objects[name] += len(keys)
            pending += [k for k in keys if k not in tally.planned]
            tally.planned.update(keys)
            if len(pending) >= CHUNK:
                _classify(deps, hubspot, account, settings, pending, tally)
                pending = []
            if on_page is not None:
                on_page(sum(tally.objects.values()))
            if not read.more:
                break
            trail = listing.advanced(read)
    _classify(deps, hubspot, account, settings, pending, tally)
    return Preview(
        project_id,
        walked,
        {name: tally.objects[name] for name in walked},
        {t: dict(c) for t, c in sorted(tally.records.items())},
        dict(tally.skipped),
        dict(tally.failed),
        deps.stripe.calls - stripe_before,
        hubspot.calls - hubspot_before,
    )


def _classify(
    deps: RepairDeps,
    hubspot: HubSpotGateway,
    account: str,
    settings: ProjectSettings,
    keys: list[Key],
    tally: _Tally,
) -> None:
    planned = planning.plan(deps.stripe, account, settings, deps.clock.now(), keys)
    tally.failed.update(planned.failed.values())
    for plan in planned.ops.values():
        if plan and all(isinstance(op, Skip) for op in plan):
            tally.skipped.update(op.reason for op in plan if isinstance(op, Skip))
    fresh = [
        op for op in planned.upserts() if (op.object_type, op.id_property, op.id) not in tally.seen
    ]
    tally.seen.update((op.object_type, op.id_property, op.id) for op in fresh)
    for (object_type, id_property), ops in planning.by_type(fresh).items():
        found = planning.read_by(
            hubspot,
            object_type,
            id_property,
            [op.id for op in ops],
            [EMAIL] if object_type == CONTACTS else [],
        )
        if object_type != CONTACTS:
            for op in ops:
                tally.records[object_type]["updated" if op.id in found else "created"] += 1
            continue
        emails = {_email(op) for op in ops} - {""}
        owners = planning.read_by(hubspot, CONTACTS, EMAIL, sorted(emails), [id_property])
        for op in ops:
            tally.records[CONTACTS][_contact(op, found.get(op.id), owners, tally.emails)] += 1


def _email(op: Upsert) -> str:
    return str(op.properties.get(EMAIL) or "").strip().lower()


def _contact(
    op: Upsert,
    ours: dict[str, Any] | None,
    owners: Mapping[str, dict[str, Any]],
    claims: dict[str, str],
) -> str:
    """What upserting this contact would do; ``claims`` remembers the emails this backfill has
    already given to a customer (a second customer with one is refused, as HubSpot refuses)."""
    email = _email(op)
    holder = owners.get(email) if email else None
    if email and claims.get(email, op.id) != op.id:
        return "conflicts"
    if ours is not None:
        if holder is not None and holder["id"] != ours["id"]:
            return "conflicts"  # the new email is another contact's
        outcome = "updated"
    elif holder is not None:
        owner = str((holder.get("properties") or {}).get(op.id_property) or "")
        if owner and owner != op.id:
            return "conflicts"
        outcome = "adopted"
    else:
        outcome = "created"
    if email:
        claims[email] = op.id
    return outcome
