"""The HubSpot double, driven through the real ``hubspot-api-client`` (raw HTTP where needed)."""

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import urllib3
from hubspot import HubSpot
from hubspot.crm import contacts as hc
from hubspot.crm import objects as ho
from hubspot.crm import properties as hp
from hubspot.oauth import ApiException as OAuthError
from urllib3.util.retry import Retry

from doubles.hubspot import HubSpotDouble

RATE_HEADERS = (
    "X-HubSpot-RateLimit-Max",
    "X-HubSpot-RateLimit-Remaining",
    "X-HubSpot-RateLimit-Interval-Milliseconds",
    "X-HubSpot-RateLimit-Daily",
    "X-HubSpot-RateLimit-Daily-Remaining",
)
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def portal(hubspot_double: HubSpotDouble) -> tuple[int, str]:
    return hubspot_double.add_portal()


@pytest.fixture
def hs(hubspot_double: HubSpotDouble, portal: tuple[int, str]) -> HubSpot:
    return connect(hubspot_double, portal[1])


def connect(double: HubSpotDouble, token: str) -> HubSpot:
    return HubSpot(access_token=token, host=double.base_url, retry=Retry(total=0))


def body(exc: Any) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(exc.body)
    return parsed


def unique_property(hs: HubSpot, name: str = "stripe_customer_id") -> None:
    hs.crm.properties.groups_api.create(
        "contacts", hp.PropertyGroupCreate(name="omniroo", label="Omniroo", display_order=-1)
    )
    hs.crm.properties.core_api.create(
        "contacts",
        hp.PropertyCreate(
            name=name,
            label="Stripe customer ID",
            type="string",
            field_type="text",
            group_name="omniroo",
            has_unique_value=True,
        ),
    )


def upsert(hs: HubSpot, *items: tuple[str, dict[str, Any]], by: str = "stripe_customer_id") -> Any:
    return hs.crm.contacts.batch_api.upsert(
        hc.BatchInputSimplePublicObjectBatchInputUpsert(
            inputs=[
                hc.SimplePublicObjectBatchInputUpsert(id_property=by, id=i, properties=p)
                for i, p in items
            ]
        )
    )


def create(hs: HubSpot, *props: dict[str, Any]) -> Any:
    return hs.crm.contacts.batch_api.create(
        hc.BatchInputSimplePublicObjectBatchInputForCreate(
            inputs=[hc.SimplePublicObjectInputForCreate(properties=p) for p in props]
        )
    )


def search(hs: HubSpot, *filters: dict[str, Any], **extra: Any) -> Any:
    group = hc.FilterGroup(filters=[hc.Filter(**f) for f in filters])
    request = hc.PublicObjectSearchRequest(filter_groups=[group] if filters else [], **extra)
    return hs.crm.contacts.search_api.do_search_with_http_info(request)


# -- authentication ----------------------------------------------------------------------------


def test_unknown_token_is_401_with_hubspots_body(hubspot_double: HubSpotDouble) -> None:
    with pytest.raises(hc.ApiException) as caught:
        create(connect(hubspot_double, "pat-na1-unknown"), {"email": "a@example.com"})
    assert caught.value.status == 401
    reply = body(caught.value)
    assert set(reply) == {"status", "message", "correlationId", "category"}
    assert (reply["status"], reply["category"]) == ("error", "INVALID_AUTHENTICATION")
    assert reply["message"].startswith("Authentication credentials not found.")
    assert re.fullmatch(r"[0-9a-f-]{36}", reply["correlationId"])
    assert hubspot_double.requests[-1]["portal"] is None


# -- records -----------------------------------------------------------------------------------


def test_upsert_creates_then_updates_and_stores_strings(
    hs: HubSpot, hubspot_double: HubSpotDouble, portal: tuple[int, str]
) -> None:
    unique_property(hs)
    first = upsert(hs, ("cus_1", {"email": "Ada@Example.com", "firstname": "Ada", "phone": 42}))
    [created] = first.results
    assert (created.new, first.status) == (True, "COMPLETE")
    assert created.id.isdigit()
    props = created.properties
    assert (props["email"], props["phone"], props["stripe_customer_id"]) == (
        "ada@example.com",
        "42",
        "cus_1",
    )
    assert props["hs_object_id"] == created.id
    assert ISO.fullmatch(props["createdate"]) and ISO.fullmatch(props["lastmodifieddate"])
    [again] = upsert(hs, ("cus_1", {"firstname": "", "lastname": "Lovelace"})).results
    assert (again.new, again.id) == (False, created.id)
    record = hubspot_double.record_by(portal[0], "contacts", "stripe_customer_id", "cus_1")
    assert record is not None
    assert "firstname" not in record["properties"]
    assert record["properties"]["lastname"] == "Lovelace"
    assert ISO.fullmatch(record["createdAt"]) and record["archived"] is False


def test_upsert_response_on_the_wire(
    hubspot_double: HubSpotDouble, portal: tuple[int, str]
) -> None:
    reply = requests.post(
        f"{hubspot_double.base_url}/crm/v3/objects/contacts/batch/upsert",
        json={
            "inputs": [
                {
                    "idProperty": "email",
                    "id": "w@example.com",
                    "properties": {"firstname": "W", "lastname": True},
                }
            ]
        },
        headers={"Authorization": f"Bearer {portal[1]}"},
        timeout=5,
    )
    assert reply.status_code == 200
    data = reply.json()
    assert set(data) == {"status", "results", "startedAt", "completedAt"}
    [result] = data["results"]
    assert set(result) == {"id", "properties", "createdAt", "updatedAt", "archived", "new"}
    assert result["properties"]["lastname"] == "true"
    assert reply.headers["Content-Type"] == "application/json;charset=utf-8"


def test_email_belonging_to_another_contact_is_409_for_the_whole_batch(
    hs: HubSpot, hubspot_double: HubSpotDouble, portal: tuple[int, str]
) -> None:
    unique_property(hs)
    [existing] = create(hs, {"email": "taken@example.com"}).results
    with pytest.raises(hc.ApiException) as on_create:
        create(hs, {"email": "new@example.com"}, {"email": "TAKEN@example.com"})
    with pytest.raises(hc.ApiException) as on_upsert:
        upsert(
            hs, ("cus_9", {"email": "fresh@example.com"}), ("cus_8", {"email": "taken@example.com"})
        )
    for caught in (on_create, on_upsert):
        assert caught.value.status == 409
        reply = body(caught.value)
        assert reply["message"] == f"Contact already exists. Existing ID: {existing.id}"
        assert (reply["status"], reply["category"]) == ("error", "CONFLICT")
        assert "correlationId" in reply
    assert [r["id"] for r in hubspot_double.records(portal[0], "contacts")] == [existing.id]


def test_a_unique_property_value_cannot_be_given_to_a_second_record(
    hs: HubSpot, hubspot_double: HubSpotDouble, portal: tuple[int, str]
) -> None:
    unique_property(hs)
    first, second = create(hs, {"stripe_customer_id": "cus_A"}, {"email": "b@example.com"}).results
    with pytest.raises(hc.ApiException) as caught:
        hs.crm.contacts.batch_api.update(
            hc.BatchInputSimplePublicObjectBatchInput(
                inputs=[
                    hc.SimplePublicObjectBatchInput(
                        id=second.id, properties={"stripe_customer_id": "cus_A"}
                    )
                ]
            )
        )
    assert caught.value.status == 409
    assert body(caught.value)["category"] == "CONFLICT"
    assert "cus_A" in body(caught.value)["message"]
    owner = hubspot_double.record_by(portal[0], "contacts", "stripe_customer_id", "cus_A")
    assert owner is not None and owner["id"] == first.id


def test_more_than_100_inputs_is_400(hs: HubSpot) -> None:
    with pytest.raises(hc.ApiException) as caught:
        create(hs, *({"firstname": str(n)} for n in range(101)))
    assert caught.value.status == 400
    reply = body(caught.value)
    assert reply["category"] == "VALIDATION_ERROR"
    assert "must be <= 100" in reply["message"]


def test_unknown_property_refuses_the_whole_batch(
    hs: HubSpot, hubspot_double: HubSpotDouble, portal: tuple[int, str]
) -> None:
    with pytest.raises(hc.ApiException) as caught:
        create(hs, {"email": "ok@example.com"}, {"email": "x@example.com", "foo": "1"})
    assert caught.value.status == 400
    reply = body(caught.value)
    assert reply["category"] == "VALIDATION_ERROR"
    prefix = "Property values were not valid: "
    assert reply["message"].startswith(prefix)
    assert json.loads(reply["message"][len(prefix) :]) == [
        {
            "isValid": False,
            "message": 'Property "foo" does not exist',
            "error": "PROPERTY_DOESNT_EXIST",
            "name": "foo",
            "localizedErrorMessage": 'Property "foo" does not exist',
            "portalId": portal[0],
        }
    ]
    assert hubspot_double.records(portal[0], "contacts") == []


def test_upsert_by_a_non_unique_property_is_400(hs: HubSpot, portal: tuple[int, str]) -> None:
    for id_property in ("firstname", "hs_object_id"):
        with pytest.raises(hc.ApiException) as caught:
            upsert(hs, ("x", {"lastname": "y"}), by=id_property)
        assert caught.value.status == 400
        assert body(caught.value)["message"] == (
            f"Unable to perform update/upsert by non-unique 0-1 property {id_property} "
            f"in portal ID {portal[0]}"
        )


def test_batch_read_reports_missing_ids_with_207(hs: HubSpot) -> None:
    unique_property(hs)
    upsert(hs, ("cus_1", {"email": "r@example.com"}))
    data, status, _ = hs.crm.contacts.batch_api.read_with_http_info(
        hc.BatchReadInputSimplePublicObjectId(
            inputs=[hc.SimplePublicObjectId(id="cus_1"), hc.SimplePublicObjectId(id="cus_404")],
            properties=["email"],
            properties_with_history=[],
            id_property="stripe_customer_id",
        )
    )
    assert status == 207
    assert [r.properties["email"] for r in data.results] == ["r@example.com"]
    assert data.num_errors == 1
    [error] = data.errors
    assert (error.status, error.category, error.context) == (
        "error",
        "OBJECT_NOT_FOUND",
        {"ids": ["cus_404"]},
    )
    assert error.message == (
        "Could not get some CONTACT objects, they may be deleted or not exist. Check that ids "
        "are valid."
    )


def test_archive_hides_records_but_records_keeps_them(
    hs: HubSpot, hubspot_double: HubSpotDouble, portal: tuple[int, str]
) -> None:
    first, second = create(hs, {"email": "a1@example.com"}, {"email": "a2@example.com"}).results
    _, status, _ = hs.crm.contacts.batch_api.archive_with_http_info(
        hc.BatchInputSimplePublicObjectId(inputs=[hc.SimplePublicObjectId(id=first.id)])
    )
    assert status == 204
    with pytest.raises(hc.ApiException) as caught:
        hs.crm.contacts.basic_api.get_by_id(first.id)
    assert caught.value.status == 404
    assert [(r["id"], r["archived"]) for r in hubspot_double.records(portal[0], "contacts")] == [
        (first.id, True),
        (second.id, False),
    ]
    create(hs, {"email": "a1@example.com"})  # an archived contact's email is free again


def test_single_record_get_patch_delete_by_id_property(hs: HubSpot) -> None:
    [made] = create(hs, {"email": "one@example.com", "firstname": "One"}).results
    got = hs.crm.contacts.basic_api.get_by_id(
        "one@example.com", id_property="email", properties=["firstname", "phone"]
    )
    assert got.id == made.id
    assert got.properties["firstname"] == "One"
    assert got.properties["phone"] is None
    patched = hs.crm.contacts.basic_api.update(
        "one@example.com",
        hc.SimplePublicObjectInput(properties={"phone": "+1"}),
        id_property="email",
    )
    assert patched.properties["phone"] == "+1"
    hs.crm.contacts.basic_api.archive(made.id)
    hs.crm.contacts.basic_api.archive("999999")  # HubSpot answers 204 for unknown ids too


def test_objects_are_generic_over_types(
    hs: HubSpot, hubspot_double: HubSpotDouble, portal: tuple[int, str]
) -> None:
    deal = hs.crm.objects.batch_api.create(
        "deals",
        ho.BatchInputSimplePublicObjectBatchInputForCreate(
            inputs=[
                ho.SimplePublicObjectInputForCreate(properties={"dealname": "Big", "amount": 10.5})
            ]
        ),
    ).results[0]
    assert deal.properties["amount"] == "10.5"
    assert "hs_lastmodifieddate" in deal.properties
    assert [r["id"] for r in hubspot_double.records(portal[0], "deals")] == [deal.id]
    assert {"name", "domain"} <= set(hubspot_double.property_names(portal[0], "companies"))
    assert {"name", "price", "quantity", "hs_product_id", "recurringbillingfrequency"} <= set(
        hubspot_double.property_names(portal[0], "line_items")
    )


def test_search_filters_and_pages_without_rate_limit_headers(hs: HubSpot) -> None:
    unique_property(hs)
    for n in range(5):
        props = {"email": f"s{n}@example.com", **({"phone": "+1"} if n % 2 else {})}
        upsert(hs, (f"cus_{n}", props))
    data, status, headers = search(
        hs,
        {"property_name": "email", "operator": "EQ", "value": "S3@example.com"},
        properties=["email"],
    )
    assert (status, data.total, data.results[0].properties["email"]) == (200, 1, "s3@example.com")
    assert not any(h in headers for h in RATE_HEADERS)
    data, _, _ = search(
        hs, {"property_name": "stripe_customer_id", "operator": "IN", "values": ["cus_0", "cus_4"]}
    )
    assert data.total == 2
    data, _, _ = search(hs, {"property_name": "phone", "operator": "HAS_PROPERTY"})
    assert data.total == 2
    data, _, _ = search(
        hs, {"property_name": "phone", "operator": "NOT_HAS_PROPERTY"}, limit=2, after="0"
    )
    assert (data.total, len(data.results), data.paging.next.after) == (3, 2, "2")
    with pytest.raises(hc.ApiException) as caught:
        search(hs, limit=201)
    assert caught.value.status == 400


# -- properties --------------------------------------------------------------------------------


def test_properties_and_groups_api(
    hs: HubSpot, hubspot_double: HubSpotDouble, portal: tuple[int, str]
) -> None:
    unique_property(hs)
    prop = hs.crm.properties.core_api.get_by_name("contacts", "stripe_customer_id")
    assert (prop.has_unique_value, prop.group_name, prop.type) == (True, "omniroo", "string")
    assert prop.modification_metadata.archivable is True
    with pytest.raises(hp.ApiException) as again:
        unique_property(hs)
    assert again.value.status == 409
    assert body(again.value)["message"] == "Property group named 'omniroo' already exists."
    with pytest.raises(hp.ApiException) as twice:
        hs.crm.properties.core_api.create(
            "contacts",
            hp.PropertyCreate(
                name="stripe_customer_id",
                label="x",
                type="string",
                field_type="text",
                group_name="omniroo",
            ),
        )
    assert twice.value.status == 409
    reply = body(twice.value)
    assert (reply["message"], reply["category"]) == (
        "Property named 'stripe_customer_id' already exists.",
        "OBJECT_ALREADY_EXISTS",
    )
    names = {p.name for p in hs.crm.properties.core_api.get_all("contacts").results}
    assert {"email", "lifecyclestage", "hs_object_id", "stripe_customer_id"} <= names
    assert set(hubspot_double.property_names(portal[0], "contacts")) == names
    assert hubspot_double.groups(portal[0], "contacts") == ["contactinformation", "omniroo"]
    hs.crm.properties.core_api.archive("contacts", "stripe_customer_id")
    assert "stripe_customer_id" not in hubspot_double.property_names(portal[0], "contacts")


# -- rate limits -------------------------------------------------------------------------------


@pytest.fixture
def limited() -> Iterator[tuple[HubSpotDouble, FakeClock, HubSpot, int]]:
    clock = FakeClock()
    with HubSpotDouble(rate_limit=3, window_ms=10_000, clock=clock) as double:
        portal_id, token = double.add_portal()
        yield double, clock, connect(double, token), portal_id


def read_page(hs: HubSpot) -> tuple[int, dict[str, str]]:
    _, status, headers = hs.crm.contacts.basic_api.get_page_with_http_info()
    return status, dict(headers)


def test_ten_secondly_limit_429s_then_recovers(
    limited: tuple[HubSpotDouble, FakeClock, HubSpot, int],
) -> None:
    double, clock, hs, portal_id = limited
    remaining = []
    for _ in range(3):
        status, headers = read_page(hs)
        assert status == 200
        assert headers["X-HubSpot-RateLimit-Max"] == "3"
        assert headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
        assert headers["X-HubSpot-RateLimit-Daily"] == "250000"
        remaining.append(
            (
                headers["X-HubSpot-RateLimit-Remaining"],
                headers["X-HubSpot-RateLimit-Daily-Remaining"],
            )
        )
    assert remaining == [("2", "249999"), ("1", "249998"), ("0", "249997")]
    for _ in range(2):  # refused calls count toward nothing
        with pytest.raises(hc.ApiException) as caught:
            read_page(hs)
        assert caught.value.status == 429
        assert caught.value.headers["X-HubSpot-RateLimit-Remaining"] == "0"
        reply = body(caught.value)
        assert {k: v for k, v in reply.items() if k != "correlationId"} == {
            "status": "error",
            "message": "You have reached your ten_secondly_rolling limit.",
            "errorType": "RATE_LIMIT",
            "policyName": "TEN_SECONDLY_ROLLING",
            "groupName": f"publicapi:private-app:{portal_id}",
        }
    clock.now += 9.9
    with pytest.raises(hc.ApiException):
        read_page(hs)
    clock.now += 0.2
    status, headers = read_page(hs)
    assert (status, headers["X-HubSpot-RateLimit-Remaining"]) == (200, "2")
    assert headers["X-HubSpot-RateLimit-Daily-Remaining"] == "249996"
    assert [r["status"] for r in double.requests].count(429) == 3


def test_search_has_its_own_per_second_limit(
    limited: tuple[HubSpotDouble, FakeClock, HubSpot, int],
) -> None:
    _, clock, hs, _ = limited
    for _ in range(5):
        assert search(hs)[1] == 200
    with pytest.raises(hc.ApiException) as caught:
        search(hs)
    assert caught.value.status == 429
    assert body(caught.value)["policyName"] == "SECONDLY"
    assert not any(h in caught.value.headers for h in RATE_HEADERS)
    assert read_page(hs)[0] == 200  # the ten-secondly budget is separate
    clock.now += 1.0
    assert search(hs)[1] == 200


def test_the_daily_quota_429s_with_policy_daily() -> None:
    with HubSpotDouble(daily_limit=2) as double:
        _, token = double.add_portal()
        hs = connect(double, token)
        assert read_page(hs)[1]["X-HubSpot-RateLimit-Daily-Remaining"] == "1"
        assert read_page(hs)[1]["X-HubSpot-RateLimit-Daily-Remaining"] == "0"
        with pytest.raises(hc.ApiException) as caught:
            read_page(hs)
        assert caught.value.status == 429
        reply = body(caught.value)
        assert (reply["policyName"], reply["message"]) == (
            "DAILY",
            "You have reached your daily limit.",
        )


# -- faults ------------------------------------------------------------------------------------


def test_status_faults_answer_hubspot_bodies(
    hs: HubSpot, hubspot_double: HubSpotDouble, portal: tuple[int, str]
) -> None:
    hubspot_double.fault("status", count=1, status=503, path_contains="/batch/")
    read_page(hs)  # not a batch path: unaffected
    with pytest.raises(hc.ApiException) as unavailable:
        create(hs, {"email": "f@example.com"})
    assert unavailable.value.status == 503
    assert body(unavailable.value)["status"] == "error"
    assert hubspot_double.records(portal[0], "contacts") == []
    hubspot_double.fault("status", status=429, portal=portal[0])
    with pytest.raises(hc.ApiException) as limited:
        create(hs, {"email": "f@example.com"})
    assert limited.value.status == 429
    assert body(limited.value)["policyName"] == "TEN_SECONDLY_ROLLING"
    assert limited.value.headers["X-HubSpot-RateLimit-Remaining"] == "0"
    hubspot_double.fault("status", status=500, portal=portal[0] + 1)  # another portal
    assert len(create(hs, {"email": "f@example.com"}).results) == 1
    hubspot_double.clear_faults()
    assert read_page(hs)[0] == 200


def test_timeout_fault_lets_the_read_timeout_fire_after_the_write(
    hs: HubSpot, hubspot_double: HubSpotDouble, portal: tuple[int, str]
) -> None:
    hubspot_double.fault("timeout", seconds=2.0, path_contains="/batch/create")
    started = time.perf_counter()
    with pytest.raises(urllib3.exceptions.ReadTimeoutError):
        hs.crm.contacts.batch_api.create(
            hc.BatchInputSimplePublicObjectBatchInputForCreate(
                inputs=[hc.SimplePublicObjectInputForCreate(properties={"email": "t@example.com"})]
            ),
            _request_timeout=0.2,
        )
    assert time.perf_counter() - started < 1.5
    # As with a real timeout, the write may well have landed: callers must stay idempotent.
    assert len(hubspot_double.records(portal[0], "contacts")) == 1


def test_latency_fault_slows_every_matching_response(
    hs: HubSpot, hubspot_double: HubSpotDouble
) -> None:
    hubspot_double.fault("latency", count=None, seconds=0.15, path_contains="/crm/v3/objects")
    for _ in range(2):
        started = time.perf_counter()
        read_page(hs)
        assert time.perf_counter() - started >= 0.15
    started = time.perf_counter()
    hs.crm.properties.core_api.get_all("contacts")
    assert time.perf_counter() - started < 0.15
    with pytest.raises(ValueError):
        hubspot_double.fault("explode")


# -- OAuth -------------------------------------------------------------------------------------


def test_oauth_code_refresh_expiry_and_revoke() -> None:
    wall = FakeClock(1_700_000_000.0)
    with HubSpotDouble(wall_clock=wall) as double:
        portal_id, _ = double.add_portal()
        double.register_oauth_app("client-1", "secret-1", "https://omniroo.test/callback")
        code = double.issue_code(portal_id, "client-1", ["crm.objects.contacts.write"])
        anonymous = HubSpot(host=double.base_url, retry=Retry(total=0))
        grant = {
            "client_id": "client-1",
            "client_secret": "secret-1",
            "redirect_uri": "https://omniroo.test/callback",
        }
        tokens = anonymous.oauth.tokens_api.create(
            grant_type="authorization_code", code=code, **grant
        )
        assert (tokens.token_type, tokens.expires_in) == ("bearer", 1800)
        with pytest.raises(OAuthError) as reused:
            anonymous.oauth.tokens_api.create(grant_type="authorization_code", code=code, **grant)
        assert reused.value.status == 400
        assert body(reused.value)["status"] == "BAD_AUTH_CODE"

        user = connect(double, tokens.access_token)
        status, headers = read_page(user)
        assert status == 200
        assert "X-HubSpot-RateLimit-Max" in headers
        assert "X-HubSpot-RateLimit-Daily" not in headers  # OAuth calls have no daily limit
        info = anonymous.oauth.access_tokens_api.get(tokens.access_token)
        assert (info.hub_id, info.token_type, info.expires_in) == (portal_id, "access", 1800)
        assert info.scopes == ["crm.objects.contacts.write"]

        wall.now += 1805
        with pytest.raises(hc.ApiException) as expired:
            read_page(user)
        assert expired.value.status == 401
        assert body(expired.value)["category"] == "EXPIRED_AUTHENTICATION"
        assert body(expired.value)["message"] == (
            "The OAuth token used to make this call expired 5 second(s) ago."
        )

        fresh = anonymous.oauth.tokens_api.create(
            grant_type="refresh_token",
            refresh_token=tokens.refresh_token,
            client_id="client-1",
            client_secret="secret-1",
        )
        assert fresh.access_token != tokens.access_token
        assert read_page(connect(double, fresh.access_token))[0] == 200
        refresh_info = anonymous.oauth.refresh_tokens_api.get(tokens.refresh_token)
        assert (refresh_info.client_id, refresh_info.hub_id) == ("client-1", portal_id)

        double.revoke(tokens.refresh_token)
        with pytest.raises(OAuthError) as revoked:
            anonymous.oauth.tokens_api.create(
                grant_type="refresh_token",
                refresh_token=tokens.refresh_token,
                client_id="client-1",
                client_secret="secret-1",
            )
        assert body(revoked.value)["status"] == "BAD_REFRESH_TOKEN"
        assert body(revoked.value)["message"] == "missing or unknown refresh token"
        with pytest.raises(hc.ApiException) as dead:
            read_page(connect(double, fresh.access_token))
        assert body(dead.value)["category"] == "INVALID_AUTHENTICATION"


def test_deleting_a_refresh_token_kills_it(hubspot_double: HubSpotDouble) -> None:
    portal_id, _ = hubspot_double.add_portal()
    hubspot_double.register_oauth_app("c", "s", "https://x.test/cb")
    anonymous = HubSpot(host=hubspot_double.base_url, retry=Retry(total=0))
    tokens = anonymous.oauth.tokens_api.create(
        grant_type="authorization_code",
        code=hubspot_double.issue_code(portal_id, "c", []),
        redirect_uri="https://x.test/cb",
        client_id="c",
        client_secret="s",
    )
    _, status, _ = anonymous.oauth.refresh_tokens_api.archive_with_http_info(tokens.refresh_token)
    assert status == 204
    with pytest.raises(OAuthError) as caught:
        anonymous.oauth.tokens_api.create(
            grant_type="refresh_token",
            refresh_token=tokens.refresh_token,
            client_id="c",
            client_secret="s",
        )
    assert caught.value.status == 400
    with pytest.raises(OAuthError) as bad_code:
        anonymous.oauth.tokens_api.create(
            grant_type="authorization_code",
            code="nope",
            redirect_uri="https://x.test/cb",
            client_id="c",
            client_secret="s",
        )
    assert body(bad_code.value)["status"] == "BAD_AUTH_CODE"
