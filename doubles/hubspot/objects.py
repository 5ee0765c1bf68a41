"""HubSpot's CRM Objects API over a portal's records: batch calls, search and the basic calls.

Writes are all-or-nothing per call, as HubSpot's are: every input is validated (property names
and values, the contact email's uniqueness, ``hasUniqueValue`` properties, inline associations)
before anything is stored.

Backed by HubSpot's documentation:
- batch upsert creates or updates records by a property whose values are unique
  (``idProperty``; a custom one needs ``hasUniqueValue``), answers 200 with ``new`` on each result,
  and takes ``id``, ``idProperty`` and ``properties`` per input, no associations
  (https://developers.hubspot.com/docs/api-reference/latest/crm/objects/custom-objects/batch/
  upsert-custom-objects; https://developers.hubspot.com/changelog/updating-objects-by-custom-
  field-and-adding-owner-properties-via-the-api);
- batch calls take at most 100 inputs (https://developers.hubspot.com/docs/api/crm/
  understanding-the-crm, "Batch operations"), batch read answers 207 with an ``errors`` entry
  naming the ids it could not find (the ``BatchResponse...WithErrors`` models of the API
  reference);
- search takes at most 200 results a page and the operators of its filters
  (https://developers.hubspot.com/docs/api/crm/search).

Not confirmed by the documentation, kept as HubSpot answers on the wire: the 409 body of a
contact whose email another contact has (``category`` ``CONFLICT``, message ``Contact already
exists. Existing ID: <id>``, known from HubSpot's answers and community reports; the error
handling guide, https://developers.hubspot.com/docs/api/error-handling, lists 409 Conflict
only); the wording of the refusal of associations in an upsert input (the double's own).
"""

from collections.abc import Callable, Iterator
from typing import Any

from doubles.hubspot.links import associate, plan_inline, v3_view
from doubles.hubspot.properties import modified_property, system_properties
from doubles.hubspot.rules import Rules
from doubles.hubspot.store import Portal, Record
from doubles.hubspot.wire import (
    HubSpotError,
    Problem,
    as_value,
    batch_reply,
    error,
    iso,
    not_found,
    property_errors,
    type_id,
    type_label,
    validation,
)

BATCH_LIMIT = 100
SEARCH_LIMIT = 200
_DEFAULT_READ = {
    "contacts": ("email", "firstname", "lastname"),
    "companies": ("domain", "name"),
    "deals": ("amount", "closedate", "dealname", "dealstage", "pipeline"),
    "products": ("description", "name", "price"),
    "line_items": ("hs_product_id", "name", "price", "quantity"),
}


# One inline association of a record to create: its target and type ids.
Link = tuple[tuple[str, str], set[int]]
# One planned write: the record it changes (None: a new one) and the properties it sets.
_Plan = tuple[Record | None, dict[str, str]]


class ObjectsApi:
    """The CRM Objects API for one object type of one portal, at one moment."""

    def __init__(self, portal: Portal, object_type: str, now: float) -> None:
        self.portal = portal
        self.type = object_type
        self.now = now
        self.schema = portal.schemas[object_type]
        self.store = portal.records[object_type]

    # -- batch -----------------------------------------------------------------------------

    def batch_create(self, body: Any) -> tuple[int, dict[str, Any]]:
        inputs = _inputs(body)
        plans: list[_Plan] = [(None, self._props(i.get("properties"))) for i in inputs]
        links = [plan_inline(self.portal, self.type, i.get("associations")) for i in inputs]
        written = self._write(plans)
        self._associate(written, links)
        return 201, self._batch([r.json() for r, _ in written])

    def batch_update(self, body: Any) -> tuple[int, dict[str, Any]]:
        inputs = _inputs(body)
        targets = [self._target(i.get("id"), i.get("idProperty"), write=True) for i in inputs]
        missing = [str(i.get("id")) for i, t in zip(inputs, targets, strict=True) if t is None]
        if missing:
            raise self._not_found_ids(missing)
        _no_duplicates([str(i.get("id")) for i in inputs])
        plans = [
            (target, self._props(item.get("properties")))
            for item, target in zip(inputs, targets, strict=True)
        ]
        return 200, self._batch([r.json() for r, _ in self._write(plans)])

    def batch_upsert(self, body: Any) -> tuple[int, dict[str, Any]]:
        inputs = _inputs(body)
        plans: list[_Plan] = []
        for item in inputs:
            if "associations" in item:
                # HubSpot's upsert input has no associations: say so rather than drop them.
                raise validation(
                    'Invalid input JSON: Unrecognized field "associations": batch upsert '
                    "inputs take no associations; create them with the Associations API"
                )
            id_property = item.get("idProperty")
            if not id_property or item.get("id") in (None, ""):
                raise validation("Some required fields were not set: [id, idProperty]")
            self._check_id_property(str(id_property), write=True)
            props = self._props(item.get("properties"))
            props[str(id_property)] = self._normal(str(id_property), item.get("id"))
            plans.append((self.find(str(id_property), item.get("id")), props))
        _no_duplicates([self._normal(str(i.get("idProperty")), i.get("id")) for i in inputs])
        written = self._write(plans)
        return 200, self._batch([r.json(new=new) for r, new in written])

    def batch_read(self, body: Any) -> tuple[int, dict[str, Any]]:
        inputs = _inputs(body)
        id_property = body.get("idProperty") or None
        names = self._names(body.get("properties"))
        found, missing = [], []
        for item in inputs:
            record = self._target(item.get("id"), id_property, write=False)
            if record is None:
                missing.append(str(item.get("id")))
            elif record not in found:
                found.append(record)
        reply = self._batch([r.json(names) for r in found])
        if not missing:
            return 200, reply
        problem = self._not_found_ids(missing).body
        del problem["correlationId"]
        return 207, {**reply, "numErrors": 1, "errors": [problem]}

    def batch_archive(self, body: Any) -> tuple[int, None]:
        for item in _inputs(body):
            self._archive(self._target(item.get("id"), None, write=False))
        return 204, None

    # -- search ----------------------------------------------------------------------------

    def search(self, body: Any) -> tuple[int, dict[str, Any]]:
        if not isinstance(body, dict):
            raise validation("Invalid search request")
        limit, after = _int(body.get("limit"), 10, "limit"), _int(body.get("after"), 0, "after")
        if not 0 < limit <= SEARCH_LIMIT:
            raise validation(f"limit must be between 1 and {SEARCH_LIMIT}, got {limit}")
        groups = body.get("filterGroups") or []
        matched = [r for r in self._live() if not groups or any(_matches(r, g) for g in groups)]
        names = self._names(body.get("properties"))
        reply: dict[str, Any] = {
            "total": len(matched),
            "results": [r.json(names) for r in matched[after : after + limit]],
        }
        if after + limit < len(matched):
            reply["paging"] = {"next": {"after": str(after + limit)}}
        return 200, reply

    # -- basic -----------------------------------------------------------------------------

    def get(self, record_id: str, args: dict[str, str]) -> tuple[int, dict[str, Any]]:
        record = self._target(record_id, args.get("idProperty") or None, write=False)
        if record is None:
            raise not_found()
        return 200, self._read(record, args)

    def update(self, record_id: str, args: dict[str, str], body: Any) -> tuple[int, dict[str, Any]]:
        record = self._target(record_id, args.get("idProperty") or None, write=True)
        if record is None:
            raise not_found()
        props = self._props(body.get("properties") if isinstance(body, dict) else None)
        [(written, _)] = self._write([(record, props)])
        return 200, written.json()

    def archive(self, record_id: str) -> tuple[int, None]:
        # HubSpot answers 204 even when there is no such record.
        self._archive(self._target(record_id, None, write=False))
        return 204, None

    def create(self, body: Any) -> tuple[int, dict[str, Any]]:
        body = body if isinstance(body, dict) else {}
        props = self._props(body.get("properties"))
        links = plan_inline(self.portal, self.type, body.get("associations"))
        written = self._write([(None, props)])
        self._associate(written, [links])
        return 201, written[0][0].json()

    def list_records(self, args: dict[str, str]) -> tuple[int, dict[str, Any]]:
        limit, after = _int(args.get("limit"), 10, "limit"), _int(args.get("after"), 0, "after")
        if not 0 < limit <= BATCH_LIMIT:
            raise validation(f"limit must be between 1 and {BATCH_LIMIT}, got {limit}")
        live = list(self._live())
        page = live[after : after + limit]
        reply: dict[str, Any] = {"results": [self._read(r, args) for r in page]}
        if after + limit < len(live):
            reply["paging"] = {"next": {"after": str(after + limit)}}
        return 200, reply

    # -- lookups ---------------------------------------------------------------------------

    def _live(self) -> Iterator[Record]:
        return (r for r in sorted(self.store.values(), key=lambda r: int(r.id)) if not r.archived)

    def _read(self, record: Record, args: dict[str, str]) -> dict[str, Any]:
        """A record as the basic reads answer it, with the ``associations`` asked for."""
        body = record.json(self._names(_split(args.get("properties"))))
        view = v3_view(self.portal, (self.type, record.id), _split(args.get("associations")) or [])
        if view:  # HubSpot leaves the field out when nothing asked for is associated
            body["associations"] = view
        return body

    def _normal(self, name: str, value: Any) -> str:
        text = as_value(value)
        return text.strip().lower() if name == "email" and self.type == "contacts" else text

    def find(self, name: str, value: Any) -> Record | None:
        wanted = self._normal(name, value)
        if name == "hs_object_id":
            record = self.store.get(wanted)
            return record if record is not None and not record.archived else None
        index = self._index(name)
        if index is not None:
            found = index.get(wanted)
            return None if found is None else self.store[found]
        return next((r for r in self._live() if r.properties.get(name) == wanted), None)

    def _index(self, name: str) -> dict[str, str] | None:
        """Value -> live record id for a unique property (the first by id, as a scan finds)."""
        if name not in self.schema.unique() and not (name == "email" and self.type == "contacts"):
            return None
        key = (self.type, name)
        if key not in self.portal.index:
            built: dict[str, str] = {}
            for record in self._live():
                held = record.properties.get(name)
                if held is not None:
                    built.setdefault(held, record.id)
            self.portal.index[key] = built
        return self.portal.index[key]

    def _reindex(self, record: Record, before: dict[str, str]) -> None:
        for (object_type, name), ids in self.portal.index.items():
            if object_type != self.type:
                continue
            old = before.get(name)
            new = None if record.archived else record.properties.get(name)
            if old == new and not record.archived:
                continue
            if old is not None and ids.get(old) == record.id:
                del ids[old]
            if new is not None:
                ids.setdefault(new, record.id)

    def _check_id_property(self, name: str, write: bool) -> None:
        if name not in self.schema.properties:
            raise property_errors(self.portal.id, [_doesnt_exist(name)])
        unique = name in self.schema.unique() or (name == "email" and self.type == "contacts")
        # HubSpot refuses writes keyed by hs_object_id as a "non-unique" idProperty.
        if not unique and (write or name != "hs_object_id"):
            raise validation(
                f"Unable to perform update/upsert by non-unique {type_id(self.type)} property "
                f"{name} in portal ID {self.portal.id}"
            )

    def _target(self, record_id: Any, id_property: Any, write: bool) -> Record | None:
        if id_property:
            self._check_id_property(str(id_property), write)
            return self.find(str(id_property), record_id)
        return self.find("hs_object_id", record_id)

    def _names(self, requested: Any) -> list[str]:
        if isinstance(requested, list) and requested:
            wanted = [str(n) for n in requested if str(n) in self.schema.properties]
        else:
            wanted = list(_DEFAULT_READ[self.type])
        return list(dict.fromkeys([*wanted, *system_properties(self.type)]))

    def _not_found_ids(self, ids: list[str]) -> HubSpotError:
        message = (
            f"Could not get some {type_label(self.type)} objects, they may be deleted or not "
            "exist. Check that ids are valid."
        )
        return error(404, message, "OBJECT_NOT_FOUND", context={"ids": ids})

    # -- writes ----------------------------------------------------------------------------

    def _props(self, raw: Any) -> dict[str, str]:
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            raise validation("properties must be an object")
        unknown = [name for name in raw if name not in self.schema.properties]
        if unknown:
            raise property_errors(self.portal.id, [_doesnt_exist(n) for n in unknown])
        system = system_properties(self.type)
        return {str(k): self._normal(str(k), v) for k, v in raw.items() if k not in system}

    def _write(self, plans: list[_Plan]) -> list[tuple[Record, bool]]:
        rules = Rules(self.portal, self.type)
        problems: list[Problem] = []
        for record, props in plans:
            problems += rules.apply(record, props)
        if problems:
            raise property_errors(self.portal.id, problems)
        self._check_unique(plans)
        written = []
        for record, props in plans:
            new = record is None
            if record is None:
                record_id = str(next(self.portal.ids))
                record = Record(record_id, {"hs_object_id": record_id}, self.now, self.now)
                record.properties["createdate"] = iso(self.now)
                self.store[record_id] = record
            before = dict(record.properties)
            for name, value in props.items():
                if value == "":
                    record.properties.pop(name, None)
                else:
                    record.properties[name] = value
            self._reindex(record, {} if new else before)
            record.updated = self.now
            record.properties[modified_property(self.type)] = iso(self.now)
            written.append((record, new))
        return written

    def _check_unique(self, plans: list[_Plan]) -> None:
        keys = self.schema.unique() + (["email"] if self.type == "contacts" else [])
        for name in keys:
            # Who claims each value: an existing record by id, a new one by its place in the
            # batch (two new records are two claimants, not one "None").
            claimed: dict[str, str] = {}
            for index, (record, props) in enumerate(plans):
                value = props.get(name)
                if not value:
                    continue
                claimant = record.id if record is not None else f"new:{index}"
                if claimed.get(value, claimant) != claimant:
                    raise validation(f"Duplicate unique property value in batch input: {value}")
                claimed[value] = claimant
                owner = self.find(name, value)
                if owner is None or owner is record:
                    continue
                if name == "email":
                    raise error(409, f"Contact already exists. Existing ID: {owner.id}", "CONFLICT")
                raise error(409, f"Duplicate unique property value: {value}", "CONFLICT")

    def _associate(self, written: list[tuple[Record, bool]], links: list[list[Link]]) -> None:
        for (record, _), planned in zip(written, links, strict=True):
            for end, type_ids in planned:
                associate(self.portal, (self.type, record.id), end, type_ids)

    def _archive(self, record: Record | None) -> None:
        if record is not None and not record.archived:
            record.archived = True
            record.archived_at = self.now
            self._reindex(record, record.properties)

    def _batch(self, results: list[dict[str, Any]]) -> dict[str, Any]:
        return batch_reply(self.now, results)


def _doesnt_exist(name: str) -> Problem:
    return name, "PROPERTY_DOESNT_EXIST", f'Property "{name}" does not exist', None


def _inputs(body: Any) -> list[dict[str, Any]]:
    if not isinstance(body, dict) or not isinstance(body.get("inputs"), list):
        raise validation("Some required fields were not set: [inputs]")
    inputs = body["inputs"]
    if len(inputs) > BATCH_LIMIT:
        raise validation(f"Too many inputs: inputs must be <= {BATCH_LIMIT}, got {len(inputs)}")
    if not all(isinstance(i, dict) for i in inputs):
        raise validation("Every input must be an object")
    return [dict(i) for i in inputs]


def _no_duplicates(ids: list[str]) -> None:
    seen: set[str] = set()
    duplicates: list[str] = []
    for record_id in ids:
        if record_id in seen and record_id not in duplicates:
            duplicates.append(record_id)
        seen.add(record_id)
    if duplicates:
        listed = ", ".join(duplicates)
        raise validation(f"Duplicate IDs found in batch input: [{listed}]. IDs must be unique")


def _int(raw: Any, default: int, name: str) -> int:
    try:
        return int(raw or default)
    except (TypeError, ValueError):
        raise validation(f"{name} must be an integer, got {raw!r}") from None


def _split(raw: str | None) -> list[str] | None:
    return [p for p in raw.split(",") if p] if raw else None


def _matches(record: Record, group: Any) -> bool:
    filters = group.get("filters", []) if isinstance(group, dict) else []
    return all(_filter_matches(record, f) for f in filters)


def _number(value: str | None) -> float:
    try:
        return float(value or "nan")
    except ValueError:
        return float("nan")  # compares false with everything, as HubSpot skips non-numbers


# search filter operator -> (the record's value or None, the filter's value, its values) -> match
OPERATORS: dict[str, Callable[[str | None, str, list[str]], bool]] = {
    "HAS_PROPERTY": lambda have, wanted, options: have is not None,
    "NOT_HAS_PROPERTY": lambda have, wanted, options: have is None,
    "EQ": lambda have, wanted, options: have == wanted,
    "NEQ": lambda have, wanted, options: have != wanted,
    "IN": lambda have, wanted, options: have in options,
    "NOT_IN": lambda have, wanted, options: have not in options,
    "GT": lambda have, wanted, options: _number(have) > _number(wanted),
    "GTE": lambda have, wanted, options: _number(have) >= _number(wanted),
    "LT": lambda have, wanted, options: _number(have) < _number(wanted),
    "LTE": lambda have, wanted, options: _number(have) <= _number(wanted),
}


def _filter_matches(record: Record, spec: dict[str, Any]) -> bool:
    value = record.properties.get(str(spec.get("propertyName")))
    operator = spec.get("operator", "EQ")
    if operator not in OPERATORS:
        raise validation(f"Unsupported filter operator: {operator}")
    wanted = as_value(spec.get("value")).lower()
    options = [as_value(v).lower() for v in spec.get("values") or []]
    return OPERATORS[operator](value.lower() if value is not None else None, wanted, options)
