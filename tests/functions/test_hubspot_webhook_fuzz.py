"""HubSpot's app webhook (POST to ``hubspot_oauth_callback``) under random bodies and headers:
never a 5xx, never a store write without a valid v3 signature."""

import time
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from shared.oauth import hubspot_webhook
from tests.functions.oauth_fixtures import (  # noqa: F401
    HUBSPOT_CLIENT_SECRET,
    PUBLIC_URL,
    oauth_env_fixture,
)
from tests.functions.test_webhook_fuzz import BODIES, HEADER_TEXT, snapshot
from tests.plugins.stack import Stack, function_client

STAMPS = st.one_of(
    HEADER_TEXT,
    st.integers(min_value=-(10**16), max_value=10**16).map(str),
    st.just(str(int(time.time() * 1000))),
)


@given(body=BODIES, signature=st.one_of(st.none(), HEADER_TEXT), stamp=st.one_of(st.none(), STAMPS))
def test_an_unsigned_app_webhook_is_refused_and_writes_nothing(
    stack: Stack, oauth_env: None, body: bytes, signature: str | None, stamp: str | None
) -> None:
    headers = {
        name: value
        for name, value in (
            ("X-HubSpot-Signature-v3", signature),
            ("X-HubSpot-Request-Timestamp", stamp),
        )
        if value is not None
    }
    before = snapshot(stack)
    answer: Any = function_client("hubspot_oauth_callback").post("/", data=body, headers=headers)
    assert answer.status_code in (400, 413), answer.get_data(as_text=True)[:200]
    assert snapshot(stack) == before


@given(body=BODIES)
def test_a_signed_app_webhook_of_any_body_is_answered(
    stack: Stack, oauth_env: None, body: bytes
) -> None:
    stamp = int(time.time() * 1000)
    signature = hubspot_webhook.sign(HUBSPOT_CLIENT_SECRET, "POST", f"{PUBLIC_URL}/", body, stamp)
    headers = {"X-HubSpot-Signature-v3": signature, "X-HubSpot-Request-Timestamp": str(stamp)}
    answer: Any = function_client("hubspot_oauth_callback").post("/", data=body, headers=headers)
    assert answer.status_code in (200, 400), answer.get_data(as_text=True)[:200]
