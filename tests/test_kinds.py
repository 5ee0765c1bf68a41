"""Three tables name the kinds of Stripe object Omniroo follows: event type -> kind
(``shared.events.EVENT_OBJECTS``), kind -> what to read and map (``shared.sync.collect.COLLECTORS``)
and kind -> the ``stripe`` library's service that reads it (``shared.stripe_gateway.SERVICES``).
They must agree with each other and with the library: a kind one of them lacks is an event that
can be accepted but never synced. An event's object Stripe cannot read back (a discount) is
synced as its owner (``shared.events.OWNERS``); an owner kind that is no Stripe object of its own
is read as one (``READ_AS``); a few objects are read only to complete another (``COMPLETING``),
or by repair alone (``REPAIRING``)."""

import inspect

import pytest
import stripe
from stripe._object_classes import OBJECT_CLASSES

from shared.events import CONNECTION_EVENTS, EVENT_OBJECTS, OWNERS, READ_AS
from shared.stripe_gateway import COMPLETING, REPAIRING, SERVICES
from shared.sync.collect import COLLECTORS

KINDS = sorted(
    {k for k in EVENT_OBJECTS.values() if k not in OWNERS}
    | {owner for owners in OWNERS.values() for _, owner in owners}
)
READ = sorted({READ_AS.get(kind, kind) for kind in KINDS} | set(COMPLETING) | set(REPAIRING))


def test_every_kind_an_event_names_has_a_collector_and_a_service_and_nothing_more() -> None:
    assert sorted(COLLECTORS) == KINDS
    assert sorted(SERVICES) == READ
    assert set(OWNERS) <= set(EVENT_OBJECTS.values())  # an owner table for a kind events name


def test_connection_events_are_never_queued_for_a_collector() -> None:
    assert not set(CONNECTION_EVENTS) & set(EVENT_OBJECTS)
    assert not set(CONNECTION_EVENTS.values()) & set(COLLECTORS)


@pytest.mark.parametrize("kind", READ)
def test_each_kind_is_a_stripe_object_read_by_its_own_service(kind: str) -> None:
    assert kind in OBJECT_CLASSES, f"the stripe library knows no object {kind!r}"
    module, name = OBJECT_CLASSES[kind]
    service = SERVICES[kind](stripe.StripeClient("sk_test_kinds"))
    assert type(service).__module__ == f"{module}_service"
    for verb in ("retrieve", "list"):
        assert callable(getattr(service, verb, None)), (kind, verb)
    returned = inspect.signature(service.retrieve).return_annotation
    assert getattr(returned, "__name__", returned) == name
