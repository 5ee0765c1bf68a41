"""Every call Omniroo makes to Stripe, and the one translation of Stripe's errors into ours.

Reads: the current state of one object of a connected account, or a list of them. The platform key
plus the ``Stripe-Account`` header reaches a connected account, so no Stripe token is ever stored.
Connect OAuth: the code exchange and ``deauthorize`` (https://docs.stripe.com/connect/oauth-reference),
on ``connect.stripe.com`` with the platform's client id. ``STRIPE_API_BASE`` and
``STRIPE_CONNECT_BASE`` point the real ``stripe`` library at a local double.
"""

import functools
import json
from collections.abc import Callable, Iterator
from typing import Any, Protocol

import stripe

from shared.errors import PermanentFailure, RemoteUnavailable
from shared.stripe_version import API_VERSION

# Stripe object kind -> its service on the client
SERVICES: dict[str, Callable[[stripe.StripeClient], Any]] = {
    "customer": lambda client: client.v1.customers,
    "subscription": lambda client: client.v1.subscriptions,
    "invoice": lambda client: client.v1.invoices,
    "charge": lambda client: client.v1.charges,
    "refund": lambda client: client.v1.refunds,
    "dispute": lambda client: client.v1.disputes,
    "credit_note": lambda client: client.v1.credit_notes,
    "coupon": lambda client: client.v1.coupons,
    "product": lambda client: client.v1.products,
    "price": lambda client: client.v1.prices,
    "checkout.session": lambda client: client.v1.checkout.sessions,
    "event": lambda client: client.v1.events,  # a dead letter's object (shared.repair.replay)
}
# Stripe object kind -> the path its list endpoint answers on
_PATHS: dict[str, str] = {
    "customer": "/v1/customers",
    "subscription": "/v1/subscriptions",
    "invoice": "/v1/invoices",
    "charge": "/v1/charges",
    "refund": "/v1/refunds",
    "dispute": "/v1/disputes",
    "credit_note": "/v1/credit_notes",
    "coupon": "/v1/coupons",
    "product": "/v1/products",
    "price": "/v1/prices",
    "checkout.session": "/v1/checkout/sessions",
    "event": "/v1/events",  # List Events, for reconcile (shared.repair.undelivered)
}
Page = list[dict[str, Any]]  # one page of a list, as plain JSON objects
# Read only to complete another kind, never an event's: a subscription item discount's coupon,
# which no expansion of a subscription list reaches (Stripe expands four levels at most).
COMPLETING = ("coupon",)
# Read by repair, never synced: the event a dead letter names (shared.repair.replay).
REPAIRING = ("event",)
MAX_PAGES = 20  # 2,000 objects of one kind for one customer: beyond that, say so rather than hang


class StripeReads(Protocol):
    """What the collectors read Stripe through: ``StripeGateway``, or a drain round's
    ``shared.drain.snapshot.Snapshot`` that answers from list pages."""

    def fetch(
        self, object_type: str, object_id: str, account: str, expand: tuple[str, ...] = ()
    ) -> dict[str, Any]: ...

    def list(
        self, object_type: str, account: str, params: dict[str, Any], pages: int = MAX_PAGES
    ) -> list[dict[str, Any]]: ...


def _read(stream: Any) -> bytes:
    """A streamed answer's whole body, decompressed (``stripe.RequestsClient`` streams urllib3's
    raw response, which leaves a gzip body as sent), its connection back to the pool."""
    try:
        body: bytes = stream.read(decode_content=True)
        return body
    finally:
        stream.release_conn()


class StripeGateway:
    def __init__(
        self,
        api_key: str,
        api_base: str | None = None,
        timeout: float = 10.0,
        max_network_retries: int = 1,
        client_id: str = "",
        connect_base: str | None = None,
    ) -> None:
        bases = {"api": api_base, "connect": connect_base}
        self._client = stripe.StripeClient(
            api_key,
            stripe_version=API_VERSION,
            client_id=client_id or None,
            base_addresses={k: v for k, v in bases.items() if v},  # type: ignore[arg-type]
            http_client=stripe.RequestsClient(timeout=timeout),
            max_network_retries=max_network_retries,
        )
        self.calls = 0

    def fetch(
        self, object_type: str, object_id: str, account: str, expand: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        """The object as Stripe has it now (a deleted customer comes back as ``deleted: true``)."""
        service = self._service(object_type)
        params = {"expand": list(expand)} if expand else None
        found = self._call(
            lambda: service.retrieve(object_id, params, options={"stripe_account": account})
        )
        result: dict[str, Any] = found.to_dict()
        return result

    def list(
        self, object_type: str, account: str, params: dict[str, Any], pages: int = MAX_PAGES
    ) -> list[dict[str, Any]]:
        """Every object matching ``params`` (newest first), following Stripe's pagination for at
        most ``pages`` pages; past ``MAX_PAGES`` it refuses rather than truncate silently."""
        service = self._service(object_type)
        out: list[dict[str, Any]] = []
        query = {"limit": 100, **params}
        options = {"stripe_account": account}
        for _ in range(pages):
            page = self._call(functools.partial(service.list, query, options=options))
            out += [item.to_dict() for item in page.data]
            if not page.has_more or not page.data or pages < MAX_PAGES:
                return out
            query = {**query, "starting_after": page.data[-1].id}
        raise PermanentFailure(f"stripe_too_many_{object_type}")

    def pages(
        self, object_type: str, account: str, params: dict[str, Any]
    ) -> Iterator[tuple[Page, bool]]:
        """A whole list, page by page of 100 (newest first): each page's objects and whether
        more follow. Pages are read as plain JSON: building the library's objects for a page of
        subscriptions took longer than the call, and its ``raw_request`` parses every answer into
        OrderedDicts (a third of the drainer's time in a backfill; held by a round, 676 MB
        instead of 385 MB). So the body is streamed through the client's requestor — the same
        request, retries and error translation — and parsed once, here."""
        path = _PATHS.get(object_type)
        if path is None:
            raise PermanentFailure(f"unsupported_object_{object_type}")
        query = {"limit": 100, **params}
        while True:
            request = functools.partial(
                # private: raw_request has no twin that leaves the body unparsed
                self._client._requestor.request_stream,
                "get",
                path,
                query,
                {"stripe_account": account},
                base_address="api",
                usage=["raw_request"],
            )
            page = json.loads(_read(self._call(request).io))
            data: Page = page.get("data") or []
            more = bool(page.get("has_more")) and bool(data)
            yield data, more
            if not more:
                return
            query = {**query, "starting_after": data[-1]["id"]}

    def connect(self, code: str) -> tuple[str, bool]:
        """Trade a Connect OAuth code for the connected account's id and mode. Stripe's tokens in
        the answer are dropped: the platform key reaches the account."""
        answer = self._call(
            lambda: self._client.oauth.token({"grant_type": "authorization_code", "code": code})
        )
        return str(answer["stripe_user_id"]), bool(answer["livemode"])

    def deauthorize(self, account: str) -> None:
        """Disconnect the platform from ``account`` at Stripe (it then sends
        ``account.application.deauthorized``)."""
        self._call(lambda: self._client.oauth.deauthorize({"stripe_user_id": account}))

    def _service(self, object_type: str) -> Any:
        service = SERVICES.get(object_type)
        if service is None:
            raise PermanentFailure(f"unsupported_object_{object_type}")
        return service(self._client)

    def _call(self, fn: Callable[[], Any]) -> Any:
        self.calls += 1
        try:
            return fn()
        except stripe.oauth_error.OAuthError as exc:
            # A code or a connection Stripe refuses (invalid_grant, invalid_client, ...).
            raise PermanentFailure(f"stripe_oauth_{exc.code or 'error'}", exc.http_status) from exc
        except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
            raise RemoteUnavailable("stripe_unreachable") from exc
        except stripe.AuthenticationError as exc:
            # Our platform key is wrong: every event fails until an operator fixes it, so
            # keep the events (redelivery, then dead letters to replay) rather than drop them.
            raise RemoteUnavailable("stripe_authentication") from exc
        except stripe.PermissionError as exc:
            raise PermanentFailure("stripe_account_access", exc.http_status) from exc
        except stripe.InvalidRequestError as exc:
            if exc.http_status == 403:
                raise PermanentFailure("stripe_account_access", 403) from exc
            code = exc.code or "invalid_request"
            raise PermanentFailure(f"stripe_{code}", exc.http_status) from exc
        except stripe.StripeError as exc:
            raise RemoteUnavailable(f"stripe_{exc.http_status or 'error'}") from exc
