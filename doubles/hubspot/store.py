"""What a portal holds: its schemas, records, pipelines and associations."""

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from doubles.hubspot.links import Links
from doubles.hubspot.pipelines import Pipelines
from doubles.hubspot.properties import TypeSchema
from doubles.hubspot.wire import OBJECT_TYPES, iso


@dataclass
class Record:
    id: str
    properties: dict[str, str]
    created: float
    updated: float
    archived: bool = False
    archived_at: float | None = None

    def json(self, names: Iterable[str] | None = None, new: bool | None = None) -> dict[str, Any]:
        props: dict[str, Any] = (
            dict(self.properties)
            if names is None
            else {name: self.properties.get(name) for name in names}
        )
        body: dict[str, Any] = {
            "id": self.id,
            "properties": props,
            "createdAt": iso(self.created),
            "updatedAt": iso(self.updated),
            "archived": self.archived,
        }
        if self.archived_at is not None:
            body["archivedAt"] = iso(self.archived_at)
        if new is not None:
            body["new"] = new
        return body


class Portal:
    """One HubSpot account: its schema and records for every object type, its pipelines and the
    associations between its records."""

    def __init__(self, portal_id: int, now: float) -> None:
        self.id = portal_id
        self.schemas = {t: TypeSchema(t, now) for t in OBJECT_TYPES}
        self.records: dict[str, dict[str, Record]] = {t: {} for t in OBJECT_TYPES}
        # Record ids are unique across object types, as HubSpot's are in practice.
        self.ids = itertools.count(101)
        self.pipelines = Pipelines(now)
        self.links = Links()
        # (object type, unique property) -> value -> id of the live record holding it; built on
        # first use and kept by every write, so upserts by unique value do not scan the store.
        self.index: dict[tuple[str, str], dict[str, str]] = {}

    def forget_indexes(self, object_type: str) -> None:
        """Drop the indexes of a type whose properties changed (rebuilt on the next lookup)."""
        self.index = {key: ids for key, ids in self.index.items() if key[0] != object_type}
