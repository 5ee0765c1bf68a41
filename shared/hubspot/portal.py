"""What Omniroo's settings need to know of a HubSpot portal: its deal pipelines with their stages
(ids and labels, in the portal's display order) and its contact properties. Plain data, read by
``HubSpotGateway.portal()`` from the Pipelines API (``GET /crm/v3/pipelines/deals``) and the
Properties API (``GET /crm/v3/properties/contacts``)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Stage:
    id: str
    label: str


@dataclass(frozen=True)
class Pipeline:
    id: str
    label: str
    stages: tuple[Stage, ...]


@dataclass(frozen=True)
class Property:
    name: str
    label: str
    # HubSpot computes or owns its value (``calculated``, ``modificationMetadata.readOnlyValue``):
    # a write to it is refused, so no mapping may name it.
    read_only: bool = False


@dataclass(frozen=True)
class Portal:
    pipelines: tuple[Pipeline, ...]
    contact_properties: tuple[Property, ...]

    def stage_ids(self) -> dict[str, set[str]]:
        """Pipeline id -> its stage ids."""
        return {p.id: {s.id for s in p.stages} for p in self.pipelines}

    def stage_label(self, pipeline_id: str, stage_id: str) -> str:
        """ "Sales Pipeline · Closed Won", or the ids when the portal has no such stage."""
        for pipeline in self.pipelines:
            if pipeline.id == pipeline_id:
                for stage in pipeline.stages:
                    if stage.id == stage_id:
                        return f"{pipeline.label} · {stage.label}"
        return f"{pipeline_id} · {stage_id}"

    def contact_property(self, name: str) -> Property | None:
        return next((p for p in self.contact_properties if p.name == name), None)
