"""The operations a mapping returns, and the push worker carries out."""

from dataclasses import dataclass

from shared.hubspot.gateway import Upsert


@dataclass(frozen=True)
class FlagDeleted:
    """Set properties on the record with this Stripe id, if HubSpot has it; never create it."""

    object_type: str
    id_property: str
    id: str
    properties: dict[str, str]


@dataclass(frozen=True)
class Archive:
    """Archive the record with this Stripe id, if HubSpot has it."""

    object_type: str
    id_property: str
    id: str


@dataclass(frozen=True)
class Skip:
    """Nothing to write; ``reason`` is a code, safe to store."""

    reason: str


Op = Upsert | FlagDeleted | Archive | Skip
