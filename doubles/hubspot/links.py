"""The associations of a portal: HubSpot's association types, how associations are kept, and
what object reads and creates see of them.

Each association is stored once, under its two ends in a fixed order, with its HubSpot-defined
type ids as seen from the first end; read from the other end every type becomes its inverse.
Every association carries its pair's unlabeled type; a "Primary" one moves rather than adds.
Only associations between live records are visible: archiving a record hides its associations.

The type ids are HubSpot's own, from the v4 Associations guide's table of HubSpot-defined
association types (https://developers.hubspot.com/docs/api/crm/associations, "Association type
id values": contact to company 279 unlabeled and 1 primary, company to contact 280 and 2, deal to
contact 3, contact to deal 4, deal to company 341 and 5, company to deal 342 and 6, deal to line
item 19, line item to deal 20), which also says every association carries the unlabeled type
alongside a label. Not confirmed: that making a second "Primary" company moves the label rather
than refusing (the guide says the primary "can be changed"; the double moves it).
"""

from typing import TYPE_CHECKING, Any, NamedTuple

from doubles.hubspot.wire import HubSpotError, canonical_type, error, type_label, validation

if TYPE_CHECKING:
    from doubles.hubspot.store import Portal

End = tuple[str, str]  # (object type, record id)


class AssociationType(NamedTuple):
    id: int
    from_type: str
    to_type: str
    label: str | None
    inverse: int
    name: str  # how the v3 API names it


TYPES = {
    t.id: t
    for t in (
        AssociationType(279, "contacts", "companies", None, 280, "contact_to_company_unlabeled"),
        AssociationType(1, "contacts", "companies", "Primary", 2, "contact_to_company"),
        AssociationType(280, "companies", "contacts", None, 279, "company_to_contact_unlabeled"),
        AssociationType(2, "companies", "contacts", "Primary", 1, "company_to_contact"),
        AssociationType(3, "deals", "contacts", None, 4, "deal_to_contact"),
        AssociationType(4, "contacts", "deals", None, 3, "contact_to_deal"),
        AssociationType(341, "deals", "companies", None, 342, "deal_to_company_unlabeled"),
        AssociationType(5, "deals", "companies", "Primary", 6, "deal_to_company"),
        AssociationType(342, "companies", "deals", None, 341, "company_to_deal_unlabeled"),
        AssociationType(6, "companies", "deals", "Primary", 5, "company_to_deal"),
        AssociationType(19, "deals", "line_items", None, 20, "deal_to_line_item"),
        AssociationType(20, "line_items", "deals", None, 19, "line_item_to_deal"),
    )
}
# The unlabeled type of each pair, which ``associate/default`` creates.
DEFAULT_TYPES = {(t.from_type, t.to_type): t.id for t in TYPES.values() if t.label is None}


def _inverse(type_ids: set[int]) -> set[int]:
    return {TYPES[t].inverse for t in type_ids}


class Links:
    """The associations of one portal."""

    def __init__(self) -> None:
        self._types: dict[tuple[End, End], set[int]] = {}
        self._ends: dict[End, set[End]] = {}

    def types(self, a: End, b: End) -> set[int]:
        """The type ids between ``a`` and ``b``, as seen from ``a``."""
        stored = self._types.get((a, b) if a <= b else (b, a), set())
        return set(stored) if a <= b else _inverse(stored)

    def add(self, a: End, b: End, type_ids: set[int]) -> None:
        key, ids = ((a, b), type_ids) if a <= b else ((b, a), _inverse(type_ids))
        self._types.setdefault(key, set()).update(ids)
        self._ends.setdefault(a, set()).add(b)
        self._ends.setdefault(b, set()).add(a)

    def discard(self, a: End, b: End, type_ids: set[int] | None = None) -> None:
        """Remove these types (all of them when None) from the association of ``a`` and ``b``."""
        key = (a, b) if a <= b else (b, a)
        stored = self._types.get(key, set())
        if type_ids is not None:
            stored -= type_ids if a <= b else _inverse(type_ids)
        if type_ids is None or not stored:
            self._types.pop(key, None)
            self._ends.get(a, set()).discard(b)
            self._ends.get(b, set()).discard(a)

    def others(self, a: End, to_type: str) -> list[End]:
        found = [b for b in self._ends.get(a, set()) if b[0] == to_type]
        return sorted(found, key=lambda end: int(end[1]))


# -- on a portal -------------------------------------------------------------------------------


def is_live(portal: "Portal", end: End) -> bool:
    record = portal.records[end[0]].get(end[1])
    return record is not None and not record.archived


def associate(portal: "Portal", a: End, b: End, type_ids: set[int]) -> None:
    """Associate ``a`` and ``b`` with these types (seen from ``a``), the unlabeled one always."""
    ids = type_ids | {DEFAULT_TYPES[(a[0], b[0])]}
    for type_ in ids:
        if TYPES[type_].label != "Primary":
            continue
        # A contact or deal has one primary company: a new one takes over the old one's label.
        if b[0] == "companies":
            holder, company, held = a, b, type_
        else:
            holder, company, held = b, a, TYPES[type_].inverse
        for other in portal.links.others(holder, "companies"):
            if other != company:
                portal.links.discard(holder, other, {held})
    portal.links.add(a, b, ids)


def associated(portal: "Portal", a: End, to_type: str) -> list[tuple[End, set[int]]]:
    """The live records of ``to_type`` associated with live ``a``, with the types seen from it."""
    if not is_live(portal, a):
        return []
    others = portal.links.others(a, to_type)
    return [(b, portal.links.types(a, b)) for b in others if is_live(portal, b)]


def v3_view(portal: "Portal", a: End, wanted: list[str]) -> dict[str, Any]:
    """The ``associations`` of a v3 object read: ids and v3 type names, per requested type."""
    view: dict[str, Any] = {}
    for name in wanted:
        try:
            to_type = canonical_type(name)
        except HubSpotError:
            continue  # HubSpot ignores association types it does not know
        results = [
            {"id": b[1], "type": TYPES[t].name}
            for b, types in associated(portal, a, to_type)
            for t in sorted(types)
        ]
        if results:
            view[to_type] = {"results": results}
    return view


def plan_inline(portal: "Portal", from_type: str, raw: Any) -> list[tuple[End, set[int]]]:
    """Check the ``associations`` of a record to create: each one's target and type ids."""
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(i, dict) for i in raw):
        raise validation("associations must be a list of objects")
    planned, missing = [], []
    for item in raw:
        to_id = record_id(item.get("to"))
        ids = spec_ids(item.get("types"))
        pairs = {(TYPES[t].from_type, TYPES[t].to_type) for t in ids}
        if len(pairs) != 1 or next(iter(pairs))[0] != from_type:
            raise validation(
                f"Association types {sorted(ids)} do not all lead from {type_label(from_type)} "
                "to one object type"
            )
        end = (next(iter(pairs))[1], to_id)
        if not is_live(portal, end):
            missing.append(end)
        planned.append((end, ids))
    if missing:
        raise invalid(missing)
    return planned


def associated_ids(portal: "Portal", a: End, to_type: str) -> list[str]:
    return [b[1] for b, _ in associated(portal, a, to_type)]


def invalid(ends: list[End]) -> HubSpotError:
    """HubSpot's 400 for associations naming records it does not have (as these types)."""
    labels = [type_label(object_type) for object_type, _ in ends]
    ids = [id_ for _, id_ in ends]
    return error(
        400,
        "One or more associations are invalid",
        "VALIDATION_ERROR",
        context={
            "INVALID_OBJECT_IDS": [
                f"{label}={id_} is not valid" for label, id_ in zip(labels, ids, strict=True)
            ],
            "objectId": ids,
            "objectType": labels,
        },
    )


def spec_ids(specs: Any) -> set[int]:
    """The type ids of a list of ``{associationCategory, associationTypeId}``."""
    if not isinstance(specs, list) or not specs:
        raise validation("Some required fields were not set: [types]")
    ids = set()
    for spec in specs:
        if not isinstance(spec, dict):
            raise validation("Every association type must be an object")
        category, raw = spec.get("associationCategory"), spec.get("associationTypeId")
        try:
            type_ = int(str(raw))
        except (TypeError, ValueError):
            raise validation(f"associationTypeId must be an integer, got {raw!r}") from None
        if category != "HUBSPOT_DEFINED" or type_ not in TYPES:
            raise validation(f"Unknown association type: {category} {raw}")
        ids.add(type_)
    return ids


def record_id(raw: Any) -> str:
    if not isinstance(raw, dict) or raw.get("id") in (None, ""):
        raise validation("Some required fields were not set: [id]")
    return str(raw["id"])
