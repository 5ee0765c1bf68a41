"""Pipelines and their stages: HubSpot's CRM Pipelines API (v3).

Every portal starts with HubSpot's default deal pipeline (id ``default``, "Sales Pipeline").
Pipelines created through the API get numeric string ids, as HubSpot's do. Only deals have
pipelines here (the double has no tickets).

Backed by the Pipelines guide (https://developers.hubspot.com/docs/api/crm/pipelines) and the
default deal stages it names (``appointmentscheduled`` ... ``closedwon``, ``closedlost``). Not
confirmed: the numeric form of the ids of pipelines made through the API.
"""

import itertools
from dataclasses import dataclass, field
from typing import Any

from doubles.hubspot.wire import iso, not_found, type_label, validation

PIPELINE_TYPES = ("deals",)
DEFAULT_PIPELINE = "default"
# HubSpot's default deal stages: id, label, probability of closing.
_DEFAULT_STAGES = (
    ("appointmentscheduled", "Appointment Scheduled", "0.2"),
    ("qualifiedtobuy", "Qualified To Buy", "0.4"),
    ("presentationscheduled", "Presentation Scheduled", "0.6"),
    ("decisionmakerboughtin", "Decision Maker Bought-In", "0.8"),
    ("contractsent", "Contract Sent", "0.9"),
    ("closedwon", "Closed Won", "1.0"),
    ("closedlost", "Closed Lost", "0.0"),
)


@dataclass
class Stage:
    id: str
    label: str
    display_order: int
    metadata: dict[str, str]
    created: float

    def json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "displayOrder": self.display_order,
            "metadata": dict(self.metadata),
            "id": self.id,
            "createdAt": iso(self.created),
            "updatedAt": iso(self.created),
            "archived": False,
            "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
        }


@dataclass
class Pipeline:
    id: str
    label: str
    display_order: int
    created: float
    stages: list[Stage] = field(default_factory=list)

    def stage_ids(self) -> list[str]:
        return [s.id for s in self.stages]

    def json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "displayOrder": self.display_order,
            "id": self.id,
            "stages": [s.json() for s in self.stages],
            "createdAt": iso(self.created),
            "updatedAt": iso(self.created),
            "archived": False,
        }


class Pipelines:
    """The pipelines of one portal, per object type."""

    def __init__(self, now: float) -> None:
        self._ids = itertools.count(10_000_001)
        default = Pipeline(DEFAULT_PIPELINE, "Sales Pipeline", 0, now)
        default.stages = [
            Stage(stage_id, label, order, _deal_metadata({"probability": p}), now)
            for order, (stage_id, label, p) in enumerate(_DEFAULT_STAGES)
        ]
        self.by_type: dict[str, dict[str, Pipeline]] = {"deals": {default.id: default}}

    def of(self, object_type: str) -> dict[str, Pipeline]:
        if object_type not in PIPELINE_TYPES:
            raise validation(f"Object type {type_label(object_type)} does not support pipelines")
        return self.by_type[object_type]

    def add(
        self, object_type: str, label: str, stages: list[tuple[str, dict[str, str]]], now: float
    ) -> Pipeline:
        """A new pipeline with these (label, metadata) stages, ids generated."""
        pipeline = Pipeline(str(next(self._ids)), label, len(self.of(object_type)), now)
        for order, (stage_label, metadata) in enumerate(stages):
            if object_type == "deals":
                metadata = _deal_metadata(metadata)
            stage = Stage(str(next(self._ids)), stage_label, order, metadata, now)
            pipeline.stages.append(stage)
        self.of(object_type)[pipeline.id] = pipeline
        return pipeline

    # -- the Pipelines API -----------------------------------------------------------------

    def get_all(self, object_type: str) -> tuple[int, dict[str, Any]]:
        ordered = sorted(self.of(object_type).values(), key=lambda p: (p.display_order, p.label))
        return 200, {"results": [p.json() for p in ordered]}

    def get(self, object_type: str, pipeline_id: str) -> tuple[int, dict[str, Any]]:
        return 200, self._existing(object_type, pipeline_id).json()

    def get_stages(self, object_type: str, pipeline_id: str) -> tuple[int, dict[str, Any]]:
        stages = self._existing(object_type, pipeline_id).stages
        return 200, {"results": [s.json() for s in stages]}

    def create(self, object_type: str, body: Any, now: float) -> tuple[int, dict[str, Any]]:
        if not isinstance(body, dict):
            raise validation("Invalid input JSON: expected an object")
        missing = [f for f in ("label", "displayOrder", "stages") if body.get(f) in (None, "")]
        if missing:
            raise validation(f"Some required fields were not set: [{', '.join(missing)}]")
        raw_stages = body["stages"]
        if not isinstance(raw_stages, list) or not raw_stages:
            raise validation("A pipeline needs at least one stage")
        stages: list[tuple[str, dict[str, str]]] = []
        for raw in raw_stages:
            if not isinstance(raw, dict) or raw.get("label") in (None, ""):
                raise validation("Some required fields were not set: [label]")
            metadata = {str(k): str(v) for k, v in (raw.get("metadata") or {}).items()}
            if object_type == "deals":
                _check_probability(metadata)
            stages.append((str(raw["label"]), metadata))
        labels = [label for label, _ in stages]
        if len(set(labels)) != len(labels):
            raise validation("Stage labels must be unique within a pipeline")
        display_order = _int(body["displayOrder"])
        orders = [_int(raw.get("displayOrder", i)) for i, raw in enumerate(raw_stages)]
        pipeline = self.add(object_type, str(body["label"]), stages, now)
        pipeline.display_order = display_order
        for stage, order in zip(pipeline.stages, orders, strict=True):
            stage.display_order = order
        pipeline.stages.sort(key=lambda s: (s.display_order, s.label))
        return 201, pipeline.json()

    def _existing(self, object_type: str, pipeline_id: str) -> Pipeline:
        pipeline = self.of(object_type).get(pipeline_id)
        if pipeline is None:
            raise not_found(
                f"Unable to find pipeline {pipeline_id} for object type {type_label(object_type)}"
            )
        return pipeline


def _check_probability(metadata: dict[str, str]) -> None:
    # HubSpot requires every deal stage to say how likely a deal in it is to close.
    try:
        probability = float(metadata["probability"])
    except (KeyError, ValueError):
        raise validation(
            "Deal stages need metadata.probability, a number between 0.0 and 1.0"
        ) from None
    if not 0.0 <= probability <= 1.0:
        raise validation(f"Deal stage probability must be between 0.0 and 1.0, got {probability}")


def _deal_metadata(metadata: dict[str, str]) -> dict[str, str]:
    """A deal stage is closed (won or lost) when its probability is 1.0 or 0.0."""
    probability = metadata.get("probability", "0.5")
    closed = float(probability) in (0.0, 1.0)
    return {"isClosed": "true" if closed else "false", **metadata, "probability": probability}


def _int(raw: Any) -> int:
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise validation(f"displayOrder must be an integer, got {raw!r}") from None
