"""HubSpot OAuth v1 for the HubSpot double: codes, access and refresh tokens, and their info.

Access tokens expire ``expires_in`` seconds after issue by the double's wall clock. Kept compact on
purpose; the install flow is extended elsewhere.

Backed by HubSpot's OAuth guides (https://developers.hubspot.com/docs/api/oauth-quickstart-guide,
https://developers.hubspot.com/docs/api/oauth/tokens): the code and refresh grants of
``/oauth/v1/token``, access tokens of 30 minutes (``expires_in`` 1800), token info at
``/oauth/v1/access-tokens/{token}`` and ``/oauth/v1/refresh-tokens/{token}``, and deleting a
refresh token. Not confirmed: the exact body of a refused refresh (``BAD_REFRESH_TOKEN``), taken
from HubSpot's answers.
"""

import secrets
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from doubles.hubspot.wire import HubSpotError, correlation_id, error

EXPIRES_IN = 1800


@dataclass
class _App:
    client_id: str
    client_secret: str
    redirect_uri: str
    app_id: int


@dataclass
class _Grant:
    """One installation: what a refresh token stands for."""

    portal_id: int
    client_id: str
    scopes: list[str]
    refresh_token: str
    user_id: int = field(default_factory=lambda: secrets.randbelow(9_000_000) + 1_000_000)


@dataclass
class _Access:
    token: str
    grant: _Grant
    expires_at: float


def _refused(status: str, message: str) -> HubSpotError:
    body = {"status": status, "message": message, "correlationId": correlation_id()}
    return HubSpotError(400, body)


class OAuth:
    def __init__(self, wall_clock: Callable[[], float]) -> None:
        self._clock = wall_clock
        self._apps: dict[str, _App] = {}
        self._codes: dict[str, _Grant] = {}
        self._refresh: dict[str, _Grant] = {}
        self._access: dict[str, _Access] = {}

    def register_app(self, client_id: str, client_secret: str, redirect_uri: str) -> None:
        app_id = secrets.randbelow(900_000) + 100_000
        self._apps[client_id] = _App(client_id, client_secret, redirect_uri, app_id)

    def issue_code(self, portal_id: int, client_id: str, scopes: list[str]) -> str:
        if client_id not in self._apps:
            raise KeyError(f"unknown OAuth app {client_id!r}; register_oauth_app() it first")
        code = str(uuid.uuid4())
        self._codes[code] = _Grant(portal_id, client_id, list(scopes), "")
        return code

    def redirect_ok(self, client_id: str, redirect_uri: str) -> bool:
        app = self._apps.get(client_id)
        return app is not None and app.redirect_uri == redirect_uri

    def uninstall(self, portal_id: int, client_id: str) -> None:
        for token, grant in list(self._refresh.items()):
            if grant.portal_id == portal_id and grant.client_id == client_id:
                self.revoke(token)

    def revoke(self, refresh_token: str) -> None:
        """The app is uninstalled: the refresh token and its access tokens stop working."""
        self._refresh.pop(refresh_token, None)
        self._access = {
            t: a for t, a in self._access.items() if a.grant.refresh_token != refresh_token
        }

    def authenticate(self, token: str) -> _Access | None:
        """The live access token, None if unknown; raises 401 when it has expired."""
        access = self._access.get(token)
        if access is None:
            return None
        late = self._clock() - access.expires_at
        if late >= 0:
            raise error(
                401,
                f"The OAuth token used to make this call expired {int(late)} second(s) ago.",
                "EXPIRED_AUTHENTICATION",
            )
        return access

    # -- HTTP ------------------------------------------------------------------------------

    def token(self, form: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        grant_type = form.get("grant_type")
        app = self._apps.get(form.get("client_id", ""))
        if grant_type not in ("authorization_code", "refresh_token"):
            message = "grant_type must be one of authorization_code, refresh_token"
            raise _refused("BAD_GRANT_TYPE", message)
        if app is None:
            raise _refused("BAD_CLIENT_ID", "missing or unknown client id")
        if form.get("client_secret") != app.client_secret:
            raise _refused("BAD_CLIENT_SECRET", "missing or invalid client secret")
        if grant_type == "authorization_code":
            grant = self._codes.get(form.get("code", ""))
            if grant is None or grant.client_id != app.client_id:
                raise _refused("BAD_AUTH_CODE", "missing or unknown auth code")
            if form.get("redirect_uri") != app.redirect_uri:
                message = "redirect_uri does not match initial auth code URL"
                raise _refused("BAD_REDIRECT_URI", message)
            del self._codes[form["code"]]
            grant.refresh_token = f"na1-{secrets.token_hex(2)}-{uuid.uuid4()}"
            self._refresh[grant.refresh_token] = grant
        else:
            found = self._refresh.get(form.get("refresh_token", ""))
            if found is None or found.client_id != app.client_id:
                raise _refused("BAD_REFRESH_TOKEN", "missing or unknown refresh token")
            grant = found
        access = _Access("CN" + secrets.token_urlsafe(48), grant, self._clock() + EXPIRES_IN)
        self._access[access.token] = access
        return 200, {
            "token_type": "bearer",
            "refresh_token": grant.refresh_token,
            "access_token": access.token,
            "expires_in": EXPIRES_IN,
        }

    def access_token_info(self, token: str) -> tuple[int, dict[str, Any]]:
        access = self.authenticate(token)
        if access is None:
            raise error(404, "Token not found", "OBJECT_NOT_FOUND")
        grant = access.grant
        return 200, {
            "token": token,
            "user": f"user{grant.user_id}@example.com",
            "hub_domain": f"portal-{grant.portal_id}.example.com",
            "scopes": grant.scopes,
            "hub_id": grant.portal_id,
            "app_id": self._apps[grant.client_id].app_id,
            "expires_in": max(0, int(access.expires_at - self._clock())),
            "user_id": grant.user_id,
            "token_type": "access",
        }

    def refresh_token_info(self, token: str) -> tuple[int, dict[str, Any]]:
        grant = self._refresh.get(token)
        if grant is None:
            raise error(404, "Token not found", "OBJECT_NOT_FOUND")
        return 200, {
            "token": token,
            "user": f"user{grant.user_id}@example.com",
            "hub_domain": f"portal-{grant.portal_id}.example.com",
            "scopes": grant.scopes,
            "hub_id": grant.portal_id,
            "client_id": grant.client_id,
            "user_id": grant.user_id,
            "token_type": "refresh",
        }

    def delete_refresh_token(self, token: str) -> tuple[int, None]:
        if token not in self._refresh:
            raise error(404, "Token not found", "OBJECT_NOT_FOUND")
        self.revoke(token)
        return 204, None
