"""HubSpot's OAuth v1 token endpoints, through ``hubspot-api-client``: exchange a code, refresh,
read a token's portal, delete a refresh token.

Errors come out typed: ``TokenRevoked`` when HubSpot refuses a code or refresh token for good
(``BAD_REFRESH_TOKEN``, ``BAD_AUTH_CODE``, ``invalid_grant``), ``RemoteUnavailable`` for 429, 5xx
and network failures, ``PermanentFailure`` for anything else it refuses.
"""

import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import urllib3

from shared import logs
from shared.errors import PermanentFailure, RemoteUnavailable
from shared.store.base import Doc, Store

# HubSpot's answers for a grant that is gone (uninstalled, revoked, rotated) or a bad code.
_DEAD_GRANT = frozenset({"BAD_REFRESH_TOKEN", "BAD_AUTH_CODE", "invalid_grant"})


class TokenRevoked(PermanentFailure):
    """HubSpot no longer honours this grant: the user must connect again."""

    def __init__(self) -> None:
        super().__init__("hubspot_reconnect_needed", 400)


@dataclass(frozen=True)
class Grant:
    access_token: str
    refresh_token: str
    expires_in: int


class HubSpotOAuthClient:
    def __init__(
        self, client_id: str, client_secret: str, host: str | None = None, timeout: float = 10.0
    ) -> None:
        self._client_id = client_id
        self._client_secret = client_secret
        self._host = host
        self._timeout = (3.05, timeout)

    @cached_property
    def _api(self) -> Any:
        # hubspot-api-client loads ~200 modules: only on first use, so a function that holds this
        # client without calling it (the Stripe OAuth callback) does not pay for them cold.
        from hubspot import HubSpot

        return HubSpot(host=self._host) if self._host else HubSpot()

    def exchange(self, code: str, redirect_uri: str) -> Grant:
        return self._grant(grant_type="authorization_code", code=code, redirect_uri=redirect_uri)

    def refresh(self, refresh_token: str) -> Grant:
        return self._grant(grant_type="refresh_token", refresh_token=refresh_token)

    def portal_id(self, access_token: str) -> str:
        info = self._call(self._api.oauth.access_tokens_api.get, access_token)
        return str(_field(info, "hub_id"))

    def delete_refresh_token(self, refresh_token: str) -> None:
        """Revoke at HubSpot; a token HubSpot no longer knows counts as deleted."""
        try:
            self._call(self._api.oauth.refresh_tokens_api.archive, refresh_token)
        except PermanentFailure as exc:
            if exc.status not in (400, 404):
                raise

    def _grant(self, **params: str) -> Grant:
        answer = self._call(
            self._api.oauth.tokens_api.create,
            client_id=self._client_id,
            client_secret=self._client_secret,
            **params,
        )
        return Grant(
            str(_field(answer, "access_token")),
            str(_field(answer, "refresh_token")),
            int(_field(answer, "expires_in")),
        )

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        from hubspot.oauth import ApiException

        try:
            return fn(*args, **kwargs, _request_timeout=self._timeout)
        except urllib3.exceptions.HTTPError as exc:
            raise RemoteUnavailable("hubspot_unreachable") from exc
        except ApiException as exc:
            status = int(exc.status or 0)
            body = _body(exc.body)
            if status == 429 or status >= 500 or status == 0:
                raise RemoteUnavailable(f"hubspot_oauth_{status or 'error'}") from None
            if {body.get("status"), body.get("error")} & _DEAD_GRANT:
                raise TokenRevoked() from None
            raise PermanentFailure(f"hubspot_oauth_{status}", status) from None


def _field(obj: Any, name: str) -> Any:
    return obj[name] if isinstance(obj, dict) else getattr(obj, name)


def _body(raw: Any) -> dict[str, Any]:
    try:
        body = json.loads(raw or "{}")
    except (TypeError, ValueError):
        return {}
    return body if isinstance(body, dict) else {}


def mark_reconnect(store: Store, project_id: str, status: str = "reconnect") -> None:
    """HubSpot refused the project's grant for good (a refresh answered ``invalid_grant``): stop
    syncing it until the user connects again, and alert. (An uninstall that HubSpot's app webhook
    announces ends the connection through ``shared.connections.cut``.)"""

    def mark(doc: Doc | None) -> Doc | None:
        if doc is None or doc.get("hubspot_status") == status:
            return None
        return {**doc, "hubspot_status": status}

    store.update("projects", project_id, mark)
    logs.alert("token refresh failed", project_id=project_id, hubspot_status=status)
