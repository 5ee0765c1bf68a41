"""The operations a mapping returns, and the push worker carries out.

Records are named by their unique Stripe-id property, never by HubSpot id: the executor learns
HubSpot ids from the upserts of the same plan and resolves links and prunes with them.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Ref:
    """A record by its unique Stripe-id property."""

    object_type: str
    id_property: str
    id: str


@dataclass(frozen=True)
class _Record(Ref):
    """Properties for the HubSpot record named by its unique Stripe-id property."""

    properties: dict[str, str]


@dataclass(frozen=True)
class Upsert(_Record):
    """Create the record, or update it, by its unique Stripe id property."""


@dataclass(frozen=True)
class FlagDeleted(_Record):
    """Set properties on the record with this Stripe id, if HubSpot has it; never create it."""


@dataclass(frozen=True)
class Archive(Ref):
    """Archive the record with this Stripe id, if HubSpot has it."""


@dataclass(frozen=True)
class Link:
    """Associate two records upserted by the same plan (HubSpot's default association)."""

    source: Ref
    target: Ref


@dataclass(frozen=True)
class Prune:
    """Archive the ``child_type`` records associated with ``parent`` that this plan did not
    upsert: a subscription item removed in Stripe loses its line item in HubSpot."""

    parent: Ref
    child_type: str


@dataclass(frozen=True)
class Skip:
    """Nothing to write; ``reason`` is a code, safe to store."""

    reason: str


Op = Upsert | FlagDeleted | Archive | Link | Prune | Skip


def ref(upsert: Upsert) -> Ref:
    return Ref(upsert.object_type, upsert.id_property, upsert.id)
