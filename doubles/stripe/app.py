"""A local, stateful stand-in for the Stripe API, reached through the real ``stripe`` library.

It speaks Stripe's wire format (form bodies, JSON error bodies, status codes, ``Request-Id`` and
idempotency headers) for customers, events, webhook endpoints and billing (products, prices,
coupons, discounts, subscriptions, invoices, invoice payments, credit notes, charges, refunds,
disputes, checkout sessions), scoped per Connect account by the ``Stripe-Account`` header, with
``expand[]``. It speaks one API version, ``2026-10-28.endive`` (``wire.API_VERSION``), the one the
pinned ``stripe`` library sends: every object has exactly the fields of that version's resource
types in stripe-python (tests/contract/test_stripe_double_shapes.py holds it to them), and a request
asking for another ``Stripe-Version`` is refused (400) instead of answered in the wrong shapes.
Tests, the demo sandbox and benchmarks drive it over HTTP; test code may also act directly
(``doubles.stripe.billing`` lists the helpers), which records the same events an API call would,
and move time forward with ``advance``.
"""

import base64
import copy
import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from doubles.server import Served, ServerThread
from doubles.stripe.api import Account, Call, StripeApi
from doubles.stripe.billing import BillingHelpers, billing_rules
from doubles.stripe.connect import PREFIX as CONNECT_PREFIX
from doubles.stripe.connect import ConnectOAuth
from doubles.stripe.expand import expand
from doubles.stripe.wire import (
    API_VERSION,
    StripeError,
    copied,
    decode_form,
    mask_key,
    random_id,
)

_NO_KEY = (
    "You did not provide an API key. You need to provide your API key in the Authorization "
    "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See "
    "https://stripe.com/docs/api#authentication for details, or we can help at "
    "https://support.stripe.com/."
)
_RATE_LIMITED = (
    "Too many requests hit the API too quickly. We recommend an exponential backoff of your "
    "requests."
)

_ROUTES = Map(
    [
        Rule("/v1/customers", methods=["GET"], endpoint="list_customers"),
        Rule("/v1/customers", methods=["POST"], endpoint="create_customer"),
        Rule("/v1/customers/<object_id>", methods=["GET"], endpoint="get_customer"),
        Rule("/v1/customers/<object_id>", methods=["POST"], endpoint="update_customer"),
        Rule("/v1/customers/<object_id>", methods=["DELETE"], endpoint="delete_customer"),
        Rule(
            "/v1/customers/<object_id>/discount",
            methods=["DELETE"],
            endpoint="delete_customer_discount",
        ),
        Rule("/v1/events", methods=["GET"], endpoint="list_events"),
        Rule("/v1/events/<object_id>", methods=["GET"], endpoint="get_event"),
        Rule("/v1/webhook_endpoints", methods=["GET"], endpoint="list_endpoints"),
        Rule("/v1/webhook_endpoints", methods=["POST"], endpoint="create_endpoint"),
        Rule("/v1/webhook_endpoints/<object_id>", methods=["GET"], endpoint="get_endpoint"),
        Rule("/v1/webhook_endpoints/<object_id>", methods=["POST"], endpoint="update_endpoint"),
        Rule("/v1/webhook_endpoints/<object_id>", methods=["DELETE"], endpoint="delete_endpoint"),
        *billing_rules(),
    ]
)


@dataclass(frozen=True)
class _Saved:
    fingerprint: str
    status: int
    body: bytes
    request_id: str


class StripeDouble(BillingHelpers, Served):
    def __init__(
        self, platform_key: str = "sk_test_omniroo", clock: Callable[[], float] = time.time
    ) -> None:
        self.platform_key = platform_key
        self._clock = clock
        self._lock = threading.RLock()
        self._platform = Account(None, platform_key.startswith(("sk_live_", "rk_live_")))
        self._accounts: dict[str, Account] = {}
        self._offset = 0.0  # how far ``advance`` moved the double past the injected clock
        self._api = StripeApi(lambda: self._clock() + self._offset)
        self._failures: list[int] = []
        self._caught_up: tuple[int, int] | None = None
        self._held_still = 0
        self._stopping = threading.Event()
        self._server: ServerThread | None = None
        self.requests: list[dict[str, Any]] = []
        self.latency = 0.0
        self.base_url = ""
        self.connect = ConnectOAuth(self.add_account, self._emit_for)

    @property
    def connect_base(self) -> str:
        """What ``STRIPE_CONNECT_BASE`` should be: this server's Connect OAuth pages."""
        return f"{self.base_url}/connect"

    # -- helpers for tests -----------------------------------------------------------------

    def add_account(self, account_id: str | None = None, livemode: bool = False) -> str:
        account_id = account_id or random_id("acct_", 16)
        with self._lock:
            self._accounts.setdefault(account_id, Account(account_id, livemode))
        return account_id

    def deauthorize(self, account: str) -> None:
        """The account's owner disconnects the platform from their Stripe Dashboard."""
        with self._lock:
            self.connect.deauthorized(account)

    def _emit_for(self, account: str, type_: str, obj: dict[str, Any]) -> None:
        with self._lock:
            call = Call(self._known(account), {}, (random_id("req_", 14), None))
            self._api._emit(call, type_, obj)

    def create_customer(self, account: str | None, **fields: Any) -> dict[str, Any]:
        with self._lock:
            call = Call(self._known(account), fields, (random_id("req_", 14), None))
            return self._api.create_customer(call)

    def update_customer(
        self, account: str | None, customer_id: str, **fields: Any
    ) -> dict[str, Any]:
        with self._lock:
            call = Call(self._known(account), fields, (random_id("req_", 14), None))
            return self._api.update_customer(call, customer_id)

    def delete_customer(self, account: str | None, customer_id: str) -> dict[str, Any]:
        with self._lock:
            call = Call(self._known(account), {}, (random_id("req_", 14), None))
            return self._api.delete_customer(call, customer_id)

    def events(self, account: str | None = None) -> list[dict[str, Any]]:
        """Every event of the account, oldest first."""
        with self._lock:
            events: list[dict[str, Any]] = copied(self._known(account).events)
            return events

    def record_delivery(self, account: str | None, event_id: str, status: int) -> None:
        """What a webhook endpoint answered to one delivery of the event (the sandbox's
        forwarder reports each one): a 2xx clears its pending webhook, as Stripe's would."""
        with self._lock:
            self._api.record_delivery(self._known(account), event_id, status)

    def webhook_endpoints(self, account: str | None = None) -> list[dict[str, Any]]:
        """Endpoints with what the API hides after creation: their ``secret`` and ``connect``."""
        with self._lock:
            known = self._known(account)
            return [
                {**copy.deepcopy(e), **known.endpoint_private[e["id"]]}
                for e in known.endpoints.values()
            ]

    @contextmanager
    def held_still(self) -> Iterator[None]:
        """Build an account in bulk (a bench's thousands of subscriptions) without Stripe's own
        steps running between each call: they catch up, in time order, once the block ends."""
        with self._lock:
            self._held_still += 1
        try:
            yield
        finally:
            with self._lock:
                self._held_still -= 1
                self._catch_up()

    def fail_next(self, n: int = 1, status: int = 500) -> None:
        with self._lock:
            self._failures.extend([status] * n)

    def reset_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    def _catch_up(self) -> None:
        """Let every account's subscriptions and invoices do what fell due by now.

        A scan reads every subscription and invoice, so it is skipped when nothing can have
        fallen due since the last one: same second of the double's clock, no event since.
        """
        accounts = [self._platform, *self._accounts.values()]
        mark = (int(self._api._now()), sum(len(a.events) for a in accounts))
        if mark == self._caught_up or self._held_still:
            return
        self._api.catch_up(accounts)
        self._caught_up = (int(self._api._now()), sum(len(a.events) for a in accounts))

    def _known(self, account: str | None) -> Account:
        if account is None:
            return self._platform
        if account not in self._accounts:
            raise KeyError(f"unknown Stripe account {account!r}; add_account() it first")
        return self._accounts[account]

    # -- HTTP ------------------------------------------------------------------------------

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        request = Request(environ)
        if request.path.startswith(CONNECT_PREFIX):
            return self._connect(request)(environ, start_response)
        account_id = request.headers.get("Stripe-Account") or None
        request_id = random_id("req_", 14)
        key = request.headers.get("Idempotency-Key") if request.method == "POST" else None
        asked = request.headers.get("Stripe-Version")
        headers: dict[str, str]
        if asked and asked != API_VERSION:
            # Stripe would render the objects in the version asked for; the double knows only
            # its own, so it refuses rather than answer in shapes the caller did not ask for.
            status, body, headers = 400, _dump(_other_version(asked)), {}
        else:
            status, body, headers = self._process(request, account_id, request_id, key)
        headers["Request-Id"] = request_id
        headers["Stripe-Version"] = request.headers.get("Stripe-Version") or API_VERSION
        if key:
            headers["Idempotency-Key"] = key
        if self.latency:
            self._stopping.wait(self.latency)
        with self._lock:
            entry = {"method": request.method, "path": request.path, "account": account_id}
            version = request.headers.get("Stripe-Version")
            self.requests.append({**entry, "status": status, "version": version})
        response = Response(body, status=status, headers=headers, content_type="application/json")
        return response(environ, start_response)

    def _process(
        self, request: Request, account_id: str | None, request_id: str, key: str | None
    ) -> tuple[int, bytes, dict[str, str]]:
        with self._lock:
            if self._failures:
                status = self._failures.pop(0)
                return status, _dump(_fault(status)), {}
            fingerprint = ""  # set once the request is known to reach a handler
            try:
                self._authenticate(request)
                account = self._connected(account_id)
                endpoint, args = _ROUTES.bind("api.stripe.com").match(request.path, request.method)
                source = request.form if request.method == "POST" else request.args
                params = decode_form(source.items(multi=True))
                fingerprint = json.dumps([request.method, request.path, params], sort_keys=True)
                if key and key in account.saved:
                    return self._replay(account.saved[key], fingerprint, key)
                self._catch_up()
                call = Call(account, params, (request_id, key))
                result = getattr(self._api, endpoint)(call, *args.values())
                body = _dump(_expanded(account, result, params.get("expand")))
            except StripeError as exc:
                headers = {"Www-Authenticate": 'Bearer realm="Stripe"'} if exc.status == 401 else {}
                if key and exc.status == 402 and fingerprint:
                    # A declined payment ran (a failed charge exists): Stripe stores its result,
                    # so a retry with the same key replays the decline instead of charging again.
                    account.saved[key] = _Saved(fingerprint, 402, _dump(exc.body()), request_id)
                return exc.status, _dump(exc.body()), headers
            except (NotFound, MethodNotAllowed):
                message = (
                    f"Unrecognized request URL ({request.method}: {request.path}). Please see "
                    "https://stripe.com/docs or we can help at https://support.stripe.com/."
                )
                unknown = {"error": {"message": message, "type": "invalid_request_error"}}
                return 404, _dump(unknown), {}
            if key:
                account.saved[key] = _Saved(fingerprint, 200, body, request_id)
            return 200, body, {}

    def _connect(self, request: Request) -> Response:
        action = request.path.removeprefix(CONNECT_PREFIX)
        with self._lock:
            self.requests.append({"method": request.method, "path": request.path, "account": None})
            if action == "authorize" and request.method == "GET":
                status, page, headers = self.connect.authorize(request.args.to_dict())
                return Response(page, status=status, headers=headers, content_type="text/html")
            if request.method != "POST" or action not in ("token", "deauthorize"):
                return Response(_dump({"error": "invalid_request"}), status=404)
            try:
                self._authenticate(request)
            except StripeError as exc:
                return Response(
                    _dump(exc.body()), status=exc.status, content_type="application/json"
                )
            form = request.form.to_dict()
            if action == "token":
                status, body = self.connect.token(form)
            else:
                status, body = self.connect.deauthorize(form)
        return Response(_dump(body), status=status, content_type="application/json")

    @staticmethod
    def _replay(saved: _Saved, fingerprint: str, key: str) -> tuple[int, bytes, dict[str, str]]:
        if saved.fingerprint != fingerprint:
            message = (
                "Keys for idempotent requests can only be used with the same parameters they were "
                f"first used with. Try using a key other than '{key}' if you meant to execute a "
                "different request."
            )
            return 400, _dump({"error": {"message": message, "type": "idempotency_error"}}), {}
        headers = {"Idempotent-Replayed": "true", "Original-Request": saved.request_id}
        return saved.status, saved.body, headers

    def _authenticate(self, request: Request) -> None:
        scheme, _, credential = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "basic":
            try:
                credential = base64.b64decode(credential).decode().partition(":")[0]
            except ValueError:
                credential = ""
        if not credential:
            raise StripeError(401, {"message": _NO_KEY, "type": "invalid_request_error"})
        if credential != self.platform_key:
            message = f"Invalid API Key provided: {mask_key(credential)}"
            raise StripeError(401, {"message": message, "type": "invalid_request_error"})

    def _connected(self, account_id: str | None) -> Account:
        if account_id is None:
            return self._platform
        if account_id not in self._accounts:
            message = (
                f"The provided key '{mask_key(self.platform_key)}' does not have access to "
                f"account '{account_id}' (or that account does not exist). Application access "
                "may have been revoked."
            )
            raise StripeError(
                403,
                {
                    "code": "account_invalid",
                    "doc_url": "https://stripe.com/docs/error-codes/account-invalid",
                    "message": message,
                    "type": "invalid_request_error",
                },
            )
        return self._accounts[account_id]


def _expanded(account: Account, result: dict[str, Any], paths: Any) -> dict[str, Any]:
    if not paths or result.get("deleted"):
        return result
    if result.get("object") == "list":
        kind = result["data"][0]["object"] if result["data"] else ""
        return expand(account, kind, result, paths, listing=True)
    return expand(account, str(result.get("object")), result, paths)


def _other_version(asked: str) -> dict[str, Any]:
    message = (
        f"This Stripe double speaks only API version {API_VERSION}; the request asked for "
        f"Stripe-Version {asked}."
    )
    return {"error": {"message": message, "type": "invalid_request_error"}}


def _fault(status: int) -> dict[str, Any]:
    if status == 429:
        return {
            "error": {
                "code": "rate_limit",
                "doc_url": "https://stripe.com/docs/error-codes/rate-limit",
                "message": _RATE_LIMITED,
                "type": "invalid_request_error",
            }
        }
    if status >= 500:
        return {"error": {"message": "An unknown error occurred", "type": "api_error"}}
    message = f"Request failed with status {status}"
    return {"error": {"message": message, "type": "invalid_request_error"}}


def _dump(body: Any) -> bytes:
    # Compact: indentation is not part of the contract, and only then does json use its C encoder
    # (pretty-printing a page of 100 expanded objects took most of a request's time).
    return json.dumps(body, separators=(",", ":")).encode()
