"""Property definitions and property groups per object type: HubSpot's Properties API.

Each portal starts with HubSpot's default properties for every object type; custom properties
may carry ``hasUniqueValue``, which the record store then enforces.

Backed by the Properties guide (https://developers.hubspot.com/docs/api/crm/properties): the
``type`` and ``fieldType`` values, property groups, ``hasUniqueValue`` and archiving. Not
confirmed: the 409 bodies for a property or group that already exists (``OBJECT_ALREADY_EXISTS``),
taken from HubSpot's answers.
"""

from typing import Any

from doubles.hubspot.catalog import CALCULATED, DEFAULTS, options
from doubles.hubspot.wire import error, iso, not_found, type_label, validation

_PROPERTY_TYPES = ("string", "number", "date", "datetime", "enumeration", "bool", "phone_number")
_CREATE_FIELDS = (
    "name",
    "label",
    "type",
    "fieldType",
    "groupName",
    "description",
    "options",
    "displayOrder",
    "hasUniqueValue",
    "hidden",
    "formField",
    "calculationFormula",
    "referencedObjectType",
    "externalOptions",
    "dataSensitivity",
    "showCurrencySymbol",
)
_EDITABLE = (
    "label",
    "type",
    "fieldType",
    "groupName",
    "description",
    "options",
    "displayOrder",
    "hidden",
    "formField",
    "calculationFormula",
    "showCurrencySymbol",
)

_NUMBER = ("number", "number")
_DATETIME = ("datetime", "date")


def modified_property(object_type: str) -> str:
    """HubSpot names the last-modified property differently for contacts."""
    return "lastmodifieddate" if object_type == "contacts" else "hs_lastmodifieddate"


def system_properties(object_type: str) -> tuple[str, ...]:
    return ("hs_object_id", "createdate", modified_property(object_type))


def _options(raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        return []
    return [
        {
            "label": str(o.get("label", "")),
            "value": str(o.get("value", "")),
            "description": o.get("description") or "",
            "displayOrder": o.get("displayOrder", index),
            "hidden": bool(o.get("hidden", False)),
        }
        for index, o in enumerate(raw)
        if isinstance(o, dict)
    ]


def _property(fields: dict[str, Any], now: float, hubspot_defined: bool) -> dict[str, Any]:
    prop: dict[str, Any] = {
        "updatedAt": iso(now),
        "createdAt": iso(now),
        "name": fields["name"],
        "label": fields["label"],
        "type": fields["type"],
        "fieldType": fields["fieldType"],
        "description": fields.get("description") or "",
        "groupName": fields["groupName"],
        "options": _options(fields.get("options")),
        "displayOrder": fields.get("displayOrder", -1),
        "calculated": bool(fields.get("calculated", False)),
        "externalOptions": bool(fields.get("externalOptions", False)),
        "hasUniqueValue": bool(fields.get("hasUniqueValue", False)),
        "hidden": bool(fields.get("hidden", False)),
        "modificationMetadata": {
            "archivable": not hubspot_defined,
            "readOnlyDefinition": hubspot_defined,
            "readOnlyValue": fields.get("readOnlyValue", False),
        },
        "formField": bool(fields.get("formField", False)),
        "dataSensitivity": fields.get("dataSensitivity", "non_sensitive"),
        "archived": False,
    }
    if hubspot_defined:
        prop["hubspotDefined"] = True
    return prop


def _group(name: str, label: str, display_order: int) -> dict[str, Any]:
    return {"name": name, "label": label, "displayOrder": display_order, "archived": False}


class TypeSchema:
    """The properties and groups of one object type in one portal."""

    def __init__(self, object_type: str, now: float) -> None:
        self.object_type = object_type
        group, group_label, defaults = DEFAULTS[object_type]
        self.groups: dict[str, dict[str, Any]] = {group: _group(group, group_label, 0)}
        self.properties: dict[str, dict[str, Any]] = {}
        for name, label, (type_, field_type) in defaults:
            calculated = (object_type, name) in CALCULATED
            self.properties[name] = _property(
                {
                    "name": name,
                    "label": label,
                    "type": type_,
                    "fieldType": field_type,
                    "groupName": group,
                    "options": options(object_type, name),
                    "formField": not calculated,
                    "readOnlyValue": calculated,
                    "calculated": calculated,
                },
                now,
                True,
            )
        system = (
            ("hs_object_id", "Record ID", _NUMBER),
            ("createdate", "Create Date", _DATETIME),
            (modified_property(object_type), "Last Modified Date", _DATETIME),
        )
        for name, label, (type_, field_type) in system:
            self.properties[name] = _property(
                {
                    "name": name,
                    "label": label,
                    "type": type_,
                    "fieldType": field_type,
                    "groupName": group,
                    "readOnlyValue": True,
                },
                now,
                True,
            )

    def unique(self) -> list[str]:
        return [name for name, p in self.properties.items() if p["hasUniqueValue"]]

    # -- the Properties API ----------------------------------------------------------------

    def list_properties(self) -> tuple[int, dict[str, Any]]:
        return 200, {"results": list(self.properties.values())}

    def get_property(self, name: str) -> tuple[int, dict[str, Any]]:
        return 200, self._existing(name)

    def create_property(self, body: dict[str, Any], now: float) -> tuple[int, dict[str, Any]]:
        _require(body, ("name", "label", "type", "fieldType", "groupName"))
        unknown = [k for k in body if k not in _CREATE_FIELDS]
        if unknown:
            raise validation(f"Unrecognized field(s): {unknown}")
        name = str(body["name"])
        if name in self.properties:
            raise error(409, f"Property named '{name}' already exists.", "OBJECT_ALREADY_EXISTS")
        self._check_definition(body)
        prop = self.properties[name] = _property({**body, "name": name}, now, False)
        return 201, prop

    def update_property(
        self, name: str, body: dict[str, Any], now: float
    ) -> tuple[int, dict[str, Any]]:
        prop = self._existing(name)
        if prop.get("hubspotDefined"):
            raise validation(f"Property {name} is defined by HubSpot and cannot be modified")
        changes = {k: v for k, v in body.items() if k in _EDITABLE}
        self._check_definition({**prop, **changes})
        for key, value in changes.items():
            prop[key] = _options(value) if key == "options" else value
        prop["updatedAt"] = iso(now)
        return 200, prop

    def archive_property(self, name: str) -> tuple[int, None]:
        prop = self._existing(name)
        if prop.get("hubspotDefined"):
            raise validation(f"Property {name} is defined by HubSpot and cannot be archived")
        del self.properties[name]
        return 204, None

    def list_groups(self) -> tuple[int, dict[str, Any]]:
        return 200, {"results": list(self.groups.values())}

    def get_group(self, name: str) -> tuple[int, dict[str, Any]]:
        return 200, self._existing_group(name)

    def create_group(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        _require(body, ("name", "label"))
        name = str(body["name"])
        if name in self.groups:
            message = f"Property group named '{name}' already exists."
            raise error(409, message, "OBJECT_ALREADY_EXISTS")
        order = int(body.get("displayOrder", -1))
        group = self.groups[name] = _group(name, str(body["label"]), order)
        return 201, group

    def update_group(self, name: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        group = self._existing_group(name)
        for key in ("label", "displayOrder"):
            if key in body:
                group[key] = body[key]
        return 200, group

    def archive_group(self, name: str) -> tuple[int, None]:
        self._existing_group(name)
        del self.groups[name]
        return 204, None

    def _existing(self, name: str) -> dict[str, Any]:
        if name not in self.properties:
            raise not_found(
                f"Unable to find property {name} for object type {type_label(self.object_type)}"
            )
        return self.properties[name]

    def _existing_group(self, name: str) -> dict[str, Any]:
        if name not in self.groups:
            raise not_found(f"Unable to find property group {name}")
        return self.groups[name]

    def _check_definition(self, body: dict[str, Any]) -> None:
        if body.get("type") not in _PROPERTY_TYPES:
            raise validation(f"Invalid property type: {body.get('type')}")
        if body.get("groupName") not in self.groups:
            raise validation(f"Property group {body.get('groupName')} does not exist.")


def _require(body: dict[str, Any], fields: tuple[str, ...]) -> None:
    missing = [f for f in fields if body.get(f) in (None, "")]
    if missing:
        raise validation(f"Some required fields were not set: [{', '.join(missing)}]")
