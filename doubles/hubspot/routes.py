"""The HubSpot double's URL map, and the dispatch of each CRM call (objects, properties,
pipelines, associations) to the part of the double that answers it."""

import json
from typing import Any

from werkzeug.exceptions import NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request

from doubles.hubspot.associations import AssociationsApi
from doubles.hubspot.objects import ObjectsApi
from doubles.hubspot.store import Portal
from doubles.hubspot.wire import canonical_type, error

Reply = tuple[int, Any]

OAUTH_ENDPOINTS = ("token", "access_token", "refresh_token")
_BATCH_ACTIONS = ("create", "read", "update", "upsert", "archive")
_ASSOCIATION_ACTIONS = ("create", "read", "archive")
_V4 = "/crm/v4/objects/<object_type>/<object_id>/associations"
ROUTES = Map(
    [
        Rule("/crm/v3/objects/<object_type>/batch/<action>", methods=["POST"], endpoint="batch"),
        Rule("/crm/v3/objects/<object_type>/search", methods=["POST"], endpoint="search"),
        Rule("/crm/v3/objects/<object_type>", methods=["GET", "POST"], endpoint="objects"),
        Rule(
            "/crm/v3/objects/<object_type>/<record_id>",
            methods=["GET", "PATCH", "DELETE"],
            endpoint="record",
        ),
        Rule("/crm/v3/properties/<object_type>", methods=["GET", "POST"], endpoint="properties"),
        Rule("/crm/v3/properties/<object_type>/groups", methods=["GET", "POST"], endpoint="groups"),
        Rule(
            "/crm/v3/properties/<object_type>/groups/<name>",
            methods=["GET", "PATCH", "DELETE"],
            endpoint="group",
        ),
        Rule(
            "/crm/v3/properties/<object_type>/<name>",
            methods=["GET", "PATCH", "DELETE"],
            endpoint="property",
        ),
        Rule("/crm/v3/pipelines/<object_type>", methods=["GET", "POST"], endpoint="pipelines"),
        Rule("/crm/v3/pipelines/<object_type>/<pipeline_id>", methods=["GET"], endpoint="pipeline"),
        Rule(
            "/crm/v3/pipelines/<object_type>/<pipeline_id>/stages",
            methods=["GET"],
            endpoint="stages",
        ),
        Rule(
            "/crm/v4/associations/<object_type>/<to_type>/batch/associate/default",
            methods=["POST"],
            endpoint="association_defaults",
        ),
        Rule(
            "/crm/v4/associations/<object_type>/<to_type>/batch/<action>",
            methods=["POST"],
            endpoint="association_batch",
        ),
        Rule(f"{_V4}/<to_type>", methods=["GET"], endpoint="association_list"),
        Rule(f"{_V4}/default/<to_type>/<to_id>", methods=["PUT"], endpoint="association_default"),
        Rule(f"{_V4}/<to_type>/<to_id>", methods=["PUT", "DELETE"], endpoint="association"),
        Rule("/oauth/v1/token", methods=["POST"], endpoint="token"),
        Rule("/oauth/v1/access-tokens/<token>", methods=["GET"], endpoint="access_token"),
        Rule(
            "/oauth/v1/refresh-tokens/<token>", methods=["GET", "DELETE"], endpoint="refresh_token"
        ),
    ]
)


def dispatch_crm(
    portal: Portal, endpoint: str, args: dict[str, str], request: Request, now: float
) -> Reply:
    object_type = canonical_type(args["object_type"])
    method, query = request.method, request.args.to_dict()
    # Clients send ?properties=a,b or ?properties=a&properties=b: accept both (associations too).
    for name in ("properties", "associations"):
        query[name] = ",".join(request.args.getlist(name))
    body = _json(request) if method in ("POST", "PATCH", "PUT") else None
    if endpoint.startswith("association"):
        api = AssociationsApi(portal, now)
        return _associations(api, endpoint, object_type, args, query, body, method)
    if endpoint in ("pipelines", "pipeline", "stages"):
        pipelines = portal.pipelines
        if endpoint == "pipelines":
            if method == "POST":
                return pipelines.create(object_type, body, now)
            return pipelines.get_all(object_type)
        if endpoint == "pipeline":
            return pipelines.get(object_type, args["pipeline_id"])
        return pipelines.get_stages(object_type, args["pipeline_id"])
    objects = ObjectsApi(portal, object_type, now)
    if endpoint == "batch":
        if args["action"] not in _BATCH_ACTIONS:
            raise NotFound()
        return getattr(objects, f"batch_{args['action']}")(body)  # type: ignore[no-any-return]
    if endpoint == "search":
        return objects.search(body)
    if endpoint == "objects":
        return objects.create(body) if method == "POST" else objects.list_records(query)
    if endpoint == "record":
        record_id = args["record_id"]
        if method == "GET":
            return objects.get(record_id, query)
        if method == "PATCH":
            return objects.update(record_id, query, body)
        return objects.archive(record_id)
    return _properties(portal, endpoint, object_type, args, method, body, now)


def _associations(
    api: AssociationsApi,
    endpoint: str,
    from_type: str,
    args: dict[str, str],
    query: dict[str, str],
    body: Any,
    method: str,
) -> Reply:
    to_type = canonical_type(args["to_type"])
    if endpoint == "association_defaults":
        return api.batch_default(from_type, to_type, body)
    if endpoint == "association_batch":
        if args["action"] not in _ASSOCIATION_ACTIONS:
            raise NotFound()
        return getattr(api, f"batch_{args['action']}")(from_type, to_type, body)  # type: ignore[no-any-return]
    from_id = args["object_id"]
    if endpoint == "association_list":
        return api.list_page(from_type, from_id, to_type, query)
    if endpoint == "association_default":
        return api.put_default(from_type, from_id, to_type, args["to_id"])
    if method == "DELETE":
        return api.delete(from_type, from_id, to_type, args["to_id"])
    return api.put_labels(from_type, from_id, to_type, args["to_id"], body)


def _properties(
    portal: Portal,
    endpoint: str,
    object_type: str,
    args: dict[str, str],
    method: str,
    body: Any,
    now: float,
) -> Reply:
    schema = portal.schemas[object_type]
    if method != "GET":
        portal.forget_indexes(object_type)  # a property may have become unique, or gone
    if endpoint == "properties":
        if method == "POST":
            return schema.create_property(_object(body), now)
        return schema.list_properties()
    if endpoint == "groups":
        if method == "POST":
            return schema.create_group(_object(body))
        return schema.list_groups()
    name = args["name"]
    if endpoint == "group":
        if method == "GET":
            return schema.get_group(name)
        if method == "PATCH":
            return schema.update_group(name, _object(body))
        return schema.archive_group(name)
    if method == "GET":
        return schema.get_property(name)
    if method == "PATCH":
        return schema.update_property(name, _object(body), now)
    return schema.archive_property(name)


def _json(request: Request) -> Any:
    try:
        return json.loads(request.get_data() or b"null")
    except ValueError as exc:
        raise error(400, f"Invalid input JSON: {exc}", "VALIDATION_ERROR") from None


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise error(400, "Invalid input JSON: expected an object", "VALIDATION_ERROR")
    return body
