"""``stripe_webhook`` through functions_framework, against the embedded stack and the doubles.

Rows 1-9, 11-16 and 38-39 of the reliability plan (26 against the Firestore emulator lives in
tests/emulator).
"""

import json
import threading
import time
from typing import Any

import pytest

from shared.drain.dirty import DirtyKeys, Key
from shared.errors import QueueUnavailable
from shared.webhook import ingest
from shared.webhook.signature import sign
from tests.events import make_event
from tests.plugins.stack import SECRETS, Stack


def customer(stack: Stack, **fields: Any) -> dict[str, Any]:
    return stack.stripe.create_customer(stack.account, **fields)


def last_event(stack: Stack) -> dict[str, Any]:
    return stack.stripe.events(stack.account)[-1]


def writes(stack: Stack) -> int:
    return sum(
        1
        for r in stack.hubspot.requests
        if r["method"] == "POST" and "/crm/v3/objects/contacts/batch/" in r["path"]
    )


def test_a_signed_customer_event_becomes_a_contact(stack: Stack) -> None:
    customer(stack, email="ada@example.com", name="Ada Lovelace", phone="+44 20 7946 0000")
    response = stack.deliver(last_event(stack))
    assert response.status_code == 200
    assert response.get_json() == {"received": True, "outcome": "accepted"}
    stack.drain()
    [contact] = stack.contacts()
    assert contact["properties"]["email"] == "ada@example.com"
    assert contact["properties"]["firstname"] == "Ada"
    assert contact["properties"]["lastname"] == "Lovelace"
    assert writes(stack) == 1


def test_wrong_secret_is_400_and_writes_nothing(stack: Stack) -> None:
    customer(stack, email="x@example.com")
    body = json.dumps(last_event(stack)).encode()
    response = stack.post(body, sign(body, "whsec_wrong", int(time.time())))
    assert response.status_code == 400
    stack.drain()
    assert list(stack.runtime.store.scan("event_marks")) == []
    assert stack.hubspot.requests == []


@pytest.mark.parametrize("header", ["", "v1=abc", "t=123", "t=now,v1=x", "nonsense"])
def test_missing_or_malformed_signature_header_is_400(stack: Stack, header: str) -> None:
    body = json.dumps(
        make_event("customer.created", {"id": "cus_1", "object": "customer"}, stack.account)
    ).encode()
    response = stack.webhook.post(
        "/", data=body, headers={"Stripe-Signature": header} if header else {}
    )
    assert response.status_code == 400
    assert "error" in response.get_json()


def test_reserialized_body_fails_so_the_raw_bytes_are_what_is_checked(stack: Stack) -> None:
    event = make_event("customer.created", {"id": "cus_1", "object": "customer"}, stack.account)
    signed = json.dumps(event).encode()
    header = sign(signed, SECRETS[0], int(time.time()))
    reserialized = json.dumps(event, indent=2, sort_keys=True).encode()
    assert stack.post(signed, header).status_code == 200
    assert stack.post(reserialized, header).status_code == 400


@pytest.mark.parametrize("skew", [-301, 600])
def test_stale_and_future_timestamps_are_400(stack: Stack, skew: int) -> None:
    body = json.dumps(
        make_event("customer.created", {"id": "cus_1", "object": "customer"}, stack.account)
    ).encode()
    response = stack.post(body, sign(body, SECRETS[0], int(time.time()) + skew))
    assert response.status_code == 400
    assert "tolerance" in response.get_json()["error"]


def test_rotation_header_with_old_and_new_signatures_is_accepted(stack: Stack) -> None:
    body = json.dumps(
        make_event("customer.created", {"id": "cus_1", "object": "customer"}, stack.account)
    ).encode()
    now = int(time.time())
    old = sign(body, "whsec_retired", now)
    new = sign(body, SECRETS[1], now).split(",")[1]
    assert stack.post(body, f"{old},{new}").status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[]",
        b'{"type": "customer.created"}',
        b'{"id": "evt_1", "livemode": false, "created": 1}',
        b'{"id": "evt_1", "type": "customer.created", "livemode": false, "created": 1, "data": {}}',
    ],
)
def test_signed_but_malformed_events_are_4xx_and_alert(
    stack: Stack, body: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    response = stack.post(body)
    assert response.status_code == 400
    assert response.get_json()["error"].startswith("malformed event")
    alerts = [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if '"alert": true' in line
    ]
    assert any(a["message"] == "signed webhook could not be parsed" for a in alerts)


def test_unknown_event_type_is_a_2xx_no_op(stack: Stack) -> None:
    event = make_event("invoice.upcoming", {"id": "in_1", "object": "invoice"}, stack.account)
    response = stack.deliver(event)
    assert response.status_code == 200
    assert response.get_json()["outcome"] == "ignored_type"
    stack.drain()
    assert list(stack.runtime.store.scan("event_marks")) == []


def test_bodies_over_the_cap_are_413_before_any_check(stack: Stack) -> None:
    body = b"{" + b" " * (10 * 1024 * 1024) + b"}"
    response = stack.post(body, "t=1,v1=00")
    assert response.status_code == 413


def test_chunked_body_over_the_cap_is_413(stack: Stack) -> None:
    import io

    big = io.BytesIO(b"x" * (stack.settings.webhook_max_bytes + 1))
    # As gunicorn passes a chunked body: no Content-Length, input terminated by the server.
    response = stack.webhook.post(
        "/",
        input_stream=big,
        headers={"Stripe-Signature": "t=1,v1=0", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413


def test_event_in_the_wrong_mode_is_ignored(stack: Stack) -> None:
    live = make_event(
        "customer.created", {"id": "cus_1", "object": "customer"}, stack.account, livemode=True
    )
    response = stack.deliver(live)
    assert response.get_json()["outcome"] == "ignored_wrong_mode"
    stack.drain()
    assert stack.hubspot.requests == []


def test_same_event_twice_writes_once(stack: Stack) -> None:
    customer(stack, email="twice@example.com")
    event = last_event(stack)
    assert stack.deliver(event).get_json()["outcome"] == "accepted"
    assert stack.deliver(event).get_json()["outcome"] == "duplicate"
    stack.drain()
    assert writes(stack) == 1
    assert len(stack.contacts()) == 1


def test_replay_of_a_captured_request_is_a_no_op(stack: Stack) -> None:
    customer(stack, email="replay@example.com")
    body = json.dumps(last_event(stack)).encode()
    header = sign(body, SECRETS[0], int(time.time()))
    assert stack.post(body, header).get_json()["outcome"] == "accepted"
    assert stack.post(body, header).get_json()["outcome"] == "duplicate"
    stack.drain()
    assert writes(stack) == 1


def test_same_event_in_parallel_is_published_once(stack: Stack) -> None:
    customer(stack, email="race@example.com")
    body = json.dumps(last_event(stack)).encode()
    header = sign(body, SECRETS[0], int(time.time()))
    clients = [stack.webhook, *(type(stack.webhook)(stack.webhook.application) for _ in range(7))]
    statuses: list[int] = []
    barrier = threading.Barrier(len(clients))

    def send(client: Any) -> None:
        barrier.wait()
        statuses.append(
            client.post("/", data=body, headers={"Stripe-Signature": header}).status_code
        )

    threads = [threading.Thread(target=send, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stack.drain()
    assert statuses.count(200) >= 1
    assert set(statuses) <= {200, 409}
    assert writes(stack) == 1
    assert len(stack.outcomes()) == 1


def test_out_of_order_updates_end_at_stripes_current_state(stack: Stack) -> None:
    cus = customer(stack, email="first@example.com", name="First Name")
    stack.stripe.update_customer(stack.account, cus["id"], name="Second Name")
    stack.stripe.update_customer(stack.account, cus["id"], name="Final Name")
    for event in reversed(stack.stripe.events(stack.account)):
        assert stack.deliver(event).status_code == 200
    stack.drain()
    [contact] = stack.contacts()
    assert contact["properties"]["firstname"] == "Final"


def test_only_the_accounts_own_portal_is_touched(stack: Stack) -> None:
    other_account = stack.stripe.add_account()
    stack.stripe.create_customer(other_account, email="b@example.com")
    event_b = stack.stripe.events(other_account)[-1]
    customer(stack, email="a@example.com")
    assert stack.deliver(event_b).get_json()["outcome"] == "ignored_unknown_account"
    assert stack.deliver(last_event(stack)).get_json()["outcome"] == "accepted"
    stack.drain()
    assert [c["properties"]["email"] for c in stack.contacts()] == ["a@example.com"]
    assert {r["portal"] for r in stack.hubspot.requests} == {stack.portal_id}


def test_unknown_account_raises_an_alert(stack: Stack, capsys: pytest.CaptureFixture[str]) -> None:
    event = make_event("customer.created", {"id": "cus_1", "object": "customer"}, "acct_nobody")
    assert stack.deliver(event).status_code == 200
    out = capsys.readouterr().out
    assert any(
        '"alert": true' in line and "unknown Stripe account" in line for line in out.splitlines()
    )


def test_platform_events_without_account_are_ignored(stack: Stack) -> None:
    event = make_event("customer.created", {"id": "cus_1", "object": "customer"}, None)
    assert stack.deliver(event).get_json()["outcome"] == "ignored_platform_event"


class FlakyWaker:
    def __init__(self, fails: int) -> None:
        self.fails = fails
        self.woken: list[str] = []

    def wake(self, project_id: str) -> None:
        if self.fails:
            self.fails -= 1
            raise QueueUnavailable("down")
        self.woken.append(project_id)


def test_a_wake_up_that_cannot_be_sent_still_answers_2xx_and_the_sweep_drains(
    stack: Stack,
) -> None:
    """The key is durable before the 2xx; the wake-up is only a shortcut."""
    customer(stack, email="q@example.com")
    body = json.dumps(last_event(stack)).encode()
    waker = FlakyWaker(fails=1)
    deps = ingest.IngestDeps(stack.runtime.store, waker, stack.clock, SECRETS)
    header = sign(body, SECRETS[0], int(time.time()))
    assert ingest.receive(body, header, deps).outcome == "accepted"
    assert waker.woken == []
    [key] = stack.dirty()
    assert key["object_id"] == last_event(stack)["data"]["object"]["id"]
    assert ingest.receive(body, header, deps).outcome == "duplicate"
    stack.drain()  # the local sweep finds the key nobody was woken for
    assert [c["properties"]["email"] for c in stack.contacts()] == ["q@example.com"]
    assert stack.dirty() == []


def test_a_store_failure_while_marking_is_5xx_and_the_retry_marks(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.errors import StoreUnavailable

    customer(stack, email="q2@example.com")
    update_many = stack.runtime.store.update_many

    def down(*args: Any) -> Any:
        raise StoreUnavailable("down")

    monkeypatch.setattr(stack.runtime.store, "update_many", down)
    assert stack.deliver(last_event(stack)).status_code == 503
    assert list(stack.runtime.store.scan("event_marks")) == []  # released for the retry
    monkeypatch.setattr(stack.runtime.store, "update_many", update_many)
    assert stack.deliver(last_event(stack)).get_json()["outcome"] == "accepted"
    stack.drain()
    assert len(stack.contacts()) == 1


def test_a_pending_mark_past_its_lease_is_taken_over(stack: Stack) -> None:
    customer(stack, email="lease@example.com")
    event = last_event(stack)
    stack.runtime.store.put(
        "event_marks",
        event["id"],
        {"state": "pending", "claim": "dead", "claimed_at": time.time() - 120, "expire_at": 0},
    )
    assert stack.deliver(event).get_json()["outcome"] == "accepted"
    fresh = make_event("customer.created", event["data"]["object"], stack.account)
    stack.runtime.store.put(
        "event_marks",
        fresh["id"],
        {"state": "pending", "claim": "busy", "claimed_at": time.time(), "expire_at": 0},
    )
    assert stack.deliver(fresh).status_code == 409


def test_store_failure_is_503(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    from shared.errors import StoreUnavailable

    def down(*args: Any) -> Any:
        raise StoreUnavailable("down")

    customer(stack, email="s@example.com")
    monkeypatch.setattr(stack.runtime.store, "create", down)
    assert stack.deliver(last_event(stack)).status_code == 503


def test_forged_log_lines_stay_inside_one_json_entry(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    forged = '\r\n{"severity": "INFO", "message": "webhook accepted", "forged": true}\n'
    event = make_event(
        "customer.created", {"id": "cus_1" + forged, "object": "customer"}, stack.account
    )
    event["type"] = "customer.created" + forged
    stack.deliver(event)
    stack.post(b'{"id": "evt_1' + forged.encode() + b'"}')
    for line in capsys.readouterr().out.splitlines():
        entry = json.loads(line)  # every line is one JSON entry
        assert "forged" not in entry


def test_get_is_refused(stack: Stack) -> None:
    assert stack.webhook.get("/").status_code == 405


def test_an_event_hubspot_keeps_refusing_waits_with_backoff_then_fails_visibly(
    stack: Stack,
) -> None:
    """Row 20, embedded path: bounded jittered retries of each call, then the key waits a
    growing backoff; after its attempts it is a failed outcome, and marking it again replays."""
    from shared.clock import FakeClock
    from shared.drain import dirty, drainer

    customer(stack, email="parked@example.com")
    stack.hubspot.fault("status", count=10_000, status=503)
    # Marked by the webhook; drained here on a clock the test moves.
    stack.runtime.drainers.close()
    assert stack.deliver(last_event(stack)).status_code == 200
    clock = FakeClock(time.time())
    deps = drainer.DrainDeps(**{**vars(stack.runtime.drain), "clock": clock, "budgets": {}})
    waits: list[float] = []
    for _ in range(dirty.MAX_ATTEMPTS):
        report = drainer.drain(stack.project_id, deps)
        assert report.retried == 1 or report.settled["failed"] == 1
        [key] = stack.dirty() or [None]
        if key is not None:
            waits.append(key["due_at"] - clock.now())
            clock.advance(dirty.BACKOFF_CAP)
    assert stack.dirty() == []
    assert len(waits) == dirty.MAX_ATTEMPTS - 1
    for attempt, wait in enumerate(waits, start=1):  # jittered within [ceiling / 2, ceiling]
        assert dirty.backoff(attempt, 0.0) <= wait <= dirty.backoff(attempt, 1.0)
    [outcome] = stack.outcomes().values()
    assert (outcome["status"], outcome["error_code"]) == ("failed", "hubspot_503")
    assert outcome["event_id"] == last_event(stack)["id"]
    assert stack.contacts() == []
    stack.hubspot.clear_faults()
    DirtyKeys(stack.runtime.store, clock).mark(
        Key(stack.project_id, "customer", last_event(stack)["data"]["object"]["id"])
    )
    drainer.drain(stack.project_id, deps)
    assert [c["properties"]["email"] for c in stack.contacts()] == ["parked@example.com"]
