"""The HubSpot double as a WSGI app: portals, authentication, rate limits, faults and routing.

It is reached through the real ``hubspot-api-client`` (``HubSpot(access_token=..., host=base_url)``)
and answers with HubSpot's status codes, JSON error bodies and ``X-HubSpot-RateLimit-*`` headers.
Each simulated behaviour names the public HubSpot documentation behind it in its own module
(``limits``: rate limits; ``objects``: batch upsert, 409 and 207 bodies; ``links``: association
type ids; ``rules``: date, number and enumeration values; ``properties``; ``pipelines``;
``oauth``), and marks there what the documentation does not confirm. Where the client's
generated models constrain a field (batch statuses, association categories, property types,
search operators, the error entries of a 207), tests/test_hubspot_double_models.py holds the
double to those models. The 401 body for a missing token mirrors HubSpot's answer as seen on the
wire (https://developers.hubspot.com/docs/api/error-handling lists 401; the text is not
documented).
"""

import base64
import hashlib
import hmac
import json
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlencode

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.wrappers import Request, Response

from doubles.hubspot.limits import Fault, Faults, RateLimiter, rate_limited
from doubles.hubspot.links import associated_ids
from doubles.hubspot.oauth import OAuth
from doubles.hubspot.objects import ObjectsApi
from doubles.hubspot.routes import OAUTH_ENDPOINTS, ROUTES, dispatch_crm
from doubles.hubspot.store import Portal
from doubles.hubspot.wire import HubSpotError, canonical_type, correlation_id, error
from doubles.server import Served, ServerThread

_AUTH_MISSING = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can "
    "find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)
Reply = tuple[int, Any]


class HubSpotDouble(Served):
    def __init__(
        self,
        rate_limit: int = 100,
        window_ms: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        daily_limit: int = 250_000,
        search_limit: int = 5,
    ) -> None:
        self._wall_clock = wall_clock
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._portals: dict[int, Portal] = {}
        self._tokens: dict[str, int] = {}
        self._oauth = OAuth(wall_clock)
        self._limits = RateLimiter(rate_limit, window_ms, clock, wall_clock, daily_limit)
        self._search_limits = RateLimiter(search_limit, 1000, clock, wall_clock, policy="SECONDLY")
        self._faults = Faults()
        self._server: ServerThread | None = None
        self.requests: list[dict[str, Any]] = []
        self.base_url = ""

    # -- helpers for tests -----------------------------------------------------------------

    def add_portal(self, portal_id: int | None = None, token: str | None = None) -> tuple[int, str]:
        """Register a portal (or one more private-app token for an existing one)."""
        with self._lock:
            while portal_id is None or (portal_id in self._portals and token is None):
                portal_id = random.randint(10_000_000, 99_999_999)
            if portal_id not in self._portals:
                self._portals[portal_id] = Portal(portal_id, self._wall_clock())
            token = token or f"pat-na1-{uuid.uuid4()}"
            self._tokens[token] = portal_id
            return portal_id, token

    def records(self, portal_id: int, object_type: str) -> list[dict[str, Any]]:
        """Every record, archived ones included (see their ``archived`` flag), oldest first."""
        with self._lock:
            store = self._portal(portal_id).records[canonical_type(object_type)]
            return [r.json() for r in sorted(store.values(), key=lambda r: int(r.id))]

    def record_by(
        self, portal_id: int, object_type: str, prop: str, value: Any
    ) -> dict[str, Any] | None:
        """The live record whose ``prop`` is ``value`` (emails compare as HubSpot stores them)."""
        with self._lock:
            portal = self._portal(portal_id)
            found = ObjectsApi(portal, canonical_type(object_type), self._wall_clock()).find(
                prop, value
            )
            return found.json() if found else None

    def property_names(self, portal_id: int, object_type: str) -> list[str]:
        with self._lock:
            return list(self._portal(portal_id).schemas[canonical_type(object_type)].properties)

    def groups(self, portal_id: int, object_type: str) -> list[str]:
        with self._lock:
            return list(self._portal(portal_id).schemas[canonical_type(object_type)].groups)

    def pipelines(self, portal_id: int, object_type: str) -> list[dict[str, Any]]:
        """The pipelines of ``object_type`` as the Pipelines API answers them."""
        with self._lock:
            _, body = self._portal(portal_id).pipelines.get_all(canonical_type(object_type))
            return list(body["results"])

    def add_pipeline(
        self,
        portal_id: int,
        object_type: str,
        label: str,
        stages: list[str],
        metadata: dict[str, dict[str, str]] | None = None,
    ) -> tuple[str, dict[str, str]]:
        """Create a pipeline with stages of these labels (in this order): its id and each stage's
        id by label. Deal stages get ``metadata[label]`` or a probability of 0.5."""
        with self._lock:
            portal = self._portal(portal_id)
            specs = [(s, dict((metadata or {}).get(s, {}))) for s in stages]
            pipeline = portal.pipelines.add(
                canonical_type(object_type), label, specs, self._wall_clock()
            )
            return pipeline.id, {s.label: s.id for s in pipeline.stages}

    def associations(self, portal_id: int, from_type: str, from_id: str, to_type: str) -> list[str]:
        """The ids of the live ``to_type`` records associated with a live record, in id order."""
        with self._lock:
            end = (canonical_type(from_type), str(from_id))
            return associated_ids(self._portal(portal_id), end, canonical_type(to_type))

    def fault(
        self,
        kind: str,
        count: int | None = 1,
        status: int = 503,
        seconds: float = 0.0,
        path_contains: str | None = None,
        portal: int | None = None,
        share: float = 1.0,
    ) -> None:
        """Misbehave on matching requests: ``status`` answers that status with HubSpot's error
        body, ``timeout`` answers only after ``seconds``, ``latency`` adds ``seconds``. With
        ``share`` below 1, only that share of the matching requests, drawn at random."""
        with self._lock:
            self._faults.add(Fault(kind, count, status, seconds, path_contains, portal, share))

    def set_rate_limit(self, rate_limit: int, window_ms: int = 10_000) -> None:
        """A new rolling limit from now on (a test sets a portal up fast, then tightens it)."""
        with self._lock:
            limits = self._limits
            self._limits = RateLimiter(
                rate_limit, window_ms, limits._clock, limits._wall_clock, limits.daily_limit
            )

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def register_oauth_app(self, client_id: str, client_secret: str, redirect_uri: str) -> None:
        with self._lock:
            self._oauth.register_app(client_id, client_secret, redirect_uri)

    def issue_code(self, portal_id: int, client_id: str, scopes: list[str]) -> str:
        with self._lock:
            self._portal(portal_id)
            return self._oauth.issue_code(portal_id, client_id, scopes)

    def revoke(self, refresh_token: str) -> None:
        with self._lock:
            self._oauth.revoke(refresh_token)

    def reset_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    def token_requests(self) -> int:
        """How many calls reached ``POST /oauth/v1/token`` (code exchanges and refreshes)."""
        with self._lock:
            return sum(1 for r in self.requests if r["path"] == "/oauth/v1/token")

    def uninstall(self, portal_id: int, client_id: str) -> None:
        """The portal uninstalls the app: every refresh token of that install stops working."""
        with self._lock:
            self._oauth.uninstall(portal_id, client_id)

    def uninstall_webhook(
        self, portal_id: int, client_id: str, client_secret: str, uri: str
    ) -> tuple[bytes, dict[str, str]]:
        """Uninstall the app from the portal and return the app webhook HubSpot then sends to
        ``uri``: its body and its v3 signature headers (POST it to the app's endpoint)."""
        self.uninstall(portal_id, client_id)
        event = {
            "eventId": random.randint(1, 2**31),
            "subscriptionType": "app.uninstalled",
            "portalId": portal_id,
            "appId": 0,
            "occurredAt": int(self._wall_clock() * 1000),
            "attemptNumber": 0,
        }
        body = json.dumps([event]).encode()
        timestamp = str(int(self._wall_clock() * 1000))
        message = b"POST" + uri.encode() + body + timestamp.encode()
        digest = hmac.new(client_secret.encode(), message, hashlib.sha256).digest()
        headers = {
            "X-HubSpot-Signature-v3": base64.b64encode(digest).decode(),
            "X-HubSpot-Request-Timestamp": timestamp,
            "Content-Type": "application/json",
        }
        return body, headers

    def _authorize_page(self, request: Request) -> Response:
        """HubSpot's install page: consent is given at once and the browser sent back with a
        code for the portal named by ``portal_id`` (a double extension), or a new portal."""
        args = request.args
        redirect_uri, state = args.get("redirect_uri", ""), args.get("state", "")
        with self._lock:
            self.requests.append(
                {"method": "GET", "path": request.path, "portal": None, "status": 302}
            )
            if not self._oauth.redirect_ok(args.get("client_id", ""), redirect_uri):
                return Response("Invalid client_id or redirect_uri", status=400)
            if args.get("deny") == "1":
                back = {"error": "access_denied", "error_description": "The user cancelled"}
            else:
                portal_id = int(args["portal_id"]) if args.get("portal_id") else None
                if portal_id is None or portal_id not in self._portals:
                    portal_id, _ = self.add_portal(portal_id)
                scopes = args.get("scope", "").split()
                back = {"code": self._oauth.issue_code(portal_id, args["client_id"], scopes)}
        location = f"{redirect_uri}?{urlencode({**back, 'state': state})}"
        return Response("", status=302, headers={"Location": location})

    def _portal(self, portal_id: int) -> Portal:
        if portal_id not in self._portals:
            raise KeyError(f"unknown portal {portal_id}; add_portal() it first")
        return self._portals[portal_id]

    # -- HTTP ------------------------------------------------------------------------------

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        request = Request(environ)
        if request.path == "/oauth/authorize":
            return self._authorize_page(request)(environ, start_response)
        headers: dict[str, str] = {}
        portal: int | None = None
        delay = 0.0
        with self._lock:
            try:
                endpoint, args = ROUTES.bind("api.hubapi.com").match(request.path, request.method)
                portal, limit_key = self._authenticate(request, endpoint)
                outcome = self._faults.take(request.path, portal)
                delay = outcome.delay
                if outcome.status is not None:
                    raise self._fault_error(outcome.status, portal)
                headers = self._check_limits(endpoint, portal, limit_key)
                status, body = self._dispatch(endpoint, dict(args), request, portal)
            except HubSpotError as exc:
                status, body = exc.status, exc.body
                headers = {**headers, **exc.headers}
            except NotFound:
                status, body = 404, error(404, "Not Found", "OBJECT_NOT_FOUND").body
            except MethodNotAllowed:
                status, body = 405, error(405, "Method Not Allowed", "VALIDATION_ERROR").body
            self.requests.append(
                {
                    "method": request.method,
                    "path": request.path,
                    "portal": portal,
                    "status": status,
                    "at": self._wall_clock(),
                }
            )
        if delay:
            self._stopping.wait(delay)
        known = body.get("correlationId") if isinstance(body, dict) else None
        headers["X-HubSpot-Correlation-Id"] = str(known or correlation_id())
        if status == 204 or body is None:
            response = Response(status=status, headers=headers)
        else:
            response = Response(
                json.dumps(body, separators=(",", ":")),
                status=status,
                headers=headers,
                content_type="application/json;charset=utf-8",
            )
        return response(environ, start_response)

    def _authenticate(self, request: Request, endpoint: str) -> tuple[int | None, Any]:
        """The portal and rate-limit bucket of the caller; OAuth endpoints need no token."""
        if endpoint in OAUTH_ENDPOINTS:
            return None, None
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and token in self._tokens:
            portal = self._tokens[token]
            return portal, (portal, "private-app")
        access = self._oauth.authenticate(token) if scheme.lower() == "bearer" else None
        if access is None or access.grant.portal_id not in self._portals:
            raise error(401, _AUTH_MISSING, "INVALID_AUTHENTICATION")
        return access.grant.portal_id, (access.grant.portal_id, access.grant.client_id)

    def _check_limits(self, endpoint: str, portal: int | None, limit_key: Any) -> dict[str, str]:
        if portal is None:
            return {}
        group = f"publicapi:{limit_key[1]}:{portal}"
        if endpoint == "search":
            # The search API has its own per-second limit and sends no rate-limit headers.
            decision = self._search_limits.hit(portal)
            if not decision.allowed:
                raise rate_limited(decision.policy, group)
            return {}
        # OAuth calls have no daily limit, so HubSpot sends no daily headers for them either.
        decision = self._limits.hit(limit_key, daily=limit_key[1] == "private-app")
        if not decision.allowed:
            raise rate_limited(decision.policy, group, decision.headers)
        return decision.headers

    def _fault_error(self, status: int, portal: int | None) -> HubSpotError:
        if status == 429:
            headers = {
                "X-HubSpot-RateLimit-Max": str(self._limits.limit),
                "X-HubSpot-RateLimit-Remaining": "0",
                "X-HubSpot-RateLimit-Interval-Milliseconds": str(self._limits.window_ms),
            }
            return rate_limited("TEN_SECONDLY_ROLLING", f"publicapi:private-app:{portal}", headers)
        category = "INTERNAL_ERROR" if status >= 500 else "VALIDATION_ERROR"
        return error(status, f"Injected fault: HTTP {status}", category)

    def _dispatch(
        self, endpoint: str, args: dict[str, str], request: Request, portal: int | None
    ) -> Reply:
        if endpoint == "token":
            return self._oauth.token(request.form)
        if endpoint == "access_token":
            return self._oauth.access_token_info(args["token"])
        if endpoint == "refresh_token":
            if request.method == "DELETE":
                return self._oauth.delete_refresh_token(args["token"])
            return self._oauth.refresh_token_info(args["token"])
        assert portal is not None
        return dispatch_crm(self._portals[portal], endpoint, args, request, self._wall_clock())
