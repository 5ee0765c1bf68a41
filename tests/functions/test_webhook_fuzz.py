"""Property tests of the Stripe webhook through the real function (``create_app``'s test client):
whatever bytes, headers and JSON shapes arrive, the answer is never a 5xx or an unhandled
exception, and nothing reaches the store without a valid signature.

Examples are moderate and derandomized (tests/plugins/fuzzing.py); ``HYPOTHESIS_PROFILE=deep``
explores at random, with many more.
"""

import json
import time
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from shared.store.base import FIELDS
from shared.webhook.signature import sign
from tests.plugins.stack import SECRETS, Stack

# What a header can carry over HTTP/1.1: visible Latin-1 and spaces (no CR/LF, no DEL).
HEADER_TEXT = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
    max_size=200,
)
HEX = st.text("0123456789abcdef", max_size=80)
TIMESTAMPS = st.one_of(
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.just(str(int(time.time()))),
    HEADER_TEXT,
)
SIGNATURE_HEADERS = st.one_of(
    HEADER_TEXT,
    st.builds(
        lambda t, sigs, extra: ",".join([f"t={t}", *(f"v1={s}" for s in sigs), *extra]),
        TIMESTAMPS,
        st.lists(HEX, max_size=5),
        st.lists(HEADER_TEXT, max_size=3),
    ),
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=50),
)
ANY_JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=20,
)


def plausible_or_any(plausible: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(plausible, ANY_JSON)


EVENT_TYPES = st.sampled_from(
    ["customer.created", "customer.updated", "invoice.paid", "customer.subscription.deleted",
     "account.application.deauthorized", "price.created", "invoice.upcoming", "v2.core.event"]
)  # fmt: skip
EVENTS = st.fixed_dictionaries(
    {
        "id": plausible_or_any(st.from_regex(r"evt_[0-9A-Za-z_]{1,40}", fullmatch=True)),
        "object": plausible_or_any(st.just("event")),
        "type": plausible_or_any(EVENT_TYPES),
        "livemode": plausible_or_any(st.booleans()),
        "created": plausible_or_any(st.integers(min_value=0, max_value=2**40)),
        "data": plausible_or_any(
            st.fixed_dictionaries(
                {
                    "object": plausible_or_any(
                        st.fixed_dictionaries(
                            {
                                "id": plausible_or_any(
                                    st.from_regex(r"[a-z]{2,8}_[0-9A-Za-z]{1,30}", fullmatch=True)
                                ),
                                "object": plausible_or_any(
                                    st.sampled_from(["customer", "invoice", "subscription"])
                                ),
                            },
                            optional={"name": st.text(), "metadata": ANY_JSON},
                        )
                    )
                }
            )
        ),
    },
    optional={"account": plausible_or_any(st.sampled_from(["acct_1Fuzz", "acct_unknown"]))},
)
BODIES = st.one_of(
    st.binary(max_size=2048),
    ANY_JSON.map(lambda v: json.dumps(v).encode()),
    EVENTS.map(lambda v: json.dumps(v).encode()),
)


def snapshot(stack: Stack) -> dict[str, list[tuple[str, Any]]]:
    return {name: sorted(stack.runtime.store.scan(name)) for name in FIELDS}


def assert_answered(response: Any) -> None:
    # functions_framework turns an unhandled exception into a 500 with its crash header.
    assert response.status_code < 500, response.get_data(as_text=True)[:300]
    assert "X-Google-Status" not in response.headers
    assert response.is_json
    assert ("error" in response.get_json()) is (response.status_code >= 400)


@given(body=BODIES, header=st.one_of(st.none(), SIGNATURE_HEADERS))
@example(body=b"{}", header="t=\u00b2,v1=00")
@example(body=b"{}", header="t=" + "9" * 5000 + ",v1=00")
def test_an_unsigned_request_is_refused_and_writes_nothing(
    stack: Stack, body: bytes, header: str | None
) -> None:
    before = snapshot(stack)
    headers = {} if header is None else {"Stripe-Signature": header}
    response = stack.webhook.post("/", data=body, headers=headers)
    assert_answered(response)
    assert response.status_code in (400, 413)
    stack.drain()
    assert snapshot(stack) == before


@given(body=BODIES, secret=st.sampled_from(["whsec_not_ours", SECRETS[0]]), skew=st.integers())
def test_a_wrong_secret_or_a_stale_time_writes_nothing(
    stack: Stack, body: bytes, secret: str, skew: int
) -> None:
    now = int(time.time())
    if secret in SECRETS and abs(skew) <= 300:
        skew += 301 if skew >= 0 else -301  # a real signature, outside the tolerance either way
    before = snapshot(stack)
    response = stack.post(body, sign(body, secret, now + skew))
    assert_answered(response)
    assert response.status_code == 400
    stack.drain()
    assert snapshot(stack) == before


@given(event=EVENTS)
def test_a_signed_event_of_any_shape_is_answered(stack: Stack, event: dict[str, Any]) -> None:
    if event.get("account") == "acct_1Fuzz":
        event["account"] = stack.account  # now and then, one that routes to the project
    response = stack.post(json.dumps(event).encode())
    assert_answered(response)
    stack.drain()


@given(body=st.one_of(st.binary(max_size=2048), ANY_JSON.map(lambda v: json.dumps(v).encode())))
def test_signed_bytes_of_any_kind_are_answered(stack: Stack, body: bytes) -> None:
    assert_answered(stack.post(body))


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def event_around(value: bytes, stack: Stack) -> bytes:
    head = json.dumps(
        {"id": "evt_1Deep", "object": "event", "type": "customer.updated", "livemode": False,
         "created": int(time.time()), "account": stack.account,
         "data": {"object": {"id": "cus_1Deep", "object": "customer", "metadata": {"v": 0}}}}
    ).encode()  # fmt: skip
    return head.replace(b'{"v": 0}', value)


@pytest.mark.filterwarnings("ignore:Generating overly large repr")
@given(
    value=st.one_of(
        st.sampled_from([10, 1_000, 100_000, 500_000]).map(nested),
        st.sampled_from([10_000, 1_000_000]).map(lambda n: json.dumps("x" * n).encode()),
        st.sampled_from([1_000, 100_000]).map(lambda n: json.dumps(list(range(n))).encode()),
        st.sampled_from([1, 10**400]).map(lambda n: str(n).encode()),
    )
)
def test_huge_and_deeply_nested_values_are_answered(stack: Stack, value: bytes) -> None:
    body = event_around(value, stack)
    response = stack.post(body)
    assert_answered(response)
    if len(body) > stack.settings.webhook_max_bytes:
        assert response.status_code == 413
    stack.drain()
