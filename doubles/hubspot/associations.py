"""HubSpot's v4 Associations API: batch create, default, read and archive, and the calls on one
record's associations. The associations themselves live in ``links``."""

from typing import TYPE_CHECKING, Any

from doubles.hubspot.links import (
    DEFAULT_TYPES,
    TYPES,
    End,
    associate,
    associated,
    invalid,
    is_live,
    record_id,
    spec_ids,
)
from doubles.hubspot.wire import batch_reply, type_id, type_label, validation

if TYPE_CHECKING:
    from doubles.hubspot.store import Portal

READ_LIMIT = 1000  # HubSpot's limit on batch/read inputs since February 2025
WRITE_LIMIT = 2000
PAGE_LIMIT = 500
Reply = tuple[int, Any]


class AssociationsApi:
    """HubSpot's v4 Associations API for one portal, at one moment."""

    def __init__(self, portal: "Portal", now: float) -> None:
        self.portal = portal
        self.now = now

    def batch_create(self, from_type: str, to_type: str, body: Any) -> Reply:
        inputs = _inputs(body, WRITE_LIMIT)
        pairs = [
            ((from_type, record_id(i.get("from"))), (to_type, record_id(i.get("to"))))
            for i in inputs
        ]
        ids = [
            self._checked(a, b, spec_ids(i.get("types")))
            for i, (a, b) in zip(inputs, pairs, strict=True)
        ]
        results: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for (a, b), type_ids in zip(pairs, ids, strict=True):
            missing = [end for end in (a, b) if not is_live(self.portal, end)]
            if missing:
                errors.append(_problem(missing))
                continue
            associate(self.portal, a, b, type_ids)
            results.append(self._labels_between(a, b))
        return (207 if errors else 201), batch_reply(self.now, results, errors)

    def batch_default(self, from_type: str, to_type: str, body: Any) -> Reply:
        type_ = self._default_type(from_type, to_type)
        results: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for item in _inputs(body, WRITE_LIMIT):
            a, b = (from_type, record_id(item.get("from"))), (to_type, record_id(item.get("to")))
            missing = [end for end in (a, b) if not is_live(self.portal, end)]
            if missing:
                errors.append(_problem(missing))
                continue
            associate(self.portal, a, b, {type_})
            results.append(_default_result(a, b, type_))
        # HubSpot's spec gives this call one answer, 200, whose body carries any errors.
        return 200, batch_reply(self.now, results, errors)

    def batch_read(self, from_type: str, to_type: str, body: Any) -> Reply:
        results: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for item in _inputs(body, READ_LIMIT):
            a = (from_type, record_id(item))
            found = associated(self.portal, a, to_type)
            if found:
                results.append({"from": {"id": a[1]}, "to": [_target(b, t) for b, t in found]})
                continue
            errors.append(
                {
                    "status": "error",
                    "category": "OBJECT_NOT_FOUND",
                    "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
                    "message": f"No {_singular(to_type)} is associated with "
                    f"{_singular(from_type)} {a[1]}.",
                    "context": {
                        "fromObjectId": [a[1]],
                        "fromObjectType": [_singular(from_type)],
                        "toObjectType": [_singular(to_type)],
                    },
                }
            )
        return (207 if errors else 200), batch_reply(self.now, results, errors)

    def batch_archive(self, from_type: str, to_type: str, body: Any) -> Reply:
        for item in _inputs(body, WRITE_LIMIT):
            targets = item.get("to")
            if not isinstance(targets, list):
                raise validation("Some required fields were not set: [to]")
            a = (from_type, record_id(item.get("from")))
            for target in targets:
                self.portal.links.discard(a, (to_type, record_id(target)))
        return 204, None

    def list_page(self, from_type: str, from_id: str, to_type: str, args: dict[str, str]) -> Reply:
        limit, after = _int(args.get("limit"), PAGE_LIMIT), _int(args.get("after"), 0)
        if not 0 < limit <= PAGE_LIMIT:
            raise validation(f"limit must be between 1 and {PAGE_LIMIT}, got {limit}")
        found = associated(self.portal, (from_type, from_id), to_type)
        page = found[after : after + limit]
        reply: dict[str, Any] = {"results": [_target(b, t) for b, t in page]}
        if after + limit < len(found):
            reply["paging"] = {"next": {"after": str(after + limit)}}
        return 200, reply

    def put_default(self, from_type: str, from_id: str, to_type: str, to_id: str) -> Reply:
        a, b = (from_type, from_id), (to_type, to_id)
        type_ = self._default_type(from_type, to_type)
        self._require_live(a, b)
        associate(self.portal, a, b, {type_})
        return 200, batch_reply(self.now, [_default_result(a, b, type_)])

    def put_labels(
        self, from_type: str, from_id: str, to_type: str, to_id: str, body: Any
    ) -> Reply:
        a, b = (from_type, from_id), (to_type, to_id)
        type_ids = self._checked(a, b, spec_ids(body))
        self._require_live(a, b)
        associate(self.portal, a, b, type_ids)
        return 201, self._labels_between(a, b)

    def delete(self, from_type: str, from_id: str, to_type: str, to_id: str) -> Reply:
        self.portal.links.discard((from_type, from_id), (to_type, to_id))
        return 204, None

    # -- helpers ---------------------------------------------------------------------------

    def _checked(self, a: End, b: End, type_ids: set[int]) -> set[int]:
        """These type ids, when they are this pair's; else HubSpot's 400 for the whole call."""
        for type_ in type_ids:
            kind = TYPES[type_]
            # HubSpot reads the ends as the type's own object types, so an end of another type
            # does not exist as far as it is concerned.
            wrong = [
                (want, end[1])
                for want, end in ((kind.from_type, a), (kind.to_type, b))
                if want != end[0]
            ]
            if wrong:
                raise invalid(wrong)
        return type_ids

    def _default_type(self, from_type: str, to_type: str) -> int:
        if (from_type, to_type) not in DEFAULT_TYPES:
            raise validation(
                f"There are no association types from {type_label(from_type)} to "
                f"{type_label(to_type)}"
            )
        return DEFAULT_TYPES[(from_type, to_type)]

    def _require_live(self, a: End, b: End) -> None:
        missing = [end for end in (a, b) if not is_live(self.portal, end)]
        if missing:
            raise invalid(missing)

    def _labels_between(self, a: End, b: End) -> dict[str, Any]:
        types = [TYPES[t] for t in self.portal.links.types(a, b)]
        labels = sorted(str(t.label) for t in types if t.label)
        return {
            "fromObjectTypeId": type_id(a[0]),
            "fromObjectId": int(a[1]),
            "toObjectTypeId": type_id(b[0]),
            "toObjectId": int(b[1]),
            "labels": labels,
        }


def _problem(ends: list[End]) -> dict[str, Any]:
    """HubSpot's "invalid associations" error without its correlation id, as a batch lists it."""
    body = invalid(ends).body
    del body["correlationId"]
    return body


def _target(b: End, type_ids: set[int]) -> dict[str, Any]:
    kinds = [
        {"category": "HUBSPOT_DEFINED", "typeId": t, "label": TYPES[t].label}
        for t in sorted(type_ids)
    ]
    return {"toObjectId": int(b[1]), "associationTypes": kinds}


def _default_result(a: End, b: End, type_: int) -> dict[str, Any]:
    return {
        "from": {"id": a[1]},
        "to": {"id": b[1]},
        "associationSpec": {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_},
    }


def _inputs(body: Any, limit: int) -> list[dict[str, Any]]:
    if not isinstance(body, dict) or not isinstance(body.get("inputs"), list):
        raise validation("Some required fields were not set: [inputs]")
    inputs: list[dict[str, Any]] = body["inputs"]
    if len(inputs) > limit:
        raise validation(f"Too many inputs: inputs must be <= {limit}, got {len(inputs)}")
    if not all(isinstance(i, dict) for i in inputs):
        raise validation("Every input must be an object")
    return inputs


def _int(raw: Any, default: int) -> int:
    try:
        return int(raw or default)
    except (TypeError, ValueError):
        raise validation(f"expected an integer, got {raw!r}") from None


def _singular(object_type: str) -> str:
    return "company" if object_type == "companies" else object_type.removesuffix("s")
