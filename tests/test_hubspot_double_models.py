"""The HubSpot double held to hubspot-api-client's generated models where they constrain a field.

The client validates what it reads (``client_side_validation``): a batch answer's ``status`` must
be one of the model's values, an association type's ``category`` too, and each error entry of a
207 needs ``status``, ``category``, ``message``, ``errors``, ``context`` and ``links``. Requests
are validated on their way out (property ``type`` and ``fieldType``, search operators). These
tests read the allowed values from the models themselves, so a client upgrade that narrows them
fails here before it fails against HubSpot.
"""

import ast
import inspect
import json
import re
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import requests
from hubspot.crm.associations import v4 as av4
from hubspot.crm.objects import ApiClient as ObjectsClient
from hubspot.crm.objects import models as om
from hubspot.crm.properties import models as pm

from doubles.hubspot import HubSpotDouble
from doubles.hubspot.catalog import DEFAULTS
from doubles.hubspot.objects import OPERATORS
from shared.hubspot.schema import SCHEMA


def allowed(model: type, attribute: str) -> set[str]:
    """The values a generated model's setter accepts, read from its source."""
    setter = getattr(model, attribute).fset
    found = re.search(r"allowed_values = (\[.*?\])", inspect.getsource(setter), re.DOTALL)
    assert found, f"{model.__name__}.{attribute} constrains nothing"
    return set(ast.literal_eval(found.group(1)))


@pytest.fixture
def double() -> Iterator[tuple[HubSpotDouble, str]]:
    with HubSpotDouble() as found:
        _, token = found.add_portal()
        yield found, token


def call(double: HubSpotDouble, token: str, path: str, body: Any) -> tuple[int, Any]:
    answer = requests.post(
        f"{double.base_url}{path}",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    return answer.status_code, answer.json() if answer.content else None


def read_as(body: Any, model: str) -> Any:
    """``body`` read by the client exactly as it reads an answer, validation on."""
    return ObjectsClient().deserialize(SimpleNamespace(data=json.dumps(body)), model)


def test_batch_statuses_are_the_models_values(double: tuple[HubSpotDouble, str]) -> None:
    hub, token = double
    inputs = [{"properties": {"email": "m@example.com"}}]
    status, body = call(hub, token, "/crm/v3/objects/contacts/batch/create", {"inputs": inputs})
    assert status == 201
    assert body["status"] in allowed(om.BatchResponseSimplePublicObject, "status")
    read_as(body, "BatchResponseSimplePublicObject")


def test_a_207s_error_entries_carry_every_field_the_model_requires(
    double: tuple[HubSpotDouble, str],
) -> None:
    hub, token = double
    status, body = call(
        hub, token, "/crm/v3/objects/contacts/batch/read", {"inputs": [{"id": "404"}]}
    )
    assert status == 207
    parsed = read_as(body, "BatchResponseSimplePublicObjectWithErrors")
    [error] = parsed.errors
    assert isinstance(error, om.StandardError) and error.category == "OBJECT_NOT_FOUND"


def test_association_categories_and_statuses_are_the_models_values(
    double: tuple[HubSpotDouble, str],
) -> None:
    hub, token = double
    made = [
        call(hub, token, f"/crm/v3/objects/{kind}", {"properties": props})[1]["id"]
        for kind, props in (("deals", {"dealname": "D"}), ("contacts", {"email": "a@example.com"}))
    ]
    path = "/crm/v4/associations/deals/contacts/batch/associate/default"
    inputs = [{"from": {"id": made[0]}, "to": {"id": made[1]}}]
    status, body = call(hub, token, path, {"inputs": inputs})
    assert status == 200
    assert body["status"] in allowed(av4.models.BatchResponsePublicDefaultAssociation, "status")
    categories = allowed(av4.models.AssociationSpec, "association_category")
    assert {r["associationSpec"]["associationCategory"] for r in body["results"]} <= categories
    listed = requests.get(
        f"{hub.base_url}/crm/v4/objects/deals/{made[0]}/associations/contacts",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    ).json()
    types = [t for r in listed["results"] for t in r["associationTypes"]]
    assert types and {t["category"] for t in types} <= allowed(
        av4.models.AssociationSpecWithLabel, "category"
    )
    reader = av4.ApiClient()
    reader.deserialize(
        SimpleNamespace(data=json.dumps(listed)),
        "CollectionResponseMultiAssociatedObjectWithLabelForwardPaging",
    )


def test_the_property_types_omniroo_creates_are_the_models_values() -> None:
    types = allowed(pm.PropertyCreate, "type")
    field_types = allowed(pm.PropertyCreate, "field_type")
    for object_type, (_, properties) in SCHEMA.items():
        for prop in properties:
            assert (prop.type, prop.field_type) in {(t, f) for t in types for f in field_types}, (
                object_type,
                prop.name,
            )


def test_the_doubles_default_properties_use_documented_field_types() -> None:
    field_types = allowed(pm.PropertyCreate, "field_type") | {"phonenumber"}
    for _, _, properties in DEFAULTS.values():
        for name, _, (_, field_type) in properties:
            assert field_type in field_types, name


def test_the_search_operators_the_double_knows_are_the_models_values() -> None:
    assert set(OPERATORS) <= allowed(om.Filter, "operator")
