"""Nothing reads a request body past the cap: not our handlers, not functions_framework's
after-request hook (``read_request``, which calls ``request.get_data()`` on every HTTP answer),
not in a function that takes no body at all, neither through ``create_app`` (as Cloud Functions
loads them) nor through the ``make run`` bundle (werkzeug + DispatcherMiddleware).

The bodies here are counted, never built: a stream that makes its bytes on demand and records
how many were taken.
"""

import io
import json
import time
from typing import Any

import pytest
from werkzeug.test import Client

from shared.webhook.signature import sign
from tests.events import make_event
from tests.functions.oauth_fixtures import oauth_env_fixture  # noqa: F401
from tests.plugins.stack import SECRETS, Stack, function_client
from tooling.local import server

HUGE = 64 * 1024 * 1024


class CountedBody(io.RawIOBase):
    """``size`` bytes of ``x``, made as they are read; ``taken`` says how many were."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.taken = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = min(len(buffer), self.size - self.taken)
        buffer[:n] = b"x" * n
        self.taken += n
        return n


def post(client: Any, path: str, body: CountedBody, chunked: bool) -> Any:
    """As gunicorn hands a body over: with its Content-Length, or chunked (no length, the
    stream terminated by the server)."""
    environ: dict[str, Any] = {"wsgi.input": body}
    headers = {"Stripe-Signature": "t=1,v1=00"}
    if chunked:
        environ["wsgi.input_terminated"] = True
        headers["Transfer-Encoding"] = "chunked"
    else:
        environ["CONTENT_LENGTH"] = str(body.size)
    return client.post(path, headers=headers, environ_overrides=environ)


# What each answers a huge POST: the webhooks refuse its size; the Stripe callback takes GET only
# (a chunked body declares no size, so the method is what it refuses first).
REFUSALS = {
    "stripe_webhook": {413},
    "hubspot_oauth_callback": {413},
    "stripe_oauth_callback": {405, 413},
    # The console answers through its own Flask app (forms capped at 64 KiB) as a streamed
    # response, which functions_framework's hook leaves alone; a post without our Origin is 403.
    "console": {403, 413},
}


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("name", sorted(REFUSALS))
def test_a_huge_body_is_refused_without_being_read(
    stack: Stack, oauth_env: None, name: str, chunked: bool
) -> None:
    body = CountedBody(HUGE)
    response = post(function_client(name), "/", body, chunked)
    assert response.status_code in REFUSALS[name]
    assert body.taken <= stack.settings.webhook_max_bytes + 1


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("path", ["/stripe/webhook", "/oauth/hubspot/callback"])
def test_the_make_run_bundle_reads_no_further_either(
    stack: Stack, oauth_env: None, path: str, chunked: bool
) -> None:
    body = CountedBody(HUGE)
    response = post(Client(server.build()), path, body, chunked)
    assert response.status_code == 413
    assert body.taken <= stack.settings.webhook_max_bytes + 1


@pytest.mark.parametrize("name", ["stripe_webhook", "hubspot_oauth_callback"])
def test_a_body_one_byte_over_the_cap_is_413(stack: Stack, oauth_env: None, name: str) -> None:
    body = CountedBody(stack.settings.webhook_max_bytes + 1)
    response = post(function_client(name), "/", body, chunked=True)
    assert response.status_code == 413
    assert response.get_json()["error"].startswith("body larger than")


def test_a_chunked_event_up_to_the_cap_is_read_whole(stack: Stack) -> None:
    event = make_event("customer.created", {"id": "cus_1", "object": "customer"}, stack.account)
    raw = json.dumps(event).encode()
    padded = raw[:-1] + b" " * (stack.settings.webhook_max_bytes - len(raw)) + b"}"
    response = stack.webhook.post(
        "/",
        input_stream=io.BytesIO(padded),
        headers={
            "Stripe-Signature": sign(padded, SECRETS[0], int(time.time())),
            "Transfer-Encoding": "chunked",
        },
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 200
    assert response.get_json()["outcome"] == "accepted"
