"""The HubSpot calls the sync makes, through the real ``hubspot-api-client``.

Generic over object types (``crm.objects``), batched (HubSpot takes at most 100 inputs per object
batch call, 1,000 per association batch read and 2,000 per association batch write) and every
call paced by ``calls.call``, through the caller's ``pacer`` when it has one (the drainer's
per-portal budget). ``HUBSPOT_API_BASE`` points it at a local double.

The batch calls of the write path read their answers as plain JSON (``_preload_content=False``):
the client's model deserialization, which parses every record's dates, cost ten times the
request itself. Sources: developers.hubspot.com/docs/api-reference/crm-objects-v3 (batch upsert,
100 inputs), the changelog "Batch Read Limit for HubSpot Associations API" (1,000 ids since
February 2025); association batch writes take 2,000 inputs (docs.workato.com's HubSpot connector,
"Associate records (batch)"), and a call refused for its size is split.
"""

import itertools
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from hubspot import HubSpot
from hubspot.crm import objects as crm_objects
from hubspot.crm import pipelines as crm_pipelines
from hubspot.crm import properties as crm_properties
from hubspot.crm.associations import v4 as crm_associations
from hubspot.crm.objects import models as m
from hubspot.crm.properties import models as pm
from urllib3.util.retry import Retry

from shared.clock import Clock
from shared.hubspot.associations import BATCH_LIMIT, AssociationBatches, chunks
from shared.hubspot.calls import HubSpotRejected, Pacer, Reply, call
from shared.hubspot.portal import Pipeline, Portal, Property, Stage
from shared.hubspot.schema import GROUP_LABEL, GROUP_NAME, SCHEMA, PropertyDef
from shared.mapping.ops import Upsert

# The generated models each build a fresh Configuration unless given one, and that re-levels
# the library's loggers under logging's global lock: 23 µs an input, 70 µs an association pair,
# seconds of a backfill's CPU. Every object model the gateway builds shares this one (the
# property models are built once per portal, at set-up).
MODELS = crm_objects.Configuration()

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
    return chunks(items, size)


class HubSpotGateway(AssociationBatches):
    def __init__(
        self,
        access_token: str,
        clock: Clock,
        host: str | None = None,
        timeout: float = 10.0,
        pacer: Pacer | None = None,
        retries: int = 0,
    ) -> None:
        options: dict[str, Any] = {"access_token": access_token}
        if host:
            options["host"] = host
        # Connection errors may retry quickly; reads and statuses are ours to handle (calls.py).
        options["retry"] = Retry(total=2, connect=2, read=0, status=0, redirect=0)
        self._client = HubSpot(**options)
        self._clock = clock
        self._timeout = (3.05, timeout)
        self._pacer = pacer
        self._retries = retries
        self._counter = itertools.count(1)
        self.calls = 0

    def _run(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Reply:
        def attempt() -> Any:
            self.calls = next(self._counter)  # several threads may call at once
            return fn(*args, **kwargs, _request_timeout=self._timeout)

        return self._call(attempt)

    def _run_json(self, fn: Callable[..., Any], *args: Any) -> Reply:
        """A call whose answer is read as plain JSON (``data`` is a dict, or None when empty)."""

        def attempt() -> tuple[Any, int, Any]:
            self.calls = next(self._counter)
            raw = fn(*args, _request_timeout=self._timeout, _preload_content=False)
            return (json.loads(raw.data) if raw.data else None), raw.status, raw.headers

        return self._call(attempt)

    def _call(self, attempt: Callable[[], Any]) -> Reply:
        """One attempt function under the portal's pacer, with the gateway's retries."""
        return call(
            attempt,
            self._clock,
            lambda exc: isinstance(exc, _API_ERRORS),
            pacer=self._pacer,
            retries=self._retries,
        )

    def upsert(self, ops: Sequence[Upsert]) -> list[Written]:
        """Create or update by unique property; one call per 100 records of one type."""
        written: list[Written] = []
        for object_type in sorted({op.object_type for op in ops}):
            same = [op for op in ops if op.object_type == object_type]
            for chunk in _chunks(same):
                body = m.BatchInputSimplePublicObjectBatchInputUpsert(
                    inputs=[
                        m.SimplePublicObjectBatchInputUpsert(
                            id_property=op.id_property,
                            id=op.id,
                            properties=op.properties,
                            local_vars_configuration=MODELS,
                        )
                        for op in chunk
                    ],
                    local_vars_configuration=MODELS,
                )
                reply = self._run_json(
                    self._client.crm.objects.batch_api.upsert_with_http_info, object_type, body
                )
                written += self._written(reply, chunk)
        return written

    @staticmethod
    def _written(reply: Reply, chunk: Sequence[Upsert]) -> list[Written]:
        """What a batch upsert wrote, in the order asked; inputs it did not write (a 207) are
        left out, for the caller to find."""
        results = (reply.data or {}).get("results") or []
        if len(chunk) == 1 and len(results) == 1:
            only = results[0]
            return [Written(chunk[0].id, str(only["id"]), bool(only.get("new")))]
        by_stripe_id: dict[str, Written] = {}
        id_property = chunk[0].id_property
        for result in results:
            stripe_id = (result.get("properties") or {}).get(id_property) or ""
            by_stripe_id[stripe_id] = Written(stripe_id, str(result["id"]), bool(result.get("new")))
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
                inputs=[
                    m.SimplePublicObjectId(id=i, local_vars_configuration=MODELS) for i in chunk
                ],
                properties=list(properties),
                properties_with_history=[],
                id_property=id_property,
                local_vars_configuration=MODELS,
            )
            reply = self._run_json(
                self._client.crm.objects.batch_api.read_with_http_info, object_type, body
            )
            for result in (reply.data or {}).get("results") or []:
                props = result.get("properties") or {}
                key = props.get(id_property) if id_property else str(result["id"])
                found[str(key)] = {"id": str(result["id"]), "properties": props}
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
                    id=record_id,
                    id_property=id_property,
                    properties=properties,
                    local_vars_configuration=MODELS,
                )
            ],
            local_vars_configuration=MODELS,
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
                inputs=[
                    m.SimplePublicObjectId(id=i, local_vars_configuration=MODELS) for i in chunk
                ],
                local_vars_configuration=MODELS,
            )
            self._run(self._client.crm.objects.batch_api.archive_with_http_info, object_type, body)

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
