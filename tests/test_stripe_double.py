"""The Stripe double, driven through the real ``stripe`` library (and raw HTTP for wire details)."""

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import stripe
from stripe._http_client import HTTPClient

from doubles.stripe import StripeDouble
from doubles.stripe.wire import decode_form
from shared.stripe_version import API_VERSION

KEY = "sk_test_omniroo"
CUSTOMER_KEYS = {
    "id",
    "object",
    "address",
    "balance",
    "business_name",
    "created",
    "currency",
    "customer_account",
    "default_source",
    "delinquent",
    "description",
    "discount",
    "email",
    "individual_name",
    "invoice_prefix",
    "invoice_settings",
    "livemode",
    "metadata",
    "name",
    "next_invoice_sequence",
    "phone",
    "preferred_locales",
    "shipping",
    "tax_exempt",
    "test_clock",
}


class FakeClock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def client(double: StripeDouble, key: str = KEY, retries: int = 0) -> stripe.StripeClient:
    return stripe.StripeClient(
        key, base_addresses={"api": double.base_url}, max_network_retries=retries
    )


@pytest.fixture
def api(stripe_double: StripeDouble) -> stripe.StripeClient:
    return client(stripe_double)


@pytest.fixture
def account(stripe_double: StripeDouble) -> str:
    return stripe_double.add_account()


@pytest.fixture
def clocked() -> Iterator[tuple[StripeDouble, FakeClock]]:
    clock = FakeClock()
    with StripeDouble(clock=clock) as double:
        yield double, clock


def on(account: str | None) -> dict[str, Any]:
    return {"stripe_account": account} if account else {}


# -- wire format -------------------------------------------------------------------------------


def test_form_decoder_reads_stripe_bracket_syntax() -> None:
    pairs = [
        ("email", "a@b.co"),
        ("address[city]", "Paris"),
        ("expand[]", "a"),
        ("expand[]", "b"),
        ("items[0][price]", "p1"),
        ("items[1][price]", "p2"),
        ("metadata[0]", "zero"),
        ("description", ""),
    ]
    assert decode_form(pairs) == {
        "email": "a@b.co",
        "address": {"city": "Paris"},
        "expand": ["a", "b"],
        "items": [{"price": "p1"}, {"price": "p2"}],
        "metadata": {"0": "zero"},
        "description": "",
    }


def test_a_customer_has_stripes_full_shape(api: stripe.StripeClient, account: str) -> None:
    customer = api.v1.customers.create(
        params={
            "email": "ada@example.com",
            "name": "Ada Lovelace",
            "address": {"city": "London"},
            "metadata": {"plan": "gold"},
            "preferred_locales": ["en", "fr"],
        },
        options=on(account),
    )
    body = customer.to_dict()
    assert set(body) == CUSTOMER_KEYS
    assert re.fullmatch(r"cus_[A-Za-z0-9]{14}", body["id"])
    assert body["address"] == {
        "city": "London",
        "country": None,
        "line1": None,
        "line2": None,
        "postal_code": None,
        "state": None,
    }
    assert body["invoice_settings"] == {
        "custom_fields": None,
        "default_payment_method": None,
        "footer": None,
        "rendering_options": None,
    }
    assert (body["object"], body["balance"], body["livemode"], body["tax_exempt"]) == (
        "customer",
        0,
        False,
        "none",
    )
    assert body["metadata"] == {"plan": "gold"}
    assert body["preferred_locales"] == ["en", "fr"]
    headers = customer.last_response.headers
    assert headers["Request-Id"].startswith("req_")
    assert headers["Content-Type"] == "application/json"


def test_unknown_parameter_and_bad_email_are_400s(api: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        api.v1.customers.create(params={"nickname": "x"})  # type: ignore[typeddict-unknown-key]
    assert unknown.value.http_status == 400
    assert unknown.value.json_body == {
        "error": {
            "code": "parameter_unknown",
            "doc_url": "https://stripe.com/docs/error-codes/parameter-unknown",
            "message": "Received unknown parameter: nickname",
            "param": "nickname",
            "type": "invalid_request_error",
        }
    }
    with pytest.raises(stripe.InvalidRequestError) as bad:
        api.v1.customers.create(params={"email": "not-an-email"})
    assert bad.value.code == "email_invalid"


def test_unknown_route_is_stripes_404(stripe_double: StripeDouble) -> None:
    reply = requests.get(f"{stripe_double.base_url}/v1/nothing", auth=(KEY, ""), timeout=5)
    assert reply.status_code == 404
    assert reply.json()["error"]["message"].startswith(
        "Unrecognized request URL (GET: /v1/nothing)"
    )


# -- authentication and Connect ----------------------------------------------------------------


def test_a_wrong_key_is_401_and_never_echoed(stripe_double: StripeDouble) -> None:
    secret = "sk_test_wrongsecretvalue1234"
    with pytest.raises(stripe.AuthenticationError) as caught:
        client(stripe_double, secret).v1.customers.list()
    assert caught.value.http_status == 401
    message = caught.value.json_body["error"]["message"]
    assert message == "Invalid API Key provided: sk_test_****************1234"
    assert secret not in message
    assert caught.value.json_body["error"]["type"] == "invalid_request_error"


def test_no_key_is_401(stripe_double: StripeDouble) -> None:
    reply = requests.get(f"{stripe_double.base_url}/v1/customers", timeout=5)
    assert reply.status_code == 401
    assert reply.json()["error"]["message"].startswith("You did not provide an API key.")


def test_unknown_connected_account_is_403(
    api: stripe.StripeClient, stripe_double: StripeDouble
) -> None:
    with pytest.raises(stripe.PermissionError) as caught:
        api.v1.customers.list(options=on("acct_nobody"))
    assert caught.value.http_status == 403
    error = caught.value.json_body["error"]
    assert error["code"] == "account_invalid"
    assert error["type"] == "invalid_request_error"
    assert "'acct_nobody' (or that account does not exist)" in error["message"]
    assert KEY not in error["message"]
    assert stripe_double.requests[-1] == {
        "method": "GET",
        "path": "/v1/customers",
        "account": "acct_nobody",
        "status": 403,
        "version": API_VERSION,
    }


def test_objects_are_scoped_to_their_account(
    api: stripe.StripeClient, stripe_double: StripeDouble
) -> None:
    first, second = stripe_double.add_account(), stripe_double.add_account()
    assert re.fullmatch(r"acct_[A-Za-z0-9]{16}", first)
    mine = api.v1.customers.create(params={"email": "a@example.com"}, options=on(first))
    api.v1.customers.create(params={"email": "platform@example.com"})
    with pytest.raises(stripe.InvalidRequestError) as caught:
        api.v1.customers.retrieve(mine.id, options=on(second))
    assert caught.value.http_status == 404
    assert caught.value.json_body == {
        "error": {
            "code": "resource_missing",
            "doc_url": "https://stripe.com/docs/error-codes/resource-missing",
            "message": f"No such customer: '{mine.id}'",
            "param": "id",
            "type": "invalid_request_error",
        }
    }
    assert [c.email for c in api.v1.customers.list().data] == ["platform@example.com"]
    assert api.v1.customers.list(options=on(second)).data == []
    assert [e["account"] for e in stripe_double.events(first)] == [first]
    assert "account" not in stripe_double.events()[0]


def test_livemode_follows_the_account(
    api: stripe.StripeClient, stripe_double: StripeDouble
) -> None:
    live = stripe_double.add_account("acct_live0000000000", livemode=True)
    customer = api.v1.customers.create(params={"name": "L"}, options=on(live))
    assert customer.livemode is True
    assert stripe_double.events(live)[0]["livemode"] is True


# -- customers ---------------------------------------------------------------------------------


def test_update_merges_metadata_and_empty_string_unsets(
    api: stripe.StripeClient, account: str
) -> None:
    customer = api.v1.customers.create(
        params={"email": "m@example.com", "phone": "+1", "metadata": {"plan": "gold", "tier": "1"}},
        options=on(account),
    )
    updated = api.v1.customers.update(
        customer.id,
        params={"metadata": {"plan": "", "seats": "3"}, "phone": ""},
        options=on(account),
    )
    assert updated.metadata.to_dict() == {"tier": "1", "seats": "3"}
    assert updated.phone is None
    cleared = api.v1.customers.update(customer.id, params={"metadata": ""}, options=on(account))
    assert cleared.metadata.to_dict() == {}


def test_delete_then_retrieve_returns_the_deleted_stub(
    api: stripe.StripeClient, account: str
) -> None:
    customer = api.v1.customers.create(params={"email": "gone@example.com"}, options=on(account))
    deleted = api.v1.customers.delete(customer.id, options=on(account))
    stub = {"id": customer.id, "object": "customer", "deleted": True}
    assert deleted.to_dict() == stub
    assert api.v1.customers.retrieve(customer.id, options=on(account)).to_dict() == stub
    with pytest.raises(stripe.InvalidRequestError):
        api.v1.customers.update(customer.id, params={"name": "x"}, options=on(account))
    assert api.v1.customers.list(options=on(account)).data == []


def test_idempotency_key_replays_the_stored_response(
    api: stripe.StripeClient, stripe_double: StripeDouble, account: str
) -> None:
    options: dict[str, Any] = {"stripe_account": account, "idempotency_key": "same-key"}
    first = api.v1.customers.create(params={"email": "once@example.com"}, options=options)
    again = api.v1.customers.create(params={"email": "once@example.com"}, options=options)
    assert again.id == first.id
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert again.last_response.body == first.last_response.body
    assert len(api.v1.customers.list(options=on(account)).data) == 1
    assert [e["request"]["idempotency_key"] for e in stripe_double.events(account)] == ["same-key"]
    with pytest.raises(stripe.IdempotencyError) as caught:
        api.v1.customers.create(params={"email": "other@example.com"}, options=options)
    assert caught.value.http_status == 400
    assert "same-key" in caught.value.json_body["error"]["message"]


def test_a_retried_post_after_a_500_creates_once(
    stripe_double: StripeDouble, account: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(HTTPClient, "_sleep_time_seconds", lambda self, n: 0.0)
    stripe_double.fail_next(1, 500)
    customer = client(stripe_double, retries=2).v1.customers.create(
        params={"email": "retry@example.com"}, options=on(account)
    )
    assert [r["status"] for r in stripe_double.requests] == [500, 200]
    assert [c.id for c in api_list(stripe_double, account)] == [customer.id]
    assert len(stripe_double.events(account)) == 1


def api_list(double: StripeDouble, account: str) -> list[Any]:
    return list(client(double).v1.customers.list(options=on(account)).data)


def test_pagination_newest_first_with_cursors_and_email(
    clocked: tuple[StripeDouble, FakeClock],
) -> None:
    double, clock = clocked
    account = double.add_account()
    ids = []
    for n in range(25):
        clock.now += 1
        ids.append(double.create_customer(account, email=f"c{n % 5}@example.com")["id"])
    api = client(double)
    newest_first = list(reversed(ids))
    first = api.v1.customers.list(options=on(account))
    assert [c.id for c in first.data] == newest_first[:10]
    assert first.has_more is True
    assert first.url == "/v1/customers"
    seen, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 7, **({"starting_after": cursor} if cursor else {})}
        chunk = api.v1.customers.list(params=params, options=on(account))
        seen += [c.id for c in chunk.data]
        if not chunk.has_more:
            break
        cursor = chunk.data[-1].id
    assert seen == newest_first
    before = api.v1.customers.list(
        params={"ending_before": newest_first[10], "limit": 3}, options=on(account)
    )
    assert [c.id for c in before.data] == newest_first[7:10]
    assert before.has_more is True
    by_email = api.v1.customers.list(params={"email": "c0@example.com"}, options=on(account))
    assert [c.id for c in by_email.data] == [ids[20], ids[15], ids[10], ids[5], ids[0]]
    with pytest.raises(stripe.InvalidRequestError) as caught:
        api.v1.customers.list(params={"limit": 101}, options=on(account))
    assert caught.value.param == "limit"


# -- events ------------------------------------------------------------------------------------


def test_mutations_record_stripes_events(
    clocked: tuple[StripeDouble, FakeClock],
) -> None:
    double, clock = clocked
    account = double.add_account()
    api = client(double)
    customer = api.v1.customers.create(
        params={"email": "e@example.com", "name": "Old", "metadata": {"a": "1"}},
        options={"stripe_account": account, "idempotency_key": "k-create"},
    )
    clock.now += 5
    api.v1.customers.update(
        customer.id, params={"name": "New", "metadata": {"b": "2"}}, options=on(account)
    )
    api.v1.customers.update(customer.id, params={"name": "New"}, options=on(account))
    clock.now += 5
    api.v1.customers.delete(customer.id, options=on(account))
    created, updated, deleted = double.events(account)
    assert [e["type"] for e in (created, updated, deleted)] == [
        "customer.created",
        "customer.updated",
        "customer.deleted",
    ]
    assert re.fullmatch(r"evt_[A-Za-z0-9]{24}", created["id"])
    assert set(created) == {
        "id",
        "object",
        "account",
        "api_version",
        "created",
        "data",
        "livemode",
        "pending_webhooks",
        "request",
        "type",
    }
    assert (created["account"], created["api_version"], created["pending_webhooks"]) == (
        account,
        API_VERSION,
        1,
    )
    assert created["created"] == 1_700_000_000
    assert created["request"] == {"id": created["request"]["id"], "idempotency_key": "k-create"}
    assert created["data"] == {"object": customer.to_dict()}
    assert updated["data"]["previous_attributes"] == {"metadata": {"b": None}, "name": "Old"}
    assert updated["data"]["object"]["name"] == "New"
    assert deleted["data"]["object"]["email"] == "e@example.com"
    assert "previous_attributes" not in deleted["data"]
    assert deleted["created"] == 1_700_000_010


def test_events_list_filters_and_retrieve(
    clocked: tuple[StripeDouble, FakeClock],
) -> None:
    double, clock = clocked
    account = double.add_account()
    first = double.create_customer(account, email="f@example.com")
    clock.now += 100
    double.update_customer(account, first["id"], name="Renamed")
    double.delete_customer(account, first["id"])
    api = client(double)
    listed = api.v1.events.list(options=on(account))
    assert [e.type for e in listed.data] == [
        "customer.deleted",
        "customer.updated",
        "customer.created",
    ]
    only = api.v1.events.list(params={"type": "customer.updated"}, options=on(account))
    assert [e.type for e in only.data] == ["customer.updated"]
    many = api.v1.events.list(
        params={"types": ["customer.created", "customer.deleted"]}, options=on(account)
    )
    assert [e.type for e in many.data] == ["customer.deleted", "customer.created"]
    wildcard = api.v1.events.list(params={"type": "customer.*", "limit": 2}, options=on(account))
    assert wildcard.has_more is True
    recent = api.v1.events.list(params={"created": {"gte": 1_700_000_050}}, options=on(account))
    assert len(recent.data) == 2
    event_id = double.events(account)[0]["id"]
    assert api.v1.events.retrieve(event_id, options=on(account)).type == "customer.created"
    with pytest.raises(stripe.InvalidRequestError):
        api.v1.events.retrieve(event_id)  # the platform cannot see the account's events
    helper_event = double.events(account)[0]
    assert helper_event["request"]["idempotency_key"] is None
    assert helper_event["request"]["id"].startswith("req_")


def test_events_list_by_delivery_success_as_stripe_reports_undelivered_events(
    clocked: tuple[StripeDouble, FakeClock],
) -> None:
    double, _ = clocked
    account = double.add_account()
    for n in range(3):
        double.create_customer(account, email=f"d{n}@example.com")
    delivered, refused, never = (e["id"] for e in double.events(account))
    double.record_delivery(account, delivered, 200)
    double.record_delivery(account, refused, 503)  # Stripe keeps retrying: still pending
    api = client(double)
    undelivered = api.v1.events.list(params={"delivery_success": False}, options=on(account))
    assert [e.id for e in undelivered.data] == [never, refused]
    assert {e.pending_webhooks for e in undelivered.data} == {1}
    done = api.v1.events.list(params={"delivery_success": True}, options=on(account))
    assert [(e.id, e.pending_webhooks) for e in done.data] == [(delivered, 0)]


def test_events_list_refuses_what_stripe_refuses(
    clocked: tuple[StripeDouble, FakeClock],
) -> None:
    double, _ = clocked
    account = double.add_account()
    double.create_customer(account, email="x@example.com")
    api = client(double)
    with pytest.raises(stripe.InvalidRequestError) as too_many:
        api.v1.events.list(
            params={"types": [f"customer.t{n}" for n in range(21)]}, options=on(account)
        )
    assert too_many.value.param == "types"
    with pytest.raises(stripe.InvalidRequestError) as both:
        api.v1.events.list(
            params={"type": "customer.created", "types": ["customer.updated"]}, options=on(account)
        )
    assert both.value.param == "types"
    # types[] takes exact names; only type= knows the * wildcard
    assert api.v1.events.list(params={"types": ["customer.*"]}, options=on(account)).data == []
    twenty = [f"customer.t{n}" for n in range(19)] + ["customer.created"]
    assert len(api.v1.events.list(params={"types": twenty}, options=on(account)).data) == 1


def test_events_list_reaches_back_30_days_only(
    clocked: tuple[StripeDouble, FakeClock],
) -> None:
    double, clock = clocked
    account = double.add_account()
    double.create_customer(account, email="old@example.com")
    clock.now += 30 * 24 * 3600 - 1
    api = client(double)
    assert len(api.v1.events.list(options=on(account)).data) == 1
    clock.now += 2
    assert api.v1.events.list(options=on(account)).data == []


# -- webhook endpoints -------------------------------------------------------------------------


def test_webhook_endpoints_lifecycle(api: stripe.StripeClient, stripe_double: StripeDouble) -> None:
    created = api.v1.webhook_endpoints.create(
        params={
            "url": "https://omniroo.test/stripe/webhook",
            "enabled_events": ["customer.created", "*"],
            "connect": True,
            "api_version": API_VERSION,
            "description": "Omniroo",
            "metadata": {"owner": "omniroo"},
        }
    )
    assert re.fullmatch(r"we_[A-Za-z0-9]{24}", created.id)
    assert created.secret.startswith("whsec_")
    assert created.status == "enabled"
    fetched = api.v1.webhook_endpoints.retrieve(created.id)
    assert "secret" not in fetched.to_dict()
    assert fetched.api_version == API_VERSION
    [kept] = stripe_double.webhook_endpoints()
    assert (kept["secret"], kept["connect"]) == (created.secret, True)
    disabled = api.v1.webhook_endpoints.update(
        created.id, params={"disabled": True, "enabled_events": ["customer.updated"]}
    )
    assert (disabled.status, disabled.enabled_events) == ("disabled", ["customer.updated"])
    assert [e.id for e in api.v1.webhook_endpoints.list().data] == [created.id]
    gone = api.v1.webhook_endpoints.delete(created.id)
    assert gone.to_dict() == {"id": created.id, "object": "webhook_endpoint", "deleted": True}
    with pytest.raises(stripe.InvalidRequestError) as caught:
        api.v1.webhook_endpoints.retrieve(created.id)
    assert caught.value.http_status == 404


def test_unknown_enabled_event_is_refused(api: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        api.v1.webhook_endpoints.create(
            params={"url": "https://x.test/hook", "enabled_events": ["customer.exploded"]}
        )
    assert caught.value.http_status == 400
    assert caught.value.param == "enabled_events[0]"
    assert caught.value.json_body["error"]["type"] == "invalid_request_error"
    with pytest.raises(stripe.InvalidRequestError) as missing:
        api.v1.webhook_endpoints.create(params={"enabled_events": ["*"]})
    assert missing.value.code == "parameter_missing"


# -- faults ------------------------------------------------------------------------------------


def test_fail_next_answers_stripe_error_bodies(
    api: stripe.StripeClient, stripe_double: StripeDouble
) -> None:
    stripe_double.fail_next(2, 503)
    for _ in range(2):
        with pytest.raises(stripe.APIError) as caught:
            api.v1.customers.list()
        assert caught.value.http_status == 503
        assert caught.value.json_body["error"]["type"] == "api_error"
    assert api.v1.customers.list().data == []
    stripe_double.fail_next(1, 429)
    with pytest.raises(stripe.RateLimitError) as limited:
        api.v1.customers.create(params={"email": "x@example.com"})
    assert limited.value.json_body["error"]["code"] == "rate_limit"
    assert limited.value.json_body["error"]["type"] == "invalid_request_error"
    assert api.v1.customers.list().data == []  # the refused create had no side effect
    assert [r["status"] for r in stripe_double.requests] == [503, 503, 200, 429, 200]
    stripe_double.reset_requests()
    assert stripe_double.requests == []


def test_latency_is_added_to_every_response(
    api: stripe.StripeClient, stripe_double: StripeDouble
) -> None:
    stripe_double.latency = 0.2
    started = time.perf_counter()
    api.v1.customers.list()
    assert time.perf_counter() - started >= 0.2
