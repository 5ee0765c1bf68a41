"""``StripeGateway.pages``: list pages streamed through the stripe library's requestor and parsed
once. The same request as ``raw_request`` (our API version, the connected account), the same
error translation, and a gzip body decoded."""

import gzip
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from doubles.stripe import StripeDouble
from shared.errors import PermanentFailure, RemoteUnavailable
from shared.stripe_gateway import StripeGateway
from shared.stripe_version import API_VERSION


def test_pages_walk_a_list_as_the_connected_account_in_our_version(
    stripe_double: StripeDouble,
) -> None:
    account = stripe_double.add_account()
    made = [stripe_double.create_customer(account, email=f"p{i}@example.com") for i in range(5)]
    gateway = StripeGateway(stripe_double.platform_key, stripe_double.base_url)
    stripe_double.reset_requests()
    pages = list(gateway.pages("customer", account, {"limit": 2}))
    assert [[c["id"] for c in page] for page, _ in pages] == [
        [made[4]["id"], made[3]["id"]],
        [made[2]["id"], made[1]["id"]],
        [made[0]["id"]],
    ]
    assert [more for _, more in pages] == [True, True, False]
    assert {(r["account"], r["version"]) for r in stripe_double.requests} == {
        (account, API_VERSION)
    }
    assert gateway.calls == 3


def test_a_refused_cursor_and_a_failing_stripe_are_ours_to_name(
    stripe_double: StripeDouble,
) -> None:
    account = stripe_double.add_account()
    gateway = StripeGateway(stripe_double.platform_key, stripe_double.base_url)
    with pytest.raises(PermanentFailure) as refused:
        next(gateway.pages("customer", account, {"starting_after": "cus_gone"}))
    assert refused.value.code == "stripe_resource_missing"
    stripe_double.fail_next(5, status=500)
    with pytest.raises(RemoteUnavailable):
        next(gateway.pages("customer", account, {}))


class _Gzipped(BaseHTTPRequestHandler):
    """Answers any list as Stripe may: gzip-encoded when the client accepts it."""

    def do_GET(self) -> None:
        page = {"object": "list", "data": [{"id": "cus_z", "object": "customer"}]}
        body = json.dumps({**page, "has_more": False, "url": "/v1/customers"}).encode()
        zipped = "gzip" in (self.headers.get("Accept-Encoding") or "")
        if zipped:
            body = gzip.compress(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if zipped:
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def gzipped() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Gzipped)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_gzip_body_is_decoded(gzipped: str) -> None:
    gateway = StripeGateway("sk_test_gzip", gzipped)
    pages = [list(gateway.pages("customer", "acct_1", {})) for _ in range(3)]  # pooled, reused
    assert pages == [[([{"id": "cus_z", "object": "customer"}], False)]] * 3
