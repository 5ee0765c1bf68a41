"""What the drainer would write for some keys, without writing it: the drainer's own collectors
(``shared.sync.collect``) read Stripe and map, so a preview or a drift check can never disagree
with what a sync then does. HubSpot is only read, in batch reads of 100 by a unique property
(never the search API, whose limit is about 5 requests a second and which sends no rate-limit
headers: every record Omniroo writes has a unique Stripe-id property to read it by)."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from shared import logs
from shared.billing.mrr import BillingDataError
from shared.drain import reads
from shared.drain.dirty import Key
from shared.errors import PermanentFailure
from shared.hubspot.gateway import HubSpotGateway
from shared.mapping.ops import Op, Ref, Upsert, ref
from shared.project_settings import ProjectSettings
from shared.stripe_gateway import StripeGateway
from shared.sync.collect import COLLECTORS, Source


@dataclass
class Planned:
    ops: dict[Key, list[Op]] = field(default_factory=dict)
    failed: dict[Key, str] = field(default_factory=dict)  # key -> error code

    def upserts(self) -> list[Upsert]:
        """Every record the plans write, once each, in key order."""
        seen: dict[Ref, Upsert] = {}
        for ops in self.ops.values():
            for op in ops:
                if isinstance(op, Upsert):
                    seen.setdefault(ref(op), op)
        return list(seen.values())


def plan(
    stripe: StripeGateway,
    account: str,
    settings: ProjectSettings,
    now: float,
    keys: Sequence[Key],
) -> Planned:
    """Each key's operations, or the code it would fail with. Stripe is read as a drain round
    reads it: list pages first (``shared.drain.reads``), then one by one what they miss.
    Transient errors propagate."""
    pages = reads.snapshot(stripe, account)
    reads.prime(pages, keys, settings.syncs("payments"))
    source = Source(pages, account, settings, now)
    planned = Planned()
    for key in keys:
        collect = COLLECTORS.get(key.kind)
        if collect is None:
            planned.failed[key] = f"unsupported_object_{key.kind}"
            continue
        try:
            planned.ops[key] = collect(source, key.object_id)
        except PermanentFailure as exc:
            planned.failed[key] = exc.code
        except BillingDataError:
            logs.alert("billing data incomplete", stripe_id=key.object_id)
            planned.failed[key] = "billing_data_incomplete"
    return planned


def read_by(
    hubspot: HubSpotGateway,
    object_type: str,
    id_property: str,
    ids: Sequence[str],
    properties: Sequence[str] = (),
) -> dict[str, dict[str, Any]]:
    """HubSpot's records whose ``id_property`` is one of ``ids`` (100 a call), keyed by that
    value as HubSpot holds it; absent ids are simply missing."""
    wanted = list(dict.fromkeys(i for i in ids if i))
    if not wanted:
        return {}
    names = list(dict.fromkeys([id_property, *properties]))
    return hubspot.read(object_type, wanted, names, id_property=id_property)


def by_type(upserts: Sequence[Upsert]) -> Mapping[tuple[str, str], list[Upsert]]:
    grouped: dict[tuple[str, str], list[Upsert]] = {}
    for op in upserts:
        grouped.setdefault((op.object_type, op.id_property), []).append(op)
    return grouped
