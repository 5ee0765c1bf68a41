"""Whatever HubSpot's signature headers hold, an unsigned request gets a clear 400, never a 500.

The superscript two passes ``str.isdigit()`` and ``int`` refuses it; ``int`` also refuses more
than 4,300 digits.
"""

import time
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from shared.errors import SignatureError
from shared.oauth import hubspot_webhook
from tests.functions.oauth_fixtures import (  # noqa: F401
    HUBSPOT_CLIENT_SECRET,
    PUBLIC_URL,
    oauth_env_fixture,
)
from tests.plugins.stack import Stack, function_client

# Superscript two, a current time in Arabic-Indic digits, 5,000 nines, signs, spaces, bases,
# fractions and a mathematical bold nine (escaped: they look like ASCII on screen).
STRANGE = [
    "\u00b2",
    "\u0661\u0667" + "\u0660" * 11,
    "9" * 5000,
    "-1",
    " 1",
    "1.5",
    "0x10",
    "1e3",
    "\u00bd",
    "\U0001d7d7",
]


@pytest.mark.parametrize("timestamp", STRANGE)
def test_a_strange_timestamp_is_a_signature_error(timestamp: str) -> None:
    with pytest.raises(SignatureError):
        hubspot_webhook.verify("secret", "POST", "https://x/", b"[]", "sig", timestamp, time.time())


DIGITISH = st.text(st.characters(categories=("Nd", "No")), min_size=1)


@given(
    signature=st.one_of(st.none(), st.text()),
    timestamp=st.one_of(st.none(), st.text(), DIGITISH),
)
@example(signature="c2ln", timestamp="\u00b2")
def test_any_header_text_is_refused_as_a_signature_error(
    signature: str | None, timestamp: str | None
) -> None:
    with pytest.raises(SignatureError):
        hubspot_webhook.verify("secret", "POST", "https://x/", b"[]", signature, timestamp, 0.0)


def test_a_valid_signature_still_passes() -> None:
    now = time.time()
    stamp = int(now * 1000)
    signature = hubspot_webhook.sign("secret", "POST", "https://x/", b"[]", stamp)
    hubspot_webhook.verify("secret", "POST", "https://x/", b"[]", signature, str(stamp), now)


@pytest.mark.parametrize("timestamp", ["\u00b2", "9" * 5000])
def test_the_function_answers_400(stack: Stack, oauth_env: None, timestamp: str) -> None:
    answer: Any = function_client("hubspot_oauth_callback").post(
        "/",
        data=b"[]",
        headers={"X-HubSpot-Signature-v3": "c2ln", "X-HubSpot-Request-Timestamp": timestamp},
    )
    assert answer.status_code == 400
    assert answer.get_json() == {"error": "missing HubSpot signature"}
