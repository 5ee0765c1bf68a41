"""The HubSpot calls the sync makes, through the real ``hubspot-api-client``.

Generic over object types (``crm.objects``), batched (HubSpot takes at most 100 inputs per batch
call) and every call paced by ``calls.call``. ``HUBSPOT_API_BASE`` points it at a local double.
"""

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from hubspot import HubSpot
from hubspot.crm import objects as crm_objects
from hubspot.crm import pipelines as crm_pipelines
from hubspot.crm import properties as crm_properties
from hubspot.crm.associations import v4 as crm_associations
from hubspot.crm.associations.v4 import models as am
from hubspot.crm.objects import models as m
from hubspot.crm.properties import models as pm
from urllib3.util.retry import Retry

from shared.clock import Clock
from shared.hubspot.calls import HubSpotRejected, Reply, call
from shared.hubspot.portal import Pipeline, Portal, Property, Stage
from shared.hubspot.schema import GROUP_LABEL, GROUP_NAME, SCHEMA, PropertyDef
from shared.mapping.ops import Upsert

BATCH_LIMIT = 100
_API_ERRORS = (
    crm_objects.ApiException,
    crm_properties.ApiException,
    crm_associations.ApiException,
    crm_pipelines.ApiException,
)


@dataclass(frozen=True)
class Written:
    stripe_id: str
    hubspot_id: str
    new: bool


def _chunks[T](items: Sequence[T], size: int = BATCH_LIMIT) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class HubSpotGateway:
    def __init__(
        self, access_token: str, clock: Clock, host: str | None = None, timeout: float = 10.0
    ) -> None:
        options: dict[str, Any] = {"access_token": access_token}
        if host:
            options["host"] = host
        # Connection errors may retry quickly; reads and statuses are ours to handle (calls.py).
        options["retry"] = Retry(total=2, connect=2, read=0, status=0, redirect=0)
        self._client = HubSpot(**options)
        self._clock = clock
        self._timeout = (3.05, timeout)
        self.calls = 0

    def _run(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Reply:
        def attempt() -> Any:
            self.calls += 1
            return fn(*args, **kwargs, _request_timeout=self._timeout)

        return call(attempt, self._clock, lambda exc: isinstance(exc, _API_ERRORS))

    def upsert(self, ops: Sequence[Upsert]) -> list[Written]:
        """Create or update by unique property; one call per 100 records of one type."""
        written: list[Written] = []
        for object_type in sorted({op.object_type for op in ops}):
            same = [op for op in ops if op.object_type == object_type]
            for chunk in _chunks(same):
                body = m.BatchInputSimplePublicObjectBatchInputUpsert(
                    inputs=[
                        m.SimplePublicObjectBatchInputUpsert(
                            id_property=op.id_property, id=op.id, properties=op.properties
                        )
                        for op in chunk
                    ]
                )
                reply = self._run(
                    self._client.crm.objects.batch_api.upsert_with_http_info, object_type, body
                )
                written += self._written(reply, chunk)
        return written

    @staticmethod
    def _written(reply: Reply, chunk: Sequence[Upsert]) -> list[Written]:
        by_stripe_id: dict[str, Written] = {}
        id_property = chunk[0].id_property
        for result in reply.data.results:
            stripe_id = (result.properties or {}).get(id_property) or ""
            by_stripe_id[stripe_id] = Written(stripe_id, str(result.id), bool(result.new))
        if len(chunk) == 1 and len(reply.data.results) == 1:
            only = reply.data.results[0]
            return [Written(chunk[0].id, str(only.id), bool(only.new))]
        return [by_stripe_id[op.id] for op in chunk if op.id in by_stripe_id]

    def read(
        self,
        object_type: str,
        ids: Sequence[str],
        properties: Sequence[str],
        id_property: str | None = None,
    ) -> dict[str, dict[str, Any]]:
        """Records found, keyed by the id asked for; missing ones are simply absent."""
        found: dict[str, dict[str, Any]] = {}
        for chunk in _chunks(ids):
            body = m.BatchReadInputSimplePublicObjectId(
                inputs=[m.SimplePublicObjectId(id=i) for i in chunk],
                properties=list(properties),
                properties_with_history=[],
                id_property=id_property,
            )
            reply = self._run(
                self._client.crm.objects.batch_api.read_with_http_info, object_type, body
            )
            for result in reply.data.results:
                props = result.properties or {}
                key = props.get(id_property) if id_property else str(result.id)
                found[str(key)] = {"id": str(result.id), "properties": props}
        return found

    def update(
        self,
        object_type: str,
        record_id: str,
        properties: dict[str, str],
        id_property: str | None = None,
    ) -> str:
        body = m.BatchInputSimplePublicObjectBatchInput(
            inputs=[
                m.SimplePublicObjectBatchInput(
                    id=record_id, id_property=id_property, properties=properties
                )
            ]
        )
        reply = self._run(
            self._client.crm.objects.batch_api.update_with_http_info, object_type, body
        )
        results = reply.data.results
        if not results:
            raise HubSpotRejected(404, "OBJECT_NOT_FOUND", "")
        return str(results[0].id)

    def archive(self, object_type: str, record_ids: Sequence[str]) -> None:
        for chunk in _chunks(record_ids):
            body = m.BatchInputSimplePublicObjectId(
                inputs=[m.SimplePublicObjectId(id=i) for i in chunk]
            )
            self._run(self._client.crm.objects.batch_api.archive_with_http_info, object_type, body)

    def associate(self, from_type: str, to_type: str, pairs: Sequence[tuple[str, str]]) -> None:
        """Give each (from id, to id) pair HubSpot's default association; repeating is harmless."""
        for chunk in _chunks(sorted(set(pairs))):
            body = am.BatchInputPublicDefaultAssociationMultiPost(
                inputs=[
                    am.PublicDefaultAssociationMultiPost(
                        _from=am.PublicObjectId(id=a), to=am.PublicObjectId(id=b)
                    )
                    for a, b in chunk
                ]
            )
            self._run(
                self._client.crm.associations.v4.batch_api.create_default_with_http_info,
                from_type,
                to_type,
                body,
            )

    def associations_of(
        self, object_type: str, record_id: str, to_types: Sequence[str]
    ) -> dict[str, set[str]]:
        """Ids associated with one record, per target type, in one read (v3 ``associations``)."""
        reply = self._run(
            self._client.crm.objects.basic_api.get_by_id_with_http_info,
            object_type,
            record_id,
            associations=list(to_types),
            properties=["hs_object_id"],
        )
        found: dict[str, set[str]] = {t: set() for t in to_types}
        for key, page in (reply.data.associations or {}).items():
            # HubSpot names some types differently here ("line items" for line_items).
            name = key.replace(" ", "_")
            if name in found:
                found[name] |= {str(r.id) for r in page.results or []}
        return found

    def pipelines(self, object_type: str = "deals") -> dict[str, set[str]]:
        """Pipeline id -> its stage ids, as the portal has them."""
        reply = self._run(
            self._client.crm.pipelines.pipelines_api.get_all_with_http_info, object_type
        )
        return {str(p.id): {str(s.id) for s in p.stages or []} for p in reply.data.results or []}

    def portal(self) -> Portal:
        """The portal's deal pipelines and contact properties, for the settings editor (two
        calls). Archived pipelines and stages are left out: HubSpot refuses deals in them."""
        pipelines = self._run(
            self._client.crm.pipelines.pipelines_api.get_all_with_http_info, "deals"
        )
        properties = self._run(
            self._client.crm.properties.core_api.get_all_with_http_info, "contacts"
        )
        return Portal(
            tuple(
                Pipeline(
                    str(p.id),
                    str(p.label),
                    tuple(
                        Stage(str(s.id), str(s.label))
                        for s in sorted(p.stages or [], key=lambda s: s.display_order or 0)
                        if not s.archived
                    ),
                )
                for p in sorted(pipelines.data.results or [], key=lambda p: p.display_order or 0)
                if not p.archived
            ),
            tuple(
                Property(str(p.name), str(p.label or p.name), _read_only(p))
                for p in properties.data.results or []
                if not p.archived and not p.hidden
            ),
        )

    def ensure_schema(self, object_types: Sequence[str] = tuple(SCHEMA)) -> list[str]:
        """Create Omniroo's group and properties where missing; returns what was created."""
        created: list[str] = []
        for object_type in object_types:
            groups = self._run(
                self._client.crm.properties.groups_api.get_all_with_http_info, object_type
            )
            if GROUP_NAME not in {g.name for g in groups.data.results}:
                self._create(
                    self._client.crm.properties.groups_api.create_with_http_info,
                    object_type,
                    pm.PropertyGroupCreate(name=GROUP_NAME, label=GROUP_LABEL, display_order=-1),
                )
                created.append(f"{object_type}:{GROUP_NAME}")
            existing = self._run(
                self._client.crm.properties.core_api.get_all_with_http_info, object_type
            )
            names = {p.name for p in existing.data.results}
            for prop in SCHEMA[object_type][1]:
                if prop.name not in names:
                    body = _property_create(prop)
                    self._create(
                        self._client.crm.properties.core_api.create_with_http_info,
                        object_type,
                        body,
                    )
                    created.append(f"{object_type}:{prop.name}")
        return created

    def _create(self, fn: Callable[..., Any], *args: Any) -> None:
        try:
            self._run(fn, *args)
        except HubSpotRejected as exc:
            # Another instance created it between our read and our write: that is success.
            if exc.status != 409:
                raise


def _read_only(prop: Any) -> bool:
    meta = prop.modification_metadata
    return bool(prop.calculated or (meta is not None and meta.read_only_value))


def _property_create(prop: PropertyDef) -> pm.PropertyCreate:
    options = None
    if prop.type == "bool":
        options = [
            pm.OptionInput(label="Yes", value="true", display_order=0, hidden=False),
            pm.OptionInput(label="No", value="false", display_order=1, hidden=False),
        ]
    return pm.PropertyCreate(
        name=prop.name,
        label=prop.label,
        type=prop.type,
        field_type=prop.field_type,
        group_name=GROUP_NAME,
        has_unique_value=prop.unique,
        options=options,
    )
