"""What HubSpot checks in the property values it is given, and what it derives from them.

- number properties take plain decimals (HubSpot refuses even exponent notation);
- date properties take ``YYYY-MM-DD``, or epoch milliseconds or ISO 8601 at midnight UTC, and
  keep ``YYYY-MM-DD``; datetime properties take epoch milliseconds or ISO 8601;
- enumeration properties with options take only their option values;
- a deal's stage must belong to its pipeline, HubSpot's default one when none is given;
- a line item's ``hs_product_id`` must be a live product, whose values a new line item inherits,
  and its ``amount`` is always price times quantity.

Refusals use the codes and messages of HubSpot's "Property values were not valid" errors.

Backed by: the Properties guide for date, datetime, number and enumeration values
(https://developers.hubspot.com/docs/api/crm/properties, "Date and datetime properties" and
"Property type and fieldType values"); the Pipelines guide for stages belonging to their
pipeline (https://developers.hubspot.com/docs/api/crm/pipelines); the Line items guide for
``hs_product_id`` and a line item's amount (https://developers.hubspot.com/docs/api/crm/
line-items). Not confirmed by the documentation: the refusal of exponent notation in numbers and
the exact codes and messages of each "Property values were not valid" entry (``INVALID_OPTION``,
``INVALID_DATE``, ...), taken from HubSpot's answers.
"""

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from doubles.hubspot.pipelines import DEFAULT_PIPELINE
from doubles.hubspot.wire import Problem, iso

if TYPE_CHECKING:
    from doubles.hubspot.store import Portal, Record

_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)")
_DATE = re.compile(r"\d{4}-\d\d-\d\d")
_MILLIS = re.compile(r"-?\d+")
_DAY_MS = 86_400_000
# What a line item takes from its product when created without its own value.
_INHERITED = (
    "name",
    "price",
    "description",
    "hs_sku",
    "recurringbillingfrequency",
    "hs_recurring_billing_period",
)


class Rules:
    """The value rules of one object type in one portal."""

    def __init__(self, portal: "Portal", object_type: str) -> None:
        self.portal = portal
        self.type = object_type
        self.schema = portal.schemas[object_type]

    def apply(self, record: "Record | None", props: dict[str, str]) -> list[Problem]:
        """Normalise ``props`` (to be written to ``record``, None: a new one) in place, adding
        what HubSpot derives; answer the problems that refuse them."""
        problems = []
        for name, value in list(props.items()):
            normal, problem = self._value(name, value)
            if problem is not None:
                problems.append(problem)
            props[name] = normal
        refused = {p[0] for p in problems}
        if self.type == "deals":
            problems += self._deal(record, props, refused)
        if self.type == "line_items":
            problems += self._line_item(record, props, refused)
        return problems

    def _value(self, name: str, value: str) -> tuple[str, Problem | None]:
        definition = self.schema.properties[name]
        kind = definition["type"]
        if value == "":
            return value, None  # clears the property
        if kind == "number" and not _NUMBER.fullmatch(value):
            return value, (name, "INVALID_INTEGER", f"{value} was not a valid number.", value)
        if kind in ("date", "datetime"):
            return _moment(name, value, kind == "date")
        allowed = [str(o["value"]) for o in definition.get("options") or []]
        if kind == "enumeration" and allowed:
            chosen = value.split(";") if definition["fieldType"] == "checkbox" else [value]
            for choice in chosen:
                if choice not in allowed:
                    message = f"{choice} was not one of the allowed options: [{', '.join(allowed)}]"
                    return value, (name, "INVALID_OPTION", message, value)
        return value, None

    def _deal(
        self, record: "Record | None", props: dict[str, str], refused: set[str]
    ) -> list[Problem]:
        if record is None and not props.get("pipeline"):
            props["pipeline"] = DEFAULT_PIPELINE  # HubSpot files new deals in its default one
        if record is not None and "pipeline" not in props and "dealstage" not in props:
            return []
        merged = {**(record.properties if record else {}), **props}
        pipeline_id = merged.get("pipeline") or DEFAULT_PIPELINE
        pipelines = self.portal.pipelines.of("deals")
        if "pipeline" in refused or "dealstage" in refused:
            return []
        if pipeline_id not in pipelines:
            message = f"{pipeline_id} was not one of the allowed options: [{', '.join(pipelines)}]"
            return [("pipeline", "INVALID_OPTION", message, pipeline_id)]
        stage, stages = merged.get("dealstage"), pipelines[pipeline_id].stage_ids()
        if stage and stage not in stages:
            message = (
                f"{stage} is not a valid pipeline stage ID. Valid options are: "
                f"pipelineId={pipeline_id} : [{', '.join(stages)}]"
            )
            return [("dealstage", "INVALID_OPTION", message, stage)]
        return []

    def _line_item(
        self, record: "Record | None", props: dict[str, str], refused: set[str]
    ) -> list[Problem]:
        problems: list[Problem] = []
        product_id = props.get("hs_product_id")
        if product_id and "hs_product_id" not in refused:
            product = self.portal.records["products"].get(product_id)
            if product is None or product.archived:
                message = f"{product_id} is not the id of a product"
                problems.append(("hs_product_id", "INVALID_PRODUCT_ID", message, product_id))
            elif record is None:
                for name in _INHERITED:
                    if name not in props and name in product.properties:
                        props[name] = product.properties[name]
        # The amount is HubSpot's to compute, whatever the caller sent.
        props.pop("amount", None)
        if record is None or "price" in props or "quantity" in props:
            merged = {**(record.properties if record else {}), **props}
            price, quantity = merged.get("price", ""), merged.get("quantity", "")
            if price and quantity and not refused & {"price", "quantity"}:
                props["amount"] = format((Decimal(price) * Decimal(quantity)).normalize(), "f")
            elif record is not None:
                props["amount"] = ""
        return problems


def _moment(name: str, value: str, date_only: bool) -> tuple[str, Problem | None]:
    """A date or datetime value as HubSpot keeps it, or why it is refused."""
    moment: datetime | None = None
    if _MILLIS.fullmatch(value):
        moment = datetime.fromtimestamp(int(value) / 1000, UTC)
    elif _DATE.fullmatch(value):
        try:
            moment = datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
        except ValueError:
            moment = None
    else:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            moment = None
        if moment is not None and moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    if moment is None:
        return value, (name, "INVALID_LONG", f"{value} was not a valid long.", value)
    millis = round(moment.timestamp() * 1000)
    if not date_only:
        return iso(millis / 1000), None
    if millis % _DAY_MS:
        at = moment.astimezone(UTC)
        clock = f"{at:%H:%M:%S}.{millis % 1000:03d}"
        return value, (name, "INVALID_DATE", f"{millis} is at {clock} UTC, not midnight!", value)
    return moment.astimezone(UTC).date().isoformat(), None
